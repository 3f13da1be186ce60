"""The terminal debugger in a classroom: the graph shows the pass (adjoints in the boxes,
``1 + 6 = 7`` on the node receiving two contributions, the current edge's product), nothing
is cut off at 80×24, numpy's warnings become notes, the graph keys work from every pane
and the chooser tells two traces of one function apart.  Driven headless by the Pilot."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

import graphviz_ad as gad
from graphviz_ad import examples
from graphviz_ad.collect import choose, run_script
from tui.app import DebuggerApp
from tui.screens.chooser import GraphChooser
from tui.text import fit

from .test_tui import headless, neuron, press, settle, x_plus_square

SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])


def shown(widget) -> list[str]:
    """The widget's lines as drawn on screen now (scrolled, cropped to its width)."""
    return ["".join(segment.text for segment in widget.render_line(y)).rstrip()
            for y in range(widget.scrollable_content_region.height)]


def all_lines(pane) -> list[str]:
    """Every line of a text pane as drawn, scrolled through from the top."""
    pane.scroll_to(y=0, animate=False, immediate=True)
    lines = []
    for top in range(0, max(pane.virtual_size.height, 1), pane.scrollable_content_region.height):
        pane.scroll_to(y=top, animate=False, immediate=True)
        lines += shown(pane)
    return lines


def box_line(canvas, node) -> str:
    """The number line of ``node``'s box as drawn (the box must be on screen)."""
    box = canvas.picture.boxes[node.id]
    row = box.y + 2 - int(canvas.scroll_offset.y)
    assert 0 <= row < canvas.scrollable_content_region.height, "the box is off screen"
    line = shown(canvas)[row]
    start = box.x + canvas._margin - int(canvas.scroll_offset.x)
    return line[start + 1 : start + box.width - 1].strip()


# -- the backward pass in the graph ------------------------------------------------------------
@SIZES
@headless
async def test_boxes_show_adjoints_and_the_running_sum(size):
    graph = gad.trace(x_plus_square, 3.0)
    x, square, output = graph.inputs["x"], graph.nodes[2], graph.output
    app = DebuggerApp([graph], mode="backward")
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        canvas = app.screen.query_one("#graph-canvas")
        assert app.screen.query_one("#graph").detail == 2  # the boxes have number lines
        assert box_line(canvas, x) == ""  # nothing has reached x before the pass
        await press(app, pilot, "n", "n")  # the seed, then ∂y/∂x += 1 along x → u₃
        assert box_line(canvas, output) == "1"
        assert box_line(canvas, x) == "1"
        await press(app, pilot, "n", "n")  # ∂y/∂u₂ = 1, then ∂y/∂x += 1 · 2x = 6
        assert box_line(canvas, square) == "1"  # its adjoint, not its value 9
        assert box_line(canvas, x) == "1 + 6 = 7"
        assert any("= 6" in line for line in shown(canvas))  # the current edge's product


@headless
async def test_the_current_edge_shows_its_rule_and_contribution():
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)], mode="backward")
    async with app.run_test(size=(100, 34)) as pilot:
        await press(app, pilot, "n", "n")
        assert any("1 · [1] = 1" in line for line in shown(app.screen.query_one("#graph-canvas")))


@headless
async def test_tangent_and_forward_boxes():
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)], mode="tangent")
    async with app.run_test(size=(100, 34)) as pilot:
        graph = app.screen.graph
        canvas = app.screen.query_one("#graph-canvas")
        await press(app, pilot, "G")
        assert box_line(canvas, graph.nodes[2]) == "6"  # du₂ = [2x] · dx
        assert box_line(canvas, graph.output) == "1 + 6 = 7"  # du₃ = dx + du₂
        await press(app, pilot, "m", "n", "n", "n")  # forward: x = 3, then u₂ = 9
        assert box_line(canvas, graph.nodes[2]) == "9"
        assert box_line(canvas, graph.output) == ""  # not computed yet


