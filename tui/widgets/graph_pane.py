"""The Graph pane: the whole graph or the focus view, three levels of detail, a progress bar
while a large layout is made in a worker thread."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import ProgressBar
from textual.worker import Worker, WorkerState, get_current_worker

from .. import pictures
from ..layout import Picture
from .graph_canvas import GraphCanvas
from .titles import PaneTitles

_FOCUS_CACHE = 64  # focus pictures kept (stepping back and forth re-uses them)
CLUSTER_THRESHOLD = 300  # above this many nodes a graph opens folded into its calls


class GraphPane(PaneTitles, Vertical):
    """Shows the graph with the current step's nodes and edge highlighted.

    ``view`` is ``"full"`` (every node), ``"focus"`` (the neighbourhood of the current
    step, re-laid out at each step) or ``"clusters"`` (each user-function call folded into
    one box).  Graphs above :data:`tui.pictures.FOCUS_THRESHOLD` nodes open in the focus
    view, and above :data:`CLUSTER_THRESHOLD` collapsed into their calls when that leaves
    few boxes.  A full layout of a large graph runs in a thread.  ``use_graphviz`` takes
    whole pictures' ranks and order from Graphviz when installed.
    """

    ALLOW_MAXIMIZE = True  # the whole pane, not only its canvas
    # v, + and - belong to the debug screen (they work from every pane) and call the
    # actions below.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "fit", "Fit graph", show=False),
    ]

    def __init__(self, graph, use_graphviz: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.graph = graph
        self.use_graphviz = use_graphviz
        self.views = ("full", "focus", "clusters") if pictures.has_calls(graph) else (
            "full", "focus")
        self.view = _first_view(graph)
        # A focus picture is small: its boxes have room for their numbers.
        self.detail = 2 if self.view == "focus" else 1
        self._clusters: dict[int, pictures.Collapsed] = {}
        self._shown_folding: pictures.Collapsed | None = None
        self._whole: dict[int, Picture] = {}
        self._focus: OrderedDict = OrderedDict()
        self._centres: tuple[int, ...] = ()
        self._marks: tuple = (lambda node_id: "pending", (), ())
        self._label: Callable[[int], str | None] | None = None
        self._edge_captions: tuple[str, ...] = ()
        self._current: int | None = None
        self._shown_key = None
        self._laying_out: tuple[int, ...] | None = None
        self._sized = False

    def compose(self):
        yield ProgressBar(total=100, show_eta=False, id="layout-progress")
        yield GraphCanvas(id="graph-canvas")

    @property
    def canvas(self) -> GraphCanvas:
        return self.query_one(GraphCanvas)

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False
        self.set_titles(f"Graph · {self.graph.name}")
        self._update_subtitle()

    def on_resize(self) -> None:
        if not self._sized and self.size.height:
            self._sized = True
            self.call_after_refresh(self._first_fit)

    def _first_fit(self) -> None:
        """Open a small graph at the most detailed level that fits the pane.  The numbers
        (values, adjoints) are what a step is about, so their picture is also taken when
        its width fits and it is at most twice as tall as the pane, or nothing fits
        anyway (the pane scrolls to follow the step); else boxes when nothing fits
        (scrolling beats bare captions)."""
        if self.view == "full" and len(self.graph.nodes) <= pictures.FOCUS_THRESHOLD:
            width, height = self.canvas.scrollable_content_region.size
            numbers = self._whole[self._lay_out((2,), None)]
            fits = self._lay_out((1, 0), (width, height))
            picture = self._whole[fits]
            if numbers.width <= width and (numbers.height <= 2 * height
                                           or picture.height > height):
                self.detail = 2
            else:
                self.detail = fits if picture.width <= width and picture.height <= height else 1
        self._redraw()

    # -- following the debugger --------------------------------------------------------------
    def follow(self, centres, current: int | None, status: Callable[[int], str], edges,
               breakpoints, label: Callable[[int], str | None] | None = None,
               edge_captions: tuple[str, ...] = ()) -> None:
        """Show the step: ``centres`` are the node ids the focus view is built around,
        ``current`` the node to keep on screen, ``label(node id)`` the number a box shows
        (None: its value as traced) and ``edge_captions`` what the first edge says (in
        full, then shorter forms for a tight spot)."""
        self._centres = tuple(sorted(set(centres)))
        self._marks = (status, tuple(edges), tuple(breakpoints))
        self._label = label
        self._edge_captions = tuple(edge_captions)
        self._current = current
        self._redraw()

    def _redraw(self) -> None:
        canvas = self.canvas
        key, picture, folding = self._wanted_picture()
        new = picture is not None and key != self._shown_key
        if new:
            canvas.show_picture(picture)
            self._shown_key = key
            self._shown_folding = folding
        status, edges, breakpoints = self._marks
        label, current = self._label, self._current
        folding = self._shown_folding
        if folding is not None:
            status, edges, breakpoints = _folded_marks(folding, *self._marks)
            current = None if current is None else folding.vertex_of[current]
            label = None if label is None else _folded_label(folding, label)
        canvas.mark(status, edges, breakpoints, label, self._edge_captions)
        if current is not None and self.size.height:
            canvas.reveal(current, centre=new)
        self._update_subtitle()

    def _wanted_picture(self):
        """(key, picture or None while a worker makes it, folding for the clusters view)."""
        if self.view == "clusters":
            folding = self._clusters.get(self.detail)
            if folding is None:
                folding = self._clusters[self.detail] = pictures.collapsed(self.graph,
                                                                           self.detail)
            return ("clusters", self.detail), folding.picture, folding
        if self.view == "focus" and self._centres:
            key = ("focus", self._centres, self.detail)
            picture = self._focus.get(key)
            if picture is None:
                picture = pictures.focus(self.graph, self._centres, self.detail)
                self._focus[key] = picture
                if len(self._focus) > _FOCUS_CACHE:
                    self._focus.popitem(last=False)
            else:
                self._focus.move_to_end(key)
            return key, picture, None
        key = ("full", self.detail)
        picture = self._whole.get(self.detail)
        if picture is None:
            if len(self.graph.nodes) <= pictures.FOCUS_THRESHOLD:
                picture = self._whole[self.detail] = pictures.whole(
                    self.graph, self.detail, use_graphviz=self.use_graphviz)
            elif self._laying_out != (self.detail,):
                self._start_layout((self.detail,), fit=None)
        return key, picture, None

    class NodeChosen(Message):
        """The user clicked the box of ``node_id`` (the first node of a folded call)."""

        def __init__(self, node_id: int):
            super().__init__()
            self.node_id = node_id

    def on_graph_canvas_clicked(self, message: GraphCanvas.Clicked) -> None:
        message.stop()
        vertex = message.vertex
        folding = self._shown_folding
        node_id = vertex if folding is None else folding.members[vertex][0]
        self.post_message(self.NodeChosen(node_id))

    def _update_subtitle(self) -> None:
        view = f"{self.view} view"
        detail = pictures.DETAILS[self.detail]
        self.set_titles(subtitle=f"{view} · {detail} · {len(self.graph.nodes)} nodes")

    # -- layout in a worker thread -------------------------------------------------------------
    def _start_layout(self, details: tuple[int, ...], fit) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(progress=0)
        bar.display = True
        self._laying_out = details
        self.set_titles(subtitle=f"laying out {len(self.graph.nodes)} nodes…")
        self.run_worker(lambda: self._layout_in_thread(details, fit), thread=True,
                        exclusive=True, group="layout", description="graph layout")

    def _layout_in_thread(self, details: tuple[int, ...], fit) -> int:
        worker = get_current_worker()

        def progress(fraction: float) -> None:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._progress, fraction)

        return self._lay_out(details, fit, progress, lambda: worker.is_cancelled)

    def _lay_out(self, details: tuple[int, ...], fit, progress=None,
                 cancelled=lambda: False) -> int:
        """Lay out the whole graph at each detail in turn (most detailed first); return the
        first detail whose picture fits in ``fit`` (width, height), else the last one."""
        detail = details[-1]
        for index, detail in enumerate(details):
            picture = self._whole.get(detail)
            if picture is None:
                share = 1 / len(details)
                step = None if progress is None else (
                    lambda fraction, index=index, share=share:
                    progress((index + fraction) * share))
                picture = pictures.whole(self.graph, detail, step, self.use_graphviz)
            if cancelled():
                break
            self._whole[detail] = picture
            if fit is not None and picture.width <= fit[0] and picture.height <= fit[1]:
                break
        return detail

    def _progress(self, fraction: float) -> None:
        self.query_one(ProgressBar).update(progress=100 * fraction)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "layout":
            return
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self.query_one(ProgressBar).display = False
        if event.state == WorkerState.SUCCESS:
            self._laying_out = None
            self.detail, self.view = event.worker.result, "full"
            self._redraw()
        elif event.state == WorkerState.ERROR:
            self._laying_out = None
            self.notify(f"graph layout failed: {event.worker.error}", severity="error")

    # -- keys --------------------------------------------------------------------------------------
    def action_fit(self) -> None:
        """The most detailed whole picture that fits the pane (bare captions if none does)."""
        size = self.canvas.scrollable_content_region.size
        details = tuple(range(len(pictures.DETAILS) - 1, -1, -1))
        fit = (size.width, size.height)
        if len(self.graph.nodes) <= pictures.FOCUS_THRESHOLD:
            self.detail, self.view = self._lay_out(details, fit), "full"
            self._redraw()
        else:
            self._start_layout(details, fit)

    def action_zoom(self, change: int) -> None:
        detail = min(max(self.detail + change, 0), len(pictures.DETAILS) - 1)
        if detail != self.detail:
            self.detail = detail
            self._redraw()

    def action_toggle_view(self) -> None:
        """Full → focus → clusters (when the graph has user-function calls) → full…"""
        self.view = self.views[(self.views.index(self.view) + 1) % len(self.views)]
        self._redraw()


def _first_view(graph) -> str:
    nodes = len(graph.nodes)
    if (nodes > CLUSTER_THRESHOLD and pictures.has_calls(graph)
            and pictures.collapsed_boxes(graph) <= pictures.FOCUS_THRESHOLD):
        return "clusters"
    return "focus" if nodes > pictures.FOCUS_THRESHOLD else "full"


def _folded_label(folding, label):
    """A box's number in the clusters view: its node's, for a box of one node (a folded
    call keeps its own second line, where it was called)."""

    def box_label(vertex: int) -> str | None:
        members = folding.members[vertex]
        return label(members[0]) if len(members) == 1 else None

    return box_label


def _folded_marks(folding, status, edges, breakpoints):
    """The marks of nodes and edges carried over to the boxes that fold them: a box is
    current when it holds the current node, done when all its nodes are."""

    def box_status(vertex: int) -> str:
        found = {status(node_id) for node_id in folding.members[vertex]}
        if "current" in found:
            return "current"
        return "done" if found == {"done"} else "pending"

    edges = [folding.edges[edge] for edge in edges if edge in folding.edges]
    return box_status, edges, {folding.vertex_of[node_id] for node_id in breakpoints}
