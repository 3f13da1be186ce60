"""Why is this gradient zero, why is this value NaN: the explanation of one node."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class ExplainScreen(ModalScreen):
    """Shows a text the engine wrote (``graph.explain``, the non-finite breakpoint's
    reasons) over the debugger; escape closes it."""

    DEFAULT_CSS = """
    ExplainScreen { align: center middle; }
    #explain {
        width: 90; max-width: 95%; height: auto; max-height: 80%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,w", "app.pop_screen", "Close"),
    ]

    def __init__(self, title: str, text: str, **kwargs):
        super().__init__(**kwargs)
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="explain"):
            yield Static(Text(self.text), id="explain-text")

    def on_mount(self) -> None:
        box = self.query_one("#explain")
        box.border_title = Text(self.title_text)
        box.border_subtitle = "escape closes"
