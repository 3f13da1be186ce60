"""The practice engine: reading answers, the tolerance, the questions and the score."""

import numpy as np
import pytest

import graphviz_ad as gad
from graphviz_ad.collect import graph_names, run_script
from graphviz_ad.examples import catalogue
from graphviz_ad.practice import (
    MAX_TYPED,
    AnswerError,
    Exercise,
    close_enough,
    exercises,
    parse_answer,
)


def x_plus_square():
    return gad.trace(lambda x: x + x ** 2, 3.0)


def example_graphs():
    """(name, graph) for every graph every bundled example traces."""
    found = []
    for example in catalogue():
        graphs = run_script(str(example.path), run_name=f"graphviz_ad.examples.{example.name}")
        found += list(zip(graph_names(graphs), graphs, strict=True))
    return found


EXAMPLES = example_graphs()


# -- reading answers ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("6", 6.0), (" -2.5 ", -2.5), ("−2.5", -2.5), ("1/3", 1 / 3), ("-1/4", -0.25),
    ("2*3", 6.0), ("2·3", 6.0), ("2^3", 8.0), ("1e-3", 1e-3), ("inf", np.inf), ("−∞", -np.inf),
    ("[1, 2, 3]", [1.0, 2.0, 3.0]), ("[1. 2. 3.]", [1.0, 2.0, 3.0]),
    ("[ 1. -2.  3.]", [1.0, -2.0, 3.0]), ("[1 - 2, 3]", [-1.0, 3.0]),
    ("[[1, 0], [0, 1]]", [[1.0, 0.0], [0.0, 1.0]]), ("(1, 2)", [1.0, 2.0]),
])
def test_parse_answer_reads_numbers_fractions_and_arrays(text, expected):
    np.testing.assert_allclose(parse_answer(text), expected)


def test_parse_answer_reads_nan():
    assert np.isnan(parse_answer("nan"))


@pytest.mark.parametrize("text", ["", "   ", "abc", "[1, 2", "__import__('os')", "x + 1",
                                  "'3'", "True", "1j", "[1, [2, 3]]"])
def test_parse_answer_refuses_what_is_not_a_number_or_an_array(text):
    with pytest.raises(AnswerError, match="type a number"):
        parse_answer(text)


# -- the tolerance -----------------------------------------------------------------------------


@pytest.mark.parametrize("answer, expected, right", [
    (0.333, 1 / 3, True),          # three significant digits are enough
    (0.33, 1 / 3, False),          # two are not
    (7, 7.0, True), (7.1, 7.0, False),
    (0, 0.0, True), (0.01, 0.0, False),
    ([1, 0], [1, 1e-17], True),    # rounding noise counts as 0
    ([1, 0.001], [1, 0.0012], True),  # small beside the array's scale
    ([0, 0.001], [0, 0.0012], False),  # but not alone
    ([1, 2, 3], [1, 2, 3.1], False),
    ([1, 2], [[1, 2]], False),     # the shape matters
    (np.nan, np.nan, True), (np.inf, np.inf, True), (-np.inf, np.inf, False), (1.0, np.nan, False),
])
def test_close_enough(answer, expected, right):
    assert close_enough(answer, expected) is right


# -- questions ---------------------------------------------------------------------------------


def test_the_first_question_shows_the_operation_the_values_and_the_upstream_adjoint():
    question = Exercise(x_plus_square()).question
    assert question.kind == "number"
    assert question.prompt[0].startswith("u₂ = add(x, u₁) = 12    # ")
    assert question.prompt[1:] == ("where x = 3, u₁ = 9", "∂u₂/∂u₂ = 1",
                                   "∂u₂/∂x += ∂u₂/∂u₂ · ∂u₂/∂x = ?")


def test_right_then_wrong_then_right_and_the_score():
    exercise = Exercise(x_plus_square())
    assert exercise.total == 3 and exercise.number == 1
    first = exercise.answer("1")
    assert first.correct and first.final and first.text.startswith("✔ ∂u₂/∂x += ")
    assert exercise.debugger.index == 1  # the step is revealed: the debugger is on it
    exercise.answer("1")
    wrong = exercise.answer("[5]")  # one entry for a scalar counts as a number
    assert not wrong.correct and not wrong.final
    assert wrong.hint == "the rule: ∂u₁/∂x = 2x, so ∂u₂/∂x += ∂u₂/∂u₁ · [2x]"
    assert exercise.tries == 1
    assert exercise.answer("6").text.startswith("✔ at the second try")
    assert exercise.done and exercise.question is None
    score = exercise.score
    assert (score.first, score.second, score.missed, score.total) == (2, 1, 0, 3)
    assert score.text == "3 of 3 right: 2 at the first try, 1 at the second"


