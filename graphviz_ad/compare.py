"""Check a hand-written backward pass against the traced one, and say where and how it
goes wrong.

``compare(forward, backward, *args)`` traces ``forward`` (a scalar loss), runs the user's
``backward`` on the same arguments and compares, input by input, the gradients it returns
with the engine's.  When they differ it goes further than a gradient checker: it records
every value the backward binds to a name, line by line, matches those values to the
adjoints of the forward graph's nodes, and names the first adjoint the derivation gets
wrong, the user's file:line, the rule of the edge where it goes wrong and the kind of
mistake (a transpose, a constant factor, a sign, a missing mask, a missing sum over a
broadcast axis, a missing second path, a wrong axis).

>>> import numpy as np
>>> def forward(x):
...     return np.sum(x ** 2)
>>> def backward(x):
...     return x                      # forgot the 2 of ∂x²/∂x = 2x
>>> report = compare(forward, backward, np.array([1.0, 2.0]))
>>> report.passed, report.inputs["x"].diagnosis.kind
(False, 'factor')

The backward runs as plain numpy (in-place updates such as ``dz[z <= 0] = 0`` are fine); it
is watched with ``sys.settrace``, which sees the user's own names and lines.  It may return
a dict keyed by input name, a tuple in argument order, or one array for a single input.
"""

from __future__ import annotations

import ast
import itertools
import linecache
import sys
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from fractions import Fraction
from inspect import signature

import numpy as np

from . import propagate
from .collect import is_user_file
from .linear import Elementwise, MatMul, Reduce
from .notation import adjoint, array_text, bracket
from .primitives import PRIMITIVES
from .tracer import Node, Source, trace

RTOL = 1e-6  # an entry matches when |yours − expected| ≤ RTOL · (|expected| + largest entry)

# Mistakes the diagnosis names, and how a report words them.
KINDS = {
    "transpose": "a transpose",
    "factor": "a constant factor",
    "sign": "a sign error",
    "mask": "a missing mask of a kink",
    "broadcast": "a missing sum over a broadcast axis",
    "path": "a missing path",
    "axis": "a wrong axis",
    "shape": "a wrong shape",
    "differs": "differs",
}
_TERMS_SHOWN = 4  # terms of an adjoint's sum written out
_INPUTS_SHOWN = 8  # inputs named in a report's first line
KINKS = frozenset({"maximum", "minimum", "abs", "where", "max", "min"})
_ADJOINT_PREFIXES = ("dL_d", "dl_d", "dC_d", "dJ_d", "dloss_d", "grad_", "delta_", "g_", "d_", "d")
_ADJOINT_SUFFIXES = ("_bar", "_grad", "_adj", "bar")

# What a partial sum looks like next to the whole (some contributions, a sum not yet taken,
# numbers of no known kind): only such a value may be a step towards the adjoint that the
# same name holds later.  A sign, a factor, a transpose, a mask or an axis is a mistake even
# then: in a loop the name's later value is often another node's adjoint, equal by chance
# (u = a + b gives a and b the adjoint of u).
_PARTIAL_KINDS = frozenset({"path", "broadcast", "shape", "differs"})

# Comprehensions (a frame each before Python 3.12): their variables are a loop's, not steps
# of the derivation.
_COMPREHENSIONS = frozenset({"<listcomp>", "<genexpr>", "<dictcomp>", "<setcomp>"})


# -- what the backward computed ------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Assignment:
    """A value the user's backward bound to ``name`` at ``filename:lineno`` (a float or a
    float array, copied when it was bound); ``returned`` marks an entry of its result."""

    name: str
    value: object
    filename: str
    lineno: int
    function: str
    returned: bool = False

    @property
    def source(self) -> Source:
        return Source(self.filename, self.lineno, self.function)

    @property
    def base(self) -> str | None:
        """The forward name this adjoint's name refers to: ``dz``, ``z_bar``, ``grad_z``,
        ``dL_dz`` → ``z``; None when the name has no adjoint prefix or suffix."""
        if self.returned:
            return self.name
        for prefix in _ADJOINT_PREFIXES:
            if self.name.startswith(prefix) and len(self.name) > len(prefix):
                return self.name[len(prefix):]
        for suffix in _ADJOINT_SUFFIXES:
            if self.name.endswith(suffix) and len(self.name) > len(suffix):
                return self.name[: -len(suffix)]
        return None

    def __str__(self) -> str:
        return f"{self.name} ({self.source})"


def run_recorded(backward, *args, **kwargs):
    """Run ``backward(*args, **kwargs)`` as plain numpy and record, line by line, each float
    value its frames (and the frames of the user's functions it calls: any file outside
    numpy, graphviz-ad and the standard library, such as a ``layers.py`` of
    ``affine_backward`` and ``relu_backward``) bind to a name; returns (result, assignments
    in the order they happened, the return's line).

    A value is recorded when a line changes it: a new binding (``dz = dh * mask``) or an
    update in place (``dz[z <= 0] = 0``); each is attributed to the line that just ran.

    >>> def backward(x):
    ...     dy = 2 * x
    ...     dy[0] = 0.0
    ...     return dy
    >>> result, steps, _ = run_recorded(backward, np.array([1.0, 2.0]))
    >>> [(step.name, step.lineno - steps[0].lineno, step.value.tolist()) for step in steps]
    [('dy', 0, [2.0, 4.0]), ('dy', 1, [0.0, 4.0])]
    """
    code = backward.__code__
    filename = code.co_filename
    watched: dict[str, bool] = {filename: True}  # file name -> whether it is the user's
    assignments: list[Assignment] = []
    states: dict[int, list] = {}  # id(frame) -> [line that ran last, snapshot of its locals]
    returned_at = [code.co_firstlineno]

    def changes(frame, state) -> None:
        snapshot = state[1]
        for name, value in frame.f_locals.items():
            copy = _float_copy(value)
            if copy is None:
                continue
            old = snapshot.get(name)
            if old is not None and np.shape(old) == np.shape(copy) and np.array_equal(
                    old, copy, equal_nan=True):
                continue
            snapshot[name] = copy
            if state[0] is not None:
                assignments.append(Assignment(name, copy, frame.f_code.co_filename, state[0],
                                              frame.f_code.co_name))

    def local(frame, event, arg):
        state = states.get(id(frame))
        if state is None:
            return None
        if event in ("line", "return"):
            changes(frame, state)
            state[0] = frame.f_lineno
        if event == "return":
            if frame.f_code is code:
                returned_at[0] = frame.f_lineno
            del states[id(frame)]
        return local

    def calls(frame, event, arg):
        if event != "call" or frame.f_code.co_name in _COMPREHENSIONS:
            return None
        where = frame.f_code.co_filename
        users = watched.get(where)
        if users is None:
            users = watched[where] = is_user_file(where, filename)
        if not users:
            return None
        snapshot = {}
        for name, value in frame.f_locals.items():  # the arguments: not assignments
            copy = _float_copy(value)
            if copy is not None:
                snapshot[name] = copy
        states[id(frame)] = [None, snapshot]
        return local

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        result = backward(*args, **kwargs)
    finally:
        sys.settrace(previous)
    return result, assignments, returned_at[0]


