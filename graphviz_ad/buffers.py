"""Preallocated buffers: plain arrays made inside the traced function that receive traced
values, as course code writes an RNN or a naive convolution::

    h = np.zeros((T, H))
    for t in range(T):
        h[t] = np.tanh(W @ prev + U @ x[t])
        prev = h[t]

While ``trace()`` runs, numpy's constructors ``np.zeros``, ``np.empty``, ``np.ones``,
``np.full`` and their ``*_like`` twins, called from the user's code, return a
:class:`Buffer`: an ndarray that behaves as the plain array it is until a traced value is
written into it.  That write switches the buffer over: its contents so far become a
constant node, the write a "set" node, and the buffer object itself becomes a
:class:`TracedBuffer` (its class is swapped, so every name bound to it follows), whose
every use — operators, ufuncs, numpy functions, indexing, methods, writes — goes to its
traced handle, a :class:`~.tracer.Tracer`.  ``np.array(x)`` of a traced ``x`` is a copy
("copy" node), as in numpy.  numpy is restored when ``trace()`` returns.

Where it stops (each refused with a :class:`~.errors.TraceError` naming the line):

* an array made outside the traced function, or by a constructor bound before tracing
  (``from numpy import zeros``): it is not a Buffer, and numpy would keep only numbers;
* a view of a buffer taken before the first traced write (``row = h[0]`` while ``h`` is
  still plain): numpy's view would see the write, a plain view cannot;
* a buffer of integers or booleans: numpy would round the traced value away.

After the switch the buffer's own memory holds NaN: a path that reads it without asking
numpy's protocols (``np.asarray(h)``, C extensions) sees NaN, never detached numbers.

>>> import numpy as np
>>> from graphviz_ad import trace
>>> def f(x):
...     out = np.zeros(2)
...     out[0] = x * 3.0
...     return out.sum()
>>> trace(f, 2.0).grad("x")
3.0
"""

from __future__ import annotations

import dis
import functools
import operator
import sys
import weakref

import numpy as np

from .errors import TraceError
from .tracer import _STORE_SUBSCR, Tracer, _is_internal, _location, apply

# numpy's constructors that make a new array the user then fills in
_CONSTRUCTORS = ("zeros", "empty", "ones", "full", "zeros_like", "ones_like", "empty_like",
                 "full_like")
_installed = 0  # depth of nested trace() calls with the constructors wrapped
_originals: dict = {}  # numpy's own functions, by name
_wrappers: dict = {}  # ours, made once: building them costs more than a small trace


class Buffer(np.ndarray):
    """A plain array made by a numpy constructor inside the traced function.

    It is an ordinary ndarray (results of arithmetic on it are plain ndarrays) that
    remembers the views taken of it, so that it can refuse to become traced while one
    of them is alive."""

    def __array_finalize__(self, obj):
        # a view of a buffer's memory: remember it there (a copy shares no memory)
        if isinstance(obj, Buffer) and np.may_share_memory(self, obj):
            owner = obj.__dict__.get("_owner", obj)
            self._owner = owner
            views = owner.__dict__.setdefault("_views", [])
            views.append(weakref.ref(self))
            if len(views) >= 64 and not len(views) & (len(views) - 1):  # now and then
                views[:] = [view for view in views if view() is not None]

    def __array_wrap__(self, array, context=None, return_scalar=False):
        array = array.view(np.ndarray)  # computed from a buffer, but a new array of its own
        return array[()] if return_scalar else array

    def __setitem__(self, key, value):
        traced = _traced_in(value)
        if traced is not None:
            _switch(self, traced)
            handle_of(self)[key] = _unwrap(value)
        else:
            np.ndarray.__setitem__(self, key, value)

    def _inplace(self, name: str, other):
        if isinstance(other, (Tracer, TracedBuffer)):
            if "_owner" in self.__dict__ and _augmented_item_assignment(other):
                # h[k] += v: Python stores the result into h[k] next, which switches h;
                # this view is a temporary, so the result can be a new array
                return getattr(operator, name.replace("__i", "__", 1))(self, _unwrap(other))
            _switch(self, other)
            return getattr(self, name)(other)
        return getattr(np.ndarray, name)(self, other)

    def __iadd__(self, other):
        return self._inplace("__iadd__", other)

    def __isub__(self, other):
        return self._inplace("__isub__", other)

    def __imul__(self, other):
        return self._inplace("__imul__", other)

    def __itruediv__(self, other):
        return self._inplace("__itruediv__", other)

    def __ipow__(self, other):
        return self._inplace("__ipow__", other)

    def __imatmul__(self, other):
        return self._inplace("__imatmul__", other)


