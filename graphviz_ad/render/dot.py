"""The picture as DOT text: a pure function of a graph, an optional debugger step and options.

>>> import graphviz_ad as gad
>>> g = gad.trace(lambda x: x * x, 3.0)
>>> text = to_dot(g, legend=False)
>>> text.count("n0 -> n1")                  # x*x: x is used twice, so two edges
2

How to read a picture (the legend in each picture says the same):

* A **node** is a table: its name (an input's name, ``u₇`` for a result, ``c₅`` for a
  constant array) with the op's symbol, the operation as code (``multiply(x, x)``), the
  shape and the value; at a debugger step also the running total: the adjoint ``∂y/∂x`` in
  a backward pass, the tangent ``dx`` in a tangent pass, written ``1 + 6 = 7`` when several
  paths have contributed.  The first row's colour says what the node is: inputs yellow,
  the output reddish purple (and the word *output*), constants grey.
* An **edge** ``operand → consumer`` carries the consumer's local Jacobian
  ∂consumer/∂operand: its rule in the paper's notation (``diag(y)``, ``xᵀ``, ``1ᵀ``) and its
  shape m×n (numerator layout; the denominator layout shows the transpose, n×m), with the
  numbers when the matrix is small.  At a step, the contribution that travelled along an
  edge follows an arrow (``→ 6``).
* **Status** at a step (see :mod:`graphviz_ad.render.styles`, one table for every style):
  pending dashed and grey, done solid and tinted, current thick and bold; forward values
  blue, backward adjoints vermillion (carried edges point back), tangents green.
* A **cluster** (dashed frame) holds what one user function call made; a 3-D box is such a
  call collapsed, or in a big graph without calls, the nodes one source line made in a row.
"""

from __future__ import annotations

import os

from ..linear import Kind
from ..notation import adjoint, array_text, matrix_rows, number, shape_text, tangent
from ..primitives import PRIMITIVES
from .options import Options
from .stepview import StepView, step_view
from .styles import EDGE_MEANING, FONT, STATUS_MEANING, STYLES
from .text import html_text, quoted, transposed_rule
from .view import View, build_view

_KEY_COLOUR = "#555555"  # row names in node tables
# Above this layout effort (View.effort), dot gets a time budget: crossing minimisation and
# network simplex stop early and edges are straight.  Measured with dot 2.43 on a loop's
# graph (bench/render_speed.py, every node drawn): 123 nodes 16 s -> 0.2 s, 303 nodes
# over 5 minutes -> 2 s.
QUICK_LAYOUT_EFFORT = 1000
QUICK_LAYOUT = {"mclimit": "0.05", "nslimit": "0.2", "nslimit1": "2", "splines": "line"}
_SYMMETRIC_KINDS = (Kind.IDENTITY, Kind.DIAGONAL, Kind.RESHAPE)


class Html(str):
    """An HTML-like label: written between ``<`` and ``>`` instead of quotes."""


def to_dot(graph, step=None, **options) -> str:
    """DOT text for ``graph``, at a debugger ``step`` (a step, State or Debugger) if given.

    Options: see :class:`~graphviz_ad.render.options.Options` (``rankdir``, ``layout``,
    ``values``, ``fold_constants``, ``clusters``, ``collapse``, ``focus``, ``hops``,
    ``legend``…).  The same graph, step and options always give the same text.
    """
    opts = Options.of(options)
    view = build_view(graph, opts)
    steps = step_view(graph, step, opts.digits, opts.max_elements) if step is not None else None
    return _Writer(graph, view, steps, opts).text()


