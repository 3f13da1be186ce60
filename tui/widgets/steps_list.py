"""The Steps pane: every step of the current pass, one line each, the cursor on the current.

Rows are made on demand from the pass's own generator (a pass of a 10,000-node graph is
not expanded until someone scrolls there), and only the lines on screen are drawn.  Each
row starts with the step's number (step 1 is the first record; step 0, before the pass,
has no row: see :mod:`graphviz_ad.steps`); a row wider than the pane ends in ``…`` (the
Inspector shows the current step in full), and a step that raised a warning is marked ⚠.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..notes import StepNotes
from ..text import fit
from .line_styles import CachedStyles
from .titles import PaneTitles

WARNED = "⚠"


class StepsList(PaneTitles, CachedStyles, ScrollView, can_focus=True):
    """Lists the steps; moving its cursor (keys or a click) asks to jump to that step."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Step up", show=False, tooltip="Go to the step above"),
        Binding("down,j", "move(1)", "Step down", show=False, tooltip="Go to the step below"),
        Binding("pageup", "move(-10)", "Page up", show=False, tooltip="Ten steps back"),
        Binding("pagedown", "move(10)", "Page down", show=False, tooltip="Ten steps on"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"steps--cursor", "steps--index"}

    DEFAULT_CSS = """
    StepsList { background: $surface; }
    StepsList > .steps--cursor { background: $accent 40%; text-style: bold; }
    StepsList > .steps--index { color: $text-muted; }
    """

    class Chosen(Message):
        """The user picked step ``index`` in the list."""

        def __init__(self, index: int):
            super().__init__()
            self.index = index

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._steps: list = []
        self._source: Iterator | None = None
        self._total = 0
        self._mode = ""
        self._notes = StepNotes()
        self.cursor = -1

    def load(self, steps: Iterator, total: int, mode: str = "",
             notes: StepNotes | None = None) -> None:
        """A new pass: ``steps`` yields its steps in order, ``total`` counts them; a warning
        raised while a step is made becomes a note on it in ``notes``."""
        self._steps = []
        self._source = steps
        self._total = total
        self._mode = mode
        self._notes = notes if notes is not None else StepNotes()
        self.cursor = -1
        self.virtual_size = Size(self.size.width, total)
        self.set_titles(f"Steps · {total}")
        self.refresh()

    def _step(self, index: int):
        made = self._steps
        with self._notes.kept(self._mode, lambda: len(made)):
            while len(made) <= index and self._source is not None:
                made.append(next(self._source))
        return made[index]

    def row_text(self, index: int, width: int) -> str:
        """Row ``index`` as drawn in ``width`` cells (without its number): the step's text,
        cut with ``…`` when longer, after ⚠ when making it raised a warning."""
        step = self._step(index)
        with self._notes.kept(self._mode, lambda: index):
            text = step.text  # its rule is made again from the node, which may warn again
        if self._notes.of(self._mode, index):
            text = f"{WARNED} {text}"
        return fit(text, width)

    def point_at(self, index: int) -> None:
        """Put the cursor on step ``index`` (-1: none) and keep it on screen."""
        previous, self.cursor = self.cursor, index
        top = int(self.scroll_offset.y)
        if index >= 0:
            self.scroll_to_region(Region(0, index, 1, 1), animate=False, force=True)
        if int(self.scroll_offset.y) != top:
            self.refresh()
        else:  # only the two rows whose highlight changes
            self.refresh(*(Region(0, row - top, self.size.width, 1) for row in (previous, index)
                           if row >= 0))

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = y + scroll_y
        base = self.line_style()
        if index >= self._total:
            if self._total == 0 and y == 0:
                return Strip([Segment("(no steps)", base)]).crop_extend(0, width, base)
            return Strip.blank(width, base)
        style = self.line_style("steps--cursor") if index == self.cursor else base
        digits = len(str(self._total))
        number = f"{index + 1:>{digits}} "
        segments = [
            Segment(number, style + self.line_style("steps--index")),
            Segment(self.row_text(index, width - cell_len(number)), style),
        ]
        return Strip(segments).crop_extend(scroll_x, scroll_x + width, style)

    def action_move(self, change: int) -> None:
        if self._total:
            target = min(max(self.cursor + change, 0), self._total - 1)
            self.post_message(self.Chosen(target))

    def on_click(self, event: events.Click) -> None:
        index = event.y + int(self.scroll_offset.y)
        if 0 <= index < self._total:
            self.post_message(self.Chosen(index))