@headless
async def test_a_box_too_narrow_for_its_number_ends_in_a_marker():
    graph = gad.trace(neuron, np.array([1.0, -2.0, 0.5]), np.array([3.0, 1.0, 2.0]), 0.25)
    app = DebuggerApp([graph], mode="backward")
    async with app.run_test(size=(160, 48)) as pilot:
        await press(app, pilot, "G")
        canvas = app.screen.query_one("#graph-canvas")
        canvas.scroll_to(y=0, animate=False, immediate=True)
        assert box_line(canvas, graph.inputs["w"]) == "[3, 1, 2]"
        assert fit("[0.25, −0.5, 0.125, 1]", 9) == "[0.25, −…"


@headless
async def test_the_mlp_opens_with_numbers_where_its_width_fits():
    script = examples.find("mlp").path
    graph = choose(run_script(str(script), run_name="graphviz_ad.examples.mlp"), "mlp_loss")
    app = DebuggerApp([graph], mode="backward")
    async with app.run_test(size=(160, 48)) as pilot:
        await press(app, pilot, "n", "n", "n", "n", "n")
        pane = app.screen.query_one("#graph")
        assert pane.detail == 2  # taller than the pane: it scrolls to follow the step
        step = app.screen.debugger.current
        total = gad.notation.array_text(step.total)
        assert box_line(pane.canvas, step.node) == fit(total, pane.canvas.picture.boxes[
            step.node.id].width - 4, keep_total=True)


@headless
async def test_a_large_graph_opens_in_focus_view_with_numbers():
    def recurrent(x, w):
        h = 0.0 * w
        for t in range(len(x)):
            h = np.tanh(w * h + x[t])
        return h * h

    app = DebuggerApp([gad.trace(recurrent, np.linspace(-1, 1, 20), 0.5)], mode="backward")
    async with app.run_test(size=(120, 40)) as pilot:
        await press(app, pilot, "n", "n")
        pane = app.screen.query_one("#graph")
        assert pane.view == "focus" and pane.detail == 2
        step = app.screen.debugger.current
        assert box_line(pane.canvas, step.node) == gad.notation.array_text(step.total)


# -- nothing cut off -----------------------------------------------------------------------
@SIZES
@headless
async def test_nothing_is_cut_off_without_a_marker(size):
    """The Inspector's text is never hidden under its scrollbar; a step row is whole or
    ends in ``…``."""
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)], mode="backward")
    async with app.run_test(size=size) as pilot:
        await press(app, pilot, "G")
        inspector = app.screen.query_one("#inspector")
        assert inspector.virtual_size.height > 0
        text = " ".join(" ".join(all_lines(inspector)).split())
        assert "(2 of 2, complete)" in text
        assert "contribution (upstream · local): 6" in text
        assert "sum: 1 + 6 = 7" in text
        # Wrapped at the width beside the scrollbar, which is kept even when not needed.
        region = inspector.scrollable_content_region
        assert region.width < inspector.size.width
        assert all(strip.cell_length <= region.width for strip in inspector._strips)
        # Each step row is whole or ends in a marker.
        title = app.screen.query_one("#inspector").border_title
        assert str(title) == "Inspector · step 4 of 4"  # numbered as in graphviz_ad.steps
        assert str(app.screen.query_one("#inspector").border_subtitle) == (
            "backward · numerator layout")
        steps = app.screen.query_one("#steps")
        rows = [row for row in shown(steps) if row]
        assert [row.split()[0] for row in rows] == ["1", "2", "3", "4"]  # step 0: no row
        texts = [step.text for step in app.screen.debugger.backward()]
        for row, text in zip(rows, texts):
            body = row.split(" ", 1)[1]
            assert body == text or (body.endswith("…") and text.startswith(body[:-1]))
        if size[0] == 160:
            assert rows[-1].endswith("(2 of 2, complete)")
        else:
            assert rows[-1].endswith("…")


# -- warnings --------------------------------------------------------------------------------
def log_at_zero(x):
    return np.log(x)


