"""Timing, memory and reporting shared by every workload.

Isolation: in a full run (``python -m bench``) every implementation of a workload runs in a
fresh Python process of its own (``python -m bench.child``), which imports only the peer
library it needs.  A library loaded beside another changes its costs: PyTorch's import
alone makes every run of Python's garbage collector several times longer, which would be
charged to whoever shares the process.  ``--in-process`` (and the smoke tests) keep the old
single process, faster but less fair.

Time: each implementation runs its whole job (trace or build, forward, backward) ``warmup``
times untimed, then ``repeats`` timed samples under ``time.perf_counter``; the **median**
per call is reported.  A job shorter than :data:`MIN_SAMPLE` is called several times per
sample (as ``timeit`` does), so that a 10 µs floor is timed warm, like everything else,
and not after the garbage collector has just flushed the caches (``gc.collect()`` runs
between samples, never between the calls of one sample).

Memory: one more run, after the warm-up, measures the peak two ways.  **RSS** for every
implementation: the growth of the process's resident set (Linux ``VmHWM`` reset through
``/proc/self/clear_refs``, after ``malloc_trim`` has handed the free heap back), the only
measure that sees PyTorch's own allocator.  **tracemalloc** beside it for the numpy-based
ones (numpy, graphviz-ad, autograd, micrograd): every Python object and numpy buffer, byte
exact, independent of the allocator's page-sized steps.

Ratios: every workload names a *floor* (the plain numpy forward pass of the same
computation, or the closest plain-Python equivalent) and every time is also shown as
graphviz-ad's time divided by that implementation's, so ``0.8`` in the column ``autograd``
means graphviz-ad took 80 % of autograd's time.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

OURS = "graphviz-ad"
MIB = 2**20
MIN_SAMPLE = 0.02  # seconds: a shorter job is called several times per timed sample


@dataclass
class Measurement:
    """One implementation of one workload: median time and peak memory."""

    implementation: str
    seconds: float  # median of the timed repeats
    times: list[float]  # every timed repeat, in order
    peak_bytes: int | None = None  # RSS growth at the peak of one run
    memory_method: str | None = None  # "rss" when peak_bytes was measured
    per: int | None = None  # the count that "per op" / "per step" figures divide by
    traced_bytes: int | None = None  # tracemalloc's peak (numpy-based implementations)
    spread: tuple[float, float] | None = None  # lowest and highest median over the runs
    run_medians: list[float] = field(default_factory=list)  # one median per run

    def per_unit(self) -> float | None:
        return self.seconds / self.per if self.per else None


@dataclass
class Result:
    """A workload's measurements, which of them is the floor, and its target."""

    key: str
    title: str
    floor: str | None
    measurements: list[Measurement] = field(default_factory=list)
    target: str = ""
    met: bool | None = None
    verdict: str = ""  # the numbers behind ``met``, in words
    notes: list[str] = field(default_factory=list)
    unit: str | None = None  # e.g. "µs per op": shown when measurements have ``per``
    extra: dict = field(default_factory=dict)  # workload-specific figures (W10's exponent)
    ours: str = OURS  # the graphviz-ad row the ratio columns compare (W4 has two modes)

    def get(self, implementation: str) -> Measurement | None:
        return next((m for m in self.measurements if m.implementation == implementation), None)

    def ratio(self, implementation: str, reference: str) -> float | None:
        """``implementation``'s median divided by ``reference``'s (None if either is absent)."""
        ours, theirs = self.get(implementation), self.get(reference)
        if ours is None or theirs is None or theirs.seconds == 0:
            return None
        return ours.seconds / theirs.seconds


@dataclass(frozen=True)
class Settings:
    """How hard to measure: full runs, or the reduced sizes of ``--quick``."""

    quick: bool = False
    repeats: int = 7
    warmup: int = 1
    isolate: bool = False  # each implementation in a fresh process (``python -m bench``)
    workload: str | None = None  # the key of the workload running (to start its children)
    only: str | None = None  # in a child process: the one implementation to measure

    def pick(self, full, quick):
        """The full-size value, or its small counterpart in quick mode."""
        return quick if self.quick else full


@dataclass(frozen=True)
class Job:
    """One implementation of a workload: ``run()`` does the whole computation each call.

    ``memory`` is ``"tracemalloc"`` (numpy-based code: RSS and tracemalloc), ``"rss"``
    (libraries with their own allocator: RSS only) or ``"none"``; ``per`` is the count that
    per-op figures divide by.
    """

    implementation: str
    run: Callable[[], object]
    memory: str = "tracemalloc"
    per: int | None = None


class Measured(Exception):
    """Raised by :func:`measure` in a child process, carrying its one measurement back past
    the workload's own verdicts (which need every implementation's)."""

    def __init__(self, measurement: Measurement):
        super().__init__(measurement.implementation)
        self.measurement = measurement


