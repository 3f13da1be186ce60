"""Practice mode: try each contribution of a pass before it is revealed.

The screen drives :class:`graphviz_ad.practice.Exercise` objects (the backward pass, then
the forward tangents): the Graph pane marks the edge asked about, the Question pane shows
what is known and what is asked, the student types an answer below it, and the Revealed
pane keeps the verdicts.  The engine checks the answers and keeps the score; the screen
only shows them.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input

from graphviz_ad.practice import AnswerError, Score

from ..widgets.graph_pane import GraphPane
from ..widgets.practice import QuestionPane, RevealedPane, placeholder


class PracticeScreen(Screen):
    """One practice session on one graph: ``exercises`` in order, then the total score.
    ``notes`` say which passes were left out and why.  Escape leaves (quits the app when
    ``quit_on_leave``, as ``graphviz-ad practice`` opens it)."""

    CSS_PATH = "practice.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Leave", tooltip="Leave practice mode"),
        Binding("f2", "give_up", "Show answer",
                tooltip="Show the answer to this question (it counts as missed)"),
    ]

    def __init__(self, graph, exercises, notes=(), quit_on_leave: bool = False,
                 graphviz_layout: bool = False, **kwargs):
        super().__init__(**kwargs)
        if not exercises:
            raise ValueError(f"nothing to practise on {graph.name}: " + "; ".join(notes))
        self.graph = graph
        self.exercises = list(exercises)
        self.notes = list(notes)
        self.quit_on_leave = quit_on_leave
        self.graphviz_layout = graphviz_layout
        self.current = 0

    @property
    def exercise(self):
        return self.exercises[self.current]

    @property
    def score(self) -> Score:
        """The score over every exercise so far."""
        total = Score()
        for exercise in self.exercises:
            total += exercise.score
        return total

    def compose(self):
        with Horizontal(id="practice-body"):
            yield GraphPane(self.graph, self.graphviz_layout, id="practice-graph")
            with Vertical(id="practice-right"):
                yield QuestionPane(id="question")
                yield Input(id="answer")
                yield RevealedPane(id="revealed")
        yield Footer()

    def on_mount(self) -> None:
        revealed = self.query_one(RevealedPane)
        revealed.set_titles("Revealed")
        for note in self.notes:
            revealed.note(note)
        self._start()

    def _start(self) -> None:
        self.query_one(RevealedPane).note(f"Practice: {self.exercise.title}")
        self._show()
        self.query_one(Input).focus()

    def _show(self, verdict=None, message: str = "") -> None:
        exercise = self.exercise
        if exercise.done:
            message = self._end_message()
        self.query_one(QuestionPane).show(exercise, verdict, message)
        more = self.current + 1 < len(self.exercises)
        self.query_one(Input).placeholder = placeholder(exercise.question, more)
        self._follow()

    def _end_message(self) -> str:
        exercise = self.exercise
        text = f"Done: {exercise.score.text}."
        if self.current + 1 < len(self.exercises):
            return text + f" Enter: {self.exercises[self.current + 1].title}."
        if len(self.exercises) > 1:
            text += f" Over all: {self.score.text}."
        return text + " Escape leaves."

    def _follow(self) -> None:
        """Mark the pass as revealed so far and the edge asked about in the Graph pane."""
        exercise = self.exercise
        state = exercise.debugger.state()
        nodes = self.graph.nodes
        question = exercise.question
        if question is None:
            step = exercise.debugger.current
            if step is None:  # a pass without steps
                self.query_one(GraphPane).follow((), None, lambda node_id: "pending", (), ())
                return
            asked, edges = step.node.id, [edge.key for edge in step.edges]
        else:
            step = question.step
            asked, edges = step.node.id, [step.edge.key]

        def status(node_id: int) -> str:
            return "current" if node_id == asked else state.status(nodes[node_id])

        centres = {asked} | {node.id for edge in step.edges for node in (edge.tail, edge.head)}
        self.query_one(GraphPane).follow(centres, asked, status, edges, ())

    # -- answering -------------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._clear(event)
        exercise = self.exercise
        if exercise.done:
            if self.current + 1 < len(self.exercises):
                self.current += 1
                self._start()
            return
        if event.value.strip() == "?":
            self.action_give_up()
            return
        number = exercise.number
        try:
            verdict = exercise.answer(event.value)
        except AnswerError as error:
            event.input.value = event.value  # to mend it
            event.input.cursor_position = len(event.value)
            self._show(message=str(error))
            return
        if verdict.final:
            self.query_one(RevealedPane).add(number, verdict)
        self._show(verdict)

    @staticmethod
    def _clear(event: Input.Submitted) -> None:
        """Empty the answer box, keeping what was typed after enter (a fast typist's next
        answer reaches the box before the screen reads this one)."""
        box = event.input
        box.value = box.value[len(event.value):] if box.value.startswith(event.value) else ""

    def action_give_up(self) -> None:
        exercise = self.exercise
        if exercise.done:
            return
        number = exercise.number
        verdict = exercise.give_up()
        self.query_one(RevealedPane).add(number, verdict)
        self._show(verdict)

    def action_leave(self) -> None:
        if self.quit_on_leave:
            self.app.exit()
        else:
            self.app.pop_screen()
