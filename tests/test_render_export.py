"""Rendered files: SVG, PNG, PDF, DOT and JSON; the Graphviz program and what happens
without one (the HTML player: test_player.py)."""

import json
import os
import xml.etree.ElementTree as ET

import graphviz
import numpy as np
import pytest

import graphviz_ad as gad
from graphviz_ad.render import binary, export, render, to_json, to_svg

SVG = "{http://www.w3.org/2000/svg}"


def neuron(w, x, b):
    z = w @ x + b
    return np.maximum(0, z)


@pytest.fixture
def graph():
    return gad.trace(neuron, np.array([1.0, -2.0, 0.5]), np.array([3.0, 1.0, 2.0]), 0.25)


def svg_texts(svg: str) -> list[str]:
    """The text of an SVG, checked to be well-formed XML on the way."""
    root = ET.fromstring(svg)
    return [element.text for element in root.iter(f"{SVG}text") if element.text]


@pytest.fixture
def no_graphviz(monkeypatch, tmp_path):
    """Neither `dot` on PATH nor graphviz-pure anywhere."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(binary, "script_folders", lambda: [])


@pytest.fixture
def only_graphviz_pure(monkeypatch, tmp_path):
    """No `dot` on PATH (an empty PATH); graphviz-pure is still in the environment's
    scripts folder, as after `pip install graphviz-ad` on a machine without Graphviz."""
    monkeypatch.setenv("PATH", str(tmp_path))


# -- pictures ------------------------------------------------------------------------------------


@pytest.mark.parametrize("program", binary.PROGRAMS)
def test_svg_is_xml_with_the_expected_labels(graph, program):
    texts = svg_texts(to_svg(graph, binary=program))
    for label in ("w", "x", "b", "u₃", "matmul(w, x)", "[1, −2, 0.5]", "xᵀ", "1×3", "2.25"):
        assert label in texts


@pytest.mark.parametrize("program", binary.PROGRAMS)
def test_names_with_markup_stay_text_in_the_svg(program):
    graph = gad.trace(lambda p: p["<script>"] * p["a&b"], {"<script>": 1.0, "a&b": 2.0})
    svg = to_svg(graph, binary=program)
    root = ET.fromstring(svg)  # well-formed
    assert not list(root.iter(f"{SVG}script")) and "<script>" not in svg
    texts = svg_texts(svg)
    assert "p['<script>']" in texts and "p['a&b']" in texts


def test_render_infers_the_format_from_the_suffix(graph, tmp_path):
    assert render(graph, tmp_path / "n.svg").read_text().lstrip().startswith("<?xml")
    assert render(graph, tmp_path / "n.png").read_bytes().startswith(b"\x89PNG")
    assert render(graph, tmp_path / "n.pdf").read_bytes().startswith(b"%PDF")
    assert render(graph, tmp_path / "n.gv").read_text() == graph.to_dot()
    assert graph.render(tmp_path / "n.dot").read_text() == graph.to_dot()
    assert json.loads(render(graph, tmp_path / "n.json").read_text())["name"] == "neuron"
    assert render(graph, tmp_path / "picture", format="svg").read_text().startswith("<?xml")


def test_unknown_or_missing_format_is_an_error(graph, tmp_path):
    with pytest.raises(ValueError, match="svg, png, pdf"):
        render(graph, tmp_path / "n.bmp")
    with pytest.raises(ValueError, match="without a suffix"):
        render(graph, tmp_path / "n")


def test_a_step_can_be_rendered(graph, tmp_path):
    debugger = gad.Debugger(graph)
    debugger.set_mode("backward")
    debugger.goto(4)
    texts = svg_texts(graph.render(tmp_path / "step.svg", step=debugger.current).read_text())
    assert "[3, 1, 2]" in texts  # ∂u₃/∂w = xᵀ
    assert "∂u₃/∂w" in texts


def test_jupyter_display(graph):
    bundle = graph._repr_mimebundle_()
    assert bundle["text/plain"] == repr(graph)
    ET.fromstring(bundle["image/svg+xml"])
    ET.fromstring(graph._repr_svg_())


def test_jupyter_shows_text_for_a_graph_too_big_to_lay_out_quickly(graph, monkeypatch):
    monkeypatch.setattr(export, "PREVIEW_EFFORT", 5)  # the neuron's picture needs more
    bundle = graph._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    assert "too big to draw inline" in bundle["text/plain"]
    assert "focus='u₇'" in bundle["text/plain"]
    assert graph._repr_svg_() is None


@pytest.mark.parametrize("suffix", ["json", "dot", "svg", "html"])
def test_every_format_rejects_an_unknown_option(graph, tmp_path, suffix):
    with pytest.raises(TypeError, match=r"unknown drawing option.*bogus"):
        graph.render(tmp_path / f"picture.{suffix}", bogus=1)
    assert not (tmp_path / f"picture.{suffix}").exists()


# -- JSON ------------------------------------------------------------------------------------------


def test_json_is_node_link_with_values_and_jacobians(graph):
    data = json.loads(to_json(graph))
    assert data["inputs"] == {"w": 0, "x": 1, "b": 2} and data["output"] == 6
    w = data["nodes"][0]
    assert (w["label"], w["op"], w["shape"], w["value"]) == ("w", "input", [3], [1, -2, 0.5])
    matmul = data["nodes"][3]
    assert matmul["symbol"] == "@" and matmul["expression"] == "matmul(w, x)"
    assert matmul["source"].startswith("test_render_export.py:")
    assert matmul["line"] == "z = w @ x + b"
    edge = data["edges"][0]
    assert edge == {"source": 0, "target": 3, "arg": 0,
                    "jacobian": {"kind": "matmul", "rule": "xᵀ", "shape": [1, 3]}}


def test_json_keeps_both_edges_of_x_times_x_and_writes_nan_as_null():
    graph = gad.trace(lambda x: x * x, np.array([1.0, np.nan]))
    data = json.loads(to_json(graph))
    assert [(e["source"], e["target"], e["arg"]) for e in data["edges"]] == [(0, 1, 0), (0, 1, 1)]
    assert data["nodes"][0]["value"] == [1.0, None]


def test_json_with_a_step_has_statuses_and_totals(graph):
    debugger = gad.Debugger(graph)
    debugger.set_mode("backward")
    debugger.goto(4)
    data = json.loads(to_json(graph, debugger.current))
    assert data["step"]["mode"] == "backward" and data["step"]["number"] == 5
    w, x = data["nodes"][0], data["nodes"][1]
    assert (w["status"], w["total"]) == ("current", [3.0, 1.0, 2.0])
    assert (x["status"], x["total"]) == ("pending", None)


# -- without the Graphviz binary -----------------------------------------------------------------


def test_without_any_graphviz_the_error_names_the_fix(graph, tmp_path, no_graphviz):
    with pytest.raises(gad.RenderError, match="sudo apt-get install graphviz") as error:
        graph.render(tmp_path / "n.svg")
    assert "pip install graphviz-pure" in str(error.value)
    assert error.value.__cause__ is None and error.value.__context__ is None


def test_without_any_graphviz_dot_and_json_still_work(graph, tmp_path, no_graphviz):
    assert graph.render(tmp_path / "n.dot").read_text().startswith('digraph "neuron"')
    assert json.loads(graph.render(tmp_path / "n.json").read_text())["output"] == 6
    bundle = graph._repr_mimebundle_()
    assert "image/svg+xml" not in bundle and "no picture" in bundle["text/plain"]
    assert graph._repr_svg_() is None


def test_graphviz_pure_is_the_fallback(graph, tmp_path, only_graphviz_pure):
    program = binary.find_program()
    assert program.name == "graphviz-pure"
    assert "u₃" in svg_texts(graph.render(tmp_path / "n.svg").read_text())
    assert graph.render(tmp_path / "n.png").read_bytes().startswith(b"\x89PNG")


def test_graphviz_pure_cannot_write_pdf(graph, tmp_path, only_graphviz_pure):
    with pytest.raises(gad.RenderError, match=r"PDF.*sudo apt-get install graphviz"):
        graph.render(tmp_path / "n.pdf")


def test_missing_dot_reported_by_the_graphviz_package_is_our_error(graph, monkeypatch):
    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot", "-Tsvg"])

    monkeypatch.setattr(graphviz, "pipe", missing)
    monkeypatch.setattr(binary, "find_program", lambda prefer=None: binary.Program("dot", "dot"))
    with pytest.raises(gad.RenderError, match=r"`dot` is not on PATH.*apt-get"):
        to_svg(graph)


@pytest.mark.parametrize("program", binary.PROGRAMS)
def test_graphviz_warnings_never_reach_the_terminal(capfd, program):
    svg = binary.pipe('digraph { a [shape="nosuchshape"] }', "svg", program)
    assert b"<svg" in svg
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


@pytest.mark.parametrize("program", binary.PROGRAMS)
def test_a_graphviz_failure_quotes_its_message(program):
    with pytest.raises(gad.RenderError, match="syntax error"):
        binary.pipe("digraph { a -> }", "svg", program)


# -- the documentation's diagram -----------------------------------------------------------------


def test_the_neuron_diagram_shows_w_receiving_its_gradient(tmp_path):
    from pathlib import Path

    from graphviz_ad.render import diagrams

    backward, formula = diagrams.write_all(tmp_path, pictures=False)
    texts = svg_texts(backward.read_text(encoding="utf-8"))
    assert "∂u₃/∂w" in texts and "[3, 1, 2]" in texts and "z = u₂" in texts
    assert "bold: receives a contribution now" in texts
    assert any("∂u₃/∂w = [u₂ &gt; 0] xᵀ" in text or "∂u₃/∂w = [u₂ > 0] xᵀ" in text
               for text in svg_texts(formula.read_text(encoding="utf-8")))
    for path in (backward, formula):  # the committed pictures are what the code draws
        committed = Path(__file__).parent.parent / "docs" / path.name
        assert svg_texts(committed.read_text(encoding="utf-8")) == svg_texts(
            path.read_text(encoding="utf-8"))


def test_the_golden_neuron_svg_at_a_backward_step(graph):
    """The SVG Graphviz draws from the golden DOT: its texts, in order (positions depend on
    the Graphviz version, the words do not).  Regenerate with GRAPHVIZ_AD_REGOLD=1."""
    from pathlib import Path

    debugger = gad.Debugger(graph, "backward")
    debugger.goto_number(5)  # w receives ∂u₃/∂w = xᵀ
    svg = to_svg(graph, debugger)
    golden = Path(__file__).parent / "golden" / "neuron_backward.svg"
    if os.environ.get("GRAPHVIZ_AD_REGOLD"):
        golden.write_text(svg, encoding="utf-8")
    texts = svg_texts(svg)
    assert texts == svg_texts(golden.read_text(encoding="utf-8"))
    for text in ("z = u₂", "∂u₃/∂w +=", "∂u₃/∂u₁ · x", "→ [3, 1, 2]", "step 5 of 6"):
        assert any(text in line for line in texts), text
    assert not any("̄" in line for line in texts)  # no combining bar anywhere
