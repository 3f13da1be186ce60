"""Practice mode and the Why? key in the terminal, driven headless by Textual's Pilot."""

from __future__ import annotations

import asyncio
import functools

import numpy as np

import graphviz_ad as gad
from graphviz_ad.cli import _run
from graphviz_ad.practice import exercises
from tui.app import DebuggerApp
from tui.practice_app import PracticeApp
from tui.screens.debug import DebugScreen
from tui.screens.explain import ExplainScreen
from tui.screens.help import HelpScreen
from tui.screens.practice import PracticeScreen


def headless(test):
    @functools.wraps(test)
    def run(*args, **kwargs):
        asyncio.run(test(*args, **kwargs))

    return run


def x_plus_square(x):
    u1 = x**2
    return x + u1


def neuron(w, x, b):
    return np.maximum(0, w @ x + b)


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def answer(app, pilot, text: str) -> None:
    await pilot.press(*text, "enter")
    await settle(app, pilot)


def pane_text(app, name: str) -> str:
    return app.screen.query_one(f"#{name}").text


@headless
async def test_practice_one_right_one_wrong_then_right_and_the_score():
    graph = gad.trace(x_plus_square, 3.0)
    found, notes = exercises(graph, ("backward",))
    app = PracticeApp(graph, found, notes)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, PracticeScreen)
        question = pane_text(app, "question")
        assert "∂u₂/∂x += ∂u₂/∂u₂ · ∂u₂/∂x = ?" in question
        assert "where x = 3, u₁ = 9" in question
        await answer(app, pilot, "1")  # right
        assert "✔ ∂u₂/∂x += ∂u₂/∂u₂ · [1] = 1" in pane_text(app, "revealed")
        await answer(app, pilot, "5")  # wrong: ∂u₂/∂u₁ is 1
        question = pane_text(app, "question")
        assert "✘ not quite; try again" in question
        assert "hint: the rule: ∂u₂/∂u₁ = 1" in question
        assert app.screen.query_one("#question").border_title.startswith("Question 2 of 3")
        await answer(app, pilot, "1")  # right at the second try
        assert "✔ at the second try" in pane_text(app, "revealed")
        score = app.score
        assert (score.first, score.second, score.missed) == (1, 1, 0)
        assert app.screen.query_one("#question").border_subtitle == "score 2"
        await pilot.press("f2")  # show the last answer
        await settle(app, pilot)
        assert "the answer is 6" in pane_text(app, "revealed")
        assert "Done: 2 of 3 right: 1 at the first try, 1 at the second, 1 missed" in \
            pane_text(app, "question")
        await pilot.press("escape")
        await settle(app, pilot)
    assert app.score.text == "2 of 3 right: 1 at the first try, 1 at the second, 1 missed"


@headless
async def test_practice_goes_on_to_the_tangents_and_ignores_what_is_not_an_answer():
    graph = gad.trace(x_plus_square, 3.0)
    found, _ = exercises(graph)
    app = PracticeApp(graph, found)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await answer(app, pilot, "one")
        assert "cannot read 'one'" in pane_text(app, "question")
        assert app.screen.query_one("#answer").value == "one"  # kept, to mend
        await pilot.press(*["backspace"] * 3)
        for text in ("1", "1", "6"):
            await answer(app, pilot, text)
        assert "Enter: forward tangents of x_plus_square" in pane_text(app, "question")
        assert app.screen.query_one("#answer").placeholder == "enter: the next exercise"
        await pilot.press("enter")
        await settle(app, pilot)
        assert "du₁ += ∂u₁/∂x · dx = ?" in pane_text(app, "question")
        for text in ("6", "1", "6"):
            await answer(app, pilot, text)
        assert "Over all: 6 of 6 right" in pane_text(app, "question")
        assert app.screen.query_one("#answer").placeholder == "escape: leave"


@headless
async def test_rule_questions_are_answered_by_letter():
    graph = gad.trace(lambda w, x: w @ x, np.array([1.0, 2.0]), np.array([3.0, -1.0]))
    found, _ = exercises(graph, ("backward",), ask="rules")
    app = PracticeApp(graph, found)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        question = found[0].question
        shown = pane_text(app, "question").splitlines()
        for letter, choice in zip("abcd", question.choices, strict=True):
            assert f" {letter}) {choice}" in shown
        assert app.screen.query_one("#answer").placeholder.startswith("a letter a–d")
        await answer(app, pilot, "abcd"[question.answer])
        assert found[0].score.first == 1


@headless
async def test_practice_from_the_debugger_on_a_non_scalar_output_practises_tangents():
    app = DebuggerApp([gad.trace(lambda x: x * 2.0, np.array([1.0, 2.0]))])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        assert [exercise.mode for exercise in app.screen.exercises] == ["tangent"]
        assert "no backward exercise" in pane_text(app, "revealed")
        await answer(app, pilot, "[2, 2]")
        assert "Done: 1 of 1 right" in pane_text(app, "question")


@headless
async def test_the_debugger_opens_practice_with_t_and_comes_back_with_escape():
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)], mode="backward")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, PracticeScreen)
        assert [e.mode for e in screen.exercises] == ["backward", "tangent"]
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, DebugScreen)


@headless
async def test_why_key_explains_the_dead_relu_for_neuron_2s_w():
    _, inactive = _run("neuron")  # the bundled example: neuron#2 has b = −3
    app = DebuggerApp([inactive], mode="backward")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        footer_keys = {binding.key for binding in screen.BINDINGS if binding.show}
        assert "w" in footer_keys
        screen.jump_to(inactive.inputs["w"])
        await settle(app, pilot)
        assert screen.debugger.current.node is inactive.inputs["w"]
        await pilot.press("w")
        await settle(app, pilot)
        assert isinstance(app.screen, ExplainScreen)
        assert app.screen.title_text == "Why? · w"
        text = app.screen.text
        assert text.startswith("∂/∂w is zero because:")
        assert "is inactive" in text and "≤ 0" in text
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, DebugScreen)


@headless
async def test_why_key_says_where_a_nan_comes_from():
    with np.errstate(all="ignore"):
        graph = gad.trace(lambda x: np.where(x > 0, np.sqrt(x), 0.0), -1.0)
    app = DebuggerApp([graph], mode="backward")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        app.screen.jump_to(graph.inputs["x"])
        await pilot.press("w")
        await settle(app, pilot)
        text = app.screen.text
        assert "The backward pass first goes non-finite" in text
        assert "sqrt" in text


@headless
async def test_why_key_on_a_non_scalar_output_says_a_seed_is_needed():
    graph = gad.trace(lambda x: x * 2.0, np.array([1.0, 2.0]))
    app = DebuggerApp([graph])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("n", "w")
        await settle(app, pilot)
        assert "No gradient to explain" in app.screen.text


@headless
async def test_help_lists_the_why_and_practice_keys():
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)])
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        keys = [binding.key for _, bindings in app.screen.sections for binding in bindings]
        assert "w" in keys and "t" in keys
