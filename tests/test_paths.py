"""Paths from an input to the output: the total-derivative rule (sum over paths of products of
local Jacobians) checked on MATH.md's examples, batch normalization's three paths, and an
exponential number of paths counted without listing them."""

import numpy as np
import pytest
from hypothesis import given, settings

import graphviz_ad as gad
from tests.random_programs import programs


def products(paths):
    return [float(path.product) for path in paths]


def test_x_plus_x_squared_has_paths_six_and_one():
    graph = gad.trace(lambda x: x + x**2, 3.0)
    paths = graph.paths("x")
    assert [str(path) for path in paths] == ["x → u₁ → u₂", "x → u₂"]
    assert products(paths) == [6.0, 1.0]
    assert paths.total_count == 2 and not paths.truncated
    assert float(paths.sum()) == graph.grad("x") == 7.0
    assert [path.rules for path in paths] == [("2x", "1"), ("1",)]
    assert paths[0].text == "x → u₁ → u₂: [1] · [2x] = 6"


def test_x_times_x_squared_has_paths_nine_and_eighteen():
    graph = gad.trace(lambda x: x * x**2, 3.0)
    paths = graph.paths("x")
    assert sorted(products(paths)) == [9.0, 18.0]
    assert float(paths.sum()) == 27.0


def test_x_times_x_has_two_paths_one_per_argument():
    graph = gad.trace(lambda x: x * x, np.array([1.0, 2.0]))
    paths = graph.paths("x")
    assert [path.edges[0][2] for path in paths] == [0, 1]
    assert [str(path) for path in paths] == ["x → u₁ (argument 0)", "x → u₁ (argument 1)"]
    for path in paths:
        np.testing.assert_array_equal(path.product, np.diag([1.0, 2.0]))
    np.testing.assert_array_equal(paths.sum(), graph.jacobian("x"))


def test_path_nodes_and_edges_line_up():
    graph = gad.trace(lambda x, y: np.sin(x * y) + x, 0.5, 2.0)
    for path in graph.paths("x"):
        assert path.nodes[0] is graph.inputs["x"] and path.nodes[-1] is graph.output
        assert [edge[0] for edge in path.edges] == list(path.nodes[:-1])
        assert [edge[1] for edge in path.edges] == list(path.nodes[1:])
        for operand, consumer, arg in path.edges:
            assert consumer.inputs[arg] is operand


def test_partial_derivatives_of_3x_squared_y():
    graph = gad.trace(lambda x, y: 3 * x**2 * y, 2.0, 5.0)
    assert float(graph.paths("x").sum()) == 60.0
    assert float(graph.paths("y").sum()) == 12.0


def test_matrix_products_are_shaped_output_then_input_and_sum_to_the_jacobian():
    rng = np.random.default_rng(0)
    w, x = rng.normal(size=(2, 3)), rng.normal(size=3)

    def layer(W, x):
        z = W @ x
        return np.tanh(z) * z + W @ (x * x)

    graph = gad.trace(layer, w, x)
    for name, shape in (("W", (2, 2, 3)), ("x", (2, 3))):
        paths = graph.paths(name)
        assert all(path.product.shape == shape for path in paths)
        np.testing.assert_allclose(paths.sum(), graph.jacobian(name), atol=1e-12)
    assert graph.paths("x").total_count == 4  # through z twice (tanh z, z), x*x twice


def test_paths_to_an_intermediate_node():
    graph = gad.trace(lambda x: x + x**2, 3.0)
    square = graph.nodes[2]
    paths = graph.paths("x", to=square)
    assert products(paths) == [6.0] and paths.end is square


def test_no_path_gives_zero_sum():
    graph = gad.trace(lambda x, y: y * 2.0, 1.0, 4.0)
    paths = graph.paths("x")
    assert len(paths) == paths.total_count == 0
    assert paths.sum() == 0.0 == graph.grad("x")


def test_exponentially_many_paths_are_counted_and_capped():
    def diamonds(x):
        for _ in range(40):
            x = np.sin(x) + np.cos(x)
        return x

    graph = gad.trace(diamonds, 0.3)
    paths = graph.paths("x")
    assert paths.total_count == 2**40
    assert len(paths) == 64 and paths.truncated
    assert "more not listed" in paths.text
    with pytest.raises(ValueError, match="limit=64"):
        paths.sum()
    assert len(graph.paths("x", limit=5)) == 5
    small = gad.trace(lambda x: x, 0.3)
    assert len(small.paths("x")) == 1  # the input is the output: one path, no edges
    np.testing.assert_array_equal(small.paths("x")[0].product, 1.0)


def test_batch_normalization_has_a_direct_path_one_through_mu_and_one_through_variance():
    rng = np.random.default_rng(1)
    n, eps = 5, 1e-5
    x, gamma, beta = rng.normal(size=n), 1.7, -0.4
    upstream = rng.normal(size=n)  # ∂L/∂y, fixed

    def batchnorm_loss(x, gamma, beta):
        mu = np.mean(x)
        centred = x - mu
        variance = np.mean(centred**2)
        x_hat = centred / np.sqrt(variance + eps)
        return np.sum((gamma * x_hat + beta) * upstream)

    graph = gad.trace(batchnorm_loss, x, gamma, beta)
    mu_node = next(n for n in graph.nodes if n.op == "mean" and n.inputs[0].op == "input")
    variance_node = next(n for n in graph.nodes if n.op == "mean" and n is not mu_node)

    std = np.sqrt(np.var(x) + eps)
    x_hat = (x - x.mean()) / std
    g_hat = gamma * upstream
    expected_terms = {
        "direct": n * g_hat / (n * std),
        "through μ": -np.sum(g_hat) / (n * std) * np.ones(n),
        "through σ²": -x_hat * np.sum(g_hat * x_hat) / (n * std),
        "through μ and σ²": np.zeros(n),  # ∂σ²/∂μ = −2 Σ (xᵢ − μ)/N = 0
    }
    paths = graph.paths("x")
    assert paths.total_count == 4
    found = {}
    for path in paths:
        via = (mu_node in path.nodes, variance_node in path.nodes)
        name = {(False, False): "direct", (True, False): "through μ",
                (False, True): "through σ²", (True, True): "through μ and σ²"}[via]
        found[name] = path.product
    assert found.keys() == expected_terms.keys()
    for name, term in expected_terms.items():
        np.testing.assert_allclose(found[name], term, atol=1e-12, err_msg=name)

    closed_form = (n * g_hat - g_hat.sum() - x_hat * np.sum(g_hat * x_hat)) / (n * std)
    np.testing.assert_allclose(paths.sum(), closed_form, atol=1e-12)
    np.testing.assert_allclose(graph.grad("x"), closed_form, atol=1e-12)
    assert graph.grad("gamma") == pytest.approx(np.sum(x_hat * upstream))
    assert graph.grad("beta") == pytest.approx(np.sum(upstream))


@settings(max_examples=60, deadline=None)
@given(programs())
def test_random_programs_paths_sum_to_the_jacobian(program):
    function, x, s = program
    graph = gad.trace(function, x, s)
    for name in ("x", "s"):
        paths = graph.paths(name, limit=10_000)
        assert not paths.truncated and len(paths) == paths.total_count
        np.testing.assert_allclose(paths.sum(), graph.jacobian(name), atol=1e-10)
