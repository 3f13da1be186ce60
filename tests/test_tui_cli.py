"""Starting the debugger: ``python -m tui FILE``, ``--demo`` and ``gad.debug(graph)``."""

from __future__ import annotations

import textwrap

import pytest

import graphviz_ad as gad
import tui
import tui.__main__ as cli


@pytest.fixture
def opened(monkeypatch):
    """Calls of run_app, recorded instead of opening the app."""
    calls = []
    monkeypatch.setattr(cli, "run_app", lambda graphs, **options: calls.append((graphs, options)))
    monkeypatch.setattr(tui, "run_app", lambda graphs, **options: calls.append((graphs, options)))
    return calls


def write(folder, text: str):
    path = folder / "model.py"
    path.write_text(textwrap.dedent(text))
    return path


SCRIPT = """
    import numpy as np
    import graphviz_ad as gad

    def loss(w):
        return np.sum(w ** 2)

    def cube(x):
        return x ** 3

    gad.trace(loss, np.ones(3))
    gad.trace(cube, 2.0)
"""


def test_a_script_opens_every_graph_it_traced(tmp_path, opened):
    assert cli.main([str(write(tmp_path, SCRIPT))]) == 0
    ((graphs, options),) = opened
    assert [graph.name for graph in graphs] == ["loss", "cube"]
    assert options == {"mode": "forward", "start": None, "graphviz_layout": False}


def test_graph_and_mode_options_pick_the_graph_and_the_pass(tmp_path, opened):
    script = str(write(tmp_path, SCRIPT))
    assert cli.main([script, "--graph", "cube", "--mode", "backward", "--graphviz-layout"]) == 0
    ((graphs, options),) = opened
    assert options == {"mode": "backward", "start": 1, "graphviz_layout": True}
    assert graphs[1].name == "cube"


def test_an_unknown_graph_name_lists_the_choices(tmp_path, opened, capsys):
    assert cli.main([str(write(tmp_path, SCRIPT)), "--graph", "nope"]) == 2
    assert "loss, cube" in capsys.readouterr().err
    assert opened == []


def test_a_script_that_traces_nothing(tmp_path, opened, capsys):
    assert cli.main([str(write(tmp_path, "x = 1\n"))]) == 1
    assert "traced no graphs" in capsys.readouterr().err


def test_a_failing_script_shows_its_own_traceback(tmp_path, opened, capsys):
    script = write(tmp_path, "def f():\n    raise ValueError('bad input')\nf()\n")
    assert cli.main([str(script)]) == 1
    err = capsys.readouterr().err
    assert "model.py" in err and "ValueError: bad input" in err
    assert opened == []


def test_demo_opens_the_neuron(opened):
    assert cli.main(["--demo"]) == 0
    ((graphs, options),) = opened
    assert {graph.name for graph in graphs} == {"neuron"}
    assert options["start"] == 0


def test_no_script_is_a_usage_error(opened):
    with pytest.raises(SystemExit) as exit:
        cli.main([])
    assert exit.value.code == 2


def test_debug_opens_the_app_on_the_graphs(opened):
    graph = gad.trace(lambda x: x + x**2, 3.0)
    gad.debug(graph, mode="backward")
    assert opened == [([graph], {"mode": "backward"})]


def test_arguments_after_a_double_dash_go_to_the_script(tmp_path, opened):
    script = write(tmp_path, """
        import sys
        import graphviz_ad as gad
        gad.trace(lambda x: x * float(sys.argv[1]), 2.0)
    """)
    assert cli.main([str(script), "--", "5"]) == 0
    ((graphs, _),) = opened
    assert float(graphs[0].value) == 10.0
