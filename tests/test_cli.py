"""The graphviz-ad command: exit codes, outputs, and a user's errors without our traceback."""

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest

import graphviz_ad as gad
from graphviz_ad import cli
from graphviz_ad.collect import ScriptError, choose, collecting, graph_names, run_script
from graphviz_ad.examples import ORDER, find
from graphviz_ad.primitives import PRIMITIVES, Diag, Primitive
from graphviz_ad.render import binary

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ("render", "tui", "grad", "check", "examples", "demo")


def run(capsys, *argv):
    """main(argv) in this process: (exit status, stdout, stderr)."""
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def script(tmp_path, text, name="model.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


NEURON = """
    import numpy as np
    import graphviz_ad as gad

    def neuron(w, x, b):
        return np.maximum(0, w @ x + b)

    g = gad.trace(neuron, np.array([1.0, -2.0, 0.5]), np.array([3.0, 1.0, 2.0]), 0.25)
"""

FAILING = """
    import numpy as np
    import graphviz_ad as gad

    def norm(x):
        return np.unwrap(x)   # no derivative rule

    def model(x):
        return norm(x) * 2

    gad.trace(model, np.ones(3))
"""


# -- the parser ----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ("", *COMMANDS))
def test_every_command_has_help(capsys, command):
    status, out, _ = run(capsys, *([command] if command else []), "--help")
    assert status == 0
    assert out.startswith("usage: graphviz-ad")
    if command:
        assert f"graphviz-ad {command}" in out


def test_the_top_level_help_lists_every_command(capsys):
    _, out, _ = run(capsys, "--help")
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["grad"], ["grad", "x.py", "--bogus"],
                                  ["check", "x.py", "--tol", "-1"], ["render", "x.py",
                                                                     "--format", "webm"],
                                  ["render", "x.py", "--hops", "-1"]])
def test_usage_errors_exit_with_2(capsys, argv):
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert "usage:" in err and "Traceback" not in err


def test_version(capsys):
    status, out, _ = run(capsys, "--version")
    assert status == 0 and out.startswith("graphviz-ad ")


# -- FILE: running the user's script ------------------------------------------------------------


def test_a_missing_file_is_a_usage_error(capsys, tmp_path):
    status, _, err = run(capsys, "grad", str(tmp_path / "nowhere.py"))
    assert status == 2
    assert "no such file" in err and "neuron" in err  # the examples are offered


def test_a_directory_is_a_usage_error(capsys, tmp_path):
    status, _, err = run(capsys, "grad", str(tmp_path))
    assert status == 2 and "directory" in err


def test_an_exception_in_the_script_shows_only_the_users_frames(capsys, tmp_path):
    path = script(tmp_path, FAILING)
    status, _, err = run(capsys, "grad", path)
    assert status == 1
    assert "Traceback (most recent call last)" in err
    frames = [line for line in err.splitlines() if line.strip().startswith("File ")]
    assert frames and all(path in frame for frame in frames)
    assert [frame.rsplit(" in ", 1)[1] for frame in frames] == ["<module>", "model", "norm"]
    assert "np.unwrap(x)" in err
    assert "UnsupportedOperation: np.unwrap at model.py:6" in err
    assert "graphviz_ad" not in err.replace("graphviz_ad.errors", "")
    assert "--traceback" in err


def test_traceback_shows_every_frame(capsys, tmp_path):
    status, _, err = run(capsys, "grad", script(tmp_path, FAILING), "--traceback")
    assert status == 1
    assert "collect.py" in err and "dispatch.py" in err


def test_a_syntax_error_names_the_users_line(capsys, tmp_path):
    status, _, err = run(capsys, "check", script(tmp_path, "x = (\n"))
    assert status == 1
    assert "SyntaxError" in err and "model.py" in err and "line 1" in err


def test_sys_exit_with_a_failure_status_is_a_user_error(capsys, tmp_path):
    status, _, err = run(capsys, "grad", script(tmp_path, "import sys\nsys.exit(3)\n"))
    assert status == 1 and "SystemExit: 3" in err


