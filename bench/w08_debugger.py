"""W8: the step engine on a 10,000-node graph: make every backward step, then step back.

``step()`` from the first step to the last makes each step as the cursor reaches it (one
edge of the reverse pass, its local Jacobian, contribution and running total); ``back()``
from the last step to the first only moves the cursor over the steps already made.  The
reference is ``graph.grad()``, which drains the same reverse pass without step records.
"""

from __future__ import annotations

import numpy as np

import graphviz_ad as gad

from .harness import OURS, Job, Result, Settings, measure
from .w10_growth import NODES_PER_LAYER, WIDTH, make_net

KEY = "W8"
STEP = f"{OURS} step() through the pass"
BACK = f"{OURS} back() across the pass"


def every_step(graph):
    debugger = gad.Debugger(graph, "backward")
    while debugger.step() is not None:
        pass
    return debugger


def back_across(debugger):
    debugger.run()
    while debugger.index >= 0:
        debugger.back()


def run(settings: Settings) -> Result:
    nodes = settings.pick(10_000, 500)
    graph = gad.trace(make_net(nodes // NODES_PER_LAYER),
                      np.random.default_rng(0).normal(size=WIDTH))
    steps = len(gad.Debugger(graph, "backward"))
    walked = every_step(graph)
    result = Result(KEY, f"step engine, backward pass of a {len(graph.nodes):,}-node graph "
                    f"({steps:,} steps)", floor="graph.grad()", ours=STEP, unit="µs per step")
    result.measurements = measure([
        Job("graph.grad()", lambda: graph.grad(), per=steps),
        Job(STEP, lambda: every_step(graph), per=steps),
        Job(BACK, lambda: back_across(walked), per=steps),
    ], settings)
    per_step = {name: result.get(name).per_unit() * 1e6 for name in (STEP, BACK)}
    result.target = "≤ 5 µs per step"
    result.met = all(value <= 5 for value in per_step.values())
    result.verdict = (f"step() {per_step[STEP]:.2f} µs per step, back() "
                      f"{per_step[BACK]:.2f} µs per step")
    return result
