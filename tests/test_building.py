"""Building arrays and choosing the inputs: np.array of traced values, astype, integer and
boolean arguments as constants, ``wrt=``, and the error messages and ``graphviz-ad ops``
table that go with them."""

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

import graphviz_ad as gad
from graphviz_ad import cli, ops
from tests.numeric import central_difference

ROOT = Path(__file__).resolve().parent.parent
NUMPY_ARRAY = np.array  # numpy's own: trace() swaps the module's name only while it runs


# -- np.array of traced values --------------------------------------------------------------------


def test_np_array_of_traced_values_and_numbers_is_one_node():
    def f(a, b):
        return np.array([a, 2.0 * b, 3.0])

    graph = gad.trace(f, 1.5, -0.5)
    assert_allclose(graph.value, [1.5, -1.0, 3.0])
    (node,) = [node for node in graph.nodes if node.op == "array"]
    assert [operand.label for operand in node.inputs] == ["a", "u₁"]
    assert node.jacobian(0).rule == "[I; 0]" and node.jacobian(1).rule == "[0; I]"
    assert_allclose(graph.jacobian("b"), [0.0, 2.0, 0.0])


def test_nested_lists_of_vectors_scalars_and_numbers():
    def f(v, s):
        return np.asarray([[v[0], s, 1.0], v * s, [0.0, 2.0, s]])

    v, s = np.array([1.0, 2.0, 3.0]), 0.5
    graph = gad.trace(f, v, s)
    assert graph.value.shape == (3, 3)
    assert_allclose(graph.value, [[1.0, 0.5, 1.0], [0.5, 1.0, 1.5], [0.0, 2.0, 0.5]])
    assert_allclose(graph.jacobian("v"), central_difference(lambda v: f(v, s), v), atol=1e-9)
    assert_allclose(graph.jacobian("s"), central_difference(lambda s: f(v, s), s), atol=1e-9)


def test_the_same_traced_value_twice_has_two_edges():
    graph = gad.trace(lambda a: np.sum(np.array([a, a]) * np.array([2.0, 3.0])), 1.0)
    (node,) = [node for node in graph.nodes if node.op == "array"]
    assert [operand.label for operand in node.inputs] == ["a", "a"]
    assert graph.grad("a") == 5.0


def test_np_stack_of_lists_mixing_traced_values_and_numbers():
    def f(a, b):
        return np.stack([[a, 1.0], [2.0, b]], axis=1)

    graph = gad.trace(f, 3.0, 4.0)
    assert_allclose(graph.value, [[3.0, 2.0], [1.0, 4.0]])
    assert_allclose(graph.jacobian("b"), [[0.0, 0.0], [0.0, 1.0]])


def test_np_array_options():
    graph = gad.trace(lambda a: np.array([a, 1.0], ndmin=2).sum(), 2.0)
    assert graph.grad("a") == 1.0
    labels = gad.trace(lambda a: np.sum(a * np.array([a, 1.7], dtype=int)), 2.0)
    assert labels.grad("a") == 3.0  # np.array(..., dtype=int) is a constant: [2, 1]
    with pytest.raises(gad.ShapeError, match=r"np\.array of items that do not fit"):
        gad.trace(lambda v: np.array([v, 1.0]), np.ones(2))


def test_numpy_builders_are_numpy_s_own_outside_trace():
    with pytest.raises(ZeroDivisionError):
        gad.trace(lambda a: 1 / 0, 1.0)
    assert np.array is NUMPY_ARRAY and type(np.r_).__name__ == "RClass"
    bound_before = np.array
    with pytest.raises(gad.TraceError, match=r"np\.array as np\.array"):
        gad.trace(lambda a: bound_before([a]), 1.0)


# -- astype ---------------------------------------------------------------------------------------


def test_astype_float_keeps_the_derivative_and_int_is_a_constant():
    def f(x):
        rounded = x.astype(int)  # a constant: no derivative, like np.floor
        assert isinstance(rounded, np.ndarray) and rounded.dtype.kind == "i"
        return np.sum(x.astype(float) * rounded + x.astype(np.float32).astype(np.float64))

    x = np.array([1.5, 2.5, -3.5])
    graph = gad.trace(f, x)
    assert_allclose(graph.grad("x"), [2.0, 3.0, -2.0])
    assert [node.op for node in graph.nodes].count("astype") == 2  # to float32 and back
    assert gad.trace(lambda x: x.astype(bool).sum() + x, 1.0).grad("x") == 1.0
    with pytest.raises(gad.TraceError, match="complex"):
        gad.trace(lambda x: x.astype(complex), 1.0)


# -- integer and boolean arguments ----------------------------------------------------------------


def test_integer_labels_index_as_written():
    def nll(p, y):
        n = p.shape[0]
        return -np.mean(np.log(p[np.arange(n), y]))

    p = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    y = np.array([1, 0, 1])
    graph = gad.trace(nll, p, y)
    assert list(graph.inputs) == ["p"]
    expected = np.zeros_like(p)
    expected[np.arange(3), y] = -1 / (3 * p[np.arange(3), y])
    assert_allclose(graph.grad("p"), expected)