def test_a_script_that_traces_nothing(capsys, tmp_path):
    status, out, err = run(capsys, "grad", script(tmp_path, "print('hello')\n"))
    assert status == 1
    assert out == "hello\n"
    assert "traced no graph" in err and "Traceback" not in err


def test_the_script_gets_its_arguments_and_its_folder_on_the_path(capsys, tmp_path):
    (tmp_path / "helper.py").write_text("SCALE = 2.0\n", encoding="utf-8")
    path = script(tmp_path, """
        import sys
        import graphviz_ad as gad
        from helper import SCALE
        print("args", sys.argv[1:], __name__)
        g = gad.trace(lambda x: SCALE * x, 1.0)
    """)
    argv, path_before = sys.argv[:], sys.path[:]
    status, out, _ = run(capsys, "grad", path, "--", "--epochs", "3")
    assert status == 0
    assert "args ['--epochs', '3'] __main__" in out
    assert sys.argv == argv and sys.path == path_before


def test_an_example_opened_by_name_runs_quietly(capsys):
    status, out, _ = run(capsys, "grad", "total_derivative", "--graph", "x_plus_square")
    assert status == 0
    assert "backward pass" not in out  # the example's own printout stays off


def test_render_draws_every_graph_of_a_script_to_its_own_file(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "render", "neuron", "--format", "dot")
    assert status == 0
    assert out.split() == ["wrote", "neuron-1.dot", "wrote", "neuron-2.dot"]
    active, inactive = ((tmp_path / f"neuron-{k}.dot").read_text() for k in (1, 2))
    assert "2.25" in active and "2.25" not in inactive  # the output max(0, z) of each
    status, out, _ = run(capsys, "render", "neuron", "-o", "n.dot")
    assert status == 0 and "n-1.dot" in out and "n-2.dot" in out
    status, _, err = run(capsys, "render", "neuron", "-o", "-")
    assert status == 2 and "neuron#1, neuron#2" in err and "--graph" in err


def test_graph_selection(capsys):
    status, _, err = run(capsys, "grad", "neuron", "--graph", "nope")
    assert status == 2 and "no graph named 'nope'" in err
    status, out, _ = run(capsys, "grad", "neuron", "--graph", "neuron#2")
    assert status == 0 and "neuron#2" in out and "neuron#1" not in out


# -- collect (the library side of FILE) ------------------------------------------------------------


def test_collecting_records_every_trace_in_the_block(tmp_path):
    import graphviz_ad as gad

    outside = gad.trace(lambda x: x, 1.0)
    with collecting() as graphs:
        first = gad.trace(lambda x: x * x, 3.0)
        second = gad.trace(lambda x: x + 1, 3.0)
    assert graphs == [first, second] and outside not in graphs
    gad.trace(lambda x: x, 1.0)
    assert len(graphs) == 2


def test_graph_names_number_repeated_functions():
    graphs = run_script(str(ROOT / "graphviz_ad" / "examples" / "neuron.py"), run_name="demo")
    assert graph_names(graphs) == ["neuron#1", "neuron#2"]
    assert choose(graphs, "neuron#2") is graphs[1]
    with pytest.raises(LookupError, match="2 graphs were traced"):
        choose(graphs)
    with pytest.raises(LookupError, match="no graphs"):
        choose([])


def test_run_script_raises_script_error_with_the_exception(tmp_path):
    with pytest.raises(ScriptError) as caught:
        run_script(script(tmp_path, "raise KeyError('k')\n"))
    assert isinstance(caught.value.exception, KeyError)
    assert "model.py failed: KeyError: 'k'" in str(caught.value)


# -- grad -----------------------------------------------------------------------------------------


def test_grad_prints_every_inputs_gradient(capsys, tmp_path):
    status, out, _ = run(capsys, "grad", script(tmp_path, NEURON))
    assert status == 0
    assert "neuron(w, x, b) = 2.25" in out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 2}
    assert set(rows) == {"w", "x", "b"}
    assert "[3, 1, 2]" in rows["w"] and "0.25" in rows["b"] and "│ 1 " in rows["b"]


