"""Writes: item assignment, in-place operators, aliases and views, copies, preallocated
buffers.  Every pattern is run twice, once by plain numpy and once traced: the traced value
must be numpy's, and the gradient must match central differences of the numpy function."""

import numpy as np
import pytest

import graphviz_ad as gad
from tests.numeric import central_difference

rng = np.random.default_rng(17)
x3 = np.array([0.5, -1.2, 2.0])
M = rng.normal(size=(3, 4))


def run_numpy(f, args):
    """f on fresh copies: numpy's in-place writes must not leak between runs."""
    return f(*[np.array(a, dtype=float) for a in args])


def assert_like_numpy(f, *args, check_gradient=True):
    """Traced value equals numpy's; each input's gradient equals finite differences."""
    graph = gad.trace(f, *args)
    np.testing.assert_allclose(graph.value, run_numpy(f, args), rtol=1e-12, atol=1e-14)
    if check_gradient and np.size(graph.value) == 1:
        names = list(graph.inputs)
        for k, name in enumerate(names):
            def partial(a, k=k):
                values = list(args)
                values[k] = a
                return run_numpy(f, values)

            numeric = central_difference(partial, args[k])
            np.testing.assert_allclose(graph.grad(name), numeric, rtol=1e-6, atol=1e-7,
                                       err_msg=f"∂/∂{name}")
    return graph


# -- item assignment ---------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", [
    lambda x: x.__setitem__(1, 7.0),
    lambda x: x.__setitem__(slice(0, 2), x[1:] * 2.0),
    lambda x: x.__setitem__(x < 0, 0.0),
    lambda x: x.__setitem__([2, 0], x[:2] ** 2),
    lambda x: x.__setitem__(Ellipsis, np.sin(x)),
    lambda x: x.__setitem__(slice(None, None, -1), x),  # a write from an overlapping view
], ids=["int", "slice", "mask", "fancy", "ellipsis", "reversed self"])
def test_item_assignment_patterns(pattern):
    def f(x):
        y = x * 1.0
        pattern(y)
        return np.sum(y * np.array([1.0, 2.0, 3.0]) * x)

    assert_like_numpy(f, x3)


def test_augmented_assignment_with_masks_fancy_and_ellipsis():
    def f(x):
        y = np.tanh(x)
        y[y < 0] *= 0.1  # LeakyReLU as course code writes it
        y[[0, 2]] += x[1]
        y[...] *= 2.0
        y[1:] -= x[:2] / 3.0
        y[0] /= 1.5
        y[2] **= 2
        return np.sum(y * y)

    assert_like_numpy(f, x3)


def test_repeated_index_with_plus_equals_adds_once_as_numpy_does():
    a = np.zeros(3)
    a[[0, 0]] += 1.0
    assert a[0] == 1.0  # numpy's buffered semantics: one write wins

    def f(x):
        y = x * 1.0
        y[[0, 0, 1]] += x[2] * np.array([1.0, 2.0, 3.0])
        return np.sum(y * y)

    graph = assert_like_numpy(f, x3)
    node = next(n for n in graph.nodes if n.op == "set")
    value = node.inputs[1]
    # of the two writes to y[0] the last wins: the first gets no gradient
    g = np.arange(1.0, 4.0)
    np.testing.assert_array_equal(node.jacobian(1).vjp(g), [0.0, 1.0, 2.0])
    assert value.shape == (3,)


def test_repeated_plain_assignment_keeps_the_last_value():
    def f(x, v):
        y = x * 1.0
        y[[1, 1]] = v
        return np.sum(y * np.array([1.0, 10.0, 100.0]))

    graph = assert_like_numpy(f, x3, np.array([3.0, 4.0]))
    np.testing.assert_array_equal(graph.grad("v"), [0.0, 10.0])


def test_svm_margins_and_fancy_pairs():
    scores, labels = rng.normal(size=(4, 3)), np.array([0, 2, 1, 2])

    def svm(scores):
        correct = scores[np.arange(4), labels]
        margins = np.maximum(0, scores - correct[:, None] + 1.0)
        margins[np.arange(4), labels] = 0
        return np.sum(margins) / 4

    assert_like_numpy(svm, scores)


def test_broadcast_values_and_leading_unit_axes():
    def f(X, row, col):
        Y = X * 1.0
        Y[1:, :] = row  # a (4,) row broadcast over two rows: summed back
        Y[:, 0] = col[None, :]  # a (1, 3) value into a (3,) selection
        Y[0] = 2.0
        return np.sum(Y * M)

    graph = assert_like_numpy(f, M, rng.normal(size=4), rng.normal(size=3))
    rules = [n.jacobian(1).rule for n in graph.nodes if n.op == "set"]
    assert rules[0] == "S[1:, :]ᵀ E"


