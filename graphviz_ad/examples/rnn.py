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
