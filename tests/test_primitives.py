"""Every entry of the primitive table against central finite differences.

For each primitive, small programs that use it (with broadcasting, scalars, matrices and
points at 0 or on a boundary where the derivative exists) are traced; every node of that op
has its local Jacobian checked three ways: the dense ``matrix()``, ``vjp`` and ``jvp``
(single and batched) must all agree with finite differences of the primitive's forward.
"""

from dataclasses import dataclass

import numpy as np
import pytest

import graphviz_ad as gad
from graphviz_ad.primitives import Diag
from tests.numeric import node_numeric_matrix

rng = np.random.default_rng(7)


def normal(*shape):
    return rng.normal(size=shape)


def positive(*shape):
    return rng.uniform(0.5, 2.0, size=shape)


@dataclass
class Case:
    op: str
    function: object
    args: tuple
    note: str = ""

    def __str__(self):
        return f"{self.op}:{self.note}"


def _cases():
    v, w, s = normal(3), normal(3), normal()
    A, B = normal(2, 3), normal(3, 4)
    with_zero = np.array([-1.5, 0.0, 2.0])
    cases = [
        Case("add", lambda x, y: x + y, (v, w), "same shape"),
        Case("add", lambda x, z: x + z, (v, s), "scalar expansion"),
        Case("add", lambda x, b: x + b, (A, normal(3)), "row broadcast"),
        Case("add", lambda x, b: x + b, (normal(2, 1), normal(1, 3)), "outer broadcast"),
        Case("subtract", lambda x, y: x - y, (v, w), "same shape"),
        Case("subtract", lambda z, x: z - x, (s, v), "scalar minus vector"),
        Case("multiply", lambda x, y: x * y, (v, w), "hadamard"),
        Case("multiply", lambda x, z: x * z, (v, s), "scalar expansion"),
        Case("multiply", lambda x, y: x * y, (A, normal(2, 1)), "column broadcast"),
        Case("multiply", lambda x: x * x, (with_zero,), "same operand twice"),
        Case("divide", lambda x, y: x / y, (v, positive(3)), "hadamard"),
        Case("divide", lambda x, z: x / z, (v, positive()), "by a scalar"),
        Case("divide", lambda z, x: z / x, (s, positive(3)), "scalar by vector"),
        Case("power", lambda x: x**2, (with_zero,), "square through 0"),
        Case("power", lambda x: x**3, (with_zero,), "cube through 0"),
        Case("power", lambda x: x**0.5, (positive(3),), "square root"),
        Case("power", lambda x, y: x**y, (positive(3), normal(3)), "array exponent"),
        Case("power", lambda z, x: z**x, (positive(), normal(3)), "scalar base"),
        Case("maximum", lambda x, y: np.maximum(x, y), (v, w), "two arrays"),
        Case("maximum", lambda x: np.maximum(0, x), (with_zero + 0.25,), "relu off the kink"),
        Case("maximum", lambda x: np.maximum(x, x * 1.0), (v,), "tie shares ½–½"),
        Case("minimum", lambda x, y: np.minimum(x, y), (v, w), "two arrays"),
        Case("minimum", lambda x, z: np.minimum(x, z), (v, s), "with a scalar"),
        Case("negative", lambda x: -x, (v,), ""),
        Case("exp", np.exp, (v,), ""),
        Case("log", np.log, (positive(3),), ""),
        Case("sqrt", np.sqrt, (positive(2, 2),), ""),
        Case("sin", np.sin, (with_zero,), ""),
        Case("cos", np.cos, (with_zero,), ""),
        Case("tan", np.tan, (with_zero * 0.5,), ""),
        Case("tanh", np.tanh, (with_zero,), ""),
        Case("sinh", np.sinh, (with_zero,), ""),
        Case("cosh", np.cosh, (with_zero,), ""),
        Case("arctan", np.arctan, (with_zero,), ""),
        Case("arcsin", np.arcsin, (with_zero * 0.4,), ""),
        Case("arccos", np.arccos, (with_zero * 0.4,), ""),
        Case("log1p", np.log1p, (positive(3),), ""),
        Case("expm1", np.expm1, (with_zero,), ""),
        Case("abs", np.abs, (with_zero,), "through 0 (subgradient 0)"),
        Case("where", lambda x, y: np.where(x > 0, x, y), (with_zero, w), ""),
        Case("where", lambda x, z: np.where(x > 0, x, z), (v, s), "scalar branch"),
        Case("matmul", lambda x, y: x @ y, (v, w), "vector · vector"),
        Case("matmul", lambda W, x: W @ x, (A, v), "matrix @ vector"),
        Case("matmul", lambda x, W: x @ W, (normal(2), A), "vector @ matrix"),
        Case("matmul", lambda X, Y: X @ Y, (A, B), "matrix @ matrix"),
        Case("matmul", lambda x, y: np.dot(x, y), (A, B), "np.dot"),
        Case("sum", np.sum, (A,), "all"),
        Case("sum", lambda x: x.sum(axis=0), (A,), "axis 0"),
        Case("sum", lambda x: np.sum(x, axis=-1, keepdims=True), (A,), "keepdims"),
        Case("mean", np.mean, (A,), "all"),
        Case("mean", lambda x: x.mean(axis=1), (A,), "axis 1"),
        Case("max", np.max, (A,), "all"),
        Case("max", lambda x: x.max(axis=0, keepdims=True), (A,), "axis 0"),
        Case("min", lambda x: np.min(x, axis=1), (A,), "axis 1"),
        Case("transpose", lambda x: x.T, (A,), ".T"),
        Case("transpose", lambda x: np.transpose(x, (1, 2, 0)), (normal(2, 3, 2),), "3-d"),
        Case("reshape", lambda x: x.reshape(3, 2), (A,), ""),
        Case("reshape", np.ravel, (A,), "ravel"),
        Case("index", lambda x: x[1:], (v,), "slice"),
        Case("index", lambda x: x[1, ::2], (A,), "int and step"),
        Case("index", lambda x: x[[0, 0, 2]], (v,), "repeated fancy index"),
        Case("index", lambda x: x[x > 0], (with_zero,), "boolean mask"),
        Case("index", lambda x: x[None, ..., 1], (A,), "newaxis and ellipsis"),
        Case("index", lambda x: x[[0, 1], :, [1, 0]], (normal(2, 3, 2),), "split fancy"),
        Case("concatenate", lambda x, y: np.concatenate([x, y]), (v, w), ""),
        Case("concatenate", lambda x, y: np.concatenate([x, y], axis=1), (A, normal(2, 2)), ""),
        Case("stack", lambda x, y: np.stack([x, y]), (v, w), ""),
        Case("stack", lambda x, y: np.stack([x, y], axis=-1), (A, A * 2), "last axis"),
    ]
    return cases


