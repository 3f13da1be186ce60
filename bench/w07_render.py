"""W7: draw a 1,000-node graph: graphviz-ad's DOT text against Graphviz's layout of it.

``to_dot`` is graphviz-ad's own work (walking the graph, labels, values, rules, styles);
``dot -Tsvg`` is Graphviz laying the picture out and writing SVG, which graphviz-ad does
not control.  The graph is a plain chain (250 layers of ``tanh(0.9 y + 0.5)`` on a
10-vector, summed), the cheapest kind of graph to lay out, so graphviz-ad's share is the
largest it gets.
"""

from __future__ import annotations

import numpy as np

import graphviz_ad as gad
from graphviz_ad.render import pipe, to_dot, to_svg

from .harness import Job, Result, Settings, measure

KEY = "W7"
TO_DOT = "graphviz-ad to_dot"
LAYOUT = "Graphviz dot -Tsvg"


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
    dot_text = to_dot(graph)
    result = Result(KEY, f"render a {len(graph.nodes):,}-node graph to SVG", floor=LAYOUT,
                    ours=TO_DOT)
    result.measurements = measure([
        Job(TO_DOT, lambda: to_dot(graph)),
        Job(LAYOUT, lambda: pipe(dot_text, "svg"), memory="none"),
        Job("graph.render (both)", lambda: to_svg(graph), memory="none"),
    ], settings, repeats=5)
    share = result.ratio(TO_DOT, LAYOUT)
    result.target = "to_dot ≤ 10% of Graphviz's layout time"
    result.met = share <= 0.10
    result.verdict = (f"to_dot is {share:.0%} of the layout time "
                      f"({result.get(TO_DOT).seconds / len(graph.nodes) * 1e6:.0f} µs per node)")
    return result
