"""Snapshots of the debugger's main screen (pytest-textual-snapshot; `--snapshot-update`
rewrites them).  Colours and theme are pinned so the pictures depend on the layout only."""

from __future__ import annotations

import numpy as np
import pytest

import graphviz_ad as gad
from tui.app import DebuggerApp


def neuron(w, x, b):
    z = w @ x + b
    return np.maximum(0, z)


KEYS = {"forward": "nnnn", "backward": "nnnnn"}  # at u₃ = w @ x / at ∂u₆/∂w += ∂u₆/∂u₃ · xᵀ


def x_plus_square(x):
    u1 = x**2
    return x + u1


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@pytest.mark.parametrize("mode", ["forward", "backward"])
def test_main_screen(snap_compare, monkeypatch, mode, size):
    monkeypatch.setenv("NO_COLOR", "1")
    graph = gad.trace(neuron, np.array([1.0, -2.0, 0.5]), np.array([3.0, 1.0, 2.0]), 0.25)
    app = DebuggerApp([graph], mode=mode)

    async def run_before(pilot):
        pilot.app.theme = "textual-dark"
        await pilot.press(*KEYS[mode])
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_backward_adjoints_and_running_sum(snap_compare, monkeypatch, size):
    """The last backward step of x + x²: the boxes hold adjoints, x holds 1 + 6 = 7 and the
    edge x → u₂ its product."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = DebuggerApp([gad.trace(x_plus_square, 3.0)], mode="backward")

    async def run_before(pilot):
        pilot.app.theme = "textual-dark"
        await pilot.press("n", "n", "n", "n")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
