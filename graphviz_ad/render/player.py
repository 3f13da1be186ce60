"""The HTML step player: one self-contained page that plays a whole pass over one picture.

A teacher can put the file on a course page: it loads nothing from the network (no
scripts, fonts or styles from elsewhere).  Graphviz lays the picture out **once** (the
state after the last step, each box and arrow with its widest label of the pass), so no
box moves between steps; each step only restyles that one SVG (a CSS class per box and
arrow: pending, done, current) and swaps the texts that change (running totals, the
contribution an arrow carried).  The page holds the picture and a table of per-step
classes and texts, not a picture per step::

    g = gad.trace(lambda x: x + x ** 2, 3.0)
    g.render("backward.html", mode="backward")     # step 0 (before the pass) to step 4

Step ``k`` of ``n`` is the pass after ``k`` steps, numbered as ``render --step k`` and the
JSON export number them; step 0 is the graph before the first step.  An inspector beside
the picture shows the current step's edge, rule, upstream value, contribution and running
sum, written by :mod:`graphviz_ad.notation` from the engine's step records (the page does
no arithmetic).  Keys: ← / → step, Space plays or pauses, Home / End jump to the ends,
``f`` fits the whole picture, ``?`` shows the keys; the view follows the current box.
``page.html#step-3`` opens at step 3.

:func:`player_frames` is the model both the page and the animations
(:mod:`graphviz_ad.render.animation`) are made from.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ..debugger import Debugger
from ..errors import RenderError
from ..notation import array_text, bracket, derivative
from .binary import pipe
from .dot import to_dot
from .options import Options
from .stepview import step_view
from .styles import STYLES
from .view import build_view

# One layout of a picture this big (boxes plus the ranks long arrows cross) takes dot
# about 10 s even with its time budget (see dot.QUICK_LAYOUT_EFFORT).
PLAYER_EFFORT = 20_000

_SVG = "http://www.w3.org/2000/svg"
_XLINK = "http://www.w3.org/1999/xlink"
_STATUS_CODES = {"pending": "p", "done": "d", "current": "c"}
_NO_TITLE = '  graph [label=""]\n}\n'  # the page writes the title and step text itself


@dataclass(frozen=True)
class Frame:
    """One step of the pass as the player shows it (``number`` 0: before the first step)."""

    number: int
    title: str  # "step 3 of 8"
    text: str  # the step in words ("" at step 0)
    box_status: dict  # DOT box name -> "pending" | "done" | "current" (boxes with a status)
    box_total: dict  # DOT box name -> (row name, the lines of its total so far)
    arrow_status: dict  # arrow index (DOT order) -> status (single-edge arrows only)
    arrow_value: dict  # arrow index -> the lines of the contribution it carried ("→ 6")
    inspector: list  # (field, text) rows for the inspector panel
    focus: str | None  # the DOT box name to scroll to


@dataclass(frozen=True)
class Frames:
    """A pass ready to play: the layout DOT (laid out once) and one Frame per step."""

    graph: object
    mode: str
    layout_dot: str  # DOT of the state whose texts are the longest, without a title
    frames: list
    options: Options


def player_frames(graph, mode: str = "backward", seed=None, direction=None,
                  **options) -> Frames:
    """Every step of the ``mode`` pass as :class:`Frame` records over one layout.

    ``seed`` / ``direction`` as for the debugger; drawing options as for ``to_dot``.
    """
    opts = Options.of(options)
    view = build_view(graph, opts)
    if view.effort > PLAYER_EFFORT:
        raise RenderError(
            f"the picture of {graph.name} would lay out about {view.effort:,} nodes "
            f"({len(graph.nodes)} graph nodes and the ranks their long edges cross; more "
            f"than {PLAYER_EFFORT:,}), minutes of Graphviz work.  Draw less: focus='u₇' "
            "(one node's neighbourhood, --focus on the command line; hops= sets its size) "
            "or collapse=True; or step through the pass in the terminal debugger "
            "(graphviz-ad tui)")
    debugger = Debugger(graph)
    debugger.set_mode(mode, seed=seed, direction=direction)
    count = len(debugger)
    frames, texts = [], []
    for number in range(count + 1):
        debugger.goto(number - 1)
        texts.append(to_dot(graph, debugger.state(), **options))
        frames.append(_frame(graph, view, debugger.state(), texts[-1], number, count, opts))
    layout = widest_dot(texts)
    layout = layout[: layout.rstrip().rfind("}")] + _NO_TITLE
    return Frames(graph, debugger.mode, layout, frames, opts)


def widest_dot(texts: list[str]) -> str:
    """The DOT to lay a pass out once, from every step's DOT: the last step's picture with
    each box, arrow and the title as drawn at the step where its label is widest (then
    tallest), so that every step's texts fit.  Every step's DOT has the same statements,
    line for line; only labels and styles differ."""
    lines = [text.splitlines() for text in texts]
    if len({len(frame) for frame in lines}) != 1:
        return texts[-1]  # not expected; the last step alone is still a fine layout
    chosen = [max(reversed(versions), key=_label_size) for versions in zip(*lines)]
    return "\n".join(chosen) + "\n"


def _label_size(line: str) -> tuple[int, int]:
    """(longest line, lines) of a statement's HTML label; (0, 0) for anything else."""
    statement = _STATEMENT.match(line)
    if statement is None or statement.group(1) in ("node", "edge"):
        return 0, 0
    label = _label_lines(_html_label(statement.group(3)))
    return max(map(len, label)), len(label)