def _float_copy(value):
    """A copy of a float value (a float, a numpy float or a float array), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return np.array(value, dtype=float)
    return None


# -- the verdicts ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Diagnosis:
    """What kind of mistake (a key of :data:`KINDS`), in words and in the paper's notation.

    ``edge`` is the edge of the forward graph where it goes wrong (operand, consumer, arg),
    None when the mistake is about the node as a whole; ``rule`` its local Jacobian's rule;
    ``expected`` and ``yours`` the formulas; ``details`` extra lines (the paths and their
    sum for a missing path); ``factor`` the constant for a factor or a sign error.
    """

    kind: str
    words: str
    expected: str
    yours: str
    edge: tuple | None = None
    rule: str = ""
    details: tuple[str, ...] = ()
    factor: float | None = None


@dataclass(frozen=True, eq=False)
class Mismatch:
    """How far ``got`` is from ``expected``: the largest absolute error, the relative error
    (largest error over the largest entry of either) and how many entries differ."""

    max_abs: float
    max_rel: float
    wrong: int
    size: int

    @classmethod
    def between(cls, got, expected, rtol: float = RTOL) -> Mismatch:
        got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
        error, scale, agree = _agreement(got, expected, rtol)
        wrong = ~agree
        max_abs = float(np.max(error, initial=0.0)) if error.size else 0.0
        max_rel = max_abs / scale if scale else (0.0 if max_abs == 0 else float("inf"))
        return cls(max_abs, max_rel, int(np.count_nonzero(wrong)), int(expected.size))

    @property
    def close(self) -> bool:
        return self.wrong == 0

    def __str__(self) -> str:
        if self.close:
            return f"matches (max abs error {self.max_abs:.1e})"
        return (f"differs in {self.wrong} of {self.size} "
                f"entr{'y' if self.size == 1 else 'ies'} (max abs error {self.max_abs:.3g}, "
                f"relative {self.max_rel:.3g})")


@dataclass(frozen=True, eq=False)
class InputResult:
    """One input's gradient: ``expected`` (the engine's), ``got`` (the backward's, None when
    it returned nothing for this input), ``status`` ("match", "mismatch" or "missing")."""

    name: str
    expected: object
    got: object
    status: str
    mismatch: Mismatch | None = None
    diagnosis: Diagnosis | None = None

    @property
    def mark(self) -> str:
        return {"match": "✔", "mismatch": "✘"}.get(self.status, "·")

    def __str__(self) -> str:
        if self.status == "missing":
            return f"{self.name}  ·  not returned"
        if self.mismatch is None:
            text = (f"{self.name}  {self.mark}  has shape {np.shape(self.got)}, the input has "
                    f"shape {np.shape(self.expected)}")
        else:
            text = f"{self.name}  {self.mark}  {self.mismatch}"
        if self.diagnosis is not None and self.diagnosis.kind != "differs":
            text += f": {KINDS[self.diagnosis.kind]}"
        return text


@dataclass(frozen=True, eq=False)
class Verdict:
    """A node of the forward graph against the user's line for its adjoint: ``ok`` (✔) when
    ``assignment`` holds the ``adjoint`` (in ``form``: "", "transposed", "reshaped" or
    "broadcast"), else ✘ with a ``diagnosis``."""

    node: Node
    assignment: Assignment
    ok: bool
    adjoint: object = None  # the engine's adjoint of node, shaped like it
    form: str = ""
    mismatch: Mismatch | None = None
    diagnosis: Diagnosis | None = None

    @property
    def mark(self) -> str:
        return "✔" if self.ok else "✘"


@dataclass(eq=False)
class Comparison:
    """The report of :func:`compare`: per input (``inputs``, name → :class:`InputResult`),
    per node of the forward graph (``verdicts``, node id → :class:`Verdict`, for the nodes
    whose adjoint a line of the backward holds or gets wrong) and the ``first_divergence``;
    ``backward_at`` is the backward function's first line.

    ``passed`` when every returned gradient matches.  ``str(report)`` is the printed report.
    """

    graph: object
    backward: str
    inputs: dict[str, InputResult]
    verdicts: dict[int, Verdict]
    assignments: list[Assignment]
    names: dict[int, str] = field(default_factory=dict)
    rtol: float = RTOL
    backward_at: Source | None = None  # where the backward function begins (its def line)

    @property
    def passed(self) -> bool:
        return all(result.status != "mismatch" for result in self.inputs.values())

    @property
    def wrong(self) -> list[Verdict]:
        """The ✘ verdicts in the order the backward computed them."""
        order = {id(a): i for i, a in enumerate(self.assignments)}
        return sorted((v for v in self.verdicts.values() if not v.ok),
                      key=lambda v: order.get(id(v.assignment), len(order)))

    @property
    def first_divergence(self) -> Verdict | None:
        """The first adjoint the backward gets wrong, in the order it ran (None when every
        returned gradient matches: a returned gradient that differs is a wrong adjoint)."""
        wrong = self.wrong
        return wrong[0] if wrong else None

    def __str__(self) -> str:
        graph = self.graph
        names = list(graph.inputs)
        if len(names) > _INPUTS_SHOWN:
            names = [*names[: _INPUTS_SHOWN - 2], "…", names[-1]]
        lines = [f"{self.backward} against the traced {graph.name}({', '.join(names)}) = "
                 f"{array_text(graph.value)}"]
        returned = [result for result in self.inputs.values() if result.status != "missing"]
        width = max((len(result.name) for result in returned), default=0)
        for result in returned:
            lines.append(str(result).replace(result.name, result.name.ljust(width), 1))
        missing = [result.name for result in self.inputs.values() if result.status == "missing"]
        if missing:
            lines.append(f"not returned: {', '.join(missing)}")
        if self.passed:
            found = sum(verdict.ok for verdict in self.verdicts.values())
            lines.append(f"every returned gradient matches; {found} of the forward graph's "
                         f"adjoints found at your lines")
            return "\n".join(lines)
        first = self.first_divergence  # a returned gradient that differs is one, at the least
        node = first.node
        name = self.names.get(node.id)
        output = graph.output.label
        title = adjoint(node.label, output)
        if name and name != node.label:
            title = f"{adjoint(name, output)} = {title}"
        lines.append(f"first divergence: {first.assignment} should be {title}, the adjoint "
                     f"of {_described(node, self.names)}")
        lines += _diagnosis_lines(first.assignment.name, first.diagnosis, first.mismatch,
                                  first.assignment.value)
        return "\n".join(lines)


def _diagnosis_lines(name: str, diagnosis: Diagnosis, mismatch: Mismatch | None = None,
                     value=None):
    lines = [f"   {KINDS[diagnosis.kind]}: {diagnosis.words}"]
    if diagnosis.edge is not None:
        operand, consumer, _ = diagnosis.edge
        lines.append(f"   at the edge {operand.label} → {consumer.label} = {consumer.call_text}"
                     f" ({consumer.source}), rule {bracket(diagnosis.rule)}")
    lines.append(f"   expected {diagnosis.expected}")
    yours = f"   yours    {name} = {diagnosis.yours}"
    if value is not None and diagnosis.kind != "differs":
        yours += f" = {array_text(np.asarray(value) + 0.0)}"
    if mismatch is not None:
        yours += f": {mismatch}"
    lines.append(yours)
    lines += [f"   {line}" for line in diagnosis.details]
    return lines


def _agreement(got: np.ndarray, expected: np.ndarray, rtol: float):
    """(|got − expected|, the largest entry of either, which entries agree): an entry agrees
    when its error is at most rtol · (|expected entry| + the largest entry)."""
    error = np.abs(got - expected)
    scale = max(float(np.max(np.abs(expected), initial=0.0)),
                float(np.max(np.abs(got), initial=0.0)))
    return error, scale, error <= rtol * (np.abs(expected) + scale)


# -- comparing ------------------------------------------------------------------------------


def compare(forward, backward, *args, rtol: float = RTOL, **kwargs) -> Comparison:
    """Trace ``forward(*args, **kwargs)`` (a scalar), run ``backward`` on the same arguments
    and compare the gradients; see the module's docstring.  Returns a :class:`Comparison`.
    """
    graph = trace(forward, *args, **kwargs)
    if np.size(graph.value) != 1:
        raise ValueError(f"compare needs a scalar forward (a loss), but {graph.name} returns "
                         f"shape {graph.output.shape}")
    result, assignments, return_line = run_recorded(backward, *args, **kwargs)
    code = backward.__code__
    returned = _returned(graph, forward, result, getattr(backward, "__name__", "backward"))
    expected = graph.grad()
    for name, value in returned.items():
        if value is not None:
            assignments.append(Assignment(name, _float_copy(np.asarray(value, dtype=float)),
                                          code.co_filename, return_line, code.co_name,
                                          returned=True))
    engine = _Engine(graph, rtol)
    inputs = {}
    for name, node in graph.inputs.items():
        got = returned.get(name)
        if got is None:
            inputs[name] = InputResult(name, expected[name], None, "missing")
            continue
        got = np.asarray(got, dtype=float)
        if got.shape != node.shape:
            diagnosis = engine.diagnose(got, node)
            inputs[name] = InputResult(name, expected[name], got, "mismatch", None, diagnosis)
            continue
        mismatch = Mismatch.between(got, expected[name], rtol)
        if mismatch.close:
            inputs[name] = InputResult(name, expected[name], got, "match", mismatch)
        else:
            inputs[name] = InputResult(name, expected[name], got, "mismatch", mismatch,
                                       engine.diagnose(got, node))
    passed = all(result.status != "mismatch" for result in inputs.values())
    verdicts = engine.verdicts(assignments, localise=not passed)
    report = Comparison(graph, getattr(backward, "__name__", "backward"), inputs, verdicts,
                        assignments, engine.names, rtol,
                        Source(code.co_filename, code.co_firstlineno, code.co_name))
    for listener in tuple(listeners):
        listener(report)
    return report


# Callables that receive every report compare() makes: the command line listens here to
# find the comparisons a user's script made.
listeners: list = []


def _returned(graph, forward, result, backward_name: str) -> dict:
    """The backward's result as input name → gradient (None where it gave none)."""
    names = list(graph.inputs)
    parameters = list(signature(forward).parameters)
    if isinstance(result, dict):
        found = {}
        for key, value in result.items():
            if key in graph.inputs:
                found[key] = value
            elif key in parameters and isinstance(value, (list, tuple, dict)):
                found.update(_items(key, value, graph))
            else:
                raise KeyError(f"{backward_name} returned a gradient for {key!r}, which is not "
                               f"an input of {graph.name}; its inputs: {names}")
        return found
    if isinstance(result, (tuple, list)):
        if len(result) > len(parameters):
            raise ValueError(f"{backward_name} returned {len(result)} gradients but "
                             f"{graph.name} takes {len(parameters)} arguments")
        found = {}
        for key, value in zip(parameters, result):
            if key in graph.inputs:
                found[key] = value
            elif isinstance(value, (list, tuple, dict)):
                found.update(_items(key, value, graph))
        return found
    if result is None:
        raise TypeError(f"{backward_name} returned None; return the gradients: a dict keyed "
                        "by input name, a tuple in argument order, or one array")
    if len(names) != 1:
        raise TypeError(f"{backward_name} returned one array but {graph.name} has "
                        f"{len(names)} inputs ({', '.join(names)}); return a dict keyed by "
                        "input name or a tuple in argument order")
    return {names[0]: result}


