"""compare(): a hand-written backward against the traced one, and the diagnosis of where
and how it goes wrong.

Each kind of mistake has a minimal forward with a wrong backward (the diagnosis must fire,
at the marked line) and a right one (it must compare clean, with no ✘)."""

import inspect
import itertools
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import graphviz_ad as gad
from graphviz_ad import propagate
from graphviz_ad.cli import main
from graphviz_ad.compare import KINDS, Mismatch, run_recorded
from graphviz_ad.examples import derivation_mistakes
from graphviz_ad.notation import adjoint
from tests.random_programs import program_of, programs


def marked_line(function, kind: str) -> int:
    """The line of ``function`` marked ``# ✘ kind``."""
    lines, first = inspect.getsourcelines(function)
    for offset, line in enumerate(lines):
        if f"# ✘ {kind}" in line:
            return first + offset
    raise AssertionError(f"no line marked ✘ {kind} in {function.__name__}")


# -- minimal cases: (forward, wrong backward, right backward, inputs) per kind ------------------


def square_product(A, W):
    return np.sum(np.tanh(A @ W))


def square_product_wrong(A, W):
    dY = 1 - np.tanh(A @ W) ** 2
    dW = dY.T @ A  # ✘ transpose
    return {"A": dY @ W.T, "W": dW}


def square_product_right(A, W):
    dY = 1 - np.tanh(A @ W) ** 2
    dW = A.T @ dY
    return {"A": dY @ W.T, "W": dW}


def unrolled(W, h, t):
    for _ in range(3):
        h = np.tanh(W @ h)
    return np.sum(h * t)


def unrolled_wrong(W, h, t):
    hs = [h]
    for _ in range(3):
        hs.append(np.tanh(W @ hs[-1]))
    dW = np.zeros_like(W)
    dh = t
    for step in (3, 2, 1):
        delta = dh * (1 - hs[step] ** 2)
        dW += np.outer(delta, hs[step - 1])
        dh = W @ delta  # ✘ transpose
    return {"W": dW, "h": dh}


def unrolled_right(W, h, t):
    states = [h, np.tanh(W @ h)]
    states.append(np.tanh(W @ states[-1]))
    states.append(np.tanh(W @ states[-1]))
    dW, dh = 0.0, t
    for before, after in reversed(list(itertools.pairwise(states))):
        delta = dh * (1 - after**2)
        dW, dh = dW + np.outer(delta, before), W.T @ delta
    return {"W": dW, "h": dh}


def squares(x):
    s = np.sin(x)
    return np.sum(s ** 2)


def squares_wrong(x):
    ds = np.sin(x)  # ✘ factor
    return ds * np.cos(x)


def squares_right(x):
    ds = 2 * np.sin(x)
    return ds * np.cos(x)


def mean_square(e):
    return np.mean(e ** 2)


def mean_square_wrong(e):
    de = 2 * e  # ✘ factor
    return de


def mean_square_right(e):
    de = 2 * e / e.size
    return de


def difference(a, b):
    d = a - b
    return np.sum(np.exp(d))


def difference_wrong(a, b):
    dd = np.exp(a - b)
    db = dd  # ✘ sign
    return dd, db


def difference_right(a, b):
    dd = np.exp(a - b)
    db = -dd
    return dd, db


def relu(z, t):
    h = np.maximum(0, z)
    return np.sum(h * t)


def relu_wrong(z, t):
    dh = t
    dz = dh  # ✘ mask
    return {"z": dz}


def relu_right(z, t):
    dh = t
    dz = dh * (z > 0)
    return {"z": dz}


def relu_in_place(z, t):
    dz = t.copy()
    dz[z <= 0] = 0.0  # the classic relu_backward, an update in place
    return {"z": dz}


def absolute(x, w):
    return np.sum(np.abs(x) * w)


def absolute_wrong(x, w):
    dx = w  # ✘ mask
    return {"x": dx}


def absolute_right(x, w):
    dx = w * np.sign(x)
    return {"x": dx}


def clipped(x, w):
    return np.sum(np.clip(x, -1.0, 1.0) * w)


def clipped_wrong(x, w):
    dx = w  # ✘ mask
    return dx, None  # None: no gradient for w


def clipped_right(x, w):
    return w * ((x > -1.0) & (x < 1.0)), None


def largest(x):
    return np.max(x) ** 2


