"""The DOT text: golden pictures of small graphs, options, step states and escaping.

Golden files live in tests/golden/; after an intended change of the pictures, regenerate
them with ``GRAPHVIZ_AD_REGOLD=1 python -m pytest tests/test_render_dot.py`` and review the
diff.
"""

import os
import re
from pathlib import Path

import numpy as np
import pytest

import graphviz_ad as gad
from graphviz_ad.render import to_dot
from graphviz_ad.render.text import transposed_rule

GOLDEN = Path(__file__).parent / "golden"


# The functions of the golden pictures come first, so that their line numbers (which the
# pictures' tooltips show) do not move when tests below are edited.
def neuron(w, x, b):
    z = w @ x + b
    return np.maximum(0, z)


def square(x):
    return x * x


def x_plus_x_squared(x):
    return x + x**2


def layer(W, x, b):
    return np.tanh(W @ x + b)


def two_layers(W1, x, b1, W2, b2):
    hidden = layer(W1, x, b1)
    return layer(W2, hidden, b2).sum()


NEURON_ARGS = (np.array([1.0, -2.0, 0.5]), np.array([3.0, 1.0, 2.0]), 0.25)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.dot"
    if os.environ.get("GRAPHVIZ_AD_REGOLD"):
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (f"{name}.dot differs from the golden file; if the change is "
                              "intended, rerun with GRAPHVIZ_AD_REGOLD=1 and review the diff")


def backward_at(graph, index):
    debugger = gad.Debugger(graph)
    debugger.set_mode("backward")
    debugger.goto(index)
    return debugger


def nets():
    rng = np.random.default_rng(0)
    return gad.trace(two_layers, rng.normal(size=(2, 3)), np.ones(3), np.zeros(2),
                     rng.normal(size=(1, 2)), np.zeros(1))


def node_statement(text: str, dot_id: str) -> str:
    (line,) = [line for line in text.splitlines() if line.strip().startswith(f"{dot_id} [")]
    return line


def edge_statements(text: str, tail: str, head: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip().startswith(f"{tail} -> {head} ")]


# -- golden pictures ---------------------------------------------------------------------------


def test_golden_neuron():
    check_golden("neuron", to_dot(gad.trace(neuron, *NEURON_ARGS)))


def test_golden_square_has_two_edges():
    text = to_dot(gad.trace(square, 3.0))
    check_golden("square", text)
    assert len(edge_statements(text, "n0", "n1")) == 2


def test_golden_x_plus_x_squared_at_the_last_backward_step():
    graph = gad.trace(x_plus_x_squared, 3.0)
    debugger = backward_at(graph, 3)  # ∂u₃/∂x += ∂u₃/∂u₂ · 2x: the second path arrives
    text = to_dot(graph, debugger.current)
    check_golden("x_plus_x_squared_backward", text)
    assert "1 + 6 = 7" in node_statement(text, "n0")


def test_golden_neuron_backward():
    graph = gad.trace(neuron, *NEURON_ARGS)
    check_golden("neuron_backward", to_dot(graph, backward_at(graph, 4).current))


def test_same_text_on_every_run():
    graph = nets()
    debugger = backward_at(graph, 6)
    first = to_dot(graph, debugger.current, collapse=["layer"])
    again = nets()
    second = to_dot(again, backward_at(again, 6).state(), collapse=["layer"])
    assert first == second


# -- what a node and an edge show ------------------------------------------------------------


def test_node_shows_name_symbol_expression_shape_and_value():
    text = to_dot(gad.trace(neuron, *NEURON_ARGS))
    matmul = node_statement(text, "n3")
    for part in ("<b>u₁</b>", "@", "matmul(w, x)", "scalar", ">2<"):
        assert part in matmul
    w = node_statement(text, "n0")
    assert "[1, −2, 0.5]" in w and ">input<" in w


def test_large_values_are_abbreviated_with_their_shape():
    graph = gad.trace(lambda v, m: (v * 2).sum() + m.sum(), np.arange(100.0), np.ones((20, 30)))
    text = to_dot(graph)
    assert "[0, 1, 2, …, 99]" in node_statement(text, "n0")
    matrix = node_statement(text, "n1")
    assert "20×30" in matrix and "range [1, 1]" in matrix


def test_edge_shows_rule_shape_and_small_numbers():
    text = to_dot(gad.trace(neuron, *NEURON_ARGS))
    (w_edge,) = edge_statements(text, "n0", "n3")
    assert "xᵀ<br/>1×3<br/>[3, 1, 2]" in w_edge
    (relu_edge,) = edge_statements(text, "n4", "n6")
    assert "label=<[u₂ &gt; 0] = 1>" in relu_edge  # a 1×1 Jacobian is its number
    (add_edge,) = edge_statements(text, "n3", "n4")
    assert "label=<1>" in add_edge  # an identity alone, no shape or numbers
    assert "<b>z = u₂</b>" in node_statement(text, "n4")  # the source's name for u₂


def test_jacobian_numbers_can_be_turned_off():
    text = to_dot(gad.trace(neuron, *NEURON_ARGS), jacobian_numbers=0)
    (w_edge,) = edge_statements(text, "n0", "n3")
    assert "[3, 1, 2]" not in w_edge