def _items(key: str, values, graph) -> dict:
    """The gradient of a list or dict argument, item by item: ``xs`` → ``xs[0]``,
    ``xs[1]``…, ``params`` → ``params['W']``… (the names ``trace`` gives its inputs)."""
    pairs = values.items() if isinstance(values, dict) else enumerate(values)
    named = {(f"{key}[{item!r}]" if isinstance(values, dict) else f"{key}[{item}]"): value
             for item, value in pairs}
    return {name: value for name, value in named.items() if name in graph.inputs}


class _Peaks:
    """Arrays indexed by their largest magnitude, which no form of matching changes (a
    transpose, a reshape, a broadcast): values that agree within rtol have peaks within
    2·rtol of each other, so only those few are compared entry by entry."""

    def __init__(self, arrays, rtol: float):
        pairs = sorted((_peak(array), key) for key, array in arrays)
        self._peaks = [peak for peak, _ in pairs]
        self._keys = [key for _, key in pairs]
        self._slack = 3 * rtol

    def near(self, value) -> list:
        """The keys of the arrays whose peak is within the tolerance of ``value``'s."""
        peak = _peak(value)
        low = bisect_left(self._peaks, peak * (1 - self._slack))
        high = bisect_right(self._peaks, peak * (1 + self._slack))
        return sorted(self._keys[low:high])