def largest_wrong(x):
    dm = 2 * np.max(x)
    dx = dm * np.ones_like(x)  # ✘ mask
    return dx


def largest_right(x):
    dm = 2 * np.max(x)
    dx = dm * (x == np.max(x))
    return dx


def scaled(x, s):
    return np.sum(np.tanh(x * s))


def scaled_wrong(x, s):
    du = 1 - np.tanh(x * s) ** 2
    ds = du * x  # ✘ broadcast
    return {"x": du * s, "s": ds}


def scaled_right(x, s):
    du = 1 - np.tanh(x * s) ** 2
    ds = np.sum(du * x)
    return {"x": du * s, "s": ds}


def bias(X, b):
    Z = X + b
    return np.sum(Z ** 2)


def bias_wrong(X, b):
    dZ = 2 * (X + b)
    db = dZ  # ✘ broadcast
    return {"X": dZ, "b": db}


def bias_right(X, b):
    dZ = 2 * (X + b)
    db = np.sum(dZ, axis=0)
    return {"X": dZ, "b": db}


def twice(x):
    return np.sum(x * np.sin(x))


def twice_wrong(x):
    dx = np.sin(x)  # ✘ path
    return dx


def twice_right(x):
    dx = np.sin(x) + x * np.cos(x)
    return dx


def normalised(x):
    mean = np.mean(x)
    centred = x - mean
    return np.sum(centred ** 3)


def normalised_wrong(x):
    dcentred = 3 * (x - np.mean(x)) ** 2
    dx = dcentred  # ✘ path
    return dx


def normalised_right(x):
    dcentred = 3 * (x - np.mean(x)) ** 2
    dx = dcentred - np.mean(dcentred)
    return dx


def column_means(X, T):
    mu = np.mean(X, axis=0)
    return np.sum((X - mu) * T)


def column_means_wrong(X, T):
    dmu = -np.sum(T, axis=1, keepdims=True)  # ✘ axis
    return {"X": T + dmu / X.shape[0]}


def column_means_right(X, T):
    dmu = -np.sum(T, axis=0)
    return {"X": T + dmu / X.shape[0]}


def row_sums(X, w):
    s = np.sum(X, axis=1)
    return np.sum(s * w)


def row_sums_wrong(X, w):
    ds = w
    dX = np.broadcast_to(ds, X.shape)  # ✘ axis
    return {"X": dX}


def row_sums_right(X, w):
    ds = w
    dX = np.broadcast_to(ds[:, None], X.shape)
    return {"X": dX}


def cubes(x):
    return np.sum(x ** 2)


def cubes_wrong(x):
    dx = x ** 3  # ✘ differs
    return dx


def cubes_right(x):
    dx = 2 * x
    return dx


