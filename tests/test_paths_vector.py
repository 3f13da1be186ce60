"""Paths in the paper's form for arrays: each path is the product of the local Jacobians
along it (numerator layout, ∂f/∂g · ∂g/∂x), with its m×n shape and numbers, and a path
whose product is zero says why."""

import re
from pathlib import Path

import numpy as np

import graphviz_ad as gad
from graphviz_ad.examples import batchnorm, neuron

A = np.array([[1.0, 2.0], [3.0, 4.0]])


def vector_chain(x):
    g = A @ x  # g(x): ∂g/∂x = A
    return np.sin(g)  # f(g): ∂f/∂g = diag(cos g)


def test_the_vector_chain_rule_is_one_product_of_two_jacobians():
    x = np.array([0.5, 1.0])
    graph = gad.trace(vector_chain, x)
    paths = graph.paths("x")
    assert len(paths) == paths.total_count == 1  # one node path, not one per element
    (path,) = paths
    assert path.factors == (("∂u₂/∂u₁", "diag(cos u₁)", (2, 2)), ("∂u₁/∂x", "A", (2, 2)))
    expected = np.diag(np.cos(A @ x)) @ A
    np.testing.assert_allclose(path.product, expected, atol=1e-15)
    np.testing.assert_allclose(paths.sum(), graph.jacobian("x"), atol=1e-15)
    assert path.text.splitlines() == [
        "x → u₁ → u₂: ∂u₂/∂u₁ · ∂u₁/∂x",
        "  = [diag(cos u₁)] · [A]",
        "  (2×2 · 2×2 → 2×2)",
        "  = [ −0.8011  −1.602 ]",
        "    [ 2.126    2.835  ]",
    ]
    text = paths.text.splitlines()
    assert text[0] == "∂u₂/∂x: 1 path, each a 2×2 Jacobian (numerator layout)"
    assert text[-3:] == ["  sum over paths = ∂u₂/∂x (2×2)",
                         "    = [ −0.8011  −1.602 ]",
                         "      [ 2.126    2.835  ]"]
    assert [f"{v:.4f}" for v in expected.ravel()] == ["-0.8011", "-1.6023", "2.1260", "2.8347"]


def test_a_large_product_shows_its_shape_without_numbers():
    graph = gad.trace(lambda x: np.tanh(np.ones((7, 6)) @ x), np.linspace(0, 1, 6))
    (path,) = graph.paths("x")
    assert path.shape == (7, 6)
    assert path.text.splitlines()[-1] == "  (7×7 · 7×6 → 7×6)"


def test_batch_norm_marks_the_path_through_mean_and_variance_with_its_reason():
    paths = batchnorm.loss.paths("x")
    assert paths.total_count == 4
    graph = batchnorm.loss
    mean = next(node for node in graph.nodes if node.op == "mean" and node.inputs[0].op == "input")
    variance = next(node for node in graph.nodes if node.op == "mean" and node is not mean)
    tolerance = paths.tolerance
    reasons = {(mean in path.nodes, variance in path.nodes): path.zero_reason(tolerance)
               for path in paths}
    assert reasons[(False, False)] is None and reasons[(True, False)] is None
    assert reasons[(False, True)] is None
    centred = reasons[(True, True)]  # ∂σ²/∂μ = −(2/N) Σ(xᵢ − μ) = 0
    assert centred.startswith(f"Σ(x − {mean.label}) = 0: ")
    assert f"is centred ({mean.label} is the mean of x)" in centred
    assert paths.text.count("    zero: ") == 1
    assert f"    zero: Σ(x − {mean.label}) = 0" in paths.text
    np.testing.assert_allclose(paths.sum(), graph.grad("x"), atol=1e-12)


def test_an_inactive_relu_is_a_mask_that_is_all_zero():
    paths = neuron.inactive.paths("w")
    assert paths[0].zero_reason() == "the mask [u₂ > 0] of u₃ is all zero"
    assert "    zero: the mask [u₂ > 0] of u₃ is all zero" in paths.text
    assert neuron.active.paths("w")[0].zero_reason() is None


def test_a_zero_constant_is_named():
    graph = gad.trace(lambda x: x * 0.0 + np.sin(x), np.array([1.0, 2.0]))
    reasons = [path.zero_reason() for path in graph.paths("x")]
    assert reasons == ["a zero constant: u₁ = multiply(x, 0) multiplies by 0 = 0", None]


def test_a_tiny_product_without_a_structural_reason_is_numerically_zero():
    graph = gad.trace(lambda x: x * 1e-30 + x, np.array([1.0, 2.0]))
    paths = graph.paths("x")
    assert [path.zero_reason(paths.tolerance) for path in paths] == [
        "numerically zero (|·| < 1e-12)", None]


def test_scalar_graphs_keep_the_one_line_form():
    paths = gad.trace(lambda x: x + x**2, 3.0).paths("x")
    assert paths.scalar
    assert paths.text.splitlines() == ["∂u₂/∂x: 2 paths", "  x → u₁ → u₂: [1] · [2x] = 6",
                                       "  x → u₂: [1] = 1", "  sum = 7"]


def test_the_readme_shows_the_real_vector_paths():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Paths: the chain rule, path by path", 1)[1]
    shown = re.findall(r"```\n(.*?)```", section, re.S)
    paths = gad.trace(vector_chain, np.array([0.5, 1.0])).paths("x")
    assert shown[0].rstrip("\n") == paths.text
    zero_lines = [line for line in batchnorm.loss.paths("x").text.splitlines() if "zero:" in line]
    assert shown[1].rstrip("\n") == zero_lines[0]