def test_boolean_masks_and_integer_counts_are_constants():
    def f(x, mask, k, scale):
        return np.sum(x[mask] ** k) * scale

    graph = gad.trace(f, np.array([1.0, 2.0, 3.0]), np.array([True, False, True]), 2, 0.5)
    assert list(graph.inputs) == ["x", "scale"]
    assert_allclose(graph.grad("x"), [1.0, 0.0, 3.0])


def test_containers_mix_inputs_and_constants():
    def f(batch):
        return np.sum(batch["x"][batch["index"]])

    graph = gad.trace(f, {"x": np.array([1.0, 2.0]), "index": np.array([1, 1])})
    assert list(graph.inputs) == ["batch['x']"]
    assert_allclose(graph.grad("batch['x']"), [0.0, 2.0])


# -- wrt= -----------------------------------------------------------------------------------------


def layer(W, b, x, mode="relu"):
    z = W @ x + b
    return np.sum(np.maximum(z, 0.0) if mode == "relu" else z)


def test_wrt_chooses_the_inputs_and_the_others_are_named_constants():
    W, b, x = np.array([[1.0, -2.0], [0.5, 1.0]]), np.array([0.1, -0.2]), np.array([1.0, 2.0])
    graph = gad.trace(layer, W, b, x, wrt=("W", "b"))
    assert list(graph.inputs) == ["W", "b"]
    held = [node for node in graph.nodes if node.op == "const" and node.name == "x"]
    assert len(held) == 1 and held[0].label == "x"
    assert any(held[0] in node.inputs for node in graph.nodes)  # x's own node, drawn as x
    full = gad.trace(layer, W, b, x)
    assert_allclose(graph.grad("W"), full.grad("W"))
    assert_allclose(graph.grad("b"), full.grad("b"))


def test_wrt_is_keyword_only_and_leaves_the_function_s_keywords_alone():
    W, b, x = np.eye(2), np.zeros(2), np.array([1.0, -1.0])
    graph = gad.trace(layer, W, b, x, mode="linear", wrt="x")
    assert list(graph.inputs) == ["x"]
    assert_allclose(graph.grad("x"), [1.0, 1.0])


def test_wrt_by_parameter_takes_every_item():
    def loss(params, x):
        return np.sum(params["W"] @ x + params["b"])

    graph = gad.trace(loss, {"W": np.eye(2), "b": np.zeros(2)}, np.ones(2), wrt="params")
    assert list(graph.inputs) == ["params['W']", "params['b']"]


def test_wrt_mistakes_are_errors():
    W, b, x = np.eye(2), np.zeros(2), np.ones(2)
    with pytest.raises(gad.TraceError, match=r"wrt='V' is not an argument of layer.*'W'"):
        gad.trace(layer, W, b, x, wrt="V")
    with pytest.raises(gad.TraceError, match=r"integers and booleans are constants.*astype"):
        gad.trace(lambda x, y: x[y].sum(), np.ones(2), np.array([0, 1]), wrt=("x", "y"))


# -- errors ---------------------------------------------------------------------------------------


def test_unsupported_function_names_itself_the_line_and_one_thing_to_do():
    def f(x):
        return np.median(x)  # the offending line

    with pytest.raises(gad.UnsupportedOperation) as error:
        gad.trace(f, np.ones(3))
    message = str(error.value)
    assert message.startswith("np.median at test_building.py:")
    assert "np.sort" in message  # the rewrite
    assert "np.tanh" not in message and "Supported" not in message  # no list of names

    with pytest.raises(gad.UnsupportedOperation) as error:
        gad.trace(lambda x: np.fft.fft(x), np.ones(4))
    assert "np.fft.fft at test_building.py:" in str(error.value)
    assert "graphviz-ad ops" in str(error.value)


def test_a_missing_array_method_is_unsupported_with_the_line_not_an_attribute_error():
    with pytest.raises(gad.UnsupportedOperation,
                       match=r"ndarray\.compress on the traced value x at test_building\.py:\d+"):
        gad.trace(lambda x: x.compress([True, False]), np.ones(2))
    with pytest.raises(AttributeError):
        gad.trace(lambda x: x.no_such_attribute, np.ones(2))


# -- graphviz-ad ops and docs/operations.md -------------------------------------------------------


def test_ops_command_prints_the_table(capsys):
    assert cli.main(["ops"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("graphviz-ad differentiates ")
    flip = next(line for line in out.splitlines() if line.strip().startswith("np.flip "))
    assert "gather: P (flip)" in flip
    assert "np.array" in out and "x @ y" in out and "no derivative" in out


def test_ops_table_rows_are_traced_facts():
    table = ops.table()
    rows = {name: row for row in table.functions for name in row.names}
    assert rows["np.sort"].primitives == ("gather",)
    assert rows["np.sort"].kinds == ("permutation",)
    assert rows["np.tile"].rules == ("[I; I] (tile 2)",)
    assert rows["np.exp"].rules == ("diag(exp(x))",)
    assert rows["np.abs"] is rows["np.absolute"]  # aliases share one row
    assert "np.argmax" in table.plain
    assert table.count > 90


def test_docs_operations_md_is_the_generated_table():
    checked_in = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert checked_in == ops.markdown(), (
        "docs/operations.md is out of date: python -m graphviz_ad.ops --markdown "
        "docs/operations.md")
