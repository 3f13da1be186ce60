"""The HTML step player and the notebook display objects: one layout for every step, a
frame table that restyles it, the inspector's rows from the step records, no network."""

import html
import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import graphviz_ad as gad
from graphviz_ad.collect import run_script
from graphviz_ad.examples import find
from graphviz_ad.render import Picture, Player, player, player_html

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def graph():
    """The example's active neuron: max(0, w · x + b)."""
    return run_script(str(find("neuron").path))[0]


def page_parts(page: str):
    """The page's one SVG (parsed) and its frame table, each frame's texts gathered from
    the changes the table keeps (as the page's script does)."""
    pictures = re.findall(r"<svg\b.*?</svg>", page, re.DOTALL)
    assert len(pictures) == 1
    table = re.search(r'<script type="application/json" id="frames">(.*?)</script>', page,
                      re.DOTALL)
    data = json.loads(table.group(1))
    totals, carried = [[] for _ in data["totals"]], [[] for _ in data["carried"]]
    for frame in data["frames"]:
        for slot, lines in frame["t"]:
            totals[slot] = lines
        for slot, lines in frame["v"]:
            carried[slot] = lines
        frame["t"], frame["v"] = list(totals), list(carried)
    return ET.fromstring(pictures[0]), data


def test_one_picture_and_one_frame_per_step():
    graph = gad.trace(lambda x: x + x**2, 3.0)
    page = player_html(graph, mode="backward")
    svg, data = page_parts(page)
    debugger = gad.Debugger(graph)
    debugger.set_mode("backward")
    steps = list(debugger.backward())
    assert [frame["title"] for frame in data["frames"]] == [
        f"step {k} of {len(steps)}" for k in range(len(steps) + 1)]  # 0: before the pass
    assert [frame["text"] for frame in data["frames"]] == ["", *(s.text for s in steps)]
    assert "(2 of 2, complete)" in data["frames"][-1]["text"]
    # every box and arrow a frame restyles is in the one picture, once
    ids = [element.get("id") for element in svg.iter() if element.get("id")]
    assert len(ids) == len(set(ids))
    for box in data["boxes"]:
        assert f"box-{box}" in ids
    for frame in data["frames"]:
        assert len(frame["b"]) == len(data["boxes"]) and set(frame["b"]) <= set("pdc")
        assert len(frame["a"]) == len(data["arrows"])
    assert set(data["frames"][0]["b"]) == {"p"}  # nothing has happened at step 0
    assert "c" in data["frames"][-1]["b"]


def test_running_sums_and_contributions_are_what_render_step_draws():
    graph = gad.trace(lambda x: x + x**2, 3.0)
    _, data = page_parts(player_html(graph, mode="backward"))
    strings = data["strings"]
    x_total = [name for name, _ in data["totals"]].index("n0")

    def lines(indices):
        return " / ".join(strings[i] for i in indices)

    assert [lines(frame["t"][x_total]) for frame in data["frames"]] == [
        "", "", "1 \u00a0(1 of 2)", "1 \u00a0(1 of 2)", "1 + 6 = 7"]
    carried = {lines(v) for frame in data["frames"] for v in frame["v"]}
    assert {"→ 1", "→ 6"} <= carried
    # the same texts as the picture of that step
    debugger = gad.Debugger(graph, "backward")
    debugger.goto(2)
    assert "1  (1 of 2)" in graph.to_dot(debugger.state())


@pytest.mark.parametrize("name", ["total_derivative", "neuron", "mlp"])
def test_every_total_a_step_writes_has_a_place_in_the_picture(name):
    """A box's total is written into text elements of the one picture: a box whose texts
    are all one colour (pending, grey) must still get its slots, or its sum never shows."""
    graph = run_script(str(find(name).path))[0]
    svg, data = page_parts(player_html(graph, mode="backward"))
    ids = {element.get("id") for element in svg.iter()}
    for slot, (box, count) in enumerate(data["totals"]):
        if any(frame["t"][slot] for frame in data["frames"]):
            assert count >= 1, box
            assert all(f"total-{box}-{k}" in ids for k in range(count))


