"""The table of supported numpy names, each with its primitive, Jacobian kind and rule.

Nothing here is written by hand: the names come from the dispatch tables (every ufunc numpy
has, the functions ``dispatch`` routes, the array builders, the Tracer's operators and
methods), and each row is found by *tracing* a small call of that name on probe arguments
and reading the nodes it recorded.  So the table says what tracing really does, and a new
entry in a dispatch table appears here by itself.

The probe arguments are named as the rules name them::

    x, y   2×2 matrices (x = [[2, .5], [.5, 1]] is symmetric positive definite)
    v, w   vectors of length 3        r   a 1×3 row
    t      a 2×2×2 array              s   a scalar

Each name is tried with the calls of ``_CALLS`` in turn (``np.exp(x)``, ``np.maximum(x, y)``,
``np.tile(x, 2)``…) and the first call that records an operation on an input makes the
row; a few names whose arguments cannot be guessed have their call in ``_EXAMPLES`` (the array
builders in ``_BUILDER_EXAMPLES``).

    graphviz-ad ops                                  the table as text
    python -m graphviz_ad.ops --markdown docs/operations.md   write the documentation page
"""

from __future__ import annotations

import argparse
import sys
import warnings
from dataclasses import dataclass

import numpy as np

from . import dispatch
from .tracer import Tracer, trace


@dataclass(frozen=True)
class Operation:
    """One supported spelling: ``names`` (aliases together), the ``example`` call the row was
    traced from, and per recorded operation its primitive, Jacobian kind and rule."""

    names: tuple[str, ...]
    example: str
    primitives: tuple[str, ...]
    kinds: tuple[str, ...]
    rules: tuple[str, ...]


# Probe calls, tried in order; "{}" is the name.  The first that records an operation wins.
_CALLS = (
    "{}([x, y])", "{}(x)", "{}(x, y)", "{}(x, 2)", "{}(x, 1)", "{}(v, w)", "{}(v)", "{}(r)",
    "{}(t, 2)", "{}(t, 0, 2)", "{}(s, 2.0)", "{}(x > 1.0, x, y)", "{}(v, (2, 3))",
    "{}(x, (4, 1))", "{}(r, v)",
)

# Calls for names whose arguments the probes above cannot guess (by numpy name).
_EXAMPLES = {
    "np.clip": "{}(x, 0.6, 1.5)",
    "np.select": "{}([x > 1.5, x > 0.6], [x, y], 0.0)",
    "np.take_along_axis": "{}(x, np.argsort(x.value, axis=1), 1)",
    "np.linspace": "{}(s, 2 * s, 4)",
    "np.einsum": "{}('ij,jk->ik', x, y)",
}

# Calls for the array builders that trace() puts in place of numpy's (dispatch.BUILDERS).
_BUILDER_EXAMPLES = {
    "np.r_": "{}[v, 0.0, w]",
    "np.c_": "{}[v, w]",
    "np.array": "{}([s, 2.0, 3 * s])",
    "np.asarray": "{}([[s, 0.0], [0.0, s]])",
    "np.asanyarray": "{}([s, 1.0])",
    "np.stack": "{}([[s, 1.0], [2.0, s]])",
}

# Python's operators on traced values, probed like the functions.
_OPERATORS = (
    "x + y", "x - y", "x * y", "x / y", "x ** y", "x @ y", "-x", "+x", "abs(x)", "x % y",
    "x[0, ::-1]", "x[np.array([1, 1])]", "x.T",
)


def _probe_values() -> dict:
    return {
        "x": np.array([[2.0, 0.5], [0.5, 1.0]]),
        "y": np.array([[1.0, -0.5], [0.25, 1.5]]),
        "v": np.array([0.5, -1.0, 2.0]),
        "w": np.array([1.5, 0.25, -0.75]),
        "r": np.array([[0.5, 1.0, -0.5]]),
        "t": np.arange(8.0).reshape(2, 2, 2) / 8 + 0.25,
        "s": 0.75,
    }


