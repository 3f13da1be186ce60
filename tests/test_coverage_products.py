"""Products of any shape: einsum, tensordot, inner, vdot, kron, cross, outer, and matmul/dot
of stacks of matrices.

Every product node's local Jacobian (an Einsum operator) is checked against central finite
differences (dense matrix, VJP, JVP, batched); whole gradients against HIPS autograd to
1e-10 and, where installed, PyTorch.
"""

from types import SimpleNamespace

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphviz_ad as gad
from tests.test_primitives import assert_jacobian_matches

rng = np.random.default_rng(10)
PRODUCTS = {"einsum", "tensordot", "dot", "inner", "vdot", "kron", "cross", "matmul"}


def normal(*shape):
    return rng.normal(size=shape)


# (id, f(xp, *arrays), arrays): xp is numpy, autograd.numpy or a torch shim
CASES = [
    ("einsum matmul", lambda xp, A, B: xp.einsum("ij,jk->ik", A, B), (normal(2, 3), normal(3, 4))),
    ("einsum implicit", lambda xp, A, B: xp.einsum("ij,jk", A, B), (normal(2, 3), normal(3, 4))),
    ("einsum implicit transpose", lambda xp, A: xp.einsum("ba", A), (normal(2, 3),)),
    ("einsum trace", lambda xp, A: xp.einsum("ii->", A), (normal(3, 3),)),
    ("einsum implicit trace", lambda xp, A: xp.einsum("ii", A), (normal(3, 3),)),
    ("einsum diagonal", lambda xp, A: xp.einsum("ii->i", A), (normal(3, 3),)),
    ("einsum partial diagonal", lambda xp, A: xp.einsum("iji->ij", A), (normal(3, 2, 3),)),
    ("einsum sum all", lambda xp, A: xp.einsum("ij->", A), (normal(2, 3),)),
    ("einsum sum axis", lambda xp, A: xp.einsum("ij->j", A), (normal(2, 3),)),
    ("einsum hadamard", lambda xp, x, y: xp.einsum("i,i->i", x, y), (normal(4), normal(4))),
    ("einsum outer", lambda xp, x, y: xp.einsum("i,j->ij", x, y), (normal(3), normal(2))),
    ("einsum dot", lambda xp, x, y: xp.einsum("i,i", x, y), (normal(4), normal(4))),
    ("einsum batched", lambda xp, A, B: xp.einsum("bij,bjk->bik", A, B),
     (normal(2, 2, 3), normal(2, 3, 4))),
    ("einsum ellipsis broadcast", lambda xp, A, B: xp.einsum("...ij,...jk->...ik", A, B),
     (normal(1, 2, 3), normal(4, 3, 2))),
    ("einsum ellipsis fewer axes", lambda xp, A, x: xp.einsum("...ij,j->...i", A, x),
     (normal(2, 3, 4), normal(4))),
    ("einsum ellipsis implicit", lambda xp, A, B: xp.einsum("...ij,...jk", A, B),
     (normal(3, 2, 3), normal(3, 4))),
    ("einsum ellipsis moved", lambda xp, A: xp.einsum("i...->...i", A), (normal(2, 3, 4),)),
    ("einsum size-1 broadcast", lambda xp, A, B: xp.einsum("ij,ij->ij", A, B),
     (normal(1, 3), normal(2, 3))),
    ("einsum size-1 broadcast summed", lambda xp, A, B: xp.einsum("ij,ij->", A, B),
     (normal(2, 3), normal(1, 3))),
    ("einsum three operands", lambda xp, A, B, c: xp.einsum("ij,jk,k->i", A, B, c),
     (normal(2, 3), normal(3, 4), normal(4))),
    ("einsum bilinear form", lambda xp, x, A, y: xp.einsum("i,ij,j", x, A, y),
     (normal(3), normal(3, 3), normal(3))),
    ("einsum same operand twice", lambda xp, A: xp.einsum("ij,ij->", A, A), (normal(2, 3),)),
    ("einsum uppercase", lambda xp, A, B: xp.einsum("Ab,bC->AC", A, B),
     (normal(2, 3), normal(3, 2))),
    ("einsum four operands", lambda xp, a, B, C, d: xp.einsum("i,ij,jk,k->", a, B, C, d),
     (normal(2), normal(2, 3), normal(3, 2), normal(2))),
    ("tensordot int", lambda xp, A, B: xp.tensordot(A, B, 1), (normal(2, 3), normal(3, 4))),
    ("tensordot default", lambda xp, A, B: xp.tensordot(A, B),
     (normal(2, 3, 4), normal(3, 4, 2))),
    ("tensordot pairs", lambda xp, A, B: xp.tensordot(A, B, axes=([0, 2], [1, 0])),
     (normal(3, 2, 4), normal(4, 3, 5))),
    ("tensordot outer", lambda xp, A, B: xp.tensordot(A, B, 0), (normal(2), normal(3, 2))),
    ("inner vectors", lambda xp, x, y: xp.inner(x, y), (normal(3), normal(3))),
    ("inner N-d", lambda xp, A, B: xp.inner(A, B), (normal(2, 3), normal(4, 2, 3))),
    ("vdot vectors", lambda xp, x, y: xp.vdot(x, y), (normal(4), normal(4))),
    ("vdot matrices", lambda xp, A, B: xp.vdot(A, B), (normal(2, 3), normal(3, 2))),
    ("kron matrices", lambda xp, A, B: xp.kron(A, B), (normal(2, 3), normal(2, 2))),
    ("kron vector matrix", lambda xp, a, B: xp.kron(a, B), (normal(3), normal(2, 2))),
    ("cross 3-vectors", lambda xp, a, b: xp.cross(a, b), (normal(3), normal(3))),
    ("cross broadcast", lambda xp, a, b: xp.cross(a, b), (normal(4, 3), normal(3))),
    ("cross axis", lambda xp, a, b: xp.cross(a, b, axis=0), (normal(3, 2), normal(3, 2))),
    ("cross axisa axisc", lambda xp, a, b: xp.cross(a, b, axisa=0, axisc=0),
     (normal(3, 4), normal(4, 3))),
    ("cross 2-vectors", lambda xp, a, b: xp.cross(a, b), (normal(5, 2), normal(5, 2))),
    ("cross 2 with 3", lambda xp, a, b: xp.cross(a, b), (normal(2), normal(3))),
    ("outer", lambda xp, a, b: xp.outer(a, b), (normal(3), normal(2, 2))),
    ("matmul batched", lambda xp, A, B: A @ B, (normal(2, 2, 3), normal(2, 3, 4))),
    ("matmul broadcast batch", lambda xp, A, B: xp.matmul(A, B),
     (normal(3, 1, 2, 3), normal(4, 3, 2))),
    ("matmul stack @ matrix", lambda xp, A, W: A @ W, (normal(4, 2, 3), normal(3, 2))),
    ("matmul stack @ vector", lambda xp, A, x: A @ x, (normal(4, 2, 3), normal(3))),
    ("matmul vector @ stack", lambda xp, x, A: x @ A, (normal(2), normal(4, 2, 3))),
    ("dot N-d", lambda xp, A, B: xp.dot(A, B), (normal(2, 2, 3), normal(4, 3, 2))),
    ("dot N-d vector", lambda xp, A, x: xp.dot(A, x), (normal(2, 2, 3), normal(3))),
    ("dot vector N-d", lambda xp, x, A: xp.dot(x, A), (normal(3), normal(2, 3, 4))),
]
IDS = [case[0] for case in CASES]


