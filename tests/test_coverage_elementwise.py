"""The element-wise functions beyond the tutorial set, against HIPS autograd and PyTorch.

Each function is traced inside a scalar loss ``Σ c ⊗ f(x, y)`` with a random cotangent c,
on random shapes that broadcast, and the gradient is compared with autograd's (rtol 1e-10)
and, where autograd has no rule, with PyTorch's.  The conventions at kinks and jumps are
checked one by one: they are documented in ``graphviz_ad/primitives.py``.  The table-wide
finite-difference test (``tests/test_primitives.py``) covers every row as well.
"""

import numpy as np
import pytest

import graphviz_ad as gad

autograd = pytest.importorskip("autograd")
anp = pytest.importorskip("autograd.numpy")

# autograd warns when a gradient is identically zero (floor, sign, …): that is the point here
pytestmark = pytest.mark.filterwarnings("ignore:Output seems independent of input")

rng = np.random.default_rng(10)

# broadcasting pairs: same shape, row against matrix, column against row, scalar expansion
SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (4,)), ((2, 3), ())]


def sample(domain, shape):
    """Random numbers of ``shape`` inside the function's domain, away from its kinks."""
    low, high = domain
    magnitude = rng.uniform(low, high, size=shape)
    return magnitude if low >= 0 else np.where(np.abs(magnitude) < 0.1, 0.3, magnitude)


def traced_gradients(function, args, cotangent):
    graph = gad.trace(lambda *xs: np.sum(function(*xs) * cotangent), *args)
    names = list(graph.inputs)
    return [np.asarray(graph.grad(name), dtype=float) for name in names]


def autograd_oracle(reference):
    def gradients(args, cotangent):
        loss = lambda *xs: anp.sum(reference(*xs) * cotangent)  # noqa: E731
        return [autograd.grad(loss, k)(*args) for k in range(len(args))]

    return gradients


def torch_oracle(make):
    """PyTorch's gradients of ``make(torch, *tensors)``, for the rows autograd lacks."""

    def gradients(args, cotangent):
        torch = pytest.importorskip("torch")
        tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
        (make(torch, *tensors) * torch.tensor(cotangent)).sum().backward()
        return [t.grad.numpy() for t in tensors]

    return gradients


def assert_gradients_match(function, args, oracle, name=""):
    """∂ Σ c ⊗ f(args)/∂args, for a random cotangent c, agree with the oracle's (rtol 1e-10)."""
    shape = np.broadcast_shapes(*(np.shape(a) for a in args))
    c = rng.normal(size=shape)
    for mine, expected in zip(traced_gradients(function, args, c), oracle(args, c), strict=True):
        np.testing.assert_allclose(mine, np.reshape(expected, mine.shape), rtol=1e-10,
                                   atol=1e-12, err_msg=name)


# name: (numpy function, oracle, domain of each argument); autograd where it has the rule
UNARY = {
    "arcsinh": (np.arcsinh, autograd_oracle(anp.arcsinh), (-3, 3)),
    "arccosh": (np.arccosh, autograd_oracle(anp.arccosh), (1.2, 4)),
    "arctanh": (np.arctanh, autograd_oracle(anp.arctanh), (-0.9, 0.9)),
    "log2": (np.log2, autograd_oracle(anp.log2), (0.2, 5)),
    "log10": (np.log10, autograd_oracle(anp.log10), (0.2, 5)),
    "exp2": (np.exp2, autograd_oracle(anp.exp2), (-3, 3)),
    "deg2rad": (np.deg2rad, autograd_oracle(anp.deg2rad), (-200, 200)),
    "radians": (np.radians, autograd_oracle(anp.radians), (-200, 200)),
    "rad2deg": (np.rad2deg, autograd_oracle(anp.rad2deg), (-4, 4)),
    "degrees": (np.degrees, autograd_oracle(anp.degrees), (-4, 4)),
    "sinc": (np.sinc, autograd_oracle(anp.sinc), (-3, 3)),
    "fabs": (np.fabs, autograd_oracle(anp.fabs), (-3, 3)),
    "nan_to_num": (np.nan_to_num, autograd_oracle(anp.nan_to_num), (-3, 3)),
    "sign": (np.sign, autograd_oracle(anp.sign), (-3, 3)),
    "floor": (np.floor, autograd_oracle(anp.floor), (-3, 3)),
    "ceil": (np.ceil, autograd_oracle(anp.ceil), (-3, 3)),
    "round": (np.round, autograd_oracle(anp.round), (-3, 3)),
    "rint": (np.rint, autograd_oracle(anp.rint), (-3, 3)),
    "trunc": (np.trunc, autograd_oracle(anp.trunc), (-3, 3)),
    "fix": (np.fix, autograd_oracle(anp.fix), (-3, 3)),
    "real": (np.real, autograd_oracle(anp.real), (-3, 3)),
    "imag": (np.imag, autograd_oracle(anp.imag), (-3, 3)),
    "conj": (np.conj, autograd_oracle(anp.conj), (-3, 3)),
    "angle": (np.angle, autograd_oracle(anp.angle), (-3, 3)),
    "cbrt": (np.cbrt, torch_oracle(lambda torch, x: torch.sign(x) * torch.abs(x) ** (1 / 3)),
             (-3, 3)),
}