def _record(code: str, function=None, unchanged=False) -> tuple[tuple, tuple, tuple] | None:
    """Trace ``code`` on the probe values; the primitives, kinds and rules it recorded, or
    None when the call fails or records nothing that depends on an input.  With
    ``unchanged``, a call that returns its traced argument itself (``np.positive(x)``)
    counts too, as the identity."""

    def probe(x, y, v, w, r, t, s):
        result = eval(code, {"np": np, "f": function},  # our own probe text, never the user's
                      {"x": x, "y": y, "v": v, "w": w, "r": r, "t": t, "s": s})
        if isinstance(result, (tuple, list)):
            result = next((item for item in result if isinstance(item, Tracer)), result[0])
        if not isinstance(result, Tracer):
            raise TypeError("no traced result")  # a plain value: this probe does not fit
        return result

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            graph = trace(probe, **_probe_values())
            seen: dict[tuple[str, str, str], None] = {}
            for node in graph.nodes:
                for i, operand in enumerate(node.inputs):
                    if not _constant(operand):
                        local = node.jacobian(i)
                        seen.setdefault((node.op, local.kind, local.rule))
    except Exception:  # a probe that does not fit this name: try the next one
        return None
    if not seen and unchanged and graph.output.op == "input":
        return ("none",), ("identity",), ("I (returns its argument)",)
    if not seen:
        return None
    primitives, kinds, rules = zip(*seen)
    return tuple(dict.fromkeys(primitives)), tuple(dict.fromkeys(kinds)), rules


def _constant(node) -> bool:
    """A node made of constants only (a probe's ``0.5 * 2``): no derivative flows through."""
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if current.op == "input":
            return False
        if current.id not in seen:
            seen.add(current.id)
            stack.extend(current.inputs)
    return True


