"""Animations of a pass (GIF, MP4): one frame per step, every frame pinned to one layout,
the frame duration and the size cap."""

import re
import sys

import numpy as np
import pytest

import graphviz_ad as gad
from graphviz_ad import cli
from graphviz_ad.collect import run_script
from graphviz_ad.examples import find
from graphviz_ad.render import animation, to_dot

Image = pytest.importorskip("PIL.Image")


def total_derivative():
    """The example's x · x²: x reaches the output along two paths."""
    graphs = run_script(str(find("total_derivative").path))
    return next(g for g in graphs if g.name == "x_times_square")


def frames_of(path):
    image = Image.open(path)
    sizes, durations, pixels = set(), [], []
    for index in range(image.n_frames):
        image.seek(index)
        sizes.add(image.size)
        durations.append(image.info["duration"])
        pixels.append(image.convert("RGB").tobytes())
    return image.n_frames, sizes, durations, pixels


def test_a_gif_of_total_derivative_has_one_frame_per_step(tmp_path):
    graph = total_derivative()
    path = graph.render(tmp_path / "pass.gif", mode="backward", frame_ms=300)
    steps = len(gad.Debugger(graph, "backward"))
    count, sizes, durations, pixels = frames_of(path)
    assert count == steps + 1  # step 0 (before the pass) and every step
    assert len(sizes) == 1
    assert durations == [300] * steps + [900]  # the result stays three times as long
    assert len(set(pixels)) == count  # every step changes the picture


def test_every_frame_is_pinned_to_the_same_positions():
    graph = gad.trace(lambda x, y: x * y + np.sin(x), 2.0, 3.0)
    debugger = gad.Debugger(graph, "backward")
    debugger.goto(len(debugger) - 1)
    layout = animation.json.loads(animation.pipe(to_dot(graph, debugger.state()), "json"))
    positions = []
    for index in range(-1, len(debugger)):
        debugger.goto(index)
        text = animation.pinned(to_dot(graph, debugger.state()), layout)
        positions.append(re.findall(r'^\s*(n\d+) \[.*pos="([^"]+)"', text, re.MULTILINE))
        edges = re.findall(r"^\s*n\d+ -> n\d+ \[.*", text, re.MULTILINE)
        assert edges and all('pos="' in edge for edge in edges)
    assert len(positions[0]) == len([n for n in graph.nodes if n.op != "const"])
    assert all(found == positions[0] for found in positions)
    assert "frame_corner_high" in text  # every frame spans the laid-out area


def test_every_png_frame_has_the_drawing_width_of_the_layout():
    """Only the title above the drawing changes height; the drawing itself never moves."""
    sizes = [Image.open(animation.io.BytesIO(png)).size
             for png in animation.frame_pngs(total_derivative(), legend=False)]
    assert len(sizes) == 5 and len({width for width, _ in sizes}) == 1


def test_a_big_animation_is_refused_before_drawing_with_what_to_do(tmp_path):
    graph = total_derivative()
    with pytest.raises(gad.RenderError, match=r"5 frames of \d+×\d+ pixels.*over the cap"
                                              r".*collapse=True.*--scale 0\.5.*\.html"):
        graph.render(tmp_path / "big.gif", mode="backward", max_pixels=1000)
    assert not (tmp_path / "big.gif").exists()


def test_the_cli_writes_a_gif_with_the_frame_duration(capsys, tmp_path):
    target = tmp_path / "t.gif"
    status = cli.main(["render", "total_derivative", "--graph", "x_times_square", "-o",
                       str(target), "--frame-ms", "250"])
    assert status == 0 and f"wrote {target}" in capsys.readouterr().out
    count, _, durations, _ = frames_of(target)
    assert count == 5 and durations[0] == 250


@pytest.mark.parametrize(("argv", "message"), [
    (["-o", "t.svg", "--frame-ms", "200"], "--frame-ms sets an animation's pace"),
    (["-o", "t.gif", "--step", "2"], "a gif animates every step of a pass; give --mode"),
    (["-o", "t.gif", "--max-pixels", "1000"], "over the cap"),
])
def test_the_cli_says_what_is_wrong(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    status = cli.main(["render", "total_derivative", "--graph", "x_times_square", *argv])
    assert status != 0 and message in capsys.readouterr().err


def test_mp4_without_imageio_ffmpeg_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if not installed
    with pytest.raises(gad.RenderError, match=r"graphviz-ad\[animation\]"):
        total_derivative().render(tmp_path / "pass.mp4", mode="backward")


def test_an_mp4_of_a_pass(tmp_path):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    path = total_derivative().render(tmp_path / "pass.mp4", mode="backward", frame_ms=500)
    assert path.read_bytes()[4:8] == b"ftyp"  # an MP4 container
    # 5 steps at 2 frames a second, the result held for two more frames
    assert imageio_ffmpeg.count_frames_and_secs(str(path)) == (7, 3.5)