def measure(jobs: list[Job], settings: Settings, repeats: int | None = None) -> list[Measurement]:
    """Time the jobs, then measure each one's peak memory.

    In-process, every job is warmed up, then the jobs take turns: round ``r`` runs each of
    them once, starting from a different one each round, so a burst of load on the machine
    lands on all of them alike.  With ``settings.isolate`` each job is measured the same
    way in a child process of its own (see :func:`run_child`).  A job's result is kept
    until its timer has stopped, so freeing it is not timed.
    """
    count = 1 if settings.quick else (repeats or settings.repeats)
    if settings.only is not None:  # in a child: this implementation only
        (job,) = [job for job in jobs if job.implementation == settings.only]
        raise Measured(_measure_here([job], settings, count)[0])
    if settings.isolate:
        return [_measure_in_child(job, settings, count) for job in jobs]
    return _measure_here(jobs, settings, count)


def _measure_here(jobs: list[Job], settings: Settings, count: int) -> list[Measurement]:
    calls = []
    for job in jobs:
        start = time.perf_counter()
        for _ in range(settings.warmup):
            job.run()
        each = (time.perf_counter() - start) / max(settings.warmup, 1)
        calls.append(1 if settings.quick or each >= MIN_SAMPLE
                     else min(1000, int(MIN_SAMPLE / max(each, 1e-7)) + 1))
    memory = [_peaks(job) for job in jobs]  # before timing: a fresh process's first peak
    times: list[list[float]] = [[] for _ in jobs]
    for round_ in range(count):
        for offset in range(len(jobs)):
            which = (round_ + offset) % len(jobs)
            run, number = jobs[which].run, calls[which]
            gc.collect()
            start = time.perf_counter()
            for _ in range(number):
                result = run()
            times[which].append((time.perf_counter() - start) / number)
            del result
    measurements = []
    for job, job_times, (rss, traced) in zip(jobs, times, memory):
        median = statistics.median(job_times)
        measurement = Measurement(job.implementation, median, job_times, per=job.per,
                                  traced_bytes=traced, run_medians=[median])
        if rss is not None:
            measurement.peak_bytes, measurement.memory_method = rss, "rss"
        measurements.append(measurement)
    return measurements


def _peaks(job: Job) -> tuple[int | None, int | None]:
    """(RSS growth, tracemalloc peak) of one run; tracemalloc for numpy-based code only."""
    if job.memory == "none":
        return None, None
    rss = peak_memory(job.run, "rss")
    traced = peak_memory(job.run, "tracemalloc") if job.memory == "tracemalloc" else None
    return rss, traced


def _measure_in_child(job: Job, settings: Settings, count: int) -> Measurement:
    """Run ``python -m bench.child`` for one implementation and read its measurement."""
    command = [sys.executable, "-m", "bench.child", settings.workload, job.implementation,
               "--repeats", str(count), "--warmup", str(settings.warmup)]
    if settings.quick:
        command.append("--quick")
    folder = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.pathsep.join(filter(None, [folder, os.environ.get("PYTHONPATH")]))
    done = subprocess.run(command, capture_output=True, text=True, cwd=folder,
                          env={**os.environ, "PYTHONPATH": path})
    if done.returncode != 0:
        raise RuntimeError(f"{settings.workload} {job.implementation}: the child process "
                           f"failed:\n{done.stderr}")
    fields = json.loads(done.stdout.strip().splitlines()[-1])
    return Measurement(**{**fields, "spread": None})


def run_child(key: str, implementation: str, settings: Settings) -> Measurement:
    """In a child process: run workload ``key`` and measure ``implementation`` only."""
    from . import workloads

    try:
        workloads.ALL[key].run(replace(settings, only=implementation, isolate=False,
                                       workload=key))
    except Measured as done:
        return done.measurement
    raise RuntimeError(f"{key} never measured {implementation!r}")


