"""``python -m tui FILE [--graph NAME] [--mode MODE] [-- ARGS…]``: run a script (with ARGS
as its command line), then step through the graphs it traced.

``python -m tui --demo`` opens the bundled neuron example (max(0, w · x + b)).
"""

from __future__ import annotations

import argparse
import sys

from graphviz_ad import examples
from graphviz_ad.collect import ScriptError, choose, run_script
from graphviz_ad.notation import MODES

from . import run_app


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    script_args = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(
        prog="python -m tui",
        description="Run a Python script and step through the graphs graphviz_ad.trace built.",
        epilog="Arguments after -- are passed to the script.")
    parser.add_argument("script", nargs="?", help="the script to run")
    parser.add_argument("--graph", metavar="NAME", help="open this graph (see the chooser)")
    parser.add_argument("--mode", choices=MODES, default="forward", help="pass to start in")
    parser.add_argument("--demo", action="store_true", help="open the neuron example")
    parser.add_argument("--graphviz-layout", action="store_true",
                        help="order the whole graph with Graphviz when it is installed "
                             "(it gives up after a few seconds on large graphs)")
    options = parser.parse_args(argv)
    if options.demo:
        script, run_name = str(examples.find("neuron").path), "graphviz_ad.examples.neuron"
    elif options.script:
        script, run_name = options.script, "__main__"
    else:
        parser.error("give a script to run, or --demo")
    try:
        graphs = run_script(script, script_args, run_name=run_name)
    except ScriptError as error:
        print(error.user_traceback(), file=sys.stderr, end="")
        print(error, file=sys.stderr)
        return 1
    if not graphs:
        print(f"{script} traced no graphs: call graphviz_ad.trace(f, *inputs) in it",
              file=sys.stderr)
        return 1
    start = 0 if options.demo else None
    if options.graph is not None:
        try:
            start = graphs.index(choose(graphs, options.graph))
        except LookupError as error:
            print(error, file=sys.stderr)
            return 2
    run_app(graphs, mode=options.mode, start=start, graphviz_layout=options.graphviz_layout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
