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
        # -- products
        Case("matmul", lambda X, Y: X @ Y, (normal(2, 2, 3), normal(3, 2)), "stack @ matrix"),
        Case("matmul", lambda X, Y: X @ Y, (normal(2, 1, 2, 3), normal(3, 3, 2)),
             "broadcast stacks"),
        Case("einsum", lambda X, Y: np.einsum("ij,jk->ik", X, Y), (A, B), "matrix product"),
        Case("einsum", lambda X: np.einsum("ii", X), (normal(3, 3),), "trace"),
        Case("einsum", lambda X, y: np.einsum("...ij,j->...i", X, y), (normal(2, 2, 3), v),
             "ellipsis"),
        Case("einsum", lambda x, X, y: np.einsum("i,ij,j", x, X, y), (normal(2), A, v),
             "three operands"),
        Case("tensordot", lambda X, Y: np.tensordot(X, Y, axes=([0], [1])),
             (A, normal(4, 2)), "pair axes"),
        Case("dot", lambda X, Y: np.dot(X, Y), (normal(2, 2, 3), normal(2, 3, 2)), "N-d"),
        Case("inner", lambda X, Y: np.inner(X, Y), (A, normal(4, 3)), ""),
        Case("vdot", lambda X, Y: np.vdot(X, Y), (A, normal(3, 2)), ""),
        Case("kron", lambda X, Y: np.kron(X, Y), (A, normal(2, 2)), ""),
        Case("cross", lambda x, y: np.cross(x, y), (normal(2, 3), v), "broadcast"),
        Case("cross", lambda x, y: np.cross(x, y), (with_zero, w), "through 0"),
        # -- linear algebra (square matrices kept well away from singular)
        Case("inv", np.linalg.inv, (normal(3, 3) + 3 * np.eye(3),), ""),
        Case("inv", np.linalg.inv, (normal(2, 2, 2) + 2 * np.eye(2),), "stack"),
        Case("pinv", np.linalg.pinv, (A,), "wide"),
        Case("det", np.linalg.det, (normal(3, 3),), ""),
        Case("det", np.linalg.det, (np.array([[1.0, 2.0], [2.0, 4.0]]),), "singular"),
        Case("logabsdet", lambda X: np.linalg.slogdet(X)[1], (normal(3, 3) + 3 * np.eye(3),),
             ""),
        Case("solve", np.linalg.solve, (normal(3, 3) + 3 * np.eye(3), v), "vector"),
        Case("solve", np.linalg.solve, (normal(2, 3, 3) + 3 * np.eye(3), normal(3, 2)),
             "stack, broadcast matrix"),
        Case("cholesky", np.linalg.cholesky, (A @ A.T + np.eye(2),), ""),
        Case("eigh_values", lambda X: np.linalg.eigh(X)[0], (A.T @ A + np.eye(3),), ""),
        Case("eigh_vectors", lambda X: np.linalg.eigh(X)[1], (A.T @ A + np.eye(3),), ""),
        Case("svd_values", lambda X: np.linalg.svd(X, compute_uv=False), (B,), ""),
        Case("svd_u", lambda X: np.linalg.svd(X, full_matrices=False)[0], (B.T,), "tall"),
        Case("svd_vh", lambda X: np.linalg.svd(X, full_matrices=False)[2], (B,), "wide"),
        Case("eig_values", lambda X: np.linalg.eig(X)[0],
             (np.array([[2.0, 1.0, 0.3], [0.5, 3.0, 1.0], [0.4, 0.2, 5.0]]),), ""),
        Case("eig_vectors", lambda X: np.linalg.eig(X)[1],
             (np.array([[2.0, 1.0, 0.3], [0.5, 3.0, 1.0], [0.4, 0.2, 5.0]]),), ""),
        # -- writes
        Case("set", _assign(slice(0, 2)), (v, normal(2)), "slice"),
        Case("set", _assign(slice(None)), (v, s), "scalar broadcast"),
        Case("set", _assign((slice(None), 1)), (A, normal(2)), "column"),
        Case("set", _assign((slice(None), slice(1, 3))), (A, normal(2)), "row broadcast"),
        Case("set", _assign([0, 0, 2]), (v, normal(3)), "repeated index keeps the last"),
        Case("set", _assign(np.array([True, False, True])), (v, normal(2)), "boolean mask"),
        Case("set", _add_at([1, 1]), (v, s), "x[[1, 1]] += z adds once"),
        Case("copy", lambda x: x.copy(), (A,), ".copy()"),
        Case("copy", np.copy, (v,), "np.copy"),
    ]
    return cases