def _peak(array) -> float:
    """The largest magnitude (infinite when a NaN is there: it matches nothing anyway)."""
    peak = float(np.max(np.abs(array), initial=0.0))
    return np.inf if np.isnan(peak) else peak


class _Engine:
    """The forward graph's adjoints and the edges that make them, and the tests that match
    a user's value to an adjoint and say what kind of mistake separates them."""

    def __init__(self, graph, rtol: float):
        self.graph = graph
        self.rtol = rtol
        self.adjoints: dict[int, np.ndarray] = {graph.output.id: np.ones(graph.output.shape)}
        self.edges: dict[int, list] = {}
        for edge in propagate.reverse(graph, np.ones(graph.output.shape)):
            self.adjoints[edge.operand.id] = np.asarray(edge.total, dtype=float)
            self.edges.setdefault(edge.operand.id, []).append(edge)
        self.names = _variable_names(graph)
        self.sizes = sorted({n for node in graph.nodes for n in node.shape if n > 1})
        self._expected: dict[int, str] = {}  # node id -> its adjoint's formula, made once
        self._adjoint_peaks = _Peaks(self.adjoints.items(), rtol)
        self._value_peaks = _Peaks(((node.id, node.value) for node in graph.nodes
                                    if node.op != "const"), rtol)
        # one use's share of a node used several times: a partial sum, not an adjoint
        self._shares = [np.asarray(edge.contribution, dtype=float)
                        for edges in self.edges.values() if len(edges) > 1 for edge in edges]
        self._share_peaks = _Peaks(enumerate(self._shares), rtol)

    def _adjoint(self, node: Node) -> str:
        """How every front end writes the node's adjoint: ``∂y/∂u₅`` for the output y."""
        return adjoint(node.label, self.graph.output.label)

    # -- matching --------------------------------------------------------------------------
    def close(self, got, expected) -> bool:
        got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
        return bool(np.all(_agreement(got, expected, self.rtol)[2]))

    def forms(self, value, shape):
        """(form, value reshaped to ``shape``) for each way ``value`` may hold an adjoint
        shaped ``shape``: as it is, transposed, with unit axes added or dropped, or as a
        number repeated over the whole shape."""
        value_shape = np.shape(value)
        if value_shape == shape:
            yield "", np.asarray(value)
            return
        if np.size(value) == int(np.prod(shape)):
            if _squeezed(value_shape) == _squeezed(shape):
                yield "reshaped", np.reshape(value, shape)
            elif len(shape) == 2 and value_shape == shape[::-1]:
                yield "transposed", np.transpose(value)
        elif np.size(value) < int(np.prod(shape)) and _broadcasts(value_shape, shape):
            yield "broadcast", np.broadcast_to(value, shape)

    def matches(self, assignment: Assignment, among=None):
        """(node, form) for each node (of ``among``, default all) whose adjoint the
        assignment holds."""
        value = assignment.value
        if not np.any(value):  # zeros say nothing about which adjoint they are
            return
        if among is None:
            among = map(self.graph.nodes.__getitem__, self._adjoint_peaks.near(value))
        for node in among:
            adjoint = self.adjoints[node.id]
            if assignment.returned and node.name != assignment.name:
                continue
            for form, shaped in self.forms(value, adjoint.shape):
                if form == "transposed" and (assignment.returned or node.op == "input"):
                    continue  # an input's gradient has the input's shape (mixed layout)
                if self.close(shaped, adjoint) and np.any(adjoint):
                    yield node, form
                    break

    def is_share(self, assignment: Assignment) -> bool:
        """Whether the value is one use's contribution to a node used several times (a
        partial sum of its adjoint: ``dx1 = dout * y`` before ``dx = dx1 + dx2``)."""
        value = assignment.value
        return any(self._shares[i].shape == np.shape(value) and self.close(value, self._shares[i])
                   for i in self._share_peaks.near(value))

    def is_recomputed(self, assignment: Assignment) -> bool:
        """Whether the value is one of the forward pass's values (a recomputation)."""
        value = assignment.value
        nodes = self.graph.nodes
        return any(np.shape(nodes[i].value) == np.shape(value) and self.close(value, nodes[i].value)
                   for i in self._value_peaks.near(value))

    def verdicts(self, assignments: list[Assignment], localise: bool) -> dict[int, Verdict]:
        """A verdict per node: ✔ at the first line that holds its adjoint; with ``localise``
        also ✘ at each line that gets an adjoint wrong (paired by the name, ``dz`` for z, or
        by a mistake of a known kind)."""
        verdicts: dict[int, Verdict] = {}
        candidates = []
        for assignment in assignments:
            paired = self.paired(assignment) or None  # dz is ∂y/∂z when the forward has a z
            found = list(self.matches(assignment, paired))
            if found:
                base = assignment.base
                for node, form in found:
                    if base is None and self._recomputes(assignment, node):
                        continue
                    if node.id not in verdicts:
                        verdicts[node.id] = Verdict(node, assignment, True,
                                                    self.adjoints[node.id], form)
            elif localise and (assignment.returned or np.any(assignment.value)) and (
                    paired or not (self.is_recomputed(assignment) or self.is_share(assignment))):
                candidates.append(assignment)  # zeros: an accumulator starting, not a claim
        if not localise:
            return verdicts
        position = {id(a): i for i, a in enumerate(assignments)}
        judged = []
        scan = True  # look for an unnamed value's adjoint until one is found: the first
        previous: dict[tuple, int] = {}  # (function, name) -> the node it was last paired with
        for assignment in candidates:
            key = (assignment.function, assignment.name)
            verdict = self.judge(assignment, verdicts, scan, previous.get(key))
            if verdict is None:
                continue
            previous[key] = verdict.node.id
            scan = scan and bool(self.paired(assignment))
            later = assignments[position[id(assignment)] + 1:]
            if verdict.diagnosis.kind in _PARTIAL_KINDS and any(
                    a.function == assignment.function and a.name == assignment.name
                    and self.completes(a, verdict.node) for a in later):
                continue  # a partial sum the backward completes later (dx = …; dx += …)
            judged.append(verdict)
        # an accumulator (dW += … in a loop) is judged by its last value for a node
        last = {(v.assignment.function, v.assignment.name, v.node.id): v for v in judged}
        for verdict in judged:
            key = (verdict.assignment.function, verdict.assignment.name, verdict.node.id)
            held = verdicts.get(verdict.node.id)
            if last[key] is verdict and (held is None or held.ok):  # the first ✘ for a node
                verdicts[verdict.node.id] = verdict
        return verdicts

    def completes(self, assignment: Assignment, node: Node) -> bool:
        """Whether a later value of the same name holds the node's adjoint entry by entry:
        the sum an earlier partial value was on its way to.  One number repeated does not
        count: where an adjoint is constant ([0.78, 0.78, 0.78]), any scalar of that value
        (the adjoint of another node, bound to the same name later in a loop) matches it.
        """
        return any(form != "broadcast" for _, form in self.matches(assignment, [node]))

    def _recomputes(self, assignment, node) -> bool:
        """``h = …`` that equals h's value: the forward recomputed (here ∂y/∂h = h by chance)."""
        return self.names.get(node.id) == assignment.name and self.close(
            assignment.value, node.value)

    def judge(self, assignment: Assignment, verdicts: dict, scan: bool = True,
              previous: int | None = None) -> Verdict | None:
        """The node whose adjoint the assignment gets wrong, and how; None when it pairs
        with no node (a helper value of the derivation).  A name pairs it (``dz`` with z);
        else, with ``scan``, the first node a known kind of mistake explains does.  A name
        the backward binds again in a loop (``dh`` for each step) moves back along the tape:
        it pairs with a node made before the one it was last paired with, if there is one.
        """
        paired = self.paired(assignment)
        if previous is not None:
            paired = [node for node in paired if node.id < previous] or paired
        if paired:
            scored = []
            for node in paired:
                diagnosis = self.diagnose(assignment.value, node)
                mismatch = self.mismatch(assignment.value, node)
                distance = np.inf if mismatch is None else mismatch.max_rel
                scored.append((diagnosis.kind == "differs", node.id in verdicts, distance,
                               node, diagnosis))
            scored.sort(key=lambda item: item[:3])
            *_, node, diagnosis = scored[0]
            return Verdict(node, assignment, False, self.adjoints[node.id], "",
                           self.mismatch(assignment.value, node),
                           diagnosis)
        if not scan or np.size(assignment.value) < 2:
            return None  # one number is proportional to any other: nothing to go on
        fits = []
        for node_id in sorted(self.adjoints, reverse=True):  # the order of the backward pass
            if not self._may_hold(assignment.value, node_id):
                continue
            node = self.graph.nodes[node_id]
            diagnosis = self.diagnose(assignment.value, node, known_only=True)
            # unnamed, one use's share (or all but one) is a partial sum, and a broadcast's
            # adjoint before its sum a step on the way: only a name makes them mistakes
            if diagnosis is not None and diagnosis.kind not in ("path", "broadcast"):
                # a plain factor is the weakest evidence; then prefer a node no line holds
                fits.append((diagnosis.kind == "factor", node_id in verdicts, -node_id,
                             node, diagnosis))
        if not fits:
            return None
        *_, node, diagnosis = min(fits, key=lambda fit: fit[:3])
        return Verdict(node, assignment, False, self.adjoints[node.id], "",
                       self.mismatch(assignment.value, node), diagnosis)

    def _may_hold(self, value, node_id: int) -> bool:
        """Whether a value could be the node's (non-zero) adjoint with a mistake of a known
        kind: as many entries, or the node is broadcast somewhere (a sum left out or done
        along another axis changes the shape)."""
        adjoint = self.adjoints[node_id]
        if not np.any(adjoint):
            return False
        return np.size(value) == adjoint.size or any(
            isinstance(edge.local, Elementwise) and edge.local.in_shape != edge.local.out_shape
            for edge in self.edges.get(node_id, []))

    def paired(self, assignment: Assignment) -> list[Node]:
        """The nodes the assignment's name refers to (``dz`` → the nodes assigned to z)."""
        base = assignment.base
        if base is None:
            return []
        return [self.graph.nodes[node_id] for node_id in self.adjoints
                if self.names.get(node_id) == base]

    def mismatch(self, value, node) -> Mismatch | None:
        """How far the value is from the adjoint (None when their shapes differ)."""
        adjoint = self.adjoints[node.id]
        for form, shaped in self.forms(value, adjoint.shape):
            if form != "transposed":
                return Mismatch.between(shaped, adjoint, self.rtol)
        return None

    # -- diagnosing ------------------------------------------------------------------------
    def diagnose(self, value, node: Node, known_only: bool = False) -> Diagnosis | None:
        """What separates ``value`` from the adjoint of ``node``: the first test that
        explains it exactly (within the tolerance), else "differs" ("shape" when the shapes
        cannot be reconciled); with ``known_only``, None instead of those two."""
        adjoint = self.adjoints.get(node.id)
        if adjoint is None:
            adjoint = np.zeros(node.shape)
        value = np.asarray(value, dtype=float)
        edges = self.edges.get(node.id, [])
        expected = self.expected_text(node, edges)  # made once per node
        if value.shape != adjoint.shape:
            found = (self._unsummed(value, node, edges, expected)
                     or self._summed_elsewhere(value, node, edges, expected))
            if found is not None:
                return found
            shaped = next((v for form, v in self.forms(value, adjoint.shape)
                           if form != "transposed"), None)
            if shaped is None:
                if value.ndim == 2 and value.shape == adjoint.shape[::-1] and self.close(
                        value.T, adjoint):
                    return self._transpose(node, edges, expected, whole=True)
                if known_only:
                    return None
                return Diagnosis("shape", f"yours has shape {value.shape}, "
                                 f"{self._adjoint(node)} has shape {adjoint.shape}", expected,
                                 f"an array of shape {value.shape}")
            value = shaped
        for test in (self._axes, self._transposed, self._transposed_operand, self._paths,
                     self._masks, self._factors):
            found = test(value, node, adjoint, edges, expected)
            if found is not None:
                return found
        if known_only:
            return None
        mismatch = Mismatch.between(value, adjoint, self.rtol)
        return Diagnosis("differs", f"no single mistake of a known kind explains it: {mismatch}",
                         expected, array_text(value + 0.0))

    def expected_text(self, node: Node, edges) -> str:
        """``∂y/∂z = ∂y/∂h · [diag(z > 0)]``: the adjoint as the sum of its edges' VJPs (the first
        few terms of a long sum)."""
        text = self._expected.get(node.id)
        if text is None:
            text = self._expected[node.id] = self._formula(node, edges)
        return text

    def _formula(self, node: Node, edges) -> str:
        if not edges:
            return f"{self._adjoint(node)} = 1 (the seed)" if node is self.graph.output else (
                f"{self._adjoint(node)} = 0")
        terms = [f"{self._adjoint(edge.consumer)} · {bracket(edge.local.rule)}"
                 for edge in edges[:_TERMS_SHOWN]]
        if len(edges) > _TERMS_SHOWN:
            terms.append(f"… ({len(edges)} terms)")
        total = array_text(self.adjoints[node.id] + 0.0)
        return f"{self._adjoint(node)} = {' + '.join(terms)} = {total}"

    def _transposed(self, value, node, adjoint, edges, expected):
        if adjoint.ndim != 2 or adjoint.shape[0] != adjoint.shape[1]:
            return None
        if self.close(value, adjoint.T) and not self.close(adjoint, adjoint.T):
            return self._transpose(node, edges, expected, whole=True)
        for edge in edges:
            contribution = np.asarray(edge.contribution)
            if (isinstance(edge.local, MatMul) and not self.close(contribution, contribution.T)
                    and self.close(value, adjoint - contribution + contribution.T)):
                return self._transpose(node, [edge], expected, whole=len(edges) == 1)
        return None

    def _transposed_operand(self, value, node, adjoint, edges, expected):
        """A product's other factor used untransposed: for y = W h, W ȳ where Wᵀ ȳ belongs
        (a square W, or the shapes would not have fitted)."""
        for edge in edges:
            local = edge.local
            other = getattr(local, "other", None)
            if (not isinstance(local, MatMul) or np.ndim(other) != 2
                    or other.shape[0] != other.shape[1]):
                continue
            swapped = MatMul(local.left, local.own_ndim, other.T, local.in_shape,
                             local.out_shape, "", {}).vjp(edge.incoming)
            contribution = np.asarray(edge.contribution)
            if self.close(swapped, contribution):
                continue  # a symmetric factor: both are right
            if self.close(value, adjoint - contribution + swapped):
                right, _ = _product_texts(edge, self.graph.output.label)
                factor = edge.consumer.inputs[1 - edge.arg].label
                wrong = right.replace(f"{factor}ᵀ", factor)
                words = (f"{factor} is used untransposed: {self._adjoint(node)} = {right}, not "
                         f"{wrong}")
                return Diagnosis("transpose", words, expected, wrong, _edge(edge),
                                 local.rule)
        return None

    def _transpose(self, node, edges, expected, whole: bool):
        edge = edges[0] if len(edges) == 1 else None
        words = (f"yours is the transpose of {self._adjoint(node)}" if whole else
                 f"the term from {edge.consumer.label} is transposed")
        name = self._adjoint(node)
        yours = f"({name})ᵀ" if whole else f"{name} with that term transposed"
        if edge is not None and isinstance(edge.local, MatMul):
            right, wrong = _product_texts(edge, self.graph.output.label)
            words += f": {self._adjoint(node)} = {right}, not {wrong}"
            yours = wrong if whole else yours
        return Diagnosis("transpose", words, expected, yours, _edge(edge),
                         edge.local.rule if edge else "")

    def _paths(self, value, node, adjoint, edges, expected):
        """A node used several times: the backward kept one use's contribution, or left one
        out (x * x, a tied weight, batch norm's three paths)."""
        if len(edges) < 2:
            return None
        for edge in edges:
            contribution = np.asarray(edge.contribution)
            if not np.any(contribution) or self.close(contribution, adjoint):
                continue
            rest = adjoint - contribution
            via = edge.consumer.label
            if edge.consumer.inputs.count(node) > 1:  # x * x: say which use
                via += f" (argument {edge.arg})"
            if self.close(value, contribution):
                words = (f"{node.label} is used {len(edges)} times but yours has only the "
                         f"contribution through {via}")
            elif self.close(value, rest) and np.any(rest):
                words = (f"{node.label} is used {len(edges)} times but yours misses the "
                         f"contribution through {via}")
            else:
                continue
            return Diagnosis("path", words, expected, self._terms_without(edges, edge, value),
                             _edge(edge), edge.local.rule, self._path_lines(node, edges))
        return None

    def _terms_without(self, edges, missing, value) -> str:
        kept = [e for e in edges if e is not missing]
        if self.close(value, np.asarray(missing.contribution)):
            kept = [missing]
        return " + ".join(f"{self._adjoint(e.consumer)} · {bracket(e.local.rule)}" for e in kept)

    def _path_lines(self, node, edges) -> tuple[str, ...]:
        lines = ["the contributions, one per use, and their sum:"]
        for edge in edges:
            lines.append(f"  via {edge.consumer.label} = {edge.consumer.call_text} "
                         f"({edge.consumer.source}): {self._adjoint(edge.consumer)} · "
                         f"{bracket(edge.local.rule)} = {array_text(edge.contribution)}")
        lines.append(f"  sum = {array_text(self.adjoints[node.id] + 0.0)}")
        paths = self.graph.paths(node, limit=8)
        if len(paths) > len(edges):
            lines.append(f"the {paths.total_count} paths to the output:")
            lines += [f"  {path.text}" for path in paths]
            if paths.truncated:
                lines.append(f"  … {paths.total_count - len(paths)} more")
        return tuple(lines)

    def _masks(self, value, node, adjoint, edges, expected):
        """The adjoint passed through a kink (ReLU, max, abs, where) unmasked, or through a
        run of them (clip is a max then a min): yours lacks the first one's mask, or all."""
        for edge in edges:
            chain = self._kinks_above(edge)
            contribution = np.asarray(edge.contribution)
            for depth in range(1, len(chain) + 1):
                unmasked = np.asarray(chain[depth - 1].incoming)
                for step in reversed(chain[:depth]):
                    unmasked = _without_weights(step.local).vjp(unmasked)
                if self.close(unmasked, contribution):
                    continue  # nothing masked here: the kink is on its open side everywhere
                if not self.close(value, adjoint - contribution + unmasked):
                    continue
                masks = " ".join(bracket(step.local.rule.removeprefix("diag(").removesuffix(
                    ")")) for step in chain[:depth])
                kinks = ", ".join(f"{step.consumer.label} = {step.consumer.call_text}"
                                  for step in chain[:depth])
                top = chain[depth - 1].consumer
                words = f"yours lacks the {_mask_name(edge.consumer)} {masks} of {kinks}"
                return Diagnosis("mask", words, expected, f"{self._adjoint(top)} without {masks}",
                                 _edge(edge), edge.local.rule)
        return None

    def _kinks_above(self, edge) -> list:
        """The edge into a kink and, while that kink's only use is another kink, the edges
        above it: for clip(x) = min(max(x, lo), hi), x → max and max → min."""
        chain = []
        while edge.consumer.op in KINKS and _without_weights(edge.local) is not None:
            chain.append(edge)
            above = self.edges.get(edge.consumer.id, [])
            if len(above) != 1:
                break
            edge = above[0]
        return chain

    def _axes(self, value, node, adjoint, edges, expected):
        """A sum (or a spread) along the wrong axis of a reduction or a broadcast."""
        for edge in edges:
            local, incoming = edge.local, np.asarray(edge.incoming)
            rest = adjoint - np.asarray(edge.contribution)
            for axes, alternative in _other_axes(local, incoming):
                if self.close(value, rest + alternative):
                    return self._axis(edge, axes, expected)
        return None

    def _summed_elsewhere(self, value, node, edges, expected):
        """A broadcast's adjoint summed over the wrong axes (so yours has another shape)."""
        for edge in edges:
            local = edge.local
            if not isinstance(local, Elementwise) or local.in_shape == local.out_shape:
                continue
            rest = self.adjoints[node.id] - np.asarray(edge.contribution)
            full = np.broadcast_to(np.asarray(edge.incoming) * local.factor, local.out_shape)
            right = _broadcast_axes(local.in_shape, local.out_shape)
            for count in range(1, len(local.out_shape) + 1):
                for axes in itertools.combinations(range(len(local.out_shape)), count):
                    if axes == right:
                        continue
                    for keepdims in (False, True):
                        summed = full.sum(axis=axes, keepdims=keepdims)
                        if summed.shape != value.shape:
                            continue
                        if np.any(rest):
                            if not _broadcasts(rest.shape, summed.shape):
                                continue
                            summed = summed + rest
                        if self.close(value, summed):
                            return self._axis(edge, axes, expected)
        return None

    def _axis(self, edge, axes, expected) -> Diagnosis:
        right = ",".join(map(str, _axes_of(edge.local)))
        wrong = ",".join(map(str, axes))
        consumer = edge.consumer
        words = (f"yours goes over axis {wrong} where {consumer.label} = "
                 f"{consumer.call_text} needs axis {right}")
        return Diagnosis("axis", words, expected, f"{self._adjoint(consumer)} over axis {wrong}",
                         _edge(edge), edge.local.rule)

    def _unsummed(self, value, node, edges, expected):
        """Scalar expansion forward is a sum backward: yours is shaped like the broadcast."""
        for edge in edges:
            local = edge.local
            if not isinstance(local, Elementwise) or local.in_shape == local.out_shape:
                continue
            if value.shape != local.out_shape:
                continue
            full = np.broadcast_to(np.asarray(edge.incoming) * local.factor, local.out_shape)
            rest = self.adjoints[node.id] - np.asarray(edge.contribution)
            if not self.close(value, full + rest):
                continue
            axes = _broadcast_axes(local.in_shape, local.out_shape)
            words = (f"{node.label} {node.shape} was broadcast to {local.out_shape} in "
                     f"{edge.consumer.label} = {edge.consumer.call_text}; yours is not summed "
                     f"over axis {','.join(map(str, axes))}")
            yours = (f"{self._adjoint(edge.consumer)} · {bracket(local.rule)} without the sum "
                     f"Σ over axis {','.join(map(str, axes))}")
            return Diagnosis("broadcast", words, expected, yours, _edge(edge), local.rule)
        return None

    def _factors(self, value, node, adjoint, edges, expected):
        """A constant factor (2, 1/n, −1) on the whole adjoint or on one edge's term."""
        terms = [(None, adjoint, np.zeros_like(adjoint))]
        if len(edges) > 1:
            terms += [(e, np.asarray(e.contribution), adjoint - np.asarray(e.contribution))
                      for e in edges]
        for edge, term, rest in terms:
            norm = float(np.sum(term * term))
            if not norm:
                continue
            factor = float(np.sum((value - rest) * term)) / norm
            if abs(factor - 1) < RTOL or not self.close(value, rest + factor * term):
                continue
            words, kind = _factor_words(factor, self.sizes)
            if words is None:
                continue
            where = f"{self._adjoint(node)}" if edge is None else (
                f"the term {self._adjoint(edge.consumer)} · {bracket(edge.local.rule)}")
            rule = edge.local.rule if edge is not None else (
                edges[0].local.rule if len(edges) == 1 else "")
            shown = "−" if kind == "sign" else _number(factor).replace("-", "−") + " "
            said = (f"yours is {shown}{where}" if kind == "sign" else
                    f"yours is {shown}× {where}: {words}")
            return Diagnosis(kind, said, expected,
                             f"{shown}({where})" if edge else f"{shown}{self._adjoint(node)}",
                             _edge(edge if edge is not None else
                                   (edges[0] if len(edges) == 1 else None)), rule,
                             factor=factor)
        return None