rng = np.random.default_rng(5)
CASES = {
    "transpose": (square_product, square_product_wrong, square_product_right,
                  (rng.normal(size=(3, 3)), rng.normal(size=(3, 3)))),
    "transpose operand": (unrolled, unrolled_wrong, unrolled_right,
                          (rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3))),
    "factor 2": (squares, squares_wrong, squares_right, (np.array([0.3, 1.2, -0.7]),)),
    "factor 1/n": (mean_square, mean_square_wrong, mean_square_right,
                   (np.array([0.5, -1.0, 2.0, 0.25]),)),
    "sign": (difference, difference_wrong, difference_right,
             (np.array([1.0, 0.5]), np.array([0.2, -0.4]))),
    "mask relu": (relu, relu_wrong, relu_right,
                  (np.array([1.0, -2.0, 0.5, -0.1]), np.array([0.3, 0.7, -1.0, 2.0]))),
    "mask abs": (absolute, absolute_wrong, absolute_right,
                 (np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.7, -1.0]))),
    "mask clip": (clipped, clipped_wrong, clipped_right,
                  (np.array([1.5, -2.0, 0.5]), np.array([0.3, 0.7, -1.0]))),
    "mask max": (largest, largest_wrong, largest_right, (np.array([0.5, 2.0, -1.0]),)),
    "broadcast scalar": (scaled, scaled_wrong, scaled_right, (np.array([0.5, -1.0, 0.2]), 1.5)),
    "broadcast rows": (bias, bias_wrong, bias_right,
                       (rng.normal(size=(4, 3)), rng.normal(size=3))),
    "path twice": (twice, twice_wrong, twice_right, (np.array([0.5, -1.0, 2.0]),)),
    "path mean": (normalised, normalised_wrong, normalised_right,
                  (np.array([0.5, -1.0, 2.0, 0.1]),)),
    "axis sum": (column_means, column_means_wrong, column_means_right,
                 (rng.normal(size=(4, 3)), rng.normal(size=(4, 3)))),
    "axis spread": (row_sums, row_sums_wrong, row_sums_right,
                    (rng.normal(size=(3, 3)), np.array([1.0, -2.0, 0.5]))),
    "differs": (cubes, cubes_wrong, cubes_right, (np.array([0.5, -1.0, 2.0]),)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_diagnosis_fires_at_the_marked_line_with_its_kind(case):
    forward, wrong, _, inputs = CASES[case]
    kind = case.split()[0]
    report = gad.compare(forward, wrong, *inputs)
    assert not report.passed
    first = report.first_divergence
    assert first is not None, str(report)
    assert (first.assignment.lineno, first.diagnosis.kind) == (marked_line(wrong, kind), kind), \
        str(report)
    assert KINDS[kind] in str(report)
    assert f"{first.assignment.name} ({first.assignment.source})" in str(report)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_right_derivation_compares_clean(case):
    forward, _, right, inputs = CASES[case]
    report = gad.compare(forward, right, *inputs)
    assert report.passed, str(report)
    assert report.first_divergence is None and not report.wrong
    assert all(result.status != "mismatch" for result in report.inputs.values())
    assert "every returned gradient matches" in str(report)
    assert "✘" not in str(report)


def test_the_issue_example_locates_the_missing_relu_mask_at_dz():
    forward, wrong = derivation_mistakes.relu_layer, derivation_mistakes.relu_layer_backward
    report = derivation_mistakes.reports[3]
    first = report.first_divergence
    assert first.assignment.name == "dz"
    assert first.diagnosis.kind == "mask"
    assert report.names[first.node.id] == "z"  # the forward's own name for the node
    assert first.node.op == "add" and first.diagnosis.edge[1].op == "maximum"
    z, relu_node, output = first.node.label, first.diagnosis.edge[1], report.graph.output.label
    assert first.diagnosis.rule == f"diag({z} > 0)"
    assert forward.__name__ == report.graph.name and wrong.__name__ == report.backward
    text = str(report)
    assert "first divergence: dz (derivation_mistakes.py:" in text
    assert f"should be {adjoint('z', output)} = {adjoint(z, output)}" in text
    assert f"yours lacks the mask [{z} > 0] of {relu_node.label} = maximum(0, {z})" in text
    assert report.inputs["W"].mismatch.wrong == 3 and report.inputs["W"].mismatch.size == 6


def test_an_update_in_place_is_recorded_and_compares_clean():
    _, _, _, inputs = CASES["mask relu"]
    report = gad.compare(relu, relu_in_place, *inputs)
    assert report.passed
    changes = [(a.name, a.lineno) for a in report.assignments if a.name == "dz"]
    assert len(changes) == 2 and changes[1][1] == changes[0][1] + 1


def test_a_missing_path_shows_each_contribution_and_their_sum():
    report = gad.compare(twice, twice_wrong, np.array([0.5, -1.0, 2.0]))
    diagnosis = report.first_divergence.diagnosis
    assert diagnosis.details[0] == "the contributions, one per use, and their sum:"
    assert sum(line.strip().startswith("via ") for line in diagnosis.details) == 2
    assert diagnosis.details[-1].strip().startswith("sum = ")


def test_factors_are_named_as_the_slip_they_are():
    report = gad.compare(mean_square, mean_square_wrong, np.array([0.5, -1.0, 2.0, 0.25]))
    assert report.first_divergence.diagnosis.factor == pytest.approx(4.0)
    assert "a missing factor 1/4" in report.first_divergence.diagnosis.words
    report = gad.compare(squares, squares_wrong, np.array([0.3, 1.2, -0.7]))
    assert "a missing factor 2" in report.first_divergence.diagnosis.words


def test_a_transposed_matrix_gradient_is_named_in_the_papers_notation():
    x, W, t = np.ones((4, 3)), np.arange(6.0).reshape(3, 2), np.arange(8.0).reshape(4, 2)
    report = gad.compare(derivation_mistakes.affine, derivation_mistakes.affine_backward,
                         x, W, t)
    assert report.inputs["W"].diagnosis.kind == "transpose"
    product = next(node for node in report.graph.nodes if node.op == "matmul").label
    output = report.graph.output.label
    upstream = adjoint(product, output)
    assert (f"{adjoint('W', output)} = xᵀ · {upstream}, not ({upstream})ᵀ · x"
            in report.first_divergence.diagnosis.words)


# -- what the backward may return --------------------------------------------------------------


def pair(x, y):
    return np.sum(x * y)


@pytest.mark.parametrize("backward", [
    lambda x, y: {"x": y, "y": x},
    lambda x, y: (y, x),
    lambda x, y: [y, x],
])
def test_the_gradients_may_come_as_a_dict_or_in_argument_order(backward):
    report = gad.compare(pair, backward, np.array([1.0, 2.0]), np.array([3.0, -1.0]))
    assert report.passed and set(report.inputs) == {"x", "y"}


def test_gradients_of_list_and_dict_arguments_come_item_by_item():
    def forward(params, xs):
        return np.sum(params["w"] * xs[0] * xs[1])

    def backward(params, xs):
        return {"params": {"w": xs[0] * xs[1]}, "xs": [params["w"] * xs[1], params["w"] * xs[0]]}

    w, a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0]), np.array([0.5, 2.0])
    report = gad.compare(forward, backward, {"w": w}, [a, b])
    assert report.passed and set(report.inputs) == {"params['w']", "xs[0]", "xs[1]"}
    report = gad.compare(forward, lambda params, xs: ({"w": a * b}, [w * b, w]), {"w": w}, [a, b])
    assert report.inputs["xs[1]"].status == "mismatch" and report.inputs["xs[0]"].status == "match"


