"""Regenerate the README screenshot: the dashboard mid-run with the real trainer.

    python -m fastact_tui.screenshot docs/screenshot.svg [--size 120x36]

Trains five activations on whatever dataset ``auto`` finds (nothing is saved) and captures
the screen while the last one is in its third epoch.
"""

from __future__ import annotations

import argparse
import asyncio

from fastact_tui import cli
from fastact_tui.app import FastactApp

ARGV = ["--act", "sigmoid", "relu", "leaky_relu", "prelu", "rrelu", "--epochs", "5", "--hidden", "128",
        "--out", ""]


async def capture(path: str, size: tuple[int, int], last: str = "rrelu", epoch: int = 2) -> None:
    app = FastactApp(cli.parse(ARGV))
    async with app.run_test(size=size) as pilot:
        await pilot.press("r")
        table = app.query_one("#results")
        while table.rows_by_label[last]["epoch"] < epoch or app.query_one("#progress").progress < 100:
            if app.status["state"] in ("done", "error"):
                raise SystemExit(f"run ended before the capture point: {app.status}")
            await asyncio.sleep(0.05)
        app.save_screenshot(path)
        app.action_stop()
        await app.workers.wait_for_complete()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("path")
    p.add_argument("--size", default="120x36", help="COLSxROWS (default: 120x36)")
    a = p.parse_args()
    cols, rows = (int(v) for v in a.size.split("x"))
    asyncio.run(capture(a.path, (cols, rows)))


if __name__ == "__main__":
    main()