class _Writer:
    """Writes one picture; every attribute comes from ``STYLES`` or the graph's data."""

    def __init__(self, graph, view: View, steps: StepView | None, options: Options):
        self.graph = graph
        self.view = view
        self.steps = steps
        self.options = options
        self.scheme = steps.mode if steps is not None else "graph"

    # -- the whole picture ---------------------------------------------------------------------
    def text(self) -> str:
        lines = [f"digraph {quoted(self.graph.name)} {{"]
        graph_attrs = {"rankdir": self.options.rankdir, "fontname": FONT, "labelloc": "t",
                       "label": self._title(), "newrank": "true", "nodesep": "0.3",
                       "ranksep": "0.35"}
        if self.options.dpi is not None:  # a bitmap's resolution (Graphviz's default: 96)
            graph_attrs["dpi"] = str(self.options.dpi)
        if self.view.effort > QUICK_LAYOUT_EFFORT:
            graph_attrs.update(QUICK_LAYOUT)
        node_attrs = {"shape": "box", "fontname": FONT, "fontsize": "11", "margin": "0.04,0.03"}
        edge_attrs = {"fontname": FONT, "fontsize": "10", "arrowsize": "0.7"}
        lines.append(f"  graph {_attrs(graph_attrs)}")
        lines.append(f"  node {_attrs(node_attrs)}")
        lines.append(f"  edge {_attrs(edge_attrs)}")
        lines.extend(self._boxes())
        lines.extend("  " + self._arrow(arrow) for arrow in self.view.arrows)
        if self.options.legend:
            lines.extend(self._legend())
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _title(self) -> Html:
        parts = [f"<b>{html_text(self.graph.name)}</b>"]
        if self.steps is not None:
            where = f"{self.steps.mode} pass"
            if self.steps.index >= 0:
                where += f", step {self.steps.index + 1}"
            parts.append(html_text(where))
            if self.steps.text:
                parts.append(html_text(self.steps.text))
        if self.view.focus is not None:
            hops = self.options.hops
            parts.append(html_text(f"within {hops} edge{'s' * (hops != 1)} of "
                                   f"{self.view.focus.label} ({self.view.hidden} nodes hidden)"))
        return Html("<br/>".join(parts))

    # -- boxes and clusters --------------------------------------------------------------------
    def _boxes(self) -> list[str]:
        """Node statements, nested in one cluster per user call (in call order)."""
        members: dict = {}
        for node in self.view.drawn:
            members.setdefault(self.view.cluster_of.get(f"n{node.id}"), []).append(
                self._node(node))
        for name, group in self.view.collapsed.items():
            members.setdefault(self.view.cluster_of.get(name), []).append(self._group(group))
        children: dict = {}
        for index in sorted(call for call in members if call is not None):
            while index is not None and self.graph.calls[index].parent is not None:
                parent = self.graph.calls[index].parent
                parent = parent if self.graph.calls[parent].parent is not None else None
                siblings = children.setdefault(parent, [])
                if index in siblings:
                    break
                siblings.append(index)
                index = parent
        return self._cluster(None, members, children, "  ")

    def _cluster(self, index, members: dict, children: dict, indent: str) -> list[str]:
        lines = [indent + line for line in members.get(index, [])]
        for child in sorted(children.get(index, [])):
            call = self.graph.calls[child]
            label = Html(f"{html_text(call.function)}()  "
                         f"{html_text(os.path.basename(call.filename))}:{call.lineno}")
            attrs = {"label": label, **STYLES["graph", "cluster"]}
            lines.append(f"{indent}subgraph cluster_call{child} {{")
            lines.append(f"{indent}  graph {_attrs(attrs)}")
            lines.extend(self._cluster(child, members, children, indent + "  "))
            lines.append(f"{indent}}}")
        return lines

    def _node(self, node) -> str:
        attrs = dict(self._status_style(self._status(node)))
        if node is self.view.focus and self.steps is None:
            attrs.update(STYLES["graph", "focus"])
        attrs.update(self._compare_style(node))
        attrs["label"] = self._node_label(node)
        attrs["tooltip"] = self._tooltip(node)
        return f"n{node.id} {_attrs(attrs)}"

    def _compare_style(self, node) -> dict:
        """The ✘ style when the compared backward gets this node's adjoint wrong."""
        report = self.options.compare
        verdict = None if report is None else report.verdicts.get(node.id)
        return {} if verdict is None or verdict.ok else STYLES["compare", "wrong"]

    def _status(self, node) -> str | None:
        return None if self.steps is None else self.steps.node_status[node.id]

    def _status_style(self, status) -> dict:
        if status is None:
            return STYLES["graph", "node"]
        return STYLES[self.scheme, status]

    def _node_label(self, node) -> Html:
        kind = "output" if node is self.graph.output else node.op
        kind = kind if kind in ("input", "const", "output") else "op"
        header = STYLES["header", kind]
        name = f"<b>{html_text(node.label)}</b>"
        if node is self.graph.output:
            name += " <i>output</i>"
        symbol = node.op if node.op in ("input", "const") else PRIMITIVES[node.op].symbol
        rows = [_row(name, html_text(symbol), header)]
        if node.inputs:
            rows.append(f'<tr><td align="left" colspan="2">{html_text(node.call_text)}</td></tr>')
        rows.append(_key_row("shape", shape_text(node.shape)))
        if self.options.values:
            rows.extend(self._value_rows(node))
        for constant in self.view.folded.get(node.id, ()):
            if constant.shape:  # a scalar constant already shows in the call text
                rows.append(_key_row(constant.label, self._value(constant.value)))
        return Html(_table(rows))

    def _value_rows(self, node) -> list[str]:
        steps = self.steps
        if steps is None:
            return [_key_row("value", self._value(node.value))]
        if steps.mode == "forward":
            return [_key_row("value", steps.node_total.get(node.id, "?"))]
        rows = [_key_row("value", self._value(node.value))]
        if node.id in steps.node_total:
            rows.append(_key_row(steps.total_name(node), steps.node_total[node.id]))
        return rows

    def _value(self, value) -> str:
        return array_text(value, self.options.digits, self.options.max_elements)

    def _tooltip(self, node) -> str:
        what = f"{node.label} = {node.call_text}" if node.inputs else f"{node.label} ({node.op})"
        return f"{what}  at {node.source}"

    def _group(self, group) -> str:
        """A collapsed call or source line: what it is, where, how many nodes, and the
        results other boxes use."""
        nodes = group.nodes
        if group.call is not None:
            call = self.graph.calls[group.call]
            where = f"{os.path.basename(call.filename)}:{call.lineno}"
            header = _row(f"<b>{html_text(call.function)}()</b>", "call", {})
            what = f"{call.function}() called at {where}"
        else:
            where = str(nodes[0].source)
            header = _row(f"<b>line {nodes[0].source.lineno}</b>", "source line", {})
            what = f"{nodes[0].source.line or 'the nodes'} made at {where}"
        results = [node for node in nodes
                   if node is self.graph.output or any(
                       self.view.box.get(other.id) not in (None, group.name)
                       for other in self.view.consumers[node.id])]
        rows = [header]
        if group.call is None and nodes[0].source.line:
            rows.append(f'<tr><td align="left" colspan="2">'
                        f"{html_text(nodes[0].source.line)}</td></tr>")
        rows += [_key_row("at", where), _key_row("nodes", str(len(nodes)))]
        for node in results:
            rows.append(_key_row("returns", f"{node.label}  {shape_text(node.shape)}"))
        statuses = {self._status(node) for node in nodes}
        status = None
        if self.steps is not None:
            status = next(s for s in ("current", "pending", "done") if s in statuses)
        attrs = {**STYLES["graph", "call"]}
        if status is not None:
            attrs.update({k: v for k, v in STYLES[self.scheme, status].items() if k != "style"})
            attrs["style"] = "filled" + (",dashed" if status == "pending" else "")
        attrs["label"] = Html(_table(rows))
        attrs["tooltip"] = f"{what}: {len(nodes)} nodes"
        return f"{group.name} {_attrs(attrs)}"

    # -- arrows --------------------------------------------------------------------------------
    def _arrow(self, arrow) -> str:
        attrs: dict = {}
        if len(arrow.edges) == 1:
            operand, consumer, arg = arrow.edges[0]
            attrs.update(self._edge_style(operand, consumer, arg))
            attrs["label"] = self._edge_label(operand, consumer, arg)
        else:
            attrs.update(STYLES["graph", "edge"])
            attrs["label"] = Html(f"{len(arrow.edges)} edges")
        return f"{arrow.tail} -> {arrow.head} {_attrs(attrs)}"

    def _edge_style(self, operand, consumer, arg) -> dict:
        if self.steps is None:
            return STYLES["graph", "edge"]
        status = self.steps.edge_status.get((operand.id, consumer.id, arg), "pending")
        return STYLES[self.scheme, f"edge_{status}"]

    def _edge_label(self, operand, consumer, arg) -> Html:
        jacobian = consumer.jacobian(arg)
        m, n = jacobian.shape
        rule = jacobian.rule
        denominator = self.options.layout == "denominator"
        if denominator:
            symmetric = jacobian.kind in _SYMMETRIC_KINDS or (m, n) == (1, 1)
            rule = transposed_rule(rule, symmetric)
            m, n = n, m
        lines = []
        if consumer.inputs.count(operand) > 1:
            lines.append(f"argument {arg + 1}")
        numbers = self.options.values and m * n <= self.options.jacobian_numbers
        if numbers and m * n == 1:
            entry = number(jacobian.matrix()[0, 0], self.options.digits)
            lines.append(rule if rule == entry else f"{rule} = {entry}")
        else:
            lines.append(rule)
        lines.append(f"{m}×{n}")
        if numbers and m * n > 1:
            matrix = jacobian.matrix()
            lines.extend(matrix_rows(matrix.T if denominator else matrix, self.options.digits))
        if self.steps is not None and self.options.values:
            value = self.steps.edge_value.get((operand.id, consumer.id, arg))
            if value is not None:
                text = html_text(f"→ {self._value(value)}")
                current = self.steps.edge_status.get((operand.id, consumer.id, arg))
                lines_text = f"<b>{text}</b>" if current == "current" else text
                return Html("<br/>".join([*map(html_text, lines), lines_text]))
        return Html("<br/>".join(map(html_text, lines)))

    # -- legend --------------------------------------------------------------------------------
    def _legend(self) -> list[str]:
        frame = {"label": Html("<b>legend</b>"), "style": "rounded", "color": "#BBBBBB",
                 "fontsize": "11"}
        text = {"shape": "plain", "label": self._legend_text()}
        lines = ["  subgraph cluster_legend {",
                 f"    graph {_attrs(frame)}",
                 f"    legend_text {_attrs(text)}"]
        if self.steps is not None:
            lines.extend(self._legend_samples())
        lines.append("  }")
        return lines

    def _legend_samples(self) -> list[str]:
        """One node per status in a row, then one short arrow per edge status in a row,
        each drawn with its style from the table."""
        statuses = [f"legend_{status}" for status in STATUS_MEANING[self.scheme]]
        roles = list(EDGE_MEANING[self.scheme])
        tails = [f"legend_{role}_from" for role in roles]
        heads = [f"legend_{role}_to" for role in roles]
        point = {"shape": "point", "width": "0.06", "color": "#555555"}
        lines = []
        for name, (status, meaning) in zip(statuses, STATUS_MEANING[self.scheme].items(),
                                           strict=True):
            attrs = {**STYLES[self.scheme, status], "label": Html(html_text(
                f"{status}: {meaning}"))}
            lines.append(f"    {name} {_attrs(attrs)}")
            lines.append(f"    legend_text -> {name} [style=invis]")
        for tail, head, role, status in zip(tails, heads, roles, statuses, strict=True):
            attrs = {**STYLES[self.scheme, role],
                     "label": Html(html_text(EDGE_MEANING[self.scheme][role]))}
            lines.append(f"    {tail} {_attrs(point)}")
            lines.append(f"    {head} {_attrs(point)}")
            lines.append(f"    {tail} -> {head} {_attrs(attrs)}")
            lines.append(f"    {status} -> {tail} [style=invis]")
        for row in (statuses, tails, heads):
            lines.append(f"    {{rank=same; {'; '.join(row)}}}")
        return lines

    def _legend_text(self) -> Html:
        out = self.graph.output.label
        if self.options.layout == "numerator":
            layout = ["edge tail → head: local Jacobian ∂head/∂tail, its rule and shape m×n",
                      "numerator layout: m = head size, n = tail size"]
        else:
            layout = ["edge tail → head: local Jacobian (∂head/∂tail)ᵀ, rule and shape n×m",
                      "denominator layout (transposed): n = tail size, m = head size"]
        lines = layout
        if self.options.values and self.options.jacobian_numbers:
            lines.append(f"its numbers when it has at most {self.options.jacobian_numbers} "
                         "entries")
        lines.append("first row: inputs yellow, output purple, constants grey")
        if self.options.fold_constants:
            lines.append("constants are drawn inside the nodes that use them")
        if self.steps is not None and self.steps.mode == "backward":
            lines.append(f"{adjoint('x', out)}: the adjoint of x; 1 + 6 = 7: the contribution "
                         "of each path and their sum; (1 of 2): contributions so far")
            lines.append("→ 6 on an edge: the contribution it carried")
        elif self.steps is not None and self.steps.mode == "tangent":
            lines.append(f"{tangent('x')}: the tangent of x (∂x/∂inputs · direction); 1 + 6 = 7: "
                         "the contribution of each operand and their sum")
            lines.append("→ 6 on an edge: the contribution it carried")
        elif self.steps is not None:
            lines.append("value ?: not computed yet")
        if self.options.clusters and self.view.cluster_of:
            lines.append("dashed frame: the nodes one function call made")
        if self.view.focus is not None and self.steps is None:
            lines.append("double purple frame: the node in focus")
        report = self.options.compare
        if report is not None and report.wrong:
            lines.append(f"double orange-red frame: {report.backward} gets its adjoint wrong (✘)")
        elif report is not None:
            lines.append(f"{report.backward}: every adjoint it holds matches (✔)")
        if self.view.collapsed:
            lines.append("3-D box: a function call or source line drawn collapsed "
                         "(collapse=False expands it, focus= shows one neighbourhood)")
        rows = [f'<tr><td align="left">{html_text(line)}</td></tr>' for line in lines]
        return Html(_table(rows))


def _attrs(attrs: dict) -> str:
    parts = []
    for key, value in attrs.items():
        text = f"<{value}>" if isinstance(value, Html) else quoted(value)
        parts.append(f"{key}={text}")
    return "[" + ", ".join(parts) + "]"


def _table(rows: list[str]) -> str:
    return ('<table border="0" cellborder="0" cellspacing="0" cellpadding="2">'
            + "".join(rows) + "</table>")


def _row(left: str, right: str, background: dict) -> str:
    colour = "".join(f' {key}="{value}"' for key, value in background.items())
    return (f'<tr><td align="left"{colour}>{left}</td>'
            f'<td align="right"{colour}>{right}</td></tr>')


def _key_row(key: str, value: str) -> str:
    return (f'<tr><td align="left"><font color="{_KEY_COLOUR}">{html_text(key)}</font></td>'
            f'<td align="left">{html_text(value)}</td></tr>')

