"""One notation for every front end, and step records that carry what the front ends show."""

from __future__ import annotations

import numpy as np
import pytest

import graphviz_ad as gad
from graphviz_ad import notation, propagate
from graphviz_ad.linear import Kind
from graphviz_ad.render.stepview import step_view
from tui.widgets.inspector import describe


def neuron(w, x, b):
    return np.maximum(0, w @ x + b)


def neuron_graph():
    return gad.trace(neuron, np.array([1.0, -2.0, 0.5]), np.array([3.0, 1.0, 2.0]), 0.25)


# -- numbers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "text"), [
    (2.25, "2.25"), (-0.5, "−0.5"), (-0.0, "0"), (0.0, "0"), (1234567.0, "1.235e+06"),
    (-3e-9, "−3e−09"), (float("inf"), "∞"), (float("-inf"), "−∞"), (float("nan"), "NaN"),
])
def test_a_number_has_a_true_minus_and_no_negative_zero(value, text):
    assert notation.number(value) == text


def test_rounding_noise_below_an_arrays_scale_is_zero():
    noisy = np.array([1.0, 0.1 + 0.2 - 0.3, -2.0])  # the middle one is 5.6e-17
    assert notation.array_text(noisy) == "[1, 0, −2]"
    assert notation.matrix_lines(noisy[None, :]) == ["[ 1  0  −2 ]"]
    # small numbers in an array of small numbers are not noise
    assert notation.array_text(np.array([1e-17, -2e-17])) == "[1e−17, −2e−17]"
    assert notation.array_text(np.array([-0.0, 1.0])) == "[0, 1]"


def test_running_sums_subtract_negative_terms():
    assert notation.running_sum([1.0, 6.0], 7.0) == "1 + 6 = 7"
    assert notation.running_sum([1.0, -6.0], -5.0) == "1 − 6 = −5"
    assert notation.running_sum([2.0], 2.0) == "2"


def test_names_shapes_and_marks():
    assert notation.shape_text(()) == "scalar" and notation.shape_text((2, 3)) == "2×3"
    assert notation.subscript("u", 17) == "u₁₇"
    assert notation.constant_name(-1.0) == "−1"
    assert notation.adjoint("x", "y") == "∂y/∂x" == notation.total_name("backward", "x", "y")
    assert notation.tangent("u₂") == "du₂" == notation.total_name("tangent", "u₂", "y")
    assert notation.total_name("forward", "x", "y") == "value"
    assert notation.MODES == ("forward", "backward", "tangent")


# -- one spelling in every front end ------------------------------------------------------------


def test_steps_pictures_and_inspector_spell_the_adjoint_alike():
    graph = gad.trace(lambda x: x + x**2, 3.0)
    debugger = gad.Debugger(graph, "backward")
    step = debugger.run()
    name = notation.adjoint("x", graph.output.label)
    assert step.text.startswith(f"{name} += ") and f"→ {name} = 7" in step.text
    assert step_view(graph, step).total_name(graph.inputs["x"]) == name
    assert f">{name}<" in graph.to_dot(step)
    inspector = "\n".join(line.plain for line in describe(graph, step, step.state(), True))
    assert f"Adjoint {name} of x" in inspector and "sum: 1 + 6 = 7" in inspector


# -- step records ----------------------------------------------------------------------------------


def test_steps_carry_their_edge_and_direction():
    graph = neuron_graph()
    w, u3 = graph.inputs["w"], graph.nodes[3]
    backward = next(s for s in gad.Debugger(graph, "backward").backward() if s.node is w)
    assert backward.edge == (w, u3, 0) and backward.edge.key == (w.id, u3.id, 0)
    assert backward.direction == "against" and backward.edges == (backward.edge,)
    assert backward.consumer is u3 and backward.local.kind == Kind.MATMUL
    assert backward.count_text == "1 of 1"
    tangent = next(s for s in gad.Debugger(graph, "tangent").tangent() if s.node is u3)
    assert tangent.edge == (w, u3, 0) and tangent.direction == "along"
    forward = list(gad.Debugger(graph).forward())[3]
    assert [edge.key for edge in forward.edges] == [(w.id, u3.id, 0), (1, u3.id, 1)]
    seed = next(gad.Debugger(graph, "backward").backward())
    assert seed.edge is None and seed.edges == () and seed.consumer is None


def test_the_picture_marks_the_edge_the_step_names():
    graph = neuron_graph()
    debugger = gad.Debugger(graph, "backward")
    step = debugger.goto(4)
    view = step_view(graph, step)
    assert view.edge_status[step.edge.key] == "current"


# -- one seeding policy ----------------------------------------------------------------------------