def test_values_off_shows_structure_only():
    text = to_dot(gad.trace(neuron, *NEURON_ARGS), values=False)
    assert ">value<" not in text and "2.25" not in text
    assert "xᵀ<br/>1×3>" in edge_statements(text, "n0", "n3")[0]


def test_denominator_layout_transposes_rules_and_shapes():
    graph = gad.trace(neuron, *NEURON_ARGS)
    text = to_dot(graph, layout="denominator")
    (w_edge,) = edge_statements(text, "n0", "n3")
    assert "label=<x<br/>3×1<br/>[3]<br/>[1]<br/>[2]>" in w_edge
    assert "denominator layout" in text
    assert "numerator layout" in to_dot(graph)


@pytest.mark.parametrize(("rule", "symmetric", "expected"), [
    ("xᵀ", False, "x"),
    ("W", False, "Wᵀ"),
    ("I ⊗ u₇ᵀ", False, "I ⊗ u₇"),
    ("x ⊗ I", False, "xᵀ ⊗ I"),
    ("1ᵀ over axis 0", False, "1 over axis 0"),
    ("1ᵀ/n", False, "1/n"),
    ("diag(d) (1 ⊗ I)", False, "(diag(d) (1 ⊗ I))ᵀ"),
    ("diag(1 − tanh²u₆)", True, "diag(1 − tanh²u₆)"),
])
def test_transposed_rules(rule, symmetric, expected):
    assert transposed_rule(rule, symmetric) == expected


def test_rank_direction():
    graph = gad.trace(square, 3.0)
    assert 'rankdir="LR"' in to_dot(graph, rankdir="LR")
    assert 'rankdir="TB"' in to_dot(graph)


def test_constants_fold_into_their_consumer_or_stay_nodes():
    graph = gad.trace(lambda x: x * np.array([1.0, 2.0]) + 2.0, np.ones(2))
    folded = to_dot(graph)
    assert "n1 [" not in folded and "n3 [" not in folded  # the two constants
    assert "[1, 2]" in node_statement(folded, "n2")  # the array constant inside its consumer
    unfolded = to_dot(graph, fold_constants=False)
    assert ">const<" in node_statement(unfolded, "n1")
    assert edge_statements(unfolded, "n1", "n2")


def test_unknown_option_names_the_valid_ones():
    with pytest.raises(TypeError, match="rankdir"):
        to_dot(gad.trace(square, 3.0), rank_dir="LR")
    with pytest.raises(ValueError, match="numerator"):
        to_dot(gad.trace(square, 3.0), layout="mixed")


# -- large graphs: clusters, collapsing, focus -------------------------------------------------


def test_two_calls_of_one_function_are_two_clusters():
    text = to_dot(nets())
    assert text.count("subgraph cluster_call") == 2
    assert "layer()  test_render_dot.py" in text


def test_collapsed_calls_are_one_box_each():
    text = to_dot(nets(), collapse=True)
    assert "call1 [" in text and "call2 [" in text
    assert not re.search(r"\bn5 \[", text)  # u₅ is inside the first call
    assert edge_statements(text, "call1", "call2")
    assert "returns" in node_statement(text, "call1")


def test_collapse_by_function_name_and_by_call_index():
    by_name = to_dot(nets(), collapse=["layer"])
    assert "call1 [" in by_name and "call2 [" in by_name
    by_index = to_dot(nets(), collapse=[2])
    assert "call1 [" not in by_index and "call2 [" in by_index


def test_large_graphs_are_collapsed_by_default():
    def block(x):
        return np.sin(x) * 2.0 + 1.0

    def deep(x):
        for _ in range(60):
            x = block(x)
        return x

    graph = gad.trace(deep, 0.5)
    assert len(graph.nodes) > 150
    text = to_dot(graph)
    assert text.count("[shape=\"box3d\"") == 60
    assert "call60 [" in text
    assert "n5 [" in to_dot(graph, collapse=False)
    assert "call1 [" not in to_dot(graph, threshold=10_000)


def test_focus_keeps_the_k_hop_neighbourhood():
    graph = nets()
    text = to_dot(graph, focus="u₃", hops=1)
    drawn = set(re.findall(r"^\s*(n\d+) \[", text, re.MULTILINE))
    assert drawn == {"n6", "n7", "n8"}  # u₂ → u₃ → u₄ (nodes 6, 7, 8)
    assert "within 1 edge of u₃" in text
    two_hops = set(re.findall(r"^\s*(n\d+) \[", to_dot(graph, focus=7, hops=2), re.MULTILINE))
    assert two_hops == {"n2", "n3", "n5", "n6", "n7", "n8", "n9"}  # + b1, u₅, W2, u₉
    assert to_dot(graph, focus="u3", hops=1) == text  # typed without subscripts
    assert to_dot(graph, focus=np.int64(7), hops=1) == text
    with pytest.raises(KeyError, match="has no node 'nothing'; its nodes are W1, x, b1"):
        to_dot(graph, focus="nothing")