def _coverage_cases():
    """The element-wise (more) and the reductions-and-scans rows of the table."""
    v, w = normal(3), normal(3)
    A, T = normal(2, 3), normal(2, 3, 4)
    with_zero = np.array([-1.5, 0.0, 2.0])
    off_integers = np.array([-1.7, -0.3, 0.4, 2.6])
    square = normal(3, 3)
    zero_once = np.array([[2.0, 0.0, 3.0], [1.5, -2.0, 0.5]])
    zero_twice = np.array([[0.0, 2.0, 0.0], [1.5, 0.0, 0.5]])
    return [
        # -- element-wise (more)
        Case("arcsinh", np.arcsinh, (with_zero,), ""),
        Case("arccosh", np.arccosh, (positive(3) + 1.0,), ""),
        Case("arctanh", np.arctanh, (with_zero * 0.4,), ""),
        Case("log2", np.log2, (positive(3),), ""),
        Case("log10", np.log10, (positive(2, 2),), ""),
        Case("exp2", np.exp2, (with_zero,), ""),
        Case("cbrt", np.cbrt, (np.array([-1.5, 0.3, 2.0]),), ""),
        Case("deg2rad", np.deg2rad, (v,), ""),
        Case("deg2rad", np.radians, (A,), "radians"),
        Case("rad2deg", np.rad2deg, (v,), ""),
        Case("rad2deg", np.degrees, (A,), "degrees"),
        Case("sinc", np.sinc, (with_zero,), "through 0"),
        Case("abs", np.fabs, (with_zero,), "fabs"),
        Case("nan_to_num", np.nan_to_num, (np.array([1.0, np.inf, np.nan, -np.inf]),), ""),
        Case("nan_to_num", lambda x: np.nan_to_num(x, nan=2.0, posinf=9.0), (v,), "finite"),
        Case("sign", np.sign, (with_zero + 0.25,), ""),
        Case("floor", np.floor, (off_integers,), ""),
        Case("ceil", np.ceil, (off_integers,), ""),
        Case("rint", np.rint, (off_integers,), ""),
        Case("trunc", np.trunc, (off_integers,), ""),
        Case("trunc", np.fix, (off_integers,), "fix"),
        Case("round", lambda x: np.round(x, 1), (off_integers + 0.01,), "decimals"),
        Case("round", lambda x: x.round(), (off_integers,), "method"),
        Case("angle", np.angle, (with_zero + 0.25,), ""),
        Case("imag", np.imag, (v,), ""),
        Case("floor_divide", lambda x, y: x // y, (off_integers, positive(4)), ""),
        Case("arctan2", np.arctan2, (v, w), ""),
        Case("arctan2", np.arctan2, (v, positive()), "scalar expansion"),
        Case("hypot", np.hypot, (v, w), ""),
        Case("hypot", np.hypot, (A, normal(3)), "row broadcast"),
        Case("logaddexp", np.logaddexp, (v, w), ""),
        Case("logaddexp", np.logaddexp, (A, normal(2, 1)), "column broadcast"),
        Case("logaddexp2", np.logaddexp2, (v, w), ""),
        Case("fmax", np.fmax, (v, w), ""),
        Case("fmax", np.fmax, (np.array([np.nan, 1.0, 2.0]), np.array([0.5, np.nan, 1.0])),
             "past NaN"),
        Case("fmin", np.fmin, (v, normal()), "with a scalar"),
        Case("remainder", lambda x: x % 2.0, (off_integers,), "%"),
        Case("remainder", np.mod, (off_integers * 3, np.array([2.5, -2.5, 1.5, -0.7])),
             "both traced, signs"),
        Case("fmod", np.fmod, (off_integers * 3, np.array([2.5, -2.5, 1.5, -0.7])), ""),
        Case("copysign", np.copysign, (with_zero + 0.25, np.array([1.0, -2.0, -0.5])), ""),
        Case("float_power", np.float_power, (positive(3), normal(3)), ""),
        Case("float_power", lambda x: np.float_power(x, 3), (with_zero,), "cube through 0"),
        # -- reductions and scans
        Case("prod", np.prod, (A,), "all"),
        Case("prod", lambda x: x.prod(axis=0, keepdims=True), (A,), "axis 0 keepdims"),
        Case("prod", lambda x: np.prod(x, axis=1), (zero_once,), "one zero"),
        Case("prod", np.prod, (zero_twice,), "several zeros"),
        Case("prod", lambda x: np.prod(x, axis=(0, 2)), (T,), "two axes"),
        Case("var", np.var, (A,), "all"),
        Case("var", lambda x: x.var(axis=1, ddof=1, keepdims=True), (A,), "ddof keepdims"),
        Case("std", np.std, (A,), "all"),
        Case("std", lambda x: np.std(x, axis=0, ddof=1), (T,), "axis ddof"),
        Case("average", lambda x, w: np.average(x, weights=w), (A, positive(2, 3)), "all"),
        Case("average", lambda x, w: np.average(x, axis=1, weights=w), (A, positive(3)),
             "1-d weights"),
        Case("average", lambda x, w: np.average(x, axis=0, weights=w, keepdims=True),
             (T, positive(2)), "1-d weights keepdims"),
        Case("ptp", np.ptp, (A,), "all"),
        Case("ptp", lambda x: np.ptp(x, axis=1), (T,), "axis"),
        Case("trace", np.trace, (square,), ""),
        Case("trace", lambda x: x.trace(1), (A,), "offset"),
        Case("trace", lambda x: np.trace(x, -1, 2, 0), (T,), "axes 2 and 0"),
        Case("cumsum", np.cumsum, (A,), "flattened"),
        Case("cumsum", lambda x: x.cumsum(axis=1), (T,), "axis 1"),
        Case("cumprod", lambda x: np.cumprod(x, axis=1), (zero_twice,), "zeros"),
        Case("cumprod", np.cumprod, (T,), "flattened"),
        Case("norm", np.linalg.norm, (v,), "2"),
        Case("norm", lambda x: np.linalg.norm(x, 1, axis=1), (A,), "1"),
        Case("norm", lambda x: np.linalg.norm(x, np.inf, axis=0), (A,), "inf"),
        Case("norm", lambda x: np.linalg.norm(x, -np.inf), (v,), "-inf"),
        Case("norm", lambda x: np.linalg.norm(x, 3, axis=-1, keepdims=True), (T,), "3"),
        Case("norm", lambda x: np.linalg.norm(x, 0.5), (positive(3),), "0.5"),
        Case("norm", lambda x: np.linalg.norm(x, 0), (v,), "0"),
        Case("norm", np.linalg.norm, (A,), "fro"),
        Case("norm", lambda x: np.linalg.norm(x, "nuc"), (square,), "nuc"),
        Case("norm", lambda x: np.linalg.norm(x, 2), (A,), "spectral"),
        Case("norm", lambda x: np.linalg.norm(x, -2), (square,), "-2"),
        Case("norm", lambda x: np.linalg.norm(x, 1), (A,), "matrix 1"),
        Case("norm", lambda x: np.linalg.norm(x, -1), (square,), "matrix -1"),
        Case("norm", lambda x: np.linalg.norm(x, np.inf, axis=(2, 1)), (T,), "matrix inf"),
        Case("norm", lambda x: np.linalg.norm(x, -np.inf, keepdims=True), (A,), "matrix -inf"),
        Case("norm", lambda x: np.linalg.norm(x, "fro", axis=(0, 2)), (T,), "fro 3-d"),
        Case("norm", np.linalg.norm, (T,), "flattened"),
    ]


def _assign(key):
    """x with x[key] = v (on a copy: the input itself stays as it was)."""

    def assign(x, v):
        out = x * 1.0
        out[key] = v
        return out

    return assign


def _add_at(key):
    def add_at(x, v):
        out = x * 1.0
        out[key] += v
        return out

    return add_at


CASES = _cases() + _coverage_cases()


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
                                  "selection", "reshape", "permutation", "contraction",
                                  "linalg", "scan"}


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
