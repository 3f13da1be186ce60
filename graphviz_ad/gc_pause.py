"""Pausing Python's cyclic garbage collector while a graph is recorded or differentiated.

Tracing makes a few objects per operation (a node, its operand tuple, a Tracer) that all
stay alive until the graph is dropped, so every collection the allocations trigger finds
nothing to free, and the older generations are walked again and again as the graph grows:
a third of a scalar operation's cost.  The nodes hold no reference cycles (they hold
data, not closures), so reference counting frees them without the collector's help.

>>> import gc
>>> with gc_paused():
...     gc.isenabled()
False
>>> gc.isenabled()
True
"""

from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def gc_paused():
    """Disable the cyclic collector for the block; re-enable it afterwards, also when the
    block raises, and only if it was enabled before (a caller who disabled it keeps that)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
