"""The terminal graph layout: ranks, crossings, routes, and the pictures built from graphs."""

from __future__ import annotations

import numpy as np
import pytest

import graphviz_ad as gad
from graphviz_ad.notation import matrix_lines
from graphviz_ad.render.view import consumers
from tui import pictures
from tui.layout import ARROW, NodeSpec, layout
from tui.text import value_lines


def char_at(picture, y: int, x: int) -> str:
    for start, text, _ in picture.rows[y]:
        if start <= x < start + len(text):
            return text[x - start]
    return " "


def specs(graph, detail=1):
    nodes = [NodeSpec(n.id, pictures.node_lines(n, detail), len(n.inputs)) for n in graph.nodes]
    edges = [(o.id, n.id, arg) for n in graph.nodes for arg, o in enumerate(n.inputs)]
    return nodes, edges


def test_x_plus_square_picture():
    graph = gad.trace(lambda x: x + x**2, 3.0)
    assert pictures.whole(graph).text() == "\n".join([
        " ╭───╮  ╭───╮",
        " │ x │  │ 2 │",
        " ╰─┬─╯  ╰─┬─╯",
        " ╭─┴───╮ ╭╯",
        " │     ▼ ▼",
        " │  ╭──────╮",
        " │  │ u₂ ^ │",
        " │  ╰───┬──╯",
        " ╰─╮ ╭──╯",
        "   ▼ ▼",
        "╭──────╮",
        "│ u₃ + │",
        "╰──────╯",
    ])


def test_a_value_used_twice_draws_two_edges_into_two_ports():
    graph = gad.trace(lambda x: x * x, 3.0)
    picture = pictures.whole(graph)
    x, product = graph.inputs["x"].id, graph.output.id
    ends = [picture.edge_cells((x, product, arg))[-1] for arg in (0, 1)]
    assert [char for _, _, char in ends] == [ARROW, ARROW]
    box = picture.boxes[product]
    assert {y for y, _, _ in ends} == {box.y - 1}
    assert ends[0][1] < ends[1][1]  # argument 0 on the left
    assert all(box.x < column < box.x + box.width - 1 for _, column, _ in ends)


def test_leaves_sit_just_above_their_first_consumer():
    graph = gad.trace(lambda x: np.sin(np.sin(np.sin(x))) * 2.0, 1.0)
    picture = pictures.whole(graph)
    constant = next(n for n in graph.nodes if n.op == "const")
    product = graph.output
    below = picture.boxes[product.id].y
    assert picture.boxes[constant.id].y < below
    assert picture.boxes[constant.id].y > picture.boxes[graph.inputs["x"].id].y


def test_a_crossing_is_drawn_as_a_crossing_not_a_junction():
    # a, b feed c in one order and d in the other: one crossing is unavoidable.
    nodes = [NodeSpec(0, ("a",), 0), NodeSpec(1, ("b",), 0),
             NodeSpec(2, ("c",), 2), NodeSpec(3, ("d",), 2)]
    edges = [(0, 2, 0), (1, 2, 1), (1, 3, 0), (0, 3, 1)]
    picture = layout(nodes, edges)
    assert "┼" not in picture.text()
    owners: dict[tuple[int, int], set[int]] = {}
    for (source, _, _), cells in picture.routes.items():
        for y, x in cells:
            owners.setdefault((y, x), set()).add(source)
    crossings = [cell for cell, sources in owners.items() if len(sources) > 1]
    assert crossings
    assert all(char_at(picture, y, x) == "│" for y, x in crossings)


def test_every_edge_runs_from_its_source_to_an_arrow_above_its_target():
    graph = gad.trace(lambda w, x, b: np.maximum(0, w @ x + b), np.ones(3), np.ones(3), 0.5)
    picture = pictures.whole(graph)
    for edge in picture.routes:
        source, target, _ = edge
        cells = picture.edge_cells(edge)
        top = picture.boxes[source]
        assert cells[0][0] == top.y + top.height  # starts just under the source
        y, x, char = cells[-1]
        assert char == ARROW and y == picture.boxes[target].y - 1
        assert char_at(picture, y, x) == ARROW
        rows = [y for y, _, _ in cells]
        assert rows == sorted(rows)  # always downwards


def test_long_edges_pass_through_layers_without_touching_boxes():
    def deep(x):
        h = x
        for _ in range(6):
            h = np.sin(h)
        return h + x

    graph = gad.trace(deep, 0.5)
    picture = pictures.whole(graph)
    x, output = graph.inputs["x"].id, graph.output.id
    boxes = list(picture.boxes.values())
    for y, column, _ in picture.edge_cells((x, output, 1)):
        assert not any(b.x <= column < b.x + b.width and b.y <= y < b.y + b.height for b in boxes)


def test_layout_is_deterministic():
    graph = gad.trace(lambda w, x: np.tanh(w @ x).sum() + (w * w).sum(), np.ones((3, 2)),
                      np.ones(2))
    first, second = pictures.whole(graph), pictures.whole(graph)
    assert first.text() == second.text()
    assert first.routes == second.routes


def test_a_deep_chain_lays_out_without_recursion():
    def chain(x):
        for _ in range(1500):
            x = x * 1.0001
        return x

    graph = gad.trace(chain, 1.0)
    picture = pictures.whole(graph, detail=0)
    assert len(picture.boxes) == len(graph.nodes)