def _names_by_object() -> dict[int, list[str]]:
    """Every public spelling of each numpy object: ``np.abs`` and ``np.absolute`` together."""
    names: dict[int, list[str]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated aliases warn when they are looked up
        for prefix, module in (("np", np), ("np.linalg", np.linalg)):
            for attribute in sorted(dir(module)):
                if attribute.startswith("_"):
                    continue
                try:
                    value = getattr(module, attribute)
                except AttributeError:
                    continue
                spellings = names.setdefault(id(value), [])
                # numpy's own name for it first: concatenate before concat
                own = attribute == getattr(value, "__name__", None)
                spellings.insert(0 if own else len(spellings), f"{prefix}.{attribute}")
    return names


def _operation(names, function, calls) -> Operation | None:
    """The first call that records an operation; else the first that returns its argument."""
    for unchanged in (False, True):
        for call in calls:
            found = _record(call.format("f"), function, unchanged)
            if found is not None:
                return Operation(tuple(names), call.format(names[0]), *found)
    return None


def _differentiable() -> tuple[list[Operation], list[str]]:
    """Rows for the numpy functions and ufuncs that trace; names listed but not probed."""
    spellings = _names_by_object()
    candidates = [value for value in vars(np).values() if isinstance(value, np.ufunc)]
    candidates += list(dispatch._FUNCTIONS)
    rows, unprobed, done = [], [], set()
    for function in candidates:
        if id(function) in done or function in dispatch._PLAIN_UFUNCS:
            continue
        done.add(id(function))
        names = spellings.get(id(function)) or [dispatch._numpy_name(function)]
        calls = (_EXAMPLES[names[0]],) if names[0] in _EXAMPLES else _CALLS
        row = _operation(names, function, calls)
        if row is not None:
            rows.append(row)
        elif function in dispatch._FUNCTIONS:
            unprobed.append(", ".join(names))
    return sorted(rows, key=lambda row: row.names), sorted(unprobed)


def _builders() -> list[Operation]:
    rows = []
    for name in sorted(dispatch.BUILDERS):
        call = _BUILDER_EXAMPLES.get(f"np.{name}", "{}([s, 2.0])")
        found = _record(call.format(f"np.{name}"))
        if found is not None:
            rows.append(Operation((f"np.{name}",), call.format(f"np.{name}"), *found))
    return rows


def _operators_and_methods() -> list[Operation]:
    rows = []
    for code in _OPERATORS:
        found = _record(code)
        if found is not None:
            rows.append(Operation((code,), code, *found))
    methods = sorted(name for name, value in vars(Tracer).items()
                     if not name.startswith("_") and callable(value))
    for name in methods:
        for call in (f"x.{name}()", f"x.{name}(y)", f"x.{name}(0)", f"x.{name}(4)",
                     f"x.{name}(np.float32)"):
            found = _record(call)
            if found is not None:
                rows.append(Operation((f"x.{name}()",), call, *found))
                break
    return rows


def _plain() -> list[str]:
    """The names computed on plain values: comparisons, argmax, floor… (no derivative)."""
    spellings = _names_by_object()
    names = [
        ", ".join(spellings.get(id(f)) or [dispatch._numpy_name(f)])
        for f in (*dispatch._PLAIN_UFUNCS, *dispatch._PLAIN_FUNCTIONS)
    ]
    return sorted(names)


@dataclass(frozen=True)
class Table:
    """Everything ``graphviz-ad ops`` prints and docs/operations.md shows."""

    functions: list[Operation]
    builders: list[Operation]
    operators: list[Operation]
    plain: list[str]
    unprobed: list[str]

    @property
    def count(self) -> int:
        """How many numpy names (aliases counted) are differentiated."""
        return sum(len(row.names) for row in (*self.functions, *self.builders)) + len(
            self.unprobed)


def table() -> Table:
    """Probe every name (about a second)."""
    functions, unprobed = _differentiable()
    return Table(functions, _builders(), _operators_and_methods(), _plain(), unprobed)


def markdown(data: Table | None = None) -> str:
    """docs/operations.md: the table as Markdown."""
    data = data or table()
    lines = [
        "# Supported operations",
        "",
        "<!-- Generated by `python -m graphviz_ad.ops --markdown docs/operations.md` from the "
        "primitive and dispatch tables; do not edit by hand. -->",
        "",
        f"graphviz-ad differentiates {data.count} numpy names.  Each row was traced: the "
        "example call ran on the probe arguments below and the table shows what it recorded, "
        "every primitive with its local Jacobian's kind and rule (numerator layout over "
        "row-major vec; `x`, `y` are the operands, `u₇` an intermediate result).  The same "
        "table prints with `graphviz-ad ops`.",
        "",
        "Probe arguments: `x`, `y` 2×2 matrices, `v`, `w` vectors of length 3, `r` a 1×3 "
        "row, `t` a 2×2×2 array, `s` a scalar.",
        "",
        "## numpy functions and ufuncs",
        "",
        *_markdown_rows(data.functions),
    ]
    if data.unprobed:
        lines += ["", "Also supported (no probe call fits them; see their docstrings): "
                  + ", ".join(f"`{name}`" for name in data.unprobed) + "."]
    lines += [
        "",
        "## Building arrays",
        "",
        "While `trace` runs, " + ", ".join(f"`np.{name}`" for name in sorted(dispatch.BUILDERS))
        + " accept lists holding traced values: a (nested) list that mixes traced values and "
        "numbers becomes one `array` node.  Only calls spelled through the module are seen "
        "(`np.array(...)`, not a name imported before tracing).",
        "",
        *_markdown_rows(data.builders),
        "",
        "## Operators and array methods",
        "",
        *_markdown_rows(data.operators),
        "",
        "## No derivative",
        "",
        "These run on the plain values and return plain arrays (comparisons, rounding, "
        "arg-functions): " + ", ".join(f"`{name}`" for name in data.plain) + ".",
        "",
    ]
    return "\n".join(lines)


def _markdown_rows(rows: list[Operation]) -> list[str]:
    lines = ["| numpy | example | primitive | Jacobian kind | rule |", "|---|---|---|---|---|"]
    for row in rows:
        cells = (", ".join(f"`{name}`" for name in row.names), f"`{row.example}`",
                 ", ".join(row.primitives), ", ".join(row.kinds), _rules(row))
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return lines


def _rules(row: Operation, limit: int = 4) -> str:
    shown = list(dict.fromkeys(row.rules))
    text = "; ".join(shown[:limit])
    return text + ("; …" if len(shown) > limit else "")


def text(data: Table | None = None) -> str:
    """The table as aligned plain text, for the terminal."""
    data = data or table()
    sections = (("numpy functions and ufuncs", data.functions),
                ("building arrays (while trace runs)", data.builders),
                ("operators and array methods", data.operators))
    lines = [f"graphviz-ad differentiates {data.count} numpy names (x, y: the operands)."]
    for title, rows in sections:
        width = max(len(", ".join(row.names)) for row in rows)
        lines += ["", title, ""]
        for row in rows:
            lines.append(f"  {', '.join(row.names):<{width}}  {', '.join(row.primitives)}: "
                         f"{_rules(row)}")
    if data.unprobed:
        lines += ["", "also: " + ", ".join(data.unprobed)]
    lines += ["", "no derivative (plain values): " + ", ".join(data.plain)]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graphviz_ad.ops", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--markdown", metavar="FILE",
                        help="write the Markdown page to FILE (- for standard output)")
    args = parser.parse_args(argv)
    if args.markdown is None:
        sys.stdout.write(text())
    elif args.markdown == "-":
        sys.stdout.write(markdown())
    else:
        with open(args.markdown, "w", encoding="utf-8") as page:
            page.write(markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
