"""Warnings as notes on the steps that raised them, never printed over the screen.

A backward step can divide by zero (the rule of ``log`` at 0 is 1/x) and numpy then warns
on stderr, which a full-screen terminal application shows as garbage over its panes.  While
steps are made (and while a step's Jacobian is shown) the debugger runs inside
:meth:`StepNotes.kept`, which keeps each warning as a note on the step being made:

>>> import numpy as np
>>> notes = StepNotes()
>>> with notes.kept("backward", lambda: 3):
...     _ = np.log(np.zeros(1))
>>> notes.of("backward", 3)
('RuntimeWarning: divide by zero encountered in log',)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np


class StepNotes:
    """The warnings of each pass, by step index: ``of(mode, index)``."""

    def __init__(self):
        self._notes: dict[tuple[str, int], list[str]] = {}

    @contextmanager
    def kept(self, mode: str, index: Callable[[], int]) -> Iterator[None]:
        """Within the block, a warning is kept as a note on step ``index()`` of ``mode``'s
        pass (asked when the warning arrives, so a block that makes several steps notes
        each on its own) instead of being printed."""

        def keep(message, category, filename, lineno, file=None, line=None) -> None:
            notes = self._notes.setdefault((mode, index()), [])
            text = f"{category.__name__}: {message}"
            if text not in notes:
                notes.append(text)

        with warnings.catch_warnings(), np.errstate(divide="warn", over="warn",
                                                    invalid="warn"):
            warnings.simplefilter("always")
            warnings.showwarning = keep  # catch_warnings puts the original back
            yield

    def of(self, mode: str, index: int) -> tuple[str, ...]:
        """The notes on step ``index`` of ``mode``'s pass."""
        return tuple(self._notes.get((mode, index), ()))
