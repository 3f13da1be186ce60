"""Random keypresses: thousands of keys from a fixed seed must leave the app running."""

from __future__ import annotations

import asyncio
import random

import numpy as np
from textual import events

import graphviz_ad as gad
from tui.app import DebuggerApp

# Every key the app binds (but q, which quits, e, which starts Graphviz, and the command
# palette's /, whose own list fails on page keys typed before it has lines — Textual's, see
# test_tui.py for the palette), the keys of the panes, and a few that mean nothing here.
KEYS = [
    "n", "n", "n", "p", "g", "G", "c", "b", "a", "m", "l", "P", "z", "o", "f", "v",
    "plus", "minus", "tab", "shift+tab", "question_mark", "escape", "enter",
    "up", "down", "left", "right", "pageup", "pagedown", "home", "end", "space", "j", "k",
    "x", "u", "1", "backspace", "t", "w",
]
PRESSES = 2000
CHARACTERS = {"question_mark": "?", "slash": "/", "plus": "+", "minus": "-", "space": " "}


def recurrent(x, w, u, b):
    h = 0.0 * b
    for t in range(len(x)):
        h = np.tanh(w * h + u * x[t] + b)
    return h * h


def neuron(w, x, b):
    return np.maximum(0, w @ x + b)


def test_random_keys_never_raise():
    graphs = [
        gad.trace(recurrent, np.linspace(-1.0, 1.0, 12), 0.5, 0.3, 0.1),
        gad.trace(neuron, np.array([1.0, -2.0, 0.5]), np.array([3.0, 1.0, 2.0]), 0.25),
    ]
    keys = random.Random(20240611).choices(KEYS, k=PRESSES)

    async def drive():
        app = DebuggerApp(graphs, start=0)
        async with app.run_test(size=(80, 24)) as pilot:
            for start in range(0, PRESSES, 20):
                # Typed ahead, as a fast typist would: the app works through the queue.
                for key in keys[start : start + 20]:
                    character = CHARACTERS.get(key, key if len(key) == 1 else None)
                    app._driver.send_message(events.Key(key, character))
                await pilot.pause()
                await app.workers.wait_for_complete()
                await pilot.pause()
            assert app.is_running
            assert app.screen_stack  # still showing something

    asyncio.run(drive())
