"""Nothing silently wrong, tried as a hostile or careless user would: names that look like
markup or hold escape sequences, a graph with more paths than Python prints, an empty mean,
a tiny terminal, a script that calls os._exit, a crash inside the debugger, and wrong rules
at kinks that the finite-difference check must catch."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphviz_ad as gad
from graphviz_ad import cli
from graphviz_ad.check import DENSE_LIMIT, check_edge, check_graph
from graphviz_ad.linear import Elementwise, Reduce, shape_of
from graphviz_ad.primitives import PRIMITIVES, Diag, Primitive
from graphviz_ad.safe_text import STEM_LENGTH, file_stem, printable
from tests.random_programs import programs
from tests.test_cli import run, script
from tests.test_tui import headless

ROOT = Path(__file__).resolve().parent.parent


# -- 4. user text on the terminal ---------------------------------------------------------------

HOSTILE_NAMES = """
    import numpy as np
    import graphviz_ad as gad

    def f(x):
        return np.sum(x * x)

    f.__name__ = "bad[/]name"
    gad.trace(f, np.ones(2))

    def g(x):
        return np.sum(x * 2)

    g.__name__ = "[link=https://evil.example]click[/link]"
    gad.trace(g, np.ones(2))

    def h(**inputs):
        return sum(np.sum(v * v) for v in inputs.values())

    h.__name__ = "esc\\x1b[31mred"
    gad.trace(h, **{"a\\x1b]0;title\\x07": np.ones(2)})