def test_a_single_input_takes_one_array_and_missing_gradients_are_not_failures():
    report = gad.compare(lambda x: np.sum(x ** 2), lambda x: 2 * x, np.array([1.0, 2.0]))
    assert report.passed
    report = gad.compare(pair, lambda x, y: {"x": y}, np.array([1.0, 2.0]), np.array([3.0, 1.0]))
    assert report.passed and report.inputs["y"].status == "missing"
    assert "not returned: y" in str(report)


def test_bad_results_are_refused_with_the_names():
    inputs = (np.array([1.0, 2.0]), np.array([3.0, 1.0]))
    with pytest.raises(KeyError, match="'z', which is not an input of pair"):
        gad.compare(pair, lambda x, y: {"z": x}, *inputs)
    with pytest.raises(TypeError, match="returned one array but pair has 2 inputs"):
        gad.compare(pair, lambda x, y: x, *inputs)
    with pytest.raises(TypeError, match="returned None"):
        gad.compare(pair, lambda x, y: None, *inputs)
    with pytest.raises(ValueError, match="scalar forward"):
        gad.compare(lambda x, y: x * y, lambda x, y: (y, x), *inputs)


def test_a_mismatch_counts_entries_and_measures_the_error():
    mismatch = Mismatch.between(np.array([1.0, 2.0, 3.5]), np.array([1.0, 2.0, 3.0]))
    assert (mismatch.wrong, mismatch.size, mismatch.max_abs) == (1, 3, 0.5)
    assert mismatch.max_rel == pytest.approx(0.5 / 3.5)
    assert str(mismatch).startswith("differs in 1 of 3 entries")


def test_the_recorder_sees_helpers_in_the_same_file_and_restores_the_tracer():
    def helper(v):
        doubled = 2 * v
        return doubled

    def backward(x):
        dx = helper(x)
        return dx

    before = object()
    import sys

    sys.settrace(None)
    _, assignments, _ = run_recorded(backward, np.array([1.0]))
    assert [(a.name, a.function) for a in assignments] == [("doubled", "helper"),
                                                           ("dx", "backward")]
    assert sys.gettrace() is None and before


# -- the examples ---------------------------------------------------------------------------------


def test_the_example_names_every_planted_mistake_with_its_line_and_kind():
    source = inspect.getsource(derivation_mistakes)
    planted = re.findall(r"# ✘ (\w+):", source)
    assert sorted(planted) == sorted({"transpose", "factor", "sign", "mask", "broadcast",
                                      "path", "axis"})
    found = []
    for report in derivation_mistakes.reports:
        backward = getattr(derivation_mistakes, report.backward)
        first = report.first_divergence
        kind = first.diagnosis.kind
        assert first.assignment.lineno == marked_line(backward, kind), str(report)
        found.append(kind)
    assert sorted(found) == sorted(planted)


