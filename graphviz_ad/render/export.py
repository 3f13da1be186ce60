"""Files from a graph: SVG, PNG, PDF (laid out by Graphviz), DOT and JSON (no Graphviz needed)
and the HTML step player.

>>> import graphviz_ad as gad
>>> g = gad.trace(lambda x: x * x, 3.0)
>>> data = json.loads(to_json(g))
>>> [(e["source"], e["target"], e["arg"], e["jacobian"]["rule"]) for e in data["edges"]]
[(0, 1, 0, 'x'), (0, 1, 1, 'x')]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from ..errors import RenderError
from ..primitives import PRIMITIVES
from .binary import pipe
from .dot import to_dot
from .options import Options
from .stepview import state_of
from .view import build_view

FORMATS = ("svg", "png", "pdf", "dot", "json", "html", "gif", "mp4")
TEXT_FORMATS = ("svg", "dot", "json", "html")
_SUFFIXES = {"gv": "dot", "htm": "html"}
PREVIEW_EFFORT = 50_000  # dot takes a few seconds at this layout effort (see preview_svg)


def to_svg(graph, step=None, binary=None, **options) -> str:
    """The picture as SVG text (needs ``dot`` or ``graphviz-pure``; ``binary`` picks one)."""
    return pipe(to_dot(graph, step, **options), "svg", binary).decode("utf-8")


def preview_svg(graph) -> str:
    """The default picture as SVG for an inline display (Jupyter), which must not keep the
    notebook waiting: a picture whose layout effort (boxes plus the ranks long arrows cross)
    exceeds :data:`PREVIEW_EFFORT` is a RenderError saying how to draw it or a part of it."""
    effort = build_view(graph, Options()).effort
    if effort > PREVIEW_EFFORT:
        raise RenderError(
            f"{graph.name} is too big to draw inline: its picture would lay out about "
            f"{effort:,} nodes (more than {PREVIEW_EFFORT:,}; long edges count once per rank "
            f"they cross).  graph.render('{graph.name}.svg') draws it anyway; "
            "graph.render('part.svg', focus='u₇') draws one node's neighbourhood")
    return to_svg(graph)


def render(graph, path, format=None, step=None, binary=None, **options) -> Path | None:
    """Write the picture to ``path`` in ``format`` (by default, from the file's suffix):
    ``svg``, ``png``, ``pdf``, ``dot`` (or ``.gv``), ``json`` or ``html`` (the step player;
    it takes ``mode``, ``seed`` and ``direction`` besides the drawing options).

    ``gif`` and ``mp4`` animate a whole pass, one frame per step over one layout (they take
    ``mode``, ``seed``, ``direction``, ``frame_ms`` and ``max_pixels``; see
    :mod:`graphviz_ad.render.animation`).

    ``binary`` chooses the Graphviz program (``"dot"`` or ``"graphviz-pure"``; by default
    ``dot`` when it is on PATH).  Returns the path written.  ``"-"`` writes a text format
    (svg, the default, dot, json or html) to standard output and returns None.
    """
    if str(path) == "-":
        sys.stdout.write(picture_text(graph, _format(None, format or "svg"), step, binary,
                                      **options))
        return None
    path = Path(path)
    fmt = _format(path, format)
    if fmt in TEXT_FORMATS:
        path.write_text(picture_text(graph, fmt, step, binary, **options), encoding="utf-8")
    elif fmt in ("gif", "mp4"):
        from .animation import write_animation

        if step is not None:
            raise ValueError(f"a {fmt} animates every step of a pass: give mode= (and seed= "
                             "or direction=), not step=")
        write_animation(graph, path, fmt, binary=binary, **options)
    else:
        Options.of(options)
        path.write_bytes(pipe(to_dot(graph, step, **options), fmt, binary))
    return path


def picture_text(graph, fmt: str, step=None, binary=None, **options) -> str:
    """The picture in a text format: ``svg``, ``dot``, ``json`` or ``html`` (the player)."""
    if fmt != "html":
        Options.of(options)  # a misspelt option is an error for every format, JSON included
    if fmt == "dot":
        return to_dot(graph, step, **options)
    if fmt == "json":
        return to_json(graph, step)
    if fmt == "svg":
        return to_svg(graph, step, binary, **options)
    if fmt == "html":
        from .player import player_html

        if step is not None:
            raise ValueError("the HTML player shows every step of a pass: give mode= (and "
                             "seed= or direction=), not step=")
        return player_html(graph, binary=binary, **options)
    raise ValueError(f"{fmt} is binary: write it to a file, not as text")


def _format(path: Path | None, fmt: str | None) -> str:
    if fmt is None:
        suffix = path.suffix.lower().lstrip(".")
        if not suffix:
            raise ValueError(f"cannot tell the format of {str(path)!r} without a suffix; pass "
                             f"format= one of {', '.join(FORMATS)}")
        fmt = _SUFFIXES.get(suffix, suffix)
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"unknown picture format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return fmt


def to_json(graph, step=None) -> str:
    """The graph as node-link JSON, for other tools (and with a step, its state).

    ``nodes``: ``id``, ``label``, ``assigned`` (``z`` when the line ``z = …`` made it),
    ``name`` (inputs), ``op``, ``symbol``, ``shape``, ``value``
    (nested lists; NaN and ±∞ become null), ``expression``, ``source`` (``file.py:12``),
    ``line`` (that line's code), ``call_path`` and ``inputs`` (operand ids in argument
    order).  ``edges``: ``source`` → ``target`` (operand → consumer), ``arg`` and the local
    Jacobian's ``kind``, ``rule`` and ``shape`` [m, n] in numerator layout.  A node used
    twice by one consumer (``x*x``) has two edges.  ``calls``: the user function calls.
    With a step: ``step`` (``mode``, ``number`` as every front end counts steps, 0 before
    the pass and the seed 1, ``of`` the pass's last number, ``text``) and per node ``status`` and
    ``total`` (value, adjoint or tangent so far; null when nothing has arrived).
    """
    state = state_of(step) if step is not None else None
    nodes, edges = [], []
    for node in graph.nodes:
        record = {
            "id": node.id,
            "label": node.label,
            "assigned": node.assigned,
            "name": node.name,
            "op": node.op,
            "symbol": PRIMITIVES[node.op].symbol if node.op in PRIMITIVES else node.op,
            "shape": list(node.shape),
            "value": plain(node.value),
            "expression": node.call_text if node.inputs else None,
            "source": str(node.source),
            "line": node.source.line,
            "call_path": list(node.call_path),
            "inputs": [operand.id for operand in node.inputs],
        }
        if state is not None:
            record["status"] = state.status(node)
            record["total"] = plain(state.total(node))
        nodes.append(record)
        for arg, operand in enumerate(node.inputs):
            jacobian = node.jacobian(arg)
            edges.append({
                "source": operand.id,
                "target": node.id,
                "arg": arg,
                "jacobian": {"kind": jacobian.kind, "rule": jacobian.rule,
                             "shape": list(jacobian.shape)},
            })
    document = {
        "name": graph.name,
        "directed": True,
        "multigraph": True,
        "layout": "numerator",
        "inputs": {name: node.id for name, node in graph.inputs.items()},
        "output": graph.output.id,
        "calls": [{"index": call.index, "function": call.function,
                   "file": os.path.basename(call.filename), "line": call.lineno,
                   "parent": call.parent} for call in graph.calls],
        "nodes": nodes,
        "edges": edges,
    }
    if state is not None:
        current = state.current
        document["step"] = {"mode": state.mode, "number": state.number, "of": state.length,
                            "text": current.text if current is not None else ""}
    return json.dumps(document, ensure_ascii=False, indent=1, allow_nan=False) + "\n"


def plain(value):
    """A value as JSON data: a number, nested lists, or None; NaN and ±∞ become None
    (JSON has no such numbers)."""
    if value is None:
        return None
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return float(array) if np.isfinite(array) else None
    if np.isfinite(array).all():
        return array.tolist()
    return np.where(np.isfinite(array), array, None).tolist()


def node_positions(graph, timeout: float | None = None) -> dict[int, tuple[float, float]]:
    """Where Graphviz puts each node of ``graph`` (node id → (x, y) in inches, y up), read
    from its ``plain`` output for the picture ``to_dot`` writes with every node drawn as
    itself (no folding, clusters, collapsing, values or legend).  Raises RenderError when
    no Graphviz program answers within ``timeout`` seconds.

    >>> import graphviz_ad as gad
    >>> g = gad.trace(lambda x: x * 2.0, 3.0)
    >>> positions = node_positions(g)                   # doctest: +SKIP
    >>> positions[0][1] > positions[2][1]               # doctest: +SKIP
    True
    """
    dot = to_dot(graph, values=False, fold_constants=False, clusters=False, collapse=False,
                 legend=False)
    plain = pipe(dot, "plain", timeout=timeout).decode("utf-8", "replace")
    positions = {}
    for line in plain.splitlines():
        fields = line.split()
        if fields and fields[0] == "node" and fields[1].startswith("n"):
            positions[int(fields[1][1:])] = (float(fields[2]), float(fields[3]))
    return positions
