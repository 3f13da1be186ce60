"""W3: a 20-operation element-wise chain on 10⁶ float64 values, summed.

Five rounds of ``sin, × 1.5, tanh, + 0.1``: transcendental functions whose derivatives need
a stored value (cos x, 1 − tanh²) between cheap arithmetic whose derivatives are constants.
Each array is 7.6 MiB, so this measures memory: a dense local Jacobian here would be 8 TB,
and what each library keeps alive for the backward pass decides its peak.
"""

from __future__ import annotations

import numpy as np

import graphviz_ad as gad

from .harness import MIB, OURS, Job, Result, Settings, check_close, measure
from .peers import autograd, autograd_numpy, torch, torch_gradient

KEY = "W3"
ROUNDS = 5


def make_chain(xp):
    """The chain written once against a numpy-like module (numpy, autograd.numpy, torch)."""

    def chain(x):
        for _ in range(ROUNDS):
            x = xp.tanh(xp.sin(x) * 1.5) + 0.1
        return xp.sum(x)

    return chain


def handwritten(x):
    """Forward keeping what the derivatives need (sin's input, tanh's output), then back."""
    saved = []
    for _ in range(ROUNDS):
        saved.append(x)
        t = np.tanh(np.sin(x) * 1.5)
        saved.append(t)
        x = t + 0.1
    total = np.sum(x)
    g = np.ones_like(x)
    for _ in range(ROUNDS):
        t = saved.pop()
        g = g * (1 - t * t) * 1.5
        g = g * np.cos(saved.pop())
    return total, g


def run(settings: Settings) -> Result:
    n = settings.pick(10**6, 10**4)
    x = np.random.default_rng(0).uniform(-1, 1, size=n)
    result = Result(KEY, f"{4 * ROUNDS}-op element-wise chain on {n:,} float64, summed, "
                    "forward + backward", floor="numpy forward")
    chain = make_chain(np)

    def ours():
        return gad.trace(chain, x).grad()

    check_close("W3 gradient against the hand-written pass", ours()["x"], handwritten(x)[1])
    jobs = [
        Job("numpy forward", lambda: chain(x)),
        Job("numpy by hand", lambda: handwritten(x)),
        Job(OURS, ours),
    ]
    if autograd is not None:
        gradient = autograd.grad(make_chain(autograd_numpy))
        jobs.append(Job("autograd", lambda: gradient(x)))
    if torch is not None:
        jobs.append(Job("torch", torch_gradient(make_chain(torch), x), memory="rss"))
    result.measurements = measure(jobs, settings)

    floor_ratio = result.ratio(OURS, "numpy forward")
    ours_peak = result.get(OURS).peak_bytes
    result.target = "≤ 2.0× the floor, peak memory ≤ autograd's"
    peer = result.get("autograd")
    result.met = floor_ratio <= 2.0 and (peer is None or ours_peak <= peer.peak_bytes)
    result.verdict = f"{floor_ratio:.2f}× the floor, {ours_peak / MIB:.0f} MiB" + (
        f" against autograd's {peer.peak_bytes / MIB:.0f} MiB" if peer else "")
    values = (4 * ROUNDS + 1) * x.nbytes  # the input and the 20 intermediates
    result.notes.append(
        f"graphviz-ad keeps every node's value for the debugger: {4 * ROUNDS + 1} arrays of "
        f"{x.nbytes / MIB:.1f} MiB = {values / MIB:.0f} MiB before any backward temporary; "
        "autograd and the hand-written pass keep only the values the derivatives read.")
    return result
