"""Shape and selection functions: each one against finite differences and HIPS autograd.

Every function is written as a user would (``np.flip(x)``, ``np.pad(x, 1, mode="edge")``)
and traced; the whole graph's Jacobian (reverse and forward mode) must match central
differences of the plain numpy function, every local Jacobian must pass the checker, and
the reverse-mode gradient of a random weighting must equal autograd's where autograd has
the function.
"""

from dataclasses import dataclass

import numpy as np
import pytest
from numpy.testing import assert_allclose

import graphviz_ad as gad
from graphviz_ad.check import check_graph
from graphviz_ad.linear import Gather
from tests.numeric import central_difference

anp = pytest.importorskip("autograd.numpy")
autograd = pytest.importorskip("autograd")

rng = np.random.default_rng(10)


@dataclass
class Op:
    name: str
    build: object  # build(np_module) -> function of x, so autograd can run the same code
    shape: tuple

    def __str__(self):
        return self.name

    def function(self, module=np):
        return self.build(module)


def _first(pieces):
    return pieces[1] * 2.0 + pieces[0][..., :1] if len(pieces) > 1 else pieces[0]


OPS = [
    Op("flip", lambda m: lambda x: m.flip(x), (2, 3)),
    Op("flip axis", lambda m: lambda x: m.flip(x, axis=1), (2, 3)),
    Op("fliplr", lambda m: lambda x: m.fliplr(x), (2, 3)),
    Op("flipud", lambda m: lambda x: m.flipud(x), (3, 2)),
    Op("rot90", lambda m: lambda x: m.rot90(x), (2, 3)),
    Op("rot90 k=3", lambda m: lambda x: m.rot90(x, 3), (2, 3)),
    Op("roll", lambda m: lambda x: m.roll(x, 2), (5,)),
    Op("roll axis", lambda m: lambda x: m.roll(x, -1, axis=0), (3, 2)),
    Op("tile", lambda m: lambda x: m.tile(x, 3), (2,)),
    Op("tile 2-d", lambda m: lambda x: m.tile(x, (2, 2)), (2, 2)),
    Op("repeat", lambda m: lambda x: m.repeat(x, 2), (2, 2)),
    Op("repeat axis", lambda m: lambda x: m.repeat(x, [2, 0, 1], axis=1), (2, 3)),
    Op("pad constant", lambda m: lambda x: m.pad(x, ((1, 0), (2, 1)), constant_values=0.5),
       (2, 2)),
    Op("pad", lambda m: lambda x: m.pad(x, (2, 1)), (3,)),
    Op("pad edge", lambda m: lambda x: m.pad(x, 2, mode="edge"), (3,)),
    Op("pad reflect", lambda m: lambda x: m.pad(x, (1, 2), mode="reflect"), (2, 3)),
    Op("broadcast_to", lambda m: lambda x: m.broadcast_to(x, (2, 3, 2)), (3, 1)),
    Op("broadcast_to columns", lambda m: lambda x: m.broadcast_to(x, (3, 4)), (3, 1)),
    Op("diag of a vector", lambda m: lambda x: m.diag(x), (3,)),
    Op("diag k=1", lambda m: lambda x: m.diag(x, 1), (2,)),
    Op("diag of a matrix", lambda m: lambda x: m.diag(x), (3, 3)),
    Op("diagonal", lambda m: lambda x: m.diagonal(x, 1), (3, 4)),
    Op("tril", lambda m: lambda x: m.tril(x), (3, 3)),
    Op("triu k=1", lambda m: lambda x: m.triu(x, 1), (3, 4)),
    Op("split", lambda m: lambda x: _first(m.split(x, 2)), (4,)),
    Op("array_split", lambda m: lambda x: _first(m.array_split(x, 2, axis=1)), (2, 3)),
    Op("hsplit", lambda m: lambda x: _first(m.hsplit(x, [1])), (2, 3)),
    Op("vsplit", lambda m: lambda x: _first(m.vsplit(x, 2)), (4, 2)),
    Op("dsplit", lambda m: lambda x: _first(m.dsplit(x, 2)), (2, 2, 2)),
    Op("append", lambda m: lambda x: m.append(x, x * 2.0), (2, 2)),
    Op("append axis", lambda m: lambda x: m.append(x, x[:1], axis=0), (2, 2)),
    Op("column_stack", lambda m: lambda x: m.column_stack([x, x * x]), (3,)),
    Op("dstack", lambda m: lambda x: m.dstack([x, -x]), (2, 2)),
    Op("atleast_3d", lambda m: lambda x: m.atleast_3d(x), (3,)),
    Op("moveaxis", lambda m: lambda x: m.moveaxis(x, 0, -1), (2, 3, 2)),
    Op("rollaxis", lambda m: lambda x: m.rollaxis(x, 2), (2, 3, 2)),
    Op("take", lambda m: lambda x: m.take(x, [3, 0, 3]), (2, 2)),
    Op("take axis", lambda m: lambda x: m.take(x, [1, 1], axis=1), (2, 3)),
    Op("take_along_axis",
       lambda m: lambda x: m.take_along_axis(x, np.array([[2, 0], [1, 1]]), 1), (2, 3)),
    Op("sort", lambda m: lambda x: m.sort(x), (5,)),
    Op("sort axis 0", lambda m: lambda x: m.sort(x, axis=0), (3, 2)),
    Op("partition", lambda m: lambda x: m.partition(x, 2), (5,)),
    Op("select", lambda m: lambda x: m.select([x > 0.5, x < -0.5], [x, x * x], 1.0), (4,)),
    Op("diff", lambda m: lambda x: m.diff(x), (5,)),
    Op("diff n=2 axis 0", lambda m: lambda x: m.diff(x, n=2, axis=0), (4, 2)),
    Op("gradient", lambda m: lambda x: m.gradient(x), (5,)),
    Op("gradient spacing", lambda m: lambda x: m.gradient(x, 0.5), (4,)),
    Op("linspace", lambda m: lambda x: m.linspace(x[0], x[1], 5), (2,)),
    Op("linspace of vectors", lambda m: lambda x: m.linspace(x[:2], x[2:], 3, axis=1), (4,)),
]

