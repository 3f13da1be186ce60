"""``python -m bench [--quick] [W1 W2 …]``: run the workloads, print tables, write JSON."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

from . import harness, peers, workloads

RESULTS = Path(__file__).parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("keys", nargs="*", metavar="W", help="workloads to run (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and one repeat: a smoke run in seconds")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats (median)")
    parser.add_argument("--output", type=Path, default=None,
                        help="JSON file to write (default: bench/results/<time>.json)")
    args = parser.parse_args(argv)
    unknown = [key for key in args.keys if key.upper() not in workloads.ALL]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {list(workloads.ALL)}")
    keys = [key.upper() for key in args.keys] or list(workloads.ALL)
    settings = harness.Settings(quick=args.quick, repeats=args.repeats)

    results = []
    started = time.perf_counter()
    for key in keys:
        result = workloads.ALL[key].run(settings)
        if settings.quick and result.target:
            result.met = None  # the targets are about full sizes
            result.verdict = f"not judged at --quick sizes: {result.verdict}"
        results.append(result)
        print(harness.detail_table(result), end="\n\n", flush=True)
    print("## Summary (graphviz-ad's median ÷ each)\n")
    print(harness.summary_table(results))
    print(f"\n{len(results)} workload(s) in {time.perf_counter() - started:.0f} s")

    path = args.output or RESULTS / f"{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "command": "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv),
        "quick": args.quick,
        "repeats": args.repeats,
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "threads": 1},
        "versions": peers.versions(),
        "results": [harness.to_json(result) for result in results],
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
