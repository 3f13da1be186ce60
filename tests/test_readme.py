"""The README's Python examples run and show what the README says they show."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_library_quick_start_runs_as_written(capsys):
    namespace: dict = {}
    exec(compile(python_blocks()[0], str(README), "exec"), namespace)
    g = namespace["g"]
    assert g.value == 2.25
    np.testing.assert_array_equal(g.grad()["w"], [3.0, 1.0, 2.0])
    assert g.output.jacobian(1).rule == "[u₂ > 0]"
    printed = capsys.readouterr().out.splitlines()
    listed = [line.split("#")[0].rstrip() for line in printed]
    documented = [
        line[2:].split("#")[0].rstrip() for line in python_blocks()[0].splitlines()
        if line.startswith("#   ") or line.startswith("# neuron")
    ]
    assert listed == documented


def test_the_step_engine_quick_start_runs_as_written(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(python_blocks()[1], str(README), "exec"), {})
    printed = capsys.readouterr().out
    assert "∂u₂/∂x += ∂u₂/∂u₁ · [2x] = 6  → ∂u₂/∂x = 7  (2 of 2, complete)" in printed
    assert "sum = 7" in printed
    assert "1 + 6 = 7" in (tmp_path / "x_plus_x2.svg").read_text(encoding="utf-8")


def test_the_check_snippet_runs_on_its_own(capsys):
    (block,) = [b for b in python_blocks() if "check_graph(" in b]
    namespace: dict = {}
    exec(compile(block, str(README), "exec"), namespace)
    printed = capsys.readouterr().out.splitlines()
    documented = [line.split("# ", 1)[1].split(":")[0] for line in block.splitlines()
                  if line.startswith("print(")]
    assert printed == documented
    assert namespace["report"].worst.node is not None
