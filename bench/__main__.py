"""``python -m bench [--quick] [W1 W2 …]``: run the workloads, print tables, write JSON."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

from . import harness, peers, workloads

RESULTS = Path(__file__).parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("keys", nargs="*", metavar="W", help="workloads to run (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and one repeat: a smoke run in seconds")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats (median)")
    parser.add_argument("--runs", type=int, default=None,
                        help="whole runs of each workload, for the run-to-run spread "
                             "(default 3, or 1 with --quick)")
    parser.add_argument("--in-process", action="store_true",
                        help="measure every implementation in this one process instead of "
                             "a fresh process each (faster, but peers share a process)")
    parser.add_argument("--output", type=Path, default=None,
                        help="JSON file to write (default: bench/results/<time>.json)")
    parser.add_argument("--markdown", type=Path, default=None, metavar="FILE",
                        help="also put the tables into FILE, between its bench markers "
                             "(docs/performance.md), keeping the text around them")
    args = parser.parse_args(argv)
    unknown = [key for key in args.keys if key.upper() not in workloads.ALL]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {list(workloads.ALL)}")
    keys = [key.upper() for key in args.keys] or list(workloads.ALL)
    settings = harness.Settings(quick=args.quick, repeats=args.repeats,
                                isolate=not args.in_process)
    runs = args.runs or (1 if args.quick else 3)

    results = []
    started = time.perf_counter()
    for key in keys:
        keyed = replace(settings, workload=key)
        result = harness.combine([workloads.ALL[key].run(keyed) for _ in range(runs)])
        if settings.quick and result.target:
            result.met = None  # the targets are about full sizes
            result.verdict = f"not judged at --quick sizes: {result.verdict}"
        results.append(result)
        print(harness.detail_table(result), end="\n\n", flush=True)
    summary = harness.summary_table(results)
    print(f"## Summary (graphviz-ad's median ÷ each)\n\n{summary}")
    print(f"\n{len(results)} workload(s) in {time.perf_counter() - started:.0f} s")

    command = " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)])
    if args.markdown:
        write_markdown(args.markdown, command, results, summary)
        print(f"tables: {args.markdown}")
    path = args.output or RESULTS / f"{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "command": command,
        "quick": args.quick,
        "repeats": args.repeats,
        "runs": runs,
        "isolated": not args.in_process,
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "threads": 1},
        "versions": peers.versions(),
        "results": [harness.to_json(result) for result in results],
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    print(f"results: {path}")
    return 0


BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def write_markdown(path: Path, command: str, results, summary: str) -> None:
    """Replace what lies between the bench markers of ``path`` (or create it) with the
    command, the machine, the summary and every workload's table."""
    versions = ", ".join(f"{name} {version}" for name, version in peers.versions().items()
                         if version)
    block = "\n\n".join([
        BEGIN,
        f"Produced by `{command}` on {datetime.date.today():%Y-%m-%d}: "
        f"{platform.machine()}, {os.cpu_count()} cores, one thread, Python "
        f"{platform.python_version()}; {versions}.  Each implementation ran in a fresh "
        "process of its own unless the command says `--in-process`.",
        "### Summary: graphviz-ad's median ÷ each",
        summary,
        *(harness.detail_table(result) for result in results),
        END,
    ])
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text + ("\n\n" if text else "") + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


if __name__ == "__main__":
    raise SystemExit(main())
