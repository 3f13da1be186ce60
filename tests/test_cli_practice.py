"""``graphviz-ad practice``: which graph, which passes, and the score it prints."""

import pytest

import tui.practice_app
from graphviz_ad.cli import main
from graphviz_ad.practice import Score


@pytest.fixture
def practised(monkeypatch):
    """Stand in for the terminal: record what would be practised, answer nothing."""
    sessions = []

    def run_practice(graph, exercises, notes=()):
        sessions.append((graph, exercises, list(notes)))
        return Score(total=sum(exercise.total for exercise in exercises))

    monkeypatch.setattr(tui.practice_app, "run_practice", run_practice)
    return sessions


def test_practice_opens_the_backward_pass_then_the_tangents(practised, capsys):
    assert main(["practice", "total_derivative", "--graph", "x_plus_square"]) == 0
    (graph, exercises, notes), = practised
    assert graph.name == "x_plus_square" and notes == []
    assert [exercise.mode for exercise in exercises] == ["backward", "tangent"]
    assert capsys.readouterr().out == "x_plus_square: 0 of 6 right: 0 at the first try\n"


def test_practice_one_pass_and_rule_questions(practised):
    assert main(["practice", "batchnorm", "--mode", "tangent", "--ask", "rules"]) == 0
    (_, exercises, _), = practised
    assert [exercise.mode for exercise in exercises] == ["tangent"]
    assert exercises[0].question.kind == "rule"


def test_practice_names_the_graphs_when_the_script_traced_several(practised, capsys):
    assert main(["practice", "neuron"]) == 2
    assert "neuron#1, neuron#2" in capsys.readouterr().err
    assert not practised


def test_a_non_scalar_output_practises_its_tangents_and_says_why(practised, capsys):
    assert main(["practice", "elementwise", "--graph", "w_plus_x"]) == 0
    (_, exercises, notes), = practised
    assert [exercise.mode for exercise in exercises] == ["tangent"]
    assert "needs a seed" in notes[0]
    assert main(["practice", "elementwise", "--graph", "w_plus_x", "--mode", "backward"]) == 1
    assert "practise --mode tangent instead" in capsys.readouterr().err
