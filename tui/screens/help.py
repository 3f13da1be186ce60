"""The key reference and the legend of the picture."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

LEGEND = (
    ("bold reverse", "u₃", "the current step's node"),
    ("bold", "u₃", "done: every contribution (or its value) has arrived"),
    ("dim", "u₃", "pending"),
    ("bold", "●", "a breakpoint on this node"),
    ("", "⋯", "focus view: the node has neighbours not shown"),
    ("", "│ over ─", "two lines cross (no junction); ┬ ┴ ├ ┤ are branches of one value"),
    ("", "click", "a box: jump to the first step about that node"),
)


class HelpScreen(ModalScreen):
    """Every key of the panes that are open, grouped by pane, and the legend."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "app.pop_screen", "Close"),
    ]

    def __init__(self, sections: list[tuple[str, list[Binding]]], **kwargs):
        super().__init__(**kwargs)
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(self._keys())
            yield Static(self._legend())

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "Keys · escape closes"

    def _keys(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(justify="right", style="bold")
        table.add_column()
        for title, bindings in self.sections:
            table.add_row("", Text(title, style="bold underline"))
            for binding in bindings:
                keys = binding.key_display or binding.key
                keys = ", ".join(key.replace("question_mark", "?").replace("equals_sign", "=")
                                 for key in keys.split(","))
                table.add_row(Text(keys), Text(binding.tooltip or binding.description))
        return table

    def _legend(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(justify="right")
        table.add_column()
        table.add_row("", Text("Graph legend", style="bold underline"))
        for style, sample, meaning in LEGEND:
            table.add_row(Text(sample, style=style), Text(meaning))
        return table
