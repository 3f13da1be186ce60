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
