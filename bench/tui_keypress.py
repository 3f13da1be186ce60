"""How long the terminal debugger takes to redraw after a keypress, on a 300-node graph.

Runs the app headless (Textual's ``run_test``) on an unrolled recurrent cell of about 300
nodes and reports, for the focus view and the full view:

* ``keypress``: from the key event for ``n`` (next step) entering the app until the first
  screen update written after it (event dispatch, the handler, the layout of the focus
  neighbourhood when it changes, and the compositor's redraw of the changed lines);
* ``handler``: the screen's own work for one step, without the event loop;

plus the time to lay out the whole graph once (done in a worker thread by the app).

Usage: ``python bench/tui_keypress.py [--nodes 300] [--presses 60] [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import numpy as np

import graphviz_ad as gad
from tui import pictures
from tui.app import DebuggerApp
from tui.screens.debug import DebugScreen


def recurrent(x, w, u, b):
    """h ← tanh(w h + u xₜ + b) over every xₜ, then the squared final state."""
    h = 0.0 * b
    for t in range(len(x)):
        h = np.tanh(w * h + u * x[t] + b)
    return h * h


def graph_of_size(nodes: int):
    """An unrolled recurrent cell with about ``nodes`` nodes (6 per time step)."""
    steps = max(1, (nodes - 8) // 6)
    return gad.trace(recurrent, np.linspace(-1.0, 1.0, steps), 0.5, 0.3, 0.1)


def summary(samples: list[float]) -> dict:
    samples = sorted(samples)
    return {
        "median_ms": round(1000 * statistics.median(samples), 2),
        "p95_ms": round(1000 * samples[int(0.95 * (len(samples) - 1))], 2),
        "max_ms": round(1000 * samples[-1], 2),
        "count": len(samples),
    }


async def measure_app(graph, presses: int, view: str, size=(160, 48)) -> dict:
    app = DebuggerApp([graph], mode="backward")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DebugScreen)
        pane = screen.query_one("#graph")
        if pane.view != view:
            await pilot.press("v")
            await app.workers.wait_for_complete()
            await pilot.pause()
        displayed: list[float] = []
        display = app._display

        def timed_display(screen, renderable):
            display(screen, renderable)
            displayed.append(time.perf_counter())

        app._display = timed_display
        keypress = []
        for _ in range(presses):
            displayed.clear()
            start = time.perf_counter()
            await pilot.press("n")
            await pilot.pause()
            keypress.append(displayed[0] - start)
        app._display = display
        handler = []
        for _ in range(presses):
            start = time.perf_counter()
            screen.action_next()
            handler.append(time.perf_counter() - start)
        return {"keypress": summary(keypress), "handler": summary(handler)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=300)
    parser.add_argument("--presses", type=int, default=60)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    options = parser.parse_args()
    graph = graph_of_size(options.nodes)

    start = time.perf_counter()
    picture = pictures.whole(graph, detail=1)
    layout_s = time.perf_counter() - start
    result = {
        "nodes": len(graph.nodes),
        "layout_whole_ms": round(1000 * layout_s, 1),
        "picture_cells": [picture.width, picture.height],
        "focus": asyncio.run(measure_app(graph, options.presses, "focus")),
        "full": asyncio.run(measure_app(graph, options.presses, "full")),
    }
    if options.json:
        print(json.dumps(result))
        return
    print(f"{result['nodes']} nodes; whole-graph layout {result['layout_whole_ms']} ms "
          f"({picture.width}×{picture.height} cells)")
    for view in ("focus", "full"):
        for what in ("keypress", "handler"):
            stats = result[view][what]
            print(f"{view:>5} view {what:>8}: median {stats['median_ms']} ms, "
                  f"p95 {stats['p95_ms']} ms, max {stats['max_ms']} ms ({stats['count']})")


if __name__ == "__main__":
    main()