def test_grad_of_the_scalar_rules(capsys):
    status, out, _ = run(capsys, "grad", "scalar_rules", "--digits", "17")
    assert status == 0
    assert "−1.8845208681682175" in out and "−3.5295615347875318" in out
    assert "│ 60 " in out and "│ 12 " in out


def test_grad_of_a_vector_output_shows_the_jacobian(capsys):
    status, out, _ = run(capsys, "grad", "elementwise", "--graph", "w_minus_x")
    assert status == 0
    assert "has output shape (3,)" in out
    assert "[ −1  0   0  ]" in out and "−0" not in out  # −I, without −0


def test_grad_does_not_build_a_huge_jacobian(capsys, tmp_path):
    path = script(tmp_path, """
        import numpy as np
        import graphviz_ad as gad
        gad.trace(lambda x: np.tanh(x), np.zeros(400))
    """)
    status, out, _ = run(capsys, "grad", path)
    assert status == 0 and "160,000 entries" in out and "too many" in out


# -- check ----------------------------------------------------------------------------------------


def test_check_passes_on_an_example(capsys):
    status, out, _ = run(capsys, "check", "mlp")
    assert status == 0
    assert "u₈ = exp(u₇)" in out and "mlp.py:21" in out
    assert "local Jacobians within 1e-06" in out and "FAIL" not in out


def test_check_fails_on_a_wrong_rule(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(PRIMITIVES, "sin", Primitive(
        "sin", "sin", np.sin, (Diag(lambda x, out: -np.cos(x), "cos {x}"),)))
    path = script(tmp_path, """
        import numpy as np
        import graphviz_ad as gad
        gad.trace(lambda x: np.sum(np.sin(x) ** 2), np.array([0.3, 0.9]))
    """)
    status, out, _ = run(capsys, "check", path)
    assert status == 1
    failing = [line for line in out.splitlines() if "FAIL" in line]
    assert len(failing) == 1 and "sin(x)" in failing[0]
    assert "1 of 3 nodes exceed" in out


def test_check_tolerance(capsys):
    assert run(capsys, "check", "conv1d", "--tol", "1e-30")[0] == 1


# -- render ---------------------------------------------------------------------------------------


def test_render_svg_by_default(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "render", "neuron", "--graph", "neuron#1")
    assert status == 0 and out == "wrote neuron-1.svg\n"
    svg = ElementTree.parse(tmp_path / "neuron-1.svg").getroot()
    assert svg.tag.endswith("svg")
    assert "[u₂ &gt; 0]" in (tmp_path / "neuron-1.svg").read_text(encoding="utf-8")


def test_render_dot_at_a_backward_step(capsys):
    status, out, _ = run(capsys, "render", "total_derivative", "--graph", "x_plus_square",
                         "--step", "4", "-o", "-", "--format", "dot")
    assert status == 0
    assert out.startswith('digraph "x_plus_square"')
    assert "backward pass, step 4 of 4" in out and "∂u₂/∂x += ∂u₂/∂u₁ · 2x = 6" in out


@pytest.mark.parametrize("number", [0, 1, 3, 4])
def test_a_step_number_names_one_state_in_step_json_and_the_engine(capsys, number):
    """One numbering everywhere: step 0 is before the pass, the seed is step 1."""
    status, out, _ = run(capsys, "render", "total_derivative", "--graph", "x_plus_square",
                         "--step", str(number), "-o", "-", "--format", "json")
    assert status == 0
    document = json.loads(out)
    graph = run_script(str(find("total_derivative").path))[0]
    debugger = gad.Debugger(graph, "backward")
    step = debugger.goto_number(number)
    assert document["step"]["number"] == debugger.number == debugger.state().number == number
    assert document["step"]["of"] == len(debugger) == 4
    assert document["step"]["text"] == ("" if step is None else step.text)
    assert (step is None) == (number == 0) and (number != 1 or step.is_seed)
    assert [node["status"] for node in document["nodes"]] == [
        debugger.state().status(node) for node in graph.nodes]
    status, dot, _ = run(capsys, "render", "total_derivative", "--graph", "x_plus_square",
                         "--step", str(number), "-o", "-", "--format", "dot")
    assert (f"step {number} of 4" in dot) == (number > 0)


def test_render_json_in_forward_mode(capsys):
    status, out, _ = run(capsys, "render", "scalar_rules", "--graph", "sin_of_square",
                         "--mode", "forward", "--step", "-1", "-o", "-", "--format", "json")
    assert status == 0
    document = json.loads(out)
    assert document["step"]["mode"] == "forward"
    assert [node["status"] for node in document["nodes"]] == ["done"] * 3 + ["current"]


def test_render_the_html_player(capsys, tmp_path):
    target = tmp_path / "steps.html"
    status, _, _ = run(capsys, "render", "total_derivative", "--graph", "x_times_square",
                       "-o", str(target))
    assert status == 0
    page = target.read_text(encoding="utf-8")
    assert page.count("<svg") == 1  # one picture, restyled per step
    assert '"title":"step 4 of 4"' in page  # steps 0 (before the pass) to 4


def test_render_slide_options(capsys, tmp_path):
    def dot(*argv):
        status, out, _ = run(capsys, "render", "total_derivative", "--graph", "x_plus_square",
                             "-o", "-", "--format", "dot", *argv)
        assert status == 0
        return out

    plain = dot()
    assert "legend" not in plain.lower()  # no legend unless asked for
    assert "legend" in dot("--legend").lower()
    assert ">12<" in plain and ">12<" not in dot("--no-values")
    assert "dpi" not in plain
    png = tmp_path / "x.png"
    status, _, _ = run(capsys, "render", "total_derivative", "--graph", "x_plus_square",
                       "-o", str(png), "--scale", "2")
    assert status == 0 and png.read_bytes().startswith(b"\x89PNG")
    status, _, err = run(capsys, "render", "total_derivative", "--graph", "x_plus_square",
                         "-o", "-", "--format", "dot", "--dpi", "200")
    assert status == 2 and "not a bitmap" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["--step", "9"], "outside the backward pass"),
    (["-o", "picture.webm"], "cannot tell the format"),
    (["-o", "-", "--format", "png"], "binary"),
    (["-o", "p.html", "--step", "1"], "give --mode, not --step"),
    (["--focus", "u₉₉"], "has no node 'u₉₉'; its nodes are x, 2, u₁, u₂"),
])
def test_render_usage_errors(capsys, argv, message):
    status, _, err = run(capsys, "render", "total_derivative", "--graph", "x_plus_square", *argv)
    assert status == 2 and message in err