def test_focus_view_keeps_the_neighbourhood_and_marks_the_cut():
    def recurrent(x, w):
        h = 0.0 * w
        for t in range(len(x)):
            h = np.tanh(w * h + x[t])
        return h

    graph = gad.trace(recurrent, np.linspace(0, 1, 20), 0.5)
    centre = graph.nodes[len(graph.nodes) // 2]
    picture = pictures.focus(graph, [centre.id])
    assert centre.id in picture.boxes
    assert len(picture.boxes) <= pictures.FOCUS_LIMIT
    assert "⋯" in picture.text()
    near = pictures.neighbourhood(graph, [centre.id], 1)
    assert set(near) <= set(picture.boxes)
    assert {operand.id for operand in centre.inputs} <= set(near)


def test_detail_levels():
    graph = gad.trace(lambda x: np.exp(x) * 2.0, 1.0)
    captions = pictures.whole(graph, detail=0)
    assert all(box.height == 1 for box in captions.boxes.values())  # bare captions
    assert "u₁ exp" in captions.text() and "│ u₁ exp" not in captions.text()
    values = pictures.whole(graph, detail=2)
    assert all(box.height == 4 for box in values.boxes.values())
    assert "5.437" in values.text()  # the output's value on its second line, 4 digits


def test_matrices_are_abbreviated_at_both_ends():
    lines = matrix_lines(np.arange(100.0).reshape(10, 10))
    assert lines[0] == "[ 0   1   2   ⋯  7   8   9  ]"
    assert lines[3].strip().startswith("⋮")
    assert len(lines) == 7
    assert value_lines(np.zeros((2, 2, 2)))[0].startswith("2×2×2 array")
    assert value_lines(-0.0) == ["0"]


def test_graphviz_placement_gives_ranks_that_edges_go_down():
    graph = gad.trace(lambda w, x, b: np.maximum(0, w @ x + b), np.ones(3), np.ones(3), 0.5)
    _, edges = specs(graph)
    placement = pictures.graphviz_placement(graph)
    if placement is None:
        pytest.skip("no Graphviz program installed")
    assert set(placement) == {node.id for node in graph.nodes}
    assert all(placement[target][0] > placement[source][0] for source, target, _ in edges)
    picture = pictures.whole(graph, use_graphviz=True)
    assert set(picture.boxes) == set(placement)


def test_without_graphviz_the_whole_picture_is_our_own(monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr("graphviz_ad.render.binary.script_folders", lambda: [])
    graph = gad.trace(lambda x: x + x**2, 3.0)
    assert pictures.graphviz_placement(graph) is None
    assert pictures.whole(graph, use_graphviz=True).text() == pictures.whole(graph).text()


def test_a_placement_whose_edges_go_up_is_ignored():
    nodes = [NodeSpec(0, ("a",), 0), NodeSpec(1, ("b",), 1)]
    upside_down = {0: (1, 0.0), 1: (0, 0.0)}
    assert layout(nodes, [(0, 1, 0)], placement=upside_down).text() == \
        layout(nodes, [(0, 1, 0)]).text()


def test_collapsed_folds_each_call_and_keeps_the_edges_between_boxes():
    def cell(h, x):
        return np.tanh(h * 0.5 + x)

    def two_cells(x, y):
        return cell(cell(x, y), y) * 2.0

    graph = gad.trace(two_cells, 1.0, 2.0)
    assert pictures.has_calls(graph)
    folding = pictures.collapsed(graph)
    calls = [v for v, ids in folding.members.items() if len(ids) > 1]
    assert len(calls) == 2
    assert folding.picture.text().count("cell() · ") == 2
    first, second = sorted(calls)
    y = graph.inputs["y"].id
    carried = {edge for (source, _, _), edge in folding.edges.items() if source != y}
    assert any(source == first and target == second for source, target, _ in carried)
    inside = [(s, t) for s, t, _ in folding.edges if folding.vertex_of[s] == folding.vertex_of[t]]
    assert inside == []  # edges inside a box are not drawn
    assert not pictures.has_calls(gad.trace(lambda x: x * x, 1.0))


def fan_out(count):
    def summed_sines(x):
        total = np.sin(x)
        for _ in range(count - 1):
            total = total + np.sin(x)
        return total

    return gad.trace(summed_sines, 0.5)


def test_a_wide_fan_out_sinks_each_operation_to_its_consumer():
    # Ranked by deepest operand, every sin would sit at rank 1 and its edge to the k-th sum
    # would pass k ranks: about n²/2 dummies.  Sunk, each sin sits just above its sum.
    graph = fan_out(60)
    picture = pictures.whole(graph, detail=0)
    users = consumers(graph)
    for node in graph.nodes:
        if node.op == "sin":
            (total,) = (user.id for user in users[node.id])
            assert picture.boxes[node.id].y < picture.boxes[total].y
            between = [b for b in picture.boxes.values()
                       if picture.boxes[node.id].y < b.y < picture.boxes[total].y]
            assert not between
    for edge in picture.routes:
        rows = [y for y, _, _ in picture.edge_cells(edge)]
        assert rows == sorted(rows) and rows[-1] == picture.boxes[edge[1]].y - 1
    assert len({cell for edge in picture.routes for cell in picture.routes[edge]}) < \
        40 * len(graph.nodes)


def test_small_fan_outs_keep_their_operations_next_to_their_operand():
    graph = fan_out(3)
    picture = pictures.whole(graph, detail=0)
    sines = [node.id for node in graph.nodes if node.op == "sin"]
    assert len({picture.boxes[node_id].y for node_id in sines}) == 1


def test_routes_are_a_mapping_of_every_edge():
    graph = fan_out(5)
    picture = pictures.whole(graph)
    edges = {(o.id, n.id, arg) for n in graph.nodes for arg, o in enumerate(n.inputs)}
    assert set(picture.routes) == edges and len(picture.routes) == len(edges)
    assert dict(picture.routes) == picture.routes
    assert picture.edge_cells((-1, -2, 0)) == ()
