"""How long Graphviz takes to draw a loop's graph: one picture, and the HTML step player.

The graph is ``h ← tanh(W h + x)`` run N times in the traced function itself, so there are
no calls to collapse and ``W`` and ``x`` feed every iteration: their edges cross hundreds
of ranks, which is what makes ``dot`` slow.  For each N it reports the node count, the
layout effort (``View.effort``) and the seconds for:

* ``default``: ``graph.render("f.svg")`` as it is drawn by default (big graphs collapse
  their source lines);
* ``full``: the same with ``collapse=False``, every node drawn (the quick layout settings
  apply above ``QUICK_LAYOUT_EFFORT``);
* ``player``: ``graph.render("f.html", mode="backward")``, or ``refused`` when the pass is
  too long to lay out (``PLAYER_EFFORT``).

Usage: ``python bench/render_speed.py [--iterations 5 40 100]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import graphviz_ad as gad
from graphviz_ad.render.options import Options
from graphviz_ad.render.view import build_view


def loop(iterations: int):
    def f(W, x):
        h = x
        for _ in range(iterations):
            h = np.tanh(W @ h + x)
        return h.sum()

    return gad.trace(f, np.eye(3) * 0.5, np.ones(3))


def seconds(graph, path: Path, **options) -> str:
    start = time.perf_counter()
    try:
        graph.render(path, **options)
    except gad.RenderError:
        return "refused"
    return f"{time.perf_counter() - start:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, nargs="+", default=[5, 40, 100])
    args = parser.parse_args()
    print(f"{'N':>5} {'nodes':>6} {'effort':>8} {'default':>8} {'full':>8} {'player':>8}")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        for iterations in args.iterations:
            graph = loop(iterations)
            effort = build_view(graph, Options(collapse=False)).effort
            default = seconds(graph, out / "f.svg")
            full = seconds(graph, out / "f.svg", collapse=False)
            player = seconds(graph, out / "f.html", mode="backward")
            print(f"{iterations:>5} {len(graph.nodes):>6} {effort:>8,} {default:>8} {full:>8} "
                  f"{player:>8}")


if __name__ == "__main__":
    main()
