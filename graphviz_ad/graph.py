"""The computation graph that ``trace`` records: an ordered, immutable list of nodes.

>>> import numpy as np
>>> from graphviz_ad import trace
>>> def f(x, y):
...     return 3 * x ** 2 * y
>>> g = trace(f, 2.0, 5.0)
>>> g.grad()                    # ∂f/∂x = 6xy, ∂f/∂y = 3x²
{'x': 60.0, 'y': 12.0}
>>> print(g)                    # doctest: +ELLIPSIS
f(x: (), y: ())
  u₁ = power(x, 2)...
"""

from __future__ import annotations

from functools import cached_property

import networkx as nx
import numpy as np

from . import propagate
from .errors import RenderError
from .explain import explain as explain_gradient
from .formula import formula as gradient_formula
from .gc_pause import gc_paused
from .paths import paths as find_paths


class Graph:
    """A traced function: ``nodes`` in tape order (inputs and constants included), the named
    ``inputs``, the ``output`` node, and the user function ``calls`` the nodes were made in.

    Derivatives come in three forms: ``grad`` (reverse mode, a scalar output),
    ``jacobian`` (the full ∂output/∂input, numerator layout, shaped like ``jax.jacobian``'s)
    and ``vjp`` / ``jvp`` (one reverse or forward pass with a given seed or direction).
    """

    def __init__(self, nodes, inputs, output, calls=(), name="f", traced_at=None):
        self.nodes = tuple(nodes)
        self.inputs = dict(inputs)
        self.output = output
        self.calls = tuple(calls)
        self.name = name
        self.traced_at = traced_at  # the Source line that called trace(), when known

    @property
    def value(self):
        """The output's value."""
        return self.output.value

    @cached_property
    def activity(self) -> tuple[list[bool], list[bool]]:
        """(depends on an input, reaches the output) for each node id."""
        return propagate.active(self)

    def node(self, key):
        """The node ``key`` names: a Node of this graph, a node id (an int, numpy's too, or
        digits no label has, as typed on a command line), an input's name or a label, with
        its digits as subscripts or not (``"u7"`` is ``u₇``).

        >>> from graphviz_ad import trace
        >>> g = trace(lambda x: x * x + 1.0, 3.0)
        >>> g.node("u1") is g.node("u₁") is g.node(1) is g.nodes[1]
        True

        An unknown or ambiguous key (two constants both labelled ``2``) is a KeyError that
        lists the names there are.
        """
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            if 0 <= key < len(self.nodes):
                return self.nodes[key]
            raise KeyError(f"{self.name} has no node {key}: its node ids are 0 to "
                           f"{len(self.nodes) - 1}")
        if isinstance(key, str):
            if key in self.inputs:
                return self.inputs[key]
            wanted = _plain_digits(key)
            found = [node for node in self.nodes if _plain_digits(node.label) == wanted]
            if len(found) == 1:
                return found[0]
            if not found and key.isascii() and key.isdigit():  # typed: "7" for node 7
                return self.node(int(key))
            if found:
                ids = ", ".join(str(node.id) for node in found)
                raise KeyError(f"{len(found)} nodes of {self.name} are labelled {key!r} (ids "
                               f"{ids}); name one by its id")
            raise KeyError(f"{self.name} has no node {key!r}; its nodes are "
                           f"{_names(self)}")
        node_id = getattr(key, "id", None)  # a Node (the graph does not import the tracer)
        if not isinstance(node_id, int):
            raise TypeError(f"a node is given as a Node, a node id, an input's name or a "
                            f"label, not {type(key).__name__}")
        if node_id < len(self.nodes) and self.nodes[node_id] is key:
            return key
        raise KeyError(f"{key!r} is not a node of {self.name} (a node of another trace?)")

    # -- derivatives -------------------------------------------------------------------------
    def grad(self, *names):
        """∂output/∂input for a scalar output, by one reverse pass.

        With no names: a dict name → gradient, shaped like the input (a Python float for a
        scalar input; zeros where the output does not depend on the input).  With one name:
        that gradient alone; with several, a tuple.
        """
        if np.size(self.output.value) != 1:
            raise ValueError(
                f"grad needs a scalar output, but {self.name} returns shape "
                f"{self.output.shape}; use graph.jacobian(name) for the full Jacobian or "
                "graph.vjp(seed) for one reverse pass"
            )
        grads = self.vjp(np.ones(self.output.shape))
        return self._select(grads, names)

    def vjp(self, seed) -> dict:
        """One reverse pass: seedᵀ ∂output/∂input for every input (name → array)."""
        seed = np.asarray(seed, dtype=float)
        if seed.shape[seed.ndim - len(self.output.shape) :] != self.output.shape:
            raise ValueError(f"vjp seed of shape {seed.shape} does not match the output's "
                             f"shape {self.output.shape}")
        batch = seed.shape[: seed.ndim - len(self.output.shape)]
        with gc_paused():
            adjoints = propagate.fast_input_adjoints(self, seed)
        handed_out = {id(seed)}  # the caller's own seed is never handed back
        return {name: _finish(adjoints[node.id], batch, node.shape, handed_out)
                for name, node in self.inputs.items()}

    def jvp(self, tangents: dict):
        """One forward pass: Σᵢ ∂output/∂inputᵢ · tangentᵢ for tangents given by input name."""
        seeds = {self._input(name).id: np.asarray(t, dtype=float) for name, t in tangents.items()}
        for name, tangent in tangents.items():
            node = self._input(name)
            if np.shape(tangent)[np.ndim(tangent) - len(node.shape) :] != node.shape:
                raise ValueError(f"tangent for {name!r} has shape {np.shape(tangent)}, the "
                                 f"input has shape {node.shape}")
        batch = _common_batch(seeds, self)
        result = propagate.output_tangent(self, seeds)
        return _finish(result, batch, self.output.shape, {id(t) for t in seeds.values()})

    def jacobian(self, wrt: str, mode: str = "reverse") -> np.ndarray:
        """The full Jacobian ∂output/∂wrt, shaped ``output.shape + input.shape``.

        ``mode="reverse"`` runs one batched reverse pass seeded with every output direction
        (cost ∝ output size), ``mode="forward"`` one batched forward pass seeded with every
        input direction (cost ∝ input size); both give the same numbers.
        """
        node = self._input(wrt)
        out_shape, in_shape = self.output.shape, node.shape
        m, n = int(np.prod(out_shape)), int(np.prod(in_shape))
        if mode == "reverse":
            rows = self.vjp(np.eye(m).reshape((m, *out_shape)))[wrt]
            return np.reshape(rows, out_shape + in_shape)
        if mode == "forward":
            columns = self.jvp({wrt: np.eye(n).reshape((n, *in_shape))})
            return np.moveaxis(np.reshape(columns, (n, m)), 0, 1).reshape(out_shape + in_shape)
        raise ValueError(f"mode must be 'reverse' or 'forward', not {mode!r}")

    def paths(self, wrt, to=None, limit: int = 64):
        """The paths from input ``wrt`` to the output (or node ``to``) and the product of the
        local Jacobians along each; they sum to ``jacobian(wrt)``.  See :mod:`.paths`."""
        return find_paths(self, wrt, to=to, limit=limit)

    def formula(self, wrt, to=None, limit: int = 64):
        """∂output/∂wrt (or ∂to/∂wrt) as a formula in the paper's notation: the sum over
        paths of the products of the local rules, as ``.text`` and ``.latex``, with
        ``.evaluate()`` giving its numbers.  See :mod:`.formula`.

        >>> from graphviz_ad import trace
        >>> print(trace(lambda x: x + x ** 2, 3.0).formula("x"))
        ∂u₂/∂x = 2x + 1
        """
        return gradient_formula(self, wrt, to=to, limit=limit)

    def explain(self, name: str, seed=None):
        """Why the gradient of input ``name`` is zero (or partly zero), in words and as
        structured reasons.  See :mod:`.explain`."""
        return explain_gradient(self, name, seed=seed)

    # -- views ---------------------------------------------------------------------------------
    def to_networkx(self) -> nx.MultiDiGraph:
        """A networkx MultiDiGraph keyed by node id: ``x*x`` keeps both edges.

        Node attributes: ``op``, ``name``, ``label``, ``shape``; edge attribute: ``arg``.
        """
        graph = nx.MultiDiGraph(name=self.name)
        for node in self.nodes:
            graph.add_node(node.id, op=node.op, name=node.name, label=node.label, shape=node.shape)
            for arg, operand in enumerate(node.inputs):
                graph.add_edge(operand.id, node.id, key=arg, arg=arg)
        return graph

    # -- pictures -------------------------------------------------------------------------------
    # The renderer is a higher layer: these entry points (and Jupyter's display hooks) import
    # it when a picture is asked for, the one upward import tests/test_architecture.py allows
    # the core, so that a Graph can draw itself.
    def to_dot(self, step=None, **options) -> str:
        """The picture as DOT text, at a debugger ``step`` if given (no Graphviz needed).

        Options (``rankdir="LR"``, ``layout="denominator"``, ``values=False``,
        ``collapse=True``, ``focus="u₇"``…): see ``graphviz_ad.render.Options``.
        """
        from .render import to_dot

        return to_dot(self, step, **options)

    def render(self, path, format=None, step=None, **options):
        """Write the picture to ``path``: svg, png, pdf, dot, json or html (the step player),
        by default from the suffix.  Returns the path."""
        from .render import render

        return render(self, path, format, step, **options)

    def _repr_svg_(self):
        """Jupyter shows the graph as a picture (nothing when no Graphviz is installed or
        the graph is too big to lay out quickly)."""
        from .render import preview_svg

        try:
            return preview_svg(self)
        except RenderError:
            return None

    def _repr_mimebundle_(self, include=None, exclude=None):
        """Jupyter's rich display: the SVG picture, or the text and why there is no picture
        (no Graphviz, or a graph too big to lay out in a few seconds).  Only the types
        ``include`` asks for and ``exclude`` leaves are made (no layout for text alone)."""
        from .render import mime_bundle, preview_svg

        why = []

        def svg():
            try:
                return preview_svg(self)
            except RenderError as error:
                why.append(f"\n(no picture: {error})")
                return None

        bundle = mime_bundle({"image/svg+xml": svg, "text/plain": lambda: repr(self)},
                             include, exclude)
        if why and "text/plain" in bundle:
            bundle["text/plain"] += why[0]
        return bundle

    def player(self, mode: str = "backward", **options):
        """The HTML step player of the ``mode`` pass as an object a notebook shows inline
        (``.html`` is the page, ``.save(path)`` writes it).  Drawing options as for
        ``render``; ``seed=`` / ``direction=`` as for the debugger.

        >>> g = trace(lambda x: x + x ** 2, 3.0)     # doctest: +SKIP
        >>> g.player("tangent")                       # doctest: +SKIP
        """
        from .render import Player

        return Player(self, mode, **options)

    def __str__(self) -> str:
        """A text listing, one line per operation, like a program:

        ``u₃ = multiply(x, y)    # model.py:12``
        """
        header = ", ".join(f"{name}: {node.shape}" for name, node in self.inputs.items())
        lines = [f"{self.name}({header})"]
        for node in self.nodes:
            if node.inputs:
                lines.append(f"  {node.label} = {node.call_text}    # {node.source}")
        lines.append(f"  return {self.output.label}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<Graph {self.name}: {len(self.nodes)} nodes, inputs "
                f"{list(self.inputs)}, output shape {self.output.shape}>")

    # -- helpers -------------------------------------------------------------------------------
    def _input(self, name: str):
        if name not in self.inputs:
            raise KeyError(f"{name!r} is not an input of {self.name}; inputs: {list(self.inputs)}")
        return self.inputs[name]

    def _select(self, grads: dict, names: tuple):
        for name in names:
            self._input(name)
        if not names:
            return grads
        if len(names) == 1:
            return grads[names[0]]
        return tuple(grads[name] for name in names)


_SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_NAMES_SHOWN = 12  # names an unknown-node error lists


def _plain_digits(label: str) -> str:
    """``u₇`` as ``u7``: how a label is typed on a keyboard."""
    return label.translate(_SUBSCRIPT_DIGITS)


def _names(graph) -> str:
    """The inputs' names and the other nodes' labels, the first dozen."""
    labels = list(dict.fromkeys(node.label for node in graph.nodes))
    shown = ", ".join(labels[:_NAMES_SHOWN])
    return shown + (f", … ({len(labels)} in all)" if len(labels) > _NAMES_SHOWN else "")


def _finish(value, batch: tuple, shape: tuple, handed_out: set):
    """A fresh, writable result: zeros where nothing arrived, a float for a scalar.

    The pass's arrays are either new (every VJP or JVP that computes something allocates its
    result) or the seed and views of it (identity, reshape, broadcast).  A new float array
    that owns its memory is handed out as it is, once (``x + y`` gives both inputs the same
    array; ``handed_out`` holds the ids already given, and the caller's seeds); anything
    else is copied.  Copying a 784×256 gradient would cost ~1 ms of page faults per pass.
    """
    full = batch + shape
    if (type(value) is np.ndarray and value.base is None and value.flags.writeable
            and value.dtype == np.float64 and value.shape == full and value.ndim
            and id(value) not in handed_out):
        handed_out.add(id(value))
        return value
    if value is None:
        value = np.zeros(full)
    value = np.array(np.broadcast_to(value, full), dtype=float)
    return float(value) if value.ndim == 0 else value


def _common_batch(seeds: dict, graph) -> tuple:
    batches = {
        np.shape(seed)[: np.ndim(seed) - len(graph.nodes[node_id].shape)]
        for node_id, seed in seeds.items()
    }
    if len(batches) > 1:
        raise ValueError(f"tangents have different batch shapes: {sorted(batches)}")
    return batches.pop() if batches else ()