@pytest.mark.parametrize(("node", "label"), [("u₂", "u₂"), ("u2", "u₂"), ("3", "u₂"),
                                             ("2", "2")])  # the constant 2 is labelled 2
def test_render_focus_takes_a_label_typed_either_way_or_an_id(capsys, node, label):
    status, out, _ = run(capsys, "render", "total_derivative", "--graph", "x_plus_square",
                         "--focus", node, "-o", "-", "--format", "dot")
    assert status == 0 and f"within 2 edges of {label} " in out


def test_render_to_an_unwritable_place_is_an_error_not_a_traceback(capsys, tmp_path):
    target = tmp_path / "missing" / "folder" / "x.svg"
    status, _, err = run(capsys, "render", "total_derivative", "--graph", "x_plus_square",
                         "-o", str(target), "--format", "dot")
    assert status == 1
    assert err == f"graphviz-ad: error: cannot write {target}: No such file or directory\n"


def test_render_names_the_file_of_a_lambda_safely(capsys, tmp_path, monkeypatch):
    path = script(tmp_path, """
        import graphviz_ad as gad
        gad.trace(lambda x: x * x, 3.0)
        gad.trace(lambda x: x + 1.0, 3.0)
    """)
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "render", path, "--graph", "<lambda>#2", "--format", "dot")
    assert status == 0 and out == "wrote lambda-2.dot\n"
    assert (tmp_path / "lambda-2.dot").read_text(encoding="utf-8").startswith("digraph")


