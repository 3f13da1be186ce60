"""Element-wise operators, scalar expansion and reductions: every row of the paper's tables.

One small function per row, traced on w = [1, 2, 3], x = [4, 5, 6] and a scalar z = 2.
Each output node's local Jacobians are the table's entries (numerator layout, m × n):

Element-wise, y = w ○ x (diagonal Jacobians, since yᵢ depends only on wᵢ and xᵢ):
    w + x: I, I      w − x: I, −I      w ⊗ x: diag(x), diag(w)
    w ⊘ x: diag(1/x), diag(−w/x²)      tanh(x): diag(1 − tanh²x)
Scalar expansion (z is broadcast to every element; 1 is a column of ones):
    x + z: I, 1      x − z: I, −1      z − x: −I, 1
    x z: z I, x      x / z: (1/z) I, −x/z²      z / x: diag(−z/x²), 1/x
Reductions (rows of ones):
    sum(x): 1ᵀ       sum(x z): z 1ᵀ (and ∂/∂z = sum(x))
    x · w: wᵀ, xᵀ    mean(x): 1ᵀ/n

Try: ``graphviz-ad render elementwise --graph z_over_x -o z_over_x.svg``.
"""

import numpy as np

import graphviz_ad as gad

w = np.array([1.0, 2.0, 3.0])
x = np.array([4.0, 5.0, 6.0])
z = 2.0


# Element-wise binary operators and one unary function.
def w_plus_x(w, x):
    return w + x


def w_minus_x(w, x):
    return w - x


def w_times_x(w, x):
    return w * x


def w_over_x(w, x):
    return w / x


def tanh_of_x(x):
    return np.tanh(x)


# Scalar expansion: the scalar z meets every element of x.
def x_plus_z(x, z):
    return x + z


def x_minus_z(x, z):
    return x - z


def z_minus_x(x, z):
    return z - x


def x_times_z(x, z):
    return x * z


def x_over_z(x, z):
    return x / z


def z_over_x(x, z):
    return z / x


# Reductions: a vector becomes a scalar.
def sum_of_x(x):
    return np.sum(x)


def sum_of_x_times_z(x, z):
    return np.sum(x * z)


def x_dot_w(x, w):
    return x @ w


def mean_of_x(x):
    return np.mean(x)


# Each row traced on its own, on the concrete values above.
ROWS = (
    (w_plus_x, w, x), (w_minus_x, w, x), (w_times_x, w, x), (w_over_x, w, x), (tanh_of_x, x),
    (x_plus_z, x, z), (x_minus_z, x, z), (z_minus_x, x, z),
    (x_times_z, x, z), (x_over_z, x, z), (z_over_x, x, z),
    (sum_of_x, x), (sum_of_x_times_z, x, z), (x_dot_w, x, w), (mean_of_x, x),
)
graphs = {row.__name__: gad.trace(row, *inputs) for row, *inputs in ROWS}

if __name__ == "__main__":
    for name, graph in graphs.items():
        output = graph.output
        rules = ", ".join(
            f"∂/∂{operand.label} = {output.jacobian(i).rule}"
            for i, operand in enumerate(output.inputs)
        )
        print(f"{name:18} {rules}")