def _shape_and_selection_cases():
    v, A = normal(4), normal(2, 3)
    ties = np.array([2.0, -1.0, 2.0, 0.0, -1.0])
    return [
        Case("gather", np.flip, (A,), "flip"),
        Case("gather", lambda x: np.roll(x, 2), (v,), "roll"),
        Case("gather", lambda x: np.tile(x, (2, 1)), (A,), "tile"),
        Case("gather", lambda x: np.repeat(x, [1, 0, 2], axis=1), (A,), "repeat, one dropped"),
        Case("gather", lambda x: np.pad(x, (1, 2), constant_values=3.0), (v,), "pad constant"),
        Case("gather", lambda x: np.pad(x, 2, mode="reflect"), (A,), "pad reflect"),
        Case("gather", lambda x: np.pad(x, 1, mode="edge"), (A,), "pad edge"),
        Case("gather", np.diag, (v,), "diag of a vector"),
        Case("gather", np.tril, (normal(3, 3),), "tril"),
        Case("gather", lambda x: np.take(x, [0, 0, 3]), (v,), "take repeated"),
        Case("gather", np.sort, (ties,), "sort with ties"),
        Case("gather", lambda x: np.sort(x, axis=0), (A,), "sort axis 0"),
        Case("gather", lambda x: np.partition(x, 2), (ties,), "partition with ties"),
        Case("gather", lambda x: np.rot90(x), (A,), "rot90"),
        Case("gather", lambda x: np.pad(x, 1), (np.zeros((0, 2)),), "pad of an empty array"),
        Case("broadcast_to", lambda x: np.broadcast_to(x, (2, 3)), (normal(3),), ""),
        Case("broadcast_to", lambda x: np.broadcast_to(x, (4,)), (normal(),), "scalar"),
        Case("array", lambda x, y: np.array([x, 2.0, y]), (normal(), normal()), "numbers"),
        Case("array", lambda x, y: np.array([x, [1.0, 2.0, 3.0], y]), (normal(3), normal(3)),
             "rows"),
        Case("array", lambda x: np.asarray([[x[0], 0.0], [0.0, x[1]]]), (normal(2),), "nested"),
        Case("astype", lambda x: x.astype(np.float64), (normal(3).astype(np.float32),),
             "float32 to float64"),
    ]


CASES = _cases() + _shape_and_selection_cases()


def test_every_primitive_has_a_case():
    assert {case.op for case in CASES} == set(gad.PRIMITIVES)


