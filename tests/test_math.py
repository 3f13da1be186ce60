"""Every rule table and worked example of MATH.md, asserted as written there: the rule texts
the tool shows, the matrices behind them (numerator layout), and the numbers."""

import numpy as np
import pytest

import graphviz_ad as gad
from graphviz_ad.propagate import reverse

rng = np.random.default_rng(11)
w, x = rng.normal(size=4), rng.uniform(0.5, 2.0, size=4)
z = 1.7


def local(f, *args, arg):
    """The local Jacobian of the output node of ``f`` w.r.t. its argument ``arg``."""
    graph = gad.trace(f, *args)
    return graph.output.jacobian(arg)


# Element-wise binary operators y = w ○ x: (function, ∂y/∂w, ∂y/∂x) as rule and matrix.
ELEMENTWISE = [
    (lambda w, x: w + x, ("I", np.eye(4)), ("I", np.eye(4))),
    (lambda w, x: w - x, ("I", np.eye(4)), ("−I", -np.eye(4))),
    (lambda w, x: w * x, ("diag(x)", np.diag(x)), ("diag(w)", np.diag(w))),
    (lambda w, x: w / x, ("diag(1/x)", np.diag(1 / x)), ("diag(−w/x²)", np.diag(-w / x**2))),
]


@pytest.mark.parametrize("row", range(len(ELEMENTWISE)))
def test_elementwise_binary_table(row):
    f, (rule_w, matrix_w), (rule_x, matrix_x) = ELEMENTWISE[row]
    for arg, rule, matrix in ((0, rule_w, matrix_w), (1, rule_x, matrix_x)):
        jacobian = local(f, w, x, arg=arg)
        assert jacobian.rule == rule
        assert jacobian.kind in ("identity", "diagonal")
        np.testing.assert_allclose(jacobian.matrix(), matrix, rtol=1e-15)


@pytest.mark.parametrize(
    ("f", "rule", "derivative"),
    [
        (np.exp, "diag(exp(x))", np.exp),
        (np.tanh, "diag(1 − tanh²x)", lambda v: 1 - np.tanh(v) ** 2),
        (np.log, "diag(1/x)", lambda v: 1 / v),
        (np.sin, "diag(cos x)", np.cos),
    ],
)
def test_unary_elementwise_is_diag_of_the_derivative(f, rule, derivative):
    jacobian = local(f, x, arg=0)
    assert (jacobian.rule, jacobian.kind) == (rule, "diagonal")
    np.testing.assert_allclose(jacobian.matrix(), np.diag(derivative(x)), rtol=1e-15)


# Scalar expansion: (function of (x, z), ∂y/∂x, ∂y/∂z); ∂y/∂z is a column (4×1).
ones = np.ones((4, 1))
SCALAR_EXPANSION = [
    (lambda x, z: x + z, ("I", np.eye(4)), ("1", ones)),
    (lambda x, z: x - z, ("I", np.eye(4)), ("−1", -ones)),
    (lambda x, z: z - x, ("−I", -np.eye(4)), ("1", ones)),
    (lambda x, z: x * z, ("z I", z * np.eye(4)), ("x", x[:, None])),
    (lambda x, z: x / z, ("(1/z) I", np.eye(4) / z), ("−x/z²", -x[:, None] / z**2)),
    (lambda x, z: z / x, ("diag(−z/x²)", np.diag(-z / x**2)), ("1/x", 1 / x[:, None])),
]


@pytest.mark.parametrize("row", range(len(SCALAR_EXPANSION)))
def test_scalar_expansion_table(row):
    f, (rule_x, matrix_x), (rule_z, matrix_z) = SCALAR_EXPANSION[row]
    graph = gad.trace(f, x, z)
    node = graph.output
    x_arg = node.inputs.index(graph.inputs["x"])
    z_arg = 1 - x_arg
    assert node.jacobian(x_arg).rule == rule_x
    assert node.jacobian(z_arg).rule == rule_z
    assert node.jacobian(z_arg).kind == "broadcast"
    np.testing.assert_allclose(node.jacobian(x_arg).matrix(), matrix_x, rtol=1e-15)
    np.testing.assert_allclose(node.jacobian(z_arg).matrix(), matrix_z, rtol=1e-15)


