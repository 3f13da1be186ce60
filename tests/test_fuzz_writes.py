"""Random programs that write: in-place operators, item assignment through every kind of
index, aliases, views, copies, reused buffers and plain arrays mixed in, on empty arrays and
with NaN.  Each runs once with plain numpy and once traced; the values must agree (NaN where
numpy has NaN) and so must the gradient with central differences of the numpy run.  Any
silent difference fails.

Deterministic in CI (the ``ci`` profile of conftest.py); ``GAD_FUZZ_EXAMPLES=2000 pytest
tests/test_fuzz_writes.py`` runs more.
"""

import os

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import graphviz_ad as gad
from tests.numeric import central_difference

EXAMPLES = int(os.environ.get("GAD_FUZZ_EXAMPLES", "150"))
MASK = np.array([True, False, True, True, False])  # a fixed pattern: no kink in the loss

# Smooth operations making a new array from one or two others.
UNARY = {
    "sin": np.sin,
    "tanh": np.tanh,
    "scale": lambda a: a * 1.5,
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (1.0 + b * b),
}
IN_PLACE = ("+=", "-=", "*=", "/=")
# Views of a vector that are vectors again, some through a reshape or a transpose.
VIEWS = {
    "[:]": lambda a: a[:],
    "[::-1]": lambda a: a[::-1],
    "[...]": lambda a: a[...],
    "row of a reshape": lambda a: a.reshape(1, -1)[0],
    "row of a transpose": lambda a: a.reshape(-1, 1).T[0],
}
KEYS = ("int", "slice", "reversed", "mask", "repeated", "ellipsis")


def key_for(kind: str, n: int):
    """An index into a vector of length n (an empty selection when n is too short)."""
    if kind == "int":
        return n - 1 if n else slice(0, 0)
    if kind == "slice":
        return slice(1, 3)
    if kind == "reversed":
        return slice(None, None, -1)
    if kind == "mask":
        return MASK[:n]
    if kind == "repeated":
        return [0, 0, n - 1] if n else []
    return Ellipsis


def update(target, op, value):
    if op == "+=":
        target += value
    elif op == "-=":
        target -= value
    elif op == "*=":
        target *= value
    else:
        target /= 1.0 + value * value


def augment(target, key, op, value):
    """``target[key] op= value`` as Python runs it (a view of a buffer in between)."""
    if op == "+=":
        target[key] += value
    elif op == "-=":
        target[key] -= value
    elif op == "*=":
        target[key] *= value
    else:
        target[key] /= 1.0 + value * value


