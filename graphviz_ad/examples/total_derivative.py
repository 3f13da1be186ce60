"""Total derivative: x + x² and x · x², where x reaches y along two paths.

When a variable reaches the output along several paths, the derivative is the **sum over
paths** of the product of the local derivatives along each path.  With u₁ = x²:

* y = x + u₁:  dy/dx = 1 (the direct path) + 1 · 2x (through u₁) = 1 + 6 = 7 at x = 3;
* y = x · u₁:  dy/dx = u₁ (the direct path) + x · 2x (through u₁) = 9 + 18 = 27 at x = 3.

Backward mode shows it edge by edge: x receives two contributions and adds them.
Try: ``graphviz-ad tui total_derivative --graph x_plus_square``.
"""

import graphviz_ad as gad


def x_plus_square(x):
    u1 = x**2
    return x + u1


def x_times_square(x):
    u1 = x**2
    return x * u1


sum_of_paths = gad.trace(x_plus_square, 3.0)
product_of_paths = gad.trace(x_times_square, 3.0)

if __name__ == "__main__":
    for graph in (sum_of_paths, product_of_paths):
        print(f"{graph.name}: backward pass, one step per edge")
        for step in gad.Debugger(graph, "backward").backward():
            print("   ", step.text)
