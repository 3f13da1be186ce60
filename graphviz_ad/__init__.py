"""graphviz-ad: see automatic differentiation happen.

Trace an ordinary numpy function into a computation graph whose every node knows its value,
its source line and its local Jacobians; draw it with Graphviz; step through the forward
pass, the backward pass and forward-mode tangents.

>>> import numpy as np
>>> import graphviz_ad as gad
>>> g = gad.trace(lambda w, x, b: np.maximum(0, w @ x + b),
...               np.array([1., -2., .5]), np.array([3., 1., 2.]), 0.25)
>>> g.grad("w")
array([3., 1., 2.])
"""

from .breakpoints import AtNode, AtOp, Exceeds, NonFinite, When
from .compare import Comparison, compare
from .debugger import Debugger
from .errors import RenderError, ShapeError, TraceError, UnsupportedOperation
from .graph import Graph
from .linear import Jacobian
from .primitives import PRIMITIVES
from .tracer import Node, Source, trace


def debug(*graphs, mode: str = "forward") -> None:
    """Step through traced graphs in the terminal debugger, like ``breakpoint()``: opens
    the app and returns when it quits (a chooser when several graphs are given).

    >>> g = trace(lambda x: x + x ** 2, 3.0)
    >>> debug(g, mode="backward")  # doctest: +SKIP
    """
    # The one import of a front end from the package's facade, inside the function that
    # opens it: `import graphviz_ad` never loads Textual (tests/test_architecture.py).
    from tui import run_app

    run_app(list(graphs), mode=mode)


def show(graph, step=None, mode: str | None = None, player: bool = False, **options):
    """Show ``graph`` in a notebook: the picture at ``step`` of the ``mode`` pass (a step
    number as ``render --step`` counts them: 0 before the first step, negative from the
    end; default mode backward), or with ``player=True`` the HTML step player.  Drawing
    options as for ``Graph.render``.  Outside IPython, returns the display object.

    >>> g = trace(lambda x: x + x ** 2, 3.0)
    >>> show(g, step=2)  # doctest: +SKIP
    """
    # The facade's one import of the renderer, inside the function that needs it.
    from .render import show as show_inline

    return show_inline(graph, step, mode, player, **options)

__all__ = [
    "PRIMITIVES",
    "AtNode",
    "AtOp",
    "Comparison",
    "Debugger",
    "Exceeds",
    "Graph",
    "Jacobian",
    "Node",
    "NonFinite",
    "RenderError",
    "ShapeError",
    "Source",
    "TraceError",
    "UnsupportedOperation",
    "When",
    "compare",
    "debug",
    "show",
    "trace",
]
