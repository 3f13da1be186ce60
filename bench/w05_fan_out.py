"""W5: fan-out: one vector x of 1,000 values used by 200 consumers whose results are summed.

``x·s₁ + x·s₂ + … + x·s₂₀₀``, then the sum of the elements: 400 small operations, and in the
backward pass x's adjoint receives 200 contributions that must be added.  With arrays this
small the cost is the bookkeeping per operation, not the arithmetic.
"""

from __future__ import annotations

import numpy as np

import graphviz_ad as gad

from .harness import OURS, Job, Result, Settings, check_close, measure
from .peers import autograd, autograd_numpy, torch, torch_gradient

KEY = "W5"


def make_fan_out(xp, scales):
    def fan_out(x):
        total = x * scales[0]
        for scale in scales[1:]:
            total = total + x * scale
        return xp.sum(total)

    return fan_out


def handwritten(x, scales):
    """Forward, then each consumer's contribution to x's adjoint, added one by one."""
    fan_out = make_fan_out(np, scales)
    value = fan_out(x)
    g = np.ones_like(x)
    adjoint = g * scales[0]
    for scale in scales[1:]:
        adjoint = adjoint + g * scale
    return value, adjoint


def run(settings: Settings) -> Result:
    n, consumers = settings.pick((1000, 200), (100, 20))
    x = np.random.default_rng(0).normal(size=n)
    scales = [1.0 + i / consumers for i in range(consumers)]
    fan_out = make_fan_out(np, scales)
    result = Result(KEY, f"fan-out: x ({n}) used by {consumers} consumers, summed, "
                    "forward + backward", floor="numpy forward")

    def ours():
        return gad.trace(fan_out, x).grad()

    check_close("W5 gradient against the hand-written pass", ours()["x"],
                handwritten(x, scales)[1])
    jobs = [
        Job("numpy forward", lambda: fan_out(x)),
        Job("numpy by hand", lambda: handwritten(x, scales)),
        Job(OURS, ours),
    ]
    if autograd is not None:
        gradient = autograd.grad(make_fan_out(autograd_numpy, scales))
        jobs.append(Job("autograd", lambda: gradient(x)))
    if torch is not None:
        job = torch_gradient(make_fan_out(torch, scales), x)
        jobs.append(Job("torch", job, memory="rss"))
    result.measurements = measure(jobs, settings)

    result.target = "below torch"
    ratio = result.ratio(OURS, "torch")
    if ratio is not None:
        result.met = ratio < 1
        result.verdict = f"{ratio:.2f}× torch"
    return result
