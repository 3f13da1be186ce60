"""graphviz-ad's terminal debugger: step through forward and backward propagation.

``run_app(graphs)`` opens traced graphs (a chooser when there are several);
``graphviz_ad.debug(graph)`` does the same from a script, like ``breakpoint()``;
``python -m tui script.py`` runs a script and opens every graph it traced.
"""

from __future__ import annotations


def run_app(graphs, mode: str = "forward", start: int | None = None) -> None:
    """Open the debugger on ``graphs`` (a Graph or a list of them) and return when it quits."""
    from graphviz_ad import Graph

    from .app import DebuggerApp

    if isinstance(graphs, Graph):
        graphs = [graphs]
    DebuggerApp(graphs, mode=mode, start=start).run()


__all__ = ["run_app"]
