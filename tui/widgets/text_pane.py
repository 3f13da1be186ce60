"""A scrolling pane of Rich text drawn through the Line API.

Updating a ``Static`` asks Textual to lay the whole screen out again (its size may have
changed); this pane renders its text to lines itself, at its own width, and only redraws
the lines on screen, which keeps a step's redraw cheap.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .line_styles import CachedStyles
from .titles import PaneTitles


class TextPane(PaneTitles, CachedStyles, ScrollView, can_focus=True):
    """Shows lines of Rich text, wrapped to the pane's width, scrolled by keys or mouse."""

    DEFAULT_CSS = """
    TextPane { background: $surface; }
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._lines: list[Text] = []
        self._strips: list[Strip] = []
        self._width = -1

    def set_lines(self, lines: list[Text]) -> None:
        self._lines = list(lines)
        self._width = -1
        self._render_strips()
        self.refresh()

    @property
    def text(self) -> str:
        """The pane's text, one line per line given (before wrapping)."""
        return "\n".join(line.plain for line in self._lines)

    def on_resize(self) -> None:
        self._render_strips()

    def _render_strips(self) -> None:
        width = self.scrollable_content_region.width or self.size.width
        if width <= 0 or width == self._width:
            return
        self._width = width
        console = self.app.console
        options = console.options.update(width=width, height=None, highlight=False)
        lines = console.render_lines(Group(*self._lines), options, style=self.line_style(),
                                     pad=False)
        self._strips = [Strip(line) for line in lines]
        # Never less than the pane: content that fits leaves the size (and the layout) alone.
        height = self.scrollable_content_region.height
        self.virtual_size = Size(width, max(len(self._strips), height))

    def render_line(self, y: int) -> Strip:
        index = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        base = self.line_style()
        if index >= len(self._strips):
            return Strip.blank(width, base)
        return self._strips[index].crop_extend(0, width, base)