def test_two_wrong_answers_reveal_the_answer():
    exercise = Exercise(x_plus_square())
    exercise.answer("2")
    verdict = exercise.answer("3")
    assert not verdict.correct and verdict.final
    assert verdict.text.startswith("✘ the answer is 1: ∂u₂/∂x += ")
    assert exercise.score.missed == 1 and exercise.number == 2


def test_what_is_not_an_answer_costs_no_try():
    exercise = Exercise(x_plus_square())
    with pytest.raises(AnswerError):
        exercise.answer("one")
    assert exercise.tries == 0 and exercise.number == 1


def test_giving_up_reveals_the_answer_and_counts_as_missed():
    exercise = Exercise(x_plus_square())
    assert exercise.give_up().text.startswith("the answer is 1")
    assert exercise.score.missed == 1


def test_a_vector_answer_for_a_scalar_gradient_is_wrong_and_says_why():
    """Scalar expansion: the adjoint of z in x + z sums over the copies."""
    graph = gad.trace(lambda x, z: np.sum(x + z), np.array([1.0, 2.0, 3.0]), 2.0)
    exercise = Exercise(graph)
    exercise.answer("[1, 1, 1]")  # ∂y/∂u₁ through the sum
    exercise.answer("[1, 1, 1]")  # ∂y/∂x
    step = exercise.question.step
    assert step.node.label == "z"
    verdict = exercise.answer("[1, 1, 1]")
    assert not verdict.correct
    assert "∂u₂/∂z has z's shape, scalar; you typed 3" in verdict.text
    assert exercise.answer("3").correct


def test_an_array_question_says_its_shape_and_takes_nested_lists():
    graph = gad.trace(lambda W, x: np.sum(W @ x), np.ones((2, 3)), np.array([1.0, 2.0, 3.0]))
    exercise = Exercise(graph)
    assert exercise.question.prompt[-1].endswith("= ?  (2 numbers)")
    exercise.answer("[1, 1]")
    assert exercise.question.prompt[-1] == "∂u₂/∂W += ∂u₂/∂u₁ · ∂u₁/∂W = ?  (a 2×3 array)"
    assert not exercise.answer("[1, 2, 3, 1, 2, 3]").correct  # flat: the shape matters
    assert exercise.answer("[[1, 2, 3], [1, 2, 3]]").correct
    assert exercise.question.prompt[-1].endswith("= ?  (3 numbers)")


def test_tangent_exercise_asks_for_the_forward_contributions():
    exercise = Exercise(x_plus_square(), "tangent")
    assert exercise.question.prompt[-1] == "du₁ += ∂u₁/∂x · dx = ?"
    for expected in ("6", "1", "6"):
        assert exercise.answer(expected).correct
    assert exercise.done and exercise.score.first == 3


def test_rule_questions_offer_four_distinct_rules_one_right():
    graph = gad.trace(lambda w, x: np.tanh(w * x).sum(), np.array([1.0, 2.0]),
                      np.array([3.0, -1.0]))
    exercise = Exercise(graph, ask="rules")
    while not exercise.done:
        question = exercise.question
        assert question.kind == "rule" and len(question.choices) == 4
        assert len(set(question.choices)) == 4
        assert question.choices[question.answer] == question.step.local.rule
        letter = "abcd"[question.answer]
        verdict = exercise.answer(letter)
        assert verdict.correct, verdict
    assert exercise.score.first == exercise.total == 4  # sum, tanh, then w and x


def test_a_wrong_rule_gets_the_shape_as_a_hint_then_the_answer():
    graph = gad.trace(lambda w, x: w @ x, np.array([1.0, 2.0]), np.array([3.0, -1.0]))
    exercise = Exercise(graph, ask="rules")
    question = exercise.question
    wrong = next(i for i in range(4) if i != question.answer)
    verdict = exercise.answer(str(wrong + 1))
    assert verdict.hint.startswith("∂u₁/∂w is 1×2")
    verdict = exercise.answer(question.choices[wrong])  # the rule typed out
    assert verdict.final and not verdict.correct
    assert f"the answer is {'abcd'[question.answer]}) {question.step.local.rule}" in verdict.text


