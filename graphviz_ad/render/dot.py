"""The picture as DOT text: a pure function of a graph, an optional debugger step and options.

>>> import graphviz_ad as gad
>>> g = gad.trace(lambda x: x * x, 3.0)
>>> text = to_dot(g, legend=False)
>>> text.count("n0 -> n1")                  # x*x: x is used twice, so two edges
2

How to read a picture (the legend in each picture says the same):

* A **node** is a table: its name (an input's name, ``u₇`` for a result and ``z = u₇``
  when the source line assigned it to ``z``, the variable holding a constant array) with
  the op's symbol, the operation as code (``multiply(x, x)``), the
  shape and the value; at a debugger step also the running total: the adjoint ``∂y/∂x`` in
  a backward pass, the tangent ``dx`` in a tangent pass, written ``1 + 6 = 7`` when several
  paths have contributed.  The first row's colour says what the node is: inputs yellow,
  the output reddish purple (and the word *output*), constants grey.
* An **edge** ``operand → consumer`` carries the consumer's local Jacobian
  ∂consumer/∂operand: its rule in the paper's notation (``diag(y)``, ``xᵀ``, ``1ᵀ``; an
  identity is just ``I``) and its shape m×n (numerator layout; the denominator layout shows
  the transpose, n×m), with the numbers up to 8×8.  During a backward pass it says instead
  the update it makes, ``∂y/∂W += ∂y/∂u · xᵀ`` (``edge_rule="backprop"``); a matrix
  product's Jacobian over vec, ``I ⊗ xᵀ``, only shows with ``edge_rule="expanded"``.  At a
  step, the contribution that travelled along an edge follows an arrow (``→ 6``).
* **Status** at a step (see :mod:`graphviz_ad.render.styles`, one table for every style):
  pending dashed and grey, done solid and tinted, current thick and bold; forward values
  blue, backward adjoints vermillion (carried edges point back), tangents green.
* A **cluster** (dashed frame) holds what one user function call made; a 3-D box is such a
  call collapsed, or in a big graph without calls, the nodes one source line made in a row.
"""

from __future__ import annotations

import math
import os

from ..linear import Kind
from ..notation import adjoint, array_text, matrix_rows, number, scale_of, shape_text, tangent
from ..primitives import PRIMITIVES
from .marks import explain_marks
from .options import Options
from .stepview import StepView, step_view
from .styles import FONT, STATUS_MEANING, STYLES
from .text import html_text, quoted, transposed_rule
from .view import View, build_view

