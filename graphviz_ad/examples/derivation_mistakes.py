"""Check your derivation: hand-written backward passes, each with one classic mistake.

Every pair below is a forward function, traced as usual, and its backward pass written by
hand the way a course exercise asks (affine_backward, relu_backward, …).  Each backward has
one mistake, marked on its line.  ``gad.compare(forward, backward, *inputs)`` runs both and
says which returned gradients are wrong, the first line that gets an adjoint wrong, the
rule of the edge where it goes wrong, and what kind of mistake it is:

    transpose      ∂(x W)/∂W is xᵀ ȳ, not ȳᵀ x
    factor         the mean's 1/n forgotten
    sign           ∂(a − b)/∂b = −1 forgotten
    mask           ReLU's [z > 0] forgotten
    broadcast      a bias added to every row gets the sum of their adjoints
    path           x · tanh(x) uses x twice: both uses send a contribution back
    axis           a column mean sends its adjoint back along the columns, not the rows

Try: ``graphviz-ad compare derivation_mistakes`` (or ``--forward relu_layer``).
"""

import numpy as np

import graphviz_ad as gad

rng = np.random.default_rng(7)


def affine(x, W, t):
    y = x @ W  # a batch of 4 rows times a 3 × 2 weight matrix
    return np.sum(y * t)


def affine_backward(x, W, t):
    dy = t
    dW = dy.T @ x  # ✘ transpose: ∂L/∂W = xᵀ ȳ
    dx = dy @ W.T
    return {"x": dx, "W": dW}


def mse(p, y):
    e = p - y
    return np.mean(e ** 2)


def mse_backward(p, y):
    e = p - y
    de = 2 * e  # ✘ factor: the mean divides by n
    return {"p": de, "y": -de}


def half_squared_distance(a, b):
    d = a - b
    return 0.5 * np.sum(d ** 2)


def half_squared_distance_backward(a, b):
    d = a - b
    da = d
    db = d  # ✘ sign: ∂(a − b)/∂b = −1
    return da, db


def relu_layer(W, b, x, t):
    z = W @ x + b
    h = np.maximum(0, z)
    return 0.5 * np.sum((h - t) ** 2)


def relu_layer_backward(W, b, x, t):
    z = W @ x + b
    h = np.maximum(0, z)
    dh = h - t
    dz = dh  # ✘ mask: max(0, z) passes the adjoint only where z > 0
    return {"W": np.outer(dz, x), "b": dz, "x": W.T @ dz}


def dense(X, W, b):
    Z = X @ W + b  # b is added to each of the 5 rows
    return np.sum(np.tanh(Z))


def dense_backward(X, W, b):
    Z = X @ W + b
    dZ = 1 - np.tanh(Z) ** 2
    db = dZ  # ✘ broadcast: sum over the rows
    return {"X": dZ @ W.T, "W": X.T @ dZ, "b": db}


def swish(x):
    return np.sum(x * np.tanh(x))


def swish_backward(x):
    dx = np.tanh(x)  # ✘ path: x is used twice
    return dx


def centred(X, T):
    mu = np.mean(X, axis=0)  # one mean per column
    return np.sum((X - mu) * T)


def centred_backward(X, T):
    dmu = -np.sum(T, axis=1, keepdims=True)  # ✘ axis: mu broadcasts along the rows
    dX = T + dmu / X.shape[0]
    return {"X": dX}


reports = [
    gad.compare(affine, affine_backward, rng.normal(size=(4, 3)), rng.normal(size=(3, 2)),
                rng.normal(size=(4, 2))),
    gad.compare(mse, mse_backward, np.array([0.5, 1.5, -1.0, 2.0]),
                np.array([1.0, 1.0, 0.0, 1.0])),
    gad.compare(half_squared_distance, half_squared_distance_backward,
                np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])),
    gad.compare(relu_layer, relu_layer_backward, np.array([[1.0, -2.0, 0.5], [0.3, 1.0, -1.0]]),
                np.array([2.0, -3.0]), np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0])),
    gad.compare(dense, dense_backward, rng.normal(size=(5, 3)), rng.normal(size=(3, 2)),
                rng.normal(size=2)),
    gad.compare(swish, swish_backward, np.array([-1.5, 0.5, 2.0])),
    gad.compare(centred, centred_backward, rng.normal(size=(4, 3)), rng.normal(size=(4, 3))),
]

if __name__ == "__main__":
    for report in reports:
        print(report, end="\n\n")