def _frame(graph, view, state, dot: str, number: int, count: int, options: Options) -> Frame:
    """The step's statuses from its StepView and the texts that change from its own DOT
    labels, so that a frame says exactly what ``render --step`` draws."""
    steps = step_view(graph, state, options.digits, options.max_elements)
    node_labels, edge_labels = _dot_labels(dot)
    box_status, box_total = {}, {}
    for node in view.drawn:
        box = f"n{node.id}"
        box_status[box] = steps.node_status[node.id]
        key = steps.total_name(node)
        lines = _row_lines(node_labels.get(box, ""), key)
        if lines is not None:
            box_total[box] = (key, lines)
    for name, group in view.collapsed.items():  # as render.dot colours a collapsed box
        statuses = {steps.node_status[node.id] for node in group.nodes}
        box_status[name] = next(s for s in ("current", "pending", "done") if s in statuses)
    arrow_status, arrow_value = {}, {}
    for index, arrow in enumerate(view.arrows):
        if len(arrow.edges) != 1:
            continue
        operand, consumer, arg = arrow.edges[0]
        key = (operand.id, consumer.id, arg)
        arrow_status[index] = steps.edge_status.get(key, "pending")
        lines = _label_lines(edge_labels[index]) if index < len(edge_labels) else []
        carried = next((i for i, line in enumerate(lines) if line.startswith("→")), None)
        if carried is not None:
            arrow_value[index] = lines[carried:]
    current = state.current
    focus = None
    if current is not None:
        focus = view.box.get(current.node.id)
    return Frame(number, f"step {number} of {count}", current.text if current else "",
                 box_status, box_total, arrow_status, arrow_value,
                 _inspector(state, steps, options), focus)


_STATEMENT = re.compile(r"^\s*(\S+?)(?: -> (\S+))? \[(.*)\]\s*$")
_ROW = re.compile(r"<tr>(.*?)</tr>", re.DOTALL)
_CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.DOTALL)
_BREAK = re.compile(r"<br\s*/?>")
_TAG = re.compile(r"<[^>]+>")


def _dot_labels(dot: str) -> tuple[dict, list]:
    """The HTML labels of a picture's boxes (by DOT name) and arrows (in statement order,
    the legend's left out)."""
    nodes, edges = {}, []
    for line in dot.splitlines():
        statement = _STATEMENT.match(line)
        if statement is None or statement.group(1).startswith("legend"):
            continue
        tail, head, attrs = statement.groups()
        if tail in ("graph", "node", "edge"):
            continue
        label = _html_label(attrs)
        if head is None:
            nodes[tail] = label
        else:
            edges.append(label)
    return nodes, edges


def _html_label(attrs: str) -> str:
    """The text between ``label=<`` and its matching ``>`` ("" when there is none)."""
    start = attrs.find("label=<")
    if start < 0:
        return ""
    depth = 0
    for end in range(start + 6, len(attrs)):
        depth += {"<": 1, ">": -1}.get(attrs[end], 0)
        if depth == 0:
            return attrs[start + 7:end]
    return ""


def _label_lines(label: str) -> list[str]:
    """An HTML label's text, line by line, as Graphviz prints it."""
    parts = _BREAK.split(label)
    return [html.unescape(_TAG.sub("", part)).replace("  ", " \u00a0") for part in parts]


