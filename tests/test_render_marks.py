"""Why zero, why NaN on the picture: ``explain=True`` and ``render --explain``."""

import numpy as np

import graphviz_ad as gad
from graphviz_ad.cli import main
from graphviz_ad.render.marks import explain_marks


def test_render_explain_puts_the_reason_in_the_dot_for_the_inactive_neuron(capsys):
    status = main(["render", "neuron", "--graph", "neuron#2", "--explain", "--format", "dot",
                   "-o", "-"])
    dot = capsys.readouterr().out
    assert status == 0
    for name in ("w", "x", "b"):
        line = next(line for line in dot.splitlines() if f"<b>{name}</b>" in line)
        assert "= 0: u₃ = maximum(0, u₂) inactive" in line


def test_without_explain_the_picture_has_no_notes(capsys):
    main(["render", "neuron", "--graph", "neuron#2", "--format", "dot", "-o", "-"])
    assert "inactive" not in capsys.readouterr().out


def test_the_active_neuron_has_nothing_to_explain(capsys):
    main(["render", "neuron", "--graph", "neuron#1", "--explain", "--format", "dot", "-o", "-"])
    assert "#B22222" not in capsys.readouterr().out


def test_a_nan_node_carries_its_origin_and_so_does_the_gradient():
    with np.errstate(all="ignore"):
        graph = gad.trace(lambda x: np.log(x) * 2.0 + x, -1.0)
        hidden = gad.trace(lambda x: np.where(x > 0, np.sqrt(x), 0.0), -1.0)
    log, product, total = (graph.node(label) for label in ("u₁", "u₂", "u₃"))
    marks = explain_marks(graph)
    assert marks[log.id] == ["NaN made here from x = −1"]
    assert marks[product.id] == marks[total.id] == ["NaN from u₁ = log(x)"]
    assert explain_marks(hidden)[hidden.inputs["x"].id] == [
        "∂u₂/∂x is NaN: first at u₁ = sqrt(x)"]
    dot = graph.to_dot(explain=True)
    assert "NaN from u₁ = log(x)" in dot and "NaN made here" in dot


def test_a_partly_zero_gradient_and_an_unused_input():
    graph = gad.trace(lambda x, y: np.maximum(0, x).sum(), np.array([1.0, -2.0, 3.0]), 2.0)
    marks = explain_marks(graph)
    assert marks[graph.inputs["x"].id] == [
        "1 of 3 entries of ∂u₂/∂x are 0: u₁ = maximum(0, x) inactive"]
    assert marks[graph.inputs["y"].id] == ["∂u₂/∂y = 0: y is not used"]


def test_a_non_scalar_output_gets_only_the_nan_notes():
    with np.errstate(all="ignore"):
        graph = gad.trace(lambda x: np.sqrt(x), np.array([1.0, -1.0]))
    assert explain_marks(graph) == {1: ["NaN made here from x = [1, −1]"]}
