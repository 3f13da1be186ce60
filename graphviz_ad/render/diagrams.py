"""The diagrams in the documentation, drawn from code so that they never drift from it.

Regenerate them all with ``python -m graphviz_ad.render.diagrams [folder]`` (default:
``docs``): the neuron's SVGs (mid-pass, and with its gradient as a formula), and a PNG of
four bundled examples at a backward step, the pictures a slide would use (``neuron``,
``total_derivative``, ``mlp``, ``batchnorm``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..collect import run_script
from ..debugger import Debugger
from ..examples import find
from ..tracer import trace
from .export import render, to_svg


def neuron(w, x, b):
    """activation(x) = max(0, w · x + b)"""
    z = w @ x + b
    return np.maximum(0, z)


def neuron_backward() -> str:
    """The neuron w = [1, −2, 0.5], x = [3, 1, 2], b = 0.25 in the middle of its backward pass:
    the step where w receives its gradient ∂activation/∂w = xᵀ = [3, 1, 2]; x is still
    pending, u₁, z = u₂, b and the output are done."""
    graph = trace(neuron, np.array([1.0, -2.0, 0.5]), np.array([3.0, 1.0, 2.0]), 0.25)
    return to_svg(graph, _arrival(graph, "w"))


def _arrival(graph, name: str):
    """The backward step at which input ``name`` receives its (last) contribution."""
    debugger = Debugger(graph, "backward")
    return [step for step in debugger.backward() if step.node is graph.inputs[name]][-1]


# example -> the input whose gradient's arrival the picture shows
EXAMPLE_STEPS = {"neuron": "w", "total_derivative": "x", "mlp": "W2", "batchnorm": "gamma"}


def example_backward(name: str, path: Path) -> Path:
    """A PNG of example ``name``'s first graph at the step its input ``EXAMPLE_STEPS[name]``
    receives its gradient, drawn with the defaults a slide gets."""
    graph = run_script(str(find(name).path), run_name="graphviz_ad.example")[0]
    return render(graph, path, step=_arrival(graph, EXAMPLE_STEPS[name]), legend=False)


def neuron_formula() -> str:
    """The finished backward pass of the neuron with ∂activation/∂w written in the title as
    the paper writes it: [u₂ > 0] xᵀ where u₂ = w·x + b."""
    graph = trace(neuron, np.array([1.0, -2.0, 0.5]), np.array([3.0, 1.0, 2.0]), 0.25)
    return to_svg(graph, _arrival(graph, "x"), formula="w")


DIAGRAMS = {"neuron_backward.svg": neuron_backward, "neuron_formula.svg": neuron_formula}


def write_all(folder="docs", pictures: bool = True) -> list[Path]:
    """Write every diagram into ``folder`` (with ``pictures``, the examples' PNGs too);
    returns the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in DIAGRAMS.items():
        path = folder / name
        path.write_text(draw(), encoding="utf-8")
        written.append(path)
    if pictures:
        for name in EXAMPLE_STEPS:
            written.append(example_backward(name, folder / f"{name}_backward.png"))
    return written


if __name__ == "__main__":
    for path in write_all(*sys.argv[1:2]):
        print(path)