def test_the_transposed_rule_is_the_first_distractor_of_a_non_square_jacobian():
    graph = gad.trace(lambda w, x: w @ x, np.array([1.0, 2.0]), np.array([3.0, -1.0]))
    question = Exercise(graph, ask="rules").question
    assert question.step.local.rule == "xᵀ"
    assert "x" in question.choices


def test_ask_both_asks_the_rule_then_the_number_of_each_step():
    exercise = Exercise(x_plus_square(), ask="both")
    assert exercise.total == 6
    kinds = []
    while not exercise.done:
        question = exercise.question
        kinds.append(question.kind)
        answer = "abcd"[question.answer] if question.kind == "rule" else str(
            float(question.answer))
        assert exercise.answer(answer).correct
    assert kinds == ["rule", "number"] * 3


def test_a_big_contribution_is_asked_as_a_rule():
    graph = gad.trace(lambda x: np.sum(x * x), np.arange(8.0))
    exercise = Exercise(graph)
    assert [exercise.question.kind] == ["rule"]
    assert np.size(exercise.question.step.contribution) > MAX_TYPED


def test_the_choices_are_the_same_for_the_same_shuffle():
    graph = gad.trace(lambda w, x: np.tanh(w * x).sum(), np.array([1.0, 2.0]),
                      np.array([3.0, -1.0]))
    one, two = Exercise(graph, ask="rules"), Exercise(graph, ask="rules")
    assert one.question.choices == two.question.choices
    assert Exercise(graph, ask="rules", shuffle=3).question.step is not None


def test_a_non_scalar_output_has_no_backward_exercise_and_says_why():
    graph = gad.trace(lambda x: x * 2.0, np.array([1.0, 2.0]))
    found, notes = exercises(graph)
    assert [exercise.mode for exercise in found] == ["tangent"]
    assert notes[0].startswith("no backward exercise: a backward pass of <lambda> needs a seed")
    seeded = Exercise(graph, "backward", seed=np.array([1.0, -1.0]))
    assert seeded.answer("[2, -2]").correct


def test_a_constant_output_has_nothing_to_practise():
    graph = gad.trace(lambda x: np.sum(x > 0) * 1.0, np.array([1.0, -2.0]))
    found, notes = exercises(graph)
    assert found == []
    assert notes[0].startswith("no backward exercise: the backward pass of <lambda> carries "
                               "nothing along an edge")


def test_bad_modes_and_ask_are_refused():
    with pytest.raises(ValueError, match="backward or a tangent"):
        Exercise(x_plus_square(), "forward")
    with pytest.raises(ValueError, match="ask must be one of"):
        Exercise(x_plus_square(), ask="everything")


# -- every bundled example -----------------------------------------------------------------------


def _right_answer(question) -> str:
    if question.kind == "rule":
        return "abcd"[question.answer]
    return np.array2string(np.asarray(question.answer, dtype=float), separator=", ",
                           precision=17, floatmode="unique", threshold=10_000)


@pytest.mark.parametrize("name, graph", EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_every_bundled_example_yields_a_complete_exercise(name, graph):
    found, notes = exercises(graph)
    assert found, notes
    for exercise in found:
        steps = [step for step in exercise._steps()]
        asked = 0
        while not exercise.done:
            question = exercise.question
            if question.kind == "rule":
                assert len(question.choices) == 4, question.prompt
                right = question.choices[question.answer]
                assert right == question.step.local.rule
                assert question.choices.count(right) == 1  # no distractor equals the rule
                assert len({choice.replace(" ", "") for choice in question.choices}) == 4
            verdict = exercise.answer(_right_answer(question))
            assert verdict.correct, (question.prompt, verdict.text)
            asked += 1
        assert asked == exercise.total >= len(steps)
        assert exercise.score.first == exercise.total
        assert exercise.debugger.index == len(exercise.debugger) - 1  # all revealed


def test_the_readme_example_prints_what_it_says(capsys):
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S)
                if "graphviz_ad.practice" in b]
    exec(compile(block, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    documented = [line.split("# ", 1)[1] for line in block.splitlines() if "print(" in line]
    assert printed == documented
