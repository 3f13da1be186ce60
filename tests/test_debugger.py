"""The step engine: forward values, backward contributions edge by edge, tangents, the cursor,
breakpoints, and agreement with Graph.grad / Graph.jacobian to the last bit."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphviz_ad as gad
from tests.random_programs import programs


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


def test_state_statuses_through_a_backward_pass():
    graph = gad.trace(sum_of_x_and_square, 3.0)
    dbg = gad.Debugger(graph, "backward")
    x, output = graph.inputs["x"], graph.output
    assert [dbg.state().status(n) for n in (x, output)] == ["pending", "pending"]
    assert dbg.state().total(output) is None and dbg.state().current is None
    dbg.step()
    assert dbg.state().status(output) == "current"
    dbg.step()
    assert dbg.state().status(output) == "done" and dbg.state().status(x) == "current"
    dbg.step()
    assert dbg.state().status(x) == "pending" and float(dbg.state().total(x)) == 1.0
    dbg.run()
    assert dbg.state().status("x") == "current" and dbg.state().received(x) == 2
    constant = graph.nodes[1]
    assert dbg.state().expected(constant) == 0 and dbg.state().status(constant) == "pending"


def test_forward_state_holds_values_of_computed_nodes_only():
    graph = gad.trace(sum_of_x_and_square, 3.0)
    dbg = gad.Debugger(graph)
    dbg.goto(2)
    state = dbg.state()
    assert [state.status(n) for n in graph.nodes] == ["done", "done", "current", "pending"]
    assert state.total(graph.nodes[2]) == 9.0 and state.total(graph.output) is None
    assert state.contributions(graph.nodes[2]) == (dbg.current,)


def test_tangent_of_x_times_x_sums_two_contributions():
    graph = gad.trace(lambda x: x * x, 3.0)
    steps = list(gad.Debugger(graph).tangent())
    assert steps[0].is_seed and steps[0].node is graph.inputs["x"] and steps[0].total == 1.0
    assert [(s.node.label, s.via.label, s.arg, float(s.contribution)) for s in steps[1:]] == [
        ("u₁", "x", 0, 3.0), ("u₁", "x", 1, 3.0)]
    assert float(steps[-1].total) == 6.0 and steps[-1].complete
    # the tangent of u₁ is its differential du₁ (graphviz_ad.notation.tangent)
    assert steps[-1].text == "du₁ += [x] · dx = 3  → du₁ = 6  (2 of 2, complete)"


def test_set_mode_switches_passes_and_resets_the_cursor():
    graph = gad.trace(x_times_square, 3.0)
    dbg = gad.Debugger(graph)
    assert dbg.mode == "forward" and len(dbg) == len(graph.nodes)
    dbg.run()
    dbg.set_mode("backward")
    assert dbg.mode == "backward" and dbg.index == -1 and len(dbg) == 4
    dbg.set_mode("tangent", direction={"x": 2.0})
    assert dbg.mode == "tangent" and float(dbg.run().total) == 54.0
    with pytest.raises(ValueError, match="mode must be one of"):
        dbg.set_mode("sideways")
    with pytest.raises(KeyError, match="not inputs"):
        dbg.set_mode("tangent", direction={"z": 1.0})
    with pytest.raises(ValueError, match="has shape"):
        dbg.set_mode("tangent", direction={"x": np.ones(2)})


def test_steps_are_deterministic_and_reprs_stay_short():
    texts = []
    for _ in range(2):
        graph = gad.trace(x_times_square, 3.0)
        dbg = gad.Debugger(graph)
        texts.append([repr(s) for mode in ("forward", "backward", "tangent")
                      for s in getattr(dbg, mode)()])
    assert texts[0] == texts[1]
    # the adjoint of x is ∂u₂/∂x, u₂ the output (graphviz_ad.notation.adjoint)
    assert texts[0][5] == "<BackwardStep 2: ∂u₂/∂x += ∂u₂/∂u₂ · [u₁] = 9  → ∂u₂/∂x = 9  (1 of 2)>"
    assert all(len(text) < 200 for text in texts[0])


def test_mse_loss_over_samples_matches_the_closed_form():
    rng = np.random.default_rng(2)
    n = 6
    samples, targets = rng.normal(size=(n, 3)), rng.normal(size=n)
    w, b = np.array([0.5, -1.0, 0.8]), 0.1

    def loss(w, b):
        return np.mean((targets - np.maximum(0, samples @ w + b)) ** 2)

    graph = gad.trace(loss, w, b)
    z = samples @ w + b
    active = z > 0
    assert 0 < active.sum() < n  # some samples on each side of the kink
    error = (z - targets) * active
    drained = drained_gradients(graph)
    np.testing.assert_allclose(drained["w"], 2 / n * error @ samples, atol=1e-12)
    assert drained["b"] == pytest.approx(2 / n * error.sum(), abs=1e-12)
    assert np.array_equal(drained["w"], graph.grad("w"))
    assert np.array_equal(drained["b"], graph.grad("b"))


def test_tied_weight_autoencoder_sums_the_contributions_of_both_uses_of_w():
    rng = np.random.default_rng(3)
    weights, x = rng.normal(size=(2, 4)), rng.normal(size=4)

    def autoencoder(W, x):
        h = np.tanh(W @ x)
        return np.sum((W.T @ h - x) ** 2)

    graph = gad.trace(autoencoder, weights, x)
    dbg = gad.Debugger(graph, "backward")
    dbg.run()
    uses = dbg.state().contributions("W")
    assert [step.via.op for step in uses] == ["transpose", "matmul"]  # reverse tape order
    assert uses[-1].complete and uses[-1].expected == 2

    h = np.tanh(weights @ x)
    residual_bar = 2 * (weights.T @ h - x)
    delta = (weights @ residual_bar) * (1 - h**2)
    np.testing.assert_allclose(uses[0].contribution, np.outer(h, residual_bar), atol=1e-12)
    np.testing.assert_allclose(uses[1].contribution, np.outer(delta, x), atol=1e-12)
    assert np.array_equal(uses[-1].total, graph.grad("W"))


def test_fan_out_of_two_hundred_consumers():
    def fan_out(x):
        total = 0.0
        for k in range(200):
            total = total + np.sin(k * x)
        return total

    graph = gad.trace(fan_out, 0.3)
    dbg = gad.Debugger(graph, "backward")
    dbg.run()
    uses = dbg.state().contributions("x")
    assert len(uses) == 200 and [s.received for s in uses] == list(range(1, 201))
    assert [s.complete for s in uses] == [False] * 199 + [True]
    assert {s.expected for s in uses} == {200}
    ks = np.arange(200)
    np.testing.assert_allclose(sorted(float(s.contribution) for s in uses),
                               sorted(ks * np.cos(ks * 0.3)), atol=1e-12)
    assert float(uses[-1].total) == graph.grad("x")
    assert graph.grad("x") == pytest.approx(np.sum(ks * np.cos(ks * 0.3)))
    assert graph.paths("x").total_count == 200


def test_ten_thousand_node_chain_steps_lazily_without_recursion():
    def chain(x):
        for _ in range(5000):
            x = np.sin(x) * 1.0001
        return x

    graph = gad.trace(chain, 0.5)
    dbg = gad.Debugger(graph, "backward")
    assert len(dbg) == 10_001 and dbg.steps_so_far == 0  # counted from structure alone
    dbg.goto(10)
    assert dbg.steps_so_far == 11
    totals = [float(dbg.state().total(dbg.current.node))]
    dbg.step()
    dbg.back()
    assert float(dbg.state().total(dbg.current.node)) == totals[0] and dbg.index == 10
    last = dbg.run()
    assert last.node is graph.inputs["x"] and float(last.total) == graph.grad("x")
    dbg.goto(0)
    assert dbg.current.is_seed and dbg.state().total("x") is None
    hit = dbg.run_to(gad.AtNode("x"))
    assert hit.step is last


# -- breakpoints -------------------------------------------------------------------------------


def test_breakpoint_on_an_op_kind_in_each_mode():
    def f(x):
        return np.sqrt(x) + np.sin(x)

    graph = gad.trace(f, 4.0)
    dbg = gad.Debugger(graph, "backward")
    hit = dbg.run_to(gad.AtOp("sqrt"))
    assert hit.step.via.op == "sqrt" and hit.origin.op == "sqrt" and "'sqrt'" in hit.text
    assert float(hit.step.contribution) == 0.25
    assert dbg.run_to(gad.AtOp("sqrt")) is None and dbg.index == len(dbg) - 1
    dbg.set_mode("forward")
    assert dbg.run_to(gad.AtOp("sin")).step.node.op == "sin"
    dbg.set_mode("tangent")
    assert dbg.run_to(gad.AtOp("sqrt")).step.node.op == "sqrt"


def test_breakpoint_on_a_node_waits_for_completion_when_asked():
    graph = gad.trace(x_times_square, 3.0)
    dbg = gad.Debugger(graph, "backward")
    first = dbg.run_to(graph.inputs["x"])
    assert first.step.received == 1 and "breakpoint on x" in first.text
    dbg.reset()
    complete = dbg.run_to(gad.AtNode("x", complete=True))
    assert complete.step.received == 2 and float(complete.step.total) == 27.0


def test_exploding_adjoint_breakpoint():
    def amplify(x):
        for _ in range(6):
            x = x * 10.0
        return x

    graph = gad.trace(amplify, 1.0)
    dbg = gad.Debugger(graph, "backward")
    hit = dbg.run_to(gad.Exceeds(1e3))
    assert float(hit.step.total) == 1e4 and hit.step.via.op == "multiply"
    assert "reached magnitude 10000 > 1000" in hit.text
    assert all(abs(float(s.total)) <= 1e3 for s in list(dbg.backward())[: hit.step.index])


def test_a_function_of_the_step_is_a_breakpoint():
    graph = gad.trace(x_times_square, 3.0)
    dbg = gad.Debugger(graph, "backward")

    def big_contribution(step):
        return step.contribution > 10

    hit = dbg.run_to(big_contribution)
    assert float(hit.step.contribution) == 18.0 and "big_contribution" in hit.text


def test_forward_non_finite_breakpoint_names_the_first_bad_value():
    def log_of_difference(x, y):
        gap = x - y
        return np.exp(np.log(gap) * 0.0)

    with np.errstate(divide="ignore", invalid="ignore"):
        graph = gad.trace(log_of_difference, 2.0, 2.0)
    dbg = gad.Debugger(graph)
    hit = dbg.run_to(gad.NonFinite())
    assert hit.origin.op == "log" and hit.step.node is hit.origin
    assert "−∞" in hit.text and "gap = x - y" not in hit.text
    assert f"test_debugger.py:{log_of_difference.__code__.co_firstlineno + 2}" in hit.text
    dbg.set_mode("backward")
    backward_hit = dbg.run_to(gad.NonFinite())  # exp's slope exp(u₃) is NaN, from the log
    assert backward_hit.origin.op == "exp" and backward_hit.step.index == 1
    assert "first from u₂ = log(u₁)" in backward_hit.text


def test_nan_breakpoint_in_forward_pass_reports_where_hides_it():
    with np.errstate(invalid="ignore"):
        graph = gad.trace(lambda x: np.where(x > 0, np.sqrt(x), 0.0), -1.0)
    hit = gad.Debugger(graph).run_to(gad.NonFinite())
    assert hit.origin.op == "sqrt" and "hidden from the output by u₂ = where" in hit.text


# -- random programs -------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(programs(), st.integers(0, 2**32 - 1))
def test_random_programs_drained_passes_agree_with_the_graph(program, seed):
    function, x, s = program
    graph = gad.trace(function, x, s)
    rng = np.random.default_rng(seed)
    output_seed = rng.normal(size=graph.output.shape)
    dbg = gad.Debugger(graph, "backward", seed=output_seed)
    dbg.run()
    state = dbg.state()
    for name, expected in graph.vjp(output_seed).items():
        total = state.total(name)
        drained = np.zeros(graph.inputs[name].shape) if total is None else total
        assert np.array_equal(drained, expected)
    assert dbg.index == len(dbg) - 1 and dbg.steps_so_far == len(dbg)

    direction = {"x": rng.normal(size=3), "s": rng.normal()}
    dbg.set_mode("tangent", direction=direction)
    dbg.run()
    total = dbg.state().total(graph.output)
    expected = (np.tensordot(graph.jacobian("x"), direction["x"], axes=1)
                + graph.jacobian("s") * direction["s"])
    np.testing.assert_allclose(0.0 if total is None else total, expected, atol=1e-10)

    scalar = gad.trace(lambda x, s: np.sum(function(x, s)), x, s)
    assert drained_gradients(scalar).keys() == scalar.grad().keys()
    for name, grad in scalar.grad().items():
        drained = drained_gradients(scalar)[name]
        assert np.array_equal(np.zeros_like(grad) if drained is None else drained, grad)


def test_steps_are_immutable_and_nodes_resolve_by_name_label_or_id():
    graph = gad.trace(x_times_square, 3.0)
    dbg = gad.Debugger(graph, "backward")
    step = dbg.run()
    with pytest.raises(AttributeError):
        step.total = 0.0
    state = dbg.state()
    assert state.total("x") is state.total(0) is state.total(graph.inputs["x"])
    assert state.total("u₁") is state.total(graph.nodes[2])
    with pytest.raises(KeyError, match="no node"):
        state.total("nowhere")
    other = gad.trace(x_times_square, 3.0)
    with pytest.raises(KeyError, match="is not a node of"):
        state.total(other.inputs["x"])


def test_a_second_non_finite_stop_names_the_operand_that_carried_it():
    graph = gad.trace(lambda x: (x * 2).sum(), np.array([np.nan, 1.0]))
    debugger = gad.Debugger(graph)
    first = debugger.run_to(gad.NonFinite())
    assert first.step.node is graph.inputs["x"]
    second = debugger.run_to(gad.NonFinite())
    assert "from finite operands" not in second.text
    assert "its operand x = [NaN, 1] is already not finite" in second.text


def test_a_breakpoint_on_an_unknown_op_is_refused():
    with pytest.raises(ValueError, match=r"'relu'.*maximum"):
        gad.AtOp("relu")


# -- a backward pass within a memory budget --------------------------------------------------------


def layered_with_reuse(x, w):
    """x feeds every layer and some layers use y twice: nodes with many contributions, far
    apart in the pass, and adjoints live across many steps."""
    y = x
    for i in range(30):
        y = np.tanh(y * x + w) + np.sin(x) * (y if i % 3 else 1.0)
    return np.sum(y * y) + np.sum(np.outer(x, w) @ y)


def numbers(step):
    return step.contribution, step.total, step.upstream


def same(a, b) -> bool:
    """The same bits (NaN included), shape and dtype."""
    if a is None or b is None:
        return a is b
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def evicted(dbg) -> int:
    """How many steps' numbers the log has let go of (made again when asked)."""
    return sum(contribution is None for contribution in dbg._trail.contributions)


