"""``python -m bench.child KEY IMPLEMENTATION``: measure one implementation of one workload
in this fresh process and print its measurement as one line of JSON (the last line).

Only the peer library the implementation needs is imported (see ``bench/peers.py``), so
that, say, micrograd does not pay for PyTorch being loaded beside it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os


def peer_of(implementation: str) -> str:
    """The peer library an implementation needs: ``"torch jacrev"`` → ``"torch"``; none for
    graphviz-ad and plain numpy."""
    for peer in ("torch", "autograd", "micrograd"):
        if implementation.startswith(peer):
            return peer
    return "none"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.child", description=__doc__)
    parser.add_argument("key")
    parser.add_argument("implementation")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    os.environ["BENCH_PEER"] = peer_of(args.implementation)  # read when peers.py loads

    from .harness import Settings, run_child

    settings = Settings(quick=args.quick, repeats=args.repeats, warmup=args.warmup)
    measurement = run_child(args.key, args.implementation, settings)
    print(json.dumps(dataclasses.asdict(measurement)))


if __name__ == "__main__":
    main()