def test_one_seeding_policy_for_every_front_end():
    vector = gad.trace(lambda x: x * 2.0, np.ones(3))
    with pytest.raises(ValueError, match="needs a seed"):
        propagate.output_seed(vector)
    with pytest.raises(ValueError, match="needs a seed"):
        gad.Debugger(vector, "backward")
    with pytest.raises(ValueError, match="needs a seed"):
        vector.explain("x")
    np.testing.assert_array_equal(propagate.output_seed(vector, [1, 2, 3]), [1.0, 2.0, 3.0])
    assert propagate.output_seed(gad.trace(lambda x: x * x, 2.0)) == 1.0


# -- Jacobians -------------------------------------------------------------------------------------


def test_a_jacobian_shows_its_corner_without_its_matrix():
    graph = gad.trace(lambda x: np.sin(x), np.linspace(0.0, 1.0, 50))
    local = graph.output.jacobian(0)
    corner = local.numbers(3)
    np.testing.assert_allclose(corner, local.matrix()[:3, :3])
    assert corner.shape == (3, 3)
    small = gad.trace(lambda w, x: w @ x, np.ones(2), np.array([3.0, 4.0])).output.jacobian(0)
    np.testing.assert_array_equal(small.numbers(6), [[3.0, 4.0]])


def test_the_kind_is_an_enum_that_reads_as_its_name():
    local = gad.trace(lambda x: x * 2.0, np.ones(2)).output.jacobian(0)
    assert local.kind is Kind.DIAGONAL and local.kind == "diagonal"
    assert f"{local.kind}" == str(local.kind) == "diagonal"
    assert {Kind.DIAGONAL: 1}["diagonal"] == 1  # a kind spelt as a string finds its member
    with pytest.raises(TypeError, match="not a Jacobian Kind"):
        type("Odd", (gad.Jacobian,), {"kind": "odd"})


def test_coefficients_are_what_can_vanish():
    graph = gad.trace(lambda w, x: w @ x, np.ones(2), np.array([3.0, 0.0]))
    np.testing.assert_array_equal(graph.output.jacobian(0).coefficients, [3.0, 0.0])
    assert gad.trace(lambda x: x[0], np.ones(2)).output.jacobian(0).coefficients is None


# -- the backprop form of every edge -----------------------------------------------------------


def test_backprop_rules_are_the_derivations_updates():
    import graphviz_ad as gad

    def layer(W, x, b):
        u = W @ x
        return np.tanh(u + b).sum()

    g = gad.trace(layer, np.ones((2, 3)), np.ones(3), np.zeros(2))
    u1, u2, u3 = (g.node(f"u{i}") for i in (1, 2, 3))
    assert u1.jacobian(0).rule == "I ⊗ xᵀ"  # the Kronecker form stays the Jacobian's rule
    assert u1.jacobian(0).backprop_rule("W", "y") == "∂y/∂W += ∂y/∂u₁ · xᵀ"
    assert u1.jacobian(1).backprop_rule("x", "y") == "∂y/∂x += Wᵀ · ∂y/∂u₁"
    assert u2.jacobian(0).backprop_rule("u₁", "y") == "∂y/∂u₁ += ∂y/∂u₂"
    assert u3.jacobian(0).backprop_rule("u₂", "y") == "∂y/∂u₂ += ∂y/∂u₃ ⊙ (1 − tanh²u₂)"
    scalar_bias = gad.trace(lambda x, b: (x + b).sum(), np.ones(3), 0.5)
    assert scalar_bias.node("u1").jacobian(1).backprop_rule("b", "y") == "∂y/∂b += sum(∂y/∂u₁)"
    batch = gad.trace(lambda X, b: (X + b).sum(), np.ones((4, 3)), np.ones(3))
    assert batch.node("u1").jacobian(1).backprop_rule("b", "y") == "∂y/∂b += sum(∂y/∂u₁, axis=0)"
    steps = list(gad.Debugger(g, "backward").backward())
    assert steps[0].backprop_rule is None  # the seed
    w_step = next(step for step in steps if step.node is g.inputs["W"])
    assert w_step.backprop_rule == "∂u₄/∂W += ∂u₄/∂u₁ · xᵀ"


def test_edges_show_the_backprop_form_in_a_backward_pass_and_kronecker_only_expanded():
    import graphviz_ad as gad

    g = gad.trace(lambda W, x: np.tanh(W @ x).sum(), np.ones((2, 3)), np.ones(3))
    debugger = gad.Debugger(g, "backward")
    debugger.run()
    backward = g.to_dot(step=debugger)
    assert "∂u₃/∂W +=<br/>∂u₃/∂u₁ · xᵀ" in backward and "⊗" not in backward.split("label=<", 2)[2]
    plain = g.to_dot()
    assert "I ⊗ xᵀ" not in plain and "∂u₃/∂W +=" in plain  # no Kronecker form by default
    expanded = g.to_dot(edge_rule="expanded")
    assert "I ⊗ xᵀ<br/>2×6" in expanded
    jacobian = g.to_dot(step=debugger, edge_rule="jacobian")
    assert "diag(1 − tanh²u₁)" in jacobian