def _traced(function):
    return lambda *arrays: function(np, *arrays)


@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")
@pytest.mark.parametrize("name, function, arrays", CASES, ids=IDS)
def test_forward_matches_numpy(name, function, arrays):
    graph = gad.trace(_traced(function), *arrays)
    np.testing.assert_allclose(graph.value, function(np, *arrays), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, function, arrays", CASES, ids=IDS)
def test_local_jacobians_against_finite_differences(name, function, arrays):
    graph = gad.trace(_traced(function), *arrays)
    products = [node for node in graph.nodes if node.op in PRODUCTS]
    assert products or name == "outer", f"{name} recorded no product"
    for node in products:
        for i in range(len(node.inputs)):
            assert_jacobian_matches(node, i)
            local = node.jacobian(i)
            assert local.kind in ("contraction", "matmul")
            assert local.rule and "{" not in local.rule


# where autograd's own rule is missing or wrong, finite differences and torch are the oracles
AUTOGRAD_GAPS = {
    "einsum trace": "autograd's einsum VJP cannot repeat an index",
    "einsum implicit trace": "autograd's einsum VJP cannot repeat an index",
    "einsum diagonal": "autograd's einsum VJP cannot repeat an index",
    "einsum partial diagonal": "autograd's einsum VJP cannot repeat an index",
    "einsum size-1 broadcast summed": "autograd's einsum VJP keeps the other's size-1 axis",
    "cross broadcast": "autograd's cross VJP does not sum over broadcast vectors",
    "cross 2-vectors": "autograd's cross VJP assumes 3-vectors",
    "cross 2 with 3": "autograd's cross VJP assumes 3-vectors",
    "outer": "autograd's outer VJP assumes vectors",
}
# autograd has no VJP for vdot; its definition (a dot of the flattened arrays) stands in
_AUTOGRAD = SimpleNamespace(**{name: getattr(anp, name) for name in (
    "einsum", "tensordot", "inner", "kron", "cross", "outer", "matmul", "dot", "sum")},
    vdot=lambda a, b: anp.dot(anp.ravel(a), anp.ravel(b)))


@pytest.mark.parametrize("name, function, arrays", CASES, ids=IDS)
def test_gradients_match_autograd(name, function, arrays):
    if name in AUTOGRAD_GAPS:
        pytest.skip(AUTOGRAD_GAPS[name])
    weights = rng.normal(size=np.shape(function(np, *arrays)))

    def loss(xp):
        return lambda *xs: xp.sum(function(xp, *xs) * weights)

    ours = gad.trace(loss(np), *arrays).vjp(1.0)
    for k in range(len(arrays)):
        theirs = autograd.grad(loss(_AUTOGRAD), k)(*arrays)
        np.testing.assert_allclose(ours[f"xs[{k}]"], theirs, rtol=1e-10, atol=1e-12)


def test_forward_and_reverse_jacobians_agree():
    A, B = normal(2, 2, 3), normal(3, 4)
    graph = gad.trace(lambda A, B: np.einsum("...ij,jk->...ki", A, B), A, B)
    for name in ("A", "B"):
        np.testing.assert_allclose(graph.jacobian(name), graph.jacobian(name, "forward"),
                                   rtol=1e-12, atol=1e-12)


def _torch_shim(torch):
    return SimpleNamespace(
        einsum=torch.einsum, matmul=torch.matmul, inner=torch.inner, kron=torch.kron,
        tensordot=lambda a, b, axes=2: torch.tensordot(a, b, dims=axes),
        cross=lambda a, b, axis=-1: torch.linalg.cross(a, b, dim=axis),
        vdot=lambda a, b: torch.sum(a.reshape(-1) * b.reshape(-1)),
        dot=lambda a, b: torch.tensordot(a, b, dims=([-1], [max(b.ndim - 2, 0)])),
        outer=lambda a, b: torch.outer(a.reshape(-1), b.reshape(-1)),
    )


TORCH_CASES = [case for case in CASES if "cross" not in case[0] or "3-vectors" in case[0]
               or case[0] in ("cross broadcast", "cross axis")]


@pytest.mark.parametrize("name, function, arrays", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_gradients_match_torch(name, function, arrays):
    torch = pytest.importorskip("torch")
    shim = _torch_shim(torch)
    weights = rng.normal(size=np.shape(function(np, *arrays)))
    ours = gad.trace(lambda *xs: np.sum(function(np, *xs) * weights), *arrays).vjp(1.0)
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    # torch.linalg.cross wants operands of the same shape
    broadcast = name == "cross broadcast"
    tensors_used = [tensors[0], tensors[1].expand(4, 3)] if broadcast else tensors
    (function(shim, *tensors_used) * torch.tensor(weights)).sum().backward()
    for k, tensor in enumerate(tensors):
        np.testing.assert_allclose(ours[f"xs[{k}]"], tensor.grad.numpy(), rtol=1e-10,
                                   atol=1e-12)


def test_plain_operands_in_any_position():
    """A plain array may sit anywhere among the operands; it becomes a constant node."""
    A, B, c = normal(2, 3), normal(3, 4), normal(4)
    def chain(xp, position):
        def f(x):
            operands = [A, B, c]
            operands[position] = x
            return xp.einsum("ij,jk,k->", *operands)

        return f

    for position, start in enumerate([A, B, c]):
        graph = gad.trace(chain(np, position), start)
        expected = autograd.grad(chain(anp, position))(start)
        np.testing.assert_allclose(graph.grad("x"), expected, rtol=1e-10)
    graph = gad.trace(lambda B: np.sum(np.tensordot(A, B, 1) @ c), B)
    np.testing.assert_allclose(graph.grad("B"), np.outer(A.sum(0), c), rtol=1e-12)
    plain, traced = normal(3, 2), normal(2, 3)  # the plain operand's axis moves too
    graph = gad.trace(lambda b: np.sum(np.cross(plain, b, axisa=0)), traced)
    expected = autograd.grad(lambda b: anp.sum(anp.cross(plain.T, b)))(traced)
    np.testing.assert_allclose(graph.grad("b"), expected, rtol=1e-12)


def test_interleaved_einsum_and_call_text():
    A, B = normal(2, 3), normal(3, 4)
    graph = gad.trace(lambda A, B: np.einsum(A, [0, 1], B, [1, 2], [0, 2]), A, B)
    np.testing.assert_allclose(graph.value, A @ B, rtol=1e-12)
    assert graph.output.call_text == "einsum('AB,BC->AC', A, B)"
    graph = gad.trace(lambda A, B: np.tensordot(A, B, 1), A, B)
    assert graph.output.call_text == "tensordot(A, B, axes=((1,), (0,)))"


def test_rule_texts():
    A, B = normal(2, 3), normal(3, 4)

    def rules(f, *arrays):
        node = gad.trace(f, *arrays).output
        return [node.jacobian(i).rule for i in range(len(node.inputs))]

    assert rules(lambda A, B: np.einsum("ij,jk->ik", A, B), A, B) == [
        "Ḡ ↦ einsum(ik,jk→ij)(Ḡ, B)", "Ḡ ↦ einsum(ik,ij→jk)(Ḡ, A)"]
    assert rules(lambda X: np.einsum("...ii->...", X), normal(2, 3, 3)) == [
        "Ḡ ↦ einsum(…→…ii)(Ḡ)"]
    assert rules(lambda x, y: np.inner(x, y), normal(3), normal(3)) == ["yᵀ", "xᵀ"]
    assert rules(lambda A, B: np.vdot(A, B), A, normal(3, 2)) == ["vec(B)ᵀ", "vec(A)ᵀ"]
    assert rules(lambda a, b: np.cross(a, b), normal(3), normal(3)) == ["−[b]×", "[a]×"]
    assert rules(lambda A, B: A @ B, normal(5, 2, 3), B) == [
        "I ⊗ Bᵀ (for each matrix in the stack)", "A ⊗ I (for each matrix in the stack)"]
    # the 2-d rules are unchanged
    assert rules(lambda A, B: A @ B, A, B) == ["I ⊗ Bᵀ", "A ⊗ I"]
    trace = gad.trace(lambda A, B: np.tensordot(A, B, 1), A, B).output.jacobian(0)
    assert trace.rule == "Ḡ ↦ einsum(ik,jk→ij)(Ḡ, B)" and trace.kind == "contraction"


def test_vjp_is_a_product_not_a_dense_matrix():
    """A 200×300 by 300×400 product: the local Jacobian w.r.t. A would be 80 000 × 60 000
    dense; its VJP is one einsum and never builds it."""
    A, B = normal(200, 300), normal(300, 400)
    graph = gad.trace(lambda A, B: np.einsum("ij,jk->ik", A, B).sum(), A, B)
    local = graph.nodes[2].jacobian(0)
    assert local.shape == (80_000, 60_000)
    np.testing.assert_allclose(graph.grad("A"), np.tile(B.sum(1), (200, 1)), rtol=1e-10)


def test_errors_name_the_operation_and_line():
    with pytest.raises(gad.ShapeError, match=r"einsum.*test_coverage_products.py:\d+"):
        gad.trace(lambda A: np.einsum("ij,jk->ik", A, A), normal(2, 3))
    with pytest.raises(gad.ShapeError, match="names 2 operands but 1"):
        gad.trace(lambda A: np.einsum("ij,jk->ik", A), normal(2, 3))
    with pytest.raises(gad.ShapeError, match=r"cross: vectors of lengths 4 and 3 at .*py:\d+"):
        gad.trace(lambda a, b: np.cross(a, b), normal(4), normal(3))
    with pytest.raises(gad.ShapeError, match="tensordot"):
        gad.trace(lambda A, B: np.tensordot(A, B, axes=([0], [0, 1])), normal(2, 3),
                  normal(2, 3))


@st.composite
def einsum_calls(draw):
    """A random einsum: 1–3 operands over the letters i j k l (each with its own size),
    letters repeated inside an operand (diagonals), size-1 axes that broadcast, and an
    output that is explicit (any order, any subset) or implicit."""
    sizes = {c: draw(st.integers(1, 3)) for c in "ijkl"}
    operands = draw(st.lists(st.text("ijkl", max_size=3), min_size=1, max_size=3))
    shapes = []
    for letters in operands:
        shape = [sizes[c] if letters.count(c) > 1 or draw(st.booleans()) else 1
                 for c in letters]
        shapes.append(tuple(shape))
    used = sorted(set("".join(operands)))
    if draw(st.booleans()):
        spec = ",".join(operands)
    else:
        output = draw(st.permutations(used))[: draw(st.integers(0, len(used)))]
        spec = ",".join(operands) + "->" + "".join(output)
    seed = draw(st.integers(0, 2**16))
    arrays = [np.random.default_rng(seed + k).normal(size=shape) for k, shape in enumerate(shapes)]
    return spec, arrays


@settings(max_examples=80, deadline=None)
@given(einsum_calls())
def test_random_einsums_against_finite_differences(call):
    spec, arrays = call
    graph = gad.trace(lambda *xs: np.einsum(spec, *xs), *arrays)
    np.testing.assert_allclose(graph.value, np.einsum(spec, *arrays), rtol=1e-12, atol=1e-12)
    for i in range(len(arrays)):
        assert_jacobian_matches(graph.output, i)


# Products spelled other ways, each against the same product written with @, * and sum
# (numpy ≥ 2 adds the array API's names: np.linalg.matmul, np.vecdot, np.matvec, …).
_A, _B, _x = normal(3, 3), normal(3, 2), normal(3)
SPELLINGS = [
    ("multi_dot", lambda A, B, x: np.linalg.multi_dot([x, A, A, B]),
     lambda A, B, x: x @ A @ A @ B),
    ("multi_dot, plain first", lambda A, B, x: np.linalg.multi_dot([_A, _A, B, B.T, x]),
     lambda A, B, x: _A @ _A @ B @ B.T @ x),
    ("matrix_power 5", lambda A, B, x: np.linalg.matrix_power(A, 5),
     lambda A, B, x: A @ A @ A @ A @ A),
    ("matrix_power 3", lambda A, B, x: np.linalg.matrix_power(A, 3), lambda A, B, x: A @ A @ A),
    ("matrix_power −2", lambda A, B, x: np.linalg.matrix_power(A + 3 * np.eye(3), -2),
     lambda A, B, x: np.linalg.inv((A + 3 * np.eye(3)) @ (A + 3 * np.eye(3)))),
]
if hasattr(np, "vecdot"):  # numpy ≥ 2
    SPELLINGS += [
        ("np.vecdot", lambda A, B, x: np.vecdot(A, x), lambda A, B, x: np.sum(A * x, axis=-1)),
        ("np.linalg.vecdot axis", lambda A, B, x: np.linalg.vecdot(A, B[:, :1], axis=0),
         lambda A, B, x: np.sum(A * B[:, :1], axis=0)),
        ("np.linalg.matmul", lambda A, B, x: np.linalg.matmul(A, B), lambda A, B, x: A @ B),
        ("np.linalg.tensordot", lambda A, B, x: np.linalg.tensordot(A, B, axes=1),
         lambda A, B, x: A @ B),
        ("np.linalg.outer", lambda A, B, x: np.linalg.outer(x, B[:, 0]),
         lambda A, B, x: np.outer(x, B[:, 0])),
        ("np.linalg.cross", lambda A, B, x: np.linalg.cross(A, x), lambda A, B, x: np.cross(A, x)),
    ]
if hasattr(np, "matvec"):  # numpy ≥ 2.2
    SPELLINGS += [
        ("np.matvec", lambda A, B, x: np.matvec(A, x), lambda A, B, x: A @ x),
        ("np.vecmat", lambda A, B, x: np.vecmat(x, A), lambda A, B, x: x @ A),
    ]


@pytest.mark.parametrize("name, function, reference", SPELLINGS, ids=[s[0] for s in SPELLINGS])
def test_other_spellings_of_products(name, function, reference):
    arrays = (_A, _B, _x)
    value = function(*arrays)
    weights = rng.normal(size=np.shape(value))
    ours = gad.trace(lambda A, B, x: np.sum(function(A, B, x) * weights), *arrays)
    written = gad.trace(lambda A, B, x: np.sum(reference(A, B, x) * weights), *arrays)
    np.testing.assert_allclose(ours.value, np.sum(value * weights), rtol=1e-12)
    for key, grad in written.grad().items():
        np.testing.assert_allclose(ours.grad(key), grad, rtol=1e-10, atol=1e-12)
    recorded = {n.op for n in ours.nodes}
    assert recorded & (PRODUCTS | {"multiply"}), f"{name} recorded no product"


def test_matrix_power_zero_is_a_constant():
    graph = gad.trace(lambda A: np.sum(np.linalg.matrix_power(A, 0) * A), _A)
    np.testing.assert_allclose(graph.grad("A"), np.eye(3))


def test_a_reverse_map_rule_reads_the_same_in_denominator_layout():
    A, B = normal(2, 3), normal(3, 4)
    graph = gad.trace(lambda A, B: np.einsum("ij,jk->ik", A, B), A, B)
    assert "Ḡ ↦ einsum(ik,jk→ij)(Ḡ, B)" in graph.to_dot(layout="denominator")


def test_einsum_path_and_optimize_run_on_the_values():
    A, B, c = normal(2, 3), normal(3, 4), normal(4)

    def f(A, B):
        path, _ = np.einsum_path("ij,jk,k->i", A, B, c, optimize="greedy")
        return np.einsum("ij,jk,k->i", A, B, c, optimize=path)

    graph = gad.trace(f, A, B)
    np.testing.assert_allclose(graph.value, A @ B @ c, rtol=1e-12)
    assert [node.op for node in graph.nodes if node.inputs] == ["einsum"]
