"""The layers, read from the source: imports flow one way and Textual stays in the terminal UI.

Every module of ``graphviz_ad`` and ``tui`` belongs to a layer (docs/architecture.md draws
them).  A module may import its own layer and the layers below it, never one above; the
imports of one layer form no cycle, lazy ones (inside a function) included, so that a lazy
import cannot hide one.  Two upward imports are allowed, each inside the one function that
needs it and named in :data:`ALLOWED_UPWARD` with the reason.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("graphviz_ad", "tui")

# Lowest first.  A module is placed by the longest prefix listed.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("graphviz_ad.errors", "graphviz_ad.notation", "graphviz_ad.linear",
              "graphviz_ad.primitives", "graphviz_ad.safe_text", "graphviz_ad.gc_pause")),
    ("graph", ("graphviz_ad.propagate", "graphviz_ad.paths", "graphviz_ad.explain",
               "graphviz_ad.formula", "graphviz_ad.graph")),
    ("tracer", ("graphviz_ad.tracer", "graphviz_ad.dispatch", "graphviz_ad.buffers")),
    ("engine", ("graphviz_ad.steps", "graphviz_ad.passlog", "graphviz_ad.breakpoints",
                "graphviz_ad.debugger", "graphviz_ad.check", "graphviz_ad.ops")),
    # the package's facade (what `import graphviz_ad` loads), the scripts' graph collector
    # and the example catalogue, which both front ends offer
    ("api", ("graphviz_ad", "graphviz_ad.collect", "graphviz_ad.examples",
             "graphviz_ad.compare")),
    ("render", ("graphviz_ad.render",)),
    # exercises built from the engine's steps; they write a rule transposed as pictures do
    ("practice", ("graphviz_ad.practice",)),
    ("tui", ("tui",)),
    ("application", ("graphviz_ad.cli", "graphviz_ad.__main__")),
]
# (importer, imported): why the core may reach up, inside one function only.
ALLOWED_UPWARD = {
    ("graphviz_ad.graph", "graphviz_ad.render"):
        "a Graph draws itself: Graph.to_dot, Graph.render and Jupyter's display hooks",
    ("graphviz_ad", "tui"):
        "gad.debug(g) opens the terminal debugger from a script, like breakpoint()",
    ("graphviz_ad", "graphviz_ad.render"):
        "gad.show(g) displays a picture or the step player in a notebook",
}
# Modules that are one unit split over several files: dispatch.py is the numpy half of the
# Tracer class (its operators call dispatch, dispatch makes Tracers), buffers.py its
# support for writes into preallocated arrays; they count as one module when looking for
# cycles.
UNITS = {"graphviz_ad.dispatch": "graphviz_ad.tracer", "graphviz_ad.buffers": "graphviz_ad.tracer"}
CORE_LAYERS = ("base", "graph", "tracer", "engine", "api", "render", "practice")


def module_files() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


MODULES = module_files()


def layer_of(module: str) -> int:
    best, found = -1, None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    if found is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS (and to "
                             "docs/architecture.md)")
    return found


class Import:
    __slots__ = ("importer", "lazy", "line", "target")

    def __init__(self, importer: str, target: str, line: int, lazy: bool):
        self.importer, self.target, self.line, self.lazy = importer, target, line, lazy

    def __repr__(self) -> str:
        where = "inside a function" if self.lazy else "at module level"
        return f"{self.importer} imports {self.target} ({where}, line {self.line})"


def imports_of(module: str, path: Path) -> list[Import]:
    """The project modules ``module`` imports, with where; ``if TYPE_CHECKING:`` blocks are
    skipped (annotations only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    add(alias.name, child.lineno, inner)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in child.names:
                    candidate = f"{base}.{alias.name}"
                    add(candidate if candidate in MODULES else base, child.lineno, inner)
            visit(child, inner)

    def add(target: str, line: int, lazy: bool) -> None:
        if target.split(".")[0] in PACKAGES or target.split(".")[0] in ("textual", "rich"):
            found.append(Import(module, target, line, lazy))

    visit(tree, False)
    return found


IMPORTS = [found for module, path in MODULES.items() for found in imports_of(module, path)]
PROJECT_IMPORTS = [i for i in IMPORTS if i.target.split(".")[0] in PACKAGES]


def test_every_module_has_a_layer():
    for module in MODULES:
        layer_of(module)


def test_no_layer_imports_a_higher_one():
    upward = []
    for found in PROJECT_IMPORTS:
        if layer_of(found.target) <= layer_of(found.importer):
            continue
        if (found.importer, found.target) in ALLOWED_UPWARD and found.lazy:
            continue
        upward.append(found)
    assert not upward, "imports against the layers:\n" + "\n".join(map(repr, upward))


def test_the_allowed_upward_imports_are_still_needed():
    used = {(i.importer, i.target) for i in PROJECT_IMPORTS}
    assert set(ALLOWED_UPWARD) <= used, "drop the exceptions nothing uses any more"


def test_no_import_cycles_even_through_lazy_imports():
    allowed = set(ALLOWED_UPWARD)
    edges: dict[str, set[str]] = {}
    for found in PROJECT_IMPORTS:
        if (found.importer, found.target) in allowed:
            continue
        source = UNITS.get(found.importer, found.importer)
        target = UNITS.get(found.target, found.target)
        if source != target:
            edges.setdefault(source, set()).add(target)
    state: dict[str, int] = {}  # 1: on the current path, 2: finished

    def walk(start: str) -> list[str] | None:
        stack = [(start, iter(sorted(edges.get(start, ()))))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return [*path[path.index(child):], child]
            elif child not in state:
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
        return None

    for module in sorted(edges):
        if module not in state:
            cycle = walk(module)
            assert cycle is None, "an import cycle: " + " → ".join(cycle)


def test_textual_and_rich_stay_out_of_the_core():
    leaks = [found for found in IMPORTS if found.target.split(".")[0] in ("textual", "rich")
             and LAYERS[layer_of(found.importer)][0] in CORE_LAYERS]
    assert not leaks, "the core imports a terminal UI library:\n" + "\n".join(map(repr, leaks))


def test_the_tracer_holds_no_derivative_code():
    source = (ROOT / "graphviz_ad" / "tracer.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert not names & {"partial", "partials", "vjp", "jvp"}, "derivatives live in primitives"


@pytest.mark.parametrize("statement", [
    "import graphviz_ad as gad; g = gad.trace(lambda x: x * x, 3.0); "
    "gad.Debugger(g, 'backward').run(); g.explain('x'); g.to_dot()",
])
def test_using_the_library_loads_no_textual(statement):
    check = f"{statement}; import sys; assert 'textual' not in sys.modules, 'textual loaded'"
    done = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_a_lower_layer_importing_a_higher_one_is_caught(tmp_path):
    """The check itself: a tracer that imports the debugger fails it."""
    path = tmp_path / "tracer.py"
    path.write_text("from .debugger import Debugger\n", encoding="utf-8")
    (found,) = [i for i in imports_of("graphviz_ad.tracer", path)]
    assert found.target == "graphviz_ad.debugger"
    assert layer_of(found.target) > layer_of(found.importer)
