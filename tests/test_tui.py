"""The terminal debugger, driven headless by Textual's Pilot.

Every test passes ``size=`` and waits for workers with ``workers.wait_for_complete()``
followed by ``pause()``; none sleeps for a fixed time.  The tests are coroutines run by
``headless`` (no asyncio plugin needed).
"""

from __future__ import annotations

import asyncio
import functools

import numpy as np
import pytest

import graphviz_ad as gad
from tui import pictures
from tui.app import DebuggerApp
from tui.screens.chooser import GraphChooser
from tui.screens.debug import DebugScreen
from tui.screens.help import HelpScreen


def x_plus_square(x):
    u1 = x**2
    return x + u1


def neuron(w, x, b):
    z = w @ x + b
    return np.maximum(0, z)


def recurrent(x, w, u, b):
    h = 0.0 * b
    for t in range(len(x)):
        h = np.tanh(w * h + u * x[t] + b)
    return h * h


def cell(h, x, t, w, u):
    return np.tanh(w * h + u * x[t] + 0.1 * h)


def unrolled(x, w, u):
    h = 0.0 * w
    for t in range(len(x)):
        h = cell(h, x, t, w, u)
    return h * h


def square_root_where(x):
    return np.where(x > 0, np.sqrt(x), 0.0)


W, X = np.array([1.0, -2.0, 0.5]), np.array([3.0, 1.0, 2.0])


def neuron_graph(b=0.25):
    return gad.trace(neuron, W, X, b)


