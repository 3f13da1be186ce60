"""How long ``check_graph`` takes on large graphs.

* ``scalar``: W1's 2-16-16-1 ReLU network built from scalar operations on N points (about
  710 nodes per point; 180 points make 1.3·10⁵ nodes).  Its 1×1 Jacobians are checked a
  primitive at a time, on stacked operands.
* ``vector``: ``h ← tanh(W h + x)`` with 3×3 ``W``, N iterations (``render_speed.loop``):
  the element-wise edges in batches, the products edge by edge.

``--edge-by-edge`` also times ``check_edge`` called for every edge, the cost without
batches.

Usage: ``python -m bench.check_speed [--points 20 180] [--iterations 1000] [--edge-by-edge]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import graphviz_ad as gad
from graphviz_ad.check import check_edge, check_graph

from .render_speed import loop
from .w01_scalar_mlp import make_data, mlp_loss


def scalar_network(points: int):
    data, targets, params = make_data(points)
    return gad.trace(lambda p: mlp_loss(p, data, targets, lambda z: np.maximum(0.0, z)), params)


def seconds(job) -> tuple[float, object]:
    start = time.perf_counter()
    result = job()
    return time.perf_counter() - start, result


def edge_by_edge(report) -> None:
    for node_check in report.nodes:
        for edge in node_check.edges:
            check_edge(edge.node, edge.arg)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, nargs="+", default=[20, 180])
    parser.add_argument("--iterations", type=int, nargs="+", default=[1000])
    parser.add_argument("--edge-by-edge", action="store_true")
    args = parser.parse_args()
    print(f"{'graph':>14} {'nodes':>8} {'edges':>8} {'check s':>8} {'by edge s':>10} passed")
    graphs = [(f"scalar N={n}", scalar_network(n)) for n in args.points]
    graphs += [(f"vector N={n}", loop(n)) for n in args.iterations]
    for name, graph in graphs:
        took, report = seconds(lambda graph=graph: check_graph(graph))
        edges = sum(len(node.edges) for node in report.nodes)
        alone = "—"
        if args.edge_by_edge:
            alone = f"{seconds(lambda report=report: edge_by_edge(report))[0]:.2f}"
        print(f"{name:>14} {len(graph.nodes):>8,} {edges:>8,} {took:>8.2f} {alone:>10} "
              f"{report.passed}")


if __name__ == "__main__":
    main()
