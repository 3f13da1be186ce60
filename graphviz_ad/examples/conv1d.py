"""A 1-d convolution: one kernel, reused at every position of the signal.

    yₜ = Σⱼ kⱼ xₜ₊ⱼ  (t = 0 … 3, a "valid" cross-correlation of 6 samples with 3 weights),
    L = ½ Σₜ yₜ²,  so ∂L/∂yₜ = yₜ.

The kernel k is used at four positions, so it receives four contributions, one per
position, and its gradient is their sum:  ∂L/∂k = Σₜ yₜ x[t : t+3].
Try: ``graphviz-ad tui conv1d`` and count the edges leaving k.
"""

import numpy as np

import graphviz_ad as gad


def conv1d_energy(x, k):
    width = len(k)
    y = np.stack([x[t : t + width] @ k for t in range(len(x) - width + 1)])
    return 0.5 * np.sum(y**2)


x = np.array([1.0, 2.0, -1.0, 0.5, 3.0, -2.0])
k = np.array([0.5, -1.0, 0.25])
energy = gad.trace(conv1d_energy, x, k)

if __name__ == "__main__":
    print(energy, end="\n\n")
    print("∂L/∂k =", energy.grad("k"))
