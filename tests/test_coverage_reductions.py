"""Reductions and scans (prod, var, std, average, ptp, trace, cumsum, cumprod, linalg.norm)
and the ndarray methods of every reduction, with numpy's signatures.

Each reduction is one node with a structured Jacobian; gradients are compared with HIPS
autograd (rtol 1e-10) where it has the rule and with PyTorch where it does not (zeros in a
product, cumprod, matrix norms 1, 2, ∞); the conventions at 0 are checked one by one.
"""

import inspect

import numpy as np
import pytest

import graphviz_ad as gad
from graphviz_ad.render.dot import to_dot

autograd = pytest.importorskip("autograd")
anp = pytest.importorskip("autograd.numpy")

rng = np.random.default_rng(13)


def gradient(function, x, cotangent=None):
    """∂ Σ c ⊗ f(x)/∂x through graphviz-ad, and the graph (to look at its nodes)."""
    c = 1.0 if cotangent is None else cotangent
    graph = gad.trace(lambda x: np.sum(function(x) * c), x)
    return np.asarray(graph.grad("x")), graph


def autograd_gradient(function, x, cotangent):
    return autograd.grad(lambda x: anp.sum(function(x) * cotangent))(x)


def torch_gradient(make, x, cotangent):
    torch = pytest.importorskip("torch")
    tensor = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (make(torch, tensor) * torch.tensor(cotangent)).sum().backward()
    return tensor.grad.numpy()


def one_node(graph) -> str:
    """The op of the only recorded operation before the loss's multiply and sum."""
    ops = [node.op for node in graph.nodes if node.op not in ("input", "const")]
    return ops[0]


# name: (graphviz-ad / numpy function, autograd function, input shape)
AUTOGRAD_CASES = {
    "prod": (np.prod, anp.prod, (2, 3)),
    "prod axis": (lambda x: np.prod(x, axis=1), lambda x: anp.prod(x, axis=1), (3, 4)),
    "prod keepdims": (lambda x: x.prod(0, keepdims=True),
                      lambda x: anp.prod(x, 0, keepdims=True), (3, 2)),
    "var": (np.var, anp.var, (2, 3)),
    "var axis ddof keepdims": (lambda x: np.var(x, axis=0, ddof=1, keepdims=True),
                               lambda x: anp.var(x, axis=0, ddof=1, keepdims=True), (4, 3)),
    "var method": (lambda x: x.var(1), lambda x: anp.var(x, 1), (2, 5)),
    "std": (np.std, anp.std, (3, 3)),
    "std axis ddof": (lambda x: x.std(axis=1, ddof=1), lambda x: anp.std(x, axis=1, ddof=1),
                      (2, 4)),
    "std axes keepdims": (lambda x: np.std(x, axis=(0, 2), keepdims=True),
                          lambda x: anp.std(x, axis=(0, 2), keepdims=True), (2, 3, 4)),
    "cumsum": (np.cumsum, anp.cumsum, (2, 3)),
    "cumsum axis": (lambda x: x.cumsum(1), lambda x: anp.cumsum(x, 1), (3, 4)),
    "trace": (np.trace, anp.trace, (3, 3)),
    "trace offset": (lambda x: np.trace(x, 1), lambda x: anp.trace(x, 1), (3, 4)),
    "norm": (np.linalg.norm, anp.linalg.norm, (5,)),
    # (autograd's norm mis-shapes its gradient with keepdims; PyTorch checks that below)
    "norm axis": (lambda x: np.linalg.norm(x, axis=1), lambda x: anp.linalg.norm(x, axis=1),
                  (3, 4)),
    "norm 3": (lambda x: np.linalg.norm(x, 3), lambda x: anp.linalg.norm(x, 3), (4,)),
    "norm 1.5": (lambda x: np.linalg.norm(x, 1.5), lambda x: anp.linalg.norm(x, 1.5), (4,)),
    "norm fro": (lambda x: np.linalg.norm(x, "fro"), lambda x: anp.linalg.norm(x, "fro"),
                 (3, 2)),
    "norm nuc": (lambda x: np.linalg.norm(x, "nuc"), lambda x: anp.linalg.norm(x, "nuc"),
                 (3, 4)),
    "norm fro axes": (lambda x: np.linalg.norm(x, "fro", axis=(2, 0)),
                      lambda x: anp.linalg.norm(x, "fro", axis=(2, 0)), (2, 3, 4)),
    "norm flattened": (np.linalg.norm, anp.linalg.norm, (2, 3, 2)),
    "mean method": (lambda x: x.mean(0), lambda x: anp.mean(x, 0), (3, 2)),
    "max method": (lambda x: x.max(1, None, True), lambda x: anp.max(x, 1, keepdims=True),
                   (3, 2)),
}