@pytest.mark.parametrize("argv", [["--mode", "backward"], ["-o", "player.html"]])
def test_render_backward_of_a_vector_output_points_to_other_modes(capsys, argv):
    status, _, err = run(capsys, "render", "elementwise", "--graph", "w_plus_x", *argv)
    assert status == 1 and "--mode tangent" in err


def test_render_without_any_graphviz_program_names_the_install(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(binary, "find_program", lambda prefer=None: None)
    status, _, err = run(capsys, "render", "conv1d", "-o", str(tmp_path / "c.png"))
    assert status == 1
    assert "apt-get install graphviz" in err and "Traceback" not in err


# -- examples -------------------------------------------------------------------------------------


def test_examples_lists_one_line_each(capsys):
    status, out, _ = run(capsys, "examples")
    assert status == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[: len(ORDER)]] == list(ORDER)
    assert lines[len(ORDER)] == ""  # then how to open one
    assert "graphviz-ad tui NAME" in out


# -- as a program ---------------------------------------------------------------------------------


def command(*argv, cwd):
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "graphviz_ad", *argv], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=120, check=False)


def test_python_m_graphviz_ad(tmp_path):
    done = command("grad", "neuron", "--graph", "neuron#1", cwd=tmp_path)
    assert done.returncode == 0 and "[3, 1, 2]" in done.stdout
    failed = command("grad", script(tmp_path, FAILING), cwd=tmp_path)
    assert failed.returncode == 1
    assert "UnsupportedOperation" in failed.stderr and "runpy" not in failed.stderr
    assert command("render", "--bogus", cwd=tmp_path).returncode == 2


# -- tui and demo ---------------------------------------------------------------------------------


@pytest.fixture
def headless(monkeypatch):
    """Replace the debugger's run with a headless one that presses keys and records the screen."""
    import tui
    from tui.app import DebuggerApp

    seen = {}

    def run_app(graphs, mode="forward", start=None):
        app = DebuggerApp(graphs, mode=mode, start=start)

        async def pilot(driver):
            await driver.pause()
            await app.workers.wait_for_complete()
            for key in seen.get("keys", ()):
                await driver.press(key)
            await driver.pause()
            seen.update(graphs=graphs, start=start, screen=app.screen)
            app.exit()

        app.run(headless=True, size=(100, 30), auto_pilot=pilot)

    monkeypatch.setattr(tui, "run_app", run_app)
    return seen


def test_demo_opens_the_active_neuron_in_the_debugger(capsys, headless):
    headless["keys"] = ["n", "n", "n"]
    status, out, _ = run(capsys, "demo", "--mode", "backward")
    assert status == 0 and out == ""  # the example's printout stays off
    screen = headless["screen"]
    assert float(screen.graph.value) == 2.25  # neuron#1, the active one
    assert screen.debugger.mode == "backward" and screen.debugger.index == 2
    assert len(headless["graphs"]) == 2  # the inactive one is a keypress away


def test_tui_opens_the_chooser_for_several_graphs_or_the_one_asked_for(capsys, headless):
    assert run(capsys, "tui", "total_derivative")[0] == 0
    assert headless["start"] is None and type(headless["screen"]).__name__ == "GraphChooser"
    assert run(capsys, "tui", "total_derivative", "--graph", "x_times_square")[0] == 0
    assert headless["screen"].graph.name == "x_times_square"


def test_tui_reports_a_script_error_before_opening(capsys, tmp_path, headless):
    status, _, err = run(capsys, "tui", script(tmp_path, FAILING))
    assert status == 1 and "UnsupportedOperation" in err and "screen" not in headless


# -- the documentation ----------------------------------------------------------------------------


def test_the_documented_grad_example_prints_what_the_readme_shows(capsys, tmp_path):
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    source = re.search(r"```python\n# model.py\n(.*?)```", text, re.S).group(1)
    shown = re.search(r"```\n\$ graphviz-ad grad model.py\n(neuron.*?)```", text, re.S).group(1)
    status, out, _ = run(capsys, "grad", script(tmp_path, source))
    assert status == 0
    assert [line.rstrip() for line in out.splitlines()] == shown.splitlines()