def combine(runs: list[Result]) -> Result:
    """Several runs of one workload as one result: the run whose graphviz-ad median is the
    median of the runs (its ratios and verdict, all from within that one run), with every
    implementation's run-to-run ``spread`` (lowest and highest median) beside it."""
    if len(runs) == 1:
        return runs[0]
    ordered = sorted(runs, key=lambda result: result.get(result.ours).seconds)
    chosen = ordered[(len(ordered) - 1) // 2]
    for measurement in chosen.measurements:
        medians = [result.get(measurement.implementation).seconds for result in runs
                   if result.get(measurement.implementation) is not None]
        measurement.run_medians = medians
        measurement.spread = (min(medians), max(medians))
    chosen.notes.append(f"Median run of {len(runs)}: ratios and verdict from that run; spread "
                        "is the lowest to the highest median over the runs.")
    return chosen


def check_close(what: str, actual, expected, rtol: float = 1e-9) -> None:
    """Refuse to time an implementation that computes something else: its result must match
    the reference to ``rtol`` (arrays, or dicts/sequences of arrays, compared item by item)."""
    actual, expected = (list(v.values()) if isinstance(v, dict) else v for v in (actual, expected))
    if isinstance(expected, (list, tuple)):
        for a, e in zip(actual, expected, strict=True):
            check_close(what, a, e, rtol)
        return
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if actual.shape != expected.shape or not np.allclose(actual, expected, rtol=rtol, atol=1e-12):
        raise AssertionError(f"{what}: results differ (shapes {actual.shape} and "
                             f"{expected.shape}, largest difference "
                             f"{np.max(np.abs(actual - expected), initial=0):.3g})")


def peak_memory(job: Callable[[], object], method: str) -> int | None:
    """Bytes in use at the peak of one run of ``job``, above what was in use before it."""
    gc.collect()
    if method == "tracemalloc":
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            job()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        return peak - before
    if method == "rss":
        return _rss_peak(job)
    raise ValueError(f"unknown memory method {method!r}")


def _rss_peak(job) -> int | None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # reset the high-water mark to the current resident set
    except OSError:
        return None  # not Linux with glibc: no reliable peak
    before = _status("VmRSS")
    job()
    return _status("VmHWM") - before


def _status(key: str) -> int:
    with open("/proc/self/status") as status:
        return int(re.search(rf"{key}:\s+(\d+) kB", status.read()).group(1)) * 1024


# -- reporting -------------------------------------------------------------------------------


def format_time(seconds: float) -> str:
    """3 significant digits in a readable unit: 12.3 ms, 845 µs, 1.20 s."""
    for scale, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def format_ratio(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.2f}×"


def format_memory(bytes_: int | None) -> str:
    return "—" if bytes_ is None else f"{bytes_ / MIB:.1f}"


def format_spread(measurement: Measurement, per: int | None = None) -> str:
    """The run-to-run spread as lowest–highest median (per unit when ``per``)."""
    if measurement.spread is None:
        return "—"
    low, high = measurement.spread
    if per:
        return f"{low / per * 1e6:.2f}–{high / per * 1e6:.2f}"
    return f"{format_time(low)}–{format_time(high)}"


def detail_table(result: Result) -> str:
    """One workload: every implementation's median, its spread over runs, its ratio to the
    floor, peak memory (RSS growth, and tracemalloc's for numpy-based code) and
    graphviz-ad's time relative to it."""
    per_header = f" | {result.unit}" if result.unit else ""
    lines = [
        f"### {result.key}: {result.title}",
        "",
        f"| implementation | median{per_header} | spread over runs | × floor | peak RSS MiB | "
        f"tracemalloc MiB | {OURS} ÷ this |",
        "|---|---|---|---|---|---|---|" + ("---|" if result.unit else ""),
    ]
    for m in result.measurements:
        name = m.implementation + (" (floor)" if m.implementation == result.floor else "")
        per = ""
        if result.unit:
            per = f" | {m.per_unit() * 1e6:.2f}" if m.per else " | —"
        floor_ratio = result.ratio(m.implementation, result.floor) if result.floor else None
        ours = result.ratio(result.ours, m.implementation)
        spread = format_spread(m, m.per if result.unit else None)
        lines.append(
            f"| {name} | {format_time(m.seconds)}{per} | {spread} | {format_ratio(floor_ratio)} "
            f"| {format_memory(m.peak_bytes)} | {format_memory(m.traced_bytes)} | "
            f"{format_ratio(ours)} |"
        )
    lines.append("")
    if result.target:
        status = {True: "**met**", False: "**missed**", None: "—"}[result.met]
        lines.append(f"Target: {result.target}: {status} ({result.verdict}).")
    lines.extend(result.notes)
    return "\n".join(lines)


PEERS = ("numpy by hand", "autograd", "torch", "micrograd")


def summary_table(results: list[Result]) -> str:
    """graphviz-ad's ratio to the floor and to each peer, one row per workload."""
    lines = [
        f"| workload | {OURS} median | × floor | ÷ numpy by hand | ÷ autograd | ÷ torch | "
        "÷ micrograd | target | met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        ours = result.get(result.ours)
        median = format_time(ours.seconds) if ours else "—"
        floor = result.ratio(result.ours, result.floor) if result.floor else None
        peers = " | ".join(format_ratio(result.ratio(result.ours, peer)) for peer in PEERS)
        status = {True: "yes", False: "**no**", None: "—"}[result.met]
        lines.append(
            f"| {result.key} | {median} | {format_ratio(floor)} | {peers} | {result.target} | "
            f"{status} |"
        )
    return "\n".join(lines)


def to_json(result: Result) -> dict:
    return {
        "key": result.key,
        "title": result.title,
        "floor": result.floor,
        "target": result.target,
        "met": result.met,
        "verdict": result.verdict,
        "notes": result.notes,
        "extra": result.extra,
        "measurements": [
            {
                "implementation": m.implementation,
                "median_seconds": m.seconds,
                "times": m.times,
                "peak_bytes": m.peak_bytes,
                "memory_method": m.memory_method,
                "traced_bytes": m.traced_bytes,
                "run_medians": m.run_medians,
                "spread": m.spread,
                "per": m.per,
                "ratio_to_floor": result.ratio(m.implementation, result.floor)
                if result.floor
                else None,
                "ours_divided_by_this": result.ratio(result.ours, m.implementation),
            }
            for m in result.measurements
        ],
    }