@pytest.mark.parametrize("name", AUTOGRAD_CASES)
def test_against_autograd(name):
    function, reference, shape = AUTOGRAD_CASES[name]
    x = rng.normal(size=shape)
    c = rng.normal(size=np.shape(function(x)))
    ours, _ = gradient(function, x, c)
    np.testing.assert_allclose(ours, autograd_gradient(reference, x, c), rtol=1e-10,
                               atol=1e-13)


def _norm(order, axis=None, keepdims=False):
    def ours(x):
        return np.linalg.norm(x, order, axis, keepdims)

    def torch_version(torch, x):
        if (axis is not None and np.ndim(axis) == 1) or (axis is None and x.ndim == 2):
            dim = (0, 1) if axis is None else tuple(axis)
            order_ = "fro" if order is None else order
            return torch.linalg.matrix_norm(x, order_, dim=dim, keepdim=keepdims)
        return torch.linalg.vector_norm(x, 2 if order is None else order, dim=axis,
                                        keepdim=keepdims)

    return ours, torch_version


def _average(torch, x, w, axis):
    return (x * w).sum(axis) / w.sum(axis)


# name: (graphviz-ad / numpy function, torch function, input)
TORCH_CASES = {
    "prod one zero": (lambda x: np.prod(x, axis=1), lambda t, x: t.prod(x, 1),
                      np.array([[2.0, 0.0, 3.0], [1.5, -2.0, 0.5]])),
    "prod several zeros": (np.prod, lambda t, x: t.prod(x),
                           np.array([[0.0, 2.0], [0.0, 3.0]])),
    "prod zeros two axes": (lambda x: np.prod(x, axis=(0, 2), keepdims=True),
                            lambda t, x: t.prod(t.prod(x, 2, keepdim=True), 0, keepdim=True),
                            np.array([[[1.0, 0.0], [2.0, 3.0]], [[4.0, 5.0], [0.0, 0.0]]])),
    "cumprod": (lambda x: np.cumprod(x, axis=1), lambda t, x: t.cumprod(x, 1), None),
    "cumprod zeros": (np.cumprod, lambda t, x: t.cumprod(x.reshape(-1), 0),
                      np.array([[2.0, 0.0, 3.0], [0.0, -2.0, 0.5]])),
    "cumprod zeros axis 0": (lambda x: x.cumprod(0), lambda t, x: t.cumprod(x, 0),
                             np.array([[2.0, 0.0, 3.0], [0.0, 4.0, 0.5], [1.5, 2.0, 0.0]])),
    "ptp": (np.ptp, lambda t, x: t.amax(x) - t.amin(x), None),
    "ptp axis": (lambda x: np.ptp(x, axis=0), lambda t, x: t.amax(x, 0) - t.amin(x, 0), None),
    "trace 3-d": (lambda x: np.trace(x, 0, 2, 1),
                  lambda t, x: t.diagonal(x, 0, 2, 1).sum(-1), np.ones((3, 4, 4)) * 0.5),
    "std ddof": (lambda x: np.std(x, ddof=1), lambda t, x: t.std(x, correction=1), None),
    "norm 1": (*_norm(1), np.array([1.5, -2.0, 0.5])),
    "norm inf": (*_norm(np.inf), np.array([1.5, -2.5, 0.5])),
    "norm -inf": (*_norm(-np.inf), np.array([1.5, -2.5, 0.5])),
    "norm 0.5": (*_norm(0.5), np.array([1.5, -2.5, 0.5])),
    "norm -1.5": (*_norm(-1.5), np.array([1.5, -2.5, 0.5])),
    "norm 1 axis": (*_norm(1, axis=1, keepdims=True), None),
    "norm 2 axis keepdims": (*_norm(2, axis=0, keepdims=True), None),
    "matrix 2": (*_norm(2), None),
    "matrix -2": (*_norm(-2), None),
    "matrix 1": (*_norm(1), None),
    "matrix -1": (*_norm(-1), None),
    "matrix inf": (*_norm(np.inf), None),
    "matrix -inf": (*_norm(-np.inf), None),
    "matrix nuc axes": (*_norm("nuc", axis=(1, 0)), None),
    "matrix 1 axes": (*_norm(1, axis=(1, 0), keepdims=True), None),
}


