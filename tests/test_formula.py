"""The gradient as a formula: the sum over paths of the products of the rules, checked as
text against MATH.md's closed forms and as numbers against the traced gradient."""

import builtins
import doctest
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

import graphviz_ad as gad
from graphviz_ad.examples import batchnorm, mse_loss, neuron, scalar_rules, total_derivative
from tests.random_programs import programs


def test_the_neuron_reads_as_the_mask_times_x_transposed():
    # MATH.md: ∂activation/∂w = xᵀ if z > 0 else 0ᵀ, ∂activation/∂b = 1 if z > 0 else 0
    formula = neuron.active.formula("w")
    assert str(formula) == formula.text == "∂u₃/∂w = [u₂ > 0] xᵀ   where u₂ = w·x + b"
    assert formula.latex == (r"\frac{\partial u_{3}}{\partial w} = [u_{2} > 0] x^\top"
                             r" \quad\text{where } u_{2} = w\cdot x + b")
    np.testing.assert_array_equal(formula.evaluate(), [3.0, 1.0, 2.0])
    np.testing.assert_array_equal(neuron.inactive.formula("w").evaluate(), [0.0, 0.0, 0.0])
    assert neuron.active.formula("b").text == "∂u₃/∂b = [u₂ > 0]   where u₂ = w·x + b"
    assert neuron.active.formula("b").evaluate() == 1.0
    assert neuron.inactive.formula("b").evaluate() == 0.0


def test_the_mse_loss_is_the_closed_form_over_active_samples():
    # MATH.md: ∂C/∂w = (2/N) Σᵢ eᵢ xᵢᵀ and ∂C/∂b = (2/N) Σᵢ eᵢ over the samples with zᵢ > 0,
    # eᵢ = w·xᵢ + b − yᵢ.  The formula writes the active samples as the mask [zᵢ > 0]
    # (z = u₂ = X w + b), under which y − max(0, z) is −e.
    graph = mse_loss.loss
    where = "   where e = u₂ − y, u₂ = X w + b, n = 4"
    assert graph.formula("w").text == "∂u₆/∂w = (2/n) Σᵢ [u₂ᵢ > 0] eᵢ xᵢᵀ" + where
    assert graph.formula("b").text == "∂u₆/∂b = (2/n) Σᵢ [u₂ᵢ > 0] eᵢ" + where
    X, y, w, b = mse_loss.X, mse_loss.y, mse_loss.w, mse_loss.b
    z = X @ w + b
    active = z > 0
    errors = z - y
    closed_w = 2 / len(y) * np.sum(errors[active, None] * X[active], axis=0)
    closed_b = 2 / len(y) * np.sum(errors[active])
    np.testing.assert_allclose(graph.formula("w").evaluate(), closed_w, rtol=1e-14)
    np.testing.assert_allclose(graph.formula("b").evaluate(), closed_b, rtol=1e-14)
    np.testing.assert_allclose(graph.formula("w").evaluate(), graph.grad("w"), rtol=1e-14)
    assert graph.formula("w").latex == (
        r"\frac{\partial u_{6}}{\partial w} = (2/n) \sum_i [u_{2,i} > 0] e_i x_i^\top"
        r" \quad\text{where } e = u_{2} - y, u_{2} = X w + b, n = 4")


def test_the_error_is_named_only_under_the_relus_mask():
    def loss(w, X, y):
        return np.mean((np.maximum(0, X @ w) - y) ** 2)  # the residual the other way round

    X, y = mse_loss.X, mse_loss.y
    graph = gad.trace(loss, mse_loss.w, X, y)
    formula = graph.formula("w")
    assert formula.text == "∂u₅/∂w = (2/n) Σᵢ [u₁ᵢ > 0] eᵢ xᵢᵀ   where e = u₁ − y, u₁ = X w, n = 4"
    np.testing.assert_allclose(formula.evaluate(), graph.grad("w"), rtol=1e-14)
    plain = gad.trace(lambda w, X, y: np.mean((X @ w - y) ** 2), mse_loss.w, X, y)
    assert "e" not in dict(plain.formula("w").definitions)