# Not in autograd (or computed differently there): checked against finite differences only.
_NO_AUTOGRAD = {"gradient", "gradient spacing", "partition", "linspace of vectors"}


def _point(shape):
    """Distinct values (no ties), away from select's thresholds."""
    size = int(np.prod(shape))
    values = rng.permutation(size) * 0.37 - 0.41 * size / 2 + rng.uniform(0.0, 0.05, size)
    return values.reshape(shape)


@pytest.mark.parametrize("op", OPS, ids=str)
def test_jacobian_matches_finite_differences_in_both_modes(op):
    x = _point(op.shape)
    f = op.function()
    graph = gad.trace(f, x)
    assert_allclose(graph.value, f(x), rtol=1e-15)
    numeric = central_difference(f, x)
    assert_allclose(graph.jacobian("x"), numeric, rtol=1e-6, atol=1e-8)
    assert_allclose(graph.jacobian("x", mode="forward"), numeric, rtol=1e-6, atol=1e-8)
    report = check_graph(graph)
    assert report.passed, [(check.node, check.error) for check in report.failures]


@pytest.mark.parametrize("op", [op for op in OPS if op.name not in _NO_AUTOGRAD], ids=str)
def test_gradient_matches_autograd(op):
    x = _point(op.shape)
    weights = rng.normal(size=np.shape(op.function()(x)))
    ours = gad.trace(lambda x: np.sum(op.function()(x) * weights), x).grad("x")
    try:
        theirs = autograd.grad(lambda x: anp.sum(op.function(anp)(x) * weights))(x)
    except (NotImplementedError, AssertionError, TypeError) as error:
        # autograd has the name but no VJP for it, or not for these arguments
        pytest.skip(f"autograd does not differentiate {op.name}: {error}")
    assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_selection_functions_are_one_structured_node_never_dense():
    x = _point((200,))
    graph = gad.trace(lambda x: np.sum(np.tile(np.flip(x), 3) * np.arange(600.0)), x)
    gathers = [node for node in graph.nodes if node.op == "gather"]
    assert [node.call_text for node in gathers] == ["flip(x)", "tile(u₁)"]
    for node in gathers:
        local = node.jacobian(0)
        assert isinstance(local, Gather) and local.index.shape == (np.size(node.value),)
    assert_allclose(graph.grad("x"), np.flip(np.arange(600.0).reshape(3, 200).sum(0)))


