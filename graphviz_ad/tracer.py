"""Tracing: run an ordinary numpy function once and record every differentiable operation.

``trace(f, *args)`` wraps each input in a :class:`Tracer`, a stand-in for an array that
numpy hands back to us (``__array_ufunc__``, ``__array_function__``, operators, methods).
Each operation computes its value with numpy right away (define-by-run: ``if``, ``for``
and function calls simply run) and appends a :class:`Node` to the tape: the op's name, its
operand nodes in argument order, its value, its parameters and where in the user's code it
was called.  The tracer knows nothing about derivatives; those live in the primitive
table and are only looked up when someone asks for a Jacobian.

>>> import numpy as np
>>> g = trace(lambda x: np.sin(x ** 2), 1.5)
>>> [node.op for node in g.nodes]
['input', 'const', 'power', 'sin']
"""

from __future__ import annotations

import ast
import dis
import gc
import linecache
import os
import sys
import weakref
from dataclasses import dataclass
from inspect import Parameter, signature
from math import prod

import numpy as np

from .errors import ShapeError, TraceError, UnsupportedAttribute
from .graph import Graph
from .notation import constant_name, subscript, subscripted
from .primitives import PRIMITIVES, local_jacobian
from .safe_text import printable

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_NUMPY_DIR = os.path.dirname(np.__file__)


@dataclass(frozen=True)
class Source:
    """Where a node was made: a line of the user's code."""

    filename: str
    lineno: int
    function: str

    @property
    def line(self) -> str:
        """The text of that line, stripped (empty when the file cannot be read)."""
        return linecache.getline(self.filename, self.lineno).strip()

    def __str__(self) -> str:
        return f"{os.path.basename(self.filename)}:{self.lineno}"


@dataclass(frozen=True)
class Call:
    """One call of a user's function during tracing: the nodes it made can be grouped.

    ``index`` numbers the calls in the order they started (0 is the traced function
    itself); ``parent`` is the index of the caller, None for the traced function.
    """

    index: int
    function: str
    filename: str
    lineno: int  # the line of the call in the caller (the def line for the traced function)
    parent: int | None


class Node:
    """One recorded value: an input, a constant or the result of a primitive.

    Nodes hold data only (no closures), so a large scalar graph costs the garbage collector
    nothing extra.  ``inputs`` lists the operands in argument order: ``x * x`` lists x twice.
    """

    __slots__ = (
        "_calls", "_code", "_label", "_lineno", "_number", "ends_line", "id", "inputs", "name",
        "op", "params", "value"
    )

    def __init__(self, id, op, inputs, value, params, name, code, lineno, calls, number=0):
        self.id = id
        self.op = op
        self.inputs = inputs
        self.value = value
        self.params = params
        self.name = name
        self._code = code
        self._lineno = lineno
        self._calls = calls
        self._label = None  # made on first use: pictures ask for every label many times
        self._number = number  # 1, 2, … for the intermediate results in tape order; 0 for leaves
        # True unless the next node was made on the same line of the same call: only the
        # last node of a line can be the value a ``name = expr`` line assigns
        self.ends_line = True

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.value)

    @property
    def source(self) -> Source:
        return Source(self._code.co_filename, self._lineno, self._code.co_name)

    @property
    def call_path(self) -> tuple[int, ...]:
        """Indices of the user calls this node was made in, outermost first (see ``Call``)."""
        return self._calls

    @property
    def label(self) -> str:
        """The name rules and pictures use, as the paper writes them (u₁ = x², y = x + u₁):
        an input's name; a constant's value when it is a number, else the name the user's
        code gave the array (``target``) or ``c``; ``u₁``, ``u₂``, … for the intermediate
        results, numbered in tape order (leaves use up no numbers)."""
        if self._label is None:
            if self.name is not None:  # a name is shown as text: control characters escaped
                self._label = printable(self.name)
            elif self.op == "const":
                if np.ndim(self.value) == 0:
                    self._label = constant_name(self.value)
                else:
                    self._label = printable((self.params or {}).get("variable", "c"))
            else:
                self._label = subscript("u", self._number)
        return self._label

    @property
    def assigned(self) -> str | None:
        """The variable a line of the user's code assigned this result to: ``z`` for the last
        operation of ``z = w @ x + b``, so pictures can say ``z = u₂``.  Read from the source
        (:func:`assignment_names`); None when the line is not a simple one-line
        ``name = expr`` or this node is not the last one the line made."""
        if not self.inputs or not self.ends_line:
            return None
        name = assignment_names(self._code.co_filename).get(self._lineno)
        # ``u1 = x**2`` names u₁ by its own label: nothing to add
        return None if name is None or subscripted(name) == self.label else name

    @property
    def title(self) -> str:
        """The label with the source's name for it: ``z = u₂`` (or just ``u₂``)."""
        name = self.assigned
        return self.label if name is None else f"{printable(name)} = {self.label}"

    def labels(self) -> dict[str, str]:
        """Operand names for rule templates: x, y by position, out for this node."""
        names = {"out": self.label}
        for key, operand in zip("xy", self.inputs):
            names[key] = operand.label
        return names

    @property
    def call_text(self) -> str:
        """The operation as code, with its parameters: ``sum(u₃, axis=0)``, ``u₅[1:3]``."""
        operands = [operand.label for operand in self.inputs]
        params = self.params or {}
        if self.op == "index":
            return f"{operands[0]}[{params['text']}]"
        if self.op == "set":
            return f"{operands[0]}[{params['text']}] ← {operands[1]}"
        if self.op == "gather":
            return f"{params['call']}({operands[0]})"
        if self.op == "where":
            operands.insert(0, "c")
        if self.op == "einsum":  # einsum('ij,jk->ik', A, B)
            operands.insert(0, repr(params["subscripts"]))
        if self.op == "tensordot":
            operands.append(f"axes={params['axes']}")
        if "axis" in params and (self.op in ("concatenate", "stack") or
                                 len(params["axis"]) < len(self.inputs[0].shape)):
            axis = params["axis"]
            operands.append(f"axis={axis if isinstance(axis, int) else ','.join(map(str, axis))}")
        if params.get("keepdims"):
            operands.append("keepdims")
        if "axes" in params and len(params["axes"]) > 2:
            operands.append(f"axes={params['axes']}")
        if "shape" in params:
            operands.append(str(params["shape"]))
        return f"{self.op}({', '.join(operands)})"

    def describe(self) -> str:
        """The node and where it was made: ``u₁ = sqrt(x) at f.py:4 (`return np.sqrt(x)`)``."""
        text = f"{self.label} = {self.call_text}" if self.inputs else self.label
        line = self.source.line
        return f"{text} at {self.source}" + (f" (`{line}`)" if line else "")

    def jacobian(self, i: int):
        """The local Jacobian ∂self/∂self.inputs[i], a structured operator: looked up in the
        primitive table (:func:`graphviz_ad.primitives.local_jacobian`), never made here."""
        return local_jacobian(self, i)

    def __repr__(self) -> str:
        call = self.call_text if self.inputs else self.op
        return f"<Node {self.id} {self.label} = {call} shape={self.shape}>"


