"""Benchmarks: graphviz-ad next to hand-written numpy, HIPS autograd, PyTorch and micrograd.

Run every workload (tens of minutes: three runs, a process per implementation) or the
reduced CI sizes (a few minutes)::

    .venv/bin/python -m bench            # full sizes, table + bench/results/*.json
    .venv/bin/python -m bench --quick    # small sizes, for smoke runs
    .venv/bin/python -m bench W2 W6      # some workloads only

Each implementation runs in a fresh process of its own (``bench/child.py``), on one thread:
the thread counts of the BLAS libraries are pinned below, before anything imports numpy,
and inherited by the child processes, so that no library gets more cores than another.
See ``bench/harness.py`` for how time and memory are measured.
"""

import os

for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_variable] = "1"
