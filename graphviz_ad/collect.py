"""Collect the graphs a script traces: run an ordinary Python file and keep every
:class:`~graphviz_ad.graph.Graph` that ``graphviz_ad.trace`` returned while it ran.

This is how the command line and the terminal debugger open a user's own code: the script
needs no changes, it only has to call ``gad.trace`` somewhere.

>>> import graphviz_ad as gad
>>> with collecting() as graphs:
...     g = gad.trace(lambda x: x * x, 3.0)
>>> graphs == [g]
True

When a script fails, :class:`ScriptError` keeps what it raised and formats the traceback
with the script's own lines only (the frames of graphviz-ad, numpy and the standard
library are left out), so a user reads about their code, not ours.
"""

from __future__ import annotations

import os
import runpy
import sys
import sysconfig
import threading
import traceback
from collections import Counter
from contextlib import contextmanager

from . import tracer

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_EXAMPLES_DIR = os.path.join(_PACKAGE_DIR, "examples")


@contextmanager
def collecting():
    """Within the block, every graph that ``trace`` returns is appended to the yielded list."""
    graphs: list = []
    listener = graphs.append
    tracer.listeners.append(listener)
    try:
        yield graphs
    finally:
        tracer.listeners.remove(listener)


class ScriptError(Exception):
    """The script raised (or exited with a non-zero status): ``exception`` is what it raised.

    ``str(error)`` is a one-line summary; :meth:`user_traceback` is the traceback with the
    script's own frames only, :meth:`full_traceback` everything.
    """

    def __init__(self, script: str, exception: BaseException):
        self.script = script
        self.exception = exception
        summary = traceback.format_exception_only(type(exception), exception)[-1].strip()
        super().__init__(f"{os.path.basename(script)} failed: {summary}")

    def full_traceback(self) -> str:
        error = self.exception
        return "".join(traceback.format_exception(type(error), error, error.__traceback__))

    def user_traceback(self) -> str:
        """Like Python's traceback, with only the frames of the user's own files."""
        report = traceback.TracebackException.from_exception(self.exception)
        hidden = 0
        pending, seen = [report], set()
        while pending:  # the exception and the ones it was raised from / during
            current = pending.pop()
            if current is None or id(current) in seen:
                continue
            seen.add(id(current))
            kept = [frame for frame in current.stack if is_user_file(frame.filename, self.script)]
            hidden += len(current.stack) - len(kept)
            current.stack = traceback.StackSummary.from_list(kept)
            pending.extend((current.__cause__, current.__context__))
        text = "".join(report.format())
        if hidden:
            text += "(frames outside your code hidden; --traceback shows them)\n"
        return text


def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    folders = {os.path.abspath(paths[key]) for key in ("stdlib", "platstdlib", "purelib",
                                                       "platlib") if key in paths}
    folders.add(_PACKAGE_DIR)
    return tuple(folder + os.sep for folder in folders)


_LIBRARY_DIRS = _library_dirs()


def is_user_file(filename: str, script: str) -> bool:
    """The script itself and any file outside graphviz-ad, site-packages and the standard
    library (a user's own modules); bundled examples count as the user's code."""
    if filename.startswith("<"):  # frozen modules (runpy) and exec'd strings
        return False
    path = os.path.abspath(filename)
    if path == script or path.startswith(_EXAMPLES_DIR + os.sep):
        return True
    return not path.startswith(_LIBRARY_DIRS)


def run_script(path: str, argv=(), run_name: str = "__main__", namespace=None) -> list:
    """Run the Python file at ``path`` like ``python path *argv`` and return the graphs it
    traced, in the order they were made.

    The script's folder comes first on ``sys.path`` and ``sys.argv`` is ``[path, *argv]``
    while it runs (both are restored afterwards).  ``run_name`` is its ``__name__``: the
    default runs ``if __name__ == "__main__":`` blocks, as Python does.  A dict given as
    ``namespace`` receives the script's globals (its functions, for ``compare``).  Raises
    :class:`ScriptError` if the script raises or exits with a non-zero status; an
    ``os._exit(status)`` in the script ends the script as ``sys.exit(status)`` would, not
    the program that runs it (see :func:`_exit_ends_the_script`).
    """
    script = os.path.abspath(path)
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = [script, *argv]
    sys.path.insert(0, os.path.dirname(script))
    try:
        with collecting() as graphs, _exit_ends_the_script():
            script_globals = runpy.run_path(script, run_name=run_name)
        if namespace is not None:
            namespace.update(script_globals)
    except SystemExit as exit:
        if exit.code not in (None, 0):
            raise ScriptError(script, exit) from None
    except Exception as error:
        raise ScriptError(script, error) from None
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return graphs


@contextmanager
def _exit_ends_the_script():
    """Within the block, ``os._exit(status)`` called by the script's own thread raises
    ``SystemExit(status)``: the process would otherwise end at once, with the script's
    status and without a word, before the graphs it traced are drawn or checked.  A child
    process (after ``fork``) or another thread still exits for real."""
    real_exit = os._exit
    pid, thread = os.getpid(), threading.current_thread()

    def script_exit(status):
        if os.getpid() != pid or threading.current_thread() is not thread:
            real_exit(status)
        raise SystemExit(status)

    os._exit = script_exit
    try:
        yield
    finally:
        os._exit = real_exit


def graph_names(graphs) -> list[str]:
    """A name for each graph: its function's name, numbered ``name#1``, ``name#2``… when
    the script traced the same function several times."""
    counts = Counter(graph.name for graph in graphs)
    seen: Counter = Counter()
    names = []
    for graph in graphs:
        seen[graph.name] += 1
        names.append(graph.name if counts[graph.name] == 1 else f"{graph.name}#{seen[graph.name]}")
    return names


def choose(graphs, name: str | None = None):
    """The graph called ``name`` (see :func:`graph_names`), or the only graph when ``name``
    is None.  A name shared by several graphs, an unknown name, or no name with several
    graphs raises ``LookupError`` listing the choices."""
    names = graph_names(graphs)
    if not graphs:
        raise LookupError("no graphs were traced")
    if name is None:
        if len(graphs) == 1:
            return graphs[0]
        raise LookupError(f"{len(graphs)} graphs were traced: {', '.join(names)}")
    if name in names:
        return graphs[names.index(name)]
    numbered = [n for n in names if n.startswith(name + "#")]
    if numbered:
        raise LookupError(f"{name} was traced {len(numbered)} times: {', '.join(numbered)}")
    raise LookupError(f"no graph named {name!r}; the script traced {', '.join(names)}")