class _Tape:
    """The nodes of one trace in the order they were made, and where each came from."""

    def __init__(self, root_code):
        self.nodes: list[Node] = []
        self.calls: list[Call] = []
        self.root_code = root_code
        self.open = True
        self._frames: dict[int, tuple] = {}  # id(frame) -> (frame, call index): live frames only
        self._last_frame = None
        self._last_where = (None, 0, ())
        self._constants: dict[int, tuple] = {}  # id(array) -> (array, node): one node per array
        self.views: dict[int, _View] = {}  # id(traced view) -> what it is a view of
        self.roots: dict[int, _Root] = {}  # id(traced array with views) -> its views
        self.aliased_inputs: set[int] = set()  # ids of inputs that share memory in the caller
        self.refused_store = None  # (frame, instruction, TraceError) of a refused a[...] = x
        self.intermediates = 0  # results recorded so far: u₁, u₂, …

    def add(self, op, inputs, value, params=None, name=None, where=None) -> Node:
        code, lineno, calls = where if where is not None else self.where()
        nodes = self.nodes
        if op not in ("input", "const"):
            self.intermediates += 1
        node = Node(len(nodes), op, inputs, value, params, name, code, lineno, calls,
                    self.intermediates if op not in ("input", "const") else 0)
        if nodes:
            last = nodes[-1]
            last.ends_line = not (last._lineno == lineno and last._code is code
                                  and last._calls == calls)
        nodes.append(node)
        return node

    def where(self):
        """The innermost frame of the user's code that is running, and its call path."""
        frame = sys._getframe(2)  # the caller (1) is graphviz-ad itself: start above it
        internal = _INTERNAL  # inlined _is_internal: this runs once per recorded operation
        while True:
            filename = frame.f_code.co_filename
            known = internal.get(filename)
            if known is None:
                known = _is_internal(filename)
            if not known:
                break
            frame = frame.f_back
        if frame is self._last_frame:  # the usual case: the same function as the last op
            code, _, calls = self._last_where
            where = (code, frame.f_lineno, calls)
        else:
            where = (frame.f_code, frame.f_lineno, self._call_path(frame))
            self._last_frame = frame
        self._last_where = where
        return where

    def _call_path(self, frame) -> tuple[int, ...]:
        """The calls from the traced function down to ``frame``, as indices into ``calls``."""
        frames = []
        while frame is not None and frame.f_code is not self.root_code:
            # comprehensions are frames on some Python versions, not calls of the user's
            if frame.f_code.co_name not in _COMPREHENSIONS:
                frames.append(frame)
            frame = frame.f_back
        path: list[int] = []
        for frame in reversed(frames):
            entry = self._frames.get(id(frame))
            if entry is None or entry[0] is not frame:
                entry = (frame, self._new_call(frame, path[-1] if path else None))
                self._frames[id(frame)] = entry
            path.append(entry[1])
        return tuple(path)

    def _new_call(self, frame, parent: int | None) -> int:
        code = frame.f_code
        # the traced function is located by its def line, a nested call by its call site
        caller = frame.f_back
        lineno = code.co_firstlineno if parent is None else caller.f_lineno
        self.calls.append(Call(len(self.calls), code.co_name, code.co_filename, lineno, parent))
        return len(self.calls) - 1

    def constant(self, value, where) -> Node:
        """A node for a plain operand, holding a read-only snapshot of it: changing the array
        afterwards changes nothing in the graph.  The same array used again unchanged is the
        same node; changed in between (a one-hot buffer reused in a loop), a new one.

        Python numbers stay Python numbers, so that numpy treats them as weak scalars
        (``float32_array * 2.0`` stays float32, as it would without tracing)."""
        if type(value) in (int, float):
            return self.add("const", (), value, where=where)
        if isinstance(value, np.ndarray):
            if isinstance(value, buffers.TracedBuffer):  # a buffer a traced value was written to
                return buffers.handle_of(value).node
            known = self._constants.get(id(value))
            if known is not None and known[0]() is value and _unchanged(value, known[1].value):
                return known[1]
            array = snapshot(value)
        else:
            array = np.array(value)  # a list, a numpy scalar: a new array of our own
            array.setflags(write=False)
        if array.dtype.kind not in "biuf":
            raise TraceError(
                f"an operand of dtype {array.dtype} at {_location(where)} cannot be traced: "
                "graphviz-ad differentiates real floating-point arrays only"
            )
        # the variable holding it names it in pictures; ``name`` stays an input's name only
        name = self._name_of(value) if array.ndim and isinstance(value, np.ndarray) else None
        node = self.add("const", (), array if array.ndim else array[()],
                        params={"variable": name} if name else None, where=where)
        if isinstance(value, np.ndarray):  # weakly: holding it would keep a view alive
            self._constants[id(value)] = (weakref.ref(value), node)
        return node

    def _name_of(self, array) -> str | None:
        """The one variable of the user's running function (its locals, then its module's
        globals) bound to ``array`` itself, so a constant reads ``target`` rather than ``c``;
        None when no name or several names hold it."""
        frame = self._last_frame
        if frame is None:
            return None
        for scope in (frame.f_locals, frame.f_globals):
            names = [name for name, value in scope.items() if value is array]
            if names:
                return names[0] if len(names) == 1 and names[0].isidentifier() else None
        return None

    def close(self) -> None:
        self.open = False
        self._frames.clear()  # release the user's frames (and their locals)
        self._constants.clear()
        self.views.clear()
        self.roots.clear()
        self.refused_store = None
        self._last_frame = None

    def forget_view(self, view: _View) -> None:
        """The weak reference's callback: a traced view was freed."""
        if self.views.get(view.key) is view:
            del self.views[view.key]