BINARY = {
    "arctan2": (np.arctan2, autograd_oracle(anp.arctan2), (-3, 3), (-3, 3)),
    "hypot": (np.hypot, autograd_oracle(anp.hypot), (-3, 3), (-3, 3)),
    "logaddexp": (np.logaddexp, autograd_oracle(anp.logaddexp), (-3, 3), (-3, 3)),
    "logaddexp2": (np.logaddexp2, autograd_oracle(anp.logaddexp2), (-3, 3), (-3, 3)),
    "fmax": (np.fmax, autograd_oracle(anp.fmax), (-3, 3), (-3, 3)),
    "fmin": (np.fmin, autograd_oracle(anp.fmin), (-3, 3), (-3, 3)),
    "remainder": (np.remainder, autograd_oracle(anp.remainder), (-5, 5), (-2, 2)),
    "mod": (np.mod, autograd_oracle(anp.mod), (-5, 5), (0.5, 2)),
    "%": (lambda x, y: x % y, autograd_oracle(lambda x, y: x % y), (-5, 5), (0.5, 2)),
    "floor_divide": (np.floor_divide, autograd_oracle(anp.floor_divide), (-5, 5), (0.5, 2)),
    "fmod": (np.fmod, torch_oracle(lambda torch, x, y: torch.fmod(x, y)), (-5, 5), (-2, 2)),
    "copysign": (np.copysign, torch_oracle(lambda torch, x, y: torch.copysign(x, y)),
                 (-3, 3), (-3, 3)),
    "float_power": (np.float_power, torch_oracle(lambda torch, x, y: torch.float_power(x, y)),
                    (0.2, 3), (-2, 2)),
}


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("shape", [(), (4,), (2, 3)])
def test_unary(name, shape):
    function, oracle, domain = UNARY[name]
    assert_gradients_match(function, (sample(domain, shape),), oracle)


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_binary_with_broadcasting(name, shapes):
    function, oracle, x_domain, y_domain = BINARY[name]
    assert_gradients_match(function, (sample(x_domain, shapes[0]), sample(y_domain, shapes[1])),
                           oracle)


def test_torch_agrees_on_the_autograd_rows():
    """A second oracle on the rows autograd has: PyTorch's rules for the same functions."""
    torch = pytest.importorskip("torch")
    binary = {
        np.arctan2: torch.atan2, np.hypot: torch.hypot, np.logaddexp: torch.logaddexp,
        np.logaddexp2: torch.logaddexp2, np.remainder: torch.remainder,
        np.fmax: torch.fmax, np.fmin: torch.fmin,
    }
    args = sample((-3, 3), (2, 3)), sample((0.5, 2), (3,))
    for function, reference in binary.items():
        oracle = torch_oracle(lambda torch, a, b, f=reference: f(a, b))
        assert_gradients_match(function, args, oracle, function.__name__)
    unary = {np.arcsinh: torch.asinh, np.arctanh: torch.atanh, np.exp2: torch.exp2,
             np.log2: torch.log2, np.sinc: torch.sinc}
    for function, reference in unary.items():
        oracle = torch_oracle(lambda torch, a, f=reference: f(a))
        assert_gradients_match(function, (sample((0.1, 0.9), (4,)),), oracle,
                               function.__name__)


# -- conventions at kinks and jumps ------------------------------------------------------


def grad(function, *args):
    return gad.trace(function, *args).grad()


