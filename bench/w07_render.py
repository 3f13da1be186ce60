"""W7: draw a 1,000-node graph: graphviz-ad's DOT text against Graphviz's layout of it.

``to_dot`` is graphviz-ad's own work (walking the graph, labels, values, rules, styles);
``dot -Tsvg`` is Graphviz laying the picture out and writing SVG, which graphviz-ad does
not control.  The graph is a plain chain (250 layers of ``tanh(0.9 y + 0.5)`` on a
10-vector, summed), the cheapest kind of graph to lay out, so graphviz-ad's share is the
largest it gets.

Both are timed twice: on the **full** graph (``collapse=False``: every node drawn, what the
target is about) and on the **collapsed** picture a graph this size gets by default (its
source lines folded into a handful of boxes, so there is little to draw).
"""

from __future__ import annotations

import numpy as np

import graphviz_ad as gad
from graphviz_ad.render import pipe, to_dot, to_svg

from .harness import Job, Result, Settings, measure

KEY = "W7"
TO_DOT = "graphviz-ad to_dot, full graph"
LAYOUT = "Graphviz dot -Tsvg, full graph"
TO_DOT_COLLAPSED = "graphviz-ad to_dot, collapsed"
LAYOUT_COLLAPSED = "Graphviz dot -Tsvg, collapsed"


def make_chain(layers: int):
    def chain(x):
        y = x
        for _ in range(layers):
            y = np.tanh(y * 0.9 + 0.5)
        return np.sum(y)

    return chain


def run(settings: Settings) -> Result:
    layers = settings.pick(250, 10)
    graph = gad.trace(make_chain(layers), np.random.default_rng(0).normal(size=10))
    full_text = to_dot(graph, collapse=False)
    collapsed_text = to_dot(graph)
    result = Result(KEY, f"render a {len(graph.nodes):,}-node graph to SVG", floor=LAYOUT,
                    ours=TO_DOT)
    result.measurements = measure([
        Job(TO_DOT, lambda: to_dot(graph, collapse=False)),
        Job(LAYOUT, lambda: pipe(full_text, "svg"), memory="none"),
        Job("graph.render (both), full graph", lambda: to_svg(graph, collapse=False),
            memory="none"),
        Job(TO_DOT_COLLAPSED, lambda: to_dot(graph)),
        Job(LAYOUT_COLLAPSED, lambda: pipe(collapsed_text, "svg"), memory="none"),
    ], settings, repeats=5)
    share = result.ratio(TO_DOT, LAYOUT)
    collapsed_share = result.ratio(TO_DOT_COLLAPSED, LAYOUT_COLLAPSED)
    result.target = "to_dot ≤ 10% of Graphviz's layout time, full graph"
    result.met = share <= 0.10
    result.verdict = (f"to_dot is {share:.0%} of the layout time "
                      f"({result.get(TO_DOT).seconds / len(graph.nodes) * 1e6:.0f} µs per node)")
    boxes = sum(1 for line in collapsed_text.splitlines() if " [" in line and "->" not in line
                and not line.lstrip().startswith(("graph", "node", "edge")))
    result.notes.append(f"Collapsed (the default at this size, about {boxes} boxes): to_dot is "
                        f"{collapsed_share:.0%} of Graphviz's time for it.")
    return result