def _row_lines(label: str, key: str) -> list[str] | None:
    """The lines of the table row named ``key`` in a box's label (None: no such row)."""
    for row in _ROW.findall(label):
        cells = _CELL.findall(row)
        if len(cells) == 2 and html.unescape(_TAG.sub("", cells[0])).strip() == key:
            return _label_lines(cells[1])
    return None


def _inspector(state, steps, options: Options) -> list:
    """The inspector's rows for the current step, all text from the step record."""
    step = state.current
    if step is None:
        return [("step", "before the first step"),
                ("next", "→ or Space to start the pass")]
    digits, limit = options.digits, options.max_elements

    def text(value):
        return array_text(value, digits, limit)

    if step.mode == "forward":
        node = step.node
        rows = [("node", node.label)]
        if node.inputs:
            rows.append(("operation", node.call_text))
        rows += [("value", text(step.value)), ("source", str(node.source))]
        return rows
    own = step.name(step.node)
    if step.is_seed:
        start = ("the output's adjoint starts it (1 for a scalar output)"
                 if step.mode == "backward" else "an input's tangent: the chosen direction")
        return [("seed", f"{own} = {text(step.total)}"), ("why", f"the pass starts here: {start}")]
    edge = step.edge
    where = f"{edge.tail.label} → {edge.head.label}"
    if edge.head.inputs.count(edge.tail) > 1:
        where += f" (argument {edge.arg + 1})"
    local = step.local
    rows = [("edge", where),
            ("rule", f"{derivative(edge.head.label, edge.tail.label)} = {bracket(local.rule)}"
                     f"  ({local.shape[0]}×{local.shape[1]})"),
            ("upstream", f"{step.name(step.via)} = {text(step.upstream)}"),
            ("contribution", text(step.contribution)),
            ("running sum", f"{own} = {steps.node_total.get(step.node.id, text(step.total))}"),
            ("received", step.count_text + (", complete" if step.complete else "")),
            ("source", str(step.operation.source))]
    return rows


# -- the page ------------------------------------------------------------------------------------


def player_html(graph, mode: str = "backward", seed=None, direction=None, binary=None,
                **options) -> str:
    """The player page for one pass (``mode``: ``"backward"``, ``"forward"`` or
    ``"tangent"``; ``seed`` / ``direction`` as for the debugger).  Drawing options as for
    ``to_dot``; Graphviz runs once."""
    frames = player_frames(graph, mode, seed, direction, **options)
    svg = pipe(frames.layout_dot, "svg", binary).decode("utf-8")
    picture, data = _marked_svg(svg, frames)
    heading = html.escape(f"{graph.name}: {frames.mode} pass, {len(frames.frames) - 1} steps")
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    payload = payload.replace("<", "\\u003c")  # no "</script>" inside the script
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{heading}</title>",
        f"<style>{_PAGE_STYLE}{_status_css(frames.mode)}</style>",
        "</head>",
        "<body>",
        f"<h1>{heading}</h1>",
        '<div id="controls">',
        '<button id="first" type="button" title="first step (Home)">|◀</button>',
        '<button id="previous" type="button" title="previous step (←)">◀</button>',
        '<button id="play" type="button" title="play / pause (Space)">▶ play</button>',
        '<button id="next" type="button" title="next step (→)">▶</button>',
        '<button id="last" type="button" title="last step (End)">▶|</button>',
        f'<input id="slider" type="range" min="0" max="{len(frames.frames) - 1}" value="0" '
        'aria-label="step">',
        '<label>speed <select id="speed" aria-label="speed">'
        '<option value="2000">0.5×</option><option value="1000" selected>1×</option>'
        '<option value="500">2×</option><option value="250">4×</option></select></label>',
        '<span id="counter"></span>',
        '<button id="fit" type="button" title="whole picture / full size (f)">fit</button>',
        '<button id="help-button" type="button" title="keys (?)">?</button>',
        "</div>",
        '<p id="description"></p>',
        '<div id="main">',
        f'<div id="stage">{picture}</div>',
        '<aside id="inspector"><h2>this step</h2><dl id="fields"></dl></aside>',
        "</div>",
        '<div id="help" hidden><h2>keys</h2><table>'
        "<tr><td>→ / ←</td><td>next / previous step</td></tr>"
        "<tr><td>Space</td><td>play / pause</td></tr>"
        "<tr><td>Home / End</td><td>first / last step</td></tr>"
        "<tr><td>+ / −</td><td>faster / slower</td></tr>"
        "<tr><td>f</td><td>whole picture / full size</td></tr>"
        "<tr><td>?</td><td>show / hide this help</td></tr></table></div>",
        f'<script type="application/json" id="frames">{payload}</script>',
        f"<script>{_SCRIPT}</script>",
        "</body>",
        "</html>",
        "",
    ])