@headless
async def test_numpy_warnings_become_notes_on_their_step():
    with np.errstate(divide="ignore"):
        graph = gad.trace(log_at_zero, 0.0)
    app = DebuggerApp([graph], mode="backward")
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        async with app.run_test(size=(100, 34)) as pilot:
            await press(app, pilot, "n", "n")  # ∂y/∂x += 1 · [1/x] = ∞: 1/0 warns
            text = app.screen.query_one("#inspector").text
            assert "⚠ RuntimeWarning: divide by zero" in text
            canvas = app.screen.query_one("#graph-canvas")
            assert box_line(canvas, graph.inputs["x"]) == "⚠ ∞"
            rows = shown(app.screen.query_one("#steps"))
            assert rows[1].startswith("2 ⚠ ∂")
            await press(app, pilot, "g")  # before the pass: nothing was computed
            assert "⚠" not in app.screen.query_one("#inspector").text
            assert box_line(canvas, graph.inputs["x"]) == ""
    assert not [w for w in escaped if issubclass(w.category, RuntimeWarning)]


@headless
async def test_a_warning_while_the_steps_pane_makes_rows_is_noted_too():
    with np.errstate(divide="ignore"):
        graph = gad.trace(log_at_zero, 0.0)
    app = DebuggerApp([graph], mode="backward")
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(app, pilot)  # the Steps pane drew both rows: both steps are made
        assert app.screen.debugger.steps_so_far == 2
        assert app.screen.notes.of("backward", 1)
        assert not app.screen.notes.of("backward", 0)


# -- keys and the chooser -------------------------------------------------------------------------
@headless
async def test_graph_keys_work_from_the_steps_pane():
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)], mode="backward")
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(app, pilot)
        pane = app.screen.query_one("#graph")
        app.screen.query_one("#steps").focus()
        detail = pane.detail
        await press(app, pilot, "minus")
        assert pane.detail == detail - 1
        await press(app, pilot, "plus")
        assert pane.detail == detail
        await press(app, pilot, "v")
        assert pane.view == "focus"
        assert app.focused is app.screen.query_one("#steps")


first = gad.trace(neuron, np.array([1.0, -2.0, 0.5]), np.array([3.0, 1.0, 2.0]), 0.25)
second = gad.trace(neuron, np.array([1.0, -2.0, 0.5]), np.array([3.0, 1.0, 2.0]), -3.0)


@headless
async def test_chooser_tells_two_traces_of_one_function_apart():
    app = DebuggerApp([first, second])
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, GraphChooser)
        options = app.screen.query_one("#chooser")
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(2)]
        here = re.escape(__name__.rsplit(".", 1)[-1])
        assert re.search(rf"neuron#1.*\n\s+{here}\.py:\d+  b = 0\.25  ·  first = gad\.trace",
                         prompts[0])
        assert re.search(rf"neuron#2.*\n\s+{here}\.py:\d+  b = −3  ·  second = gad\.trace",
                         prompts[1])
        assert first.traced_at.lineno + 1 == second.traced_at.lineno


@headless
async def test_a_step_number_names_the_same_state_in_the_tui_and_render_step():
    """After k presses of n the debugger is at step k, as ``render --step k`` numbers it
    (``state_at``, what the command calls): the same step text, the same node statuses."""
    from graphviz_ad.render import state_at, to_json

    graph = run_script(str(examples.find("total_derivative").path))[0]
    app = DebuggerApp([graph], mode="backward")
    async with app.run_test(size=(120, 40)) as pilot:
        for number in range(5):
            title = str(app.screen.query_one("#inspector").border_title)
            assert title == f"Inspector · step {number} of 4"
            document = json.loads(to_json(graph, state_at(graph, "backward", number)))
            state = app.screen.debugger.state()
            assert document["step"]["number"] == number
            assert [node["status"] for node in document["nodes"]] == [
                state.status(node) for node in graph.nodes]
            if number:
                first = app.screen.query_one("#inspector").text.splitlines()[0]
                assert first == f"Step {number}: {document['step']['text']}"
            await press(app, pilot, "n")
