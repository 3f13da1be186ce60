"""Finite differences: the oracle every derivative rule is checked against."""

import numpy as np

from graphviz_ad import PRIMITIVES


def central_difference(f, x, eps=1e-6):
    """∂f/∂x by central differences, numerator layout: shape f(x).shape + x.shape."""
    x = np.array(x, dtype=float)
    out_shape = np.shape(f(x))
    columns = []
    for k in range(x.size):
        step = np.zeros(x.size)
        step[k] = eps
        step = step.reshape(x.shape)
        columns.append((np.asarray(f(x + step)) - np.asarray(f(x - step))).ravel() / (2 * eps))
    matrix = np.stack(columns, axis=1) if columns else np.zeros((int(np.prod(out_shape)), 0))
    return matrix.reshape(out_shape + x.shape)


def node_numeric_matrix(node, i, eps=1e-6):
    """The local Jacobian of ``node`` w.r.t. input i by finite differences of its primitive's
    forward, as an out.size × in.size matrix."""
    primitive = PRIMITIVES[node.op]
    values = [operand.value for operand in node.inputs]
    params = node.params or {}

    def forward(x):
        args = list(values)
        args[i] = x
        with np.errstate(invalid="ignore", divide="ignore"):  # e.g. (−1.5)^(2 ± ε) is NaN
            return primitive.forward(*args, **params)

    numeric = central_difference(forward, values[i], eps)
    return numeric.reshape(np.size(node.value), np.size(values[i]))
