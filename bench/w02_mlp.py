"""W2: one training step's gradient of an MLP 784→256→10 on a batch of 256 (float64).

tanh hidden layer, softmax cross-entropy loss, gradients for all four parameter arrays.
The floor is the numpy forward pass alone; the reference for the target is the same pass
with its backward pass written out by hand, which is what a careful numpy user would do.
"""

from __future__ import annotations

import numpy as np

import graphviz_ad as gad

from .harness import OURS, Job, Result, Settings, check_close, measure
from .peers import autograd, autograd_numpy, torch

KEY = "W2"


def make_data(batch: int, n_in: int, n_hidden: int, n_out: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 1, size=(batch, n_in))
    onehot = np.eye(n_out)[rng.integers(0, n_out, size=batch)]
    params = (
        rng.normal(0, 1 / np.sqrt(n_in), size=(n_in, n_hidden)),
        np.zeros(n_hidden),
        rng.normal(0, 1 / np.sqrt(n_hidden), size=(n_hidden, n_out)),
        np.zeros(n_out),
    )
    return images, onehot, params


def make_loss(xp, images, onehot):
    """The loss written once against a numpy-like module (numpy or autograd.numpy)."""

    def loss(W1, b1, W2, b2):
        hidden = xp.tanh(images @ W1 + b1)
        logits = hidden @ W2 + b2
        shifted = logits - xp.max(logits, axis=1, keepdims=True)
        log_probs = shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))
        return -xp.sum(onehot * log_probs) / len(images)

    return loss


def handwritten(images, onehot, W1, b1, W2, b2):
    """Forward and backward by hand: ∂L/∂logits = (softmax − onehot)/n, then the chain."""
    n = len(images)
    hidden = np.tanh(images @ W1 + b1)
    logits = hidden @ W2 + b2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    exps = np.exp(shifted)
    totals = np.sum(exps, axis=1, keepdims=True)
    loss = -np.sum(onehot * (shifted - np.log(totals))) / n
    d_logits = (exps / totals - onehot) / n
    d_hidden = d_logits @ W2.T
    d_pre = d_hidden * (1 - hidden * hidden)
    grads = (images.T @ d_pre, d_pre.sum(axis=0), hidden.T @ d_logits, d_logits.sum(axis=0))
    return loss, grads


def torch_loss(images, onehot):
    def loss(W1, b1, W2, b2):
        hidden = torch.tanh(images @ W1 + b1)
        logits = hidden @ W2 + b2
        shifted = logits - logits.max(dim=1, keepdim=True).values
        log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
        return -(onehot * log_probs).sum() / len(images)

    return loss


def run(settings: Settings) -> Result:
    batch, n_in, n_hidden = settings.pick((256, 784, 256), (16, 64, 32))
    images, onehot, params = make_data(batch, n_in, n_hidden, 10)
    result = Result(KEY, f"MLP {n_in}→{n_hidden}→10, batch {batch}, tanh, softmax "
                    "cross-entropy, float64, all parameter gradients", floor="numpy forward")
    loss = make_loss(np, images, onehot)

    def ours():
        return gad.trace(loss, *params).grad()

    check_close("W2 gradients against the hand-written pass", ours(),
                handwritten(images, onehot, *params)[1])
    jobs = [
        Job("numpy forward", lambda: loss(*params)),
        Job("numpy by hand", lambda: handwritten(images, onehot, *params)),
        Job(OURS, ours),
    ]
    if autograd is not None:
        autograd_loss = make_loss(autograd_numpy, images, onehot)
        gradient = autograd.grad(lambda p: autograd_loss(*p))
        jobs.append(Job("autograd", lambda: gradient(params)))
    if torch is not None:
        t_images, t_onehot = torch.from_numpy(images), torch.from_numpy(onehot)
        t_loss = torch_loss(t_images, t_onehot)

        def with_torch():
            tensors = [torch.from_numpy(p).requires_grad_() for p in params]
            t_loss(*tensors).backward()
            return [t.grad for t in tensors]

        jobs.append(Job("torch", with_torch, memory="rss"))
    result.measurements = measure(jobs, settings)

    ratio = result.ratio(OURS, "numpy by hand")
    peers = {name: result.ratio(OURS, name) for name in ("autograd", "torch")}
    result.target = "≤ 1.1× numpy by hand, below autograd and torch"
    result.met = ratio <= 1.1 and all(r is None or r < 1 for r in peers.values())
    result.verdict = f"{ratio:.2f}× numpy by hand, " + ", ".join(
        f"{r:.2f}× {name}" for name, r in peers.items() if r is not None)
    return result
