"""``--compare``: the hand-written backward beside the backward pass (the Compare pane), and
the nodes it gets wrong marked in pictures."""

from __future__ import annotations

import pytest

import graphviz_ad as gad
import tui
from graphviz_ad.cli import main
from graphviz_ad.examples import derivation_mistakes, mlp
from graphviz_ad.render.styles import STYLES
from tests.test_tui import headless, settle
from tui.app import DebuggerApp
from tui.widgets.compare_pane import ComparePane

WRONG = STYLES["compare", "wrong"]["color"]


def relu_report():
    """relu_layer_backward: the ReLU's mask forgotten at ``dz = dh``."""
    return next(report for report in derivation_mistakes.reports
                if report.backward == "relu_layer_backward")


def mlp_report():
    return gad.compare(mlp.mlp_loss, mlp.mlp_loss_backward, mlp.W1, mlp.b1, mlp.W2, mlp.b2,
                       mlp.x, mlp.y)


@headless
async def test_the_cursor_starts_at_the_first_wrong_adjoint_beside_the_users_line():
    report = relu_report()
    first = report.first_divergence
    app = DebuggerApp([report.graph], comparisons={0: report})
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.debugger.mode == "backward"
        assert screen.debugger.current.node is first.node
        pane = screen.query_one(ComparePane)
        text = pane.text
        [row] = [row for row in text.splitlines() if row.startswith("✘▶")]
        assert row.startswith(f"✘▶{first.assignment.lineno:>4}")  # highlighted, marked
        assert "# ✘ mask" in row  # the line the example marks as its planted mistake
        assert first.assignment.name == "dz" and "dz = dh" in text
        assert f"should be {gad.notation.adjoint(first.node.label, report.graph.output.label)}" \
            in text
        assert "a missing mask of a kink" in text
        assert str(pane.border_subtitle).endswith(f"{len(report.wrong)} ✘")
        # w: the next ✘ in the order of the backward pass, then round to the first again
        seen = {screen.debugger.current.node.id}
        for _ in report.wrong:
            await pilot.press("w")
            await settle(app, pilot)
            seen.add(screen.debugger.current.node.id)
        assert seen == {verdict.node.id for verdict in report.wrong}
        # from another pass, w comes back to the backward pass at a ✘
        await pilot.press("m")
        await settle(app, pilot)
        assert screen.debugger.mode != "backward"
        await pilot.press("w")
        await settle(app, pilot)
        assert screen.debugger.mode == "backward"
        assert screen.debugger.current.node.id in seen


@headless
async def test_a_correct_backward_is_marked_right_line_by_line():
    report = mlp_report()
    assert report.passed
    app = DebuggerApp([report.graph], comparisons={0: report})
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        pane = app.screen.query_one(ComparePane)
        assert app.screen.debugger.mode == "backward"
        marks = pane.marks()
        assert marks and all(mark == "✔" for line in marks.values() for mark in line)
        assert "✔" in pane.text and "✘" not in pane.text
        assert str(pane.border_subtitle).endswith("passed")
        # stepping to a node shows the user's line that holds its adjoint
        node_id, verdict = next(iter(report.verdicts.items()))
        app.screen.jump_to(report.graph.nodes[node_id])
        await settle(app, pilot)
        assert f"✔ {verdict.assignment.name} (mlp.py:{verdict.assignment.lineno}) holds" in \
            app.screen.query_one(ComparePane).text


def test_without_compare_the_screen_has_no_compare_pane():
    async def run():
        app = DebuggerApp([relu_report().graph], mode="backward")
        async with app.run_test(size=(100, 32)) as pilot:
            await settle(app, pilot)
            assert not app.screen.query(ComparePane)
            assert app.screen.check_action("next_wrong", ()) is False  # no w in the footer

    headless(run)()


def node_line(dot: str, node) -> str:
    return next(line for line in dot.splitlines() if line.strip().startswith(f"n{node.id} "))


def test_a_picture_frames_the_nodes_whose_adjoint_is_wrong():
    report = relu_report()
    dot = report.graph.to_dot(compare=report)
    wrong = {verdict.node.id for verdict in report.wrong}
    assert report.first_divergence.node.id in wrong
    for node in report.graph.nodes:
        if node.id in wrong:
            assert WRONG in node_line(dot, node)
        elif node.op != "const":
            assert WRONG not in node_line(dot, node)
    assert f"{report.backward} gets its adjoint wrong" in dot  # the legend says so
    assert WRONG not in report.graph.to_dot()  # only when asked


def test_a_picture_of_a_correct_backward_frames_nothing():
    report = mlp_report()
    dot = report.graph.to_dot(compare=report)
    assert WRONG not in dot
    assert "every adjoint it holds matches" in dot


@pytest.fixture
def opened(monkeypatch):
    calls = []
    monkeypatch.setattr(tui, "run_app", lambda graphs, **options: calls.append((graphs, options)))
    return calls


@pytest.mark.parametrize("argv", [["--compare", "--graph", "relu_layer"],
                                  ["--compare", "relu_layer_backward", "--graph", "relu_layer"]])
def test_tui_compare_opens_the_comparison_in_the_backward_pass(opened, argv):
    assert main(["tui", "derivation_mistakes", *argv]) == 0
    [(graphs, options)] = opened
    assert [graph.name for graph in graphs] == ["relu_layer"]
    report = options["comparisons"][0]
    assert report.backward == "relu_layer_backward" and report.graph is graphs[0]
    assert options["mode"] == "backward" and options["start"] == 0


def test_tui_compare_offers_every_comparison_the_script_makes(opened):
    assert main(["tui", "derivation_mistakes", "--compare"]) == 0
    [(graphs, options)] = opened
    assert len(graphs) == len(derivation_mistakes.reports) > 1
    assert options["start"] is None  # the chooser first
    assert all(options["comparisons"][i].graph is graph for i, graph in enumerate(graphs))


def test_tui_compare_finds_the_examples_own_backward(opened):
    assert main(["tui", "mlp", "--compare"]) == 0
    [(_, options)] = opened
    assert options["comparisons"][0].backward == "mlp_loss_backward"
    assert options["comparisons"][0].passed


def test_render_compare_draws_the_wrong_frame(capsys):
    assert main(["render", "derivation_mistakes", "--compare", "--graph", "relu_layer",
                 "-o", "-", "--format", "dot"]) == 0
    assert WRONG in capsys.readouterr().out
    assert main(["render", "mlp", "--compare", "-o", "-", "--format", "dot"]) == 0
    assert WRONG not in capsys.readouterr().out
