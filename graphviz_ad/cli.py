"""The ``graphviz-ad`` command: run a script, then draw, debug, differentiate or check the
graphs it traced.

    graphviz-ad demo                         the neuron example in the terminal debugger
    graphviz-ad tui model.py                 step through your own script's graphs
    graphviz-ad render model.py -o model.svg --mode backward --step 4
    graphviz-ad grad model.py                every input's gradient, as a table
    graphviz-ad check model.py               every local Jacobian against finite differences
    graphviz-ad compare model.py             a hand-written backward against the traced one
    graphviz-ad practice model.py            type each contribution of a pass before it shows
    graphviz-ad explain model.py x           why the gradient of input x is zero, or NaN
    graphviz-ad examples                     the bundled examples (open one by name)
    graphviz-ad ops                          the supported numpy names and their rules

``FILE`` is an ordinary Python script that calls ``graphviz_ad.trace`` (or the name of a
bundled example); it runs as ``python FILE`` would, and the graphs it traced are collected,
named by their function (``--graph NAME`` picks one).

Exit status: 0 on success, 1 when the script or its graphs have a problem (an exception in
the script, a failed check), 2 when the command line does (a missing file, an unknown
option or graph name).  An exception in the script is shown with the script's own
traceback lines only; ``--traceback`` shows every frame.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import metadata

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import check as checking
from . import ops
from .collect import ScriptError, choose, graph_names, run_script
from .compare import compare as compare_backward
from .compare import listeners as comparison_listeners
from .debugger import MODES, Debugger
from .errors import RenderError
from .examples import catalogue, find
from .notation import array_text, matrix_lines
from .practice import ASK, MAX_TYPED
from .practice import exercises as practice_exercises
from .render import FORMATS, TEXT_FORMATS, picture_text, state_at
from .render.animation import MAX_PIXELS
from .render.options import COLLAPSE_THRESHOLD
from .safe_text import file_stem, printable

DEMO = "neuron"
JACOBIAN_ENTRIES = 100_000  # grad prints a non-scalar output's Jacobian up to this size
CHECK_ROWS = 40  # check lists this many nodes of a larger graph (every failure, always)


class UsageError(Exception):
    """The command line asks for something impossible: exit status 2."""


class Failure(Exception):
    """The script or its graphs have a problem: exit status 1."""


def main(argv=None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # argparse exits on --help (0) and on usage errors (2)
        return exit.code if isinstance(exit.code, int) else 2
    try:
        return args.handler(args)
    except UsageError as error:
        _complain(f"{args.command}: {error}")
        return 2
    except ScriptError as error:
        sys.stderr.write(error.full_traceback() if args.traceback else error.user_traceback())
        return 1
    except Failure as error:
        if args.traceback and error.__cause__ is not None:
            raise
        _complain(str(error))
        return 1
    except KeyboardInterrupt:
        return 130


def _complain(message: str) -> None:
    """An error on standard error; the names it quotes are shown, never obeyed."""
    lines = "\n".join(printable(line) for line in message.splitlines())
    sys.stderr.write(f"graphviz-ad: error: {lines}\n")


# -- the parser --------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphviz-ad",
        description="See automatic differentiation happen: trace numpy code into a "
        "computation graph, draw it, step through its forward and backward passes.",
        epilog="Start with: graphviz-ad demo.  Each command has its own --help.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    script = argparse.ArgumentParser(add_help=False)
    script.add_argument("file", metavar="FILE",
                        help="a Python script that calls graphviz_ad.trace, or the name of a "
                        "bundled example (see: graphviz-ad examples)")
    script.add_argument("script_args", metavar="ARG", nargs="*",
                        help="arguments for the script (its sys.argv[1:]); put -- before "
                        "them if they start with -")
    script.add_argument("--traceback", action="store_true",
                        help="show every frame of an error's traceback, not only the script's")

    def graph_option(command, what: str) -> None:
        command.add_argument("--graph", metavar="NAME",
                             help=f"{what}; NAME is the traced function's name, numbered "
                             "NAME#1, NAME#2… when the script traced it several times")

    def start_mode_option(command) -> None:
        command.add_argument("--mode", choices=MODES, default="forward",
                             help="the pass to start in (default: forward; the m key switches)")

    render = commands.add_parser(
        "render", parents=[script],
        help="draw a traced graph (SVG, PNG, PDF, DOT, JSON, HTML, GIF, MP4)",
        description="Draw a graph the script traced, optionally at one step of a pass: "
        "values, gradients and every edge's local Jacobian.  html writes a self-contained "
        "step player (play, arrow keys, a slider and an inspector) for the whole pass; gif "
        "and mp4 animate it, one frame per step.",
    )
    render.add_argument("-o", "--output", metavar="OUT",
                        help="the file to write (default: the graph's name, made safe for a "
                        "file name, with the format's suffix); - writes dot, json or svg text "
                        "to standard output")
    render.add_argument("--format", choices=FORMATS,
                        help="the output format (default: from OUT's suffix, else svg)")
    render.add_argument("--mode", choices=MODES,
                        help="show the state of this pass (default with --step: backward)")
    render.add_argument("--step", type=int, metavar="N",
                        help="show step N of the pass, numbered as everywhere (0: before the "
                        "pass, 1: the seed; negative: from the end; default with --mode: the "
                        "last step)")
    render.add_argument("--rankdir", choices=("TB", "LR"), default=None,
                        help="inputs at the top (TB) or at the left (LR); default: LR for a "
                        "deep, narrow graph (an RNN left to right in time), else TB")
    render.add_argument("--edge-rule", choices=("jacobian", "backprop", "expanded"),
                        help="what edges say: the local Jacobian, the backprop update "
                        "(∂y/∂W += ∂y/∂u · xᵀ) or the Jacobian expanded over vec (I ⊗ xᵀ); "
                        "default: backprop during a backward pass, else jacobian")
    render.add_argument("--layout", choices=("numerator", "denominator"), default="numerator",
                        help="Jacobians as out × in (numerator, the default) or transposed")
    render.add_argument("--focus", metavar="NODE",
                        help="draw only the neighbourhood of this node: a label (u7 or u₇), "
                        "an input's name or a node id")
    render.add_argument("--hops", type=_count, default=2, metavar="K",
                        help="with --focus: how many edges away to draw (default: 2)")
    render.add_argument("--legend", action=argparse.BooleanOptionalAction, default=False,
                        help="draw the legend of colours and line styles (default: no)")
    render.add_argument("--values", action=argparse.BooleanOptionalAction, default=True,
                        help="show values, gradients and tangents (default: yes); "
                        "--no-values draws the structure only")
    render.add_argument("--digits", type=_positive_int, default=4, metavar="D",
                        help="significant digits of numbers (default: 4)")
    render.add_argument("--max-elements", type=_positive_int, default=64, metavar="N",
                        help="arrays with more elements are shown abbreviated (default: 64, "
                        "an 8×8 matrix in full)")
    render.add_argument("--collapse", action=argparse.BooleanOptionalAction, default=None,
                        help="draw each call of your functions as one box (default: only "
                        f"for graphs of more than {COLLAPSE_THRESHOLD} nodes)")
    render.add_argument("--explain", action="store_true",
                        help="note on the picture why an input's gradient is zero and where "
                        "a NaN or ∞ comes from")
    render.add_argument("--formula", metavar="INPUT",
                        help="write ∂output/∂INPUT in the title as one formula in the paper's "
                        "notation (INPUT: an input's name or a node's label)")
    render.add_argument("--dpi", type=_positive_int, metavar="DPI",
                        help="resolution of PNG output in dots per inch (Graphviz's default: "
                        "96); --scale 2 is --dpi 192")
    render.add_argument("--scale", type=_positive_float, metavar="S",
                        help="PNG output S times the default size")
    render.add_argument("--frame-ms", type=_positive_int, metavar="MS",
                        help="gif and mp4: how long each step shows, in milliseconds "
                        "(default: 800; the last step three times as long)")
    render.add_argument("--max-pixels", type=_positive_int, metavar="N",
                        help="gif and mp4: refuse an animation of more than N pixels in all "
                        f"(frames × width × height; default: {MAX_PIXELS:,})")
    graph_option(render, "the graph to draw when the script traced several (default: each "
                 "graph, to its own file)")
    render.add_argument("--compare", nargs="?", const="", metavar="BACKWARD",
                        help="draw the forward graphs of the script's comparisons (or of "
                        "BACKWARD against the traced --graph), the nodes whose adjoint the "
                        "hand-written backward gets wrong in a double orange-red frame")
    render.set_defaults(handler=_render)

    tui = commands.add_parser(
        "tui", parents=[script], help="step through the traced graphs in the terminal debugger",
        description="Open the terminal debugger on the graphs the script traced.",
    )
    graph_option(tui, "open this graph directly instead of choosing")
    start_mode_option(tui)
    tui.add_argument("--compare", nargs="?", const="", metavar="BACKWARD",
                     help="show your hand-written backward beside the backward pass, each "
                     "adjoint marked ✔/✘ (the comparisons the script makes, or the function "
                     "BACKWARD against the traced --graph, found as by graphviz-ad compare)")
    tui.set_defaults(handler=_tui)

    grad = commands.add_parser(
        "grad", parents=[script], help="print every input's gradient as a table",
        description="Print ∂output/∂input for every input of each traced graph (reverse "
        "mode).  For a graph whose output is not a scalar, the Jacobian in numerator layout "
        "(output size × input size) is shown instead.",
    )
    graph_option(grad, "only this graph")
    grad.add_argument("--digits", type=_positive_int, default=6, metavar="D",
                      help="digits shown: significant digits of a number, decimals of an "
                      "array (default: 6)")
    grad.set_defaults(handler=_grad)

    check = commands.add_parser(
        "check", parents=[script], help="check every local Jacobian against finite differences",
        description="Check every local Jacobian of the traced graphs against central finite "
        "differences and print the worst error per node: relative for entries above 1, "
        "absolute below.  Exits with status 1 when any error exceeds the tolerance.",
    )
    graph_option(check, "only this graph")
    check.add_argument("--tol", type=_positive_float, default=checking.TOLERANCE, metavar="TOL",
                       help=f"the largest error accepted (default: {checking.TOLERANCE:g})")
    check.add_argument("--all", action="store_true",
                       help=f"list every node (default: at most {CHECK_ROWS}: every failure, "
                       "then undefined entries, kinks and the largest errors)")
    check.set_defaults(handler=_check)

    _add_compare_command(commands, script)
    _add_practice_command(commands, script)
    _add_explain_command(commands, graph_option)

    examples = commands.add_parser(
        "examples", help="list the bundled examples",
        description="List the bundled examples, one line each.  Open one by name: "
        "graphviz-ad tui NAME, graphviz-ad render NAME, graphviz-ad grad NAME.",
    )
    examples.set_defaults(handler=_examples, traceback=False)

    ops = commands.add_parser(
        "ops", help="list the supported numpy names with their rules",
        description="Print every numpy name graphviz-ad differentiates, with the primitive "
        "it records, its local Jacobian's rule and the names computed on plain values.  "
        "The same table is docs/operations.md.",
    )
    ops.add_argument("--markdown", action="store_true",
                     help="print the Markdown page (docs/operations.md) instead")
    ops.set_defaults(handler=_ops, traceback=False)

    demo = commands.add_parser(
        "demo", help=f"open the {DEMO} example in the terminal debugger",
        description=f"Open the {DEMO} example, max(0, w·x + b), in the terminal debugger: "
        "step backwards and watch the gradient flow edge by edge.",
    )
    start_mode_option(demo)
    demo.add_argument("--traceback", action="store_true", help="show every frame of an error")
    demo.set_defaults(handler=_demo)
    return parser


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return value


def _version() -> str:
    try:
        return metadata.version("graphviz-ad")
    except metadata.PackageNotFoundError:
        return "(not installed)"


# -- running the script ------------------------------------------------------------------------


def _run(file: str, script_args=(), namespace=None) -> list:
    """Run the script ``file`` (or the bundled example of that name); return its graphs.

    An example opened by name runs as a module (not ``__main__``), so it prints nothing.
    """
    if os.path.isfile(file):
        return run_script(file, script_args, namespace=namespace)
    if os.path.isdir(file):
        raise UsageError(f"{file} is a directory; give a Python script")
    example = find(file)
    if example is None:
        names = ", ".join(example.name for example in catalogue())
        raise UsageError(f"no such file: {file} (nor a bundled example: {names})")
    return run_script(str(example.path), script_args,
                      run_name=f"graphviz_ad.examples.{example.name}", namespace=namespace)


def _collect(args) -> tuple[list, list[str]]:
    """Run the script; return the graphs it traced and their names."""
    graphs = _run(args.file, args.script_args)
    if not graphs:
        raise Failure(f"{args.file} ran but traced no graph; call graphviz_ad.trace(f, "
                      "*inputs) in it (graphviz-ad examples lists scripts that do)")
    return graphs, graph_names(graphs)


def _selected(args) -> list[tuple[str, object]]:
    """(name, graph) for the graph --graph names, or for every graph."""
    graphs, names = _collect(args)
    if args.graph is None:
        return list(zip(names, graphs, strict=True))
    return [(args.graph, _choose(graphs, args.graph))]


def _choose(graphs, name):
    try:
        return choose(graphs, name)
    except LookupError as error:
        raise UsageError(f"{error}; pick one with --graph NAME") from None


# -- commands ------------------------------------------------------------------------------------


def _render(args) -> int:
    if args.dpi is not None and args.scale is not None:
        raise UsageError("give --dpi or --scale, not both")
    if args.compare is not None:
        reports = _comparisons(args, forward=args.graph, backward=args.compare or None)
        for index, report in enumerate(reports, 1):
            output = args.output if len(reports) == 1 else _numbered(args.output, str(index))
            _render_one(args, report.graph.name, report.graph, output, compare=report)
        return 0
    graphs, names = _collect(args)
    if args.graph is not None:
        graph = _choose(graphs, args.graph)
        jobs = [(names[graphs.index(graph)], graph, args.output)]
    elif len(graphs) == 1 or args.output == "-":
        jobs = [(names[0], _choose(graphs, None), args.output)]
    else:  # one file per graph: neuron-1.svg, neuron-2.svg (or OUT-1.svg, OUT-2.svg)
        jobs = [(name, graph, _numbered(args.output, name))
                for name, graph in zip(names, graphs, strict=True)]
    for name, graph, output in jobs:
        _render_one(args, name, graph, output)
    return 0


def _numbered(output: str | None, name: str) -> str | None:
    """Where graph ``name`` goes when a script traced several: OUT with the graph's number
    (``n.svg`` → ``n-2.svg`` for ``neuron#2``), or None for the default name."""
    if output is None:
        return None
    stem, suffix = os.path.splitext(output)
    number = name.rpartition("#")[2] if "#" in name else file_stem(name)
    return f"{stem}-{number}{suffix}"


def _render_one(args, name: str, graph, output: str | None, compare=None) -> None:
    fmt = args.format or _format_of(output)
    focus = None if args.focus is None else _node(graph, args.focus, "--focus")
    options = {"rankdir": args.rankdir, "layout": args.layout, "focus": focus,
               "hops": args.hops, "legend": args.legend, "values": args.values,
               "digits": args.digits, "max_elements": args.max_elements,
               "collapse": args.collapse, "compare": compare, "explain": args.explain,
               "formula": None if args.formula is None else _node(graph, args.formula,
                                                                  "--formula"),
               "edge_rule": args.edge_rule}
    dpi = args.dpi or (round(96 * args.scale) if args.scale else None)
    if dpi is not None:
        if fmt not in ("png", "gif", "mp4"):
            raise UsageError(f"--dpi and --scale set a bitmap's resolution; {fmt} is not a "
                             "bitmap")
        options["dpi"] = dpi
    if args.frame_ms is not None:
        if fmt not in ("gif", "mp4"):
            raise UsageError(f"--frame-ms sets an animation's pace; {fmt} is not gif or mp4")
        options["frame_ms"] = args.frame_ms
    if args.max_pixels is not None:
        if fmt not in ("gif", "mp4"):
            raise UsageError(f"--max-pixels caps an animation's size; {fmt} is not gif or mp4")
        options["max_pixels"] = args.max_pixels
    if fmt in ("html", "gif", "mp4"):
        if args.step is not None:
            what = "the HTML player shows" if fmt == "html" else f"a {fmt} animates"
            raise UsageError(f"{what} every step of a pass; give --mode, not --step")
        options["mode"] = _debugger(graph, args.mode or "backward").mode
        state = None
    else:
        state = _state_at(graph, args.mode, args.step)
    try:
        if output == "-":
            if fmt not in TEXT_FORMATS:
                raise UsageError(f"{fmt} is binary; write it to a file with -o FILE")
            sys.stdout.write(picture_text(graph, fmt, state, **options))
        else:
            output = output or f"{file_stem(name)}.{fmt}"
            written = graph.render(output, format=fmt, step=state, **options)
            print(f"wrote {written}")
    except RenderError as error:
        raise Failure(str(error)) from error
    except OSError as error:  # a missing folder, no permission, a full disk
        raise Failure(f"cannot write {error.filename or output}: "
                      f"{error.strerror or error}") from error


def _node(graph, text: str, option: str):
    """The node a command-line argument names: a label (``u7`` or ``u₇``), an input's name
    or a node id (see ``Graph.node``)."""
    try:
        return graph.node(text)
    except KeyError as error:
        raise UsageError(f"{option} {text}: {error.args[0]}") from None


def _format_of(output: str | None) -> str:
    """The format named by the output file's suffix (svg when there is no file)."""
    if output is None or output == "-":
        return "svg"
    fmt = os.path.splitext(output)[1].lower().lstrip(".")
    if fmt not in FORMATS:
        raise UsageError(f"cannot tell the format of {output!r} from its suffix; use one of "
                         f"{', '.join('.' + f for f in FORMATS)} or give --format")
    return fmt


def _state_at(graph, mode: str | None, step: int | None):
    """The debugger's state at step ``step`` of the ``mode`` pass (None: no pass asked for),
    numbered as everywhere (:mod:`graphviz_ad.steps`): 0 is before the pass, the seed is 1."""
    if mode is None and step is None:
        return None
    _debugger(graph, mode or "backward")  # a pass the command line cannot seed: say so
    try:
        return state_at(graph, mode, step)
    except IndexError as error:
        raise UsageError(f"--{error}") from None


def _debugger(graph, mode: str) -> Debugger:
    try:
        return Debugger(graph, mode)
    except ValueError as error:  # a backward pass of a non-scalar output needs a seed
        raise Failure(f"{error}; on the command line, draw --mode forward or --mode tangent "
                      "instead") from None


def _tui(args) -> int:
    if args.compare is not None:
        return _tui_compare(args)
    graphs, _ = _collect(args)
    start = None if args.graph is None else graphs.index(_choose(graphs, args.graph))
    return _open_debugger(graphs, args.mode, start)


def _tui_compare(args) -> int:
    """The debugger on each comparison's forward graph, its backward beside it."""
    reports = _comparisons(args, forward=args.graph, backward=args.compare or None)
    from tui import run_app

    run_app([report.graph for report in reports], mode="backward",
            start=0 if len(reports) == 1 else None, comparisons=dict(enumerate(reports)))
    return 0


def _demo(args) -> int:
    return _open_debugger(_run(DEMO), args.mode, start=0)  # the active neuron first


def _open_debugger(graphs, mode: str, start: int | None) -> int:
    """Open the terminal debugger (a chooser first when several graphs and no ``start``)."""
    from tui import run_app  # Textual loads only when the debugger is opened

    run_app(graphs, mode=mode, start=start)
    return 0


def _grad(args) -> int:
    console = Console()
    for name, graph in _selected(args):
        console.print(_gradient_table(name, graph, args.digits))
    return 0


def _gradient_table(name: str, graph, digits: int) -> Table:
    scalar = np.size(graph.value) == 1
    call = f"{graph.name}({', '.join(graph.inputs)})"
    title = call if name == graph.name else f"{name}: {call}"
    if scalar:
        title += f" = {_format(graph.value, digits)}"
        header = f"∂{graph.name}/∂input"
    else:
        title += f" has output shape {graph.output.shape}: each input has a Jacobian"
        header = "∂output/∂input (output size × input size)"
    table = Table(title=_text(title), title_justify="left")
    for column in ("input", "shape", "value"):
        table.add_column(column)
    table.add_column(_text(header))
    gradients = graph.grad() if scalar else None
    for input_name, node in graph.inputs.items():
        entries = np.size(graph.value) * np.size(node.value)
        if scalar:
            derivative = _format(gradients[input_name], digits)
        elif entries <= JACOBIAN_ENTRIES:
            jacobian = graph.jacobian(input_name).reshape(np.size(graph.value), -1)
            derivative = _format(jacobian, digits)
        else:
            derivative = f"{entries:,} entries: too many to print (Graph.jacobian computes it)"
        table.add_row(_text(input_name), Text(str(node.shape)), Text(_format(node.value, digits)),
                      Text(derivative))
    return table


def _format(value, digits: int) -> str:
    """A number or array with ``digits`` significant digits, written as everywhere else
    (:mod:`graphviz_ad.notation`): a matrix row by row, a long vector abbreviated."""
    value = np.asarray(value, dtype=float)
    if value.ndim == 2:
        return "\n".join(matrix_lines(value, max_rows=12, max_cols=8, digits=digits))
    return array_text(value, digits=digits, max_elements=36)


def _check(args) -> int:
    console = Console()
    failed = False
    for name, graph in _selected(args):
        report = checking.check_graph(graph, tolerance=args.tol)
        console.print(_check_table(name, report, None if args.all else CHECK_ROWS))
        console.print(_check_summary(report))
        failed = failed or not report.passed
    return 1 if failed else 0


_STATUS_STYLE = {"ok": "green", "FAIL": "bold red", "kink": "yellow", "undefined": "yellow"}


def _check_table(name: str, report, rows: int | None = None) -> Table:
    """One row per checked node, in tape order; at most ``rows`` of them (None: all), the
    ones worth reading first (see :func:`_rows_shown`), and a caption saying so."""
    shown = _rows_shown(report, rows)
    caption = None
    if len(shown) < len(report.nodes):
        caption = _text(f"{len(shown)} of {len(report.nodes):,} nodes shown: failures, undefined, "
                        "kinks, then the largest errors (--all lists every node)")
    table = Table(title=_text(f"{name}: local Jacobians against finite differences"),
                  title_justify="left", caption=caption, caption_justify="left")
    table.add_column("node", no_wrap=True)
    table.add_column("line", no_wrap=True)
    table.add_column("w.r.t.", min_width=6)
    table.add_column("error", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for node_check in shown:
        node = node_check.node
        status = _status(node_check, report.tolerance)
        operands = ", ".join(edge.operand.label for edge in node_check.edges)
        error = "—" if np.isnan(node_check.error) else f"{node_check.error:.1e}"
        table.add_row(_text(f"{node.label} = {node.call_text}"), _text(node.source),
                      _text(operands), Text(error), Text(status, style=_STATUS_STYLE[status]))
    return table


def _rows_shown(report, rows: int | None) -> list:
    """The node checks to list, in tape order: all of them when they fit in ``rows``, else
    every failure and then, up to ``rows``, undefined ones, kinks and the largest errors
    (a table of 10⁵ rows says less, and takes a minute to print)."""
    if rows is None or len(report.nodes) <= rows:
        return list(report.nodes)
    order = {"FAIL": 0, "undefined": 1, "kink": 2, "ok": 3}

    def priority(index: int):
        node_check = report.nodes[index]
        error = node_check.error
        return (order[_status(node_check, report.tolerance)],
                -error if not np.isnan(error) else 0.0, index)

    ranked = sorted(range(len(report.nodes)), key=priority)
    keep = max(rows, len(report.failures))
    return [report.nodes[index] for index in sorted(ranked[:keep])]


def _status(node_check, tolerance: float) -> str:
    if not node_check.passed(tolerance):
        return "FAIL"
    if node_check.undefined:
        return "undefined"
    return "kink" if node_check.kink else "ok"


def _check_summary(report) -> Text:
    count = sum(len(node.edges) for node in report.nodes)
    worst = report.worst
    if worst is None:
        return Text(f"nothing to check: no operation depends on an input ({count} edges)")
    where = f"{worst.node.label} = {worst.node.call_text}, {worst.node.source}"
    if report.passed:
        return _text(f"{count} local Jacobians within {report.tolerance:g} (worst "
                     f"{worst.error:.1e} at {where})", style="green")
    failures = report.failures
    return _text(f"{len(failures)} of {len(report.nodes)} nodes exceed {report.tolerance:g} "
                 f"(worst {worst.error:.1e} at {where})", style="bold red")


def _text(text, style: str = "") -> Text:
    """Text that holds the user's names, for Rich: shown as written, never read as markup,
    control characters escaped (see :mod:`graphviz_ad.safe_text`)."""
    return Text(printable(text), style=style)


def _add_compare_command(commands, script) -> None:
    compare = commands.add_parser(
        "compare", parents=[script], help="check a hand-written backward pass against the "
        "traced one",
        description="Check a hand-written backward pass: the comparisons the script makes "
        "(graphviz_ad.compare(forward, backward, *inputs)), or else the function --backward "
        "(default: FORWARD_backward, or backward) against the traced function --forward "
        "(default: forward, or the traced function that has a FORWARD_backward), run on the "
        "inputs it was traced with.  Prints each gradient's error and the first line of the "
        "backward that gets an adjoint wrong, with the kind of mistake.  Exits with status 1 "
        "when a returned gradient differs.",
    )
    compare.add_argument("--forward", metavar="NAME",
                         help="the forward function (a scalar loss the script traces)")
    compare.add_argument("--backward", metavar="NAME",
                         help="the hand-written backward: same arguments, returns the "
                         "gradients (a dict by input name, a tuple in argument order, or "
                         "one array)")
    compare.set_defaults(handler=_compare)


def _compare(args) -> int:
    chosen = _comparisons(args, args.forward, args.backward)
    console = Console(highlight=False)
    for report in chosen:
        console.print(Text(str(report)), end="\n\n", soft_wrap=True)
    return 0 if all(report.passed for report in chosen) else 1


def _comparisons(args, forward: str | None, backward: str | None) -> list:
    """The comparisons the script makes (those of ``forward`` and ``backward`` when named),
    or else ``backward`` compared with ``forward`` on the inputs the script traced it with.
    """
    reports: list = []
    namespace: dict = {}
    comparison_listeners.append(reports.append)
    try:
        graphs = _run(args.file, args.script_args, namespace)
    finally:
        comparison_listeners.remove(reports.append)
    chosen = [report for report in reports
              if forward in (None, report.graph.name) and backward in (None, report.backward)]
    return chosen or [_compare_by_name(args, graphs, namespace, forward, backward)]


def _compare_by_name(args, graphs, namespace: dict, forward_name: str | None,
                     backward_name: str | None):
    """Compare ``backward_name`` with ``forward_name``, run on the inputs the script traced
    it with (the names found as the compare command's help says when not given)."""
    functions = sorted(name for name, value in namespace.items()
                       if callable(value) and getattr(value, "__module__", None) ==
                       namespace.get("__name__"))
    if forward_name is None:
        traced = [graph.name for graph in graphs]
        forward_name = "forward" if "forward" in traced else next(
            (name for name in traced if f"{name}_backward" in functions), None)
    if forward_name is None:
        raise UsageError(f"{args.file} makes no comparison and no traced function has a "
                         "NAME_backward beside it; name them with --forward NAME --backward "
                         f"NAME (its functions: {', '.join(functions) or 'none'})")
    backward_name = backward_name or (f"{forward_name}_backward"
                                      if f"{forward_name}_backward" in functions else "backward")
    for name in (forward_name, backward_name):
        if name not in functions:
            raise UsageError(f"{args.file} defines no function {name!r}; its functions: "
                             f"{', '.join(functions) or 'none'}")
    graph = next((graph for graph in graphs if graph.name == forward_name), None)
    if graph is None:
        raise Failure(f"{args.file} never traces {forward_name}, so its inputs are unknown; "
                      f"call graphviz_ad.trace({forward_name}, *inputs) or "
                      f"graphviz_ad.compare({forward_name}, {backward_name}, *inputs) in it")
    forward, backward = namespace[forward_name], namespace[backward_name]
    arguments = _traced_arguments(forward, graph)
    try:
        return compare_backward(forward, backward, *arguments)
    except Exception as error:
        raise ScriptError(os.path.abspath(args.file), error) from None


def _traced_arguments(forward, graph) -> list:
    """The arguments ``forward`` was traced with, rebuilt from the graph's inputs: ``W`` is
    an input, ``xs`` the list of inputs ``xs[0]``, ``xs[1]``…"""
    from inspect import signature

    arguments = []
    for name in signature(forward).parameters:
        if name in graph.inputs:
            arguments.append(graph.inputs[name].value)
            continue
        items = [graph.inputs[f"{name}[{i}]"].value for i in range(len(graph.inputs))
                 if f"{name}[{i}]" in graph.inputs]
        if not items:
            raise Failure(f"the argument {name!r} of {graph.name} is not an array input of its "
                          "trace, so it cannot be passed again; call graphviz_ad.compare("
                          f"{graph.name}, backward, *inputs) in the script instead")
        arguments.append(items)
    return arguments


def _add_explain_command(commands, graph_option) -> None:
    explain = commands.add_parser(
        "explain", help="say why an input's gradient is zero, or NaN",
        description="Explain the gradient of INPUT (an input's name, or a node's label such "
        "as u7) in each traced graph: where every path from it to the output stops (an "
        "inactive ReLU, a clamp, the branch np.where did not take, an overwritten entry, "
        "contributions that cancel) or why there is no path at all; and for a NaN or "
        "infinite gradient, where the backward pass first gave it (and what hid it from the "
        "forward output).",
    )
    explain.add_argument("file", metavar="FILE",
                         help="a Python script that calls graphviz_ad.trace, or the name of a "
                         "bundled example (see: graphviz-ad examples)")
    explain.add_argument("input", metavar="INPUT",
                         help="the input (or node) whose gradient to explain")
    explain.add_argument("script_args", metavar="ARG", nargs="*",
                         help="arguments for the script (its sys.argv[1:])")
    explain.add_argument("--traceback", action="store_true",
                         help="show every frame of an error's traceback, not only the "
                         "script's")
    graph_option(explain, "only this graph")
    explain.set_defaults(handler=_explain)


def _explain(args) -> int:
    console = Console(highlight=False)
    selected = _selected(args)
    for number, (name, graph) in enumerate(selected):
        scalar = np.size(graph.value) == 1
        seed = None if scalar else np.ones(graph.output.shape)  # ȳ = 1: the sum's gradient
        try:
            explanation = graph.explain(args.input, seed=seed)
        except KeyError as error:
            raise UsageError(error.args[0]) from None
        if len(selected) > 1:
            console.print(_text(f"{name}:"), style="bold")
        if not scalar:
            console.print(_text(f"(the output has shape {graph.output.shape}: this is the "
                                "gradient of the sum of its entries, seed ȳ = 1)"), soft_wrap=True)
        for line in explanation.text.splitlines():
            console.print(_text(line), soft_wrap=True)
        if number + 1 < len(selected):
            console.print()
    return 0


def _examples(args) -> int:
    examples = catalogue()
    width = max(len(example.name) for example in examples)
    for example in examples:
        print(f"{example.name:<{width}}  {example.summary}")
    folder = os.path.dirname(examples[0].path)
    print(f"\nOpen one by name: graphviz-ad tui NAME (graphviz-ad demo opens {DEMO}).")
    print(f"The scripts are in {folder}")
    return 0


def _ops(args) -> int:
    sys.stdout.write(ops.markdown() if args.markdown else ops.text())
    return 0


def _add_practice_command(commands, script) -> None:
    practice = commands.add_parser(
        "practice", parents=[script], help="practise the chain rule: type each contribution "
        "of a pass before it is revealed",
        description="Step through the backward pass, then the forward tangents, of a traced "
        "graph, answering before each contribution is revealed: type the number (or a small "
        "array as [1, 2, 3]), or pick the edge's rule among four when the contribution has "
        f"more than {MAX_TYPED} entries.  A wrong answer gets the rule as a hint and a "
        "second try; the score comes at the end.",
    )
    practice.add_argument("--graph", metavar="NAME",
                          help="the graph to practise on when the script traced several")
    practice.add_argument("--mode", choices=("backward", "tangent"),
                          help="practise only this pass (default: backward, then tangent)")
    practice.add_argument("--ask", choices=ASK, default="auto",
                          help="auto: numbers where they can be typed, rules otherwise; "
                          "rules: pick the rule at every step; both: the rule, then the "
                          "number (default: auto)")
    practice.set_defaults(handler=_practice)


def _practice(args) -> int:
    graphs, _ = _collect(args)
    graph = _choose(graphs, args.graph)
    modes = ("backward", "tangent") if args.mode is None else (args.mode,)
    found, notes = practice_exercises(graph, modes, ask=args.ask)
    if not found:
        instead = "; practise --mode tangent instead" if modes == ("backward",) else ""
        raise Failure("; ".join(notes) + instead)
    from tui.practice_app import run_practice  # Textual loads only when practice starts

    score = run_practice(graph, found, notes)
    print(f"{graph.name}: {score.text}")
    return 0
