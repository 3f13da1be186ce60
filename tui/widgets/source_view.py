"""The Source pane: the user's file with the current operation's line highlighted."""

from __future__ import annotations

import linecache
import os
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Span, Text
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .line_styles import CachedStyles
from .titles import PaneTitles

_GUTTER = 6  # "▶ 123 "


class SourceView(PaneTitles, CachedStyles, ScrollView, can_focus=True):
    """A read-only, syntax-highlighted view of one file; ``show(filename, lineno)`` moves
    the highlight (and loads another file when needed)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"source--current", "source--gutter"}

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
        """Highlight ``lineno`` of ``filename``, centred; only what changes is redrawn."""
        if filename == self.filename and lineno == self.lineno:
            return
        new_file = filename != self.filename
        if new_file:
            self.filename = filename
            self._lines = _highlighted(filename)
            width = max((line.cell_len for line in self._lines), default=0) + _GUTTER
            self.virtual_size = Size(width, len(self._lines))
        previous, self.lineno = self.lineno, lineno
        where = f"{os.path.basename(filename)}:{lineno}" if filename else "no source"
        self.set_titles(f"Source · {where}")
        top = int(self.scroll_offset.y)
        if self._lines and lineno:
            self.scroll_to_region(Region(0, lineno - 1, 1, 1), animate=False, center=True,
                                  force=True)
        if new_file or int(self.scroll_offset.y) != top:
            self.refresh()
        else:  # the two lines whose highlight moves
            self.refresh(*(Region(0, line - 1 - top, self.size.width, 1)
                           for line in (previous, lineno) if line))

    def on_resize(self) -> None:
        """A new size: centre the current line again (the first ``show`` may come before
        the pane has one)."""
        if self._lines and self.lineno:
            self.scroll_to_region(Region(0, self.lineno - 1, 1, 1), animate=False,
                                  center=True, force=True)
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
        # Every segment gets a style (the pane's): a bare one breaks NO_COLOR's filter.
        segments += Segment.apply_style(self._lines[index].render(self.app.console), base)
        if current:
            highlight = self.line_style("source--current")
            segments = list(Segment.apply_style(segments, post_style=highlight))
            base = base + highlight
        return Strip(segments).crop_extend(scroll_x, scroll_x + width, base)


def _highlighted(filename: str | None) -> list[Text]:
    source = "".join(linecache.getlines(filename)) if filename else ""
    if not source:
        return []
    text = Syntax(source, "python", theme="ansi_dark").highlight(source)
    text.rstrip()
    text.style = ""
    # Token colours only: the pane's background (and the current line's) shows through.
    text.spans = [Span(span.start, span.end, _foreground(span.style)) for span in text.spans]
    return list(text.split("\n", allow_blank=True))


def _foreground(style) -> Style:
    style = Style.parse(style) if isinstance(style, str) else style
    return Style(color=style.color, bold=style.bold, italic=style.italic)