"""


@pytest.mark.parametrize("command", ["grad", "check"])
def test_names_are_printed_as_written_never_as_markup(capsys, tmp_path, monkeypatch, command):
    monkeypatch.setenv("FORCE_COLOR", "1")  # as on a terminal: styles and links are emitted
    status, out, err = run(capsys, command, script(tmp_path, HOSTILE_NAMES))
    assert status == 0, err
    assert "bad[/]name" in out  # was: MarkupError
    assert "[link=https://evil.example]click[/link]" in out
    assert "\x1b]8;" not in out  # no OSC-8 hyperlink


@pytest.mark.parametrize("command", ["grad", "check"])
def test_escape_sequences_in_names_are_shown_escaped(capsys, tmp_path, command):
    status, out, _ = run(capsys, command, script(tmp_path, HOSTILE_NAMES))
    assert status == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "esc\\x1b[31mred" in out and "a\\x1b]0;title\\x07" in out


def test_an_error_message_quotes_names_escaped(capsys, tmp_path):
    status, _, err = run(capsys, "grad", script(tmp_path, HOSTILE_NAMES), "--graph", "\x1b[2J")
    assert status == 2
    assert "\x1b" not in err and "no graph named '\\x1b[2J'" in err


def test_labels_show_names_escaped_and_names_stay_the_users():
    """Every picture, rule and pane shows an input by its label: escaped there, while the
    gradient and lookups keep the name as written."""
    name = "w\x1b]0;title\x07"
    graph = gad.trace(lambda **inputs: np.sum(inputs[name] ** 2), **{name: np.ones(2)})
    node = graph.inputs[name]
    assert node.label == "w\\x1b]0;title\\x07" and node.name == name
    assert list(graph.grad()) == [name] and graph.node(name) is node
    square = next(n for n in graph.nodes if n.op == "power")
    assert square.call_text == "power(w\\x1b]0;title\\x07, 2)"
    assert "\\x1b" in square.jacobian(0).rule and "\x1b" not in square.jacobian(0).rule


def test_printable_escapes_what_a_terminal_would_obey():
    assert printable("loss") == "loss"
    assert printable("a\x1b[31mb\x07\n\t") == "a\\x1b[31mb\\x07\\x0a\\x09"
    assert printable("x\u202ey") == "x\\u202ey"  # a right-to-left override
    assert printable("λ₁ ∂") == "λ₁ ∂"


def test_file_stem_stays_in_the_folder():
    assert file_stem("../x") == "x"
    assert file_stem("/etc/passwd") == "etc-passwd"
    assert file_stem("<lambda>") == "lambda"
    assert file_stem("..") == "graph"
    assert file_stem("a\x1b[31m") == "a-31m"
    assert len(file_stem("f" * 10_000)) == STEM_LENGTH


@headless
async def test_tui_export_keeps_a_hostile_name_inside_the_export_folder(tmp_path):
    from tui.app import DebuggerApp

    def f(x):
        return x * x

    f.__name__ = "../escaped"
    folder = tmp_path / "exports"
    folder.mkdir()
    app = DebuggerApp([gad.trace(f, 3.0)], export_folder=folder)
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert [path.name for path in folder.iterdir()] == ["escaped-forward-step0.svg"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["exports"]


# -- 5. crashes ---------------------------------------------------------------------------------


def diamonds(x, count):
    """``count`` stacked diamonds: x → (sin x, cos x) → sum, 2^count paths."""
    for _ in range(count):
        x = np.sin(x) + np.cos(x)
    return x


def test_path_counts_beyond_pythons_digit_limit_print():
    graph = gad.trace(lambda x: diamonds(x, 15_000), 0.3)
    paths = graph.paths("x", limit=1)
    assert paths.total_count == 2**15_000
    assert paths.text.splitlines()[0] == "∂u₄₅₀₀₀/∂x: ≈2.8·10⁴⁵¹⁵ paths"  # was: ValueError
    assert repr(paths) == "<Paths x → u₄₅₀₀₀: 1 of ≈2.8·10⁴⁵¹⁵>"
    with pytest.raises(ValueError, match=r"≈2\.8·10⁴⁵¹⁵ paths"):
        paths.sum()


def test_path_counts_print_exactly_while_short():
    paths = gad.trace(lambda x: diamonds(x, 40), 0.3).paths("x", limit=2)
    assert "1099511627776 paths" in paths.text
    assert "1099511627774 more not listed" in paths.text


@headless
async def test_the_paths_pane_of_a_graph_with_too_many_paths_to_print():
    from tui.app import DebuggerApp

    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)  # Python's smallest limit: fewer diamonds overflow it
    try:
        app = DebuggerApp([gad.trace(lambda x: diamonds(x, 2_200), 0.3)])
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("P")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.is_running and app.return_code is None
    finally:
        sys.set_int_max_str_digits(limit)


@pytest.mark.parametrize(("shape", "axis"), [((0,), None), ((0, 3), 0), ((0, 3), 1),
                                             ((0, 3), None)])
def test_the_mean_of_nothing_is_nan_as_in_numpy(shape, axis):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "Mean of empty slice"
        expected = np.mean(np.ones(shape), axis=axis)
        graph = gad.trace(lambda x: x.mean(axis=axis), np.ones(shape))  # was: ZeroDivisionError
    np.testing.assert_array_equal(graph.value, expected)
    jacobian = graph.jacobian("x")
    assert jacobian.shape == np.shape(expected) + shape and jacobian.size == 0
    if np.ndim(expected) == 0:
        assert graph.grad("x").shape == shape


@headless
async def test_page_keys_in_the_chooser_of_a_tiny_terminal():
    from tui.app import DebuggerApp
    from tui.screens.chooser import GraphChooser

    graphs = [gad.trace(lambda x: x * x, 2.0), gad.trace(lambda y: y + 1, 1.0)]
    app = DebuggerApp(graphs, start=0)
    async with app.run_test(size=(20, 5)) as pilot:
        await pilot.press("o", "pagedown", "pagedown", "pageup")  # was: KeyError: 0
        await pilot.pause()
        assert isinstance(app.screen, GraphChooser) and app.is_running


def test_a_crash_in_the_debugger_exits_non_zero_with_the_traceback(monkeypatch, capfd,
                                                                   tmp_path):
    from tui.app import DebuggerApp
    from tui.screens.debug import DebugScreen

    def fail(screen):
        raise RuntimeError("a fault inside the debugger")

    async def press_next(pilot):
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()

    run_app = DebuggerApp.run
    monkeypatch.setattr(DebugScreen, "action_next", fail)
    monkeypatch.setattr(DebuggerApp, "run", lambda app, **options: run_app(
        app, headless=True, size=(80, 24), auto_pilot=press_next))
    path = script(tmp_path, """
        import graphviz_ad as gad
        gad.trace(lambda x: x * x, 2.0)
    """)
    with pytest.raises(SystemExit) as exit:  # was: status 0
        cli.main(["tui", path])
    assert exit.value.code == 1
    assert "a fault inside the debugger" in capfd.readouterr().err


EXITS = """
    import os
    import numpy as np
    import graphviz_ad as gad

    gad.trace(lambda x: np.sum(x * x), np.ones(2))
    os._exit({status})
    print("not reached")
