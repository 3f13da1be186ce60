"""W11: the terminal debugger's layout of a whole graph at 10², 10³, 10⁴ and 10⁵ nodes.

Two shapes: a **chain** (``sin`` applied n times: one vertex per layer) and a **fan-out**
(one input feeding n ``sin(x)`` that are summed one by one: the shape whose long edges made
the earlier layout quadratic).  Each size is laid out by ``tui.pictures.whole`` (boxes, as
the Graph pane draws it) in a fresh process (``python -m bench.w11_layout SHAPE NODES``),
which reports its times and the growth of its resident set at the peak of the first
layout.  The fitted exponent of time ∝ nodesᵏ should be about 1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from .harness import MIB, Measurement, Result, Settings, _rss_peak
from .w10_growth import fitted_exponent

KEY = "W11"
SHAPES = ("chain", "fan-out")


def make_graph(shape: str, nodes: int):
    """A traced graph of about ``nodes`` nodes of the given shape."""
    import numpy as np

    import graphviz_ad as gad

    if shape == "chain":
        def chain(x):
            for _ in range(nodes - 1):
                x = np.sin(x)
            return x

        return gad.trace(chain, 0.5)

    def fan_out(x):  # x, n sines and n − 1 sums: 2n nodes
        total = np.sin(x)
        for _ in range(max(1, nodes // 2 - 1)):
            total = total + np.sin(x)
        return total

    return gad.trace(fan_out, 0.5)


def measure_here(shape: str, nodes: int, repeats: int) -> dict:
    """Lay the graph out ``repeats`` times in this process: times and the first's peak."""
    from tui import pictures

    graph = make_graph(shape, nodes)
    times = []
    start = time.perf_counter()
    rss = _rss_peak(lambda: pictures.whole(graph))
    times.append(time.perf_counter() - start)
    for _ in range(repeats - 1):
        start = time.perf_counter()
        pictures.whole(graph)
        times.append(time.perf_counter() - start)
    return {"nodes": len(graph.nodes), "times": times, "rss": rss}


def measure_in_child(shape: str, nodes: int, repeats: int) -> dict:
    folder = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.pathsep.join(filter(None, [folder, os.environ.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-m", "bench.w11_layout", shape, str(nodes),
                           "--repeats", str(repeats)], capture_output=True, text=True,
                          cwd=folder, env={**os.environ, "PYTHONPATH": path}, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(settings: Settings) -> Result:
    exponents = settings.pick((2, 3, 4, 5), (2, 3))
    result = Result(KEY, "TUI layout of a whole graph: chain and fan-out, 10² to 10⁵ nodes",
                    floor=None, unit="µs per node", ours=f"chain, {10**exponents[-1]:,} nodes")
    fits = {}
    for shape in SHAPES:
        sizes, medians = [], []
        for exponent in exponents:
            nodes = 10**exponent
            repeats = 1 if settings.quick or nodes >= 10**5 else min(settings.repeats, 3)
            if settings.isolate:
                found = measure_in_child(shape, nodes, repeats)
            else:
                found = measure_here(shape, nodes, repeats)
            median = statistics.median(found["times"])
            sizes.append(found["nodes"])
            medians.append(median)
            measurement = Measurement(f"{shape}, {nodes:,} nodes", median, found["times"],
                                      per=found["nodes"], run_medians=[median])
            if found["rss"] is not None:
                measurement.peak_bytes, measurement.memory_method = found["rss"], "rss"
            result.measurements.append(measurement)
        fits[shape] = fitted_exponent(sizes, medians)
    result.extra = {"time_exponents": fits}
    largest = {shape: result.get(f"{shape}, {10**exponents[-1]:,} nodes") for shape in SHAPES}
    fan_2000 = None
    if not settings.quick:
        fan_2000 = measure_in_child("fan-out", 2000, 3) if settings.isolate else \
            measure_here("fan-out", 2000, 3)
        fan_2000_median = statistics.median(fan_2000["times"])
        result.measurements.append(Measurement("fan-out, 2,000 nodes", fan_2000_median,
                                               fan_2000["times"], per=fan_2000["nodes"],
                                               peak_bytes=fan_2000["rss"],
                                               memory_method="rss",
                                               run_medians=[fan_2000_median]))
    chain = largest["chain"]
    result.target = ("2,000-node fan-out < 1 s; 10⁵-node chain < 5 s and < 500 MB; "
                     "time ∝ nodes^k with k about 1")
    if fan_2000 is not None:
        peak = chain.peak_bytes or 0
        result.met = (statistics.median(fan_2000["times"]) < 1 and chain.seconds < 5
                      and peak < 500 * 10**6 and all(k <= 1.15 for k in fits.values()))
        result.verdict = (f"fan-out of 2,000 nodes {statistics.median(fan_2000['times']):.2f} s; "
                          f"chain of 10⁵ {chain.seconds:.1f} s, {peak / MIB:.0f} MiB; "
                          + ", ".join(f"{shape} ∝ nodes^{k:.2f}" for shape, k in fits.items()))
    result.notes.append("Peak RSS: growth of a fresh process's resident set during its first "
                        "layout of the graph (the graph itself was traced before).")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.w11_layout",
                                     description="Lay out one graph; print times as JSON.")
    parser.add_argument("shape", choices=SHAPES)
    parser.add_argument("nodes", type=int)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(measure_here(args.shape, args.nodes, args.repeats)))


if __name__ == "__main__":
    main()
