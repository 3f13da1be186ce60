"""What the debugger's backward pass holds on a 10⁵-node graph of 1,000-element vectors.

The graph is W10's chain ``y = tanh(y ⊗ x + 0.5)`` with ``x`` of ``--width`` elements and
``--layers`` layers (four nodes each).  ``run()`` makes every backward step; tracemalloc
reports what the debugger holds afterwards and at its peak, above the traced graph, and the
process's maximum RSS.  ``--back`` then walks back over every step reading its
contribution and total, which replays the segments the budget let go of.

Usage: ``python -m bench.debugger_memory [--layers 25000] [--width 1000] [--budget MiB]
[--back]``.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np

import graphviz_ad as gad
from graphviz_ad.passlog import MEMORY_BUDGET

from .harness import MIB
from .w10_growth import make_net


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.debugger_memory", description=__doc__)
    parser.add_argument("--layers", type=int, default=25_000)
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--budget", type=float, default=MEMORY_BUDGET / MIB,
                        help="memory_budget in MiB (0: keep every step's numbers)")
    parser.add_argument("--back", action="store_true", help="also walk back over every step")
    args = parser.parse_args(argv)
    budget = int(args.budget * MIB) or None

    tracemalloc.start()
    graph = gad.trace(make_net(args.layers), np.random.default_rng(0).normal(size=args.width))
    values = sum(np.asarray(node.value).nbytes for node in graph.nodes)
    traced = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    started = time.perf_counter()
    debugger = gad.Debugger(graph, "backward", memory_budget=budget)
    debugger.run()
    seconds = time.perf_counter() - started
    held, peak = tracemalloc.get_traced_memory()
    exact = np.array_equal(debugger.state().total("x"), graph.grad("x"))
    print(f"{len(graph.nodes):,} nodes, {len(debugger):,} steps, values {values / MIB:.0f} MiB, "
          f"budget {'none' if budget is None else f'{budget / MIB:.0f} MiB'}")
    print(f"run(): {seconds:.1f} s; the debugger holds {(held - traced) / MIB:.0f} MiB after it, "
          f"peak {(peak - traced) / MIB:.0f} MiB above the traced graph; maximum RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
          f"x's adjoint equal to graph.grad('x') to the bit: {exact}")
    if args.back:
        started = time.perf_counter()
        for index in range(len(debugger) - 1, -1, -1):
            step = debugger.goto(index)
            # made again from their segment if the budget let go of them
            assert step.contribution is not None and step.total is not None
        seconds = time.perf_counter() - started
        print(f"goto() back over every step, reading its numbers: {seconds:.1f} s "
              f"({seconds / len(debugger) * 1e6:.0f} µs per step), peak "
              f"{(tracemalloc.get_traced_memory()[1] - traced) / MIB:.0f} MiB")


if __name__ == "__main__":
    main()