"""


def test_os_exit_0_ends_the_script_not_the_command(capsys, tmp_path):
    path = script(tmp_path, EXITS.format(status=0))
    status, out, _ = run(capsys, "grad", path)  # was: the process ended, status 0, no table
    assert status == 0 and "[2, 2]" in out and "not reached" not in out
    picture = tmp_path / "picture.dot"
    status, out, _ = run(capsys, "render", path, "-o", str(picture))
    assert status == 0 and picture.read_text().startswith("digraph")


def test_os_exit_with_a_status_is_a_failing_script(capsys, tmp_path):
    status, _, err = run(capsys, "grad", script(tmp_path, EXITS.format(status=3)))
    assert status == 1 and "os._exit(3)" in err and "SystemExit: 3" in err


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_os_exit_in_a_forked_child_still_ends_the_child(tmp_path):
    path = script(tmp_path, """
        import os
        import numpy as np
        import graphviz_ad as gad

        child = os.fork()
        if child == 0:
            os._exit(0)
        os.waitpid(child, 0)
        gad.trace(lambda x: np.sum(x * x), np.ones(2))
    """)
    result = subprocess.run([sys.executable, "-m", "graphviz_ad", "grad", path], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("[2, 2]") == 1  # the child printed nothing


# -- 7. check at kinks --------------------------------------------------------------------------


def _elementwise(partial_factor):
    """A partial from ``factor(own, other, node, i)`` for maximum / minimum mutants."""

    def partial(node, i):
        x, y = (operand.value for operand in node.inputs)
        own, other = (x, y) if i == 0 else (y, x)
        factor = np.asarray(partial_factor(own, other, node, i), dtype=float)
        return Elementwise(factor, shape_of(own), shape_of(node.value), "mutant", node)

    return partial


def _reduction(weights_of):
    """A max/min partial from ``weights_of(x, hits)`` for reduction mutants."""

    def partial(node, i):
        x = node.inputs[0].value
        axes, keepdims = node.params["axis"], node.params["keepdims"]
        extremum = node.value if keepdims else np.expand_dims(node.value, axes)
        hits = np.equal(x, extremum).astype(float)
        return Reduce(shape_of(x), shape_of(node.value), axes, keepdims, weights_of(hits),
                      "mutant", node)

    return partial


def _first_hit(hits):
    first = np.zeros_like(hits)
    first.flat[int(np.argmax(hits))] = 1.0
    return first


MUTANTS = {
    # max(0, z)' = 1 at z = 0 instead of 0 (the constant wins the tie)
    "relu 1 at 0": ("maximum", _elementwise(lambda own, other, node, i: own >= other),
                    lambda z: np.maximum(0.0, z), [0.0]),
    # min(z, 1)' = 1 at z = 1
    "min with a constant 1 at the tie": (
        "minimum", _elementwise(lambda own, other, node, i: own <= other),
        lambda z: np.minimum(z, 1.0), [1.0]),
    # |x|' = 1 at 0 instead of 0
    "abs 1 at 0": ("abs", Diag(lambda x, out: np.where(x >= 0, 1.0, -1.0), "sign({x})"),
                   np.abs, [0.0]),
    # |x|' = −1 at 0
    "abs -1 at 0": ("abs", Diag(lambda x, out: np.where(x > 0, 1.0, -1.0), "sign({x})"),
                    np.abs, [0.0]),
    # maximum(x, y) of two traced values: x takes the whole tie instead of ½–½
    "maximum tie to the first": (
        "maximum", _elementwise(lambda own, other, node, i: own >= other if i == 0
                                else own > other),
        None, [1.0]),
    # max over an axis: the first tied element takes all instead of 1/k each
    "max reduction to the first tie": ("max", _reduction(_first_hit), np.max, [2.0, 2.0, 1.0]),
    # min over an axis: every tied element gets 1 instead of 1/k
    "min reduction 1 to every tie": ("min", _reduction(lambda hits: hits), np.min,
                                     [1.0, 1.0, 3.0]),
}


def _mutant_graphs(function, point):
    """The mutant's kink as a scalar (checked in a batch), as a small vector (column by
    column) and inside a large vector (random directions)."""
    point = np.array(point)
    large = np.concatenate([point, np.linspace(5.0, 6.0, DENSE_LIMIT + 5)])
    if function is None:  # maximum of two traced values, tied
        return [gad.trace(lambda a, b: np.maximum(a, b), 1.0, 1.0),
                gad.trace(lambda a, b: np.maximum(a, b), np.ones(3), np.ones(3)),
                gad.trace(lambda a, b: np.maximum(a, b), large, large)]
    if point.size > 1:  # a reduction's tie
        return [gad.trace(function, point)]
    return [gad.trace(function, float(point[0])), gad.trace(function, point),
            gad.trace(function, large)]


@pytest.mark.parametrize("mutant", MUTANTS)
def test_a_wrong_rule_at_a_kink_fails_the_check(monkeypatch, mutant):
    op, partial, function, point = MUTANTS[mutant]
    graphs = _mutant_graphs(function, point)
    for graph in graphs:  # the right rule passes at the kink
        report = check_graph(graph)
        assert report.passed and any(node.kink for node in report.nodes), graph
    partials = (partial,) * len(PRIMITIVES[op].partials)
    monkeypatch.setitem(PRIMITIVES, op, Primitive(op, op, PRIMITIVES[op].forward, partials))
    for graph in graphs:
        report = check_graph(graph)
        assert [node.node.op for node in report.failures] == [op], (mutant, graph)


def test_ties_among_three_share_a_third_each():
    report = check_graph(gad.trace(lambda x: np.max(x), np.array([2.0, 2.0, 2.0, 1.0])))
    (node,) = report.nodes
    assert node.kink and node.passed()


def test_curvature_is_not_a_kink(monkeypatch):
    """Near 0, log bends so fast that one step's one-sided differences disagree as at a
    kink; the second, smaller step shows the gap shrinking, so the rule is held to the
    central difference, and a rule 0.1 % off fails."""
    graph = gad.trace(lambda x: np.log(x), np.array([1e-3, 2e-3]))
    (node,) = check_graph(graph).nodes
    assert node.passed() and not node.kink
    monkeypatch.setitem(PRIMITIVES, "log", Primitive("log", "log", np.log, (
        Diag(lambda x, out: 1.001 / x, "1/{x}"),)))
    for wrong in (graph, gad.trace(lambda x: np.log(x), 1e-3)):
        (node,) = check_graph(wrong).nodes
        assert not node.passed() and not node.kink


def test_a_point_beside_a_kink_is_checked_on_its_own_side():
    """z = 3·10⁻⁶: the first step crosses the corner of max(0, z), the smaller one does not,
    so the slope 1 is confirmed, not excused as a kink."""
    for z in (3e-6, np.array([3e-6, -3e-6])):
        (node,) = check_graph(gad.trace(lambda z: np.maximum(0.0, z), z)).nodes
        assert node.passed() and not node.kink and node.error < 1e-6


def scalar_program(a, b, c):
    u = np.maximum(0.0, a * b - c)
    v = np.abs(a - a) + np.maximum(u, u) + np.minimum(b, 2.0)
    return np.log(v + 1.0) * np.sin(c) / np.exp(b) + v ** 2.0 - np.sqrt(a)


@pytest.mark.parametrize("point", [(0.5, 2.0, 1.0),  # kinks: relu at 0, |0|, a tie, b = 2
                                   (np.array([0.5, 0.3]), np.array([2.0, 1.5]), 1.0)],
                         ids=["scalars", "vectors"])
def test_a_batch_agrees_with_the_edge_by_edge_check(point):
    graph = gad.trace(scalar_program, *point)
    report = check_graph(graph)
    assert report.passed
    edges = [edge for node in report.nodes for edge in node.edges]
    assert len(edges) > 15 and sum(edge.kink for edge in edges) >= 4
    for edge in edges:
        alone = check_edge(edge.node, edge.arg)
        assert (edge.kink, edge.undefined) == (alone.kink, alone.undefined), edge.node
        assert edge.error <= 1e-6 and alone.error <= 1e-6


def test_a_wrong_rule_in_a_batch_fails_only_its_own_nodes(monkeypatch):
    monkeypatch.setitem(PRIMITIVES, "sin", Primitive("sin", "sin", np.sin, (
        Diag(lambda x, out: np.where(x > 1, -np.cos(x), np.cos(x)), "cos {x}"),)))

    def f(x):
        return np.sin(x) + np.sin(x + 1.0) + np.sin(x - 0.4)  # at 0.5, 1.5 and 0.1

    report = check_graph(gad.trace(f, 0.5))
    failing = [node.node.call_text for node in report.failures]
    assert failing == ["sin(u₂)"]
    report = check_graph(gad.trace(f, np.array([0.5, -1.0])))  # 1.5 in the first element
    assert [node.node.call_text for node in report.failures] == ["sin(u₂)"]


def test_a_jump_is_judged_by_the_piece_the_point_is_on(monkeypatch):
    """floor jumps at an integer: one one-sided difference grows as 1/h, the other keeps
    the slope of the piece the point is on (0), which the rule must match."""
    def floor(derivative):
        return Primitive("abs", "⌊·⌋", np.floor, (Diag(derivative, "0"),))

    monkeypatch.setitem(PRIMITIVES, "abs", floor(lambda x, out: np.zeros_like(x)))
    for x in (2.0, np.array([2.0, 2.5, -1.0])):
        graph = gad.trace(lambda x: np.abs(x), x)  # np.abs runs the planted floor
        (node,) = check_graph(graph).nodes
        assert node.passed() and node.kink and not node.undefined
    monkeypatch.setitem(PRIMITIVES, "abs", floor(lambda x, out: np.ones_like(x)))
    (node,) = check_graph(gad.trace(lambda x: np.abs(x), 2.0)).nodes
    assert not node.passed()


@settings(max_examples=100)
@given(programs(), st.lists(st.sampled_from([-1.0, 0.0, 0.5, 1.0]), min_size=3, max_size=3),
       st.sampled_from([0.0, 1.0, -0.5]))
def test_right_rules_pass_the_check_at_kinks_and_ties(program, x, s):
    """No false alarm: random programs at points full of ties and relu corners."""
    function, _, _ = program
    with np.errstate(all="ignore"):
        report = check_graph(gad.trace(function, np.array(x), s))
    assert report.passed, [(node.node.call_text, node.error) for node in report.failures]


LONG_CHAIN = """
    import numpy as np
    import graphviz_ad as gad

    def chain(x):
        for _ in range(60):
            x = np.sin(x) + 0.5
        return x

    gad.trace(chain, 0.3)
"""


def test_check_lists_the_nodes_worth_reading_of_a_large_graph(capsys, tmp_path, monkeypatch):
    path = script(tmp_path, LONG_CHAIN)
    status, out, _ = run(capsys, "check", path)
    assert status == 0
    assert "40 of 120 nodes shown" in out and out.count("│ ok ") == 40
    status, out, _ = run(capsys, "check", path, "--all")
    assert status == 0 and "nodes shown" not in out and out.count("│ ok ") == 120
    for below, failures in ((0.5, 1), (2.0, 60)):  # wrong at sin(0.3) only; at every sin
        monkeypatch.setitem(PRIMITIVES, "sin", Primitive("sin", "sin", np.sin, (
            Diag(lambda x, out, t=below: np.where(x < t, 0.0, np.cos(x)), "cos {x}"),)))
        status, out, _ = run(capsys, "check", path)  # every failure, then the worst of the rest
        assert status == 1 and out.count("│ FAIL ") == failures
        assert out.count("│ ok ") == max(0, 40 - failures)
