"""The graph chooser: shown when a script traced several graphs."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from graphviz_ad.notation import shape_text
from graphviz_ad.safe_text import printable


class GraphList(OptionList):
    """The list of graphs.  Page keys move one graph at a time when the terminal is too
    small to show a line of the list (Textual's page move looks up the lines on screen, and
    then there are none)."""

    def action_page_down(self) -> None:
        if self.scrollable_content_region:
            super().action_page_down()
        else:
            self.action_cursor_down()

    def action_page_up(self) -> None:
        if self.scrollable_content_region:
            super().action_page_up()
        else:
            self.action_cursor_up()


class GraphChooser(Screen):
    """Lists the graphs; choosing one opens it (``o`` in the debugger comes back here)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "choose", "Open", show=True)]

    def __init__(self, graphs, names, **kwargs):
        super().__init__(**kwargs)
        self.graphs = list(graphs)
        self.names = list(names)

    def compose(self) -> ComposeResult:
        yield Static(f"{len(self.graphs)} graphs were traced; choose one to debug:",
                     id="chooser-title")
        options = []
        for index, (graph, name) in enumerate(zip(self.graphs, self.names)):
            inputs = ", ".join(f"{printable(label)}: {shape_text(node.shape)}"
                               for label, node in graph.inputs.items())
            line = Text(printable(name), style="bold")
            line.append(f"({inputs}) → {shape_text(graph.output.shape)}")
            line.append(f"   {len(graph.nodes)} nodes", style="dim")
            options.append(Option(line, id=str(index)))
        yield GraphList(*options, id="chooser")
        yield Footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.app.open_graph(int(event.option.id))

    def action_choose(self) -> None:
        chooser = self.query_one(OptionList)
        if chooser.highlighted is not None:
            self.app.open_graph(chooser.highlighted)
