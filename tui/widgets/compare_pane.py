"""The Compare pane: the user's hand-written backward function beside the traced backward
pass, each line that holds a traced adjoint marked ✔ (it matches) or ✘ (it gets it wrong).

It reads a :class:`graphviz_ad.compare.Comparison` and nothing else: the verdicts, their
lines and their diagnoses are the report's; the pane only lays them out.  The line of the
node the cursor is on is highlighted, with the report's verdict for it underneath.
"""

from __future__ import annotations

import inspect
import linecache
import os

from rich.text import Text

from graphviz_ad.compare import KINDS
from graphviz_ad.notation import adjoint, bracket

from .text_pane import TextPane

_MARK_STYLES = {"✔": "bold green", "✘": "bold red"}


class ComparePane(TextPane):
    """``show(node)`` highlights the user's line for ``node``'s adjoint (None: the first ✘).

    >>> import numpy as np, graphviz_ad as gad
    >>> report = gad.compare(lambda x: np.sum(x ** 2), lambda x: x, np.array([1.0, 2.0]))
    >>> ComparePane(report).marks()[report.first_divergence.assignment.lineno]
    ['✘']
    """

    DEFAULT_CSS = """
    ComparePane {
        border: round $primary 50%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    ComparePane:focus { border: round $accent; }
    """

    def __init__(self, report, **kwargs):
        super().__init__(**kwargs)
        self.report = report
        self._shown: tuple | None = None  # (the cursor's node, the verdict's node) shown
        where = report.backward_at
        self._filename = where.filename if where else None
        self._code = _function_lines(where)

    def marks(self) -> dict[int, list[str]]:
        """line number → the marks of the verdicts found there (in the backward's file)."""
        found: dict[int, list[str]] = {}
        for verdict in self._verdicts():
            found.setdefault(verdict.assignment.lineno, []).append(verdict.mark)
        return found

    def _verdicts(self):
        return [verdict for verdict in self.report.verdicts.values()
                if verdict.assignment.filename == self._filename]

    def show(self, node) -> None:
        """Highlight the line holding ``node``'s adjoint and say what the report found."""
        report = self.report
        verdict = report.verdicts.get(node.id) if node is not None else None
        if verdict is None and node is None:
            verdict = report.first_divergence
        key = (None if node is None else node.id, None if verdict is None else verdict.node.id)
        if key == self._shown:
            return
        self._shown = key
        wrong = len(report.wrong)
        right = sum(verdict.ok for verdict in report.verdicts.values())
        self.set_titles(f"Your backward · {report.backward}",
                        f"{right} ✔ · {wrong} ✘" if wrong else f"{right} ✔ · passed")
        current = None if verdict is None else verdict.assignment.lineno
        said = self._verdict_lines(node, verdict)
        rows = self._source_lines(current)
        if current is None or not self._code:
            self.set_lines(said + rows)
            return
        # the verdict under its line, as a compiler shows an error; the line near the top
        row = current - self._code[0][0]
        self.set_lines(rows[: row + 1] + said + rows[row + 1:])
        self.call_after_refresh(self.scroll_to, y=max(row - 1, 0), animate=False, force=True)

    def _source_lines(self, current: int | None) -> list[Text]:
        output = self.report.graph.output.label
        by_line: dict[int, list] = {}
        for verdict in sorted(self._verdicts(), key=lambda v: v.node.id, reverse=True):
            by_line.setdefault(verdict.assignment.lineno, []).append(verdict)
        rows = []
        for lineno, code in self._code:
            verdicts = by_line.get(lineno, [])
            mark = "✘" if any(not v.ok for v in verdicts) else ("✔" if verdicts else " ")
            row = Text(no_wrap=True, overflow="ellipsis")
            row.append(mark, _MARK_STYLES.get(mark, ""))
            row.append(f"{'▶' if lineno == current else ' '}{lineno:>4} ", "dim")
            row.append(code)
            for verdict in verdicts:
                row.append(f"  {verdict.mark} {adjoint(verdict.node.label, output)}",
                           _MARK_STYLES[verdict.mark])
            if lineno == current:
                row.stylize("reverse")
            rows.append(row)
        if not rows:
            rows.append(Text("(the backward's source cannot be read)"))
        return rows

    def _verdict_lines(self, node, verdict) -> list[Text]:
        output = self.report.graph.output.label
        if verdict is None:
            if node is None:
                return [Text("every adjoint your lines hold matches", "green"), Text("")]
            name = adjoint(node.label, output)
            return [Text(f"{name}: no line of yours holds it", "dim"), Text("")]
        where = f"{verdict.assignment.name} ({os.path.basename(verdict.assignment.filename)}:"
        where += f"{verdict.assignment.lineno})"
        name = adjoint(verdict.node.label, output)
        if verdict.ok:
            form = f", {verdict.form}" if verdict.form else ""
            return [Text(f"  ✔ {where} holds {name}{form}", "green")]
        diagnosis = verdict.diagnosis
        lines = [Text(f"  ✘ {where} should be {name}", "bold red"),
                 Text(f"    {KINDS[diagnosis.kind]}: {diagnosis.words}")]
        if diagnosis.rule:
            lines.append(Text(f"    rule {bracket(diagnosis.rule)}", "dim"))
        lines.append(Text(f"    expected {diagnosis.expected}"))
        lines.append(Text(f"    yours    {verdict.assignment.name} = {diagnosis.yours}"))
        if verdict.mismatch is not None:
            lines.append(Text(f"    {verdict.mismatch}", "dim"))
        return lines


def _function_lines(where) -> list[tuple[int, str]]:
    """(line number, text) of the function that begins at ``where`` (its whole block)."""
    if where is None:
        return []
    lines = linecache.getlines(where.filename)
    if not lines:
        return []
    block = inspect.getblock(lines[where.lineno - 1:])
    return [(where.lineno + i, line.rstrip("\n")) for i, line in enumerate(block)]
