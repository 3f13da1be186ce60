"""WRITES: a 100-step RNN forward pass writing each hidden state into a preallocated buffer.

``h = np.zeros((T, H)); h[t] = np.tanh(Wx @ x[t] + Wh @ prev + b)``, as course code writes
it, against its twin that appends the states to a list and stacks them once.  Both are
traced and differentiated; the difference between them, divided by T, is what one write
costs: the buffer's switch to a traced array, a "set" node per step (a copy of the buffer
forward, I − SᵀS and Sᵀ backward) instead of one stack at the end.
"""

from __future__ import annotations

import numpy as np

import graphviz_ad as gad

from .harness import OURS, Job, Result, Settings, check_close, measure
from .peers import autograd, autograd_numpy

KEY = "WRITES"
STACKED = "graphviz-ad, list + np.stack"


def make_rnn(xp, steps: int, buffered: bool):
    """The loss written once against a numpy-like module; ``buffered`` fills h[t]."""

    def loss(Wx, Wh, b, xs, targets):
        prev = xp.zeros(Wh.shape[0])
        if buffered:
            h = xp.zeros((steps, Wh.shape[0]))
            for t in range(steps):
                h[t] = xp.tanh(Wx @ xs[t] + Wh @ prev + b)
                prev = h[t]
        else:
            states = []
            for t in range(steps):
                prev = xp.tanh(Wx @ xs[t] + Wh @ prev + b)
                states.append(prev)
            h = xp.stack(states)
        return 0.5 * xp.sum((h - targets) ** 2)

    return loss


def run(settings: Settings) -> Result:
    steps, hidden, features = 100, settings.pick(64, 16), settings.pick(32, 8)
    rng = np.random.default_rng(0)
    args = (rng.normal(scale=0.3, size=(hidden, features)),
            rng.normal(scale=0.3, size=(hidden, hidden)), np.zeros(hidden),
            rng.normal(size=(steps, features)), rng.normal(scale=0.5, size=(steps, hidden)))
    buffered, stacked = make_rnn(np, steps, True), make_rnn(np, steps, False)

    def ours():
        return gad.trace(buffered, *args).grad("Wh")

    def ours_stacked():
        return gad.trace(stacked, *args).grad("Wh")

    check_close("WRITES gradient: buffer against list", ours(), ours_stacked())
    result = Result(KEY, f"{steps}-step RNN forward into a preallocated buffer (H = {hidden}),"
                    " forward + backward", floor="numpy forward", unit="µs per step")
    jobs = [
        Job("numpy forward", lambda: buffered(*args), per=steps),
        Job(OURS, ours, per=steps),
        Job(STACKED, ours_stacked, per=steps),
    ]
    if autograd is not None:  # autograd refuses item assignment: the list version
        gradient = autograd.grad(make_rnn(autograd_numpy, steps, False), 1)
        jobs.append(Job("autograd, list + np.stack", lambda: gradient(*args), per=steps))
    result.measurements = measure(jobs, settings)

    per_write = (result.get(OURS).seconds - result.get(STACKED).seconds) / steps * 1e6
    per_step = result.get(STACKED).per_unit() * 1e6
    result.extra["per_write_us"] = per_write
    result.target = "a write costs less than a step of the list version"
    result.met = per_write < per_step
    result.verdict = f"{per_write:.1f} µs per write against {per_step:.1f} µs per step"
    result.notes.append(
        "Each write records a set node whose value is a copy of the whole buffer (the graph "
        "keeps every value for the debugger), so memory grows as T² · H for T writes.")
    return result
