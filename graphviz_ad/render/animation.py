"""A whole pass as an animation: a GIF (or an MP4) with one frame per step, for slides and
web pages that cannot run the HTML player.

Every frame has the same layout: Graphviz lays the picture out once (each box and arrow
with its widest label of the pass, as the player does), and each step's picture is drawn
with every box, arrow, label and frame pinned where that layout put them (``neato -n2``
draws a graph at given positions).  Frame 0 is the graph before the first
step; frame k the pass after k steps, with the step in the title::

    g = gad.trace(lambda x: x + x ** 2, 3.0)
    g.render("backward.gif", mode="backward", frame_ms=800)   # 5 frames

``frame_ms`` is how long each frame shows (the last one three times as long, so a loop
pauses on the result).  A GIF is written with Pillow; an MP4 needs the optional
``imageio-ffmpeg`` (``pip install graphviz-ad[animation]``).  An animation over
:data:`MAX_PIXELS` pixels (frames × width × height) is refused before anything is drawn,
with what to do instead.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import graphviz

from ..debugger import Debugger
from ..errors import RenderError
from .binary import find_program, pipe
from .dot import to_dot
from .options import Options
from .player import widest_dot

ANIMATION_FORMATS = ("gif", "mp4")
FRAME_MS = 800  # how long a frame shows by default, in milliseconds
MAX_PIXELS = 100_000_000  # frames × width × height: 300 MB of RGB frames in memory
_POINTS_PER_INCH = 72
_DEFAULT_DPI = 96  # Graphviz's bitmap resolution

_NODE = re.compile(r"^\s*([A-Za-z_]\w*) \[")
_EDGE = re.compile(r"^\s*(\S+) -> (\S+) \[")
_SUBGRAPH = re.compile(r"^\s*subgraph (\w+) \{")
_GRAPH_ATTRS = re.compile(r"^\s*graph \[")
_KEYWORDS = frozenset({"graph", "node", "edge"})
_PNG_END = b"IEND\xaeB`\x82"  # the last chunk of every PNG file


def write_animation(graph, path, fmt: str, mode: str = "backward", seed=None, direction=None,
                    frame_ms: int = FRAME_MS, max_pixels: int = MAX_PIXELS, binary=None,
                    **options) -> Path:
    """Write the ``mode`` pass of ``graph`` to ``path`` as ``fmt`` (``"gif"`` or ``"mp4"``),
    one frame per step (step 0, before the pass, first).  Drawing options as for
    ``to_dot`` (``dpi`` sets the frames' resolution); ``seed`` / ``direction`` as for the
    debugger.  Returns the path written."""
    if fmt not in ANIMATION_FORMATS:
        raise ValueError(f"an animation is one of {', '.join(ANIMATION_FORMATS)}, not {fmt!r}")
    if frame_ms <= 0:
        raise ValueError(f"frame_ms must be positive, not {frame_ms}")
    _pillow()  # before any drawing: say what is missing at once
    writer = _mp4_writer() if fmt == "mp4" else None
    frames = frame_pngs(graph, mode, seed, direction, max_pixels, binary, **options)
    path = Path(path)
    if fmt == "gif":
        _write_gif(frames, path, frame_ms)
    else:
        _write_mp4(writer, frames, path, frame_ms)
    return path


def frame_pngs(graph, mode: str = "backward", seed=None, direction=None,
               max_pixels: int = MAX_PIXELS, binary=None, **options) -> list[bytes]:
    """One PNG per step of the ``mode`` pass (step 0 first), all with the same layout."""
    opts = Options.of(options)
    program = find_program(binary)
    if program is not None and program.name != "dot":
        raise RenderError("an animation needs the Graphviz binary (its `neato -n2` draws each "
                          "step at fixed positions), not graphviz-pure: install Graphviz with "
                          "`sudo apt-get install graphviz`, or write the HTML player (.html)")
    debugger = Debugger(graph)
    debugger.set_mode(mode, seed=seed, direction=direction)
    count = len(debugger)
    texts = []
    for number in range(count + 1):
        debugger.goto(number - 1)
        texts.append(to_dot(graph, debugger.state(), **options))
    layout = json.loads(pipe(widest_dot(texts), "json", binary))
    _check_size(graph, debugger.mode, count + 1, layout, opts.dpi or _DEFAULT_DPI, max_pixels)
    frames = "".join(pinned(text, layout) for text in texts)
    try:
        pngs = graphviz.pipe("neato", "png", frames.encode("utf-8"), neato_no_op=2, quiet=True)
    except graphviz.ExecutableNotFound:
        raise RenderError("cannot draw an animation: the Graphviz program `neato` is not on "
                          "PATH; install Graphviz with `sudo apt-get install graphviz`") from None
    except graphviz.CalledProcessError as error:
        message = (error.stderr or b"").decode("utf-8", "replace").strip() or "no message"
        raise RenderError(f"Graphviz `neato` failed to draw the animation: {message}") from None
    frames = [part + _PNG_END for part in pngs.split(_PNG_END) if part]
    if len(frames) != count + 1:
        raise RenderError(f"Graphviz drew {len(frames)} frames for {count + 1} steps")
    return frames


def _check_size(graph, mode: str, frames: int, layout: dict, dpi: float,
                max_pixels: int) -> None:
    """Refuse, before drawing, an animation whose frames hold more than ``max_pixels``."""
    x0, y0, x1, y1 = map(float, layout["bb"].split(","))
    scale = dpi / _POINTS_PER_INCH
    width, height = round((x1 - x0) * scale), round((y1 - y0) * scale)
    pixels = frames * width * height
    if pixels > max_pixels:
        raise RenderError(
            f"the {mode} pass of {graph.name} would be {frames} frames of {width}×{height} "
            f"pixels: {pixels / 1e6:.0f} million pixels, over the cap of "
            f"{max_pixels / 1e6:.0f} million.  Draw less per frame (focus='u₇' or "
            "collapse=True; --focus, --collapse on the command line), at a lower resolution "
            "(dpi=48; --scale 0.5), or write the HTML player (.html), which has no such "
            "limit; max_pixels= (--max-pixels) raises the cap")


def pinned(dot_text: str, layout: dict) -> str:
    """``dot_text`` with every box, arrow and frame fixed where ``layout`` (Graphviz's JSON
    of the same picture at another step) put it, for ``neato -n2``: nodes get ``pos`` (and
    their laid-out size), edges their spline ``pos`` and label position ``lp`` (matched by
    their ends, in statement order between the same two boxes), clusters and the graph
    their ``bb`` and label position."""
    objects = layout.get("objects", [])
    nodes = {o["name"]: o for o in objects if "pos" in o}
    frames = {o["name"]: o for o in objects if "bb" in o}
    edges: dict = {}  # (tail, head) -> that pair's edges, in the order they were written
    for edge in sorted(layout.get("edges", []), key=lambda e: e["_gvid"]):
        ends = (objects[edge["tail"]]["name"], objects[edge["head"]]["name"])
        edges.setdefault(ends, []).append(edge)
    frame_of_next_attrs = "\0root"
    lines = []
    for line in dot_text.splitlines():
        extra = {}
        subgraph = _SUBGRAPH.match(line)
        node = _NODE.match(line)
        if subgraph:
            frame_of_next_attrs = subgraph.group(1)
        elif _GRAPH_ATTRS.match(line) and frame_of_next_attrs is not None:
            if frame_of_next_attrs == "\0root":
                extra = {"bb": layout["bb"], "lp": layout.get("lp")}
            else:
                laid = frames.get(frame_of_next_attrs, {})
                extra = {"bb": laid.get("bb"), "lp": laid.get("lp")}
            frame_of_next_attrs = None
        elif edge := _EDGE.match(line):
            laid = edges.get((_unquoted(edge.group(1)), _unquoted(edge.group(2))), [])
            laid = laid.pop(0) if laid else {}
            extra = {"pos": laid.get("pos"), "lp": laid.get("lp")}
        elif node and node.group(1) not in _KEYWORDS and node.group(1) in nodes:
            laid = nodes[node.group(1)]
            extra = {"pos": laid["pos"] + "!", "width": laid["width"],
                     "height": laid["height"], "fixedsize": "true"}
        extra = {key: value for key, value in extra.items() if value is not None}
        if extra:
            added = ", ".join(f'{key}="{value}"' for key, value in extra.items())
            cut = line.rfind("]")
            line = f"{line[:cut]}, {added}{line[cut:]}"  # later attributes win
        lines.append(line)
    # Two invisible points at the corners of the laid-out drawing, so that every frame
    # spans the same area whatever its labels (neato -n2 sizes a picture by what it draws).
    x0, y0, x1, y1 = map(float, layout["bb"].split(","))
    y1 -= float(layout.get("lheight", 0)) * _POINTS_PER_INCH  # the title goes above
    corner = 'shape="point", style="invis", width="0.01", fixedsize="true"'
    end = lines.pop() if lines and lines[-1].strip() == "}" else "}"
    lines.append(f'  frame_corner_low [{corner}, pos="{x0:g},{y0:g}!"]')
    lines.append(f'  frame_corner_high [{corner}, pos="{x1:g},{y1:g}!"]')
    lines.append(end)
    return "\n".join(lines) + "\n"


def _unquoted(name: str) -> str:
    return name[1:-1] if name.startswith('"') and name.endswith('"') else name


def _pillow():
    """Pillow's Image module, or a RenderError saying how to install it."""
    try:
        from PIL import Image
    except ImportError:
        raise RenderError("writing an animation needs Pillow: pip install pillow") from None
    return Image


def _images(frames: list[bytes], multiple: int = 1):
    """The PNGs as RGB images of one size (the largest, rounded up to ``multiple``), each
    drawn on white at the bottom left: the drawings span the same area (see ``pinned``) and
    only the title above them can differ in height."""
    Image = _pillow()
    images = [Image.open(io.BytesIO(frame)).convert("RGB") for frame in frames]
    width = max(image.width for image in images)
    height = max(image.height for image in images)
    width += -width % multiple
    height += -height % multiple
    same = []
    for image in images:
        if image.size != (width, height):
            canvas = Image.new("RGB", (width, height), "white")
            canvas.paste(image, (0, height - image.height))
            image = canvas
        same.append(image)
    return same


def _write_gif(frames: list[bytes], path: Path, frame_ms: int) -> None:
    images = _images(frames)
    durations = [frame_ms] * (len(images) - 1) + [3 * frame_ms]  # pause on the result
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:],
                   duration=durations, loop=0)


def _mp4_writer():
    """imageio-ffmpeg's frame writer, or a RenderError saying how to install it."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise RenderError("writing an MP4 needs the optional imageio-ffmpeg: pip install "
                          "'graphviz-ad[animation]' (or pip install imageio-ffmpeg); "
                          "a GIF needs nothing more") from None
    return imageio_ffmpeg.write_frames


def _write_mp4(write_frames, frames: list[bytes], path: Path, frame_ms: int) -> None:
    images = _images(frames, multiple=16)  # the video codec works in 16-pixel blocks
    images.append(images[-1])  # an MP4 frame has one duration: hold the result twice
    images.append(images[-1])
    writer = write_frames(str(path), images[0].size, fps=1000 / frame_ms,
                          macro_block_size=16, quality=8, ffmpeg_log_level="error")
    writer.send(None)  # start ffmpeg
    try:
        for image in images:
            writer.send(image.tobytes())
    finally:
        writer.close()
