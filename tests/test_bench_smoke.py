"""Smoke test of the benchmarks: every workload runs once at its --quick sizes.

Nothing here is about time: each workload checks that graphviz-ad's result matches its
reference before timing it, so this catches a benchmark that has fallen out of step with
the library (a renamed API, a wrong gradient), and the table and JSON are produced.
"""

import json

import pytest

from bench import __main__ as bench_main
from bench import harness, workloads

QUICK = harness.Settings(quick=True, warmup=0)


@pytest.mark.parametrize("key", list(workloads.ALL))
def test_workload_runs_at_quick_sizes(key):
    result = workloads.ALL[key].run(QUICK)
    ours = result.get(result.ours)
    assert ours is not None and ours.seconds > 0
    if result.floor is not None:
        assert result.get(result.floor) is not None
    for measurement in result.measurements:
        assert (measurement.peak_bytes is None) == (measurement.memory_method is None)
    json.dumps(harness.to_json(result))
    table = harness.detail_table(result)
    assert table.startswith(f"### {key}:")
    assert all(m.implementation in table for m in result.measurements)


def test_command_line_writes_json_and_markdown(tmp_path, capsys):
    output = tmp_path / "results.json"
    page = tmp_path / "performance.md"
    page.write_text(f"Intro\n\n{bench_main.BEGIN}\nold table\n{bench_main.END}\n\nOutro\n")
    arguments = ["--quick", "W6", "--output", str(output), "--markdown", str(page)]
    assert bench_main.main(arguments) == 0
    text = page.read_text()
    assert text.startswith("Intro\n") and text.endswith("\nOutro\n")
    assert "old table" not in text and "### W6:" in text
    document = json.loads(output.read_text())
    assert document["quick"] is True
    (w6,) = document["results"]
    assert w6["key"] == "W6"
    assert {m["implementation"] for m in w6["measurements"]} >= {"graphviz-ad"}
    assert "## Summary" in capsys.readouterr().out


def test_an_isolated_run_measures_each_implementation_in_its_own_process():
    settings = harness.Settings(quick=True, warmup=0, isolate=True, workload="W6")
    result = workloads.ALL["W6"].run(settings)
    ours = result.get(harness.OURS)
    assert ours is not None and ours.seconds > 0 and ours.per == 1_000
    assert ours.memory_method == "rss" and ours.traced_bytes is not None
    torch = result.get("torch")
    if torch is not None:  # its own allocator: RSS only
        assert torch.traced_bytes is None and torch.memory_method == "rss"


def test_a_child_loads_only_the_peer_it_measures():
    from bench.child import peer_of

    assert peer_of("torch jacrev") == "torch"
    assert peer_of("autograd") == "autograd"
    assert peer_of("micrograd") == "micrograd"
    assert peer_of("numpy by hand") == peer_of(harness.OURS) == "none"


def test_a_short_job_is_called_several_times_per_sample():
    calls = []
    settings = harness.Settings(repeats=3, warmup=1)
    (measurement,) = harness.measure([harness.Job("tiny", lambda: calls.append(1))], settings)
    assert len(measurement.times) == 3
    assert len(calls) > 1 + 2 + 3  # warm-up, two memory runs, then many calls per sample


def test_runs_combine_into_the_median_run_with_the_spread():
    def run_with(seconds):
        result = harness.Result("W0", "test", floor=None)
        result.measurements = [harness.Measurement(harness.OURS, seconds, [seconds])]
        return result

    combined = harness.combine([run_with(3.0), run_with(1.0), run_with(2.0)])
    ours = combined.get(harness.OURS)
    assert ours.seconds == 2.0 and ours.spread == (1.0, 3.0)
    assert sorted(ours.run_medians) == [1.0, 2.0, 3.0]
    table = harness.detail_table(combined)
    assert "1 s–3 s" in table
