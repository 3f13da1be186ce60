"""Random small numpy programs for property tests: a few operations over two inputs (a
vector and a scalar), each reading any earlier value, so fan-out, ``x*x``, broadcasting and
reductions all turn up."""

import numpy as np
from hypothesis import strategies as st

OPERATIONS = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "sin": lambda a, b: np.sin(a),
    "tanh": lambda a, b: np.tanh(a),
    "square": lambda a, b: a**2,
    "sum": lambda a, b: np.sum(a),
    "mean_times": lambda a, b: np.mean(a) * b,
    "relu": lambda a, b: np.maximum(0, a),
}

values = st.floats(-2, 2, allow_nan=False).filter(lambda v: abs(v) > 1e-3)


@st.composite
def programs(draw):
    """(function, x, s): ``function(x, s)`` runs 1 to 7 random operations and returns the
    last value (a vector or a scalar)."""
    count = draw(st.integers(1, 7))
    steps = []
    for i in range(count):
        name = draw(st.sampled_from(sorted(OPERATIONS)))
        steps.append((name, draw(st.integers(0, i + 1)), draw(st.integers(0, i + 1))))
    x = np.array(draw(st.lists(values, min_size=3, max_size=3)))
    return program_of(steps), x, draw(values)


def program_of(steps):
    """The function that runs ``steps``: (operation, index of its left operand, index of its
    right one), where 0 is x, 1 is s and 2 + i the result of step i; it returns the last."""

    def program(x, s):
        results = [x, s]
        for name, left, right in steps:
            results.append(OPERATIONS[name](results[left], results[right]))
        return results[-1]

    return program
