"""Softmax cross-entropy over a batch with integer labels: ∂C/∂Z = (P − Y)/n.

A linear classifier scores n = 4 samples against k = 3 classes, Z = X W + b (written with
np.einsum), turns each row of scores into probabilities with the softmax, and averages the
negative log-probability of each sample's true class, picked with the integer labels y as
``p[np.arange(n), y]``.  An L2 penalty λ ‖W‖² (np.linalg.norm) keeps the weights small:

    C(W, b) = −(1/n) Σᵢ log Pᵢ,yᵢ + λ ‖W‖²

With Y the one-hot rows of y the chain rule collapses to the closed forms

    ∂C/∂Z = (P − Y)/n,   ∂C/∂W = Xᵀ (P − Y)/n + 2λ W,   ∂C/∂b = 1ᵀ (P − Y)/n.

Only W and b are differentiated (``wrt=``): the data X and λ are constants, drawn with
their names, and the integer labels y are constants by type, so they index as written.
Try: ``graphviz-ad grad softmax_batch``.
"""

import numpy as np

import graphviz_ad as gad


def softmax_cross_entropy(W, b, X, y, penalty):
    scores = np.einsum("nd,dk->nk", X, W) + b  # Z = X W + b, one row of scores per sample
    shifted = scores - scores.max(axis=1, keepdims=True)  # the same softmax, no overflow
    exp = np.exp(shifted)
    p = exp / exp.sum(axis=1, keepdims=True)
    n = X.shape[0]
    nll = -np.mean(np.log(p[np.arange(n), y]))  # each sample's true class
    return nll + penalty * np.linalg.norm(W) ** 2


W = np.array([
    [0.2, -0.5, 0.1],
    [1.0, 0.3, -0.4],
])
b = np.array([0.1, 0.0, -0.1])
X = np.array([
    [1.0, 2.0],
    [-1.0, 0.5],
    [0.5, -1.5],
    [2.0, 1.0],
])
y = np.array([2, 0, 1, 2])  # integer class labels: constants, not inputs
penalty = 0.05
loss = gad.trace(softmax_cross_entropy, W, b, X, y, penalty, wrt=("W", "b"))

if __name__ == "__main__":
    print(f"C = {float(loss.value):.4f}")
    print("∂C/∂W =\n", loss.grad("W"))
    print("∂C/∂b =", loss.grad("b"))