def _marked_svg(svg: str, frames: Frames) -> tuple[str, dict]:
    """Mark the laid-out SVG so a step can restyle it: every box and arrow gets an id
    (``box-n5``, ``arrow-3``), the row name and the lines of each box's total ids
    (``name-n5``, ``total-n5-0``…) and the lines of each arrow's contribution too
    (``carried-3-0``…).  Returns the SVG and the frame table: per step the statuses (one
    letter per box and arrow) and the lines of every total and contribution (indices into
    one list of strings), each only where it changed since the step before."""
    ET.register_namespace("", _SVG)
    ET.register_namespace("xlink", _XLINK)
    root = ET.fromstring(svg)
    tag = f"{{{_SVG}}}"
    last = frames.frames[-1]
    keys = {box: key for frame in frames.frames for box, (key, _) in frame.box_total.items()}
    boxes, totals, arrows, carried = [], [], [], []
    arrow_index = 0
    for group in root.iter(f"{tag}g"):
        kind = group.get("class")
        title = group.findtext(f"{tag}title") or ""
        if kind == "node" and title in last.box_status:
            group.set("id", f"box-{title}")
            boxes.append(title)
            _mark_outline(group, tag)
            if title in keys:
                slots = _slots_after(list(group.iter(f"{tag}text")), keys[title])
                if slots:
                    slots[0].set("id", f"name-{title}")
                    for number, slot in enumerate(slots[1:]):
                        slot.set("id", f"total-{title}-{number}")
                    totals.append([title, len(slots) - 1])
        elif kind == "edge" and not title.startswith("legend"):
            index = arrow_index
            arrow_index += 1
            if index not in last.arrow_status:
                continue
            group.set("id", f"arrow-{index}")
            arrows.append(index)
            texts = list(group.iter(f"{tag}text"))
            first = next((i for i, text in enumerate(texts)
                          if (text.text or "").startswith("→")), None)
            if first is not None:
                for number, slot in enumerate(texts[first:]):
                    slot.set("id", f"carried-{index}-{number}")
                    slot.set("class", "carried")
                carried.append([index, len(texts) - first])
        elif kind == "graph":
            group.set("id", "picture")
        elif group.get("id", "").startswith("a_"):
            del group.attrib["id"]  # Graphviz's link wrappers: ids the page does not use
    picture = ET.tostring(root, encoding="unicode")
    strings: dict[str, int] = {"": 0}

    def intern(text: str) -> int:
        return strings.setdefault(text, len(strings))

    table = []
    before_t: list = [[] for _ in totals]  # what the previous step showed
    before_v: list = [[] for _ in carried]
    for frame in frames.frames:
        now_t = [[intern(line) for line in frame.box_total.get(box, ("", []))[1]]
                 for box, _ in totals]
        now_v = [[intern(line) for line in frame.arrow_value.get(index, [])]
                 for index, _ in carried]
        table.append({
            "b": "".join(_STATUS_CODES[frame.box_status[box]] for box in boxes),
            "a": "".join(_STATUS_CODES[frame.arrow_status[index]] for index in arrows),
            "t": _changes(before_t, now_t),
            "v": _changes(before_v, now_v),
            "title": frame.title,
            "text": frame.text,
            "inspector": frame.inspector,
            "focus": frame.focus,
        })
        before_t, before_v = now_t, now_v
    data = {"boxes": boxes, "totals": totals, "arrows": arrows, "carried": carried,
            "strings": list(strings), "frames": table}
    return picture, data


def _changes(before: list, now: list) -> list:
    """``[[slot, lines], …]`` for the slots whose lines differ from the step before: a long
    pass changes a few texts a step, so the table keeps only those."""
    return [[slot, lines] for slot, (old, lines) in enumerate(zip(before, now)) if old != lines]


def _slots_after(texts: list, key: str) -> list:
    """The text elements of the row named ``key``: its name and the value's lines after it,
    up to the next row name, which starts in the name's column again (colours are no
    guide: a pending box draws every text in grey)."""
    for start, text in enumerate(texts):
        if (text.text or "").strip() == key:
            slots = [text]
            for following in texts[start + 1:]:
                if following.get("x") == text.get("x"):
                    break
                slots.append(following)
            return slots
    return []