_KEY_COLOUR = "#555555"  # row names in node tables
_NOTE_COLOUR = "#B22222"  # explain=True: why a gradient is zero, where a NaN comes from
# Above this layout effort (View.effort), dot gets a time budget: crossing minimisation and
# network simplex stop early and edges are straight.  Measured with dot 2.43 on a loop's
# graph (bench/render_speed.py, every node drawn): 123 nodes 16 s -> 0.2 s, 303 nodes
# over 5 minutes -> 2 s.
QUICK_LAYOUT_EFFORT = 1000
QUICK_LAYOUT = {"mclimit": "0.05", "nslimit": "0.2", "nslimit1": "2", "splines": "line"}
_SYMMETRIC_KINDS = (Kind.IDENTITY, Kind.DIAGONAL, Kind.RESHAPE)
_IDENTITIES = ("I", "−I", "1", "−1")  # drawn alone: their numbers say nothing more
# rankdir=None draws left to right when the longest chain of boxes is this many times the
# widest rank (and at least MIN_DEPTH long): a deep, narrow graph then fills a wide slide
DEEP = 2.0
MIN_DEPTH = 6
WRAP_AFTER = 6  # an automatic left-to-right picture deeper than this wraps into rows
VECTOR_LINE = 8  # entries per line when a picture lays a long vector out


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
        self.marks = explain_marks(graph) if options.explain else {}  # why zero, why NaN

    # -- the whole picture ---------------------------------------------------------------------
    def text(self) -> str:
        lines = [f"digraph {quoted(self.graph.name)} {{"]
        graph_attrs = {"rankdir": self.options.rankdir or self._auto_rankdir(), "fontname": FONT,
                       "labelloc": "t", "label": self._title(), "newrank": "true", "nodesep": "0.3",
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
        if self.options.rankdir is None and graph_attrs["rankdir"] == "LR":
            lines.extend(self._rows())
        if self.options.legend:
            lines.extend(self._legend())
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _auto_rankdir(self) -> str:
        """``LR`` for a deep, narrow picture (a chain of boxes DEEP times as long as the
        widest rank), ``TB`` otherwise."""
        level = self._levels()
        if not level:
            return "TB"
        depth = max(level.values()) + 1
        width = max(list(level.values()).count(rank) for rank in set(level.values()))
        return "LR" if depth >= MIN_DEPTH and depth >= DEEP * width else "TB"

    def _levels(self) -> dict[str, int]:
        """Each box's rank: its longest path from a box with no arrow in."""
        boxes = [self.view.box.get(node.id, f"n{node.id}") for node in self.view.drawn]
        boxes += list(self.view.collapsed)
        heads: dict[str, list[str]] = {box: [] for box in boxes}
        indegree = dict.fromkeys(boxes, 0)
        for arrow in self.view.arrows:
            if arrow.tail in heads and arrow.head in indegree and arrow.tail != arrow.head:
                heads[arrow.tail].append(arrow.head)
                indegree[arrow.head] += 1
        level = dict.fromkeys(boxes, 0)
        ready = [box for box in boxes if indegree[box] == 0]
        while ready:
            box = ready.pop()
            for head in heads[box]:
                level[head] = max(level[head], level[box] + 1)
                indegree[head] -= 1
                if indegree[head] == 0:
                    ready.append(head)
        return level

    def _rows(self) -> list[str]:
        """A long left-to-right picture wrapped into rows, like lines of text: with c
        columns, the boxes of ranks k, k + c, k + 2c… share one column, so a chain of 16
        boxes is four rows of four instead of one strip 16 boxes wide.  A column (a box and
        its edge labels) is about twice as wide as a row is high, so c ≈ √depth rows of c
        columns come out near 16:9."""
        level = self._levels()
        depth = max(level.values(), default=0) + 1
        if depth <= WRAP_AFTER:
            return []
        columns = math.ceil(math.sqrt(depth))
        groups: dict[int, list[str]] = {}
        for box, rank in level.items():  # in tape order: drawn nodes, then collapsed boxes
            groups.setdefault(rank % columns, []).append(box)
        # (invisible edges ordering the rows would make Graphviz's spline router fail on
        # clusters: "triangulation failed"; the rows keep tape order well enough without)
        return [f"  {{rank=same; {'; '.join(boxes)}}}" for _, boxes in sorted(groups.items())]

    def _title(self) -> Html:
        parts = [f"<b>{html_text(self.graph.name)}</b>"]
        if self.steps is not None:
            where = f"{self.steps.mode} pass"
            if self.steps.number > 0:
                where += f", step {self.steps.number} of {self.steps.length}"
            parts.append(html_text(where))
            text = self.steps.backprop_text if self._edge_rule() == "backprop" else self.steps.text
            if text:
                parts.append(html_text(text))
        if self.options.formula is not None:  # the gradient as the paper writes it
            parts.append(html_text(str(self.graph.formula(self.options.formula))))
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
        name = f"<b>{html_text(node.title)}</b>"
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
                rows.append(_key_row(constant.label, self._value_lines(constant.value)))
        for note in self.marks.get(node.id, ()):
            rows.append(f'<tr><td align="left" colspan="2"><font color="{_NOTE_COLOUR}">'
                        f"<i>{html_text(note)}</i></font></td></tr>")
        return Html(_table(rows))

    def _value_rows(self, node) -> list[str]:
        steps = self.steps
        if steps is None:
            return [_key_row("value", self._value_lines(node.value))]
        if steps.mode == "forward":
            if node.id not in steps.node_array:
                return [_key_row("value", ["?"])]
            return [_key_row("value", self._value_lines(steps.node_array[node.id]))]
        rows = [_key_row("value", self._value_lines(node.value))]
        if node.id in steps.node_total:
            total = steps.node_array[node.id]
            if self._laid_out(total):  # a matrix: its rows, and how many contributions so far
                lines = self._value_lines(total)
                received, expected = steps.node_count[node.id]
                if received < expected:
                    lines.append(f"({received} of {expected})")
            else:  # the running sum, 1 + 6 = 7
                lines = [steps.node_total[node.id]]
            rows.append(_key_row(steps.total_name(node), lines))
        return rows

    def _value(self, value) -> str:
        return array_text(value, self.options.digits, self.options.max_elements)

    def _laid_out(self, value) -> bool:
        """Whether a value is shown over several lines: a matrix, or a long vector, that is
        not abbreviated."""
        shape = getattr(value, "shape", ())
        size = getattr(value, "size", 1)
        if size > self.options.max_elements or len(shape) not in (1, 2):
            return False
        return size > (1 if len(shape) == 2 else VECTOR_LINE)

    def _value_lines(self, value) -> list[str]:
        """A value as the lines a node shows: a matrix row by row, a long vector
        VECTOR_LINE entries a line, anything else as one line."""
        if not self._laid_out(value):
            return [self._value(value)]
        if value.ndim == 2:
            return matrix_rows(value, self.options.digits)
        chunks = [value[i:i + VECTOR_LINE] for i in range(0, value.size, VECTOR_LINE)]
        lines = [matrix_rows(chunk[None, :], self.options.digits)[0][1:-1] for chunk in chunks]
        return ["[" + lines[0] + ","] + [" " + line + "," for line in lines[1:-1]] + [
            " " + lines[-1] + "]"]

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
            rows.append(_key_row("returns", f"{node.title}  {shape_text(node.shape)}"))
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

    def _edge_rule(self) -> str:
        """The view of the edges: the option, or backprop during a backward pass."""
        if self.options.edge_rule is not None:
            return self.options.edge_rule
        return "backprop" if self.scheme == "backward" else "jacobian"

    def _edge_label(self, operand, consumer, arg) -> Html:
        jacobian = consumer.jacobian(arg)
        lines = []
        if consumer.inputs.count(operand) > 1:
            lines.append(f"argument {arg + 1}")
        view = self._edge_rule()
        if view == "jacobian" and "⊗" in jacobian.rule:
            view = "backprop"  # a Kronecker product only in the expanded view
        if view == "backprop":  # two short lines rather than one long one
            target, product = jacobian.backprop_rule(
                operand.label, self.graph.output.label).split(" += ", 1)
            lines += [f"{target} +=", product]
        else:
            lines.extend(self._jacobian_lines(jacobian))
        if self.steps is not None and self.options.values:
            value = self.steps.edge_value.get((operand.id, consumer.id, arg))
            if value is not None:  # noise measured against what the edge adds to
                end = operand if self.steps.mode == "backward" else consumer
                scale = scale_of(value, self.steps.node_array.get(end.id, 0.0))
                current = self.steps.edge_status.get((operand.id, consumer.id, arg))
                if self._laid_out(value) and current == "current":  # row by row, as in boxes
                    rows = self._value_lines(value)
                    text = "<br/>".join(html_text(("→ " if i == 0 else "   ") + row)
                                        for i, row in enumerate(rows))
                elif self._laid_out(value):  # its numbers are in the box it reached
                    text = html_text(f"→ {shape_text(value.shape)}")
                else:
                    text = html_text("→ " + array_text(value, self.options.digits,
                                                       self.options.max_elements, scale))
                lines_text = f"<b>{text}</b>" if current == "current" else text
                return Html("<br/>".join([*map(html_text, lines), lines_text]))
        return Html("<br/>".join(map(html_text, lines)))

    def _jacobian_lines(self, jacobian) -> list[str]:
        """The local Jacobian: its rule, its shape m×n and, up to ``jacobian_numbers``
        entries, its numbers; an identity is ``I`` alone."""
        m, n = jacobian.shape
        rule = jacobian.rule
        if rule in _IDENTITIES:
            return [rule]
        denominator = self.options.layout == "denominator"
        if denominator:
            symmetric = jacobian.kind in _SYMMETRIC_KINDS or (m, n) == (1, 1)
            rule = transposed_rule(rule, symmetric)
            m, n = n, m
        numbers = self.options.values and m * n <= self.options.jacobian_numbers
        if numbers and m * n == 1:
            entry = number(jacobian.matrix()[0, 0], self.options.digits)
            return [rule if rule == entry else f"{rule} = {entry}"]
        lines = [rule, f"{m}×{n}"]
        if numbers:
            matrix = jacobian.matrix()
            lines.extend(matrix_rows(matrix.T if denominator else matrix, self.options.digits))
        return lines

    # -- legend --------------------------------------------------------------------------------
    def _legend(self) -> list[str]:
        """One small table in a corner: a line for each kind of thing the picture shows."""
        text = {"shape": "plain", "label": self._legend_text(), "fontsize": "10"}
        return [f"  legend {_attrs(text)}"]

    def _legend_text(self) -> Html:
        out = self.graph.output.label
        view = self._edge_rule()
        ops = [consumer for consumer in self.view.drawn if consumer.inputs]
        kronecker = any("⊗" in node.jacobian(arg).rule for node in ops
                        for arg in range(len(node.inputs)))
        lines = []
        if ops and (view != "backprop" or (not kronecker and self.steps is None)):
            if self.options.layout == "numerator":
                lines.append("edge: ∂head/∂tail, m×n (numerator layout: head size × tail size)")
            else:
                lines.append("edge: (∂head/∂tail)ᵀ, n×m (denominator layout: tail × head size)")
        if ops and (view == "backprop" or (view == "jacobian" and kronecker)):
            lines.append(f"edge: the update it makes, {adjoint('tail', out)} += …")
        if any(node.assigned for node in self.view.drawn):
            lines.append("z = u₂: the source line named the result z")
        if self.steps is not None and self.options.values:
            if self.steps.mode == "backward":
                lines.append(f"{adjoint('x', out)}: the adjoint of x; 1 + 6 = 7: the "
                             "contribution of each path and their sum")
            elif self.steps.mode == "tangent":
                lines.append(f"{tangent('x')}: the tangent of x; 1 + 6 = 7: the contribution "
                             "of each operand and their sum")
            if self.steps.edge_value:
                lines.append("→ 6: the contribution an edge carried")
            statuses = {self.steps.node_status[node.id] for node in self.view.drawn}
            meaning = STATUS_MEANING[self.scheme]
            for status, style in (("current", "bold"), ("done", "solid"),
                                  ("pending", "dashed")):
                if status in statuses:
                    lines.append(f"{style}: {meaning[status]}")
        if self.options.clusters and self.view.cluster_of:
            lines.append("dashed frame: one call of a function")
        if self.view.focus is not None and self.steps is None:
            lines.append("double frame: the node in focus")
        report = self.options.compare
        if report is not None and report.wrong:
            lines.append(f"double orange-red frame: {report.backward} gets its adjoint wrong (✘)")
        elif report is not None:
            lines.append(f"{report.backward}: every adjoint it holds matches (✔)")
        if self.view.collapsed:
            lines.append("3-D box: a call or source line drawn collapsed")
        rows = [f'<tr><td align="left">{html_text(line)}</td></tr>' for line in lines]
        return Html(_table(rows or ['<tr><td align="left"></td></tr>']))


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


def _key_row(key: str, value) -> str:
    """A row ``key  value``; a list of lines is stacked, left-aligned (a matrix's rows)."""
    lines = [value] if isinstance(value, str) else value
    text = '<br align="left"/>'.join(html_text(line) for line in lines)
    if len(lines) > 1:
        text += '<br align="left"/>'
    return (f'<tr><td align="left" valign="top"><font color="{_KEY_COLOUR}">{html_text(key)}'
            f'</font></td><td align="left">{text}</td></tr>')

