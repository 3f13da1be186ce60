"""The main screen: one graph, one debugger cursor, five panes that follow it."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

import graphviz_ad as gad
from graphviz_ad.explain import nonfinite_reason
from graphviz_ad.notation import MODES
from graphviz_ad.practice import exercises
from graphviz_ad.safe_text import file_stem

from ..notes import StepNotes
from ..text import box_total, edge_captions
from ..widgets.compare_pane import ComparePane
from ..widgets.graph_pane import GraphPane
from ..widgets.inspector import Inspector
from ..widgets.paths_pane import PathsPane
from ..widgets.source_view import SourceView
from ..widgets.steps_list import StepsList
from .explain import ExplainScreen
from .practice import PracticeScreen


class DebugScreen(Screen):
    """Steps through one graph.  The screen owns the debugger's cursor, so the stepping keys
    live here; each pane only draws what the cursor points at."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next", "Next", tooltip="Next step"),
        Binding("p", "previous", "Prev", tooltip="Previous step (exactly the state before)"),
        Binding("g", "start", "Start", show=False, tooltip="Before the first step"),
        Binding("G", "end", "End", show=False, tooltip="The last step"),
        Binding("c", "continue", "Continue",
                tooltip="Continue to the next breakpoint (to the end if none fires)"),
        Binding("b", "toggle_breakpoint", "Breakpoint",
                tooltip="Toggle a breakpoint on the current node (● in the graph)"),
        Binding("a", "toggle_nonfinite", "Break on NaN/Inf", show=False,
                tooltip="Toggle: continue stops at the first NaN or infinity, naming its origin"),
        Binding("w", "explain", "Why?",
                tooltip="Why the current node's gradient is zero, or its value NaN/Inf"),
        Binding("t", "practice", "Practice", show=False,  # the footer is full at 80 columns
                tooltip="Practice mode: type each contribution before it is revealed"),
        Binding("m", "switch_mode", "Mode",
                tooltip="Switch pass: forward values → backward adjoints → tangents"),
        Binding("l", "toggle_layout", "Layout", show=False,
                tooltip="Jacobians in numerator (∂out/∂in) or denominator layout (transpose)"),
        Binding("P", "toggle_paths", "Paths", show=False,
                tooltip="Show or hide every path from the current node to the output"),
        Binding("e", "export", "Export SVG", show=False,
                tooltip="Export the current state as SVG (needs Graphviz or graphviz-pure)"),
        Binding("v", "graph('toggle_view')", "Graph view", show=False,
                tooltip="Cycle the Graph pane's views: full / focus / function clusters"),
        Binding("plus,equals_sign", "graph('zoom', 1)", "Zoom in", show=False, key_display="+",
                tooltip="More detail in the Graph pane (boxes, then their numbers)"),
        Binding("minus", "graph('zoom', -1)", "Zoom out", show=False, key_display="-",
                tooltip="Less detail in the Graph pane (down to bare captions)"),
        Binding("tab", "app.focus_next", "Next pane", show=False, tooltip="Focus the next pane"),
        Binding("z", "maximize", "Maximize", show=False,
                tooltip="Maximize the focused pane (z or escape restores)"),
        Binding("o", "open_other", "Other graph", show=False,
                tooltip="Back to the list of graphs (when the script traced several)"),
        Binding("x", "next_wrong", "Next ✘", tooltip="With --compare: the next adjoint your "
                "backward gets wrong (✘ in the Compare pane)"),
    ]

    def __init__(self, graph, mode: str = "forward", graphviz_layout: bool = False,
                 compare=None, **kwargs):
        super().__init__(**kwargs)
        self.comparison = compare  # a compare() report of this graph: the Compare pane
        self.graph = graph
        self.graphviz_layout = graphviz_layout
        self.debugger = gad.Debugger(graph)
        self.numerator = True
        self.breakpoints: set[int] = set()
        self.break_on_nonfinite = False
        self.notes = StepNotes()  # numpy's warnings, on the steps that raised them
        self._first_mode = mode

    def compose(self):
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield GraphPane(self.graph, self.graphviz_layout, id="graph")
                yield StepsList(id="steps")
            with Vertical(id="right"):
                yield Inspector(id="inspector")
                yield PathsPane(id="paths")
                yield SourceView(id="source")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#paths").display = False
        if self.comparison is not None:
            self.query_one("#right").mount(ComparePane(self.comparison, id="compare"),
                                           before="#source")
            self._first_mode = "backward"
        if not self._set_mode(self._first_mode):
            self._set_mode("forward")  # the pass every graph has
        first = None if self.comparison is None else self.comparison.first_divergence
        if first is not None and self.debugger.mode == "backward":
            self.goto(self._completing_steps({first.node.id})[0])  # the first ✘
        self.query_one("#graph-canvas").focus()

    # -- showing the cursor --------------------------------------------------------------------
    def refresh_panes(self) -> None:
        """Redraw every pane for the step at the cursor."""
        debugger = self.debugger
        step = debugger.current
        state = debugger.state()
        nodes = self.graph.nodes
        with self.app.batch_update(), self.notes.kept(debugger.mode, lambda: debugger.index):
            self.query_one(GraphPane).follow(
                self._centres(step), None if step is None else step.node.id,
                lambda node_id: state.status(nodes[node_id]), self._edges(step),
                self.breakpoints, self._box_label(state),
                () if getattr(step, "via", None) is None else edge_captions(step))
            self.query_one(Inspector).show(self.graph, step, state, self.numerator,
                                           debugger.hit, self.notes.of(state.mode, state.index),
                                           len(debugger))
            where = self._source_node(step).source
            self.query_one(SourceView).show(where.filename, where.lineno)
            steps = self.query_one(StepsList)
            steps.point_at(debugger.index)
            steps.set_titles(subtitle=self._breakpoints_text())
            paths = self.query_one(PathsPane)
            if paths.display:
                paths.show(self.graph, None if step is None else step.node)
            for compare in self.query(ComparePane):
                compare.show(None if step is None else step.node)

    def _box_label(self, state):
        """What each box's number line says at ``state`` (:func:`tui.text.box_total`), ⚠
        first on a node whose step raised a warning; a constant keeps its value."""
        nodes = self.graph.nodes
        mode = state.mode

        def label(node_id: int) -> str | None:
            node = nodes[node_id]
            if node.op == "const":
                return None
            text = box_total(state, node)
            if any(self.notes.of(mode, step.index) for step in state.contributions(node)):
                text = f"⚠ {text}"
            return text

        return label

    def _breakpoints_text(self) -> str:
        """``● 2 breakpoints · NaN/Inf`` (what ``c`` stops at), empty when nothing is set."""
        parts = []
        if self.breakpoints:
            count = len(self.breakpoints)
            parts.append(f"● {count} breakpoint{'s' if count > 1 else ''}")
        if self.break_on_nonfinite:
            parts.append("NaN/Inf")
        return " · ".join(parts)

    def _centres(self, step) -> set[int]:
        if step is None:
            return {self._source_node(None).id}
        centres = {step.node.id}
        if getattr(step, "via", None) is not None:
            centres.add(step.via.id)
        return centres

    def _edges(self, step) -> list[tuple[int, int, int]]:
        """The edges the step is about, as the step record names them."""
        return [] if step is None else [edge.key for edge in step.edges]

    def _source_node(self, step):
        """The node whose line the Source pane shows: the operation the step applies."""
        if step is not None:
            return step.node if step.mode == "forward" else step.operation
        if self.debugger.mode == "backward":
            return self.graph.output
        return next(iter(self.graph.inputs.values()), self.graph.nodes[0])

    # -- modes ---------------------------------------------------------------------------------
    def _set_mode(self, mode: str) -> bool:
        """Put the cursor on ``mode``'s pass; False (and a warning saying why) when the engine
        refuses it: a backward pass of a non-scalar output needs a seed, as everywhere."""
        debugger = self.debugger
        try:
            debugger.set_mode(mode)
        except ValueError as error:
            self.notify(str(error), severity="warning")
            return False
        self.query_one(StepsList).load(self._steps(), len(debugger), mode, self.notes)
        self.refresh_panes()
        return True

    def _steps(self):
        """The steps of the pass the cursor is on, from the first (made once, then kept)."""
        return getattr(self.debugger, self.debugger.mode)()

    def action_switch_mode(self) -> None:
        """Forward values → backward (adjoints) → tangent (forward mode) → forward…, skipping
        a pass the engine refuses."""
        start = MODES.index(self.debugger.mode)
        for offset in range(1, len(MODES)):
            if self._set_mode(MODES[(start + offset) % len(MODES)]):
                return

    # -- moving the cursor ---------------------------------------------------------------------
    def _making_steps(self):
        """A block in which the debugger may make steps: a warning is noted on the step
        being made (the next one in the pass's log)."""
        debugger = self.debugger
        return self.notes.kept(debugger.mode, lambda: debugger.steps_so_far)

    def goto(self, index: int) -> None:
        with self._making_steps():
            self.debugger.goto(index)
        self.debugger.hit = None
        self.refresh_panes()

    def action_next(self) -> None:
        if self.debugger.index + 1 < len(self.debugger):
            self.goto(self.debugger.index + 1)

    def action_previous(self) -> None:
        self.goto(max(self.debugger.index - 1, -1))

    def action_start(self) -> None:
        self.goto(-1)

    def action_end(self) -> None:
        self.goto(len(self.debugger) - 1)

    def action_continue(self) -> None:
        """Run to the next breakpoint (or NaN/Inf if enabled), else to the last step."""
        nodes = self.graph.nodes
        checks = [gad.AtNode(nodes[node_id]) for node_id in sorted(self.breakpoints)]
        if self.break_on_nonfinite:
            checks.append(gad.NonFinite())
        with self._making_steps():
            hit = self.debugger.run_to(*checks)
        self.refresh_panes()
        if hit is None:
            self.notify("reached the last step" if checks else "ran to the last step",
                        timeout=3)

    def on_steps_list_chosen(self, message: StepsList.Chosen) -> None:
        self.goto(message.index)

    def on_graph_pane_node_chosen(self, message: GraphPane.NodeChosen) -> None:
        self.jump_to(self.graph.nodes[message.node_id])

    def jump_to(self, node) -> None:
        """The first step of this pass about ``node``."""
        with self._making_steps():
            found = next((step for step in self._steps() if step.node is node), None)
        if found is not None:
            self.goto(found.index)
            return
        self.notify(f"{node.label} has no step in the {self.debugger.mode} pass "
                    "(no path connects it)", severity="warning")

    # -- breakpoints ---------------------------------------------------------------------------
    def action_toggle_breakpoint(self) -> None:
        step = self.debugger.current
        if step is None:
            self.notify("take a step first: the breakpoint goes on the current node", timeout=3)
            return
        self.breakpoints ^= {step.node.id}
        self.refresh_panes()

    def action_toggle_nonfinite(self) -> None:
        self.break_on_nonfinite = not self.break_on_nonfinite
        state = "on" if self.break_on_nonfinite else "off"
        self.notify(f"break on the first NaN/Inf: {state}", timeout=3)
        self.refresh_panes()

    # -- views ---------------------------------------------------------------------------------
    def action_toggle_layout(self) -> None:
        """Numerator layout (∂out/∂in, out.size × in.size) ↔ denominator layout (transpose)."""
        self.numerator = not self.numerator
        self.refresh_panes()

    def action_toggle_paths(self) -> None:
        paths = self.query_one(PathsPane)
        paths.display = not paths.display
        self.refresh_panes()

    def action_maximize(self) -> None:
        """Maximize the focused pane, or restore it."""
        if self.maximized is not None:
            self.minimize()
        elif self.focused is not None:
            self.maximize(self.focused)

    def action_next_wrong(self) -> None:
        """The step that completes the next adjoint the compared backward gets wrong (after
        the cursor's node, in the order the backward pass reaches them; then the first),
        switching to the backward pass from another."""
        if self.comparison is None:
            return
        if self.debugger.mode != "backward" and not self._set_mode("backward"):
            return
        order = self._completing_steps({verdict.node.id for verdict in self.comparison.wrong})
        if not order:
            self.notify("your backward gets no adjoint wrong", timeout=3)
            return
        self.goto(next((index for index in order if index > self.debugger.index), order[0]))

    def _completing_steps(self, node_ids: set[int]) -> list[int]:
        """The index of the step that completes each node's adjoint (its last), in order."""
        last = {step.node.id: step.index for step in self._steps() if step.node.id in node_ids}
        return sorted(last.values())
    def action_graph(self, action: str, *arguments) -> None:
        """Run a Graph pane action (``toggle_view``, ``zoom``) whichever pane has focus."""
        getattr(self.query_one(GraphPane), f"action_{action}")(*arguments)

    def action_open_other(self) -> None:
        self.app.pop_screen()

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "open_other":
            return len(self.app.screen_stack) > 2
        if action == "next_wrong":
            return self.comparison is not None
        return True

    def action_export(self) -> None:
        """Write the current state as SVG (through the renderer, in a thread: Graphviz runs
        as a separate program)."""
        debugger = self.debugger
        stem = file_stem(self.graph.name)  # a name like ../x must not leave the folder
        target = self.app.export_folder / f"{stem}-{debugger.mode}-step{max(debugger.index, 0)}.svg"
        step = debugger.state() if debugger.current is not None else None
        layout = "numerator" if self.numerator else "denominator"
        self.notify(f"exporting {target.name}…", timeout=2)
        self.run_worker(lambda: self.graph.render(target, step=step, layout=layout),
                        thread=True, group="export", exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "export":
            return
        if event.state == WorkerState.SUCCESS:
            self.notify(f"saved {event.worker.result}")
        elif event.state == WorkerState.ERROR:
            self.notify(f"export failed: {event.worker.error}", severity="error", timeout=10)

    # -- teaching ------------------------------------------------------------------------------
    def action_explain(self) -> None:
        """Open why the current node's gradient is zero (``graph.explain``) and, when its
        value or gradient is NaN or ∞, where that comes from."""
        node = self._source_node(self.debugger.current)
        if self.debugger.current is not None:
            node = self.debugger.current.node
        parts = []
        value = nonfinite_reason(self.graph, node)
        if value is not None:
            parts.append(f"Its value is not finite: {value}.")
        try:
            explanation = self.graph.explain(node)
        except ValueError as error:  # a non-scalar output: no backward pass without a seed
            parts.append(f"No gradient to explain: {error}.")
        else:
            parts.append(explanation.text)
            hit = None
            if not np.all(np.isfinite(explanation.gradient)):
                hit = gad.Debugger(self.graph, "backward").run_to(gad.NonFinite())
            if hit is not None:
                parts.append(f"The backward pass first goes non-finite at step {hit.step.number}: "
                             f"{hit.reason}.")
        self.app.push_screen(ExplainScreen(f"Why? · {node.label}", "\n\n".join(parts)))

    def action_practice(self) -> None:
        """Practice the pass the cursor is on (the backward pass from the forward one), then
        the other one."""
        first = self.debugger.mode if self.debugger.mode != "forward" else "backward"
        modes = (first, "tangent" if first == "backward" else "backward")
        found, notes = exercises(self.graph, modes)
        if not found:
            self.notify("; ".join(notes), severity="warning")
            return
        self.app.push_screen(PracticeScreen(self.graph, found, notes,
                                            graphviz_layout=self.graphviz_layout))
