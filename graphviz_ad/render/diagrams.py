"""The diagrams in the documentation, drawn from code so that they never drift from it.

Regenerate them all with ``python -m graphviz_ad.render.diagrams [folder]`` (default:
``docs``); each is also a function returning its SVG text.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..debugger import Debugger
from ..tracer import trace
from .export import to_svg


def neuron(w, x, b):
    """activation(x) = max(0, w · x + b)"""
    return np.maximum(0, w @ x + b)


def neuron_backward() -> str:
    """The neuron w = [1, −2, 0.5], x = [3, 1, 2], b = 0.25 in the middle of its backward pass:
    the step where w receives its gradient ∂activation/∂w = xᵀ = [3, 1, 2]; x is still
    pending, u₃, u₄, b and the output are done."""
    graph = trace(neuron, np.array([1.0, -2.0, 0.5]), np.array([3.0, 1.0, 2.0]), 0.25)
    debugger = Debugger(graph)
    debugger.set_mode("backward")
    w_step = next(step for step in debugger.backward() if step.node is graph.inputs["w"])
    return to_svg(graph, w_step)


DIAGRAMS = {"neuron_backward.svg": neuron_backward}


def write_all(folder="docs") -> list[Path]:
    """Write every diagram into ``folder``; returns the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in DIAGRAMS.items():
        path = folder / name
        path.write_text(draw(), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_all(*sys.argv[1:2]):
        print(path)
