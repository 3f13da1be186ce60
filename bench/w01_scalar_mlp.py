"""W1: a 2-16-16-1 ReLU network on 100 points, built from scalar operations (micrograd style).

Every weight is its own scalar and every multiply-add is its own operation, about 700
operations per point, so this measures the cost of recording one small operation, the
case micrograd was written for.  The loss is the mean squared error over the points.
"""

from __future__ import annotations

import numpy as np

import graphviz_ad as gad

from .harness import OURS, Job, Result, Settings, check_close, measure
from .peers import autograd, autograd_numpy, micrograd_engine, torch

KEY = "W1"
LAYERS = ((2, 16), (16, 16), (16, 1))


def make_data(n_points: int, seed: int = 0):
    """Points in the plane, the network's initial scalar parameters by name, and targets."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(-1, 1, size=(n_points, 2)).tolist()
    targets = [float(np.sin(3 * x) * y) for x, y in points]
    params = {}
    for layer, (n_in, n_out) in enumerate(LAYERS):
        for j in range(n_out):
            params[f"b{layer}_{j}"] = 0.0
            for i in range(n_in):
                params[f"w{layer}_{j}_{i}"] = float(rng.normal(0, 1 / np.sqrt(n_in)))
    return points, targets, params


def mlp_loss(params, points, targets, relu):
    """Mean squared error of the network over the points, one scalar operation at a time."""
    layers = [
        [([params[f"w{layer}_{j}_{i}"] for i in range(n_in)], params[f"b{layer}_{j}"])
         for j in range(n_out)]
        for layer, (n_in, n_out) in enumerate(LAYERS)
    ]
    total = 0.0
    for point, target in zip(points, targets):
        activations = point
        for depth, neurons in enumerate(layers):
            outputs = []
            for weights, bias in neurons:
                z = bias
                for w, a in zip(weights, activations):
                    z = z + w * a
                outputs.append(relu(z) if depth < len(layers) - 1 else z)
            activations = outputs
        error = activations[0] - target
        total = total + error * error
    return total * (1.0 / len(points))


def run(settings: Settings) -> Result:
    n_points = settings.pick(100, 4)
    points, targets, params = make_data(n_points)
    ops_per_point = sum(n_out * (2 * n_in + 1) for n_in, n_out in LAYERS) + 3
    n_ops = n_points * ops_per_point
    result = Result(KEY, f"scalar MLP 2-16-16-1 on {n_points} points, ~{n_ops:,} scalar ops, "
                    "forward + backward", floor="plain floats forward", unit="µs per op")

    def floor():
        return mlp_loss(params, points, targets, lambda z: max(0.0, z))

    def ours():
        def loss(params):
            return mlp_loss(params, points, targets, lambda z: np.maximum(0.0, z))

        return gad.trace(loss, params).grad()

    jobs = [Job("plain floats forward", floor, per=n_ops), Job(OURS, ours, per=n_ops)]

    if autograd is not None:
        anp = autograd_numpy
        gradient = autograd.grad(lambda p: mlp_loss(p, points, targets,
                                                    lambda z: anp.maximum(0.0, z)))
        check_close("W1 gradients against autograd", ours(), gradient(params))
        jobs.append(Job("autograd", lambda: gradient(params), per=n_ops))
    if torch is not None:
        def with_torch():
            tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
                       for k, v in params.items()}
            mlp_loss(tensors, points, targets, torch.relu).backward()
            return tensors
        jobs.append(Job("torch", with_torch, memory="rss", per=n_ops))
    if micrograd_engine is not None:
        def with_micrograd():
            values = {k: micrograd_engine.Value(v) for k, v in params.items()}
            mlp_loss(values, points, targets, lambda z: z.relu()).backward()
            return values
        jobs.append(Job("micrograd", with_micrograd, per=n_ops))
    result.measurements = measure(jobs, settings)
    result.notes.append("No target: shown next to W6, the same per-op cost on a plain chain.")
    return result
