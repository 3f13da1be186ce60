"""A two-layer network with softmax cross-entropy: ∂C/∂Wˡ = δˡ (aˡ⁻¹)ᵀ layer by layer.

Forward:   z¹ = W¹ x + b¹,  a¹ = tanh(z¹),  z² = W² a¹ + b²,  p = softmax(z²),
           C = −Σₖ yₖ ln pₖ  (cross-entropy with the one-hot label y).
Backward:  δ² = ∂C/∂z² = p − y                    (softmax and cross-entropy together)
           δ¹ = (W²)ᵀ δ² ⊙ (1 − (a¹)²)             (tanh′ = 1 − tanh²)
           ∂C/∂Wˡ = δˡ (aˡ⁻¹)ᵀ,  ∂C/∂bˡ = δˡ       (with a⁰ = x)

ln p is computed as z − max(z) − ln Σ exp(z − max(z)): subtracting the maximum keeps exp
from overflowing and changes neither p nor any gradient.
Try: ``graphviz-ad tui mlp`` and follow δ² back through both layers.
"""

import numpy as np

import graphviz_ad as gad


def log_softmax(z):
    shifted = z - np.max(z)
    return shifted - np.log(np.sum(np.exp(shifted)))


def mlp_loss(W1, b1, W2, b2, x, y):
    a1 = np.tanh(W1 @ x + b1)  # hidden layer: 4 units
    z2 = W2 @ a1 + b2  # class scores: 3 classes
    return -np.sum(y * log_softmax(z2))


def mlp_loss_backward(W1, b1, W2, b2, x, y):
    """The derivation above by hand, layer by layer (``graphviz-ad compare mlp`` checks it)."""
    a1 = np.tanh(W1 @ x + b1)
    z2 = W2 @ a1 + b2
    p = np.exp(log_softmax(z2))
    delta2 = p * np.sum(y) - y  # p − y for a one-hot y
    delta1 = (W2.T @ delta2) * (1 - a1**2)
    return {"W1": np.outer(delta1, x), "b1": delta1, "W2": np.outer(delta2, a1), "b2": delta2}


rng = np.random.default_rng(0)
W1 = rng.normal(size=(4, 3))
b1 = rng.normal(size=4)
W2 = rng.normal(size=(3, 4))
b2 = rng.normal(size=3)
x = np.array([0.5, -1.0, 2.0])
y = np.array([0.0, 1.0, 0.0])  # the label: class 1, one-hot
loss = gad.trace(mlp_loss, W1, b1, W2, b2, x, y)

if __name__ == "__main__":
    print(loss, end="\n\n")
    print(f"C = {float(loss.value):.4f}")
    print("∂C/∂b² = p − y =", loss.grad("b2"))
    print("∂C/∂W² = δ² (a¹)ᵀ =\n", loss.grad("W2"))