@pytest.mark.parametrize("code, rule, kind", [
    ("np.flip(x)", "P (flip)", "permutation"),
    ("np.roll(x, 2)", "P (roll 2)", "permutation"),
    ("np.sort(x)", "P (sort order)", "permutation"),
    ("np.tile(x, 2)", "[I; I] (tile 2)", "selection"),
    ("np.repeat(x, 2)", "S (repeat 2)", "selection"),
    ("np.pad(x, 1)", "[0; I; 0] (pad)", "selection"),
    ("np.pad(x, 1, mode='edge')", "S (pad, edge)", "selection"),
    ("np.take(x, [0, 0])", "S (take [0, 0])", "selection"),
    ("np.broadcast_to(x, (2, 4))", "1 ⊗ I", "broadcast"),
])
def test_rule_texts_and_kinds(code, rule, kind):
    graph = gad.trace(lambda x: eval(code), _point((4,)))
    local = graph.output.jacobian(0)
    assert (local.rule, local.kind) == (rule, kind)


def test_sort_with_ties_sends_each_slot_to_the_element_stable_argsort_put_there():
    """Tied values are ordered by position (a stable sort): the first 2.0 gets the gradient
    of the first 2.0 slot.  The gradient summed over a group of tied elements is the same
    whichever way the tie is broken."""
    x = np.array([2.0, -1.0, 2.0, 0.0])
    weights = np.array([1.0, 10.0, 100.0, 1000.0])
    grad = gad.trace(lambda x: np.sum(np.sort(x) * weights), x).grad("x")
    assert_allclose(grad, [100.0, 1.0, 1000.0, 10.0])
    theirs = autograd.grad(lambda x: anp.sum(anp.sort(x) * weights))(x)
    assert grad[0] + grad[2] == pytest.approx(theirs[0] + theirs[2])


def test_split_gives_one_selection_node_per_piece():
    def f(x):
        first, second, third = np.split(x, [1, 3])
        return np.sum(first) + np.sum(second * 2.0) + np.sum(third * 3.0)

    graph = gad.trace(f, np.arange(5.0))
    pieces = [node for node in graph.nodes if node.op == "index"]
    assert [node.call_text for node in pieces] == ["x[0:1]", "x[1:3]", "x[3:5]"]
    assert_allclose(graph.grad("x"), [1.0, 2.0, 2.0, 3.0, 3.0])


def test_r_and_c_concatenate_traced_items_with_numbers_and_slices():
    def rows(x):
        return np.r_[x, 0.0, 1:3, x * 2.0]

    graph = gad.trace(rows, np.array([1.0, 2.0]))
    assert_allclose(graph.value, [1.0, 2.0, 0.0, 1.0, 2.0, 2.0, 4.0])
    assert_allclose(graph.jacobian("x"), central_difference(rows, np.array([1.0, 2.0])))
    columns = gad.trace(lambda x: np.c_[x, np.ones(2)], np.array([1.0, 2.0]))
    assert_allclose(columns.value, [[1.0, 1.0], [2.0, 1.0]])
    assert np.r_[1, 2] is not None and np.r_.__class__.__name__ == "RClass"  # numpy's again


@pytest.mark.parametrize("join", [
    lambda *a: np.vstack(a), lambda *a: np.hstack(a), lambda *a: np.column_stack(a),
    lambda *a: np.dstack(a), lambda *a: np.concatenate(a), lambda *a: np.stack(a),
    lambda *a: np.r_[a], lambda *a: np.c_[a], lambda *a: np.array(a),
    lambda *a: np.append(np.append(a[0], a[1]), a[2]),
], ids=["vstack", "hstack", "column_stack", "dstack", "concatenate", "stack", "r_", "c_",
        "array", "append"])
@pytest.mark.parametrize("position", [0, 1, 2])
def test_a_plain_array_may_stand_anywhere_in_a_join(join, position):
    plain = [np.ones(3), np.full(3, 2.0), np.full(3, 3.0)]

    def f(x):
        items = list(plain)
        items[position] = x
        return join(*items)

    x = np.array([0.5, -1.0, 4.0])
    graph = gad.trace(f, x)
    assert_allclose(graph.value, f(x))
    assert_allclose(graph.jacobian("x"), central_difference(f, x), atol=1e-8)