def test_general_broadcasting_sums_over_the_expanded_axes():
    b = rng.normal(size=3)
    graph = gad.trace(lambda A, b: A + b, rng.normal(size=(2, 3)), b)
    jacobian = graph.output.jacobian(1)
    assert jacobian.rule == "1 ⊗ I"
    np.testing.assert_array_equal(jacobian.matrix(), np.kron(np.ones((2, 1)), np.eye(3)))
    np.testing.assert_array_equal(jacobian.vjp(np.ones((2, 3))), [2.0, 2.0, 2.0])


def test_reductions_table():
    total = local(np.sum, x, arg=0)
    assert (total.rule, total.kind) == ("1ᵀ", "reduce")
    np.testing.assert_array_equal(total.matrix(), np.ones((1, 4)))

    mean = local(np.mean, x, arg=0)
    assert mean.rule == "1ᵀ/n"
    np.testing.assert_allclose(mean.matrix(), np.full((1, 4), 0.25))

    # y = sum(x z): ∂y/∂x = z 1ᵀ, ∂y/∂z = sum(x)
    graph = gad.trace(lambda x, z: np.sum(x * z), x, z)
    np.testing.assert_allclose(graph.jacobian("x"), np.full(4, z), rtol=1e-15)
    assert graph.grad("z") == pytest.approx(np.sum(x), rel=1e-15)

    # y = x · w: ∂y/∂x = wᵀ, ∂y/∂w = xᵀ
    dot = gad.trace(lambda x, w: x @ w, x, w)
    assert [dot.output.jacobian(i).rule for i in (0, 1)] == ["wᵀ", "xᵀ"]
    np.testing.assert_array_equal(dot.grad("x"), w)
    np.testing.assert_array_equal(dot.grad("w"), x)


def test_matrix_products():
    m, n, p = 2, 3, 4
    A, B, G = rng.normal(size=(m, n)), rng.normal(size=(n, p)), rng.normal(size=(m, p))
    product = gad.trace(lambda A, B: A @ B, A, B).output
    dA, dB = product.jacobian(0), product.jacobian(1)
    assert (dA.rule, dB.rule) == ("I ⊗ Bᵀ", "A ⊗ I")
    np.testing.assert_allclose(dA.vjp(G), G @ B.T, rtol=1e-14)  # ∂L/∂A = Ḡ Bᵀ
    np.testing.assert_allclose(dB.vjp(G), A.T @ G, rtol=1e-14)  # ∂L/∂B = Aᵀ Ḡ
    A_dot, B_dot = rng.normal(size=(m, n)), rng.normal(size=(n, p))
    np.testing.assert_allclose(dA.jvp(A_dot) + dB.jvp(B_dot), A_dot @ B + A @ B_dot, rtol=1e-14)
    np.testing.assert_allclose(dA.matrix(), np.kron(np.eye(m), B.T), rtol=1e-15)
    np.testing.assert_allclose(dB.matrix(), np.kron(A, np.eye(p)), rtol=1e-15)

    W = rng.normal(size=(3, 4))
    matvec = gad.trace(lambda W, x: W @ x, W, x).output.jacobian(1)
    assert matvec.rule == "W"
    np.testing.assert_array_equal(matvec.matrix(), W)


def test_single_variable_chain_rule():
    sine = gad.trace(lambda x: np.sin(x**2), 1.5)
    assert sine.grad("x") == pytest.approx(-1.8845208681682175, rel=1e-15)
    assert sine.grad("x") == pytest.approx(2 * 1.5 * np.cos(1.5**2), rel=1e-15)
    log_sine = gad.trace(lambda x: np.log(np.sin(x**3) ** 2), 2.0)
    assert log_sine.grad("x") == pytest.approx(-3.5295615347875318, rel=1e-15)
    assert [node.op for node in log_sine.nodes if node.inputs] == ["power", "sin", "power", "log"]


@pytest.mark.parametrize(
    ("f", "contributions", "total"),
    [(lambda x: x + x**2, [1.0, 6.0], 7.0), (lambda x: x * x**2, [9.0, 18.0], 27.0)],
)
def test_total_derivative_is_the_sum_over_paths(f, contributions, total):
    graph = gad.trace(f, 3.0)
    to_x = [edge for edge in reverse(graph, 1.0) if edge.operand is graph.inputs["x"]]
    assert sorted(float(edge.contribution) for edge in to_x) == contributions
    assert float(to_x[-1].total) == total == graph.grad("x")