def _mark_outline(group, tag: str) -> None:
    """Class the box's outline (Graphviz draws it first) so the status CSS reaches it."""
    for element in group.iter():
        if element.tag in (f"{tag}path", f"{tag}polygon"):
            element.set("class", "outline")
            return


def _status_css(mode: str) -> str:
    """The status classes (``p``, ``d``, ``c``) as CSS, from the one style table."""
    rules = []
    for status, code in _STATUS_CODES.items():
        node = STYLES[mode, status]
        edge = STYLES[mode, f"edge_{status}"]
        rules.append(f"#stage .{code} .outline{{{_css(node, fill=True)}}}")
        rules.append(f"#stage .edge.{code} path{{{_css(edge)}}}")
        rules.append(f"#stage .edge.{code} polygon{{{_css(edge, fill_with_stroke=True)}}}")
        font = node.get("fontcolor")
        if font:
            rules.append(f"#stage .node.{code} text{{fill:{font}}}")
        edge_font = edge.get("fontcolor")
        if edge_font:
            rules.append(f"#stage .edge.{code} text{{fill:{edge_font}}}")
        weight = "bold" if status == "current" else "normal"
        rules.append(f"#stage .edge.{code} text.carried{{font-weight:{weight}}}")
        if "dir" in STYLES[mode, "edge_done"] and "dir" not in edge:
            # laid out with the arrowhead where a carried edge has it: hide it until then
            rules.append(f"#stage .edge.{code} polygon{{display:none}}")
    return "\n".join(rules)


def _css(style: dict, fill: bool = False, fill_with_stroke: bool = False) -> str:
    parts = [f"stroke:{style.get('color', '#444444')}",
             f"stroke-width:{style.get('penwidth', '1')}"]
    dashed = "dashed" in style.get("style", "")
    parts.append(f"stroke-dasharray:{'5,2' if dashed else 'none'}")
    if fill:
        filled = "filled" in style.get("style", "")
        parts.append(f"fill:{style.get('fillcolor', 'none') if filled else 'none'}")
    if fill_with_stroke:
        parts.append(f"fill:{style.get('color', '#444444')}")
    return ";".join(parts)


_PAGE_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1em 1.5em; color: #222; }
h1 { font-size: 1.3em; margin: .2em 0; }
h2 { font-size: 1em; margin: 0 0 .4em 0; }
#controls { display: flex; gap: .5em; align-items: center; margin: .5em 0; flex-wrap: wrap; }
#controls input[type=range] { flex: 1; min-width: 10em; max-width: 36em; }
#counter { font-variant-numeric: tabular-nums; min-width: 8em; }
#description { font-family: ui-monospace, Menlo, Consolas, monospace; min-height: 1.4em;
               white-space: pre-wrap; margin: .3em 0; }
#main { display: flex; gap: 1em; align-items: flex-start; }
#stage { flex: 1; overflow: auto; max-height: 78vh; border: 1px solid #ddd; }
#stage.fit svg { width: 100%; height: auto; }
#inspector { width: 24em; flex: none; font-size: .9em; border: 1px solid #ddd;
             padding: .6em .8em; max-height: 78vh; overflow: auto; }
#fields dt { color: #555; margin-top: .4em; }
#fields dd { margin: 0 0 0 .6em; font-family: ui-monospace, Menlo, Consolas, monospace;
             white-space: pre-wrap; overflow-wrap: anywhere; }
#help { position: fixed; top: 4em; right: 2em; background: #fff; border: 1px solid #888;
        padding: 1em 1.4em; box-shadow: 0 2px 8px #0003; }