def _edge(edge):
    return None if edge is None else (edge.operand, edge.consumer, edge.arg)


def _without_weights(local):
    """The same map with its element-wise derivative (the kink's mask) replaced by 1: what
    the backward computes when it forgets the mask; None for other kinds of Jacobian."""
    if isinstance(local, Elementwise):
        return Elementwise(1, local.in_shape, local.out_shape, "1", {})
    if isinstance(local, Reduce):
        return Reduce(local.in_shape, local.out_shape, local.axes, local.keepdims, 1, "1ᵀ", {})
    return None


def _product_texts(edge, output: str) -> tuple[str, str]:
    """The VJP of a matrix product in the paper's notation, and its transpose: for C = A B
    in a graph whose output is y, ∂y/∂A = ∂y/∂C · Bᵀ (not B · (∂y/∂C)ᵀ) and
    ∂y/∂B = Aᵀ · ∂y/∂C (not (∂y/∂C)ᵀ · A)."""
    consumer = edge.consumer
    upstream = adjoint(consumer.label, output)
    if edge.arg == 0:
        other = consumer.inputs[1].label
        return f"{upstream} · {other}ᵀ", f"{other} · ({upstream})ᵀ"
    other = consumer.inputs[0].label
    return f"{other}ᵀ · {upstream}", f"({upstream})ᵀ · {other}"