_SKIPPED = {dis.opmap[name] for name in ("CACHE", "SWAP", "COPY") if name in dis.opmap}


def _augmented_item_assignment(value) -> bool:
    """Whether the user's line is running ``h[k] op= value`` (and not ``v op= value`` on a
    named view): the in-place operator is followed by a store into a subscript."""
    tape = (handle_of(value) if isinstance(value, TracedBuffer) else value)._tape
    tape.where()
    frame = tape._last_frame  # the user's frame, found by where()
    code = frame.f_code.co_code
    position = frame.f_lasti + 2
    while position < len(code) and code[position] in _SKIPPED:
        position += 2
    return position < len(code) and code[position] == _STORE_SUBSCR


def handle_of(buffer: TracedBuffer) -> Tracer:
    """The traced value a switched buffer stands for."""
    return buffer.__dict__["_handle"]


def _traced_in(value):
    """The first traced value in ``value`` (itself, or an item of a list or tuple)."""
    if isinstance(value, (Tracer, TracedBuffer)):
        return value
    if isinstance(value, (list, tuple)):
        for item in value:
            found = _traced_in(item)
            if found is not None:
                return found
    return None


def _unwrap(value):
    """Switched buffers replaced by their handles, inside lists and tuples too."""
    if isinstance(value, TracedBuffer):
        return handle_of(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(item) for item in value)
    if isinstance(value, dict):
        return {key: _unwrap(item) for key, item in value.items()}
    return value


def _switch(buffer: Buffer, value) -> None:
    """Turn ``buffer`` into a traced array, its contents so far a constant node."""
    tape = (handle_of(value) if isinstance(value, TracedBuffer) else value)._tape
    if not tape.open:
        raise TraceError("a traced value was written into an array after its trace() "
                         "finished; use graph.nodes and their .value instead")
    where = tape.where()
    if "_owner" in buffer.__dict__:
        raise TraceError(
            f"a traced value is written at {_location(where)} into a view of a plain array "
            "made in the traced function (v = h[t]; v[…] = traced, or v += traced): numpy "
            "would change h too, which graphviz-ad cannot follow while h is plain. Write "
            "through the array itself: h[t, …] = traced, or h[t] += traced"
        )
    views = [ref() for ref in buffer.__dict__.get("_views", ())]
    views = [view for view in views if view is not None and np.may_share_memory(view, buffer)]
    if views:
        raise TraceError(
            f"a traced value is written at {_location(where)} into an array that has a live "
            f"view taken while it held plain numbers (shape {views[0].shape}, e.g. "
            "row = h[0]): numpy's view would see the write, a plain one cannot. Take the "
            "view after the first traced write, or index the array again where it is used"
        )
    if buffer.dtype.kind != "f":
        raise TraceError(
            f"a traced value is written at {_location(where)} into an array of dtype "
            f"{buffer.dtype}: numpy would round it, which has no derivative; make the array "
            "of floats (np.zeros(shape), dtype=float)"
        )
    contents = np.array(buffer.view(np.ndarray), copy=True)
    contents.setflags(write=False)
    node = tape.add("const", (), contents if contents.ndim else contents[()], where=where)
    buffer.__class__ = TracedBuffer
    buffer.__dict__["_handle"] = Tracer(node, tape)
    buffer.__dict__.pop("_views", None)
    np.ndarray.fill(buffer, np.nan)  # a read that bypasses numpy's protocols sees NaN


