"""Batch normalization: each input reaches the loss along three paths.

Over a batch of N samples (the rows of x), feature by feature:

    μ = (1/N) Σᵢ xᵢ,   σ² = (1/N) Σᵢ (xᵢ − μ)²,   x̂ᵢ = (xᵢ − μ)/√(σ² + ε),   yᵢ = γ x̂ᵢ + β

Each xᵢ reaches y directly, through μ and through σ², and its gradient is the sum of the
three.  With ĝ = γ ⊙ ∂L/∂y the sum simplifies to the closed form

    ∂L/∂xᵢ = (N ĝᵢ − Σⱼ ĝⱼ − x̂ᵢ Σⱼ ĝⱼ x̂ⱼ) / (N √(σ² + ε)),
    ∂L/∂γ = Σᵢ x̂ᵢ ∂L/∂yᵢ,   ∂L/∂β = Σᵢ ∂L/∂yᵢ.

The loss here is L = ½ Σ (y − t)², so ∂L/∂y = y − t.
Try: ``graphviz-ad tui batchnorm`` and watch x collect its three contributions.
"""

import numpy as np

import graphviz_ad as gad

EPSILON = 1e-5


def batchnorm_loss(x, gamma, beta, target):
    mean = np.mean(x, axis=0)  # μ, one per feature
    variance = np.mean((x - mean) ** 2, axis=0)  # σ²
    x_hat = (x - mean) / np.sqrt(variance + EPSILON)
    y = gamma * x_hat + beta
    return 0.5 * np.sum((y - target) ** 2)


def batchnorm_loss_backward(x, gamma, beta, target):
    """The closed form above, by hand (``graphviz-ad compare batchnorm`` checks it)."""
    n = x.shape[0]
    mean = np.mean(x, axis=0)
    std = np.sqrt(np.mean((x - mean) ** 2, axis=0) + EPSILON)
    x_hat = (x - mean) / std
    dy = gamma * x_hat + beta - target
    dx_hat = gamma * dy  # ĝ
    dx = (n * dx_hat - np.sum(dx_hat, axis=0) - x_hat * np.sum(dx_hat * x_hat, axis=0)) / (n * std)
    return {"x": dx, "gamma": np.sum(x_hat * dy, axis=0), "beta": np.sum(dy, axis=0)}


rng = np.random.default_rng(1)
x = rng.normal(loc=2.0, scale=3.0, size=(5, 3))  # N = 5 samples, 3 features
gamma = np.array([1.5, 0.5, -1.0])
beta = np.array([0.0, 1.0, 0.5])
target = rng.normal(size=(5, 3))
loss = gad.trace(batchnorm_loss, x, gamma, beta, target)

if __name__ == "__main__":
    print(f"L = {float(loss.value):.4f}")
    print("∂L/∂x =\n", loss.grad("x"))
    print("∂L/∂γ =", loss.grad("gamma"), " ∂L/∂β =", loss.grad("beta"))
