"""The practice screen's panes: the question asked, and the contributions revealed so far.

Both only write what the practice engine (:mod:`graphviz_ad.practice`) made: the prompt's
lines, the choices, the verdict, the hint and the steps' own texts.
"""

from __future__ import annotations

from rich.text import Text

from .text_pane import TextPane


class QuestionPane(TextPane):
    """The current question: the operation and what is known, what is asked, the choices
    of a rule question; after a wrong first answer, the verdict and the hint.  (A question's
    final verdict goes to the :class:`RevealedPane`.)"""

    def show(self, exercise, verdict=None, message: str = "") -> None:
        """``verdict`` is the last answer's (None before any); ``message`` a line of its own
        (an answer that could not be read, the end of an exercise)."""
        score = exercise.score
        question = exercise.question
        if question is None:
            self.set_titles(f"Done · {exercise.title}", f"score {score.right} of {score.total}")
        else:
            self.set_titles(f"Question {exercise.number} of {exercise.total} · {exercise.title}",
                            f"score {score.right}")
        lines: list[Text] = []
        if question is not None:
            lines += [Text(line) for line in question.prompt[:-1]]
            lines.append(Text(question.prompt[-1], style="bold"))
            for letter, choice in zip("abcd", question.choices, strict=False):
                lines.append(Text.assemble((f" {letter}) ", "bold"), choice))
        if verdict is not None and not verdict.final:
            lines += [Text(""), Text(verdict.text, style="bold red")]
            if verdict.hint:
                lines.append(Text.assemble(("hint: ", "bold"), verdict.hint))
        if message:
            lines += [Text("")] * bool(lines) + [Text(message, style="bold")]
        self.set_lines(lines)


def placeholder(question, more: bool = False) -> str:
    """What the answer box asks for (``more``: another exercise follows this one)."""
    if question is None:
        return "enter: the next exercise" if more else "escape: leave"
    if question.kind == "rule":
        return "a letter a–d, then enter (f2: show the answer)"
    return "a number, or an array as [1, 2, 3], then enter (f2: show the answer)"


class RevealedPane(TextPane):
    """The answers given so far, one line per question, the latest at the bottom."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._entries: list[Text] = []

    def add(self, number: int, verdict) -> None:
        mark = "green" if verdict.correct else "red"
        self._entries.append(Text.assemble((f"{number:>3} ", "dim"), (verdict.text, mark)))
        self.set_lines(self._entries)
        self.scroll_end(animate=False)

    def note(self, text: str) -> None:
        self._entries.append(Text(text, style="bold"))
        self.set_lines(self._entries)
        self.scroll_end(animate=False)
