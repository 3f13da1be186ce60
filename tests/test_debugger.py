"""The step engine: forward values, backward contributions edge by edge, tangents, the cursor,
breakpoints, and agreement with Graph.grad / Graph.jacobian to the last bit."""

import numpy as np
import pytest

import graphviz_ad as gad


def sum_of_x_and_square(x):
    return x + x**2


def x_times_square(x):
    return x * x**2


def contributions(dbg, node):
    return [float(step.contribution) for step in dbg.state().contributions(node)]


# -- the worked examples of MATH.md ---------------------------------------------------------------


def test_x_plus_x_squared_contributions_one_and_six():
    graph = gad.trace(sum_of_x_and_square, 3.0)
    dbg = gad.Debugger(graph, "backward")
    last = dbg.run()
    assert contributions(dbg, "x") == [1.0, 6.0]
    assert last.node is graph.inputs["x"] and float(last.total) == 7.0
    assert (last.received, last.expected, last.complete) == (2, 2, True)
    vias = [step.via.op for step in dbg.state().contributions("x")]
    assert vias == ["add", "power"]


def test_x_times_x_squared_contributions_nine_and_eighteen():
    graph = gad.trace(x_times_square, 3.0)
    dbg = gad.Debugger(graph, "backward")
    dbg.run()
    assert sorted(contributions(dbg, "x")) == [9.0, 18.0]
    assert float(dbg.state().total("x")) == 27.0


def test_x_times_x_gives_two_contributions_along_two_edges():
    graph = gad.trace(lambda x: x * x, 3.0)
    steps = list(gad.Debugger(graph).backward())
    edges = [(s.node.label, s.via.label, s.arg) for s in steps[1:]]
    assert edges == [("x", "u₁", 0), ("x", "u₁", 1)]
    assert [float(s.total) for s in steps[1:]] == [3.0, 6.0]
    assert [s.complete for s in steps[1:]] == [False, True]


def test_seed_step_comes_first_and_seeds_one_for_a_scalar():
    graph = gad.trace(sum_of_x_and_square, 3.0)
    seed = next(gad.Debugger(graph).backward())
    assert seed.is_seed and seed.via is None and seed.local is None
    assert seed.node is graph.output and float(seed.total) == 1.0
    assert (seed.received, seed.expected) == (1, 1)


def test_non_scalar_output_needs_a_seed():
    graph = gad.trace(lambda x: x * 2, np.ones(3))
    with pytest.raises(ValueError, match="needs a seed"):
        gad.Debugger(graph, "backward")
    dbg = gad.Debugger(graph, "backward", seed=np.array([1.0, 2.0, 3.0]))
    dbg.run()
    np.testing.assert_array_equal(dbg.state().total("x"), [2.0, 4.0, 6.0])
    with pytest.raises(ValueError, match="does not match"):
        dbg.set_mode("backward", seed=np.ones(2))


# -- agreement -----------------------------------------------------------------------------------


def neuron(w, x, b):
    return np.maximum(0, w @ x + b)


NEURON_ARGS = (np.array([1.0, -2.0, 0.5]), np.array([3.0, 1.0, 2.0]))


def drained_gradients(graph):
    dbg = gad.Debugger(graph, "backward")
    dbg.run()
    state = dbg.state()
    return {name: state.total(node) for name, node in graph.inputs.items()}


@pytest.mark.parametrize("b", [0.25, -3.0])
def test_drained_backward_is_exactly_grad_for_the_neuron(b):
    graph = gad.trace(neuron, *NEURON_ARGS, b)
    drained = drained_gradients(graph)
    for name, grad in graph.grad().items():
        assert np.array_equal(drained[name], grad)
    expected_w = [3.0, 1.0, 2.0] if b > 0 else [0.0, 0.0, 0.0]
    np.testing.assert_array_equal(graph.grad("w"), expected_w)


def test_drained_tangent_is_jacobian_times_direction():
    graph = gad.trace(neuron, *NEURON_ARGS, 0.25)
    direction = {"w": np.array([0.5, -1.0, 2.0]), "b": np.array(3.0)}
    dbg = gad.Debugger(graph, "tangent", direction=direction)
    dbg.run()
    expected = graph.jacobian("w") @ direction["w"] + graph.jacobian("b") * 3.0
    np.testing.assert_allclose(dbg.state().total(graph.output), expected)


def test_forward_pass_visits_every_node_with_its_value():
    graph = gad.trace(sum_of_x_and_square, 3.0)
    steps = list(gad.Debugger(graph).forward())
    assert [s.node.id for s in steps] == list(range(len(graph.nodes)))
    assert [float(s.value) for s in steps] == [3.0, 2.0, 9.0, 12.0]
    assert steps[2].inputs == (3.0, 2.0)
    assert steps[2].source.lineno == sum_of_x_and_square.__code__.co_firstlineno + 1


# -- the cursor -----------------------------------------------------------------------------------


def snapshot(dbg):
    state = dbg.state()
    return [(state.status(n), None if state.total(n) is None else float(state.total(n)),
             len(state.contributions(n))) for n in dbg.graph.nodes]


@pytest.mark.parametrize("mode", ["forward", "backward", "tangent"])
def test_back_after_every_step_restores_the_state(mode):
    graph = gad.trace(x_times_square, 3.0)
    dbg = gad.Debugger(graph, mode)
    seen = [snapshot(dbg)]
    while dbg.step() is not None:
        seen.append(snapshot(dbg))
    assert dbg.index == len(dbg) - 1 == len(seen) - 2
    for expected in reversed(seen[:-1]):
        dbg.back()
        assert snapshot(dbg) == expected
    assert dbg.index == -1 and dbg.current is None


def test_goto_and_step_state_agree():
    graph = gad.trace(x_times_square, 3.0)
    dbg = gad.Debugger(graph, "backward")
    steps = list(dbg.backward())
    for step in reversed(steps):
        dbg.goto(step.index)
        assert dbg.current is step
        assert snapshot(dbg) == [
            (step.state().status(n), None if step.state().total(n) is None
             else float(step.state().total(n)), len(step.state().contributions(n)))
            for n in graph.nodes
        ]
    with pytest.raises(IndexError):
        dbg.goto(len(dbg))


def test_nan_masked_by_where_is_traced_to_sqrt_in_the_backward_pass():
    def safe_sqrt(x):
        return np.where(x > 0, np.sqrt(x), 0.0)

    with np.errstate(invalid="ignore"):
        graph = gad.trace(safe_sqrt, -1.0)
    assert graph.value == 0.0 and np.isnan(graph.grad("x"))
    dbg = gad.Debugger(graph, "backward")
    hit = dbg.run_to(gad.NonFinite())
    assert hit is dbg.hit and dbg.current is hit.step
    assert hit.origin.op == "sqrt"
    line = safe_sqrt.__code__.co_firstlineno + 1
    assert f"test_debugger.py:{line}" in hit.text
    assert "where" in hit.text and "1/(2√x)" in hit.text
