"""Regenerate docs/tui_backward.svg: the terminal debugger in backward mode on x + x², at the
step where x receives its second contribution (1 + 6 = 7), with the Paths pane open.

Usage: ``python docs/tui_screenshot.py`` (from the repository root).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from graphviz_ad import examples
from graphviz_ad.collect import choose, run_script
from tui.app import DebuggerApp

TARGET = Path(__file__).resolve().parent / "tui_backward.svg"
SIZE = (120, 40)


async def screenshot() -> None:
    script = examples.find("total_derivative").path
    graph = choose(run_script(str(script), run_name="graphviz_ad.examples.total_derivative"),
                   "x_plus_square")
    app = DebuggerApp([graph], mode="backward")
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "textual-dark"
        await pilot.press("P", "G")
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.save_screenshot(filename=TARGET.name, path=str(TARGET.parent))
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    asyncio.run(screenshot())
