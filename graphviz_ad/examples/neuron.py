"""The neuron: activation = max(0, w · x + b), traced once active and once inactive.

z(x) = w · x + b and activation = max(0, z).  Its gradient is the dot product's rule
gated by the rectifier's derivative [z > 0] (taken as 0 at z = 0):

* ∂activation/∂w = xᵀ and ∂activation/∂b = 1 when z > 0, both zero when z ≤ 0.

With w = [1, −2, 0.5] and x = [3, 1, 2]: b = 0.25 gives z = 2.25 (active, ∂/∂w = [3, 1, 2],
∂/∂b = 1); b = −3 gives z = −1 (inactive, every gradient is zero).

This is the example ``graphviz-ad demo`` opens.
"""

import numpy as np

import graphviz_ad as gad


def neuron(w, x, b):
    z = w @ x + b  # the affine part: w · x + b
    return np.maximum(0, z)  # the rectifier max(0, z)


w = np.array([1.0, -2.0, 0.5])
x = np.array([3.0, 1.0, 2.0])
active = gad.trace(neuron, w, x, 0.25)  # z = 2.25 > 0: the gradient flows
inactive = gad.trace(neuron, w, x, -3.0)  # z = −1 ≤ 0: the rectifier blocks it

if __name__ == "__main__":
    print(active, end="\n\n")
    for graph, b in ((active, 0.25), (inactive, -3.0)):
        grads = graph.grad()
        print(f"b = {b:5}: activation {float(graph.value)}, ∂/∂w = {grads['w']}, "
              f"∂/∂b = {grads['b']}")