def _mask_name(consumer: Node) -> str:
    if consumer.op == "abs":
        return "sign"
    if consumer.op in ("max", "min"):
        return "one-hot selection"
    return "mask"


def _factor_words(factor: float, sizes: list[int]) -> tuple[str | None, str]:
    """(words, kind) for a factor that is a known slip: −1, 2, ½, n or 1/n for a length n of
    an axis of the graph, a ratio of two lengths (a count along the wrong axis), and their
    negatives; (None, "") for any other number."""
    magnitude = abs(factor)
    if abs(magnitude - 1) < RTOL:
        return "a sign error", "sign"
    fraction = Fraction(magnitude).limit_denominator(1000)
    if abs(float(fraction) - magnitude) > RTOL * magnitude:
        return None, ""
    words = None
    for n in dict.fromkeys([2, *sizes]):
        if fraction == n:
            words = "an extra factor 2" if n == 2 else f"a missing factor 1/{n}"
        elif fraction == Fraction(1, n):
            words = "a missing factor 2" if n == 2 else f"an extra factor 1/{n}"
        if words:
            break
    for a, b in itertools.permutations(sizes, 2):
        if words is None and fraction == Fraction(a, b):
            words = f"1/{b} where 1/{a} belongs (a count along the wrong axis)"
    if words is None:
        return None, ""
    return (f"a sign error and {words}" if factor < 0 else words), "factor"


