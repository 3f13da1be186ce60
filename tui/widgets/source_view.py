"""The Source pane: the user's file with the current operation's line highlighted."""

from __future__ import annotations

import linecache
import os

from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .line_styles import CachedStyles

_GUTTER = 6  # "▶ 123 "


class SourceView(CachedStyles, ScrollView, can_focus=True):
    """A read-only, syntax-highlighted view of one file; ``show(filename, lineno)`` moves
    the highlight (and loads another file when needed)."""

    COMPONENT_CLASSES = {"source--current", "source--gutter"}

    DEFAULT_CSS = """
    SourceView { background: $surface; }
    SourceView > .source--current { background: $warning 30%; text-style: bold; }
    SourceView > .source--gutter { color: $text-muted; }
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.filename: str | None = None
        self.lineno = 0
        self._lines: list[Text] = []

    def show(self, filename: str | None, lineno: int) -> None:
        if filename != self.filename:
            self.filename = filename
            self._lines = _highlighted(filename)
            width = max((line.cell_len for line in self._lines), default=0) + _GUTTER
            self.virtual_size = Size(width, len(self._lines))
        self.lineno = lineno
        where = f"{os.path.basename(filename)}:{lineno}" if filename else "no source"
        self.border_title = f"Source · {where}"
        if self._lines and lineno:
            self.scroll_to_region(Region(0, lineno - 1, 1, 1), animate=False, center=True,
                                  force=True)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = y + scroll_y
        base = self.line_style()
        if index >= len(self._lines):
            if not self._lines and y == 0:
                return Strip([Segment("(the source file cannot be read)", base)]).crop_extend(
                    0, width, base)
            return Strip.blank(width, base)
        current = index + 1 == self.lineno
        gutter_style = self.line_style("source--gutter")
        marker = "▶" if current else " "
        segments = [Segment(f"{marker}{index + 1:>4} ", gutter_style)]
        segments += self._lines[index].render(self.app.console)
        if current:
            highlight = self.line_style("source--current")
            segments = list(Segment.apply_style(segments, post_style=highlight))
            base = base + highlight
        return Strip(segments).crop_extend(scroll_x, scroll_x + width, base)


def _highlighted(filename: str | None) -> list[Text]:
    source = "".join(linecache.getlines(filename)) if filename else ""
    if not source:
        return []
    text = Syntax(source, "python", theme="ansi_dark", background_color="default").highlight(
        source)
    text.rstrip()
    lines = text.split("\n", allow_blank=True)
    for line in lines:
        line.stylize(Style(bgcolor=None))
    return list(lines)