def _nodes_of(case):
    graph = gad.trace(case.function, *case.args)
    nodes = [node for node in graph.nodes if node.op == case.op]
    assert nodes, f"{case} recorded no {case.op} node"
    return nodes


def assert_jacobian_matches(node, i):
    """Compare ∂node/∂input i with finite differences: matrix, vjp, jvp, batched."""
    local = node.jacobian(i)
    numeric = node_numeric_matrix(node, i)
    dense = local.matrix()
    assert dense.shape == local.shape == numeric.shape
    np.testing.assert_allclose(dense, numeric, rtol=1e-5, atol=1e-7, err_msg=f"{node} arg {i}")

    out_shape, in_shape = np.shape(node.value), np.shape(node.inputs[i].value)
    g = rng.normal(size=(3, *out_shape))
    v = rng.normal(size=(3, *in_shape))
    for k in range(3):
        vjp = np.asarray(local.vjp(g[k]))
        jvp = np.asarray(local.jvp(v[k]))
        assert vjp.shape == in_shape and jvp.shape == out_shape
        np.testing.assert_allclose(vjp.ravel(), g[k].ravel() @ dense, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(jvp.ravel(), dense @ v[k].ravel(), rtol=1e-9, atol=1e-12)
    batched_vjp = np.asarray(local.vjp(g)).reshape(3, -1)
    batched_jvp = np.asarray(local.jvp(v)).reshape(3, -1)
    np.testing.assert_allclose(batched_vjp, g.reshape(3, -1) @ dense, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(batched_jvp, v.reshape(3, -1) @ dense.T, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_local_jacobian_against_finite_differences(case):
    for node in _nodes_of(case):
        for i in range(len(node.inputs)):
            assert_jacobian_matches(node, i)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule_text_and_kind(case):
    for node in _nodes_of(case):
        for i in range(len(node.inputs)):
            local = node.jacobian(i)
            assert local.rule and "{" not in local.rule, local.rule
            assert local.kind in {"identity", "diagonal", "broadcast", "reduce", "matmul",
                                  "selection", "reshape", "permutation"}


def test_a_wrong_rule_is_caught(monkeypatch):
    """The checker is not vacuous: claim d sin(x)/dx = sin(x) and it must fail."""
    wrong = Diag(lambda x, out: np.sin(x), "sin {x}")
    broken = gad.PRIMITIVES["sin"].__class__(
        "sin", "sin", np.sin, (wrong,), False
    )
    monkeypatch.setitem(gad.PRIMITIVES, "sin", broken)
    (node,) = _nodes_of(Case("sin", np.sin, (np.array([0.3, 1.2]),)))
    with pytest.raises(AssertionError):
        assert_jacobian_matches(node, 0)


def test_kink_conventions():
    """max(0, z) has derivative 0 at z = 0 (MATH.md); a tie between two traced values
    shares it; |x| has subgradient 0 at 0; max over an axis shares among ties."""
    relu = gad.trace(lambda z: np.maximum(0, z), np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(relu.jacobian("z"), np.diag([0.0, 0.0, 1.0]))
    relu_flipped = gad.trace(lambda z: np.maximum(z, 0.0), 0.0)
    assert relu_flipped.grad("z") == 0.0
    assert gad.trace(lambda x: np.maximum(x, x), 1.0).grad("x") == 1.0
    assert gad.trace(lambda x: np.abs(x), 0.0).grad("x") == 0.0
    tied = gad.trace(lambda x: np.max(x), np.array([1.0, 3.0, 3.0]))
    np.testing.assert_array_equal(tied.grad("x"), [0.0, 0.5, 0.5])
    # x⁰ is constant, even at 0 (not 0 · 0⁻¹ = NaN); a NaN is the max, and gets the slope
    assert gad.trace(lambda x: x**0, 0.0).grad("x") == 0.0
    nan_max = gad.trace(lambda x: x.max(), np.array([np.nan, 1.0]))
    np.testing.assert_array_equal(nan_max.grad("x"), [1.0, 0.0])


def test_jacobians_are_structured_not_dense():
    """A long element-wise vector keeps O(n) local Jacobians (a dense one would be n²)."""
    n = 1_000_000
    graph = gad.trace(lambda x: np.sum(np.tanh(x) * 2.0 + x), np.linspace(-1, 1, n))
    tanh = next(node for node in graph.nodes if node.op == "tanh")
    local = tanh.jacobian(0)
    assert local.kind == "diagonal" and local.shape == (n, n)
    assert np.size(local.factor) == n
    np.testing.assert_allclose(graph.grad("x"), 2 * (1 - np.tanh(graph.inputs["x"].value) ** 2) + 1)
