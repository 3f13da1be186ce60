"""Random programs (hypothesis) differentiated three ways: graphviz-ad, finite differences, and
the independent oracles HIPS autograd and PyTorch where they are installed.

A program is a list of steps over a pool of values that starts with the inputs x, y (vectors)
and s (a scalar); each step applies an op to two pool entries and appends the result. The
loss is the sum of everything computed. The same program runs on numpy (traced), on
autograd.numpy and on torch through a tiny namespace of the functions it uses.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import graphviz_ad as gad
from tests.numeric import central_difference


def _shape(v):
    return tuple(v.shape) if hasattr(v, "shape") else ()


def _roll(ns, a):
    return ns.concatenate([a[1:], a[:1]]) if len(_shape(a)) == 1 else a


# Smooth ops only: kinks (max, abs) would make finite differences disagree near a tie.
OPS = {
    "add": lambda ns, a, b, M: a + b,
    "sub": lambda ns, a, b, M: a - b,
    "mul": lambda ns, a, b, M: a * b,
    "div": lambda ns, a, b, M: a / (1.0 + b * b),
    "sin": lambda ns, a, b, M: ns.sin(a),
    "cos": lambda ns, a, b, M: ns.cos(a),
    "tanh": lambda ns, a, b, M: ns.tanh(a),
    "exp": lambda ns, a, b, M: ns.exp(0.5 * ns.tanh(a)),
    "log": lambda ns, a, b, M: ns.log(1.0 + a * a),
    "sqrt": lambda ns, a, b, M: ns.sqrt(1.0 + a * a),
    "square": lambda ns, a, b, M: a**2,
    "neg": lambda ns, a, b, M: -a,
    "sum": lambda ns, a, b, M: ns.sum(a),
    "mean": lambda ns, a, b, M: ns.mean(a),
    "matvec": lambda ns, a, b, M: M @ a if len(_shape(a)) == 1 else a * 2.0,
    "dot": lambda ns, a, b, M: a @ b if len(_shape(a)) == len(_shape(b)) == 1 else a - b,
    "roll": lambda ns, a, b, M: _roll(ns, a),
    "stack_sum": lambda ns, a, b, M: (
        ns.sum(ns.stack([a, b]), axis=0) if _shape(a) == _shape(b) else a + b
    ),
    # -- element-wise (more), reductions and scans (kept smooth: no zeros, no ties)
    "arcsinh": lambda ns, a, b, M: ns.arcsinh(a),
    "exp2": lambda ns, a, b, M: ns.exp2(ns.tanh(a)),
    "arctan2": lambda ns, a, b, M: ns.arctan2(a, 1.0 + b * b),
    "hypot": lambda ns, a, b, M: ns.hypot(a, 1.0 + b * b),
    "logaddexp": lambda ns, a, b, M: ns.logaddexp(a, b),
    "var": lambda ns, a, b, M: ns.var(a) if len(_shape(a)) == 1 else a,
    "prod": lambda ns, a, b, M: ns.prod(1.0 + a * a),
    "cumsum": lambda ns, a, b, M: ns.cumsum(a) if len(_shape(a)) == 1 else a,
}


def run(program, ns, x, y, s, M):
    pool = [x, y, s]
    for op, i, j in program:
        pool.append(OPS[op](ns, pool[i % len(pool)], pool[j % len(pool)], M))
    total = ns.sum(pool[3]) if len(pool) > 3 else ns.sum(x)
    for value in pool[4:]:
        total = total + ns.sum(value)
    return total


programs = st.lists(
    st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 50), st.integers(0, 50)),
    min_size=1,
    max_size=8,
)
vectors = arrays(np.float64, 3, elements=st.floats(-1.5, 1.5))
scalars = st.floats(-1.5, 1.5)
M = np.array([[0.5, -1.0, 0.25], [1.0, 0.5, -0.5], [-0.25, 0.75, 1.0]])


def traced(program, x, y, s):
    return gad.trace(lambda x, y, s: run(program, np, x, y, s, M), x, y, s)


@given(programs, vectors, vectors, scalars)
def test_random_programs_against_finite_differences(program, x, y, s):
    graph = traced(program, x, y, s)
    grads = graph.grad()
    inputs = {"x": x, "y": y, "s": np.float64(s)}
    for name, value in inputs.items():
        def f(v, name=name):
            return run(program, np, **{**inputs, name: v}, M=M)

        numeric = central_difference(f, value)
        scale = 1.0 + np.max(np.abs(numeric))
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-6 * scale)


@given(programs, vectors, vectors, scalars)
def test_reverse_and_forward_mode_agree(program, x, y, s):
    graph = traced(program, x, y, s)
    for name in graph.inputs:
        np.testing.assert_allclose(
            graph.jacobian(name), graph.jacobian(name, mode="forward"), rtol=1e-10, atol=1e-12
        )


@given(programs, vectors, vectors, scalars)
def test_random_programs_against_autograd(program, x, y, s):
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    expected = autograd.grad(lambda x, y, s: run(program, anp, x, y, s, M), (0, 1, 2))(x, y, s)
    grads = traced(program, x, y, s).grad()
    for name, value in zip("xys", expected):
        np.testing.assert_allclose(grads[name], value, rtol=1e-10, atol=1e-12)


class _TorchNamespace:
    """The few functions a program uses, spelled for torch."""

    def __init__(self, torch):
        self.sin, self.cos, self.tanh, self.exp = torch.sin, torch.cos, torch.tanh, torch.exp
        self.log, self.sqrt, self.mean = torch.log, torch.sqrt, torch.mean
        self.concatenate = torch.cat
        self.stack = torch.stack
        self.sum = lambda a, axis=None: torch.sum(a) if axis is None else torch.sum(a, dim=axis)
        self.arcsinh, self.exp2, self.arctan2 = torch.asinh, torch.exp2, torch.atan2
        self.hypot, self.logaddexp, self.prod = torch.hypot, torch.logaddexp, torch.prod
        self.var = lambda a: torch.var(a, correction=0)
        self.cumsum = lambda a: torch.cumsum(a, 0)


@given(programs, vectors, vectors, scalars)
def test_random_programs_against_pytorch(program, x, y, s):
    torch = pytest.importorskip("torch")
    tensors = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, y, s)]
    loss = run(program, _TorchNamespace(torch), *tensors, torch.tensor(M))
    expected = torch.autograd.grad(loss, tensors, allow_unused=True)
    grads = traced(program, x, y, s).grad()
    for name, value in zip("xys", expected):
        reference = 0.0 if value is None else value.numpy()
        np.testing.assert_allclose(grads[name], reference, rtol=1e-10, atol=1e-12)
