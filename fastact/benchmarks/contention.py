"""Another CPU-bound process competing for the cores while something is timed."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time


@contextlib.contextmanager
def competing_process(settle: float = 0.2):
    """One busy process (a Python loop: one core's worth of work) for the duration of the block."""
    p = subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(settle)  # let it start spinning before the timing does
        yield p
    finally:
        p.kill()
        p.wait()
