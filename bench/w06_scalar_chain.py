"""W6: 10,000 chained scalar additions ``y = y + 1.0``, forward and backward, per operation.

The purest measure of what recording one operation costs: graphviz-ad also records the
operation's source line (file, line, function and call path) and a node for the constant.
"""

from __future__ import annotations

import numpy as np

import graphviz_ad as gad

from .harness import OURS, Job, Result, Settings, check_close, measure
from .peers import autograd, micrograd_engine, torch, torch_gradient

KEY = "W6"


def make_chain(length: int):
    def chain(x):
        y = x
        for _ in range(length):
            y = y + 1.0
        return y

    return chain


def run(settings: Settings) -> Result:
    length = settings.pick(10_000, 1_000)
    chain = make_chain(length)
    check_close("W6 gradient", gad.trace(chain, 0.5).grad("x"), 1.0)
    result = Result(KEY, f"{length:,} chained scalar adds, forward + backward",
                    floor="plain floats forward", unit="µs per op")
    jobs = [
        Job("plain floats forward", lambda: chain(0.5), per=length),
        Job(OURS, lambda: gad.trace(chain, 0.5).grad("x"), per=length),
    ]
    if autograd is not None:
        gradient = autograd.grad(chain)
        jobs.append(Job("autograd", lambda: gradient(0.5), per=length))
    if torch is not None:
        job = torch_gradient(chain, np.array(0.5))
        jobs.append(Job("torch", job, memory="rss", per=length))
    if micrograd_engine is not None:
        def with_micrograd():
            x = micrograd_engine.Value(0.5)
            chain(x).backward()
            return x.grad

        jobs.append(Job("micrograd", with_micrograd, per=length))
    result.measurements = measure(jobs, settings)

    per_op = result.get(OURS).per_unit() * 1e6
    result.target = "≤ 3 µs per op, source line of every op recorded"
    result.met = per_op <= 3.0
    result.verdict = f"{per_op:.2f} µs per op"
    return result

