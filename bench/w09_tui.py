"""W9: the terminal debugger, headless: time from a keypress to the redraw, 300 nodes.

Drives the Textual app with its test pilot through ``bench/tui_keypress.py`` (which owns
the measurement): the key ``n`` (next step) enters the app, the screen handles it, and the
first screen update written after it ends the interval.  Reported for the focus view (the
neighbourhood of the current step) and the full view (the whole graph).
"""

from __future__ import annotations

import asyncio

from .harness import Measurement, Result, Settings
from .tui_keypress import graph_of_size, measure_app

KEY = "W9"


def run(settings: Settings) -> Result:
    nodes, presses = settings.pick((300, 60), (60, 3))
    graph = graph_of_size(nodes)
    result = Result(KEY, f"terminal debugger, keypress → redraw, {len(graph.nodes)} nodes "
                    f"({presses} presses of n)", floor=None, ours="keypress, focus view")
    for view in ("focus", "full"):
        timings = asyncio.run(measure_app(graph, presses, view))
        for what in ("keypress", "handler"):
            summary = timings[what]
            median = summary["median_ms"] / 1000
            result.measurements.append(Measurement(f"{what}, {view} view", median, [median]))
        result.extra[view] = timings
    medians = {view: result.get(f"keypress, {view} view").seconds * 1000
               for view in ("focus", "full")}
    result.target = "median keypress → redraw under 50 ms"
    result.met = all(value < 50 for value in medians.values())
    result.verdict = ", ".join(f"{view} view {value:.1f} ms" for view, value in medians.items())
    result.notes.append("Handler: the screen's own work for one step, without the event loop. "
                        "p95 and maximum are in the JSON.")
    return result
