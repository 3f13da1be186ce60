"""'Why is this gradient zero?': each kind of reason on a small function that has it."""

import numpy as np
import pytest

import graphviz_ad as gad

W = np.array([1.0, -2.0, 0.5])
X = np.array([3.0, 1.0, 2.0])


def neuron(w, x, b):
    return np.maximum(0, w @ x + b)


def line_of(function, offset=1):
    return f"test_explain.py:{function.__code__.co_firstlineno + offset}"


def kinds(explanation):
    return [reason.kind for reason in explanation.reasons]


def test_inactive_neuron_names_the_relu_and_its_line():
    graph = gad.trace(neuron, W, X, -3.0)
    for name in ("w", "b"):
        explanation = graph.explain(name)
        assert explanation.is_zero and kinds(explanation) == ["inactive_relu"]
        reason = explanation.reasons[0]
        assert reason.node is graph.output and reason.node.op == "maximum"
        assert line_of(neuron) in reason.text
        assert "= −1 ≤ 0" in reason.text
        assert "is zero because" in explanation.text


def test_active_neuron_is_not_zero():
    graph = gad.trace(neuron, W, X, 0.25)
    explanation = graph.explain("w")
    assert explanation.reasons == () and explanation.zero_count == 0
    np.testing.assert_array_equal(explanation.gradient, [3.0, 1.0, 2.0])
    assert "is not zero" in explanation.text


def test_debugger_explain_is_the_same_function():
    graph = gad.trace(neuron, W, X, -3.0)
    assert kinds(gad.Debugger(graph).explain("b")) == kinds(graph.explain("b"))


def test_input_used_only_in_a_comparison():
    def gate(x, y):
        return np.where(x > 0, y, 0.0)

    explanation = gad.trace(gate, 1.0, 2.0).explain("x")
    assert kinds(explanation) == ["unused"]
    assert "comparison" in explanation.text


def test_input_feeding_only_values_the_output_ignores():
    def wasteful(x, y):
        unused = np.sin(x)  # noqa: F841  (computed and dropped on purpose)
        return y * 2

    explanation = gad.trace(wasteful, 1.0, 2.0).explain("x")
    assert kinds(explanation) == ["no_path"]
    assert "sin(x)" in explanation.text and line_of(wasteful) in explanation.text


def test_constant_output():
    explanation = gad.trace(lambda x: np.ones(2).sum(), 1.0).explain("x")
    assert kinds(explanation) == ["no_path"] and "returns a constant" in explanation.text


def test_fan_out_whose_contributions_cancel():
    explanation = gad.trace(lambda x: x * 3 - x * 3, 2.0).explain("x")
    assert kinds(explanation) == ["cancel"]
    assert "3" in explanation.text and "−3" in explanation.text


def test_broadcast_whose_contributions_cancel():
    def shifted(x, b):
        return np.sum((x + b) * np.array([1.0, -1.0]))

    graph = gad.trace(shifted, np.ones(2), 0.5)
    explanation = graph.explain("b")
    assert kinds(explanation) == ["cancel"]
    assert explanation.reasons[0].node.op == "add" and "broadcast" in explanation.text
    assert graph.grad("b") == 0.0 and not np.any(graph.grad("x") == 0)


def test_where_takes_the_other_branch():
    def pick(x):
        return np.where(x > 5, np.sin(x), 1.0) * x

    explanation = gad.trace(pick, np.array(2.0)).explain("u₁")  # the sin node
    assert kinds(explanation) == ["other_branch"]


def test_multiplied_by_zero():
    explanation = gad.trace(lambda x, y: np.sin(x) * 0.0 + y, 1.0, 2.0).explain("x")
    assert kinds(explanation) == ["zero_factor"]


def test_clamped_by_clip_and_explaining_a_constant():
    graph = gad.trace(lambda x: np.clip(x, -1.0, 1.0) * 2, 3.0)
    assert kinds(graph.explain("x")) == ["clamped"]
    constant = next(node for node in graph.nodes if node.op == "const")
    assert kinds(graph.explain(constant)) == ["constant"]


def test_partly_zero_gradient_counts_the_inactive_elements():
    graph = gad.trace(lambda x: np.sum(np.maximum(0, x) ** 2), np.array([1.0, -1.0, 2.0, -3.0]))
    explanation = graph.explain("x")
    assert explanation.zero_count == 2 and not explanation.is_zero
    assert kinds(explanation) == ["inactive_relu"]
    assert "2 of 4 elements" in explanation.text


def test_selection_leaves_other_elements_without_gradient():
    explanation = gad.trace(lambda x: x[0] * 3, np.arange(4.0)).explain("x")
    assert explanation.zero_count == 3 and kinds(explanation) == ["not_selected"]


def test_non_scalar_output_needs_a_seed():
    graph = gad.trace(lambda x: np.maximum(0, x), np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="needs a seed"):
        graph.explain("x")
    assert graph.explain("x", seed=np.ones(2)).zero_count == 1
