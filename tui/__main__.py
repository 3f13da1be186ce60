"""``python -m tui FILE [--graph NAME]``: run a script, then step through the graphs it traced.

``python -m tui --demo`` opens the bundled neuron example (max(0, w · x + b)).
"""

from __future__ import annotations

import argparse
import sys

from graphviz_ad import examples
from graphviz_ad.collect import ScriptError, choose, graph_names, run_script

from . import run_app
from .screens.debug import MODES


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tui",
        description="Run a Python script and step through the graphs graphviz_ad.trace built.")
    parser.add_argument("script", nargs="?", help="the script to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    parser.add_argument("--graph", metavar="NAME", help="open this graph (see the chooser)")
    parser.add_argument("--mode", choices=MODES, default="forward", help="pass to start in")
    parser.add_argument("--demo", action="store_true", help="open the neuron example")
    options = parser.parse_args(argv)
    if options.demo:
        script, run_name = str(examples.find("neuron").path), "graphviz_ad.examples.neuron"
    elif options.script:
        script, run_name = options.script, "__main__"
    else:
        parser.error("give a script to run, or --demo")
    try:
        graphs = run_script(script, options.args, run_name=run_name)
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
    elif len(graphs) > 1 and not options.demo:
        print(f"{len(graphs)} graphs: {', '.join(graph_names(graphs))}", file=sys.stderr)
    run_app(graphs, mode=options.mode, start=start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
