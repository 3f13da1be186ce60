"""graphviz-ad's terminal debugger: step through forward and backward propagation.

``run_app(graphs)`` opens traced graphs (a chooser when there are several);
``graphviz_ad.debug(graph)`` does the same from a script, like ``breakpoint()``;
``python -m tui script.py`` runs a script and opens every graph it traced.
"""

from __future__ import annotations


def run_app(graphs, mode: str = "forward", start: int | None = None,
            graphviz_layout: bool = False, comparisons: dict | None = None) -> None:
    """Open the debugger on ``graphs`` (a Graph or a list of them) and return when it quits.

    ``mode`` is the pass to start in, ``start`` the graph to open first (None: the chooser
    when there are several), ``graphviz_layout`` takes the pictures' ranks and order from
    Graphviz when it is installed (our own layout otherwise, and always for large graphs'
    focus view), ``comparisons`` maps a graph's index to a :func:`graphviz_ad.compare` report
    of it, shown beside its backward pass (the Compare pane).

    An error inside the app ends it: Textual restores the terminal and prints the
    traceback, and ``SystemExit`` carries its non-zero status out, so a crash is never
    mistaken for a normal quit.
    """
    from graphviz_ad import Graph

    from .app import DebuggerApp

    if isinstance(graphs, Graph):
        graphs = [graphs]
    app = DebuggerApp(graphs, mode=mode, start=start, graphviz_layout=graphviz_layout,
                      comparisons=comparisons)
    app.run()
    if app.return_code:
        raise SystemExit(app.return_code)


__all__ = ["run_app"]
