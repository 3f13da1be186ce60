"""Timing, memory and reporting shared by every workload.

Time: each implementation runs its whole job (trace or build, forward, backward) ``warmup``
times untimed, then ``repeats`` times under ``time.perf_counter``; the **median** is
reported, so one slow run (a page-fault storm, the garbage collector) does not move it.

Memory: one more run, on its own, measures the peak.  For numpy-based code (numpy,
graphviz-ad, autograd, micrograd) that is ``tracemalloc``'s peak above the memory in use
before the run: it sees every Python object and every numpy buffer.  PyTorch allocates its
tensors outside Python's allocator, so for torch the peak is the growth of the process's
resident set (Linux ``VmHWM`` reset through ``/proc/self/clear_refs``, after
``malloc_trim`` has handed the free heap back, so that reused memory counts again).

Ratios: every workload names a *floor* (the plain numpy forward pass of the same
computation, or the closest plain-Python equivalent) and every time is also shown as
graphviz-ad's time divided by that implementation's, so ``0.8`` in the column ``autograd``
means graphviz-ad took 80 % of autograd's time.
"""

from __future__ import annotations

import ctypes
import gc
import re
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

OURS = "graphviz-ad"
MIB = 2**20


@dataclass
class Measurement:
    """One implementation of one workload: median time and peak memory."""

    implementation: str
    seconds: float  # median of the timed repeats
    times: list[float]  # every timed repeat, in order
    peak_bytes: int | None = None
    memory_method: str | None = None  # "tracemalloc" or "rss"
    per: int | None = None  # the count that "per op" / "per step" figures divide by

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

    def pick(self, full, quick):
        """The full-size value, or its small counterpart in quick mode."""
        return quick if self.quick else full


@dataclass(frozen=True)
class Job:
    """One implementation of a workload: ``run()`` does the whole computation each call.

    ``memory`` is ``"tracemalloc"``, ``"rss"`` (for libraries with their own allocator) or
    ``"none"``; ``per`` is the count that per-op figures divide by.
    """

    implementation: str
    run: Callable[[], object]
    memory: str = "tracemalloc"
    per: int | None = None


def measure(jobs: list[Job], settings: Settings, repeats: int | None = None) -> list[Measurement]:
    """Time the jobs side by side, then measure each one's peak memory.

    Every job is warmed up, then the jobs take turns: round ``r`` runs each of them once,
    starting from a different one each round, so a burst of load on the machine lands on
    all of them alike instead of on whichever happened to run then.  A job's result is
    kept until its timer has stopped, so freeing it is not timed.
    """
    count = 1 if settings.quick else (repeats or settings.repeats)
    for job in jobs:
        for _ in range(settings.warmup):
            job.run()
    times: list[list[float]] = [[] for _ in jobs]
    for round_ in range(count):
        for offset in range(len(jobs)):
            which = (round_ + offset) % len(jobs)
            gc.collect()
            start = time.perf_counter()
            result = jobs[which].run()
            times[which].append(time.perf_counter() - start)
            del result
    measurements = []
    for job, job_times in zip(jobs, times):
        measurement = Measurement(job.implementation, statistics.median(job_times), job_times,
                                  per=job.per)
        if job.memory != "none":
            measurement.peak_bytes = peak_memory(job.run, job.memory)
            measurement.memory_method = job.memory
        measurements.append(measurement)
    return measurements


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


def format_memory(measurement: Measurement) -> str:
    if measurement.peak_bytes is None:
        return "—"
    suffix = " (RSS)" if measurement.memory_method == "rss" else ""
    return f"{measurement.peak_bytes / MIB:.1f}{suffix}"


def detail_table(result: Result) -> str:
    """One workload: every implementation's median, its ratio to the floor, peak memory
    and graphviz-ad's time relative to it."""
    per_header = f" | {result.unit}" if result.unit else ""
    lines = [
        f"### {result.key}: {result.title}",
        "",
        f"| implementation | median{per_header} | × floor | peak MiB | {OURS} ÷ this |",
        "|---|---|---|---|---|" + ("---|" if result.unit else ""),
    ]
    for m in result.measurements:
        name = m.implementation + (" (floor)" if m.implementation == result.floor else "")
        per = ""
        if result.unit:
            per = f" | {m.per_unit() * 1e6:.2f}" if m.per else " | —"
        floor_ratio = result.ratio(m.implementation, result.floor) if result.floor else None
        ours = result.ratio(result.ours, m.implementation)
        lines.append(
            f"| {name} | {format_time(m.seconds)}{per} | {format_ratio(floor_ratio)} | "
            f"{format_memory(m)} | {format_ratio(ours)} |"
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
                "per": m.per,
                "ratio_to_floor": result.ratio(m.implementation, result.floor)
                if result.floor
                else None,
                "ours_divided_by_this": result.ratio(result.ours, m.implementation),
            }
            for m in result.measurements
        ],
    }