@st.composite
def programs(draw):
    """(steps, n, x): steps over a pool that starts as [x]; each pool entry is an object
    (aliases share one) whose kind is "traced", "buffer" (made by np.zeros…, plain until a
    traced value is written in) or "plain" (no buffer: only plain values go in)."""
    n = draw(st.sampled_from([0, 1, 3, 5]))
    kinds = ["traced"]  # by object
    objects = [0]  # pool entry -> object
    steps = []
    for _ in range(draw(st.integers(1, 10))):
        i = draw(st.integers(0, len(objects) - 1))
        j = draw(st.integers(0, len(objects) - 1))
        kind_i, kind_j = kinds[objects[i]], kinds[objects[j]]
        action = draw(st.sampled_from(
            ["unary", "binary", "alias", "view", "copy", "buffer", "plain", "set", "augmented",
             "in_place"]))
        if action in ("unary", "binary", "copy", "buffer", "plain"):
            if action == "unary":
                steps.append(("unary", draw(st.sampled_from(sorted(UNARY))), i))
                new_kind = "traced" if kind_i == "traced" else "plain"
            elif action == "binary":
                steps.append(("binary", draw(st.sampled_from(sorted(BINARY))), i, j))
                new_kind = "traced" if "traced" in (kind_i, kind_j) else "plain"
            elif action == "copy":
                how = draw(st.sampled_from(["method", "np.copy", "np.array"]))
                steps.append(("copy", how, i))
                new_kind = "traced" if kind_i == "traced" else "plain"
            elif action == "buffer":
                steps.append(("buffer", draw(st.sampled_from(["zeros", "ones", "full",
                                                              "zeros_like"]))))
                new_kind = "buffer"
            else:
                steps.append(("plain", draw(st.floats(-2, 2))))
                new_kind = "plain"
            kinds.append(new_kind)
            objects.append(len(kinds) - 1)
        elif action == "alias":
            steps.append(("alias", i))
            objects.append(objects[i])
        elif action == "view":
            if kind_i == "buffer":  # a view of a plain buffer would refuse its first write
                continue
            steps.append(("view", draw(st.sampled_from(sorted(VIEWS))), i))
            kinds.append(kind_i)
            objects.append(len(kinds) - 1)
        else:
            source = draw(st.sampled_from(["scalar", "entry", "sum"]))
            traced_value = source != "scalar" and kind_j == "traced"
            if kind_i == "plain" and traced_value:
                continue  # a traced value into an array made outside: refused, not silent
            if kind_i == "buffer" and traced_value:
                kinds[objects[i]] = "traced"
            if action == "in_place":
                steps.append(("in_place", draw(st.sampled_from(IN_PLACE)), i, source, j))
            else:
                key = draw(st.sampled_from(KEYS))
                op = draw(st.sampled_from(IN_PLACE)) if action == "augmented" else "="
                steps.append((action, key, op, i, source, j))
    values = st.floats(-2, 2).filter(lambda v: abs(v) > 1e-2)
    x = np.array(draw(st.lists(values, min_size=n, max_size=n)))
    if n and draw(st.integers(0, 9)) == 0:
        x[draw(st.integers(0, n - 1))] = np.nan
    return steps, n, x


def run(steps, n, x):
    pool = [x]
    for step in steps:
        action = step[0]
        if action == "unary":
            pool.append(UNARY[step[1]](pool[step[2]]))
        elif action == "binary":
            pool.append(BINARY[step[1]](pool[step[2]], pool[step[3]]))
        elif action == "alias":
            pool.append(pool[step[1]])
        elif action == "view":
            pool.append(VIEWS[step[1]](pool[step[2]]))
        elif action == "copy":
            a = pool[step[2]]
            copies = {"method": a.copy, "np.copy": np.copy, "np.array": np.array}
            pool.append(copies[step[1]]() if step[1] == "method" else copies[step[1]](a))
        elif action == "buffer":
            make = {"zeros": lambda: np.zeros(n), "ones": lambda: np.ones(n),
                    "full": lambda: np.full(n, 0.25), "zeros_like": lambda: np.zeros_like(x)}
            pool.append(make[step[1]]())
        elif action == "plain":
            pool.append(np.linspace(-1.0, 1.0, n) * step[1])
        elif action == "in_place":
            _, op, i, source, j = step
            update(pool[i], op, value_of(source, pool[j], Ellipsis))
        else:
            _, key_kind, op, i, source, j = step
            key = key_for(key_kind, n)
            value = value_of(source, pool[j], key)
            if op == "=":
                pool[i][key] = value
            else:
                augment(pool[i], key, op, value)
    weights = [np.sin(np.arange(n) + k) for k in range(len(pool))]
    return sum(np.sum(np.tanh(entry) * w) for entry, w in zip(pool, weights))


def value_of(source, entry, key):
    if source == "scalar":
        return 0.75
    if source == "sum":
        return np.sum(entry) * 0.1
    return entry[key] * 0.5


@settings(max_examples=EXAMPLES)
@given(programs())
def test_random_writing_programs_match_numpy(program):
    steps, n, x = program
    with np.errstate(all="ignore"):
        expected = run(steps, n, x.copy())
        graph = gad.trace(lambda x: run(steps, n, x), x)
        np.testing.assert_allclose(graph.value, expected, rtol=1e-10, atol=1e-12,
                                   equal_nan=True, err_msg=str(steps))
        gradient = graph.grad("x")
    assert np.shape(gradient) == x.shape
    if np.isfinite(expected) and not np.isnan(x).any():
        numeric = central_difference(lambda v: run(steps, n, v.copy()), x)
        np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-6, err_msg=str(steps))