def test_a_matrix_total_keeps_its_rows():
    """A total drawn over several lines fills one text per line of the one layout."""
    graph = gad.trace(lambda W, x: np.tanh(W @ x).sum(), np.ones((2, 3)) * 0.1,
                      np.array([1.0, 2.0, 3.0]))
    svg, data = page_parts(player_html(graph, mode="backward"))
    frame = data["frames"][-1]
    for (name, slots), lines in zip(data["totals"], frame["t"], strict=True):
        assert slots >= 1 and len(lines) >= 1, name
    ids = {element.get("id") for element in svg.iter()}
    for name, slots in data["totals"]:
        assert {f"name-{name}"} | {f"total-{name}-{k}" for k in range(slots)} <= ids


def test_positions_are_laid_out_once(graph):
    """Frames only swap classes and texts: the picture has no per-step geometry, and
    laying the pass out again gives the same positions."""
    first, data = page_parts(player_html(graph, mode="backward"))
    again, _ = page_parts(player_html(graph, mode="backward"))

    def outlines(svg):
        return {g.get("id"): [e.get("d") or e.get("points") for e in g.iter()
                              if e.get("class") == "outline"]
                for g in svg.iter(f"{SVG}g") if (g.get("id") or "").startswith("box-")}

    assert outlines(first) == outlines(again)
    assert len(outlines(first)) == len(data["boxes"]) >= 5


def test_the_inspector_shows_edge_rule_upstream_contribution_and_running_sum():
    graph = gad.trace(lambda x: x + x**2, 3.0)
    _, data = page_parts(player_html(graph, mode="backward"))
    last = dict(data["frames"][-1]["inspector"])
    y, square = graph.output.label, graph.output.inputs[1].label  # y = x + u, u = x²
    assert last["edge"] == f"x → {square}"
    assert last["rule"] == f"∂{square}/∂x = [2x]  (1×1)"
    assert last["upstream"] == f"∂{y}/∂{square} = 1"
    assert last["contribution"] == "6"
    assert last["running sum"] == f"∂{y}/∂x = 1 + 6 = 7"
    assert last["received"] == "2 of 2, complete"
    assert dict(data["frames"][1]["inspector"])["seed"] == f"∂{y}/∂{y} = 1"
    assert data["frames"][-1]["focus"] == "n0"  # the view scrolls to x


def test_controls_keys_and_no_network(graph):
    page = player_html(graph, mode="backward")
    for element in ('id="play"', 'id="speed"', 'id="slider"', 'id="inspector"', 'id="help"',
                    'id="previous"', 'id="next"'):
        assert element in page
    for key in ("ArrowRight", "ArrowLeft", "Home", "End", "' '", "'?'", "scrollIntoView"):
        assert key in page
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    assert "</script>" not in re.search(r'id="frames">(.*?)</script>', page, re.DOTALL)[1]


@pytest.mark.parametrize("mode", ["forward", "tangent"])
def test_player_for_the_other_modes(graph, tmp_path, mode):
    path = graph.render(tmp_path / "player.html", mode=mode)
    page = path.read_text(encoding="utf-8")
    _, data = page_parts(page)
    debugger = gad.Debugger(graph)
    debugger.set_mode(mode)
    assert len(data["frames"]) == len(debugger) + 1
    assert f"{mode} pass" in page
    if mode == "forward":
        assert dict(data["frames"][-1]["inspector"])["operation"] == graph.output.call_text


@pytest.mark.parametrize("name", ["mlp", "rnn"])
def test_big_examples_stay_small(name):
    """mlp's backward player was 1.2 MB and rnn's 2.6 MB with a picture per step."""
    (graph,) = run_script(str(find(name).path))
    page = player_html(graph, mode="backward")
    assert len(page.encode("utf-8")) < 300_000