def _number(value: float) -> str:
    fraction = Fraction(value).limit_denominator(1000)
    if fraction.denominator == 1:
        return str(fraction.numerator)
    return f"{fraction}" if abs(float(fraction) - value) < RTOL * abs(value) else f"{value:.4g}"


def _axes_of(local) -> tuple[int, ...]:
    if isinstance(local, Reduce):
        return tuple(local.axes)
    return _broadcast_axes(local.in_shape, local.out_shape)


def _broadcast_axes(in_shape, out_shape) -> tuple[int, ...]:
    """The axes of ``out_shape`` along which ``in_shape`` was repeated."""
    padded = (1,) * (len(out_shape) - len(in_shape)) + tuple(in_shape)
    return tuple(i for i, (a, b) in enumerate(zip(padded, out_shape)) if a == 1 and b != 1)


def _other_axes(local, incoming):
    """(axes, the edge's term computed over those axes) for each wrong choice of axes that
    still gives the right shape: spreading a reduction's adjoint back along another axis, or
    summing a broadcast's adjoint over another axis."""
    if isinstance(local, Reduce) and len(local.in_shape) > 1 and np.ndim(local.weights) == 0:
        right = tuple(local.axes)
        for axes in itertools.combinations(range(len(local.in_shape)), len(right)):
            kept = tuple(1 if i in axes else n for i, n in enumerate(local.in_shape))
            if axes == right or int(np.prod(kept)) != np.size(incoming):
                continue
            spread = np.broadcast_to(np.reshape(incoming, kept), local.in_shape)
            if local.weights == 1:
                yield axes, spread
            else:  # a mean: its 1/n counts along the wrong axis too
                yield axes, spread / int(np.prod([local.in_shape[a] for a in axes]))
    elif isinstance(local, Elementwise) and local.in_shape != local.out_shape:
        right = _broadcast_axes(local.in_shape, local.out_shape)
        full = np.broadcast_to(incoming * local.factor, local.out_shape)
        for axes in itertools.combinations(range(len(local.out_shape)), len(right)):
            if axes == right:
                continue
            summed = full.sum(axis=axes)
            if summed.size == int(np.prod(local.in_shape)):
                yield axes, summed.reshape(local.in_shape)


