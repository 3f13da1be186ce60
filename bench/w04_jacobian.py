"""W4: the full 200×200 Jacobian of tanh(W₂ tanh(W₁ x)) with respect to x.

graphviz-ad gets it from one batched pass in either mode (every output direction at once
in reverse mode, every input direction at once in forward mode).  The floor is the numpy
forward pass; the reference is the closed form diag(1 − h₂²) W₂ diag(1 − h₁²) W₁.
"""

from __future__ import annotations

import numpy as np

import graphviz_ad as gad

from .harness import OURS, Job, Result, Settings, check_close, measure
from .peers import autograd, autograd_numpy, torch

KEY = "W4"


def make_net(xp, W1, W2):
    def net(x):
        return xp.tanh(W2 @ xp.tanh(W1 @ x))

    return net


def analytic(W1, W2, x):
    h1 = np.tanh(W1 @ x)
    h2 = np.tanh(W2 @ h1)
    return (1 - h2 * h2)[:, None] * (W2 @ ((1 - h1 * h1)[:, None] * W1))


def run(settings: Settings) -> Result:
    n = settings.pick(200, 20)
    rng = np.random.default_rng(0)
    W1, W2 = rng.normal(0, 1 / np.sqrt(n), size=(2, n, n))
    x = rng.normal(size=n)
    net = make_net(np, W1, W2)
    result = Result(KEY, f"full {n}×{n} Jacobian of tanh(W₂ tanh(W₁x)), trace included",
                    floor="numpy forward", ours=f"{OURS} reverse")
    jobs = [Job("numpy forward", lambda: net(x)),
            Job("numpy by hand", lambda: analytic(W1, W2, x))]
    ours_reverse, ours_forward = result.ours, f"{OURS} forward"
    for mode, name in (("reverse", ours_reverse), ("forward", ours_forward)):
        check_close(f"W4 {mode}-mode Jacobian against the closed form",
                    gad.trace(net, x).jacobian("x", mode=mode), analytic(W1, W2, x))
        jobs.append(Job(name, lambda mode=mode: gad.trace(net, x).jacobian("x", mode=mode)))
    if autograd is not None:
        jacobian = autograd.jacobian(make_net(autograd_numpy, W1, W2))
        jobs.append(Job("autograd", lambda: jacobian(x)))
    if torch is not None:
        t_net = make_net(torch, torch.from_numpy(W1), torch.from_numpy(W2))
        t_x = torch.from_numpy(x)
        jobs += [
            Job("torch", lambda: torch.autograd.functional.jacobian(t_net, t_x), memory="rss"),
            Job("torch jacrev", lambda: torch.func.jacrev(t_net)(t_x), memory="rss"),
            Job("torch jacfwd", lambda: torch.func.jacfwd(t_net)(t_x), memory="rss"),
        ]
    result.measurements = measure(jobs, settings)

    ratios = {mode: result.ratio(name, "autograd") for mode, name in
              (("reverse", ours_reverse), ("forward", ours_forward))}
    result.target = "both modes faster than autograd"
    if ratios["reverse"] is not None:
        result.met = all(r < 1 for r in ratios.values())
        result.verdict = ", ".join(f"{mode} {r:.2f}× autograd" for mode, r in ratios.items())
    result.notes.append(f"The column “{OURS} ÷ this” is for reverse mode; forward mode is "
                        f"{result.ratio(ours_forward, ours_reverse):.2f}× reverse mode.")
    return result