def recurrent(W, x):
    h = x
    for _ in range(60):
        h = np.tanh(W @ h + x)  # three nodes an iteration, all from this line
    return h.sum()


def test_a_big_graph_without_calls_collapses_its_source_lines():
    graph = gad.trace(recurrent, np.eye(3) * 0.5, np.ones(3))
    assert len(graph.nodes) > 150 and len(graph.calls) == 1
    text = to_dot(graph)
    boxes = re.findall(r"^\s*(\w+) \[", text, re.MULTILINE)
    drawn = [box for box in boxes if box not in ("graph", "node", "edge")
             and not box.startswith("legend")]
    assert sorted(drawn) == ["line2", "n0", "n1", "n182"]
    line_box = node_statement(text, "line2")
    lineno = recurrent.__code__.co_firstlineno + 3
    assert f"line {lineno}" in line_box and "h = np.tanh(W @ h + x)" in line_box
    assert "180" in line_box and "returns" in line_box  # 60 × 3 nodes; u₁₈₁ feeds the sum
    assert edge_statements(text, "line2", "n182") and "60 edges" in text  # W into each matmul
    assert "n5 [" in to_dot(graph, collapse=False)


def test_long_edges_get_a_quick_layout():
    graph = gad.trace(recurrent, np.eye(3) * 0.5, np.ones(3))
    # W and x feed every iteration: drawn in full, their edges cross hundreds of ranks
    assert 'mclimit="0.05"' in to_dot(graph, collapse=False)
    assert "mclimit" not in to_dot(graph)
    assert "mclimit" not in to_dot(gad.trace(square, 3.0))


# -- step states ---------------------------------------------------------------------------------


def test_backward_step_styles_done_current_pending_and_the_contribution_edge():
    graph = gad.trace(x_plus_x_squared, 3.0)
    text = to_dot(graph, backward_at(graph, 1).current)  # ∂u₃/∂x += ∂u₃/∂u₃ · 1 (1 of 2)
    assert 'penwidth="3.5"' in node_statement(text, "n0")  # x: current
    assert "1  (1 of 2)" in node_statement(text, "n0")
    assert 'style="rounded,dashed"' in node_statement(text, "n2")  # u₂: pending
    assert 'style="rounded,filled"' in node_statement(text, "n3")  # u₃: done
    (current,) = edge_statements(text, "n0", "n3")
    assert 'style="bold"' in current and 'dir="back"' in current and "<b>→ 1</b>" in current
    (pending,) = edge_statements(text, "n2", "n3")
    assert 'style="dashed"' in pending


def test_tangent_and_forward_steps_use_their_own_scheme():
    graph = gad.trace(neuron, *NEURON_ARGS)
    debugger = gad.Debugger(graph)
    debugger.set_mode("tangent", direction={"w": np.ones(3)})
    debugger.goto(1)
    tangent = to_dot(graph, debugger.current)
    assert "#009E73" in node_statement(tangent, "n3")  # bluish green
    assert ">du₁<" in node_statement(tangent, "n3")
    assert "tangent pass" in tangent
    debugger.set_mode("forward")
    debugger.goto(3)
    forward = to_dot(graph, debugger.current)
    assert "#0072B2" in node_statement(forward, "n3")  # blue
    assert ">?<" in node_statement(forward, "n4")  # not computed yet
    assert "value computed" in forward


def test_every_scheme_explains_itself_without_colour_alone():
    graph = gad.trace(x_plus_x_squared, 3.0)
    text = to_dot(graph, backward_at(graph, 2))
    legend = node_statement(text, "legend")
    for meaning in ("bold: receives a contribution now", "solid: adjoint received",
                    "dashed: no contribution yet", "∂u₂/∂x: the adjoint of x"):
        assert meaning in legend  # line styles, not just hue


def test_the_legend_is_compact_and_only_explains_what_the_picture_shows():
    graph = gad.trace(neuron, *NEURON_ARGS)
    plain = node_statement(to_dot(graph), "legend")
    assert "numerator layout" in plain and "z = u₂" in plain
    assert "adjoint" not in plain and "dashed" not in plain and "3-D box" not in plain
    assert "legend" not in to_dot(graph, legend=False)
    done = gad.Debugger(graph, "backward")
    done.run()
    legend = node_statement(to_dot(graph, done), "legend")
    assert "solid: adjoint received" in legend and "dashed" not in legend  # nothing pending


def test_before_the_first_step_everything_is_pending():
    graph = gad.trace(square, 3.0)
    debugger = gad.Debugger(graph)
    debugger.set_mode("backward")
    text = to_dot(graph, debugger)
    assert 'style="rounded,dashed"' in node_statement(text, "n0")
    assert "<br/>backward pass>" in text


# -- escaping --------------------------------------------------------------------------------------


def test_names_are_escaped_in_labels():
    graph = gad.trace(lambda p: p["<script>"] * p["a&b"], {"<script>": 1.0, "a&b": 2.0})
    labels = " ".join(re.findall(r"label=<(.*?)>[,\]]", to_dot(graph)))
    assert "<script>" not in labels and "a&b" not in labels
    assert "&lt;script&gt;" in labels and "a&amp;b" in labels