def test_scalar_chain_rules_are_simplified_by_sympy():
    pytest.importorskip("sympy")
    nested = scalar_rules.nested_chain.formula("x")  # MATH.md: 6x² cos(x³)/sin(x³)
    assert nested.text == ("∂u₄/∂x = 6 (1/u₃) u₂ (cos u₁) x² = 6x²/tan(x³)   where u₁ = x³, "
                           "u₂ = sin(u₁), u₃ = u₂²")
    assert nested.simplified.latex == r"\frac{6 x^{2}}{\tan{\left(x^{3} \right)}}"
    assert nested.evaluate() == pytest.approx(-3.5295615347875318, rel=1e-14)
    value = float(nested.simplified.expression.subs("x", 2.0))
    assert value == pytest.approx(scalar_rules.nested_chain.grad("x"), rel=1e-12)
    assert scalar_rules.chain.formula("x").simplified.text == "2x·cos(x²)"
    partials = scalar_rules.partials
    assert partials.formula("x").simplified.text == "6x·y"  # 6xy = 60 at (2, 5)
    assert partials.formula("y").evaluate() == 12.0


def test_the_total_derivative_adds_its_paths():
    assert total_derivative.sum_of_paths.formula("x").text == "∂u₂/∂x = 2x + 1"
    product = total_derivative.product_of_paths.formula("x")
    assert product.text.startswith("∂u₂/∂x = 2x² + u₁")
    assert product.evaluate() == 27.0


def test_without_sympy_the_unsimplified_text_is_returned(monkeypatch):
    real_import = builtins.__import__

    def no_sympy(name, *args, **kwargs):
        if name == "sympy" or name.startswith("sympy."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sympy)
    formula = scalar_rules.nested_chain.formula("x")
    assert formula.simplified is None
    assert formula.text == ("∂u₄/∂x = 6 (1/u₃) u₂ (cos u₁) x²   where u₁ = x³, u₂ = sin(u₁), "
                            "u₃ = u₂²")


def test_repeated_factors_and_equal_paths_are_combined():
    square = gad.trace(lambda x: x * x, 3.0).formula("x")
    assert square.text == "∂u₁/∂x = 2x" and square.evaluate() == 6.0
    def sine_squared(x):
        s = np.sin(x)
        return s * s

    sine = gad.trace(sine_squared, 0.5).formula("x")
    assert sine.text.startswith("∂u₂/∂x = 2u₁ (cos x)")
    assert sine.evaluate() == pytest.approx(np.sin(1.0), rel=1e-14)
    vector = gad.trace(lambda x: x * x, np.array([1.0, 2.0])).formula("x")
    assert vector.text == "∂u₁/∂x = 2 diag(x)"
    np.testing.assert_array_equal(vector.evaluate(), np.diag([2.0, 4.0]))


def test_shared_factors_are_taken_out_of_the_sum():
    formula = gad.trace(lambda x: np.exp(np.sin(x) + np.cos(x)), 0.3).formula("x")
    assert formula.text.startswith("∂u₄/∂x = exp(u₃) (cos x − sin x) = ")
    assert formula.evaluate() == pytest.approx(
        np.exp(np.sin(0.3) + np.cos(0.3)) * (np.cos(0.3) - np.sin(0.3)), rel=1e-14)


def test_no_path_is_zero_and_too_many_paths_is_refused():
    graph = gad.trace(lambda x, y: y * 2.0, np.ones(2), 4.0)
    assert graph.formula("x").text == "∂u₁/∂x = 0"
    np.testing.assert_array_equal(graph.formula("x").evaluate(), [0.0, 0.0])

    def diamonds(x):
        for _ in range(8):
            x = np.sin(x) + np.cos(x)
        return x

    with pytest.raises(ValueError, match="256 paths, more than limit=64"):
        gad.trace(diamonds, 0.3).formula("x")