# TracedBuffer's own attributes; every other name is looked up on the handle
_OWN = frozenset({"_inplace"})


class TracedBuffer(Buffer):
    """A buffer a traced value was written into: every use goes to its handle."""

    __array_priority__ = 1000

    def __getattribute__(self, name):
        if name.startswith("__") or name in _OWN:
            return object.__getattribute__(self, name)
        handle = object.__getattribute__(self, "__dict__")["_handle"]
        try:
            return getattr(handle, name)
        except AttributeError:
            raise TraceError(
                f".{name} of an array a traced value was written into, at "
                f"{_location(handle._tape.where())}: graphviz-ad does not follow it; see "
                "graphviz_ad.dispatch.supported()"
            ) from None

    def __array_finalize__(self, obj):
        pass  # views are taken of the handle, through __getitem__ and the methods

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return Tracer.__array_ufunc__(handle_of(self), ufunc, method, *_unwrap(inputs),
                                      **_unwrap(kwargs))

    def __array_function__(self, func, types, args, kwargs):
        return Tracer.__array_function__(handle_of(self), func, types, _unwrap(args),
                                         _unwrap(kwargs))

    def __getitem__(self, key):
        return handle_of(self)[key]

    def __setitem__(self, key, value):
        handle_of(self)[key] = _unwrap(value)

    def _inplace(self, name: str, other):
        handle = handle_of(self)
        result = getattr(handle, name)(_unwrap(other))
        self.__dict__["_handle"] = result  # the same handle, or a new one for a 0-d array
        return self

    def __iter__(self):
        return iter(handle_of(self))

    def __len__(self):
        return len(handle_of(self))

    def __bool__(self):
        return bool(handle_of(self))

    def __float__(self):
        return float(handle_of(self))

    def __int__(self):
        return int(handle_of(self))

    __index__ = __int__

    def __format__(self, spec):
        return format(handle_of(self), spec)

    def __repr__(self):
        return repr(handle_of(self))

    __str__ = __repr__

    def __array__(self, dtype=None, copy=None):
        return handle_of(self).__array__(dtype, copy)


def _array(obj, *args, **kwargs):
    """np.array(x) of a traced x: a copy ("copy" node) unless ``copy=False``, as numpy."""
    copy = kwargs.get("copy", True)
    dtype = kwargs.get("dtype", args[0] if args else None)
    if dtype is not None and np.dtype(dtype) != obj.dtype:
        obj.astype(dtype)  # refuses a change of dtype, naming the line
    ndmin = kwargs.get("ndmin", 0)
    result = apply("copy", (obj,)) if copy else obj
    if ndmin > obj.ndim:
        result = result.reshape((1,) * (ndmin - obj.ndim) + obj.shape)
    return result


def _wrap(original):
    if original is np.array:
        def wrapper(obj, *args, **kwargs):
            if isinstance(obj, TracedBuffer):
                obj = handle_of(obj)
            if isinstance(obj, Tracer):
                return _array(obj, *args, **kwargs)
            return original(obj, *args, **kwargs)
    else:
        def wrapper(*args, **kwargs):
            result = original(*args, **kwargs)
            caller = sys._getframe(1).f_code.co_filename
            if type(result) is not np.ndarray or _is_internal(caller):
                return result  # numpy's and graphviz-ad's own arrays stay plain
            return result.view(Buffer)
    return functools.wraps(original)(wrapper)


def install() -> None:
    """numpy's constructors make :class:`Buffer` objects for the user's code, until the
    matching :func:`uninstall` (trace() calls both, nested traces included)."""
    global _installed
    if _installed == 0:
        if not _wrappers:
            for name in (*_CONSTRUCTORS, "array"):
                _originals[name] = getattr(np, name)
                _wrappers[name] = _wrap(_originals[name])
        for name, wrapper in _wrappers.items():
            setattr(np, name, wrapper)
    _installed += 1


def uninstall() -> None:
    """numpy's own constructors back, when the outermost trace() ends."""
    global _installed
    _installed -= 1
    if _installed == 0:
        for name, original in _originals.items():
            setattr(np, name, original)
