"""An RNN forward pass writing its hidden states into a preallocated buffer.

    hₜ = tanh(Wx xₜ + Wh hₜ₋₁ + b),  h[t] = hₜ  for t = 0 … T−1,   L = ½ Σₜ ‖hₜ − yₜ‖²

Course code keeps the states in ``h = np.zeros((T, H))`` and fills one row per step.  The
first write of a traced state turns the buffer into a traced array; each later write is a
"set" node whose rule shows the row it overwrites (I − SᵀS for the old buffer, Sᵀ for the
new row).  The twin collects the states in a list and stacks them; both give the same
gradients, the sums over time of the per-step contributions (backpropagation through
time).  Try: ``graphviz-ad tui rnn_buffer``.
"""

import numpy as np

import graphviz_ad as gad


def rnn_buffer(Wx, Wh, b, xs, h0, ys):
    T, H = len(xs), len(h0)
    h = np.zeros((T, H))
    prev_h = h0
    for t in range(T):
        next_h = np.tanh(Wx @ xs[t] + Wh @ prev_h + b)
        h[t] = next_h
        prev_h = next_h
    return 0.5 * np.sum((h - ys) ** 2)


def rnn_stacked(Wx, Wh, b, xs, h0, ys):
    states = []
    prev_h = h0
    for x in xs:
        prev_h = np.tanh(Wx @ x + Wh @ prev_h + b)
        states.append(prev_h)
    return 0.5 * np.sum((np.stack(states) - ys) ** 2)


rng = np.random.default_rng(5)
T, D, H = 4, 2, 3
Wx = rng.normal(scale=0.5, size=(H, D))
Wh = rng.normal(scale=0.5, size=(H, H))
b = np.array([0.1, 0.0, -0.1])
xs = rng.normal(size=(T, D))
h0 = np.zeros(H)
ys = rng.normal(scale=0.5, size=(T, H))
buffered = gad.trace(rnn_buffer, Wx, Wh, b, xs, h0, ys)
stacked = gad.trace(rnn_stacked, Wx, Wh, b, xs, h0, ys)

if __name__ == "__main__":
    print(buffered, end="\n\n")
    print(f"L = {float(buffered.value):.6f} (stacked: {float(stacked.value):.6f})")
    print("∂L/∂Wh, buffer =\n", buffered.grad("Wh").round(6))
    print("∂L/∂Wh, stacked =\n", stacked.grad("Wh").round(6))
