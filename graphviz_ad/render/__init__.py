"""Pictures of a computation graph: DOT text, rendered files and an HTML step player.

``to_dot(graph, step, **options)`` is a pure function returning DOT text; ``render`` writes
SVG, PNG, PDF (through Graphviz's ``dot``, or the ``graphviz-pure`` fallback), DOT, JSON or
the HTML player.  ``Graph.to_dot``, ``Graph.render`` and Jupyter's inline display call these.
"""

from .binary import find_program, pipe
from .dot import to_dot
from .export import FORMATS, TEXT_FORMATS, picture_text, preview_svg, render, to_json, to_svg
from .notebook import Picture, Player, mime_bundle, show, state_at
from .options import Options
from .player import player_html

__all__ = [
    "FORMATS",
    "TEXT_FORMATS",
    "Options",
    "Picture",
    "Player",
    "find_program",
    "mime_bundle",
    "picture_text",
    "pipe",
    "player_html",
    "preview_svg",
    "render",
    "show",
    "state_at",
    "to_dot",
    "to_json",
    "to_svg",
]