#help td { padding: .15em .8em .15em 0; }
"""

_SCRIPT = r"""
(function () {
  const data = JSON.parse(document.getElementById('frames').textContent);
  const strings = data.strings, frames = data.frames;
  const byId = function (id) { return document.getElementById(id); };
  const boxes = data.boxes.map(function (name) { return byId('box-' + name); });
  function slots(prefix, name, count) {
    const found = [];
    for (let k = 0; k < count; k++) { found.push(byId(prefix + name + '-' + k)); }
    return found;
  }
  const names = data.totals.map(function (row) { return byId('name-' + row[0]); });
  const totals = data.totals.map(function (row) { return slots('total-', row[0], row[1]); });
  const arrows = data.arrows.map(function (index) { return byId('arrow-' + index); });
  const carried = data.carried.map(function (row) { return slots('carried-', row[0], row[1]); });
  const slider = byId('slider'), counter = byId('counter'), playButton = byId('play');
  const speed = byId('speed'), help = byId('help'), fields = byId('fields');
  const classes = {p: 'pending', d: 'done', c: 'current'};
  let shown = 0, timer = null;
  function restyle(element, kind, code) {
    element.setAttribute('class', kind + ' ' + code + ' ' + classes[code]);
  }
  function write(texts, lines) {
    // one line per text element; more lines than the layout has: the rest on the last one
    texts.forEach(function (text, k) {
      const last = k === texts.length - 1;
      text.textContent = (last ? lines.slice(k) : lines.slice(k, k + 1))
        .map(function (line) { return strings[line]; }).join('  ');
    });
  }
  function linesAt(i) {
    // the table keeps each step's changed texts: gather them from the first step on
    const t = totals.map(function () { return []; });
    const v = carried.map(function () { return []; });
    for (let f = 0; f <= i; f++) {
      frames[f].t.forEach(function (change) { t[change[0]] = change[1]; });
      frames[f].v.forEach(function (change) { v[change[0]] = change[1]; });
    }
    return {t: t, v: v};
  }
  function show(i, smooth) {
    shown = Math.max(0, Math.min(frames.length - 1, i));
    const frame = frames[shown];
    boxes.forEach(function (box, k) { restyle(box, 'node', frame.b[k]); });
    arrows.forEach(function (arrow, k) { restyle(arrow, 'edge', frame.a[k]); });
    const lines = linesAt(shown);
    totals.forEach(function (texts, k) {
      write(texts, lines.t[k]);
      names[k].style.visibility = lines.t[k].length ? 'visible' : 'hidden';  // nothing yet
    });
    carried.forEach(function (texts, k) { write(texts, lines.v[k]); });
    slider.value = shown;
    counter.textContent = frame.title;
    byId('description').textContent = frame.text;
    fields.textContent = '';
    frame.inspector.forEach(function (row) {
      const term = document.createElement('dt'), value = document.createElement('dd');
      term.textContent = row[0]; value.textContent = row[1];
      fields.appendChild(term); fields.appendChild(value);
    });
    if (frame.focus) {
      const box = byId('box-' + frame.focus);
      if (box) {
        box.scrollIntoView({block: 'center', inline: 'center',
                            behavior: smooth ? 'smooth' : 'auto'});
      }
    }
    if (shown === frames.length - 1) { pause(); }
  }
  function play() {
    if (shown === frames.length - 1) { show(0); }
    timer = setInterval(function () { show(shown + 1, true); }, Number(speed.value));
    playButton.textContent = '⏸ pause';
  }
  function pause() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    playButton.textContent = '▶ play';
  }
  function toggle() { if (timer === null) { play(); } else { pause(); } }
  function faster(delta) {
    speed.selectedIndex = Math.max(0, Math.min(speed.options.length - 1,
                                               speed.selectedIndex + delta));
    if (timer !== null) { pause(); play(); }
  }
  slider.addEventListener('input', function () { pause(); show(Number(slider.value)); });
  speed.addEventListener('change', function () { if (timer !== null) { pause(); play(); } });
  playButton.addEventListener('click', toggle);
  byId('first').addEventListener('click', function () { pause(); show(0); });
  byId('last').addEventListener('click', function () { pause(); show(frames.length - 1); });
  byId('previous').addEventListener('click', function () { pause(); show(shown - 1); });
  byId('next').addEventListener('click', function () { pause(); show(shown + 1); });
  byId('help-button').addEventListener('click', function () { help.hidden = !help.hidden; });
  function fit() { byId('stage').classList.toggle('fit'); show(shown); }
  byId('fit').addEventListener('click', fit);
  document.addEventListener('keydown', function (event) {
    if (event.target.tagName === 'SELECT' || event.target.tagName === 'INPUT') {
      if (event.key !== ' ' && event.key !== '?') { return; }
    }
    const moves = {ArrowLeft: shown - 1, ArrowRight: shown + 1, Home: 0,
                   End: frames.length - 1};
    if (event.key in moves) { pause(); show(moves[event.key]); }
    else if (event.key === ' ') { toggle(); }
    else if (event.key === '?') { help.hidden = !help.hidden; }
    else if (event.key === 'Escape') { help.hidden = true; }
    else if (event.key === 'f') { fit(); }
    else if (event.key === '+') { faster(1); }
    else if (event.key === '-') { faster(-1); }
    else { return; }
    event.preventDefault();
  });
  const linked = /^#step-(\d+)$/.exec(window.location.hash);  // a link to one step
  show(linked ? Number(linked[1]) : 0);
})();
"""