def test_a_small_budget_replays_every_step_to_the_same_bits():
    rng = np.random.default_rng(1)
    graph = gad.trace(layered_with_reuse, rng.normal(size=100), rng.normal(size=100))
    everything = gad.Debugger(graph, "backward", memory_budget=None)
    kept = [numbers(step) for step in everything.backward()]
    assert evicted(everything) == 0
    dbg = gad.Debugger(graph, "backward", memory_budget=200_000)  # 250 vectors of 100
    dbg.run()
    assert evicted(dbg) > len(dbg) // 2
    for index in range(len(dbg)):  # forwards: each evicted step replays its segment
        assert all(map(same, kept[index], numbers(dbg.goto(index)))), index
    for index in reversed(range(len(dbg))):  # and backwards
        assert all(map(same, kept[index], numbers(dbg.goto(index)))), index
    dbg.run()
    for name, grad in graph.grad().items():
        assert np.array_equal(dbg.state().total(name), grad)


def test_back_after_eviction_gives_exactly_the_previous_states():
    rng = np.random.default_rng(2)
    graph = gad.trace(layered_with_reuse, rng.normal(size=50), rng.normal(size=50))
    full = gad.Debugger(graph, "backward")
    full.run()
    dbg = gad.Debugger(graph, "backward", memory_budget=100_000)
    dbg.run()
    assert evicted(dbg) > len(dbg) // 2
    while dbg.index > 0:
        step = dbg.back()
        full.back()
        assert step.index == full.index and step.text == full.current.text
        state, expected = dbg.state(), full.state()
        for node in (step.node, step.via or step.node, graph.inputs["x"], graph.inputs["w"]):
            assert same(state.total(node), expected.total(node))
            assert state.status(node) == expected.status(node)
        parts = [s.contribution for s in state.contributions(step.node)]
        assert all(map(same, parts, [s.contribution for s in expected.contributions(step.node)]))


@settings(max_examples=40, deadline=None)
@given(programs(), st.integers(0, 2**32 - 1))
def test_random_programs_under_a_tiny_budget_match_the_kept_pass(program, seed):
    function, x, s = program
    graph = gad.trace(function, x, s)
    output_seed = np.random.default_rng(seed).normal(size=graph.output.shape)
    kept = [numbers(step) for step in gad.Debugger(graph).backward(output_seed)]
    dbg = gad.Debugger(graph, "backward", seed=output_seed, memory_budget=64)
    dbg.run()
    for index in reversed(range(len(dbg))):
        assert all(map(same, kept[index], numbers(dbg.goto(index)))), index