def test_partial_derivatives():
    assert gad.trace(lambda x, y: 3 * x**2 * y, 2.0, 5.0).grad() == {"x": 60.0, "y": 12.0}


def test_a_variable_used_twice_gets_both_edges():
    graph = gad.trace(lambda x: x * x, 3.0)
    edges = [edge for edge in reverse(graph, 1.0)]
    assert [(edge.arg, float(edge.contribution)) for edge in edges] == [(0, 3.0), (1, 3.0)]


def neuron(w, x, b):
    return np.maximum(0, w @ x + b)


@pytest.mark.parametrize(
    ("b", "z", "dw", "db"), [(0.25, 2.25, [3, 1, 2], 1.0), (-3, -1, [0] * 3, 0)]
)
def test_the_neuron(b, z, dw, db):
    w, x = np.array([1.0, -2.0, 0.5]), np.array([3.0, 1.0, 2.0])
    graph = gad.trace(neuron, w, x, float(b))
    assert graph.nodes[4].value == z  # z = w·x + b
    np.testing.assert_array_equal(graph.grad("w"), dw)
    assert graph.grad("b") == db


def test_mse_loss_closed_form():
    N = 8
    X, y = rng.normal(size=(N, 3)), rng.normal(size=N)
    w, b = rng.normal(size=3), 0.1

    def loss(w, b):
        return np.mean((y - np.maximum(0, X @ w + b)) ** 2)

    graph = gad.trace(loss, w, b)
    z = X @ w + b
    e = np.where(z > 0, z - y, 0.0)  # only the samples whose z > 0 contribute
    np.testing.assert_allclose(graph.grad("w"), 2 / N * e @ X, rtol=1e-13)
    assert graph.grad("b") == pytest.approx(2 / N * e.sum(), rel=1e-13)


def test_layer_by_layer_backprop_and_softmax_cross_entropy():
    W1, b1 = rng.normal(size=(5, 3)), rng.normal(size=5)
    W2, b2 = rng.normal(size=(4, 5)), rng.normal(size=4)
    a0, y = rng.normal(size=3), np.eye(4)[2]

    def cost(W1, b1, W2, b2):
        a1 = np.tanh(W1 @ a0 + b1)
        z2 = W2 @ a1 + b2
        p = np.exp(z2 - np.max(z2)) / np.sum(np.exp(z2 - np.max(z2)))
        return -np.sum(y * np.log(p))

    graph = gad.trace(cost, W1, b1, W2, b2)
    a1 = np.tanh(W1 @ a0 + b1)
    z2 = W2 @ a1 + b2
    p = np.exp(z2) / np.exp(z2).sum()
    delta2 = p - y  # ∂C/∂z = p − y
    delta1 = (W2.T @ delta2) * (1 - a1**2)  # δˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹ ⊙ σ′(zˡ)
    np.testing.assert_allclose(graph.grad("W2"), np.outer(delta2, a1), rtol=1e-12)  # δ aᵀ
    np.testing.assert_allclose(graph.grad("b2"), delta2, rtol=1e-12)
    np.testing.assert_allclose(graph.grad("W1"), np.outer(delta1, a0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(graph.grad("b1"), delta1, rtol=1e-12, atol=1e-15)


def test_batch_normalization_closed_form():
    N, eps = 6, 1e-5
    x, gamma, beta, upstream = rng.normal(size=(4, N))

    def batchnorm(x, gamma, beta):
        mu = np.mean(x)
        var = np.mean((x - mu) ** 2)
        x_hat = (x - mu) / np.sqrt(var + eps)
        return np.sum((gamma * x_hat + beta) * upstream)

    graph = gad.trace(batchnorm, x, gamma, beta)
    std = np.sqrt(x.var() + eps)
    x_hat = (x - x.mean()) / std
    g_hat = gamma * upstream
    dx = (N * g_hat - g_hat.sum() - x_hat * np.sum(g_hat * x_hat)) / (N * std)
    np.testing.assert_allclose(graph.grad("x"), dx, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(graph.grad("gamma"), x_hat * upstream, rtol=1e-12)
    np.testing.assert_allclose(graph.grad("beta"), upstream, rtol=1e-15)
