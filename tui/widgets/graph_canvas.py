"""The graph drawing: a scrolling widget that renders only the lines on screen.

The layout (:mod:`tui.layout`) is made once per picture; a step only changes which nodes
are done, current or pending, which edges carry the step, where breakpoints are, what each
box's number line says (a value, an adjoint, ``1 + 6 = 7``) and the caption beside the
current edge (``1 · [2x] = 6``), so redrawing costs a few dozen short lines whatever the
size of the graph.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..layout import Picture
from ..text import fit
from .line_styles import CachedStyles

BREAKPOINT = "●"
_EDGE_CAPTION_MIN = 5  # cells: a caption with less room than this is not drawn
_CAPTION_SPOTS = 24  # cells of an edge's line, from its arrowhead, where a caption may go
# What an overlaid cell is: a cell of the current edge (or its caption), a breakpoint, or
# text written over a box in the box's own style.
EDGE, MARKER, TEXT = "edge", "marker", "text"


class GraphCanvas(CachedStyles, ScrollView, can_focus=True):
    """Draws a :class:`~tui.layout.Picture` with each node styled by its status."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "graph--pending",
        "graph--done",
        "graph--current",
        "graph--edge",
        "graph--edge-current",
        "graph--breakpoint",
    }

    DEFAULT_CSS = """
    GraphCanvas {
        background: $surface;
    }
    GraphCanvas > .graph--pending { color: $text-muted; text-style: dim; }
    GraphCanvas > .graph--done { color: $success; text-style: bold; }
    GraphCanvas > .graph--current { color: $warning; text-style: bold reverse; }
    GraphCanvas > .graph--edge { color: $text-muted; }
    GraphCanvas > .graph--edge-current { color: $warning; text-style: bold; }
    GraphCanvas > .graph--breakpoint { color: $error; text-style: bold; }
    """

    class Clicked(Message):
        """A box of the picture was clicked: ``vertex`` is its id in the picture."""

        def __init__(self, vertex: int):
            super().__init__()
            self.vertex = vertex

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.picture: Picture | None = None
        self._statuses: dict[int, str] = {}
        self._margin = 0  # blank columns left of a picture narrower than the pane
        self._edge_overlay: dict[int, dict[int, tuple[str, str]]] = {}
        self._markers: dict[int, dict[int, tuple[str, str]]] = {}
        self._number_rows: dict[int, list[int]] = {}  # row -> boxes whose number line it is
        self._label: Callable[[int], str | None] | None = None
        self._labels: dict[int, str | None] = {}  # the label of each box drawn, this step

    # -- what to draw ------------------------------------------------------------------------
    def show_picture(self, picture: Picture) -> None:
        self.picture = picture
        self._number_rows = {}
        for node_id, box in picture.boxes.items():
            if box.height >= 4:  # a two-line box: its second line holds a number
                self._number_rows.setdefault(box.y + 2, []).append(node_id)
        self._fit_virtual_size()
        self._edge_overlay = {}
        self._markers = {}
        self._statuses = {}
        self.refresh()

    def _fit_virtual_size(self) -> None:
        """The picture's size, but never less than the pane: a picture that fits leaves the
        size unchanged, and so spares the screen a new layout at every step."""
        if self.picture is not None:
            region = self.scrollable_content_region
            self._margin = max((region.width - self.picture.width) // 2, 0)  # centred
            self.virtual_size = Size(max(self.picture.width + 1, region.width),
                                     max(self.picture.height, region.height))

    def on_resize(self) -> None:
        self._fit_virtual_size()

    def mark(self, status: Callable[[int], str], edges, breakpoints,
             label: Callable[[int], str | None] | None = None,
             edge_captions: tuple[str, ...] = ()) -> None:
        """Node statuses (a function of the node id), the edges ``(source, target, arg)``
        to highlight, the node ids carrying a breakpoint, each box's number line
        (``label(node id)``; None keeps the picture's own) and a caption for the first
        highlighted edge (the first of ``edge_captions``, longest first, that finds room).
        Only the lines that change are redrawn."""
        if self.picture is None:
            return
        overlay: dict[int, dict[int, tuple[str, str]]] = {}
        markers: dict[int, dict[int, tuple[str, str]]] = {}
        for edge in edges:
            for y, x, char in self.picture.edge_cells(edge):
                overlay.setdefault(y, {})[x] = (char, EDGE)
        for node_id in breakpoints:
            box = self.picture.boxes.get(node_id)
            if box is not None:
                y, x = box.marker
                markers.setdefault(y, {})[x] = (BREAKPOINT, MARKER)
        relabel = label is not None or self._label is not None
        self._label, self._labels = label, {}  # labels are made as their rows are drawn
        if edge_captions and edges:
            self._caption_edge(markers, edges[0], edge_captions)
        statuses = {node_id: status(node_id) for node_id in self.picture.boxes}
        if not self._statuses:
            self.refresh()
        else:
            rows = {row for row in {*overlay, *self._edge_overlay}
                    if overlay.get(row) != self._edge_overlay.get(row)}
            rows |= {row for row in {*markers, *self._markers}
                     if markers.get(row) != self._markers.get(row)}
            for node_id, now in statuses.items():
                if self._statuses.get(node_id) != now:
                    box = self.picture.boxes[node_id]
                    rows.update(range(box.y, box.y + box.height))
            top = int(self.scroll_offset.y)
            if relabel:  # the number lines on screen
                bottom = top + self.size.height
                rows.update(row for row in self._number_rows if top <= row < bottom)
            width = self.size.width
            self.refresh(*(Region(0, row - top, width, 1) for row in rows))
        self._edge_overlay = overlay
        self._markers = markers
        self._statuses = statuses

    def _number_cells(self, row: int) -> dict[int, tuple[str, str]]:
        """The cells of the number lines on ``row``: each box's ``label(node id)`` cut with
        ``…`` to the box (None keeps the picture's own line)."""
        cells: dict[int, tuple[str, str]] = {}
        for node_id in self._number_rows.get(row, ()):
            if node_id not in self._labels:
                self._labels[node_id] = self._label(node_id)
            text = self._labels[node_id]
            if text is None:
                continue
            box = self.picture.boxes[node_id]
            room = box.width - 4
            for offset, char in enumerate(fit(text, room, keep_total=True).ljust(room)):
                cells[box.x + 2 + offset] = (char, TEXT)
        return cells

    def _caption_edge(self, markers: dict, edge, captions: tuple[str, ...]) -> None:
        """Write a caption beside the edge's line, on the first free stretch of a row it
        passes through, from its arrowhead up: right of the line, else left of it (else
        beside the box the edge enters, or the one it leaves).  The
        captions are tried longest first; where none fits, the longest free stretch gets
        the last one cut with ``…`` (keeping its total)."""
        picture = self.picture
        cells = picture.routes.get(edge, ())
        # The first column past what the canvas can show (its virtual width).
        limit = max(picture.width + 1, self.scrollable_content_region.width) - self._margin
        first = -self._margin  # the margin of a centred picture is free too
        # Beside the edge's line, from the arrowhead up, then beside the boxes it joins.
        spots = list(reversed(cells))[:_CAPTION_SPOTS]
        for node_id in (edge[1], edge[0]):
            box = picture.boxes.get(node_id)
            if box is not None:
                for y in range(box.y + 1, box.y + box.height - 1):
                    spots += [(y, box.x + box.width - 1), (y, box.x)]
        stretches = []  # (free cells, row, the line's column, side: 1 right, −1 left)
        for y, x in spots:
            taken = [(run_x, run_x + cell_len(text)) for run_x, text, _ in picture.rows[y]]
            taken += [(spot, spot + 1) for spot in markers.get(y, ())]
            # The nearest taken cell on each side of x (runs are intervals [start, end)).
            right = min((max(start, x + 1) for start, end in taken if end > x + 1),
                        default=limit)
            left = max((min(end - 1, x - 1) for start, end in taken if start < x),
                       default=first - 1)
            stretches += [(min(right, limit) - x - 1, y, x, 1), (x - 1 - left, y, x, -1)]
        if not stretches:
            return
        for caption in captions:
            wanted = cell_len(caption) + 1  # a blank between the line and the caption
            for room, y, x, side in stretches:
                if room >= wanted:
                    self._put(markers, y, x + 2 if side > 0 else x - wanted, caption)
                    return
        room, y, x, side = max(stretches, key=lambda stretch: stretch[0])
        if room - 1 >= _EDGE_CAPTION_MIN:
            text = fit(captions[-1], room - 1, keep_total=True)
            self._put(markers, y, x + 2 if side > 0 else x - room, text)

    @staticmethod
    def _put(markers: dict, y: int, x: int, text: str) -> None:
        row = markers.setdefault(y, {})
        for offset, char in enumerate(text):
            row[x + offset] = (char, EDGE)

    def reveal(self, node_id: int, centre: bool = False) -> None:
        """Scroll so that the node's box is on screen (centred if asked)."""
        box = self.picture.boxes.get(node_id) if self.picture else None
        if box is not None:
            x = box.x + self._margin
            region = Region(max(x - 2, 0), max(box.y - 1, 0), box.width + 4, box.height + 2)
            self.scroll_to_region(region, animate=False, center=centre, force=True)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if self.picture is None or offset is None:
            return
        x = offset.x + int(self.scroll_offset.x) - self._margin
        y = offset.y + int(self.scroll_offset.y)
        for vertex, box in self.picture.boxes.items():
            if box.x <= x < box.x + box.width and box.y <= y < box.y + box.height:
                self.post_message(self.Clicked(vertex))
                return

    # -- drawing -----------------------------------------------------------------------------
    def _style(self, name: str) -> Style:
        return self.line_style(None if name == "base" else f"graph--{name}")

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        row = y + scroll_y
        base = self._style("base")
        if self.picture is None or row >= self.picture.height:
            return Strip.blank(width, base)
        segments = self._segments(row, base, -self._margin)
        return Strip(segments).crop_extend(scroll_x, scroll_x + width, base)

    def _segments(self, row: int, base: Style, column: int) -> list[Segment]:
        """Row ``row`` from picture column ``column`` on (negative: the blank margin left of
        a centred picture, where an edge's caption may go)."""
        overlay = {**self._edge_overlay.get(row, {}), **self._markers.get(row, {})}
        if self._label is not None and row in self._number_rows:
            overlay.update(self._number_cells(row))
        edge_style = self._style("edge")
        segments: list[Segment] = []
        runs = list(self.picture.rows[row])
        # Overlaid cells outside every run (an edge's caption on blank cells) as runs of
        # their own, in the current edge's style.
        covered = {x + offset for x, text, _ in runs for offset in range(len(text))}
        for x in sorted(set(overlay) - covered):
            runs.append((x, overlay[x][0], ("caption", None)))
        runs.sort(key=lambda run: run[0])
        for x, text, (kind, key) in runs:
            if x > column:
                segments.append(Segment(" " * (x - column), base))
            if kind == "node":
                style = self._style(self._statuses.get(key, "pending"))
            elif kind == "caption":
                style = self._style("edge-current")
            else:
                style = edge_style
            if overlay and any(x <= spot < x + len(text) for spot in overlay):
                segments += self._overlaid(x, text, style, overlay)
            else:
                segments.append(Segment(text, style))
            column = x + len(text)
        return segments

    def _overlaid(self, x: int, text: str, style: Style, overlay: dict) -> list[Segment]:
        segments = []
        for offset, char in enumerate(text):
            spot = overlay.get(x + offset)
            if spot is None:
                segments.append(Segment(char, style))
            elif spot[1] == MARKER:
                segments.append(Segment(spot[0], style + self._style("breakpoint")))
            elif spot[1] == TEXT:
                segments.append(Segment(spot[0], style))
            else:
                segments.append(Segment(spot[0], self._style("edge-current")))
        return segments
