"""Every colour and line style of a picture, in one table.

Colours come from the Okabe–Ito palette, which stays distinguishable with the common forms
of colour blindness, and never carry meaning alone: the status of a node or edge is also
in its line style (pending: dashed, done: solid, current: bold and thick) and the legend
spells it out.  Each propagation mode has its own hue so that a picture is recognisable at a
glance: forward values blue, backward adjoints vermillion, forward-mode tangents green.

``STYLES[scheme, role]`` gives the Graphviz attributes for one kind of element:

========== ===================================================================
scheme     ``graph`` (no step), ``forward``, ``backward``, ``tangent``
node roles ``node``, ``call`` (a collapsed call), ``focus``, ``done``, ``current``,
           ``pending``
edge roles ``edge``, ``edge_done``, ``edge_current``, ``edge_pending``
header     ``("header", kind)``: the background of a node's first row, by what the
           node is (``input``, ``const``, ``output``, ``op``)
========== ===================================================================
"""

from __future__ import annotations

from ..notation import MODES

OKABE_ITO = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "black": "#000000",
}
GREY = "#8C8C8C"
FONT = "Helvetica,Arial,sans-serif"

# (strong colour, light fill, stronger fill) per propagation mode (notation.MODES)
_COLOURS = {
    "forward": (OKABE_ITO["blue"], "#D9E8F3", "#A6CBE3"),
    "backward": (OKABE_ITO["vermillion"], "#F9E2D1", "#F0BD96"),
    "tangent": (OKABE_ITO["bluish green"], "#D4EFE7", "#9DDAC8"),
}


def _mode_styles(mode: str, colour: str, fill: str, strong_fill: str) -> dict:
    # Backward adjoints flow from a consumer to its operand: the arrow of an edge that has
    # carried one points back, against the direction the value was computed in.
    carried = {"dir": "back"} if mode == "backward" else {}
    return {
        (mode, "done"): {"style": "rounded,filled", "fillcolor": fill, "color": colour,
                         "penwidth": "1.5"},
        (mode, "current"): {"style": "rounded,filled,bold", "fillcolor": strong_fill,
                            "color": colour, "penwidth": "3.5"},
        (mode, "pending"): {"style": "rounded,dashed", "color": GREY, "fontcolor": "#555555"},
        (mode, "edge_done"): {"color": colour, "penwidth": "1.5", **carried},
        (mode, "edge_current"): {"color": colour, "penwidth": "3.5", "style": "bold",
                                 "fontcolor": colour, **carried},
        (mode, "edge_pending"): {"color": GREY, "style": "dashed", "fontcolor": "#555555"},
    }


STYLES: dict[tuple[str, str], dict[str, str]] = {
    ("graph", "node"): {"style": "rounded", "color": "#333333"},
    ("graph", "call"): {"shape": "box3d", "style": "filled", "fillcolor": "#EEEEEE",
                        "color": "#333333"},
    ("graph", "focus"): {"style": "rounded,bold", "color": OKABE_ITO["reddish purple"],
                         "penwidth": "3", "peripheries": "2"},
    ("graph", "edge"): {"color": "#444444"},
    ("graph", "cluster"): {"style": "rounded,dashed", "color": GREY, "fontcolor": "#333333"},
    ("header", "input"): {"bgcolor": "#FBF7CF"},  # a tint of yellow
    ("header", "const"): {"bgcolor": "#EEEEEE"},
    ("header", "output"): {"bgcolor": "#F3DDE9"},  # a tint of reddish purple
    ("header", "op"): {},
    # a node whose adjoint a compared hand-written backward gets wrong (✘)
    ("compare", "wrong"): {"color": OKABE_ITO["vermillion"], "penwidth": "3",
                           "peripheries": "2"},
}
for _mode in MODES:
    STYLES.update(_mode_styles(_mode, *_COLOURS[_mode]))

# What each status means, per mode, for the legend.
STATUS_MEANING = {
    "forward": {
        "done": "value computed",
        "current": "computed in this step",
        "pending": "not computed yet",
    },
    "backward": {
        "done": "adjoint received",
        "current": "receives a contribution now",
        "pending": "no contribution yet",
    },
    "tangent": {
        "done": "tangent received",
        "current": "receives a contribution now",
        "pending": "no contribution yet",
    },
}
EDGE_MEANING = {
    "forward": {
        "edge_done": "operand used",
        "edge_current": "operand of this step",
        "edge_pending": "not used yet",
    },
    "backward": {
        "edge_done": "adjoint passed back (arrow: flow)",
        "edge_current": "this step's contribution",
        "edge_pending": "not yet propagated",
    },
    "tangent": {
        "edge_done": "tangent passed on",
        "edge_current": "this step's contribution",
        "edge_pending": "not yet propagated",
    },
}