def test_a_write_of_nan_passes_no_gradient_to_the_overwritten_entry():
    def f(x):
        y = np.log(x)  # NaN for the negative entry
        y[1] = 0.0
        return np.sum(y)

    with np.errstate(invalid="ignore"):
        graph = gad.trace(f, np.array([1.0, -1.0, 2.0]))
    np.testing.assert_array_equal(graph.grad("x"), [1.0, 0.0, 0.5])


def test_empty_selections_and_empty_arrays():
    assert_like_numpy(lambda x: (x.__setitem__(slice(0, 0), 5.0), np.sum(x * x))[1], x3)

    def empty(x):
        y = x * 2.0
        y[:] = 1.0
        y += 1.0
        return np.sum(y)

    graph = gad.trace(empty, np.zeros(0))
    assert graph.value == 0.0 and graph.grad("x").shape == (0,)


def test_set_rules_are_shown_and_drawn():
    def f(x, v):
        y = x * 1.0
        y[0:2] = v
        return np.sum(y)

    graph = gad.trace(f, x3, np.array([1.0, 2.0]))
    node = next(n for n in graph.nodes if n.op == "set")
    assert node.call_text == "u₁[0:2] ← v"
    assert node.jacobian(0).rule == "I − SᵀS, S = S[0:2]"
    assert node.jacobian(0).kind == "diagonal"
    assert node.jacobian(1).rule == "S[0:2]ᵀ"
    assert "S[0:2]" in graph.to_dot(layout="denominator")  # (Sᵀ)ᵀ = S
    np.testing.assert_array_equal(node.jacobian(0).matrix(), np.diag([0.0, 0.0, 1.0]))
    np.testing.assert_array_equal(node.jacobian(1).matrix(), [[1, 0], [0, 1], [0, 0]])
    dot = graph.to_dot()
    assert "I − SᵀS, S = S[0:2]" in dot and "u₁[0:2] ← v" in dot
    steps = list(gad.Debugger(graph, "backward").backward())
    assert steps and graph.grad("v").tolist() == [1.0, 1.0]


# -- in-place operators and aliases --------------------------------------------------------------


def test_plus_equals_moves_every_alias_issue_13_case_3():
    def f(x):
        y = x
        x += 1
        return y.sum()

    x = np.array([0.2, -0.1, 0.534])
    graph = assert_like_numpy(f, x)
    assert graph.value == pytest.approx(3.634)


def test_aliases_through_a_list_and_a_dict_see_the_write():
    def f(x, w):
        layers = [x, {"w": w}]
        x *= w
        w -= 0.5
        return np.sum(layers[0] * layers[1]["w"])

    assert_like_numpy(f, x3, np.array([1.0, 2.0, -1.0]))


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/=", "**=", "@="])
def test_each_in_place_operator(op):
    source = f"def f(A, B):\n    C = A\n    A {op} B\n    return np.sum(C * A)\n"
    namespace = {"np": np}
    exec(compile(source, f"<{op}>", "exec"), namespace)
    A = rng.uniform(0.5, 1.5, size=(3, 3))
    B = rng.uniform(0.5, 1.5, size=(3, 3)) if op != "**=" else np.full((3, 3), 2.0)
    assert_like_numpy(namespace["f"], A, B)


def test_a_number_is_immutable_so_plus_equals_makes_a_new_one():
    def f(x):
        total = x.sum()
        kept = total
        total += 1.0
        return kept * total

    assert_like_numpy(f, x3)


def test_in_place_result_that_does_not_fit_is_a_shape_error_naming_the_line():
    def f(x):
        x += np.ones((2, 3))
        return x

    with pytest.raises(gad.ShapeError, match=r"test_writes.py:\d+.*does not fit"):
        gad.trace(f, x3)
    with pytest.raises(gad.TraceError, match="//="):
        gad.trace(lambda x: x.__ifloordiv__(2), x3)


def test_a_view_sees_a_write_into_its_array():
    def f(x):
        v = x[0:2]  # a view in numpy
        first = x[2:]  # a view holding no written element
        x[0] = 5.0 * x[2]
        return np.sum(v * v) + np.sum(first)

    graph = assert_like_numpy(f, x3)
    assert sum(n.op == "set" for n in graph.nodes) == 1


def test_a_write_into_a_view_reaches_its_array_and_the_other_views():
    def f(x):
        row = x[1]  # a view of a matrix row
        column = x[:, 2]
        tail = x.T[1:]  # a view through a transpose
        row[1:3] = np.tanh(row[0:2])
        return np.sum(x * x) + np.sum(column ** 3) + np.sum(tail * M.T[1:])

    assert_like_numpy(f, M)


def test_writes_through_reshape_and_transpose_views():
    def f(x):
        flat = x.reshape(-1)  # a view of a contiguous matrix
        flat[::5] *= 3.0
        x.T[0] += 1.0
        return np.sum(np.sin(x)) + np.sum(flat)

    assert_like_numpy(f, M)


