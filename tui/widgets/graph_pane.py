"""The Graph pane: the whole graph or the focus view, three levels of detail, a progress bar
while a large layout is made in a worker thread."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ProgressBar
from textual.worker import Worker, WorkerState, get_current_worker

from .. import pictures
from ..layout import Picture
from .graph_canvas import GraphCanvas

_FOCUS_CACHE = 64  # focus pictures kept (stepping back and forth re-uses them)


class GraphPane(Vertical):
    """Shows the graph with the current step's nodes and edge highlighted.

    ``view`` is ``"full"`` (every node) or ``"focus"`` (the neighbourhood of the current
    step, re-laid out at each step); graphs above :data:`tui.pictures.FOCUS_THRESHOLD`
    nodes open in the focus view.  A full layout of a large graph runs in a thread.
    """

    BINDINGS = [
        Binding("f", "fit", "Fit graph", show=False),
        Binding("plus,equals_sign", "zoom(1)", "Zoom in (more detail)", show=False,
                key_display="+"),
        Binding("minus", "zoom(-1)", "Zoom out (less detail)", show=False, key_display="-"),
        Binding("v", "toggle_view", "Full view / focus view", show=False),
    ]

    def __init__(self, graph, **kwargs):
        super().__init__(**kwargs)
        self.graph = graph
        self.detail = 1
        self.view = "focus" if len(graph.nodes) > pictures.FOCUS_THRESHOLD else "full"
        self._whole: dict[int, Picture] = {}
        self._focus: OrderedDict = OrderedDict()
        self._centres: tuple[int, ...] = ()
        self._marks: tuple = (lambda node_id: "pending", (), ())
        self._current: int | None = None
        self._shown_key = None
        self._laying_out: tuple[int, ...] | None = None

    def compose(self):
        yield ProgressBar(total=100, show_eta=False, id="layout-progress")
        yield GraphCanvas(id="graph-canvas")

    @property
    def canvas(self) -> GraphCanvas:
        return self.query_one(GraphCanvas)

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False
        self.border_title = f"Graph · {self.graph.name}"
        self._update_subtitle()

    # -- following the debugger --------------------------------------------------------------
    def follow(self, centres, current: int | None, status: Callable[[int], str], edges,
               breakpoints) -> None:
        """Show the step: ``centres`` are the node ids the focus view is built around,
        ``current`` the node to keep on screen."""
        self._centres = tuple(sorted(set(centres)))
        self._marks = (status, tuple(edges), tuple(breakpoints))
        self._current = current
        self._redraw()

    def _redraw(self) -> None:
        canvas = self.canvas
        key, picture = self._wanted_picture()
        new = picture is not None and key != self._shown_key
        if new:
            canvas.show_picture(picture)
            self._shown_key = key
        canvas.mark(*self._marks)
        if self._current is not None and self.size.height:
            canvas.reveal(self._current, centre=new)
        self._update_subtitle()

    def _wanted_picture(self):
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
            return key, picture
        key = ("full", self.detail)
        picture = self._whole.get(self.detail)
        if picture is None:
            if len(self.graph.nodes) <= pictures.FOCUS_THRESHOLD:
                picture = self._whole[self.detail] = pictures.whole(self.graph, self.detail)
            elif self._laying_out != (self.detail,):
                self._start_layout((self.detail,), fit=None)
        return key, picture

    def _update_subtitle(self) -> None:
        view = "focus view" if self.view == "focus" else "full view"
        self.border_subtitle = f"{view} · {pictures.DETAILS[self.detail]} · {len(self.graph.nodes)} nodes"

    # -- layout in a worker thread -------------------------------------------------------------
    def _start_layout(self, details: tuple[int, ...], fit) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(progress=0)
        bar.display = True
        self._laying_out = details
        self.border_subtitle = f"laying out {len(self.graph.nodes)} nodes…"
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
                    lambda fraction, index=index: progress((index + fraction) * share))
                picture = pictures.whole(self.graph, detail, step)
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
        self.view = "full" if self.view == "focus" else "focus"
        self._redraw()
