"""Finding a Graphviz program to lay out DOT text, and running it.

The system's ``dot`` (Debian: ``sudo apt-get install graphviz``) is used when it is on PATH.
Otherwise the fallback is ``graphviz-pure``, a self-contained port of Graphviz installed
from PyPI with graphviz-ad; its command is ``graphviz-pure``, not ``dot``, and it is looked
for first in the Python environment's own scripts folder, so it is found even when the
environment is not activated.  It writes SVG and PNG (and Graphviz's json and plain text)
but not PDF.

Graphviz's warnings are captured, never printed: a terminal UI's screen stays clean, and a
failure is reported as a :class:`~graphviz_ad.errors.RenderError` that quotes them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass

import graphviz

from ..errors import RenderError

INSTALL_HINT = ("install the Graphviz binary with `sudo apt-get install graphviz` "
                "(Debian/Ubuntu; other systems: https://graphviz.org/download/), "
                "or the fallback with `pip install graphviz-pure`")
PURE_FORMATS = frozenset({"svg", "png", "json", "plain", "dot", "xdot"})
PROGRAMS = ("dot", "graphviz-pure")


@dataclass(frozen=True)
class Program:
    """A Graphviz program: ``name`` is ``"dot"`` or ``"graphviz-pure"``, ``path`` its file."""

    name: str
    path: str

    def writes(self, fmt: str) -> bool:
        return self.name == "dot" or fmt in PURE_FORMATS


def script_folders() -> list[str]:
    """Where this Python environment installs commands: the scripts path and the folder of
    the interpreter (they differ in some layouts; both are looked at, scripts path first)."""
    folders = [sysconfig.get_path("scripts"), os.path.dirname(sys.executable)]
    return list(dict.fromkeys(folder for folder in folders if folder))


def find_program(prefer: str | None = None) -> Program | None:
    """The Graphviz program to use: ``dot`` on PATH, else ``graphviz-pure`` (None if neither).

    ``prefer="graphviz-pure"`` (or ``"dot"``) looks for that one only.
    """
    if prefer is not None and prefer not in PROGRAMS:
        raise ValueError(f"the Graphviz program must be one of {PROGRAMS}, not {prefer!r}")
    if prefer in (None, "dot"):
        dot = shutil.which("dot")
        if dot is not None:
            return Program("dot", dot)
    if prefer in (None, "graphviz-pure"):
        for folder in script_folders():
            found = shutil.which("graphviz-pure", path=folder)
            if found is not None:
                return Program("graphviz-pure", found)
        found = shutil.which("graphviz-pure")
        if found is not None:
            return Program("graphviz-pure", found)
    return None


def pipe(dot_text: str, fmt: str, prefer: str | None = None,
         timeout: float | None = None) -> bytes:
    """Lay out ``dot_text`` and return it in format ``fmt`` (``"svg"``, ``"png"``, ``"pdf"``…).

    Raises RenderError, naming the fix, when no program is found, the one found cannot
    write ``fmt``, or it takes longer than ``timeout`` seconds (if given).
    """
    program = find_program(prefer)
    if program is None:
        wanted = f"`{prefer}`" if prefer else "`dot` on PATH or `graphviz-pure`"
        raise RenderError(
            f"cannot render {fmt.upper()}: no Graphviz program found ({wanted}; looked for "
            f"graphviz-pure in {', '.join(script_folders())} and on PATH); {INSTALL_HINT}. "
            "DOT and JSON export need no Graphviz program (graph.to_dot(), graph.render("
            "'picture.dot'))"
        )
    if not program.writes(fmt):
        raise RenderError(
            f"cannot render {fmt.upper()}: the Graphviz binary `dot` was not found and the "
            f"fallback graphviz-pure ({program.path}) writes only "
            f"{', '.join(sorted(PURE_FORMATS))}; for {fmt.upper()} install Graphviz with "
            "`sudo apt-get install graphviz`, or export SVG or PNG instead"
        )
    data = dot_text.encode("utf-8")
    if program.name == "dot" and timeout is None:
        return _run_dot(data, fmt)
    return _run(program, data, fmt, timeout)


def _run_dot(data: bytes, fmt: str) -> bytes:
    try:
        return graphviz.pipe("dot", fmt, data, quiet=True)
    except graphviz.ExecutableNotFound:
        raise RenderError(f"cannot render {fmt.upper()}: the Graphviz binary `dot` is not on "
                          f"PATH; {INSTALL_HINT}") from None
    except graphviz.CalledProcessError as error:
        raise RenderError(f"Graphviz `dot` failed to render {fmt.upper()}: "
                          f"{_message(error.stderr)}") from None


def _run(program: Program, data: bytes, fmt: str, timeout: float | None) -> bytes:
    name, path = program.name, program.path
    try:
        done = subprocess.run([path, f"-T{fmt}"], input=data, capture_output=True, check=False,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RenderError(f"{name} took longer than {timeout:g} s to lay out the graph") from None
    except OSError as error:
        raise RenderError(f"cannot run {name} ({path}): {error}; {INSTALL_HINT}") from None
    if done.returncode != 0:
        raise RenderError(f"{name} failed to render {fmt.upper()}: {_message(done.stderr)}")
    return done.stdout


def _message(stderr) -> str:
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", "replace")
    return (stderr or "").strip() or "no message"
