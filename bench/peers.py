"""The peer libraries, each None when it is not installed (its rows are then left out).

PyTorch is told to use one thread here, once, so that every workload compares one core
with one core (the BLAS thread variables are set in ``bench/__init__.py``).  A child process
of an isolated run loads only the peer it measures.
"""

from __future__ import annotations

import importlib
import os
import sys
from importlib import metadata


def _optional(module: str):
    """The module, or None when it is not installed or when this is a child process that
    measures another peer (``BENCH_PEER``, set by ``bench/child.py``)."""
    wanted = os.environ.get("BENCH_PEER")
    if wanted is not None and module.split(".")[0] != wanted:
        return None
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


autograd = _optional("autograd")
autograd_numpy = _optional("autograd.numpy")
torch = _optional("torch")
micrograd_engine = _optional("micrograd.engine")

if torch is not None:
    torch.set_num_threads(1)
if micrograd_engine is not None:
    # micrograd sorts its graph recursively: a chain of 10,000 operations is 10,000 frames
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 200_000))


def torch_gradient(function, array):
    """A job for the harness: build a leaf tensor on ``array``'s memory (no copy), run the
    torch ``function`` on it and return the gradient of its scalar result."""

    def job():
        leaf = torch.from_numpy(array).requires_grad_()
        function(leaf).backward()
        return leaf.grad

    return job


def versions() -> dict[str, str | None]:
    """Installed versions of everything the results depend on."""
    found = {}
    for distribution in ("graphviz-ad", "numpy", "autograd", "torch", "micrograd", "textual"):
        try:
            found[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            found[distribution] = None
    return found