def test_a_reshape_numpy_copies_is_no_view():
    def f(x):
        copied = x.T.reshape(-1)  # not contiguous: numpy copies
        copied[0] = 100.0
        return np.sum(x) + np.sum(copied)

    assert_like_numpy(f, M)


def test_augmented_assignment_through_a_slice_records_one_write():
    def f(x):
        y = x * 1.0
        y[0:2] += 1.0
        return np.sum(y)

    graph = assert_like_numpy(f, x3)
    assert [n.op for n in graph.nodes if n.inputs] == ["multiply", "index", "add", "set", "sum"]


def test_copies_are_not_aliases():
    def f(x):
        copies = [x.copy(), np.copy(x), np.array(x), +x, x.astype(float), x.flatten()]
        x *= 2.0
        return sum(np.sum(c * (i + 1.0)) for i, c in enumerate(copies)) + np.sum(x)

    graph = assert_like_numpy(f, x3)
    assert sum(n.op == "copy" for n in graph.nodes) == 3
    assert next(n for n in graph.nodes if n.op == "copy").jacobian(0).rule == "I"


def test_views_without_copy_stay_aliases():
    def f(x):
        same = [np.array(x, copy=False), x.ravel(), x.reshape(3), x.T]
        x += 1.0
        return sum(np.sum(s * (i + 1.0)) for i, s in enumerate(same))

    assert_like_numpy(f, x3)


def test_inputs_sharing_memory_refuse_a_write():
    a = np.array([1.0, 2.0, 3.0])

    def f(x, y):
        x += 1.0
        return np.sum(x * y)

    with pytest.raises(gad.TraceError, match="shares its memory with another input"):
        gad.trace(f, a, a)
    with pytest.raises(gad.TraceError, match="shares its memory"):
        gad.trace(f, M[0], M)
    assert gad.trace(f, a, a.copy()).value == run_numpy(f, (a, a))
    np.testing.assert_array_equal(a, [1.0, 2.0, 3.0])  # the caller's array is not written
    assert gad.trace(lambda x, y: np.sum(x * y), a, a).grad("x").tolist() == [1.0, 2.0, 3.0]


def test_an_index_that_is_traced_is_refused():
    with pytest.raises(gad.TraceError, match="indexing with a traced value"):
        gad.trace(lambda x: x.__setitem__(x, 1.0), x3)


# -- preallocated buffers ----------------------------------------------------------------------


def test_rnn_forward_into_a_preallocated_buffer():
    T, H = 4, 3
    W = rng.normal(size=(H, H)) * 0.5
    xs = rng.normal(size=(T, H))

    def rnn(W, xs):
        h = np.zeros((T, H))
        prev = np.zeros(H)
        for t in range(T):
            next_h = np.tanh(W @ prev + xs[t])
            h[t, :] = next_h
            prev = next_h
        return np.sum(h ** 2)

    graph = assert_like_numpy(rnn, W, xs)
    assert sum(n.op == "set" for n in graph.nodes) == T


def test_naive_convolution_into_a_preallocated_output():
    def conv(x, w):
        out = np.zeros((3, 3))
        for i in range(3):
            for j in range(3):
                out[i, j] = np.sum(x[i:i + 2, j:j + 2] * w)
        return np.sum(out * out)

    assert_like_numpy(conv, rng.normal(size=(4, 4)), rng.normal(size=(2, 2)))


@pytest.mark.parametrize("make", [
    lambda x: np.empty(3), lambda x: np.ones(3), lambda x: np.full(3, 2.0),
    lambda x: np.zeros_like(x), lambda x: np.ones_like(x), lambda x: np.empty_like(x),
    lambda x: np.full_like(x, -1.0), lambda x: np.zeros(3) .copy(),
], ids=["empty", "ones", "full", "zeros_like", "ones_like", "empty_like", "full_like",
        "copy of a buffer"])
def test_every_constructor_makes_a_buffer(make):
    def f(x):
        out = make(x)
        out[:] = 0.0
        out[1:] = x[:2] * 3.0
        alias = out
        out += x
        return np.sum(alias * out) + np.sum(np.tanh(out)) + out.sum() + (out @ x)

    assert_like_numpy(f, x3)


def test_a_switched_buffer_works_with_numpy_functions_methods_and_comparisons():
    def f(x):
        h = np.zeros((2, 3))
        h[0] = x
        h[1, ::2] = x[1]
        parts = [np.sum(h, axis=0), h.T @ np.ones(2), np.concatenate([h[0], x]), h.mean(),
                 np.where(h > 0, h, 0.0).sum(), np.maximum(h, 0.25), h.reshape(-1)[1:4],
                 np.stack([h[1], x])]
        return sum(np.sum(np.sin(p)) for p in parts) + len(h)

    assert_like_numpy(f, x3)


