"""Pictures and players in a notebook (Jupyter, VS Code): objects that display themselves.

``gad.show(g, step=3)`` shows the picture after step 3 of the backward pass (step 0: before
the first step, negative: from the end, as ``render --step`` counts), and
``gad.show(g, player=True)`` or ``g.player(mode="tangent")`` the HTML step player::

    import graphviz_ad as gad
    g = gad.trace(lambda x: x + x ** 2, 3.0)
    gad.show(g, step=2)                  # SVG, inline
    g.player()                           # the player, inline (in its own frame)

A display object answers Jupyter's ``_repr_mimebundle_(include, exclude)`` with only the
representations asked for, and makes none it was not asked for (a player is laid out
only when its HTML is wanted).
"""

from __future__ import annotations

import html
from functools import cached_property
from pathlib import Path

from ..debugger import Debugger
from .export import to_svg
from .player import player_html

PLAYER_HEIGHT = 640  # pixels of the frame a notebook shows the player in


def mime_bundle(makers: dict, include=None, exclude=None) -> dict:
    """``{mime type: its text}`` for the types ``include`` asks for (all when None) and
    ``exclude`` does not; ``makers`` maps each type to a function that makes its text (None:
    not available), called only for the types wanted."""
    bundle = {}
    for mime, make in makers.items():
        if (include is not None and mime not in include) or (exclude and mime in exclude):
            continue
        text = make()
        if text is not None:
            bundle[mime] = text
    return bundle


def state_at(graph, mode: str | None, step):
    """The state to draw: ``step`` a number (after that many steps of ``mode``, default
    backward; 0 before the first, negative from the end) or a step, State or Debugger
    (used as it is); None draws no pass."""
    if step is None and mode is None:
        return None
    if step is None:
        step = -1  # the whole pass
    if not isinstance(step, int):
        return step
    debugger = Debugger(graph, mode or "backward")
    count = len(debugger)
    done = step + count + 1 if step < 0 else step
    if not 0 <= done <= count:
        raise IndexError(f"step {step} is outside the {debugger.mode} pass of {graph.name}, "
                         f"which has {count} steps (0 is before the first; negative counts "
                         "from the end)")
    debugger.goto_number(done)
    return debugger.state()


class Picture:
    """A picture of a graph (at a step) that a notebook shows as SVG."""

    def __init__(self, graph, step=None, mode: str | None = None, **options):
        self.graph = graph
        self.state = state_at(graph, mode, step)
        self.options = options

    @cached_property
    def svg(self) -> str:
        """The SVG text (Graphviz runs the first time it is asked for)."""
        return to_svg(self.graph, self.state, **self.options)

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return mime_bundle({"image/svg+xml": lambda: self.svg,
                            "text/plain": lambda: repr(self)}, include, exclude)

    def save(self, path) -> Path:
        """Write the picture as SVG to ``path``."""
        return _write(path, self.svg)

    def __repr__(self) -> str:
        where = "" if self.state is None else (f", {self.state.mode} pass at step "
                                               f"{self.state.number}")
        return f"<Picture of {self.graph.name}{where}>"


class Player:
    """The HTML step player of one pass, shown in a notebook in a frame of its own (so that
    two players on one page share no ids, styles or keys)."""

    def __init__(self, graph, mode: str = "backward", **options):
        self.graph = graph
        self.mode = mode
        self.options = options

    @cached_property
    def html(self) -> str:
        """The self-contained page (Graphviz runs the first time it is asked for)."""
        return player_html(self.graph, mode=self.mode, **self.options)

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                f'title="{html.escape(self.graph.name)}: {self.mode} pass" '
                f'style="width: 100%; height: {PLAYER_HEIGHT}px; border: 1px solid #ddd">'
                "</iframe>")

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return mime_bundle({"text/html": self._repr_html_,
                            "text/plain": lambda: repr(self)}, include, exclude)

    def save(self, path) -> Path:
        """Write the page to ``path`` (open it in any browser, no network needed)."""
        return _write(path, self.html)

    def __repr__(self) -> str:
        return f"<Player of {self.graph.name}: {self.mode} pass>"


def _write(path, text: str) -> Path:
    path = Path(path)
    path.write_text(text, encoding="utf-8")
    return path


def show(graph, step=None, mode: str | None = None, player: bool = False, **options):
    """Display ``graph`` inline in a notebook: the picture at ``step`` of the ``mode`` pass
    (see :func:`state_at`), or with ``player=True`` the step player of that pass.

    Inside IPython the object is displayed at once (so ``show`` works mid-cell, like
    matplotlib's) and None is returned; elsewhere the display object is returned.
    """
    if player:
        if step is not None:
            raise ValueError("the player shows every step of a pass: give mode=, not step=")
        shown = Player(graph, mode or "backward", **options)
    else:
        shown = Picture(graph, step, mode, **options)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return shown
    if get_ipython() is None:
        return shown
    display(shown)
    return None