_ASSIGNMENTS: dict[str, tuple] = {}  # filename -> (modification time, {line: name})
# Values that are not one array even when built from traced ones: their last node is not it
_NOT_ONE_VALUE = (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp, ast.SetComp,
                  ast.DictComp, ast.GeneratorExp, ast.Lambda, ast.Starred)


def assignment_names(filename: str) -> dict[int, str]:
    """The lines of a Python file that assign one expression to one name, ``{line: name}``:
    ``z = w @ x + b`` on line 7 gives ``{7: "z"}``.  Only one-line statements alone on their
    line count; ``a, b = …``, ``a.x = …``, ``a[0] = …``, ``a += …`` and lists, tuples or
    comprehensions do not.  Read once per file (again if the file changes); an unreadable
    file has none."""
    try:
        mtime = os.stat(filename).st_mtime
    except OSError:
        mtime = None
    known = _ASSIGNMENTS.get(filename)
    if known is not None and known[0] == mtime:
        return known[1]
    names: dict[int, str] = {}
    statements_on: dict[int, int] = {}
    try:
        tree = ast.parse("".join(linecache.getlines(filename)))
    except (SyntaxError, ValueError):
        tree = None
    for statement in ast.walk(tree) if tree is not None else ():
        if not isinstance(statement, ast.stmt):
            continue
        statements_on[statement.lineno] = statements_on.get(statement.lineno, 0) + 1
        if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
                and statement.lineno == statement.end_lineno
                and not isinstance(statement.value, _NOT_ONE_VALUE)):
            names[statement.lineno] = statement.targets[0].id
    names = {line: name for line, name in names.items() if statements_on[line] == 1}
    _ASSIGNMENTS[filename] = (mtime, names)
    return names


def snapshot(array: np.ndarray) -> np.ndarray:
    """A read-only copy of a user's array, taken when the graph records it.

    >>> a = np.ones(2); s = snapshot(a); a[0] = 5.0
    >>> s, s.flags.writeable
    (array([1., 1.]), False)

    A large array is copied into a buffer kept from an earlier trace whose snapshots have
    all been freed (see ``_pooled``): fresh memory costs a page fault per 4 KiB, ~1 ms for
    a 784×256 weight matrix, five times the copy itself.
    """
    if array.nbytes >= _POOLED_FROM and array.flags.c_contiguous and array.dtype.isnative:
        copy = _pooled(array.shape, array.dtype).view()
        np.copyto(copy, array)
    else:
        copy = np.array(array, copy=True, subok=False)
    copy.setflags(write=False)
    return copy


_POOLED_FROM = 1 << 16  # bytes: below this the allocator's own free lists are as quick
_POOL_LIMIT = 1 << 28  # bytes kept for snapshots at most
_pool: dict[tuple, list[np.ndarray]] = {}  # (shape, dtype) -> buffers, each private to it


def _pooled(shape, dtype) -> np.ndarray:
    """A buffer for a snapshot: one no snapshot refers to any more (only the pool holds it,
    as every view of it holds its base), or a new one while the pool is under its limit."""
    buffers = _pool.setdefault((shape, dtype), [])
    for buffer in buffers:
        if sys.getrefcount(buffer) == 3:  # the list, this loop's name, the call's argument
            return buffer
    buffer = np.empty(shape, dtype)
    if sum(b.nbytes for bs in _pool.values() for b in bs) + buffer.nbytes <= _POOL_LIMIT:
        buffers.append(buffer)
    return buffer


def _unchanged(array: np.ndarray, recorded) -> bool:
    """Whether ``array`` still holds the values of its snapshot, bit for bit."""
    if array.shape != np.shape(recorded) or array.dtype != np.result_type(recorded):
        return False
    if array.nbytes <= _SMALL:  # comparing the bytes is 20× cheaper than np.array_equal
        return array.tobytes() == recorded.tobytes()
    return bool(np.array_equal(array, recorded, equal_nan=array.dtype.kind in "fc"))


_SMALL = 1 << 16


_INTERNAL: dict[str, bool] = {}
_COMPREHENSIONS = frozenset({"<listcomp>", "<genexpr>", "<dictcomp>", "<setcomp>"})

# Callables that receive every Graph that trace() returns: graphviz_ad.collect listens here
# to find the graphs a user's script built.
listeners: list = []


def _is_internal(filename: str) -> bool:
    """Frames of graphviz-ad itself and of numpy are skipped when looking for the user's line."""
    known = _INTERNAL.get(filename)
    if known is None:
        folder = os.path.dirname(os.path.abspath(filename))
        known = folder == _PACKAGE_DIR or folder.startswith(_NUMPY_DIR)
        _INTERNAL[filename] = known
    return known


def _location(where) -> str:
    code, lineno, _ = where
    return f"{os.path.basename(code.co_filename)}:{lineno}"


