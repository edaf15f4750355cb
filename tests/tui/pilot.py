"""Helpers for Textual pilot tests."""

from __future__ import annotations

import time


async def wait_for(pilot, cond, timeout: float = 10.0, what: str = "condition", settle: bool = False) -> None:
    """Let the app run until ``cond()`` holds; fail after ``timeout`` seconds.

    ``settle``: then also wait until the app is idle, every queued message and refresh processed
    (``pilot.pause()`` waits for that, not for a time). Snapshots settle, so what they capture
    does not depend on how busy the machine is: a table whose column widths are recomputed after
    its last rows arrive is drawn only once that has run. (Not while a worker is still posting
    progress: the app would not idle until the run ended.)
    """
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, f"{what} not reached within {timeout:g} s"
        await pilot.pause(0.02)
    if settle:
        await pilot.pause()
