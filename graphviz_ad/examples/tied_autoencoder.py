"""A tied-weight autoencoder: W encodes and Wᵀ decodes, so W's gradient has two paths.

    h = tanh(W x),   x̃ = Wᵀ h,   L = ½ ‖x̃ − x‖²

A variable used twice is differentiated as if each use were a separate variable, and the
results are added.  With r = x̃ − x (= ∂L/∂x̃):

* through the decoder Wᵀ:  ∂L/∂W = h rᵀ  (the transpose of ∂L/∂Wᵀ = r hᵀ);
* through the encoder W:   ∂L/∂W = δ xᵀ  with δ = (W r) ⊙ (1 − h²);
* in all:                  ∂L/∂W = h rᵀ + δ xᵀ.

Try: ``graphviz-ad tui tied_autoencoder``: W receives two contributions in backward mode.
"""

import numpy as np

import graphviz_ad as gad


def tied_autoencoder(W, x):
    h = np.tanh(W @ x)  # encode 4 numbers into 2
    x_tilde = W.T @ h  # decode with the same weights, transposed
    return 0.5 * np.sum((x_tilde - x) ** 2)


W = np.array([[0.5, -0.3, 0.8, 0.1], [-0.2, 0.7, 0.4, -0.6]])
x = np.array([1.0, 0.5, -1.0, 2.0])
loss = gad.trace(tied_autoencoder, W, x)

if __name__ == "__main__":
    print(loss, end="\n\n")
    print("∂L/∂W =\n", loss.grad("W"))