def test_atleast_and_stack_helpers_accept_plain_arrays_first():
    def f(x):
        a, b = np.atleast_2d(np.ones(2), x)
        c, d = np.atleast_3d(np.ones(2), x)
        return np.sum(a * b) + np.sum(c * d) + np.sum(np.vstack([np.ones(2), x]))

    assert_allclose(gad.trace(f, np.array([1.0, 2.0])).grad("x"), [3.0, 3.0])
    assert_allclose(gad.trace(lambda x: np.hstack([1.0, x]).sum(), 2.0).grad("x"), 1.0)


class TestRefusals:
    def test_a_traced_index_or_count_is_refused_with_the_line(self):
        with pytest.raises(gad.TraceError, match=r"np\.take's indices at test_coverage_shapes"):
            gad.trace(lambda x, i: np.take(x, i), np.ones(3), 1.0)
        with pytest.raises(gad.TraceError, match=r"np\.roll's shift"):
            gad.trace(lambda x: np.roll(x, x[0]), np.ones(3))

    def test_a_pad_mode_that_is_not_a_selection_is_refused(self):
        with pytest.raises(gad.UnsupportedOperation, match=r"np\.pad\(mode='mean'\) at"):
            gad.trace(lambda x: np.pad(x, 1, mode="mean"), np.ones(3))

    def test_an_unequal_split_names_the_shape_and_the_line(self):
        with pytest.raises(gad.ShapeError, match=r"np\.split of shape \(5,\) at test_cov"):
            gad.trace(lambda x: np.split(x, 2)[0], np.ones(5))

    def test_gradient_with_coordinates_is_refused(self):
        with pytest.raises(gad.UnsupportedOperation, match="coordinate arrays"):
            gad.trace(lambda x: np.gradient(x, np.array([0.0, 1.0, 3.0])), np.ones(3))


# Where autograd has no VJP (flip, take, edge and reflect padding, …), PyTorch is the oracle.
TORCH_CASES = [
    ("flip", lambda x: np.flip(x, axis=1), lambda t, x: t.flip(x, dims=(1,)), (2, 3)),
    ("take", lambda x: np.take(x, [3, 0, 3]), lambda t, x: t.take(x, t.tensor([3, 0, 3])),
     (2, 2)),
    ("take_along_axis", lambda x: np.take_along_axis(x, np.array([[2, 0], [1, 1]]), 1),
     lambda t, x: t.take_along_dim(x, t.tensor([[2, 0], [1, 1]]), dim=1), (2, 3)),
    ("pad edge", lambda x: np.pad(x, 2, mode="edge"),
     lambda t, x: t.nn.functional.pad(x[None, None], (2, 2), mode="replicate")[0, 0], (3,)),
    ("pad reflect", lambda x: np.pad(x, (1, 2), mode="reflect"),
     lambda t, x: t.nn.functional.pad(x[None, None], (1, 2), mode="reflect")[0, 0], (4,)),
    ("diagonal", lambda x: np.diagonal(x, 1), lambda t, x: t.diagonal(x, 1), (3, 4)),
    ("sort axis 0", lambda x: np.sort(x, axis=0),
     lambda t, x: t.sort(x, dim=0, stable=True).values, (3, 2)),
    ("repeat counts", lambda x: np.repeat(x, [2, 0, 1], axis=1),
     lambda t, x: t.repeat_interleave(x, t.tensor([2, 0, 1]), dim=1), (2, 3)),
    ("broadcast_to", lambda x: np.broadcast_to(x, (2, 3, 2)),
     lambda t, x: t.broadcast_to(x, (2, 3, 2)), (3, 1)),
    ("roll", lambda x: np.roll(x, -1, axis=0), lambda t, x: t.roll(x, -1, dims=0), (3, 2)),
]


@pytest.mark.parametrize("name, ours, theirs, shape", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_gradient_matches_pytorch(name, ours, theirs, shape):
    torch = pytest.importorskip("torch")
    x = _point(shape)
    weights = rng.normal(size=np.shape(ours(x)))
    grad = gad.trace(lambda x: np.sum(ours(x) * weights), x).grad("x")
    x_torch = torch.tensor(x, requires_grad=True)
    (theirs(torch, x_torch) * torch.tensor(weights)).sum().backward()
    assert_allclose(grad, x_torch.grad.numpy(), rtol=1e-12, atol=1e-14)