def test_player_refuses_a_picture_too_big_to_lay_out_and_says_what_to_draw(monkeypatch):
    monkeypatch.setattr(player, "PLAYER_EFFORT", 2)  # the picture has 3 boxes
    graph = gad.trace(lambda x: x + x**2, 3.0)
    with pytest.raises(gad.RenderError, match=r"focus='u₇'.*collapse=True"):
        player_html(graph, mode="backward")


def recurrent(W, x):
    h = x
    for _ in range(40):
        h = np.tanh(W @ h + x)
    return h.sum()


def test_player_of_a_long_pass_draws_it_collapsed():
    graph = gad.trace(recurrent, np.eye(3) * 0.5, np.ones(3))
    page = player_html(graph, mode="backward", collapse=True)
    _, data = page_parts(page)
    assert len(data["frames"]) == 203  # step 0 and 202 steps over one picture of 4 boxes
    assert f"line {recurrent.__code__.co_firstlineno + 3}" in html.unescape(page)


# -- notebooks -------------------------------------------------------------------------------------


def test_show_draws_a_step_inline(graph):
    picture = gad.show(graph, step=2)  # not in IPython: the display object comes back
    assert isinstance(picture, Picture)
    assert picture.state.index == 1  # step 2: after the second record
    texts = [e.text for e in ET.fromstring(picture._repr_svg_()).iter(f"{SVG}text")]
    assert "backward pass, step 2" in " ".join(t for t in texts if t)
    assert gad.show(graph, step=-1).state.index == len(gad.Debugger(graph, "backward")) - 1
    with pytest.raises(IndexError, match="outside the backward pass"):
        gad.show(graph, step=99)


def test_show_and_player_give_the_step_player(graph):
    shown = gad.show(graph, player=True, mode="tangent")
    assert isinstance(shown, Player) and shown.mode == "tangent"
    frame = graph.player()._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and "&lt;svg" in frame
    with pytest.raises(ValueError, match="give mode="):
        gad.show(graph, player=True, step=2)


def test_display_objects_honour_include_and_exclude(graph, monkeypatch):
    laid_out = []
    monkeypatch.setattr(Player, "html", property(lambda self: laid_out.append(1) or "<p>"))
    bundle = graph.player()._repr_mimebundle_(include=["text/plain"])
    assert list(bundle) == ["text/plain"] and not laid_out  # no layout for text alone
    assert list(graph.player()._repr_mimebundle_(exclude=["text/plain"])) == ["text/html"]
    assert list(graph._repr_mimebundle_(include=["text/plain"])) == ["text/plain"]
    assert list(graph._repr_mimebundle_(exclude=["text/plain"])) == ["image/svg+xml"]
    picture = gad.show(graph, step=1)
    assert list(picture._repr_mimebundle_(exclude=["image/svg+xml"])) == ["text/plain"]
    assert "svg" not in vars(picture)  # nothing was drawn


def test_player_save_writes_the_page(graph, tmp_path):
    path = graph.player().save(tmp_path / "p.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_step_number_names_the_same_state_in_the_player_and_render_step(capsys):
    """Step k of the player is what `render --step k` draws (0: before the first step)."""
    from graphviz_ad import cli

    (graph,) = [g for g in run_script(str(find("total_derivative").path))
                if g.name == "x_times_square"]
    _, data = page_parts(player_html(graph, mode="backward"))
    capsys.readouterr()  # what the example printed
    for number, frame in enumerate(data["frames"]):
        status = cli.main(["render", "total_derivative", "--graph", "x_times_square",
                           "--mode", "backward", "--step", str(number), "-o", "-",
                           "--format", "json"])
        document = json.loads(capsys.readouterr().out)
        assert status == 0 and document["step"]["text"] == frame["text"]


def test_show_displays_at_once_inside_ipython(graph, monkeypatch):
    import sys
    import types

    shown = []
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: object()  # a running kernel
    display = types.ModuleType("IPython.display")
    display.display = shown.append
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    assert gad.show(graph, step=1) is None
    assert gad.show(graph, player=True) is None
    assert [type(item) for item in shown] == [Picture, Player]
