"""The bundled examples: short scripts, each tracing a function on concrete inputs.

They follow the maths in the order a course teaches it, from the scalar chain rule to
backpropagation through time.  Run one as a script (``python -m
graphviz_ad.examples.neuron``), or open it by name: ``graphviz-ad tui neuron``,
``graphviz-ad grad mlp``, ``graphviz-ad render conv1d -o conv1d.svg``.

>>> [example.name for example in catalogue()][:3]
['scalar_rules', 'total_derivative', 'elementwise']
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).resolve().parent

# Teaching order: each example uses only ideas from the ones before it.
ORDER = (
    "scalar_rules",
    "total_derivative",
    "elementwise",
    "neuron",
    "mse_loss",
    "mlp",
    "batchnorm",
    "tied_autoencoder",
    "conv1d",
    "rnn",
    "conv_loops",
    "rnn_buffer",
    "derivation_mistakes",
)


@dataclass(frozen=True)
class Example:
    """A bundled example script: its ``name`` (the file's stem), ``path`` and ``summary``
    (the first line of its docstring)."""

    name: str
    path: Path
    summary: str


def catalogue() -> list[Example]:
    """Every bundled example, in teaching order (read from the files, nothing is run)."""
    examples = []
    for name in ORDER:
        path = FOLDER / f"{name}.py"
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        examples.append(Example(name, path, docstring.strip().splitlines()[0]))
    return examples


def find(name: str) -> Example | None:
    """The example called ``name`` (``"neuron"`` or ``"neuron.py"``), or None."""
    stem = name[:-3] if name.endswith(".py") else name
    return next((example for example in catalogue() if example.name == stem), None)
