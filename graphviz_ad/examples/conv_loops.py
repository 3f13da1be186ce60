"""A naive-loop 2-d convolution written into a preallocated output, as course code has it.

    out[f, i, j] = Σ_c Σ_di Σ_dj w[f, c, di, dj] · x[c, i + di, j + dj] + b[f],
    L = ½ Σ out²,  so ∂L/∂out = out.

The loops fill ``out = np.zeros(...)`` one element at a time.  The first write of a traced
value turns that buffer into a traced array (its zeros become a constant) and every write
is a "set" node: the entry overwritten passes no gradient back to the old array
(∂/∂old = I − SᵀS) and the value written receives the gradient of its entry (∂/∂value =
Sᵀ).  The vectorised twin gathers every window first and does one matrix product; the two
graphs differ in shape but give the same gradient, ∂L/∂w[f] = Σ_ij out[f, i, j] ·
x[:, i : i+2, j : j+2].  Try: ``graphviz-ad tui conv_loops`` and step backward through the
writes.
"""

import numpy as np

import graphviz_ad as gad


def conv_loops(x, w, b):
    _, H, W = x.shape  # channels, height, width
    F, _, KH, KW = w.shape
    out = np.zeros((F, H - KH + 1, W - KW + 1))
    for f in range(F):
        for i in range(H - KH + 1):
            for j in range(W - KW + 1):
                window = x[:, i : i + KH, j : j + KW]
                out[f, i, j] = np.sum(window * w[f]) + b[f]
    return 0.5 * np.sum(out**2)


def conv_vectorised(x, w, b):
    _, H, W = x.shape  # channels, height, width
    F, _, KH, KW = w.shape
    windows = np.stack([x[:, i : i + KH, j : j + KW].reshape(-1)
                        for i in range(H - KH + 1) for j in range(W - KW + 1)])
    out = windows @ w.reshape(F, -1).T + b  # one row per position, one column per filter
    return 0.5 * np.sum(out**2)


rng = np.random.default_rng(3)
x = rng.normal(size=(1, 4, 4))  # one channel, 4 × 4
w = rng.normal(size=(2, 1, 2, 2))  # two 2 × 2 filters
b = np.array([0.1, -0.2])
loops = gad.trace(conv_loops, x, w, b)
vectorised = gad.trace(conv_vectorised, x, w, b)

if __name__ == "__main__":
    print(loops, end="\n\n")
    print(f"L = {float(loops.value):.6f} (vectorised: {float(vectorised.value):.6f})")
    print("∂L/∂w, loops      =", loops.grad("w").ravel().round(6))
    print("∂L/∂w, vectorised =", vectorised.grad("w").ravel().round(6))
