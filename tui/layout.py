"""A layered layout of a DAG in character cells, drawn with rounded box-drawing characters.

The picture reads top to bottom, like the program: inputs at the top, the output at the
bottom.  The steps are the classic ones for layered drawings (Sugiyama):

1. **Ranks.**  An operation sits one layer below its deepest operand; a leaf (an input or
   a constant) sits just above its first consumer, so a constant used deep in the graph
   does not drag a long edge down from the top.  Where that would make the long edges
   outgrow the graph (one ``x`` feeding n ``sin(x)`` summed one by one: n²/2 dummies),
   operations sink to just above their first consumer instead, leaving O(V + E) dummies.
2. **Long edges** get one dummy vertex per layer they pass; a node's edges to several far
   consumers share one chain of dummies (one line carries the value down), and an edge's
   cells are put together only when asked for, so memory stays linear too.
3. **Crossing reduction**: barycenter sweeps down and up (at most :data:`_SWEEPS`), keeping
   the best order seen.
4. **Columns**: each vertex wants its ports aligned with its neighbours' (straight edges);
   a least-squares fit under the "no overlap, keep the order" constraints is an isotonic
   regression, solved exactly by pool-adjacent-violators.
5. **Routing**: orthogonal.  Between two layers every source that needs to move sideways
   gets one horizontal track; sources whose tracks do not overlap share a row.  A line
   that only crosses another is drawn as a plain vertical ``│`` cutting the horizontal,
   never as a junction ``┼``: junctions (``┬ ┴ ├ ┤``) appear only where one value fans out.

>>> picture = layout([NodeSpec(0, ("x",), 0), NodeSpec(1, ("u₁ sin",), 1)], [(0, 1, 0)])
>>> print(picture.text())
   ╭───╮
   │ x │
   ╰─┬─╯
     ▼
╭────────╮
│ u₁ sin │
╰────────╯
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import pairwise

from rich.cells import cell_len

UP, DOWN, LEFT, RIGHT = 1, 2, 4, 8
_LINE_CHARS = {
    UP: "│", DOWN: "│", UP | DOWN: "│",
    LEFT: "─", RIGHT: "─", LEFT | RIGHT: "─",
    DOWN | RIGHT: "╭", DOWN | LEFT: "╮", UP | RIGHT: "╰", UP | LEFT: "╯",
    UP | DOWN | RIGHT: "├", UP | DOWN | LEFT: "┤",
    DOWN | LEFT | RIGHT: "┬", UP | LEFT | RIGHT: "┴",
    UP | DOWN | LEFT | RIGHT: "┼",
}
ARROW = "▼"
_GAP = 2          # blank columns between neighbouring vertices of a layer
_SWEEPS = 6       # down-and-up barycenter sweeps
_PLACEMENTS = 4   # down-and-up column fitting rounds
_DUMMY_BUDGET = 2  # dummies allowed per node and edge before operations sink (see _ranks)

Owner = tuple  # ("node", node id) or ("net", source node id)

# Characters of captions known to take one cell: with them removed, an ASCII caption is as
# wide as it is long, and :func:`_cells` need not ask rich about every character.
_NARROW = {ord(char): None for char in "₀₁₂₃₄₅₆₇₈₉ᵀ·⋯−×÷√Σ" if cell_len(char) == 1}


def _cells(text: str) -> int:
    """The terminal cells ``text`` takes (``rich.cells.cell_len``, faster for captions)."""
    return len(text) if text.translate(_NARROW).isascii() else cell_len(text)


@dataclass(frozen=True)
class NodeSpec:
    """A node to draw: its id (ids must be in topological order), its text lines and its
    number of input ports (argument slots, so ``x * x`` has two)."""

    id: int
    lines: tuple[str, ...]
    ports: int


@dataclass(frozen=True)
class Box:
    """Where a node landed: its top-left cell, its size, and the cell left free inside it
    for a marker (a breakpoint dot)."""

    x: int
    y: int
    width: int
    height: int

    @property
    def marker(self) -> tuple[int, int]:
        """(row, column) of the marker cell."""
        return (self.y + 1, self.x + 1) if self.height > 1 else (self.y, self.x)


@dataclass(frozen=True)
class Picture:
    """A laid-out graph: ``rows[y]`` is a tuple of runs ``(x, text, owner)`` (blank cells
    are not stored), ``boxes`` maps node id → :class:`Box`, ``routes`` maps an edge
    ``(source, target, arg)`` to the cells ``(y, x)`` its line passes through;
    :meth:`edge_cells` adds the characters."""

    width: int
    height: int
    rows: tuple[tuple[tuple[int, str, Owner], ...], ...]
    boxes: dict[int, Box]
    routes: Mapping[tuple[int, int, int], tuple[tuple[int, int], ...]]
    _canvas: _Canvas

    def edge_cells(self, edge: tuple[int, int, int]) -> tuple[tuple[int, int, str], ...]:
        """The cells ``(y, x, char)`` of an edge's line, each drawn as if that value's line
        were alone there (at a crossing, its own horizontal; at a branch, the branch);
        empty for an edge not in the picture."""
        source = edge[0]
        return tuple((y, x, self._canvas.char(y, x, source))
                     for y, x in self.routes.get(edge, ()))

    def text(self) -> str:
        """The picture as plain text (trailing blanks stripped), for tests and logs."""
        lines = []
        for runs in self.rows:
            line = ""
            for x, text, _ in runs:
                line += " " * (x - cell_len(line)) + text
            lines.append(line.rstrip())
        return "\n".join(lines)


def layout(nodes: Iterable[NodeSpec], edges: Iterable[tuple[int, int, int]], boxed: bool = True,
           progress: Callable[[float], None] | None = None,
           placement: dict[int, tuple[int, float]] | None = None) -> Picture:
    """Lay out ``nodes`` and ``edges`` (``(source id, target id, argument)``).

    ``boxed`` draws each node in a rounded box; otherwise as bare text (denser).
    ``progress(fraction)`` is called as the phases finish (for a progress bar).
    ``placement`` (node id → (rank, x), e.g. from Graphviz) replaces steps 1 and the start
    of 3: its ranks, when every edge goes down them, and its left-to-right order as the
    order the sweeps start from (they keep it unless they find fewer crossings).
    """
    report = progress or (lambda fraction: None)
    specs = {spec.id: spec for spec in sorted(nodes, key=lambda spec: spec.id)}
    edges = sorted(set(edges), key=lambda edge: (edge[1], edge[2], edge[0]))
    if placement is not None and not _usable(placement, specs, edges):
        placement = None
    layered = _Layers(specs, edges, boxed, placement)
    report(0.1)
    layered.reduce_crossings(lambda done: report(0.1 + 0.5 * done))
    layered.place_columns()
    report(0.75)
    picture = _draw(layered)
    report(1.0)
    return picture


class _Layers:
    """The layered graph: real vertices (node ids, ints) and dummies ((source, rank))."""

    def __init__(self, specs: dict[int, NodeSpec], edges: list, boxed: bool, placement=None):
        self.specs = specs
        self.boxed = boxed
        preds: dict[int, list] = {node_id: [] for node_id in specs}
        succs: dict[int, list] = {node_id: [] for node_id in specs}
        for source, target, arg in edges:
            preds[target].append((source, arg))
            succs[source].append((target, arg))
        if placement is None:
            self.rank = rank = _ranks(specs, preds, succs)
        else:
            self.rank = rank = {node_id: placement[node_id][0] for node_id in specs}

        self.width: dict = {}
        self.line_widths: dict = {}  # node id -> the cells each of its lines takes
        self.ports: dict = {}
        self.net: dict = {}
        for node_id, spec in specs.items():
            self.line_widths[node_id] = widths = [_cells(line) for line in spec.lines]
            text_width = max(widths, default=0)
            inner = text_width + 2 if boxed else text_width + 1
            self.width[node_id] = max(inner + (2 if boxed else 0), 2 * spec.ports + 3)
            self.ports[node_id] = spec.ports
            self.net[node_id] = node_id
        self.height = max((len(spec.lines) for spec in specs.values()), default=1)
        self.height += 2 if boxed else 0

        # Layered edges: a node's consumers, grouped by rank, hang off one dummy chain.
        self.down: dict = {v: [] for v in specs}   # vertex -> [(upper vertex, arg)]
        self.up: dict = {v: [] for v in specs}     # vertex -> [(lower vertex, arg)]
        self.chains: dict = {}  # source -> its chain of vertices (itself, then its dummies)
        self.real_edges: dict = {}  # (source, target, arg) -> how many layers it spans
        for source in specs:
            consumers = succs[source]
            if not consumers:
                continue
            deepest = max(rank[target] for target, _ in consumers)
            chain = [source]
            for level in range(rank[source] + 1, deepest):
                dummy = (source, level)
                self.width[dummy] = 1
                self.ports[dummy] = 1
                self.net[dummy] = source
                self.rank[dummy] = level
                self.down[dummy] = [(chain[-1], 0)]
                self.up[dummy] = []
                self.up[chain[-1]].append((dummy, 0))
                chain.append(dummy)
            for target, arg in consumers:
                carrier = chain[rank[target] - rank[source] - 1]
                self.down[target].append((carrier, arg))
                self.up[carrier].append((target, arg))
                self.real_edges[(source, target, arg)] = rank[target] - rank[source]
            self.chains[source] = chain

        depth = max(rank.values(), default=-1) + 1
        self.layers: list[list] = [[] for _ in range(depth)]
        order = _vertex_order if placement is None else _placed_order(placement)
        for vertex in sorted(rank, key=order):
            self.layers[rank[vertex]].append(vertex)
        self.x: dict = {}

    # -- ports -----------------------------------------------------------------------------
    def out_offset(self, vertex) -> int:
        return self.width[vertex] // 2

    def in_offset(self, vertex, arg: int) -> int:
        ports = self.ports[vertex]
        if ports <= 1:
            return self.width[vertex] // 2
        return (arg + 1) * (self.width[vertex] - 1) // (ports + 1) + 1

    def _port_fraction(self, vertex, arg: int) -> float:
        ports = self.ports[vertex]
        return (arg + 1) / (ports + 1) - 0.5 if ports > 1 else 0.0

    # -- crossing reduction ------------------------------------------------------------------
    def reduce_crossings(self, progress: Callable[[float], None]) -> None:
        position = self._positions()
        best = [list(layer) for layer in self.layers]
        best_crossings = self.crossings(position)
        for sweep in range(_SWEEPS if best_crossings else 0):  # none to remove: keep the order
            for index in range(1, len(self.layers)):
                self._sort_layer(index, position, downward=True)
            for index in range(len(self.layers) - 2, -1, -1):
                self._sort_layer(index, position, downward=False)
            crossings = self.crossings(position)
            if crossings < best_crossings:
                best, best_crossings = [list(layer) for layer in self.layers], crossings
            progress((sweep + 1) / _SWEEPS)
            if best_crossings == 0:
                break
        self.layers = best

    def _positions(self) -> dict:
        return {vertex: i for layer in self.layers for i, vertex in enumerate(layer)}

    def _sort_layer(self, index: int, position: dict, downward: bool) -> None:
        def barycenter(vertex) -> float:
            if downward:
                keys = [position[upper] for upper, _ in self.down[vertex]]
            else:
                keys = [position[lower] + self._port_fraction(lower, arg)
                        for lower, arg in self.up[vertex]]
            return sum(keys) / len(keys) if keys else float(position[vertex])

        layer = self.layers[index]
        layer.sort(key=lambda vertex: (barycenter(vertex), position[vertex]))
        for i, vertex in enumerate(layer):
            position[vertex] = i

    def crossings(self, position: dict) -> int:
        """Pairs of edges that cross between adjacent layers (an inversion count)."""
        total = 0
        for layer in self.layers[1:]:
            ends = sorted(
                (position[upper], position[vertex] + self._port_fraction(vertex, arg))
                for vertex in layer for upper, arg in self.down[vertex]
            )
            seen: list[float] = []
            for _, lower in ends:
                total += len(seen) - bisect_right(seen, lower)
                insort(seen, lower)
        return total

    # -- columns -----------------------------------------------------------------------------
    def place_columns(self) -> None:
        for layer in self.layers:
            self._fit(layer, {vertex: 0.0 for vertex in layer}, pack=True)
        for _ in range(_PLACEMENTS):
            before = dict(self.x)
            for layer in self.layers[1:]:
                self._fit(layer, self._wanted(layer, downward=True))
            for layer in reversed(self.layers[:-1]):
                self._fit(layer, self._wanted(layer, downward=False))
            if self.x == before:
                break  # settled: further rounds would change nothing
        for layer in self.layers[1:]:
            self._fit(layer, self._wanted(layer, downward=True))
        for layer in self.layers:
            column = None
            for vertex in layer:
                x = round(self.x[vertex])
                if column is not None:
                    x = max(x, column)
                self.x[vertex] = x
                column = x + self.width[vertex] + _GAP
        left = min(self.x.values(), default=0)
        for vertex in self.x:
            self.x[vertex] -= left

    def _wanted(self, layer: list, downward: bool) -> dict:
        wanted = {}
        for vertex in layer:
            if downward:
                spots = [self.x[upper] + self.out_offset(upper) - self.in_offset(vertex, arg)
                         for upper, arg in self.down[vertex]]
            else:
                spots = [self.x[lower] + self.in_offset(lower, arg) - self.out_offset(vertex)
                         for lower, arg in self.up[vertex]]
            wanted[vertex] = sum(spots) / len(spots) if spots else self.x[vertex]
        return wanted

    def _fit(self, layer: list, wanted: dict, pack: bool = False) -> None:
        """Columns as close as possible (least squares) to ``wanted`` while keeping the
        order and the gaps: with offsets oᵢ = Σⱼ₍ⱼ₌₀…ᵢ₋₁₎ (wⱼ + gap), the shifted columns
        xᵢ − oᵢ must be non-decreasing, an isotonic regression (pool adjacent violators)."""
        if len(layer) == 1:  # nothing to keep apart: the least-squares column is the wish
            (vertex,) = layer
            self.x[vertex] = 0.0 if pack else wanted[vertex]
            return
        offsets, total = [], 0
        for vertex in layer:
            offsets.append(total)
            total += self.width[vertex] + _GAP
        targets = [0.0 if pack else wanted[vertex] - offset
                   for vertex, offset in zip(layer, offsets)]
        weights = [0.5 if isinstance(vertex, tuple) else 1.0 for vertex in layer]
        blocks: list[list[float]] = []  # [weighted sum, weight, count]
        for target, weight in zip(targets, weights):
            blocks.append([target * weight, weight, 1])
            while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
                weighted, weight_sum, count = blocks.pop()
                blocks[-1][0] += weighted
                blocks[-1][1] += weight_sum
                blocks[-1][2] += count
        i = 0
        for weighted, weight_sum, count in blocks:
            for _ in range(count):
                self.x[layer[i]] = weighted / weight_sum + offsets[i]
                i += 1


def _ranks(specs: dict, preds: dict, succs: dict) -> dict:
    """Layer of each node: one below its deepest operation operand; leaves just above their
    first consumer (ids are in topological order, so one pass each way suffices).

    Those ranks can make long edges cost more than the graph itself: one input feeding n
    ``sin(x)`` that are summed one by one puts every ``sin`` at rank 1 and its edge to the
    k-th sum across k ranks, about n²/2 dummies.  When the dummies would outnumber
    :data:`_DUMMY_BUDGET` × (nodes + edges), :func:`_sink` moves such operations down to
    their consumers, which leaves a linear number (small graphs keep the ranks above).
    """
    rank: dict = {}
    for node_id in specs:
        if preds[node_id]:
            rank[node_id] = max(rank[source] + 1 if preds[source] else 1
                                for source, _ in preds[node_id])
    _place_leaves(specs, preds, succs, rank)
    size = len(specs) + sum(len(sources) for sources in preds.values())
    if _dummies(succs, rank) > _DUMMY_BUDGET * size:
        _sink(specs, preds, succs, rank)
        _place_leaves(specs, preds, succs, rank)
    return rank


def _place_leaves(specs: dict, preds: dict, succs: dict, rank: dict) -> None:
    for node_id in specs:
        if not preds[node_id]:
            consumers = [rank[target] for target, _ in succs[node_id]]
            rank[node_id] = min(consumers) - 1 if consumers else 0


def _dummies(succs: dict, rank: dict) -> int:
    """Dummy vertices the ranks need: a node's consumers share one chain down to the
    deepest of them."""
    return sum(max(rank[target] for target, _ in consumers) - rank[source] - 1
               for source, consumers in succs.items() if consumers)


def _sink(specs: dict, preds: dict, succs: dict, rank: dict) -> None:
    """Move each operation (last first) down to just above its first consumer when that
    shortens its own chain of dummies at least as much as it lengthens its operands'.

    One pass, O(V + E): ``deepest[u]`` (the rank of u's deepest consumer) only grows."""
    deepest = {source: max(rank[target] for target, _ in consumers)
               for source, consumers in succs.items() if consumers}
    for node_id in reversed(specs):
        consumers, operands = succs[node_id], preds[node_id]
        if not consumers or not operands:
            continue
        lowest = min(rank[target] for target, _ in consumers) - 1
        gain = lowest - rank[node_id]
        if gain <= 0:
            continue
        loss = sum(max(0, lowest - deepest[source])
                   for source in {source for source, _ in operands})
        if loss > gain:
            continue
        rank[node_id] = lowest
        for source, _ in operands:
            deepest[source] = max(deepest[source], lowest)


def _vertex_order(vertex) -> tuple:
    """Initial order: tape order, a dummy right after its source."""
    return (vertex[0], vertex[1]) if isinstance(vertex, tuple) else (vertex, -1)


def _placed_order(placement: dict) -> Callable:
    """Initial order from a placement's x; a dummy takes its source's."""

    def key(vertex) -> tuple:
        node_id = vertex[0] if isinstance(vertex, tuple) else vertex
        return (placement[node_id][1], _vertex_order(vertex))

    return key


def _usable(placement: dict, specs: dict, edges: list) -> bool:
    """A placement covers every node, and every edge goes down at least one rank."""
    if any(node_id not in placement for node_id in specs):
        return False
    return all(placement[target][0] > placement[source][0] for source, target, _ in edges)


# -- drawing ---------------------------------------------------------------------------------
class _Canvas:
    """Line cells as {(y, x): {net: direction bits}} (``net << 4 | bits`` while a cell has one
    net), single fixed cells (arrows) as
    {(y, x): (char, owner)}, and the text of boxes as runs per row (a box row is one run,
    so a large picture does not hold one entry per character)."""

    def __init__(self):
        self.lines: dict[tuple[int, int], int | dict[int, int]] = {}
        self.text: dict[tuple[int, int], tuple[str, Owner]] = {}
        self.runs: dict[int, list[tuple[int, str, Owner]]] = {}

    def line(self, y: int, x: int, net: int, directions: int) -> None:
        cell = (y, x)
        nets = self.lines.get(cell)
        if nets is None:  # one net: its id and directions packed in one int (most cells)
            self.lines[cell] = net << 4 | directions
        elif type(nets) is int:
            if nets >> 4 == net:
                self.lines[cell] = nets | directions
            else:
                self.lines[cell] = {nets >> 4: nets & 15, net: directions}
        else:
            nets[net] = nets.get(net, 0) | directions

    def nets(self, y: int, x: int) -> dict[int, int]:
        """The nets with a line through a cell: net → direction bits."""
        nets = self.lines[(y, x)]
        return {nets >> 4: nets & 15} if type(nets) is int else nets

    def put(self, y: int, x: int, text: str, owner: Owner, width: int | None = None) -> None:
        """Fixed text from cell (y, x) on, drawn over any line there (``width``: its cells,
        when the caller knows them)."""
        if len(text) == 1:
            self.text[(y, x)] = (text, owner)
        else:
            width = cell_len(text) if width is None else width
            self.runs.setdefault(y, []).append((x, text, owner, x + width))

    def char(self, y: int, x: int, net: int) -> str:
        """The character net ``net`` has at a cell, as if it were alone there."""
        fixed = self.text.get((y, x))
        if fixed is not None:
            return fixed[0]
        return _LINE_CHARS[self.nets(y, x)[net]]

    def cell(self, y: int, x: int) -> tuple[str, Owner]:
        fixed = self.text.get((y, x))
        if fixed is not None:
            return fixed
        nets = self.lines[(y, x)]
        if type(nets) is int:
            return _LINE_CHARS[nets & 15], ("net", nets >> 4)
        if len(nets) == 1:
            ((net, directions),) = nets.items()
            return _LINE_CHARS[directions], ("net", net)
        # A crossing, not a junction: the vertical line passes over the horizontal one.
        for net, directions in nets.items():
            if directions & (UP | DOWN):
                return "│", ("net", net)
        net = min(nets)
        return _LINE_CHARS[nets[net]], ("net", net)

    def _pieces(self, row: int, cells: list[int]):
        """A row's box runs and line or arrow cells ``(start, text, owner, end)`` from left
        to right, without the cells a box's text covers."""
        texts = sorted(self.runs.get(row, ()))
        i = 0
        covered = -1
        for column in sorted(cells):
            while i < len(texts) and texts[i][0] <= column:  # a box run starting here first
                yield texts[i]
                covered = texts[i][3]
                i += 1
            if column >= covered:
                char, owner = self.cell(row, column)
                yield column, char, owner, column + (1 if char.isascii() else cell_len(char))
        yield from texts[i:]

    def rows(self, height: int) -> tuple[tuple[tuple[int, str, Owner], ...], ...]:
        """Every row as runs ``(x, text, owner)``: neighbouring cells of one owner joined,
        box text over lines, blank cells left out."""
        columns: list[list[int]] = [[] for _ in range(height)]
        for row, column in self.lines:
            columns[row].append(column)
        for row, column in self.text:
            columns[row].append(column)
        rows = []
        for row, cells in enumerate(columns):
            runs: list[list] = []
            end = -1
            for start, text, owner, stop in self._pieces(row, cells):
                if runs and runs[-1][2] == owner and start == end:
                    runs[-1][1] += text
                else:
                    runs.append([start, text, owner])
                end = stop
            rows.append(tuple((x, text, owner) for x, text, owner in runs))
        self.runs = {}  # only the picture's rows need the boxes' text from now on
        return tuple(rows)


def _draw(layers: _Layers) -> Picture:
    canvas = _Canvas()
    boxes: dict[int, Box] = {}
    segment_cells: dict = {}  # (upper vertex, lower vertex, arg) -> _segment_cells arguments
    height = layers.height
    tops = []  # first row of each layer
    y = 0
    for index, layer in enumerate(layers.layers):
        tops.append(y)
        for vertex in layer:
            if isinstance(vertex, tuple):
                for row in range(y, y + height):
                    canvas.line(row, layers.x[vertex], layers.net[vertex], UP | DOWN)
            else:
                boxes[vertex] = _draw_node(canvas, layers, vertex, y)
        y += height
        if index + 1 < len(layers.layers):
            y = _draw_gap(canvas, layers, layer, y, segment_cells)

    routes = _Routes(layers.real_edges, layers.chains, segment_cells,
                     {vertex: (tops[layers.rank[vertex]], layers.x[vertex])
                      for chain in layers.chains.values() for vertex in chain[1:]}, height)
    rows = canvas.rows(y)
    width = max((box.x + box.width for box in boxes.values()), default=0)
    width = max([width, *(layers.x[v] + 1 for v in layers.x)])
    return Picture(width, y, rows, boxes, routes, canvas)


class _Routes(Mapping):
    """Edge → the cells its line passes through, put together when asked for: the edges
    of one value share its chain of dummies, so storing every edge's cells would take
    space proportional to the sum of their lengths (quadratic for a wide fan-out)."""

    def __init__(self, spans: dict, chains: dict, segments: dict, dummies: dict, height: int):
        self._spans = spans  # edge -> layers spanned
        self._chains = chains
        self._segments = segments  # (upper vertex, lower vertex, arg) -> its _segment_cells
        self._dummies = dummies  # dummy -> (first row of its layer, column)
        self._height = height

    def __getitem__(self, edge: tuple[int, int, int]) -> tuple[tuple[int, int], ...]:
        source, target, arg = edge
        chain = self._chains[source][: self._spans[edge]]
        cells: list[tuple[int, int]] = []
        for upper, lower in pairwise([*chain, target]):
            cells += _segment_cells(*self._segments[(upper, lower, arg if lower == target else 0)])
            if lower != target:
                top, column = self._dummies[lower]
                cells += [(row, column) for row in range(top, top + self._height)]
        return tuple(cells)

    def __iter__(self) -> Iterator[tuple[int, int, int]]:
        return iter(self._spans)

    def __len__(self) -> int:
        return len(self._spans)


def _draw_node(canvas: _Canvas, layers: _Layers, node_id: int, y: int) -> Box:
    spec = layers.specs[node_id]
    x, width = layers.x[node_id], layers.width[node_id]
    owner = ("node", node_id)
    has_consumers = bool(layers.up[node_id])
    if layers.boxed:
        canvas.put(y, x, "╭" + "─" * (width - 2) + "╮", owner, width)
        for row, (line, line_width) in enumerate(zip(spec.lines, layers.line_widths[node_id]),
                                                 start=1):
            padding = width - 4 - line_width
            canvas.put(y + row, x, "│ " + line + " " * padding + " │", owner, width)
        bottom = ["─"] * (width - 2)
        if has_consumers:
            bottom[layers.out_offset(node_id) - 1] = "┬"
        canvas.put(y + layers.height - 1, x, "╰" + "".join(bottom) + "╯", owner, width)
    else:
        for row, line in enumerate(spec.lines):
            canvas.put(y + row, x, " " + line.ljust(width - 1), owner)
    return Box(x, y, width, layers.height)


def _draw_gap(canvas: _Canvas, layers: _Layers, layer: list, top: int, segments: dict) -> int:
    """Route the edges from ``layer`` to the next one, starting at row ``top``; return the
    first row of the next layer."""
    sources = []
    for vertex in layer:
        if not layers.up[vertex]:
            continue
        column = layers.x[vertex] + layers.out_offset(vertex)
        targets = [(lower, arg, layers.x[lower] + layers.in_offset(lower, arg))
                   for lower, arg in layers.up[vertex]]
        sources.append((vertex, column, targets))

    # One track per source that moves sideways; sources with disjoint spans share a row.
    track_of: dict = {}
    track_ends: list[int] = []
    spans = []
    for vertex, column, targets in sources:
        xs = [column, *(target_x for _, _, target_x in targets)]
        if min(xs) != max(xs):
            spans.append((min(xs), max(xs), vertex))
    for start, end, vertex in sorted(spans, key=lambda span: (span[0], span[1])):
        for row, last in enumerate(track_ends):
            if last < start - 1:
                track_ends[row] = end
                track_of[vertex] = row
                break
        else:
            track_of[vertex] = len(track_ends)
            track_ends.append(end)
    arrow_row = top + len(track_ends)

    for vertex, column, targets in sources:
        net = layers.net[vertex]
        track = track_of.get(vertex)
        turn = arrow_row if track is None else top + track
        for row in range(top, turn):
            canvas.line(row, column, net, UP | DOWN)
        if track is not None:  # the track once, from its leftmost end to its rightmost
            xs = [column, *(target_x for _, _, target_x in targets)]
            left, right = min(xs), max(xs)
            for x in range(left, right + 1):
                canvas.line(turn, x, net, (LEFT if x > left else 0) | (RIGHT if x < right else 0))
            canvas.line(turn, column, net, UP)
        for lower, arg, target_x in targets:
            if track is not None:
                canvas.line(turn, target_x, net, DOWN)
                for row in range(turn + 1, arrow_row):
                    canvas.line(row, target_x, net, UP | DOWN)
            if isinstance(lower, tuple):
                canvas.line(arrow_row, target_x, net, UP | DOWN)
            else:
                canvas.put(arrow_row, target_x, ARROW, ("net", net))
            segments[(vertex, lower, arg)] = (top, turn, column, target_x, arrow_row,
                                              track is not None)
    return arrow_row + 1


def _segment_cells(top: int, turn: int, column: int, target_x: int, arrow_row: int,
                   has_track: bool) -> list[tuple[int, int]]:
    """The cells of one segment drawn by :func:`_draw_gap`, in order: down the stem from
    ``top`` to the track row ``turn``, along the track to ``target_x``, down to the arrow."""
    cells = [(row, column) for row in range(top, turn)]
    if has_track:
        step = 1 if target_x > column else -1
        cells += [(turn, x) for x in range(column, target_x + step, step)]
        cells += [(row, target_x) for row in range(turn + 1, arrow_row)]
    cells.append((arrow_row, target_x))
    return cells
