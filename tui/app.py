"""The terminal debugger application.

>>> import graphviz_ad as gad
>>> app = DebuggerApp([gad.trace(lambda x: x + x ** 2, 3.0)])
>>> app.title
'graphviz-ad'
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from graphviz_ad.collect import graph_names
from graphviz_ad.notation import MODES

from .commands import NodeCommands
from .screens.chooser import GraphChooser
from .screens.debug import DebugScreen
from .screens.help import HelpScreen
from .widgets.graph_pane import GraphPane
from .widgets.steps_list import StepsList


class DebuggerApp(App):
    """Step through traced graphs: one :class:`DebugScreen` per graph, a chooser when there
    are several.  ``start`` opens that graph straight away (the chooser stays underneath);
    ``graphviz_layout`` orders whole pictures with Graphviz when it is installed;
    ``comparisons`` (graph index → a :func:`graphviz_ad.compare` report of that graph) adds
    the Compare pane to those graphs' screens."""

    CSS_PATH = "app.tcss"
    TITLE = "graphviz-ad"
    COMMANDS = App.COMMANDS | {NodeCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark,f1", "help", "Help", key_display="?", tooltip="This screen"),
        Binding("slash", "command_palette", "Find node", show=False,
                tooltip="Jump to a node by name (also ctrl+p)"),
    ]

    def __init__(self, graphs, mode: str = "forward", start: int | None = None,
                 export_folder: str | Path = ".", graphviz_layout: bool = False,
                 comparisons: dict | None = None):
        super().__init__()
        self.graphs = list(graphs)
        if not self.graphs:
            raise ValueError("no graphs to debug: trace a function with graphviz_ad.trace first")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.names = graph_names(self.graphs)
        self.mode = mode
        self.start = 0 if len(self.graphs) == 1 else start
        self.export_folder = Path(export_folder)
        self.graphviz_layout = graphviz_layout
        self.comparisons = dict(comparisons or {})

    def on_mount(self) -> None:
        if len(self.graphs) > 1:
            self.push_screen(GraphChooser(self.graphs, self.names))
        if self.start is not None:
            self.open_graph(self.start)

    def open_graph(self, index: int) -> None:
        self.push_screen(DebugScreen(self.graphs[index], self.mode, self.graphviz_layout,
                                     compare=self.comparisons.get(index)))

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        sections = [("Debugger", DebugScreen.BINDINGS), ("Graph pane", GraphPane.BINDINGS),
                    ("Steps pane", StepsList.BINDINGS),
                    ("Everywhere", [*self.BINDINGS,
                                    Binding("escape", "", "Restore a maximized pane")])]
        self.push_screen(HelpScreen(sections))
