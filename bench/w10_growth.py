"""W10: how cost grows: trace + forward + backward at 10², 10³, 10⁴ and 10⁵ nodes.

The graph is a chain of small-vector layers ``y = tanh(y ⊗ x + 0.5)`` (four nodes each,
counting the constant), summed at the end.  Time and peak memory should both be
proportional to the number of nodes: the fitted exponent of time ∝ nodesᵏ must be about 1.
"""

from __future__ import annotations

import numpy as np

import graphviz_ad as gad

from .harness import MIB, OURS, Job, Result, Settings, measure

KEY = "W10"
NODES_PER_LAYER = 4
WIDTH = 10


def make_net(layers: int):
    def net(x):
        y = x
        for _ in range(layers):
            y = np.tanh(y * x + 0.5)
        return np.sum(y)

    return net


def fitted_exponent(sizes, values) -> float:
    """The least-squares slope k of log(value) = k log(size) + c."""
    slope, _ = np.polyfit(np.log(sizes), np.log(values), 1)
    return float(slope)


def run(settings: Settings) -> Result:
    exponents = settings.pick((2, 3, 4, 5), (2, 3))
    x = np.random.default_rng(0).normal(size=WIDTH)
    result = Result(KEY, "cost growth: trace + forward + backward of a layered chain",
                    floor=None, unit="µs per node")
    sizes, jobs = [], []
    for exponent in exponents:
        net = make_net(10**exponent // NODES_PER_LAYER)
        nodes = len(gad.trace(net, x).nodes)
        sizes.append(nodes)
        jobs.append(Job(f"{OURS} {nodes:,} nodes", lambda net=net: gad.trace(net, x).grad(),
                        per=nodes))
    result.measurements = measure(jobs, settings, repeats=5)
    result.ours = result.measurements[-1].implementation
    times = [m.seconds for m in result.measurements]
    peaks = [m.traced_bytes for m in result.measurements]  # byte-exact at every size
    time_exponent = fitted_exponent(sizes, times)
    memory_exponent = fitted_exponent(sizes, peaks)
    result.extra = {"nodes": sizes, "time_exponent": time_exponent,
                    "memory_exponent": memory_exponent}
    result.target = "linear growth (fitted exponent about 1)"
    result.met = abs(time_exponent - 1) <= 0.15 and abs(memory_exponent - 1) <= 0.15
    result.verdict = (f"time ∝ nodes^{time_exponent:.2f}, memory ∝ nodes^{memory_exponent:.2f}; "
                      f"{peaks[-1] / sizes[-1]:.0f} bytes per node at {sizes[-1]:,} nodes, "
                      f"{peaks[-1] / MIB:.1f} MiB")
    return result
