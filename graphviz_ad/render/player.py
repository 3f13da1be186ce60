"""The HTML step player: one self-contained file with a picture of every step of a pass.

A teacher can put the file on a course page: it loads nothing from the network (no
scripts, fonts or styles from elsewhere), shows one step at a time with its description,
and is driven by the ← / → keys (Home / End jump to the ends), the buttons or the slider.
Frame 0 is the graph before the first step::

    g = gad.trace(lambda x: x + x ** 2, 3.0)
    g.render("backward.html", mode="backward")     # 5 frames: start and 4 steps

Every frame is laid out by Graphviz, so a long pass over a big picture would take minutes:
when the frames times each frame's layout effort (boxes plus the ranks long arrows cross,
see :func:`~graphviz_ad.render.view.build_view`) exceed :data:`PLAYER_EFFORT`, the player
refuses with a RenderError that suggests drawing less per frame (``focus=``, ``hops=``,
``collapse=True``).  Measured with dot 2.43: 100 frames of 60 nodes take 7 s, 200 frames
of 120 nodes with long arrows (effort 1.9 million) 94 s.
"""

from __future__ import annotations

import html
import re

from ..debugger import Debugger
from ..errors import RenderError
from .binary import pipe
from .dot import to_dot
from .options import Options
from .view import build_view

PLAYER_EFFORT = 300_000  # frames × layout effort per frame: about 10 s of dot

_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)  # XML declaration, DOCTYPE, comments
_ID = re.compile(r'\b(id|href|xlink:href)="(#?)([^"]*)"')

_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #222; }
#controls { display: flex; gap: .6em; align-items: center; margin: .6em 0; }
#controls input[type=range] { flex: 1; max-width: 40em; }
#description { font-family: ui-monospace, Menlo, Consolas, monospace; min-height: 1.4em;
               white-space: pre-wrap; }
.frame svg { max-width: 100%; height: auto; }
.frame figcaption { display: none; }
"""

_SCRIPT = """
(function () {
  const frames = Array.from(document.querySelectorAll('.frame'));
  const slider = document.getElementById('slider');
  const counter = document.getElementById('counter');
  const description = document.getElementById('description');
  let shown = 0;
  function show(i) {
    shown = Math.max(0, Math.min(frames.length - 1, i));
    frames.forEach(function (frame, k) { frame.hidden = k !== shown; });
    slider.value = shown;
    counter.textContent = frames[shown].dataset.title;
    description.textContent = frames[shown].querySelector('figcaption').textContent;
  }
  slider.addEventListener('input', function () { show(Number(slider.value)); });
  document.getElementById('previous').addEventListener('click', function () { show(shown - 1); });
  document.getElementById('next').addEventListener('click', function () { show(shown + 1); });
  document.addEventListener('keydown', function (event) {
    const moves = {ArrowLeft: shown - 1, ArrowRight: shown + 1, Home: 0, End: frames.length - 1};
    if (event.key in moves) { show(moves[event.key]); event.preventDefault(); }
  });
  show(0);
})();
"""


def player_html(graph, mode: str = "backward", seed=None, direction=None, binary=None,
                **options) -> str:
    """The player page for one pass (``mode``: ``"backward"``, ``"forward"`` or
    ``"tangent"``; ``seed`` / ``direction`` as for the debugger) with every step drawn.

    All frames are laid out by one Graphviz run.  Drawing options as for ``to_dot``.
    """
    effort = build_view(graph, Options.of(options)).effort
    debugger = Debugger(graph)
    debugger.set_mode(mode, seed=seed, direction=direction)
    frames = len(debugger) + 1
    if frames * effort > PLAYER_EFFORT:
        raise RenderError(
            f"the {debugger.mode} pass of {graph.name} has {frames - 1} steps and each frame "
            f"would lay out about {effort:,} nodes ({len(graph.nodes)} graph nodes and the "
            f"ranks their long edges cross): over {PLAYER_EFFORT:,} in all, minutes of "
            "Graphviz work.  Draw less per frame: focus='u₇' (one node's neighbourhood, "
            "--focus on the command line; hops= sets its size) or collapse=True; or step "
            "through the pass in the terminal debugger (graphviz-ad tui)")
    states = [debugger.state()]  # before the first step
    for index in range(len(debugger)):
        debugger.goto(index)
        states.append(debugger.state())
    texts = [to_dot(graph, state, **options) for state in states]
    svgs = _split_svgs(pipe("".join(texts), "svg", binary).decode("utf-8"))
    frames = []
    for number, (state, svg) in enumerate(zip(states, svgs, strict=True)):
        current = state.current
        caption = current.text if current is not None else "before the first step"
        title = f"step {number} of {len(states) - 1}" if number else "start"
        frames.append(
            f'<figure class="frame" id="frame-{number}" data-title="{html.escape(title)}"'
            f'{"" if number == 0 else " hidden"}>\n'
            f"<figcaption>{html.escape(caption)}</figcaption>\n"
            f"{_prefix_ids(svg, f'f{number}-')}</figure>"
        )
    name = html.escape(graph.name)
    heading = f"{name}: {html.escape(mode)} pass, {len(states) - 1} steps"
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{heading}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{heading}</h1>",
        "<p>Keys ← and → step back and forward, Home and End jump to the start and the end.</p>",
        '<div id="controls">',
        '<button id="previous" type="button" aria-label="previous step">◀</button>',
        f'<input id="slider" type="range" min="0" max="{len(states) - 1}" value="0" '
        'aria-label="step">',
        '<button id="next" type="button" aria-label="next step">▶</button>',
        '<span id="counter"></span>',
        "</div>",
        '<p id="description"></p>',
        *frames,
        f"<script>{_SCRIPT}</script>",
        "</body>",
        "</html>",
        "",
    ])


def _split_svgs(text: str) -> list[str]:
    """Graphviz writes one SVG document per graph of its input: split and strip each one's
    prolog, which an SVG inside HTML must not have."""
    documents = [part for part in text.split("<?xml") if part.strip()]
    return [_PROLOG.sub("", document, count=1).strip() for document in documents]


def _prefix_ids(svg: str, prefix: str) -> str:
    """Make element ids unique across the frames of one page (Graphviz starts each picture
    at ``graph0``, ``node1``…), references included."""
    return _ID.sub(lambda m: f'{m.group(1)}="{m.group(2)}{prefix}{m.group(3)}"'
                   if m.group(1) == "id" or m.group(2) else m.group(0), svg)
