"""Scalar rules: partial derivatives of 3x²y and the chain rule through sin(x²) and ln(sin(x³)²).

Each function is traced on one concrete input; every node of the graph is one step of the
chain rule, and the gradient is the product of the local derivatives along the way:

* f(x, y) = 3x²y:        ∂f/∂x = 6xy = 60 and ∂f/∂y = 3x² = 12 at (2, 5);
* y = sin(x²):           dy/dx = 2x cos(x²) = −1.8845208681682175 at x = 1.5;
* y = ln(sin(x³)²):      with u₁ = x³, u₂ = sin u₁, u₃ = u₂², y = ln u₃,
                         dy/dx = (1/u₃)(2u₂)(cos u₁)(3x²) = 6x² cos(x³)/sin(x³)
                               = −3.5295615347875318 at x = 2.

Try: ``graphviz-ad tui scalar_rules --graph log_sin_cube_squared`` and step backwards.
"""

import numpy as np

import graphviz_ad as gad


def three_x_squared_y(x, y):
    return 3 * x**2 * y


def sin_of_square(x):
    return np.sin(x**2)


def log_sin_cube_squared(x):
    u1 = x**3  # the names the paper uses for the intermediate results
    u2 = np.sin(u1)
    u3 = u2**2
    return np.log(u3)


partials = gad.trace(three_x_squared_y, 2.0, 5.0)
chain = gad.trace(sin_of_square, 1.5)
nested_chain = gad.trace(log_sin_cube_squared, 2.0)

if __name__ == "__main__":
    print(nested_chain, end="\n\n")
    print("∂f/∂x, ∂f/∂y of 3x²y at (2, 5):", partials.grad("x", "y"), "(6xy = 60, 3x² = 12)")
    print("d sin(x²)/dx at 1.5:          ", chain.grad("x"), "(2x cos x²)")
    print("d ln(sin(x³)²)/dx at 2:       ", nested_chain.grad("x"), "(6x² cos x³ / sin x³)")
