"""The options of a picture, checked once, so a typo gets an error rather than no effect."""

from __future__ import annotations

from dataclasses import dataclass, fields

EDGE_RULES = (None, "jacobian", "backprop", "expanded")
COLLAPSE_THRESHOLD = 150  # nodes; above it, calls (or source lines) are drawn collapsed


@dataclass(frozen=True)
class Options:
    """How to draw a graph.

    ========================= ============================================================
    ``rankdir``               ``"TB"`` (inputs at the top), ``"LR"`` (inputs at the left) or
                              None: LR for a deep, narrow graph (an RNN runs left to right
                              in time, a slide is wide), TB otherwise
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
    ``edge_rule``             what an edge says: ``"jacobian"`` (the local Jacobian, its
                              shape and small matrices' numbers), ``"backprop"`` (the
                              update it makes, ``∂y/∂W += ∂y/∂u · xᵀ``) or ``"expanded"``
                              (the Jacobian as the full matrix over vec, Kronecker products
                              included); None: backprop during a backward pass, else jacobian
    ``legend``                draw a compact legend of what the picture shows
    ``max_elements``          arrays with more elements are abbreviated (8×8 fits)
    ``digits``                significant digits of numbers
    ``jacobian_numbers``      show a local Jacobian's numbers when it has at most this many
                              entries (0: never)
    ``dpi``                   resolution of bitmaps (PNG) in dots per inch; None: 96
    ``compare``               a :func:`graphviz_ad.compare` report of the graph: the nodes
                              whose adjoint the hand-written backward gets wrong are marked
    ``formula``               an input (or node): write ∂output/∂it as a formula in the
                              title (``Graph.formula``)
    ``explain``               notes on nodes: why an input's gradient is zero, where a
                              NaN or ∞ comes from (see :mod:`~graphviz_ad.render.marks`)
    ========================= ============================================================
    """

    rankdir: str | None = None
    layout: str = "numerator"
    values: bool = True
    fold_constants: bool = True
    clusters: bool = True
    collapse: object = None
    threshold: int = COLLAPSE_THRESHOLD
    focus: object = None
    hops: int = 2
    edge_rule: str | None = None
    legend: bool = True
    max_elements: int = 64
    digits: int = 4
    jacobian_numbers: int = 64
    dpi: int | None = None
    compare: object = None
    explain: bool = False
    formula: object = None

    def __post_init__(self):
        if self.rankdir not in (None, "TB", "LR", "BT", "RL"):
            raise ValueError(f"rankdir must be 'TB', 'LR', 'BT', 'RL' or None (chosen from the "
                             f"graph's shape), not {self.rankdir!r}")
        if self.edge_rule not in EDGE_RULES:
            raise ValueError(f"edge_rule must be one of {', '.join(map(repr, EDGE_RULES))}, "
                             f"not {self.edge_rule!r}")
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