def headless(test):
    """Run an ``async def`` test to completion (pytest still sees its fixtures)."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        asyncio.run(test(*args, **kwargs))

    return run


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


def inspector_text(app) -> str:
    return app.screen.query_one("#inspector").text


async def press(app, pilot, *keys: str) -> None:
    await pilot.press(*keys)
    await settle(app, pilot)


# -- the sum over paths, term by term ----------------------------------------------------------
@headless
async def test_backward_x_plus_square_shows_both_contributions_and_their_sum():
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)], mode="backward")
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(app, pilot)
        assert "Step 0: before the first step of the backward pass" in inspector_text(app)

        await press(app, pilot, "n")  # the seed: ∂u₂/∂u₂ = 1
        assert "Seed" in inspector_text(app)

        await press(app, pilot, "n")  # ∂u₂/∂x += ∂u₂/∂u₂ · 1, the direct path
        text = inspector_text(app)
        assert "Edge x → u₂" in text
        assert "1 of 2 contributions received" in text
        assert "via u₂: 1" in text
        assert "(1 more to come)" in text

        await press(app, pilot, "n", "n")  # ∂u₂/∂u₁, then ∂u₂/∂x += ∂u₂/∂u₁ · 2x = 6 through u₁
        text = inspector_text(app)
        assert "Edge x → u₁" in text
        assert "∂u₁/∂x" in text
        assert "contribution (upstream · local): 6" in text
        assert "2 of 2 contributions received ✓ complete" in text
        assert "via u₂: 1" in text and "via u₁: 6" in text
        assert "sum: 1 + 6 = 7" in text
        assert app.screen.debugger.index == len(app.screen.debugger) - 1


@headless
async def test_previous_restores_the_earlier_step():
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)], mode="backward")
    async with app.run_test(size=(100, 34)) as pilot:
        await press(app, pilot, "G")
        assert "sum: 1 + 6 = 7" in inspector_text(app)
        await press(app, pilot, "p", "p")
        text = inspector_text(app)
        assert "1 of 2 contributions received" in text and "sum:" not in text
        await press(app, pilot, "g")
        assert app.screen.debugger.index == -1


# -- the neuron ----------------------------------------------------------------------------------
@headless
async def test_forward_neuron_values_and_local_jacobians():
    app = DebuggerApp([neuron_graph()])
    async with app.run_test(size=(100, 34)) as pilot:
        await press(app, pilot, "n", "n", "n", "n")  # w, x, b, then u₁ = w @ x
        text = inspector_text(app)
        assert "u₁ = matmul(w, x) = 2" in text
        assert "∂u₁/∂w  matmul  xᵀ  1×3" in text
        assert "[ 3  1  2 ]" in text
        assert "∂u₁/∂x  matmul  wᵀ  1×3" in text
        assert "[ 1  −2  0.5 ]" in text

        await press(app, pilot, "l")  # denominator layout: the transpose, a column
        text = inspector_text(app)
        assert "(∂u₁/∂w)ᵀ  matmul  xᵀ  3×1" in text
        assert "[ 3 ]\n  [ 1 ]\n  [ 2 ]" in text
        assert app.screen.query_one("#inspector").border_subtitle == "forward · denominator layout"

        await press(app, pilot, "G")
        text = inspector_text(app)
        assert "u₃ = maximum(0, u₂) = 2.25" in text
        assert "[u₂ > 0]" in text


@headless
async def test_backward_neuron_gradients():
    app = DebuggerApp([neuron_graph()], mode="backward")
    async with app.run_test(size=(100, 34)) as pilot:
        await press(app, pilot, "n", "n")
        text = inspector_text(app)
        assert "Edge u₂ → u₃" in text and "[u₂ > 0]" in text
        await press(app, pilot, "n", "n", "n")  # u₁, b, then w
        text = inspector_text(app)
        assert "Edge w → u₁" in text
        assert "contribution (upstream · local): [ 3  1  2 ]" in text
        assert "1 of 1 contributions received ✓ complete" in text


@headless
async def test_inactive_neuron_passes_zero_back():
    app = DebuggerApp([neuron_graph(-3.0)], mode="backward")
    async with app.run_test(size=(100, 34)) as pilot:
        await press(app, pilot, "G")
        text = inspector_text(app)
        assert "Edge x → u₁" in text
        assert "[ 0  0  0 ]" in text


@headless
async def test_modes_cycle_and_tangent_steps():
    app = DebuggerApp([neuron_graph()])
    async with app.run_test(size=(100, 34)) as pilot:
        screen = app.screen
        await press(app, pilot, "m")
        assert screen.debugger.mode == "backward"
        await press(app, pilot, "m", "n", "n")
        assert screen.debugger.mode == "tangent"
        text = inspector_text(app)
        assert "Edge w → u₁" in text
        assert "tangent dw: [ 1  1  1 ]" in text
        assert "Tangent du₁ of u₁: 1 of 1 contributions received" in text
        await press(app, pilot, "m")
        assert screen.debugger.mode == "forward"


# -- breakpoints ---------------------------------------------------------------------------------
@headless
async def test_breakpoint_on_a_node_stops_continue():
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)], mode="backward")
    async with app.run_test(size=(100, 34)) as pilot:
        screen = app.screen
        await press(app, pilot, "b")  # before the first step: nothing to put it on
        assert screen.breakpoints == set()
        await press(app, pilot, "n", "n", "b")  # on x
        assert screen.breakpoints == {screen.graph.inputs["x"].id}
        assert screen.query_one("#steps").border_subtitle == "● 1 breakpoint"
        canvas = screen.query_one("#graph-canvas")
        assert any(("●", "marker") in row.values() for row in canvas._markers.values())
        await press(app, pilot, "g", "c")
        assert screen.debugger.index == 1
        assert "stopped: breakpoint on x" in inspector_text(app)
        await press(app, pilot, "c")
        assert screen.debugger.index == 3
        await press(app, pilot, "c")  # no more hits: runs to the end
        assert screen.debugger.index == len(screen.debugger) - 1


@headless
async def test_break_on_nonfinite_names_the_origin():
    with np.errstate(invalid="ignore"):
        graph = gad.trace(square_root_where, -1.0)
    app = DebuggerApp([graph], mode="backward")
    async with app.run_test(size=(120, 40)) as pilot:
        await press(app, pilot, "a")
        assert app.screen.query_one("#steps").border_subtitle == "NaN/Inf"
        await press(app, pilot, "c")
        text = inspector_text(app)
        assert "stopped:" in text
        assert "sqrt" in text
        assert app.screen.debugger.hit is not None


# -- panes ---------------------------------------------------------------------------------------
@headless
async def test_steps_pane_lists_steps_and_moving_in_it_jumps():
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)], mode="backward")
    async with app.run_test(size=(100, 34)) as pilot:
        steps = app.screen.query_one("#steps")
        assert steps.border_title == "Steps · 4"
        steps.focus()
        await press(app, pilot, "down", "down")
        assert app.screen.debugger.index == 1
        assert steps.cursor == 1
        await press(app, pilot, "up")
        assert app.screen.debugger.index == 0


@headless
async def test_source_pane_highlights_the_operation_line():
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)])
    async with app.run_test(size=(100, 34)) as pilot:
        await press(app, pilot, "n", "n", "n")  # x, 2, u₁ = x ** 2
        source = app.screen.query_one("#source")
        assert source.filename == __file__
        assert source.lineno == x_plus_square.__code__.co_firstlineno + 1
        assert source.border_title.startswith("Source · test_tui.py:")


@headless
async def test_paths_pane_lists_each_path_and_the_sum():
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)], mode="backward")
    async with app.run_test(size=(120, 40)) as pilot:
        await press(app, pilot, "P", "n", "n")
        paths = app.screen.query_one("#paths")
        assert paths.display
        assert "x → u₁ → u₂" in paths.text and "x → u₂" in paths.text
        assert "sum = 7" in paths.text
        assert "formula: ∂u₂/∂x = 2x + 1" in paths.text  # the same sum as one expression
        await press(app, pilot, "P")
        assert not paths.display


@headless
async def test_names_with_brackets_are_shown_as_written():
    graph = gad.trace(lambda xs: (xs[0] * xs[1]).sum(), [2.0, np.ones(2)])
    app = DebuggerApp([graph], mode="backward")
    async with app.run_test(size=(120, 40)) as pilot:
        await press(app, pilot, "P", "G")
        step = app.screen.debugger.current
        assert step.node.label == "xs[1]"
        assert app.screen.query_one("#paths").border_title == "Paths · xs[1] → u₂ · 1"
        assert "xs[1]" in inspector_text(app)


@headless
async def test_a_vector_output_has_no_backward_pass_without_a_seed_as_in_the_engine():
    graph = gad.trace(lambda x: x * 2.0, np.ones(3))
    app = DebuggerApp([graph], mode="backward")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.debugger.mode == "forward"  # the pass every graph has
        await press(app, pilot, "m")  # backward is refused as by Debugger and the CLI
        assert app.screen.debugger.mode == "tangent"


@headless
async def test_graph_pane_marks_statuses_and_the_current_edge():
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)], mode="backward")
    async with app.run_test(size=(100, 34)) as pilot:
        await press(app, pilot, "n", "n")
        canvas = app.screen.query_one("#graph-canvas")
        graph = app.screen.graph
        x, output = graph.inputs["x"].id, graph.output.id
        assert canvas._statuses[x] == "current"
        assert canvas._statuses[output] == "done"
        edge = canvas.picture.edge_cells((x, output, 0))
        highlighted = {(y, column) for y, row in canvas._edge_overlay.items() for column in row}
        assert highlighted == {(y, column) for y, column, _ in edge}


@headless
async def test_zoom_fit_and_views():
    app = DebuggerApp([neuron_graph()])
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        pane = app.screen.query_one("#graph")
        canvas = app.screen.query_one("#graph-canvas")
        assert pane.view == "full" and pane.detail == 2  # values: they fit at this size
        assert "2.25" in canvas.picture.text()
        await press(app, pilot, "minus", "minus")
        assert pane.detail == 0 and "captions" in pane.border_subtitle
        await press(app, pilot, "minus")
        assert pane.detail == 0
        await press(app, pilot, "plus")
        assert pane.detail == 1 and "2.25" not in canvas.picture.text()
        await press(app, pilot, "f")
        assert pane.view == "full"
        picture = canvas.picture
        region = canvas.scrollable_content_region
        assert picture.width <= region.width and picture.height <= region.height
        await press(app, pilot, "v")
        assert pane.view == "focus"


@headless
async def test_large_graph_opens_in_focus_view_and_lays_out_in_a_worker():
    graph = gad.trace(recurrent, np.linspace(-1, 1, 15), 0.5, 0.3, 0.1)
    assert len(graph.nodes) > pictures.FOCUS_THRESHOLD
    app = DebuggerApp([graph], mode="backward")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        pane = app.screen.query_one("#graph")
        assert pane.view == "focus"
        await press(app, pilot, "n", "n", "n")
        canvas = app.screen.query_one("#graph-canvas")
        assert len(canvas.picture.boxes) <= pictures.FOCUS_LIMIT
        assert app.screen.debugger.current.node.id in canvas.picture.boxes
        await press(app, pilot, "v")
        assert pane.view == "full"
        assert len(canvas.picture.boxes) == len(graph.nodes)
        assert not app.screen.query_one("#layout-progress").display


@headless
async def test_clusters_view_folds_each_call_into_a_box():
    graph = gad.trace(unrolled, np.linspace(-1, 1, 4), 0.5, 0.3)
    app = DebuggerApp([graph], mode="backward")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        pane = app.screen.query_one("#graph")
        assert pane.views == ("full", "focus", "clusters")
        await press(app, pilot, "v", "v")
        assert pane.view == "clusters"
        canvas = app.screen.query_one("#graph-canvas")
        assert canvas.picture.text().count("cell() · 8 nodes") == 4
        assert len(canvas.picture.boxes) < len(graph.nodes)
        await press(app, pilot, "n", "n", "n", "n")  # into the last call of cell
        node = app.screen.debugger.current.node
        folding = pane._shown_folding
        assert canvas._statuses[folding.vertex_of[node.id]] == "current"
        await press(app, pilot, "v")
        assert pane.view == "full"


@headless
async def test_a_large_graph_of_many_calls_opens_folded():
    graph = gad.trace(unrolled, np.linspace(-1, 1, 45), 0.5, 0.3)
    assert len(graph.nodes) > 300
    app = DebuggerApp([graph])
    async with app.run_test(size=(120, 40)) as pilot:
        await press(app, pilot, "n")
        assert app.screen.query_one("#graph").view == "clusters"


@headless
async def test_jump_to_a_node_from_the_command_palette():
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)], mode="backward")
    async with app.run_test(size=(100, 34)) as pilot:
        await press(app, pilot, "slash")
        await pilot.press(*"power")
        await settle(app, pilot)
        await press(app, pilot, "enter")
        step = app.screen.debugger.current
        assert step.node.op == "power"


@headless
async def test_the_command_palette_takes_a_label_typed_without_subscripts():
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)], mode="backward")
    async with app.run_test(size=(100, 34)) as pilot:
        await press(app, pilot, "slash")
        await pilot.press(*"u2")  # u₂ = x ** 2; fuzzy matching alone cannot see 2 in u₂
        await settle(app, pilot)
        await press(app, pilot, "enter")
        assert app.screen.debugger.current.node is app.screen.graph.nodes[2]


@headless
async def test_clicking_a_node_jumps_to_its_step():
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)], mode="backward")
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(app, pilot)
        canvas = app.screen.query_one("#graph-canvas")
        x = app.screen.graph.inputs["x"].id
        box = canvas.picture.boxes[x]
        offset = (box.x + canvas._margin + 1, box.y + 1)
        await pilot.click("#graph-canvas", offset=offset)
        await settle(app, pilot)
        assert app.screen.debugger.current.node.id == x
        assert app.screen.debugger.index == 1  # the first contribution to the adjoint of x


@headless
async def test_help_screen_lists_the_keys():
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)])
    async with app.run_test(size=(100, 34)) as pilot:
        await press(app, pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        await press(app, pilot, "escape")
        assert isinstance(app.screen, DebugScreen)


@headless
async def test_maximize_and_focus_next_pane():
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)])
    async with app.run_test(size=(100, 34)) as pilot:
        await press(app, pilot, "z")
        assert app.screen.maximized is app.screen.query_one("#graph")
        await press(app, pilot, "z")
        assert app.screen.maximized is None
        await press(app, pilot, "tab")
        assert app.focused is app.screen.query_one("#steps")


@headless
async def test_chooser_opens_each_graph():
    graphs = [neuron_graph(), gad.trace(x_plus_square, 3.0)]
    app = DebuggerApp(graphs)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, GraphChooser)
        await press(app, pilot, "down", "enter")
        assert isinstance(app.screen, DebugScreen)
        assert app.screen.graph is graphs[1]
        await press(app, pilot, "o")
        assert isinstance(app.screen, GraphChooser)


@headless
async def test_export_writes_the_current_state_as_svg(tmp_path):
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)], mode="backward", export_folder=tmp_path)
    async with app.run_test(size=(100, 34)) as pilot:
        await press(app, pilot, "n", "n", "e")
        written = tmp_path / "x_plus_square-backward-step1.svg"
        assert written.exists()
        assert "<svg" in written.read_text()


@headless
async def test_small_terminal_opens_a_graph_with_its_numbers_when_their_width_fits():
    app = DebuggerApp([neuron_graph()])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        pane = app.screen.query_one("#graph")
        assert pane.detail == 2  # as wide as the pane, under twice as tall: it scrolls
        assert pane.canvas.picture.height > pane.canvas.scrollable_content_region.height


@headless
async def test_small_terminal_opens_a_tall_graph_in_boxes_when_nothing_fits():
    graph = gad.trace(recurrent, np.linspace(-1, 1, 1), 0.5, 0.3, 0.1)
    app = DebuggerApp([graph])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        pane = app.screen.query_one("#graph")
        region = pane.canvas.scrollable_content_region
        assert pane.detail == 1  # scrolling beats bare captions
        assert pictures.whole(graph, 0).height > region.height


@headless
async def test_renders_in_a_terminal_without_colour(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = DebuggerApp([neuron_graph()], mode="backward")
    async with app.run_test(size=(80, 24)) as pilot:
        await press(app, pilot, "n", "n")
        screenshot = app.export_screenshot()
        assert "Inspector" in screenshot and "Traceback" not in screenshot


@headless
async def test_works_without_the_graphviz_binary(monkeypatch):
    monkeypatch.setenv("PATH", "")
    graph = gad.trace(recurrent, np.linspace(-1, 1, 12), 0.5, 0.3, 0.1)
    app = DebuggerApp([graph, neuron_graph()], start=0, mode="backward")
    async with app.run_test(size=(80, 24)) as pilot:
        await press(app, pilot, "n", "n", "v", "f", "minus", "m", "n", "P", "G")
        assert isinstance(app.screen, DebugScreen)
        assert app.screen.query_one("#graph-canvas").picture is not None


@headless
async def test_graphviz_ordered_pictures_when_asked():
    app = DebuggerApp([neuron_graph()], graphviz_layout=True)
    async with app.run_test(size=(100, 34)) as pilot:
        await press(app, pilot, "n", "n", "n", "n")
        picture = app.screen.query_one("#graph-canvas").picture
        assert len(picture.boxes) == len(app.screen.graph.nodes)


def test_an_app_needs_a_graph_and_a_known_mode():
    with pytest.raises(ValueError, match="no graphs"):
        DebuggerApp([])
    with pytest.raises(ValueError, match="mode must be one of"):
        DebuggerApp([gad.trace(x_plus_square, 3.0)], mode="reverse")