def test_piecewise_constants_are_recorded_with_a_stated_zero():
    x = np.array([-1.0, 0.0, 0.5, 2.0])  # jumps of floor, sign, round… included
    for function in (np.sign, np.floor, np.ceil, np.rint, np.trunc, np.round, np.fix,
                     np.angle, lambda v: v // 1.0, lambda v: v.round()):
        graph = gad.trace(lambda v, f=function: np.sum(f(v) * v), x)
        node = next(n for n in graph.nodes if n.op not in ("input", "const"))
        local = node.jacobian(0)
        assert local.rule == "0 (piecewise constant)" and local.kind == "diagonal"
        assert not np.any(local.matrix())
        # the product rule sends back f(x) alone: the piecewise constant factor adds nothing
        np.testing.assert_array_equal(graph.grad("v"), function(x))


def test_zero_slope_is_exact_even_for_an_infinite_adjoint():
    graph = gad.trace(lambda v: np.floor(v), np.array([0.5, 1.5]))
    np.testing.assert_array_equal(graph.vjp(np.full(2, np.inf))["v"], [0.0, 0.0])
    np.testing.assert_array_equal(graph.jvp({"v": np.full(2, np.nan)}), [0.0, 0.0])


def test_kink_conventions():
    """|x|, fabs and copysign(x, y) take 0 at x = 0; sinc′(0) = 0 (its limit); hypot(0, 0)
    takes 0; fmax and fmin share a tie between traced values and give a tie with a
    constant to neither (as maximum does); they pass the derivative over a NaN."""
    assert grad(np.fabs, 0.0)["x"] == 0.0
    assert grad(lambda x, y: np.copysign(x, y), 0.0, -1.0) == {"x": 0.0, "y": 0.0}
    assert grad(lambda x, y: np.copysign(x, y), 2.0, -1.0) == {"x": -1.0, "y": 0.0}
    assert grad(lambda x, y: np.copysign(x, y), -2.0, 0.0)["x"] == -1.0  # +0 is positive
    assert grad(np.sinc, 0.0)["x"] == 0.0
    assert grad(lambda x, y: np.hypot(x, y), 0.0, 0.0) == {"x": 0.0, "y": 0.0}
    assert grad(lambda x: np.fmax(x, x * 1.0), 1.0)["x"] == 1.0  # ½ + ½
    assert grad(lambda x: np.fmax(x, 0.0), 0.0)["x"] == 0.0  # like max(0, z) at 0
    assert grad(lambda x: np.fmin(x, 1.0), 1.0)["x"] == 0.0
    assert grad(lambda x, y: np.fmax(x, y), np.nan, 2.0) == {"x": 0.0, "y": 1.0}
    assert grad(lambda x, y: np.fmin(x, y), 2.0, np.nan) == {"x": 1.0, "y": 0.0}


def test_remainder_takes_the_slope_of_its_piece():
    """x mod y = x − ⌊x/y⌋ y: slope 1 in x and −⌊x/y⌋ in y, also right at a jump."""
    assert grad(lambda x, y: x % y, 7.5, 2.0) == {"x": 1.0, "y": -3.0}
    assert grad(lambda x, y: x % y, -7.5, 2.0) == {"x": 1.0, "y": 4.0}
    assert grad(lambda x, y: np.fmod(x, y), -7.5, 2.0) == {"x": 1.0, "y": 3.0}
    assert grad(lambda x, y: x % y, 6.0, 2.0) == {"x": 1.0, "y": -3.0}  # at the jump
    assert grad(lambda x: 7.5 % x, 2.0) == {"x": -3.0}  # __rmod__


def test_python_operators_round_and_divmod():
    x = np.array([7.5, -7.5])
    graph = gad.trace(lambda x: np.sum(round(x, 0) + sum(divmod(x, 2.0)) + sum(divmod(9.0, x))),
                      x)
    expected = np.round(x) + sum(divmod(x, 2.0)) + sum(divmod(9.0, x))
    np.testing.assert_array_equal(graph.value, np.sum(expected))
    # ∂(x // 2 + x % 2)/∂x = 0 + 1;  ∂(9 // x + 9 % x)/∂x = 0 − ⌊9/x⌋
    np.testing.assert_array_equal(graph.grad("x"), 1.0 - np.floor(9.0 / x))


def test_nan_to_num_passes_the_finite_values_only():
    x = np.array([1.0, np.nan, np.inf, -np.inf, -2.0])
    graph = gad.trace(lambda x: np.sum(np.nan_to_num(x, nan=0.5, posinf=9.0, neginf=-9.0) * 3.0), x)
    np.testing.assert_array_equal(graph.grad("x"), [3.0, 0.0, 0.0, 0.0, 3.0])
    assert graph.value == np.sum(np.nan_to_num(x, nan=0.5, posinf=9.0, neginf=-9.0) * 3.0)
    with pytest.raises(gad.TraceError, match=r"copy=False.*test_coverage_elementwise"):
        gad.trace(lambda x: np.nan_to_num(x, copy=False), x)


def test_real_numbers_are_their_own_real_part_and_conjugate():
    x = np.array([1.0, -2.0])
    graph = gad.trace(lambda x: np.sum(np.real(x) * x.real + np.conj(x) + x.conjugate()
                                       + x.imag + np.imag(x)), x)
    np.testing.assert_array_equal(graph.grad("x"), 2 * x + 2)
    assert [n.op for n in graph.nodes].count("imag") == 2


def test_rules_in_the_papers_notation():
    rules = {
        np.arcsinh: "diag(1/√(x² + 1))", np.log2: "diag(1/(x ln 2))",
        np.exp2: "diag(2^x ln 2)", np.deg2rad: "(π/180) I", np.sinc: "diag((cos πx − sinc x)/x)",
    }
    for function, rule in rules.items():
        graph = gad.trace(function, np.array([0.5, 0.7]))
        assert graph.output.jacobian(0).rule == rule
    graph = gad.trace(lambda x, y: np.logaddexp(x, y), np.ones(2), np.zeros(2))
    assert graph.output.jacobian(0).rule == "diag(exp(x − u₁))"
    assert graph.output.jacobian(1).rule == "diag(exp(y − u₁))"


def test_every_new_name_dispatches_to_a_primitive():
    """The numpy names of this section, each in a trace: none is refused."""
    for function, _, domain in UNARY.values():
        gad.trace(lambda x, f=function: np.sum(f(x)), sample(domain, (2,)))
    for function, _, x_domain, y_domain in BINARY.values():
        gad.trace(lambda x, y, f=function: np.sum(f(x, y)), sample(x_domain, (2,)),
                  sample(y_domain, (2,)))
