"""The neuron's mean squared error over N samples: ∂C/∂w and ∂C/∂b in closed form.

C(w, b) = (1/N) Σᵢ (yᵢ − max(0, w · xᵢ + b))².  With the errors eᵢ = w · xᵢ + b − yᵢ and
only the samples whose neuron is active (zᵢ > 0) contributing:

    ∂C/∂w = (2/N) Σᵢ eᵢ xᵢᵀ        ∂C/∂b = (2/N) Σᵢ eᵢ

Here N = 4 samples (the rows of X); the third one leaves the neuron inactive, so it adds
nothing to either gradient.  Try: ``graphviz-ad grad mse_loss``.
"""

import numpy as np

import graphviz_ad as gad


def mse_loss(w, b, X, y):
    z = X @ w + b  # one pre-activation per sample
    activation = np.maximum(0, z)
    return np.mean((y - activation) ** 2)


w = np.array([0.5, -1.0, 2.0])
b = 0.1
X = np.array([
    [1.0, 0.0, 1.0],
    [2.0, 1.0, 0.5],
    [0.0, 3.0, 0.5],  # z = −1.9: inactive
    [1.0, 1.0, 1.0],
])
y = np.array([2.0, 1.0, 0.5, 1.0])
loss = gad.trace(mse_loss, w, b, X, y)

if __name__ == "__main__":
    print(f"C = {float(loss.value):.4f}")
    print("∂C/∂w =", loss.grad("w"))
    print("∂C/∂b =", loss.grad("b"))