def test_a_buffer_is_a_plain_array_until_a_traced_value_arrives():
    seen = {}

    def f(x):
        onehot = np.zeros(3)
        onehot[1] = 1.0
        doubled = onehot * 2.0
        seen["types"] = (type(doubled), type(np.sum(onehot)))
        seen["plain"] = (onehot + 1).tolist()
        return np.sum(x * doubled)

    graph = gad.trace(f, x3)
    assert seen["types"] == (np.ndarray, np.float64)
    assert seen["plain"] == [1.0, 2.0, 1.0]
    np.testing.assert_array_equal(graph.grad("x"), [0.0, 2.0, 0.0])
    assert type(np.zeros(2)) is np.ndarray  # numpy restored
    assert np.pad(np.ones(2), 1).tolist() == [0.0, 1.0, 1.0, 0.0]


def test_a_buffer_keeps_its_earlier_contents_as_a_constant():
    def f(x):
        out = np.full(4, 0.5)
        out[0] = 2.0
        out[1:] = x * out[1:]
        return np.sum(out * out)

    graph = assert_like_numpy(f, x3)
    constants = [n for n in graph.nodes if n.op == "const" and n.shape == (4,)]
    assert constants[0].value.tolist() == [2.0, 0.5, 0.5, 0.5]


@pytest.mark.parametrize("body, message", [
    ("outside[0] = x[1]", "plain numpy array made outside"),
    ("outside[:] = x", "plain numpy array made outside"),
    ("h = zeros(3); h[0] = x[0]", "made outside the traced function.*from numpy import zeros"),
    ("h = np.zeros((2, 3)); row = h[0]; h[1] = x", "live view"),
    ("h = np.zeros((2, 3)); row = h[0]; row[:] = x", "into a view of a plain array"),
    ("h = np.zeros((2, 3)); row = h[0]; row += x", "into a view of a plain array"),
    ("h = np.zeros(3, dtype=int); h[0] = x[0]", "dtype int64"),
])
def test_writes_that_cannot_be_followed_are_refused_naming_the_line(body, message):
    namespace = {"np": np, "zeros": np.zeros, "outside": np.zeros(3)}
    source = f"def f(x):\n    {body}\n    return np.sum(x)\n"
    exec(compile(source, "course.py", "exec"), namespace)
    with pytest.raises(gad.TraceError, match=message) as error:
        gad.trace(namespace["f"], x3)
    assert "course.py:2" in str(error.value)


def test_a_buffer_written_after_its_trace_is_refused():
    kept = {}

    def f(x):
        kept["buffer"] = np.zeros(3)
        kept["x"] = x
        return np.sum(x)

    gad.trace(f, x3)
    with pytest.raises(gad.TraceError, match="after its trace"):
        kept["buffer"][0] = kept["x"][0]


def test_a_switched_buffer_read_by_a_path_around_numpy_shows_nan_not_numbers():
    def f(x):
        h = np.zeros(3)
        h[:] = x
        raw = np.ndarray.view(h, np.ndarray)
        assert np.isnan(raw).all()
        return h.sum()

    assert gad.trace(f, x3).value == pytest.approx(np.sum(x3))


def test_tracing_is_deterministic_with_writes_and_buffers():
    def f(x):
        h = np.zeros((2, 3))
        h[0] = x
        v = h[0]
        h[0, 1] = 3.0
        return np.sum(v * h[1] + v)

    first, second = gad.trace(f, x3), gad.trace(f, x3)
    assert str(first) == str(second)
    assert first.to_dot() == second.to_dot()


def test_a_list_holding_traced_values_is_written_as_numpy_builds_it():
    def f(x):
        y = x * 1.0
        y[:2] = [x[2], x[0] * 2.0]
        h = np.zeros(3)
        h[1:] = [x[1], x[2] ** 2]
        return np.sum(y * h)

    assert_like_numpy(f, x3)


def test_augmented_assignment_into_a_plain_buffer_traces():
    def f(x):
        h = np.zeros((2, 3))
        h[1, :] += x  # Python: t = h[1, :]; t += x; h[1, :] = t, with t a view of h
        h[0, 1:] -= x[:2] * 2.0
        h[:, 0] *= 3.0
        return np.sum(h * h)

    assert_like_numpy(f, x3)


def test_numpy_is_restored_when_the_traced_function_raises_and_after_nested_traces():
    zeros, array = np.zeros, np.array

    def inner(x):
        h = np.zeros(2)
        h[0] = x
        return h.sum()

    def outer(x):
        nested = gad.trace(inner, 3.0)
        h = np.zeros(2)
        h[1] = x * nested.grad("x")
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        gad.trace(outer, 1.0)
    assert np.zeros is zeros and np.array is array
    assert type(np.zeros(2)) is np.ndarray
