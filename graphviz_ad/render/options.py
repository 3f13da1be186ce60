"""The options of a picture, checked once, so a typo gets an error rather than no effect."""

from __future__ import annotations

from dataclasses import dataclass, fields

COLLAPSE_THRESHOLD = 150  # nodes; above it, calls (or source lines) are drawn collapsed


@dataclass(frozen=True)
class Options:
    """How to draw a graph.

    ========================= ============================================================
    ``rankdir``               ``"TB"`` (inputs at the top) or ``"LR"`` (inputs at the left)
    ``layout``                ``"numerator"`` (∂out/∂in is out.size × in.size, the default)
                              or ``"denominator"`` (the transpose: rules transposed, n×m)
    ``values``                show values, gradients and tangents (True) or only structure
    ``fold_constants``        draw constants inside their consumer instead of as nodes
    ``clusters``              group the nodes made inside each user function call
    ``collapse``              None: collapse calls when the graph has more than
                              ``threshold`` nodes (source lines when it has no calls);
                              True / False: all / none; or a collection of call indices
                              and function names to collapse
    ``threshold``             the node count above which ``collapse=None`` collapses
    ``focus``, ``hops``       draw only the nodes within ``hops`` edges of ``focus``
                              (anything ``Graph.node`` takes: a node, an id, an input's
                              name, a label such as ``"u₇"`` or ``"u7"``)
    ``legend``                draw the legend
    ``max_elements``          arrays with more elements are abbreviated
    ``digits``                significant digits of numbers
    ``jacobian_numbers``      show a local Jacobian's numbers when it has at most this many
                              entries (0: never)
    ``dpi``                   resolution of bitmaps (PNG) in dots per inch; None: 96
    ``compare``               a :func:`graphviz_ad.compare` report of the graph: the nodes
                              whose adjoint the hand-written backward gets wrong are marked
    ========================= ============================================================
    """

    rankdir: str = "TB"
    layout: str = "numerator"
    values: bool = True
    fold_constants: bool = True
    clusters: bool = True
    collapse: object = None
    threshold: int = COLLAPSE_THRESHOLD
    focus: object = None
    hops: int = 2
    legend: bool = True
    max_elements: int = 6
    digits: int = 4
    jacobian_numbers: int = 9
    dpi: int | None = None
    compare: object = None

    def __post_init__(self):
        if self.rankdir not in ("TB", "LR", "BT", "RL"):
            raise ValueError(f"rankdir must be 'TB', 'LR', 'BT' or 'RL', not {self.rankdir!r}")
        if self.layout not in ("numerator", "denominator"):
            raise ValueError(f"layout must be 'numerator' or 'denominator', not {self.layout!r}")
        if self.dpi is not None and self.dpi <= 0:
            raise ValueError(f"dpi must be positive, not {self.dpi}")
        if self.hops < 0:
            raise ValueError(f"hops must be 0 or more, not {self.hops}")

    @classmethod
    def of(cls, options: dict) -> Options:
        """Options from keyword arguments; an unknown name is an error that lists the valid
        ones."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"unknown drawing option(s) {', '.join(unknown)}; "
                            f"valid options: {', '.join(sorted(known))}")
        return cls(**options)