@pytest.mark.parametrize("name", TORCH_CASES)
def test_against_torch(name):
    function, make, x = TORCH_CASES[name]
    x = rng.normal(size=(3, 4)) if x is None else x
    x = x + 0.0
    c = rng.normal(size=np.shape(function(x)))
    ours, _ = gradient(function, x, c)
    np.testing.assert_allclose(ours, torch_gradient(make, x, c), rtol=1e-10, atol=1e-13)


def test_average_against_torch_both_arguments():
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(3, 4))
    cases = ((1, rng.uniform(0.5, 2.0, size=(4,))), (0, rng.uniform(0.5, 2.0, size=(3,))),
             (None, rng.uniform(0.5, 2.0, size=(3, 4))))
    for axis, weights in cases:
        c = rng.normal(size=np.shape(np.average(x, axis, weights)))
        graph = gad.trace(lambda x, w, axis=axis, c=c: np.sum(np.average(x, axis, w) * c), x,
                          weights)
        tx = torch.tensor(x, requires_grad=True)
        tw = torch.tensor(weights, requires_grad=True)
        along = tw if axis != 0 else tw[:, None]
        dims = tuple(range(2)) if axis is None else axis
        average = (tx * along).sum(dims) / along.expand(3, 4).sum(dims)
        (average * torch.tensor(c)).sum().backward()
        np.testing.assert_allclose(graph.grad("x"), tx.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(graph.grad("w"), tw.grad.numpy(), rtol=1e-10)


def test_average_without_weights_is_the_mean_and_with_plain_weights_one_node():
    x = rng.normal(size=(2, 3))
    graph = gad.trace(lambda x: np.average(x, axis=0), x)
    assert graph.output.op == "mean"
    w = np.array([1.0, 3.0])
    graph = gad.trace(lambda x: np.average(x, 0, w), x)
    assert graph.output.op == "average"
    np.testing.assert_allclose(graph.value, np.average(x, 0, w), rtol=1e-15)
    expected = np.kron(w / 4, np.eye(3)).reshape(3, 2, 3)  # ∂outⱼ/∂xᵢⱼ = wᵢ/Σw
    np.testing.assert_allclose(graph.jacobian("x"), expected, rtol=1e-15)
    with pytest.raises(ZeroDivisionError, match="sum to zero"):
        gad.trace(lambda x: np.average(x, 0, np.array([1.0, -1.0])), x)
    with pytest.raises(gad.ShapeError, match="weights of shape"):
        gad.trace(lambda x: np.average(x, 0, np.ones(3)), x)
    with pytest.raises(gad.UnsupportedOperation, match="returned=True"):
        gad.trace(lambda x: np.average(x, 0, w, returned=True), x)


# -- each reduction is one node with its own rule ----------------------------------------


ONE_NODE = {
    "prod": (lambda x: np.prod(x), "(Π_(j≠i) xⱼ)ᵀ", "reduce"),
    "var": (lambda x: np.var(x), "2(x − x̄)ᵀ/n", "reduce"),
    "std": (lambda x: x.std(ddof=1), "(x − x̄)ᵀ/((n − 1) u₁)", "reduce"),
    "ptp": (lambda x: np.ptp(x), "(onehot(argmax x) − onehot(argmin x))ᵀ", "reduce"),
    "trace": (lambda x: np.trace(x), "vec(I)ᵀ", "reduce"),
    "cumsum": (lambda x: np.cumsum(x, axis=1), "L (Lₖᵢ = 1 for i ≤ k)", "scan"),
    "cumprod": (lambda x: np.cumprod(x), "[Π_(j≤k, j≠i) xⱼ]ₖᵢ (i ≤ k)", "scan"),
    "norm": (lambda x: np.linalg.norm(x), "vec(x)ᵀ/u₁", "reduce"),
}


@pytest.mark.parametrize("name", ONE_NODE)
def test_one_node_with_a_structured_rule(name):
    function, rule, kind = ONE_NODE[name]
    graph = gad.trace(function, rng.normal(size=(3, 3)))
    (node,) = [node for node in graph.nodes if node.op not in ("input", "const")]
    assert node.op == name
    local = node.jacobian(0)
    assert (local.rule, local.kind) == (rule, kind)
    # the three forms agree: matrix rows are VJPs, its columns JVPs
    dense = local.matrix()
    seed = rng.normal(size=(4, *np.shape(node.value)))
    tangent = rng.normal(size=(4, 3, 3))
    np.testing.assert_allclose(np.reshape(local.vjp(seed), (4, -1)),
                               seed.reshape(4, -1) @ dense, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.reshape(local.jvp(tangent), (4, -1)),
                               tangent.reshape(4, -1) @ dense.T, rtol=1e-12, atol=1e-14)


def test_variance_rule_is_drawn_on_the_edge():
    graph = gad.trace(lambda x: np.var(x), np.array([1.0, 2.0, 6.0]))
    np.testing.assert_allclose(graph.grad("x"), 2 * (graph.inputs["x"].value - 3.0) / 3)
    assert "2(x − x̄)ᵀ/n" in to_dot(graph)


# -- conventions at zero -----------------------------------------------------------------


def test_prod_with_zeros_is_the_product_of_the_others():
    one, _ = gradient(np.prod, np.array([2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(one, [0.0, 6.0, 0.0])
    several, _ = gradient(np.prod, np.array([2.0, 0.0, 3.0, 0.0]))
    np.testing.assert_array_equal(several, [0.0, 0.0, 0.0, 0.0])
    rows, _ = gradient(lambda x: np.prod(x, axis=1), np.array([[0.0, 5.0], [2.0, 3.0]]))
    np.testing.assert_array_equal(rows, [[5.0, 0.0], [3.0, 2.0]])
    empty, _ = gradient(lambda x: np.prod(x, axis=0), np.zeros((0, 2)))
    assert empty.shape == (0, 2)


def test_cumprod_with_zeros_matches_its_exact_jacobian():
    x = np.array([2.0, 0.0, 3.0, 0.0, 5.0])
    graph = gad.trace(np.cumprod, x)
    # ∂outₖ/∂xᵢ = Π_{j≤k, j≠i} xⱼ for i ≤ k
    expected = np.array([[np.prod(np.delete(x[: k + 1], i)) if i <= k else 0.0
                          for i in range(5)] for k in range(5)])
    np.testing.assert_array_equal(graph.jacobian("a"), expected)


def test_norms_and_std_are_zero_safe():
    zero = np.zeros(3)
    for order in (None, 2, 1, np.inf, 3):
        g, _ = gradient(lambda x, order=order: np.linalg.norm(x, order), zero)
        np.testing.assert_array_equal(g, zero, err_msg=str(order))
    g, _ = gradient(lambda x: np.linalg.norm(x, "fro"), np.zeros((2, 2)))
    np.testing.assert_array_equal(g, np.zeros((2, 2)))
    g, _ = gradient(np.std, np.full(4, 2.5))
    np.testing.assert_array_equal(g, np.zeros(4))
    g, _ = gradient(lambda x: np.linalg.norm(x, 0), np.array([0.0, 2.0]))  # a count
    np.testing.assert_array_equal(g, [0.0, 0.0])


def test_ties_share_the_derivative():
    g, _ = gradient(np.ptp, np.array([3.0, 1.0, 3.0, 1.0]))
    np.testing.assert_array_equal(g, [0.5, -0.5, 0.5, -0.5])
    g, _ = gradient(lambda x: np.linalg.norm(x, np.inf), np.array([-2.0, 2.0, 1.0]))
    np.testing.assert_array_equal(g, [-0.5, 0.5, 0.0])


def test_bad_arguments_name_the_line():
    x = np.ones((2, 3))
    with pytest.raises(gad.ShapeError, match=r"ddof=2.*test_coverage_reductions"):
        gad.trace(lambda x: np.var(x, axis=0, ddof=2), x)
    with pytest.raises(gad.ShapeError, match="at least two axes"):
        gad.trace(lambda x: np.trace(x), np.ones(3))
    with pytest.raises(gad.ShapeError, match="give axis="):
        gad.trace(lambda x: np.linalg.norm(x, 2), np.ones((2, 2, 2)))
    with pytest.raises(gad.ShapeError, match="norm"):
        gad.trace(lambda x: np.linalg.norm(x, "nuc"), np.ones(3))
    with pytest.raises(gad.ShapeError, match="ptp of an empty array"):
        gad.trace(lambda x: np.ptp(x), np.ones(0))
    with pytest.raises(gad.UnsupportedOperation, match=r"mean=.*test_coverage_reductions"):
        gad.trace(lambda x: np.std(x, mean=np.mean(x)), x)
    graph = gad.trace(lambda x: np.var(x, correction=1), x)
    assert graph.value == np.var(x, ddof=1)


# -- ndarray methods with numpy's signatures ---------------------------------------------

# numpy's own argument order of each method (ndarray's C methods hide some behind
# **kwargs; these are the parameters numpy's implementation accepts positionally)
NUMPY_SIGNATURES = {
    "sum": "axis dtype out keepdims initial where",
    "mean": "axis dtype out keepdims *where",
    "max": "axis out keepdims initial where",
    "min": "axis out keepdims initial where",
    "prod": "axis dtype out keepdims initial where",
    "var": "axis dtype out ddof keepdims *where mean",
    "std": "axis dtype out ddof keepdims *where mean",
    "cumsum": "axis dtype out",
    "cumprod": "axis dtype out",
    "trace": "offset axis1 axis2 dtype out",
    "round": "decimals out",
    "argmax": "axis out *keepdims",
    "argmin": "axis out *keepdims",
    "any": "axis out keepdims *where",
    "all": "axis out keepdims *where",
    "conj": "",
    "conjugate": "",
    "ravel": "order",
    "flatten": "order",
    "squeeze": "axis",
    "copy": "order",
    "reshape": "*order copy",
}


@pytest.mark.parametrize("name", NUMPY_SIGNATURES)
def test_method_signatures_match_numpy(name):
    ours = inspect.signature(getattr(gad.tracer.Tracer, name))
    listed = [(p.name, p.kind) for p in list(ours.parameters.values())[1:]
              if p.kind is not inspect.Parameter.VAR_POSITIONAL]  # reshape's *shape
    positional, keyword = NUMPY_SIGNATURES[name].split("*") + [""] * (
        "*" not in NUMPY_SIGNATURES[name])
    expected = [(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in positional.split()]
    expected += [(n, inspect.Parameter.KEYWORD_ONLY) for n in keyword.split()]
    assert listed == expected
    # and numpy's own signature agrees on the parameters it shows
    theirs = inspect.signature(getattr(np.ndarray, name))
    shown = [p.name for p in theirs.parameters.values()
             if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    assert shown == [n for n, _ in listed[: len(shown)]]


def test_methods_take_numpys_positional_forms():
    x = rng.normal(size=(2, 3))
    calls = [
        ("sum", (0, float)), ("sum", (0, None, None, True)), ("mean", (1, float, None, True)),
        ("max", (0, None, True)), ("min", (1, None, False)), ("prod", (0, None, None, True)),
        ("var", (0, None, None, 1, True)), ("std", (1, float, None, 1)),
        ("cumsum", (1, float)), ("cumprod", (0,)), ("trace", (1, 1, 0)), ("round", (1,)),
        ("argmax", (1,)), ("any", (0,)), ("all", (1,)), ("ravel", ("C",)),
        ("flatten", ("C",)), ("copy", ("C",)), ("squeeze", (None,)), ("dot", (np.ones(3),)),
    ]
    for name, args in calls:
        def f(x, name=name, args=args):
            result = getattr(x, name)(*args)
            assert np.shape(result) == np.shape(getattr(x.value, name)(*args)), (name, args)
            return np.sum(result) if isinstance(result, gad.tracer.Tracer) else np.sum(x)

        graph = gad.trace(f, x)
        expected = np.sum(getattr(x, name)(*args)) if name not in ("argmax", "any", "all") else (
            np.sum(x))
        np.testing.assert_allclose(graph.value, expected, rtol=1e-14)


def test_numpy_functions_take_their_positional_forms():
    x = rng.normal(size=(2, 3))
    calls = [
        (np.sum, (0, None, None, True)), (np.mean, (1, float, None, True)),
        (np.max, (0, None, True)), (np.amin, (1, None, True)), (np.prod, (1, None, None, True)),
        (np.var, (0, None, None, 1, True)), (np.std, (None, None, None, 1)),
        (np.cumsum, (0, float)), (np.cumprod, (1,)), (np.trace, (0, 1, 0)), (np.ptp, (1,)),
        (np.average, (1, np.arange(1.0, 4.0))), (np.linalg.norm, (1, 0, True)),
        (np.round, (1,)), (np.nan_to_num, (True, 1.0)),
    ]
    for function, args in calls:
        graph = gad.trace(lambda x, f=function, args=args: f(x, *args), x)
        np.testing.assert_allclose(graph.value, function(x, *args), rtol=1e-14,
                                   err_msg=function.__name__)


def test_x_sum_0_float_is_axis_0_with_dtype_float():
    graph = gad.trace(lambda x: x.sum(0, float), np.ones((2, 3)))
    assert graph.value.shape == (3,)


def test_options_a_trace_cannot_honour_are_refused_by_name():
    x = np.ones((2, 3))
    refusals = [
        (lambda x: x.sum(0, int), "dtype=int64"),
        (lambda x: np.sum(x, dtype=np.float32), "dtype=float32"),
        (lambda x: x.sum(initial=1.0), "initial="),
        (lambda x: np.max(x, initial=0.0), "initial="),
        (lambda x: x.prod(where=np.array([True, False, True])), "where="),
        (lambda x: x.mean(where=x.value > 0), "where="),
        (lambda x: x.cumsum(0, None, np.empty((2, 3))), "out="),
        (lambda x: x.var(0, None, np.empty(3)), "out="),
        (lambda x: x.round(0, np.empty((2, 3))), "out="),
        (lambda x: x.dot(np.ones(3), np.empty(2)), "out="),
    ]
    for function, option in refusals:
        with pytest.raises(gad.TraceError, match=rf"{option}.*test_coverage_reductions\.py:\d+"):
            gad.trace(function, x)


def test_a_missing_ndarray_method_is_unsupported_with_the_line():
    with pytest.raises(gad.UnsupportedOperation,
                       match=r"ndarray\.searchsorted .* at test_coverage_reductions\.py:\d+"):
        gad.trace(lambda x: x.searchsorted(0.5), np.ones(3))
    with pytest.raises(gad.UnsupportedOperation, match=r"ndarray\.strides"):
        gad.trace(lambda x: x.strides, np.ones(3))
    probed = []

    def probe(x):
        probed.append(hasattr(x, "strides"))  # hasattr answers False instead of raising
        return x

    gad.trace(probe, np.ones(3))
    assert probed == [False]
    with pytest.raises(AttributeError):  # not an ndarray name: a plain AttributeError
        gad.trace(lambda x: x.no_such_attribute, np.ones(3))
    with pytest.raises(AttributeError):
        gad.trace(lambda x: x.__array_interface__, np.ones(3))


def test_elementwise_and_plain_methods():
    x = np.array([[1.26, -0.5], [2.0, 0.0]])
    graph = gad.trace(lambda x: np.sum(x.round(1) * x + x.clip(0.0, 1.5)), x)
    np.testing.assert_allclose(graph.value, np.sum(x.round(1) * x + x.clip(0.0, 1.5)))
    np.testing.assert_array_equal(graph.grad("x"), x.round(1) + ((x > 0) & (x < 1.5)))

    def f(x):
        assert x.argmax() == 2 and x.argmin(axis=1).tolist() == [1, 1]
        assert x.any() and not x.all() and x.all(axis=1, keepdims=True).shape == (2, 1)
        return x.sum()

    gad.trace(f, x)
