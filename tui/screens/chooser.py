"""The graph chooser: shown when a script traced several graphs.

Each graph is listed by its name (``neuron#2`` for the second trace of ``neuron``), its
inputs' shapes and size, and below that where it was traced, its scalar inputs' values and
the line that traced it, so that two traces of one function can be told apart:

    neuron#1(w: 3, x: 3, b: scalar) → scalar   7 nodes
      neuron.py:26  b = 0.25  ·  active = gad.trace(neuron, w, x, 0.25)
"""

from __future__ import annotations

import io
import tokenize
from typing import ClassVar

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from graphviz_ad.notation import constant_name, shape_text
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


def describe_call(graph) -> str:
    """Where ``graph`` was traced, its scalar inputs and the tracing line:
    ``neuron.py:26  b = 0.25  ·  active = gad.trace(neuron, w, x, 0.25)``."""
    parts = []
    where = graph.traced_at
    if where is not None:
        parts.append(str(where))
    scalars = [f"{printable(label)} = {constant_name(node.value)}"
               for label, node in graph.inputs.items() if np.ndim(node.value) == 0]
    if scalars:
        parts.append(", ".join(scalars))
    text = "  ".join(parts)
    code = "" if where is None else _without_comment(where.line)
    if code:
        text += f"  ·  {printable(code)}"
    return text


def _without_comment(line: str) -> str:
    """A line of Python without its trailing comment (the line as written when it does not
    tokenize on its own, e.g. the first line of a call continued below)."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(line).readline):
            if token.type == tokenize.COMMENT:
                return line[: token.start[1]].rstrip()
    except (tokenize.TokenError, SyntaxError):
        pass
    return line


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
            line.append(f"\n  {describe_call(graph)}", style="dim")
            options.append(Option(line, id=str(index)))
        yield GraphList(*options, id="chooser")
        yield Footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.app.open_graph(int(event.option.id))

    def action_choose(self) -> None:
        chooser = self.query_one(OptionList)
        if chooser.highlighted is not None:
            self.app.open_graph(chooser.highlighted)