def _broadcasts(shape, target) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def _squeezed(shape) -> tuple[int, ...]:
    return tuple(n for n in shape if n != 1)


def _described(node: Node, names: dict) -> str:
    """``u₃ = add(u₂, b)`` (z, model.py:6)."""
    text = f"{node.label} = {node.call_text}" if node.inputs else f"the input {node.label}"
    name = names.get(node.id)
    where = f"{name}, {node.source}" if name and name != node.label else str(node.source)
    return f"{text} ({where})" if node.inputs else text


def _variable_names(graph) -> dict[int, str]:
    """node id → the variable the forward code assigns it to, read from its source line;
    inputs keep their names.

    On ``z = W @ x + b`` the add is z: the nodes a line makes whose operation is the
    statement's outermost one (``+`` here), except one that feeds another such node of the
    same line (the inner + of ``a + b + c``); so in a loop, ``h = np.tanh(W @ h)`` names
    every step's tanh h.  When the outermost operation is not known, the line's last node.
    """
    names = {node.id: node.name for node in graph.nodes if node.op == "input"}
    lines: dict[tuple, list[Node]] = {}
    for node in graph.nodes:
        if node.inputs:
            lines.setdefault((node.source.filename, node.source.lineno, node.call_path),
                             []).append(node)
    for (filename, lineno, _), made in lines.items():
        statement = _assignment(filename, lineno)
        if statement is None:
            continue
        name, op = statement
        results = [node for node in made if node.op == op]
        fed = {operand.id for node in results for operand in node.inputs}
        for node in [node for node in results if node.id not in fed] or made[-1:]:
            names[node.id] = name
    return names


_BINARY_OPS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide",
               ast.Pow: "power", ast.MatMult: "matmul"}
_CALL_OPS = {"dot": "matmul", "square": "power", "clip": "minimum", "outer": "multiply"}


def _assignment(filename: str, lineno: int) -> tuple[str, str | None] | None:
    """(``z``, the primitive of its outermost operation) for a line ``z = …`` or
    ``z += …``; None for anything else."""
    text = linecache.getline(filename, lineno).strip()
    try:
        statement = ast.parse(text).body[0]
    except (SyntaxError, IndexError):
        return None
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target, value = statement.targets[0], statement.value
    elif isinstance(statement, ast.AnnAssign):
        target, value = statement.target, statement.value
    elif isinstance(statement, ast.AugAssign):
        target = statement.target
        value = ast.BinOp(statement.target, statement.op, statement.value)
    else:
        return None
    if not isinstance(target, ast.Name):
        return None
    return target.id, _outermost_op(value)


def _outermost_op(expression) -> str | None:
    """The primitive an expression applies last: ``W @ x + b`` → add, ``np.tanh(u)`` →
    tanh, ``x.T`` → transpose; None when it is not one (a call of the user's own)."""
    if isinstance(expression, ast.BinOp):
        return _BINARY_OPS.get(type(expression.op))
    if isinstance(expression, ast.UnaryOp) and isinstance(expression.op, ast.USub):
        return "negative"
    if isinstance(expression, ast.Attribute) and expression.attr == "T":
        return "transpose"
    if isinstance(expression, ast.Subscript):
        return "index"
    if isinstance(expression, ast.Call):
        function = expression.func
        name = function.attr if isinstance(function, ast.Attribute) else getattr(
            function, "id", None)
        name = _CALL_OPS.get(name, name)
        return name if name in PRIMITIVES else None
    return None