@pytest.mark.parametrize("name, forward", [("mlp", "mlp_loss"), ("batchnorm", "batchnorm_loss"),
                                           ("rnn", "rnn_loss")])
def test_hand_written_backwards_of_the_examples_compare_clean(name, forward, capsys):
    assert main(["compare", name]) == 0
    out = capsys.readouterr().out
    assert f"{forward}_backward against the traced {forward}" in out
    assert "every returned gradient matches" in out and "✘" not in out


# -- the engine's own VJPs, written out as a backward, always compare equal ------------------------


def engine_backward(forward, flip=None):
    """A backward pass written from the local Jacobians' VJPs, node by node; with ``flip``,
    the sign of the adjoint of the node with that id is lost (a planted sign error)."""

    def backward(x, s):
        graph = gad.trace(forward, x, s)
        adjoints = {graph.output.id: np.ones(graph.output.shape)}
        for node in reversed(graph.nodes):
            upstream = adjoints.get(node.id)
            if upstream is None:
                continue
            if node.id == flip:
                upstream = adjoints[node.id] = -upstream
            for arg, operand in enumerate(node.inputs):
                contribution = node.jacobian(arg).vjp(upstream)
                adjoints[operand.id] = adjoints.get(operand.id, 0.0) + contribution
        return {name: adjoints.get(node.id, np.zeros(node.shape))
                for name, node in graph.inputs.items()}

    return backward


@settings(max_examples=40, deadline=None)
@given(programs(), st.sampled_from([np.sum, lambda v: np.sum(np.sin(v))]))
def test_a_backward_from_the_engines_own_vjps_always_compares_equal(program, reduce):
    function, x, s = program

    def forward(x, s):
        return reduce(function(x, s))

    report = gad.compare(forward, engine_backward(forward), x, s)
    assert report.passed, str(report)
    assert not report.wrong


# generic points: no entry of an adjoint equals another value by chance
offsets = st.lists(st.floats(0.05, 0.95), min_size=4, max_size=4, unique=True)


@settings(max_examples=60, deadline=None)
@given(programs(), offsets, st.integers(0, 20))
# u₂ = x + x feeds only a sum, so its adjoint is one number repeated; the scalar adjoint
# of s, bound later to the same name in the loop, once passed for the sum the wrong value
# was on its way to (a partial sum completed later), and the mistake was found only at the
# return
@example(program=(program_of([("add", 0, 0), ("add", 0, 0), ("add", 0, 0), ("sum", 2, 0),
                              ("add", 1, 5)]), np.array([1.0, 1.0, 1.0]), 1.0),
         offset=[0.5, 0.75, 0.25, 0.375], pick=0)
# u₇ = u₂ + u₃ gives u₂ and u₃ one adjoint: the loop's next value (u₂'s) is no completion
# of the sign lost on u₃
@example(program=(program_of([("add", 0, 0)] * 5 + [("add", 2, 3)]),
                  np.array([1.0, 1.0, 1.0]), 1.0),
         offset=[0.5, 0.75, 0.625, 0.5625], pick=1)
def test_a_planted_sign_error_is_found_where_it_was_planted(program, offset, pick):
    function, x, s = program
    x, s = x + np.sqrt(2) * np.array(offset[:3]), s + np.sqrt(3) * offset[3]

    def forward(x, s):
        return np.sum(np.sin(function(x, s)))

    graph = gad.trace(forward, x, s)
    # a vector: one number is proportional to any other, so only a name locates a scalar's
    adjoints = {edge.operand.id: edge.total for edge in propagate.reverse(graph, 1.0)}
    inner = [node for node in graph.nodes
             if node.inputs and node.id in adjoints and np.size(node.value) > 1]
    assume(inner)
    node = inner[pick % len(inner)]
    planted = -adjoints[node.id]
    # a value the right pass also computes (x − y makes −ū the adjoint of y) is no mistake
    # to anyone who only sees values: such plantings are out of this property's reach
    assume(not any(np.shape(value) == planted.shape and np.allclose(value, planted)
                   for value in honest_values(graph)))
    report = gad.compare(forward, engine_backward(forward, flip=node.id), x, s)
    assume(not report.passed)  # a sign lost where the adjoint is zero changes nothing
    first = report.first_divergence
    assert first.diagnosis.kind == "sign", str(report)
    assert first.assignment.name == "upstream"
    np.testing.assert_allclose(first.assignment.value, planted)
    np.testing.assert_allclose(first.adjoint, -planted)