class _NoValue:
    """The default of an option that was not given (numpy shows it as ``<no value>``)."""

    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE = _NoValue()

# The ndarray attributes a Tracer does not have: asking for one is an UnsupportedOperation
# naming the user's line, not a bare AttributeError.
_NDARRAY_NAMES = frozenset(name for name in dir(np.ndarray) if not name.startswith("_"))


class Tracer:
    """What the traced function sees instead of an array: numpy routes every operation on it
    back to graphviz-ad, which computes the value and records a node.

    It behaves like a float array: operators, ufuncs, numpy functions, ``.T``, ``.sum()``,
    ``.reshape()``, indexing, and writes (``x[i] = v``, ``x += 1``), which move this very
    object to a new node, so that every alias of it sees the write as in numpy (see
    :func:`_write`).  Comparisons give plain boolean arrays (they have no derivative), so
    ``if x > 0:`` just runs.  Turning it into a plain number or array
    (``float(x)``, ``np.asarray(x)``) is refused, since the result would silently fall out of
    the graph; ``x.value`` is the explicit way to peek at the number.
    """

    __slots__ = ("__weakref__", "_tape", "node")
    __array_priority__ = 1000  # ndarray ⊕ Tracer defers to the Tracer

    def __init__(self, node: Node, tape: _Tape):
        self.node = node
        self._tape = tape

    # -- array-like attributes -----------------------------------------------------------
    @property
    def value(self):
        return self.node.value

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.node.value)

    @property
    def ndim(self) -> int:
        return np.ndim(self.node.value)

    @property
    def size(self) -> int:
        return np.size(self.node.value)

    @property
    def dtype(self):
        return np.result_type(self.node.value)

    @property
    def T(self):
        return dispatch.transpose(self)

    def __len__(self) -> int:
        return len(self.node.value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        return bool(self.node.value)

    def __format__(self, spec: str) -> str:
        return format(self.node.value, spec)

    def __repr__(self) -> str:
        return f"Tracer({self.node.label}, value={self.node.value!r})"

    # -- numpy protocols -------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return dispatch.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return dispatch.function(func, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        raise _escape(self, "np.asarray() / np.array()", "inside the traced function call "
                      "np.array as np.array (a name bound before trace() is numpy's own), or "
                      "build arrays with np.stack or np.concatenate, or read .value on purpose")

    def __float__(self):
        raise _escape(self, "float()", "use numpy functions (np.exp, not math.exp)")

    def __int__(self):
        raise _escape(self, "int()", "read .value on purpose if the number is wanted")

    __index__ = __int__
    __complex__ = __float__

    def item(self, *args):
        raise _escape(self, ".item()", "read .value on purpose if the number is wanted")

    def tolist(self):
        raise _escape(self, ".tolist()", "read .value on purpose if the numbers are wanted")

    def __setitem__(self, key, value):
        """``x[key] = value``: a "set" node, x with those entries overwritten.

        Python runs ``x[key] += v`` as ``t = x[key]; t += v; x[key] = t``; when t is a view
        of x, ``t += v`` has already written into x, and the final store changes nothing."""
        parts, text = dispatch.index_parts(self, key)
        value = dispatch.fit_value(self, parts, value)
        view = self._tape.views.get(id(value))
        if view is not None and view.root is self and _same_index(view.steps, parts):
            return  # x[key] = x[key]: numpy copies the elements onto themselves
        result = apply("set", (self, value), {"index": parts, "text": text})
        _write(self, result.node, parts)

    # -- in-place operators: the result is written into this array, as numpy does -----------
    def _update(self, operator: str, result: Tracer):
        if result.shape != self.shape:
            raise ShapeError(
                f"x {operator}= y at {_location(self._tape.where())}: the result has shape "
                f"{result.shape}, which does not fit into x of shape {self.shape} (numpy "
                "cannot write a broadcast result into x in place); write x = x "
                f"{operator} y for a new array"
            )
        if self.ndim == 0 and id(self) not in self._tape.views:
            return result  # a number (a numpy scalar) is immutable: x += 1 makes a new one
        _write(self, result.node, None)
        return self

    def __iadd__(self, other):
        return self._update("+", apply("add", (self, other)))

    def __isub__(self, other):
        return self._update("-", apply("subtract", (self, other)))

    def __imul__(self, other):
        return self._update("*", apply("multiply", (self, other)))

    def __itruediv__(self, other):
        return self._update("/", apply("divide", (self, other)))

    def __ipow__(self, other):
        return self._update("**", apply("power", (self, other)))

    def __imatmul__(self, other):
        return self._update("@", dispatch.matmul(self, other))

    def __ifloordiv__(self, other):
        raise TraceError(
            f"x //= y at {_location(self._tape.where())} would turn a traced array into a "
            "piecewise-constant one in place; write z = x // y for a plain array (no derivative)"
        )

    __imod__ = __ifloordiv__

    # -- operators ---------------------------------------------------------------------------
    def __add__(self, other):
        return apply("add", (self, other))

    def __radd__(self, other):
        return apply("add", (other, self))

    def __sub__(self, other):
        return apply("subtract", (self, other))

    def __rsub__(self, other):
        return apply("subtract", (other, self))

    def __mul__(self, other):
        return apply("multiply", (self, other))

    def __rmul__(self, other):
        return apply("multiply", (other, self))

    def __truediv__(self, other):
        return apply("divide", (self, other))

    def __rtruediv__(self, other):
        return apply("divide", (other, self))

    def __pow__(self, other):
        return apply("power", (self, other))

    def __rpow__(self, other):
        return apply("power", (other, self))

    def __matmul__(self, other):
        return dispatch.matmul(self, other)

    def __rmatmul__(self, other):
        return dispatch.matmul(other, self)

    def __neg__(self):
        return apply("negative", (self,))

    def __pos__(self):
        return Tracer(self.node, self._tape)  # +x is a new array in numpy: not an alias

    def __abs__(self):
        return apply("abs", (self,))

    def __floordiv__(self, other):  # piecewise constant: recorded with derivative 0
        return apply("floor_divide", (self, other))

    def __rfloordiv__(self, other):
        return apply("floor_divide", (other, self))

    def __mod__(self, other):
        return apply("remainder", (self, other))

    def __rmod__(self, other):
        return apply("remainder", (other, self))

    def __divmod__(self, other):
        return self // other, self % other

    def __rdivmod__(self, other):
        return other // self, other % self

    def __round__(self, ndigits=None):
        return dispatch.around(self, ndigits or 0)

    def __getitem__(self, key):
        return dispatch.index(self, key)

    def __lt__(self, other):
        return np.less(self.node.value, plain(other))

    def __le__(self, other):
        return np.less_equal(self.node.value, plain(other))

    def __gt__(self, other):
        return np.greater(self.node.value, plain(other))

    def __ge__(self, other):
        return np.greater_equal(self.node.value, plain(other))

    def __eq__(self, other):
        return np.equal(self.node.value, plain(other))

    def __ne__(self, other):
        return np.not_equal(self.node.value, plain(other))

    __hash__ = None  # like an ndarray

    # -- methods -----------------------------------------------------------------------------
    # The reductions take numpy's arguments in numpy's order: x.sum(0, float) is axis 0 with
    # dtype float, as for an ndarray.  Options a trace cannot honour are refused by name.
    def sum(self, axis=None, dtype=None, out=None, keepdims=False, initial=NO_VALUE,
            where=True):
        return dispatch.reduce_sum(self, axis, dtype, out, keepdims, initial, where)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
        return dispatch.reduce_mean(self, axis, dtype, out, keepdims, where=where)

    def max(self, axis=None, out=None, keepdims=False, initial=NO_VALUE, where=True):
        return dispatch.reduce_max(self, axis, out, keepdims, initial, where)

    def min(self, axis=None, out=None, keepdims=False, initial=NO_VALUE, where=True):
        return dispatch.reduce_min(self, axis, out, keepdims, initial, where)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False, initial=NO_VALUE,
             where=True):
        return dispatch.reduce_prod(self, axis, dtype, out, keepdims, initial, where)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
            mean=NO_VALUE):
        return dispatch.var(self, axis, dtype, out, ddof, keepdims, where=where, mean=mean)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
            mean=NO_VALUE):
        return dispatch.std(self, axis, dtype, out, ddof, keepdims, where=where, mean=mean)

    def cumsum(self, axis=None, dtype=None, out=None):
        return dispatch.cumsum(self, axis, dtype, out)

    def cumprod(self, axis=None, dtype=None, out=None):
        return dispatch.cumprod(self, axis, dtype, out)

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        return dispatch.matrix_trace(self, offset, axis1, axis2, dtype, out)

    def round(self, decimals=0, out=None):
        return dispatch.around(self, decimals, out)

    def clip(self, min=None, max=None, out=None, **kwargs):
        if out is not None:
            kwargs["out"] = out
        return dispatch.clip(self, min, max, **kwargs)

    def conj(self):
        return self  # the conjugate of a real number is itself

    conjugate = conj

    @property
    def real(self):
        return self

    @property
    def imag(self):
        return apply("imag", (self,))

    # ndarray's index-valued and boolean reductions: plain values, they have no derivative
    def argmax(self, axis=None, out=None, *, keepdims=False):
        return np.argmax(self.node.value, axis, out, keepdims=keepdims)

    def argmin(self, axis=None, out=None, *, keepdims=False):
        return np.argmin(self.node.value, axis, out, keepdims=keepdims)

    def any(self, axis=None, out=None, keepdims=False, *, where=True):
        return np.any(self.node.value, axis, out, keepdims, where=where)

    def all(self, axis=None, out=None, keepdims=False, *, where=True):
        return np.all(self.node.value, axis, out, keepdims, where=where)

    def reshape(self, *shape, order="C", copy=None):
        # copy= only decides whether numpy may share memory: recorded values never change
        return dispatch.reshape(self, shape[0] if len(shape) == 1 else shape, order)

    def transpose(self, *axes):
        return dispatch.transpose(self, axes[0] if len(axes) == 1 else (axes or None))

    def ravel(self, order="C"):
        return dispatch.reshape(self, -1, order)

    def flatten(self, order="C"):
        """Always a copy in numpy (ravel may be a view): a new array, not an alias."""
        return Tracer(dispatch.reshape(self, -1, order).node, self._tape)

    def squeeze(self, axis=None):
        return dispatch.squeeze(self, axis)

    def dot(self, other, /, out=None):
        dispatch._check_options("dot", self, out=out)
        return dispatch.dot(self, other)

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        """``astype(float)`` keeps the derivative (to another float type it is a cast node,
        the identity); ``astype(int)`` or ``astype(bool)`` gives a plain array: a constant,
        with no derivative, like a comparison.  Like numpy's, the result is a new array
        unless ``copy=False`` and the type is already right."""
        result = dispatch.astype(self, dtype)
        return Tracer(result.node, self._tape) if copy and result is self else result

    def copy(self, order="C"):
        """A "copy" node (the identity): a new array that later writes to x do not touch."""
        return apply("copy", (self,))

    def __getattr__(self, name):
        """An ndarray attribute the Tracer does not have is refused with the user's line."""
        if name in _NDARRAY_NAMES and not name.startswith("__"):  # numpy probes dunders
            raise UnsupportedAttribute(
                f"ndarray.{name} on the traced value {self.node.label} at "
                f"{_location(self._tape.where())} has no derivative rule in graphviz-ad; "
                "write it with supported numpy functions"
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def _escape(tracer: Tracer, what: str, hint: str) -> TraceError:
    tape = tracer._tape
    where = tape.where()
    frame = tape._last_frame  # the user's frame, found by where()
    if frame is not None and frame.f_code.co_code[frame.f_lasti] == _STORE_SUBSCR:
        error = TraceError(
            f"a[...] = {tracer.node.label} at {_location(where)} writes a traced value into "
            "a plain numpy array made outside the traced function (or by a constructor bound "
            "before tracing, such as `from numpy import zeros`): numpy would keep only its "
            "numbers and lose the derivative. Make the array inside the function with "
            "np.zeros / np.empty / np.ones / np.full (it then becomes traced), or collect the "
            "values in a list and np.stack them"
        )
        # numpy may replace this error by its own ValueError ("setting an array element
        # with a sequence"); trace() puts it back (see _refused_store)
        tape.refused_store = (frame, frame.f_lasti, error)
        return error
    return TraceError(
        f"{what} of the traced value {tracer.node.label} at {_location(where)} "
        f"would cut it out of the graph and lose its derivative; {hint}"
    )


_STORE_SUBSCR = dis.opmap["STORE_SUBSCR"]


def plain(value):
    """The numbers behind a traced value (for comparisons and other non-differentiable ops)."""
    if isinstance(value, Tracer):
        return value.node.value
    if isinstance(value, buffers.TracedBuffer):
        return buffers.handle_of(value).node.value
    return value


def apply(op: str, operands, params=None) -> Tracer:
    """Compute ``op`` on the operands' values and record the node; plain operands become
    constants.  Shape errors name the op, the shapes and the user's line.

    With no traced operand at all (``np.vstack([np.ones(3), x])`` reshapes the plain
    ``np.ones(3)`` first) there is nothing to record: the plain result is returned."""
    tape = _tape_of(operands)
    if tape is None:
        forward = PRIMITIVES[op].forward
        return forward(*operands, **params) if params else forward(*operands)
    where = tape.where()
    nodes = tuple([
        operand.node if isinstance(operand, Tracer) else tape.constant(operand, where)
        for operand in operands
    ])
    forward = PRIMITIVES[op].forward
    values = [node.value for node in nodes]
    try:
        value = forward(*values, **params) if params else forward(*values)
    except np.linalg.LinAlgError as error:  # a singular or indefinite matrix, not a shape
        raise np.linalg.LinAlgError(
            f"{op} at {_location(where)} ({_line(where)}): {error}"
        ) from None
    except ValueError as error:
        shapes = " and ".join(str(np.shape(node.value)) for node in nodes)
        raise ShapeError(
            f"{op}: operands of shapes {shapes} do not fit together at {_location(where)} "
            f"({_line(where)}): {error}"
        ) from None
    if type(value) is np.ndarray:
        value.setflags(write=False)  # the graph's own array: read-only, so never copied
    return Tracer(tape.add(op, nodes, value, params, where=where), tape)


# -- aliasing ---------------------------------------------------------------------------------
# In numpy a basic index (x[1:3], x[0] of a matrix), a transpose and most reshapes are views:
# they share x's memory, so a write into one shows in the other.  A traced view remembers
# the array it views (its "root", which is no view itself) and the steps that made it; a
# write into the root or into any view of it is carried to all the others that share
# written elements.  Whether numpy made a view is read off the recorded values, which have
# numpy's own memory layout: a reshape numpy has to copy shares no memory with its input.


class _View(weakref.ref):
    """A weak reference to a traced view, with the facts that make it one: ``root`` and the
    ``steps`` from it ((op, params) pairs of index, reshape and transpose)."""

    __slots__ = ("key", "root", "steps")


class _Root:
    """The views taken of one traced array (weakly: dead ones are dropped on a write)."""

    __slots__ = ("array", "views")

    def __init__(self, root: Tracer):
        self.array = weakref.ref(root)
        self.views: list[_View] = []


def note_view(base: Tracer, view: Tracer, op: str, params: dict) -> None:
    """Remember that ``view`` (just made from ``base`` by ``op``) is a view of the same
    memory in numpy, unless numpy copied (a scalar ``x[0]``, a reshape of a transpose)."""
    if not np.may_share_memory(view.node.value, base.node.value):
        return  # an array of its own
    tape = base._tape
    known = tape.views.get(id(base))
    root = base if known is None else known.root
    entry = tape.roots.get(id(root))
    if entry is None or entry.array() is not root:  # new, or an id reused by a new array
        entry = tape.roots[id(root)] = _Root(root)
    reference = _View(view, tape.forget_view)
    reference.key = id(view)
    reference.root = root
    reference.steps = (() if known is None else known.steps) + ((op, params),)
    tape.views[id(view)] = reference
    entry.views.append(reference)


def _positions(shape, steps, key=None) -> np.ndarray:
    """The flat positions in a root shaped ``shape`` of the elements that ``steps`` (and
    then ``key``) select."""
    positions = np.arange(prod(shape)).reshape(shape)
    for op, params in steps:
        positions = _step(positions, op, params)
    return positions if key is None else positions[key]


def _same_index(steps, parts) -> bool:
    """Whether a view made by ``steps`` is exactly ``x[parts]`` (basic indices only)."""
    if len(steps) != 1 or steps[0][0] != "index":
        return False
    if any(isinstance(part, np.ndarray) for part in parts):
        return False
    return steps[0][1]["index"] == parts


def _step(array: np.ndarray, op: str, params: dict) -> np.ndarray:
    """One view step applied to a plain array (to the positions of the elements)."""
    if op == "index":
        return array[params["index"]]
    if op == "reshape":
        return array.reshape(params["shape"])
    return array.transpose(params["axes"])


def _write(handle: Tracer, node: Node, key) -> None:
    """Point ``handle`` at ``node``, the result of writing ``key`` (None: all of it) into it,
    and bring every array sharing its memory up to date, as numpy would see them.

    A write into a view is written on into the array it views (a "set" node through each
    step back to the root); every other live view holding a written element is then read
    again from the root.  A view whose elements were not written keeps its node: its
    values are still the root's."""
    tape = handle._tape
    known = tape.views.get(id(handle))
    root = handle if known is None else known.root
    if id(root) in tape.aliased_inputs:
        raise TraceError(
            f"a write into {handle.node.label} at {_location(tape.where())}: this input shares "
            "its memory with another input in the caller, so numpy would change both; pass "
            "copies (x.copy()) to trace()"
        )
    handle.node = node
    if known is not None:
        root.node = _write_back(tape, root.node, known.steps, node)
    entry = tape.roots.get(id(root))
    if entry is None or entry.array() is not root:
        return
    entry.views = [view for view in entry.views if view() is not None]
    others = [view for view in entry.views if view() is not handle]
    if not others:
        return
    shape = root.shape
    written = np.zeros(prod(shape), dtype=bool)
    written[np.ravel(_positions(shape, () if known is None else known.steps, key))] = True
    for view in others:
        target = view()
        if target is not None and written[np.ravel(_positions(shape, view.steps))].any():
            target.node = _read(root, view.steps)


def _read(root: Tracer, steps) -> Node:
    """The view that ``steps`` make of root's current value, recorded afresh."""
    current = root
    for op, params in steps:
        current = apply(op, (current,), params)
    return current.node


def _write_back(tape: _Tape, root_node: Node, steps, new_node: Node) -> Node:
    """The root after its view (reached by ``steps``) became ``new_node``: each step
    undone in turn, an index by a "set" into the array it was taken from."""
    bases = [Tracer(root_node, tape)]
    for op, params in steps[:-1]:
        bases.append(apply(op, (bases[-1],), params))
    current = Tracer(new_node, tape)
    for (op, params), base in zip(reversed(steps), reversed(bases)):
        if op == "index":
            current = apply("set", (base, current), params)
        elif op == "reshape":
            current = apply("reshape", (current,), {"shape": base.shape})
        else:
            inverse = tuple(int(axis) for axis in np.argsort(params["axes"]))
            current = apply("transpose", (current,), {"axes": inverse})
    return current.node


def _line(where) -> str:
    code, lineno, _ = where
    return linecache.getline(code.co_filename, lineno).strip()


def _tape_of(operands) -> _Tape | None:
    """The trace the traced operands belong to, found among all of them (None: no operand
    is traced)."""
    tape = None
    for operand in operands:
        if isinstance(operand, Tracer):
            if tape is None:
                tape = operand._tape
            elif operand._tape is not tape:
                raise TraceError("values from two different traces were combined; trace one "
                                 "function that computes everything instead of nesting traces")
    if tape is not None and not tape.open:
        raise TraceError("a traced value was used after its trace() finished; use graph.nodes "
                         "and their .value instead")
    return tape


def trace(f, *args, wrt=None, **kwargs):
    """Run ``f(*args, **kwargs)`` once and return its computation :class:`Graph`.

    Every floating-point argument becomes a named input (its parameter's name; the items of
    a list, tuple or dict of arrays become ``params[0]``, ``params['W']``…).  Integer and
    boolean arguments are constants, passed to ``f`` as they are, so labels, masks and
    indices work as written (``p[np.arange(n), y]``); other arguments (strings, flags,
    callables) are passed through too.  ``f`` must return one array: the output to
    differentiate.

    ``wrt`` (keyword-only, trace's own: ``f`` sees every other keyword) names the inputs to
    differentiate, by input name or by parameter (``wrt="p"`` takes ``p['W']`` and
    ``p['b']``); the other float arguments are constants, drawn with their names.

    While ``f`` runs, ``np.array``, ``np.asarray``, ``np.asanyarray``, ``np.stack``,
    ``np.r_`` and ``np.c_`` accept lists holding traced values (``dispatch.numpy_builders``).

    >>> import numpy as np
    >>> g = trace(lambda w, x, b: np.maximum(0, w @ x + b),
    ...           np.array([1., -2., .5]), np.array([3., 1., 2.]), 0.25)
    >>> float(g.value), g.grad("b")
    (2.25, 1.0)
    >>> list(trace(lambda w, x, b: w @ x + b, np.ones(2), np.ones(2), 1.0, wrt="w").inputs)
    ['w']
    """
    bound = signature(f).bind(*args, **kwargs)
    tape = _Tape(sys._getframe(0).f_code)
    code = getattr(f, "__code__", tape.root_code)
    origin = (code, code.co_firstlineno, ())
    inputs: dict = {}
    given: list = []  # (the caller's array, its traced handle), to find shared memory
    chosen = _chosen(wrt)
    offered: list[str] = []  # every float argument's name, to check wrt against

    def make_input(name, value):
        array = _as_float(name, value)
        offered.append(name)
        if chosen is not None and not chosen.intersection((name, name.split("[")[0])):
            held = tape.add("const", (), array, name=name, where=origin)
            if isinstance(value, np.ndarray):  # the same array used in f is this node
                tape._constants[id(value)] = (weakref.ref(value), held)
            return value
        node = tape.add("input", (), array, name=name, where=origin)
        inputs[name] = node
        handle = Tracer(node, tape)
        given.append((value, handle))
        return handle

    kinds = {name: parameter.kind for name, parameter in bound.signature.parameters.items()}
    for name, value in list(bound.arguments.items()):
        if kinds[name] is Parameter.VAR_POSITIONAL:  # *args: args[0], args[1], …
            value = tuple(_wrap_argument(f"{name}[{i}]", item, make_input)
                          for i, item in enumerate(value))
        elif kinds[name] is Parameter.VAR_KEYWORD:  # **kwargs: each by its keyword
            value = {key: _wrap_argument(key, item, make_input) for key, item in value.items()}
        else:
            value = _wrap_argument(name, value, make_input)
        bound.arguments[name] = value
    _note_shared_inputs(tape, given)
    _check_wrt(chosen, offered, bound.arguments, _name(f))
    collecting = gc.isenabled()  # paused while recording: see graphviz_ad.gc_pause
    gc.disable()
    try:
        buffers.install()
        try:
            with dispatch.numpy_builders():
                result = f(*bound.args, **bound.kwargs)
        except ValueError as error:
            refused = _refused_store(tape, error)
            if refused is None:
                raise
            raise refused from None
        finally:
            buffers.uninstall()
        if isinstance(result, buffers.TracedBuffer):
            result = buffers.handle_of(result)
        if isinstance(result, Tracer):
            if result._tape is not tape:
                raise TraceError(f"{_name(f)} returned a value traced by another trace()")
            output = result.node
        elif isinstance(result, (tuple, list, dict)):
            raise TraceError(f"{_name(f)} returned a {type(result).__name__}; return one array, "
                             "the output to differentiate")
        elif result is None:
            raise TraceError(f"{_name(f)} returned None; return one array, the output to "
                             "differentiate")
        else:
            output = tape.constant(result, origin)
    finally:
        tape.close()
        if collecting:
            gc.enable()
    graph = Graph(tape.nodes, inputs, output, tape.calls, _name(f), _caller(sys._getframe(1)))
    for listener in tuple(listeners):
        listener(graph)
    return graph


def _caller(frame) -> Source:
    """The line that called ``trace()`` (past graphviz-ad's own frames), so that graphs of
    the same function traced twice can be told apart: ``neuron.py:27``."""
    while frame.f_back is not None and os.path.dirname(
            os.path.abspath(frame.f_code.co_filename)) == _PACKAGE_DIR:
        frame = frame.f_back
    return Source(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


def _refused_store(tape: _Tape, error: ValueError):
    """The TraceError numpy replaced by ``error`` when the user's ``a[...] = x`` wrote a
    traced x into a plain array (numpy reports any failed conversion there as "setting an
    array element with a sequence"), or None when ``error`` came from elsewhere."""
    if tape.refused_store is None:
        return None
    frame, instruction, refusal = tape.refused_store
    tb = error.__traceback__
    while tb.tb_next is not None and not _is_internal(tb.tb_next.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return refusal if tb.tb_frame is frame and tb.tb_lasti == instruction else None
def _chosen(wrt) -> frozenset | None:
    """``wrt`` as a set of names (None: every float argument is an input)."""
    if wrt is None:
        return None
    names = (wrt,) if isinstance(wrt, str) else tuple(wrt)
    if not names or not all(isinstance(name, str) for name in names):
        raise TypeError(f"wrt= takes an input's name or a tuple of names, not {wrt!r}")
    return frozenset(names)


def _check_wrt(chosen, offered, arguments, function: str) -> None:
    """Every name in ``wrt`` must pick a float argument: a typo is an error, not a zero."""
    if chosen is None:
        return
    for name in sorted(chosen):
        if any(name in (candidate, candidate.split("[")[0]) for candidate in offered):
            continue
        if name in arguments:
            raise TraceError(f"wrt={name!r}: argument {name!r} of {function} holds no "
                             "floating-point values (integers and booleans are constants); "
                             f"pass {name}.astype(float) to differentiate it")
        raise TraceError(f"wrt={name!r} is not an argument of {function}; its float "
                         f"arguments: {offered}")


def _name(f) -> str:
    return getattr(f, "__name__", type(f).__name__)


def _traceable(value) -> bool:
    """Floating-point data becomes an input; integers and booleans stay constants.  (Other
    arrays, complex or object, are offered too, so that ``_as_float`` refuses them.)"""
    if isinstance(value, (bool, int, np.bool_, np.integer)):
        return False
    if isinstance(value, np.ndarray):
        return value.dtype.kind not in "biu"
    return isinstance(value, (float, np.number))


def _wrap_argument(name, value, make_input):
    if _traceable(value):
        return make_input(name, value)
    if isinstance(value, (list, tuple)) and any(_traceable(item) for item in value):
        numbers = (int, float, np.number)
        if all(isinstance(item, numbers) and not isinstance(item, bool) for item in value):
            return make_input(name, np.asarray(value, dtype=float))  # one vector
        items = [make_input(f"{name}[{i}]", item) if _traceable(item) else item
                 for i, item in enumerate(value)]
        return type(value)(items) if isinstance(value, list) else tuple(items)
    if isinstance(value, dict) and any(_traceable(item) for item in value.values()):
        return {key: make_input(f"{name}[{key!r}]", item) if _traceable(item) else item
                for key, item in value.items()}
    return value


def _as_float(name, value):
    """The input's value: a read-only copy (the caller may change the array after tracing:
    an optimiser's ``w -= lr * g.grad("w")``), integers promoted to float."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TraceError(f"input {name!r} has dtype {array.dtype}; graphviz-ad traces real "
                         "floating-point values (integers and booleans are constants)")
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
        array.setflags(write=False)
    else:
        array = snapshot(array)
    return array if array.ndim else array[()]


def _note_shared_inputs(tape: _Tape, given: list) -> None:
    """Mark the inputs whose arrays overlap in the caller's memory (``trace(f, a, a)``, or
    a row and its matrix): a write into one would change the other in numpy.

    Arrays can only overlap when they are views of the same memory owner, so only inputs
    with a common owner are compared."""
    by_owner: dict[int, list] = {}
    for value, handle in given:
        if isinstance(value, np.ndarray) and value.size:
            owner = value
            while isinstance(owner, np.ndarray) and owner.base is not None:
                owner = owner.base
            by_owner.setdefault(id(owner), []).append((value, handle))
    for group in by_owner.values():
        for i, (value, handle) in enumerate(group):
            for other, other_handle in group[:i]:
                if np.may_share_memory(value, other):
                    tape.aliased_inputs.update((id(handle), id(other_handle)))


from . import buffers, dispatch  # noqa: E402  (both build on Tracer and apply above)