@settings(max_examples=60, deadline=None)
@given(programs())
def test_random_programs_formula_evaluates_to_the_traced_derivative(program):
    function, x, s = program
    graph = gad.trace(function, x, s)
    for name in ("x", "s"):
        formula = graph.formula(name, limit=10_000)
        np.testing.assert_allclose(formula.evaluate(), graph.jacobian(name), atol=1e-10)
        if np.size(graph.value) == 1:
            np.testing.assert_allclose(formula.evaluate(), graph.grad(name), atol=1e-10)
        assert formula.text.startswith(f"∂{graph.output.label}/∂{name} = ")


def test_the_readme_shows_real_formulas():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Formulas", 1)[1].split("### Why is this gradient zero?", 1)[0]
    (block,) = [text for text in re.findall(r"```\n(.*?)```", section, re.S) if ">>>" in text]
    test = doctest.DocTestParser().get_doctest(block, {}, "README formulas", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
    assert len(test.examples) == 5


def test_identities_are_written_for_the_shape_and_to_names_any_node():
    assert gad.trace(lambda x: x + x, np.ones(2)).formula("x").text == "∂u₁/∂x = 2I"
    assert gad.trace(lambda x: x + x * 0.5, np.ones(2)).formula("x").text == "∂u₂/∂x = 1.5I"
    assert gad.trace(lambda x: x + x, 1.0).formula("x").text == "∂u₁/∂x = 2"
    graph = gad.trace(lambda x: np.sin(x) * 2 + x, np.array([0.5, 1.0]))
    partial = graph.formula("x", to="u₁")
    assert partial.text == "∂u₁/∂x = diag(cos x)"
    np.testing.assert_allclose(partial.evaluate(), np.diag(np.cos([0.5, 1.0])), rtol=1e-15)
    assert graph.formula("x", to="x").text == "∂x/∂x = I"


@settings(max_examples=40, deadline=None)
@given(programs())
def test_random_scalar_programs_simplify_to_the_traced_gradient(program):
    pytest.importorskip("sympy")
    function, x, s = program
    graph = gad.trace(function, float(x[0]), s)  # every value a number: SymPy simplifies
    for name in ("x", "s"):
        formula = graph.formula(name, limit=10_000)
        assert formula.simplified is not None, formula.text
        values = {node.label: float(node.value) for node in graph.inputs.values()}
        simplified = float(formula.simplified.expression.subs(values))
        assert simplified == pytest.approx(graph.grad(name), rel=1e-9, abs=1e-12)


def test_batch_norm_has_the_tutorials_three_terms():
    graph = batchnorm.loss
    formula = graph.formula("x")
    assert len(formula.terms) == 3  # direct, through μ, through σ²
    ((path, reason),) = formula.omitted  # through μ and then σ²: Σ(x − μ) = 0
    assert path.startswith("x → u₁ → u₂ → u₃ → u₄") and reason.startswith("Σ(x − u₁) = 0")
    assert formula.text.splitlines()[1] == f"  (no term for {path}: {reason})"
    np.testing.assert_allclose(formula.evaluate(), graph.grad("x"), atol=1e-12)
    closed = batchnorm.batchnorm_loss_backward(batchnorm.x, batchnorm.gamma, batchnorm.beta,
                                               batchnorm.target)["x"]
    np.testing.assert_allclose(formula.evaluate(), closed, atol=1e-12)


def test_a_picture_writes_the_formula_in_its_title(capsys):
    from graphviz_ad.cli import main

    dot = neuron.active.to_dot(formula="w")
    assert "∂u₃/∂w = [u₂ &gt; 0] xᵀ   where u₂ = w·x + b" in dot.split("\n")[1]
    assert "where u₂" not in neuron.active.to_dot()
    assert main(["render", "neuron", "--graph", "neuron#1", "--formula", "b", "--format",
                 "dot", "-o", "-"]) == 0
    assert "∂u₃/∂b = [u₂ &gt; 0]" in capsys.readouterr().out
