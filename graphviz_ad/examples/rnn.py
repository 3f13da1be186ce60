"""A recurrent cell unrolled over three steps: backpropagation through time.

    hₜ = tanh(W hₜ₋₁ + U xₜ + b)  for t = 1, 2, 3,   L = ½ ‖h₃ − target‖²

The same W, U and b are used at every step, so each receives one contribution per step
and its gradient is the sum.  With δₜ = ∂L/∂(W hₜ₋₁ + U xₜ + b), going backwards from
δ₃ = (h₃ − target) ⊙ (1 − h₃²) by δₜ₋₁ = (Wᵀ δₜ) ⊙ (1 − hₜ₋₁²):

    ∂L/∂W = Σₜ δₜ hₜ₋₁ᵀ,   ∂L/∂U = Σₜ δₜ xₜᵀ,   ∂L/∂b = Σₜ δₜ.

Tangent mode over the same graph is forward-mode propagation through time (real-time
recurrent learning).  Try: ``graphviz-ad tui rnn``.
"""

import numpy as np

import graphviz_ad as gad


def cell(W, U, b, h, x):
    return np.tanh(W @ h + U @ x + b)


def rnn_loss(W, U, b, h0, xs, target):
    h = h0
    for x in xs:  # unrolled: the loop runs while tracing, one cell per step
        h = cell(W, U, b, h, x)
    return 0.5 * np.sum((h - target) ** 2)


def rnn_loss_backward(W, U, b, h0, xs, target):
    """Backpropagation through time by hand (``graphviz-ad compare rnn`` checks it)."""
    hs = [h0]
    for x in xs:
        hs.append(cell(W, U, b, hs[-1], x))
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b)
    dh = hs[-1] - target
    dxs = []
    for t in reversed(range(len(xs))):
        delta = dh * (1 - hs[t + 1] ** 2)  # δₜ
        dW += np.outer(delta, hs[t])
        dU += np.outer(delta, xs[t])
        db += delta
        dxs.insert(0, U.T @ delta)
        dh = W.T @ delta
    return {"W": dW, "U": dU, "b": db, "h0": dh, "xs": dxs}


W = np.array([[0.5, -0.4], [0.3, 0.8]])
U = np.array([[1.0, -0.5, 0.2], [0.4, 0.6, -0.3]])
b = np.array([0.1, -0.2])
h0 = np.array([0.2, -0.1])
xs = [np.array([1.0, 0.0, -1.0]), np.array([0.5, 2.0, 0.0]), np.array([-1.0, 1.0, 1.0])]
target = np.array([0.5, -0.5])
loss = gad.trace(rnn_loss, W, U, b, h0, xs, target)

if __name__ == "__main__":
    print(loss, end="\n\n")
    print("∂L/∂W =\n", loss.grad("W"))