def honest_values(graph):
    """Every value a right backward pass may hold: forward values, adjoints and each use's
    contribution to an adjoint."""
    yield from (node.value for node in graph.nodes)
    for edge in propagate.reverse(graph, 1.0):
        yield edge.total
        yield edge.contribution


# -- the command line --------------------------------------------------------------------------


SCRIPT = '''
import numpy as np
import graphviz_ad as gad

def forward(x):
    return np.sum(x ** 2)

def backward(x):
    return {factor} * x

{call}
'''


@pytest.mark.parametrize("factor, call, status", [
    (2, "gad.compare(forward, backward, np.array([1.0, 2.0]))", 0),
    (1, "gad.compare(forward, backward, np.array([1.0, 2.0]))", 1),
    (2, "gad.trace(forward, np.array([1.0, 2.0]))", 0),
    (1, "gad.trace(forward, np.array([1.0, 2.0]))", 1),
])
def test_the_exit_status_says_whether_everything_matches(tmp_path, capsys, factor, call, status):
    script = tmp_path / "model.py"
    script.write_text(SCRIPT.format(factor=factor, call=call), encoding="utf-8")
    assert main(["compare", str(script)]) == status
    out = capsys.readouterr().out
    assert "backward against the traced forward(x)" in out
    if status:
        assert "first divergence: x (model.py:9)" in out and "a missing factor 2" in out


def test_the_command_line_picks_a_pair_by_name(capsys):
    assert main(["compare", "derivation_mistakes", "--forward", "swish"]) == 1
    out = capsys.readouterr().out
    assert out.count("against the traced") == 1 and "swish_backward" in out
    assert main(["compare", "neuron"]) == 2
    assert "--forward NAME --backward NAME" in capsys.readouterr().err


def test_the_command_line_prints_names_as_written(tmp_path, capsys):
    script = tmp_path / "model.py"
    script.write_text(SCRIPT.format(factor=1, call="").replace("(x)", "(p)").replace(
        "* x", '* p["[bold]x"]').replace("x **", 'p["[bold]x"] **') + (
        'gad.compare(forward, backward, {"[bold]x": np.array([1.0])})\n'), encoding="utf-8")
    assert main(["compare", str(script)]) == 1
    assert "p['[bold]x']  ✘" in capsys.readouterr().out


# -- the README --------------------------------------------------------------------------------


README = Path(__file__).resolve().parent.parent / "README.md"


def readme_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index("## Check your derivation"):text.index("## Examples")]


def test_the_readme_report_is_what_the_command_prints(capsys):
    section = readme_section()
    shown = re.search(r"```\n\$ graphviz-ad compare (.*?)\n(.*?)```", section, re.S)
    assert main(["compare", *shown.group(1).split()]) == 1
    assert capsys.readouterr().out.strip() == shown.group(2).strip()


def test_the_readme_snippet_runs_and_finds_the_missing_mask(capsys):
    text = README.read_text(encoding="utf-8")
    start = text.index("```python\n", text.index("## Check your derivation")) + len("```python\n")
    snippet = text[start:text.index("```", start)]
    padding = "\n" * text[:start].count("\n")  # so that README.md:N is the README's line N
    namespace: dict = {}
    exec(compile(padding + snippet, str(README), "exec"), namespace)
    report = namespace["report"]
    assert not report.passed
    first = report.first_divergence
    assert (first.assignment.name, first.diagnosis.kind) == ("dz", "mask")
    assert "first divergence: dz (README.md:" in capsys.readouterr().out


LAYERS = '''import numpy as np


def relu_backward(dout, z):
    dz = dout  # forgot the mask
    return dz
'''


def test_a_mistake_in_a_helper_module_is_found_at_its_line(tmp_path, monkeypatch):
    (tmp_path / "layers_under_test.py").write_text(LAYERS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import layers_under_test

    def forward(z, t):
        return np.sum(np.maximum(0, z) * t)

    def backward(z, t):
        return {"z": layers_under_test.relu_backward(t, z)}

    report = gad.compare(forward, backward, np.array([1.0, -2.0]), np.array([0.5, 3.0]))
    first = report.first_divergence
    assert str(first.assignment.source) == "layers_under_test.py:5"
    assert first.assignment.function == "relu_backward" and first.diagnosis.kind == "mask"
