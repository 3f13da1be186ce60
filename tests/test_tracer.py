"""Tracing plain numpy: what is recorded, how inputs are named, and the errors users see."""

import tracemalloc

import numpy as np
import pytest

import graphviz_ad as gad


def neuron(w, x, b):
    return np.maximum(0, w @ x + b)


W = np.array([1.0, -2.0, 0.5])
X = np.array([3.0, 1.0, 2.0])


def test_the_neuron_example_from_the_issue():
    g = gad.trace(neuron, W, X, 0.25)
    assert g.value == 2.25
    grads = g.grad()
    assert list(grads) == ["w", "x", "b"]
    np.testing.assert_array_equal(grads["w"], [3.0, 1.0, 2.0])
    np.testing.assert_array_equal(grads["x"], [1.0, -2.0, 0.5])
    assert grads["b"] == 1.0 and isinstance(grads["b"], float)
    assert g.output.jacobian(1).rule == "[u₂ > 0]"
    assert g.output.jacobian(1).kind == "diagonal"


def test_nodes_inputs_output_and_text_form():
    g = gad.trace(neuron, W, X, 0.25)
    assert [node.op for node in g.nodes] == ["input"] * 3 + ["matmul", "add", "const", "maximum"]
    assert [node.id for node in g.nodes] == list(range(7))
    assert g.output is g.nodes[-1]
    assert g.inputs["w"].inputs == () and g.inputs["w"].name == "w"
    add = g.nodes[4]
    assert add.inputs == (g.nodes[3], g.inputs["b"])
    assert str(g).splitlines()[1:] == [
        "  u₁ = matmul(w, x)    # test_tracer.py:12",
        "  u₂ = add(u₁, b)    # test_tracer.py:12",
        "  u₃ = maximum(0, u₂)    # test_tracer.py:12",
        "  return u₃",
    ]


def test_source_lines_point_at_the_users_code():
    def f(x):
        y = np.sin(x)
        return y * 2

    g = gad.trace(f, 1.0)
    sin, mul = g.nodes[1], g.nodes[3]
    assert sin.source.line == "y = np.sin(x)"
    assert mul.source.line == "return y * 2"
    assert sin.source.filename == __file__ and sin.source.function == "f"
    assert mul.source.lineno == sin.source.lineno + 1


def test_x_times_x_has_two_edges():
    g = gad.trace(lambda x: x * x, 3.0)
    assert g.output.inputs == (g.inputs["x"], g.inputs["x"])
    nx_graph = g.to_networkx()
    assert nx_graph.number_of_edges(0, 1) == 2
    assert sorted(d["arg"] for _, _, d in nx_graph.edges(data=True)) == [0, 1]
    assert nx_graph.nodes[1]["op"] == "multiply" and nx_graph.nodes[0]["name"] == "x"
    assert g.grad("x") == 6.0


def test_node_ids_and_text_are_deterministic():
    def f(x, y):
        return np.sum(np.tanh(x @ y) ** 2)

    args = (np.arange(6.0).reshape(2, 3) / 7, np.ones((3, 2)))
    first, second = gad.trace(f, *args), gad.trace(f, *args)
    assert str(first) == str(second)
    assert [(n.id, n.op, n.label) for n in first.nodes] == [
        (n.id, n.op, n.label) for n in second.nodes
    ]


def test_input_naming_from_the_signature():
    def f(x, *rest, params, scale=2.0, flag=True, **extra):
        assert flag is True
        return x * scale + rest[0] + params[0].sum() + params[1].sum() + extra["k"]

    g = gad.trace(f, 1.0, 2.0, params=[np.ones(2), np.ones(3)], k=4.0)
    assert list(g.inputs) == ["x", "rest[0]", "params[0]", "params[1]", "k"]  # not defaults
    assert g.grad("x") == 2.0
    g = gad.trace(f, 1.0, 2.0, params=[np.ones(2), np.ones(3)], scale=3.0, k=4.0)
    assert g.grad("scale") == 1.0


def test_dict_and_list_inputs():
    def loss(p, xs):
        return np.sum(p["W"] @ xs + p["b"])

    g = gad.trace(loss, {"W": np.eye(2), "b": np.zeros(2)}, [1.0, 2.0])
    assert list(g.inputs) == ["p['W']", "p['b']", "xs"]
    np.testing.assert_array_equal(g.grad("p['b']"), [1.0, 1.0])


def test_integer_arguments_are_constants_and_float_lists_are_promoted():
    g = gad.trace(lambda x, n: np.sum(x**2 * n), np.array([1.0, 2.0, 3.0]), 2)
    assert list(g.inputs) == ["x"]
    np.testing.assert_array_equal(g.grad("x"), [4.0, 8.0, 12.0])
    g = gad.trace(lambda xs: np.sum(xs), [1, 2.5])
    assert g.inputs["xs"].value.dtype == np.float64


def test_control_flow_runs_define_by_run():
    def f(x):
        total = 0.0
        for k in range(3):
            total = total + x**k if x > 0 else total - x
        return total

    assert gad.trace(f, 2.0).grad("x") == 0 + 1 + 4.0
    assert gad.trace(f, -1.0).grad("x") == -3.0


def test_comparisons_are_plain_values_and_piecewise_constants_have_derivative_0():
    def f(x):
        mask = x > 0
        assert isinstance(mask, np.ndarray) and mask.dtype == bool
        assert isinstance(np.argmax(x), np.integer)
        return np.sum(x * mask - np.floor(x))

    g = gad.trace(f, np.array([-1.5, 0.5, 2.5]))
    np.testing.assert_array_equal(g.grad("x"), [0.0, 1.0, 1.0])
    assert {node.op for node in g.nodes} == {"input", "const", "multiply", "floor", "subtract",
                                             "sum"}
    floor = next(node for node in g.nodes if node.op == "floor")
    assert floor.jacobian(0).rule == "0 (piecewise constant)"


def test_nan_and_inf_are_recorded_not_fatal():
    with np.errstate(all="ignore"):
        g = gad.trace(lambda x: np.sum(np.log(x)), np.array([0.0, -1.0, 1.0]))
        grad = g.grad("x")
    assert np.isnan(g.value)
    assert grad[0] == np.inf and grad[1] == -1.0 and grad[2] == 1.0


def test_non_scalar_output_grad_points_to_jacobian():
    g = gad.trace(lambda x: x * 2, np.ones(3))
    with pytest.raises(ValueError, match="jacobian"):
        g.grad()
    np.testing.assert_array_equal(g.jacobian("x"), 2 * np.eye(3))


def test_reverse_forward_and_full_jacobian_agree():
    rng = np.random.default_rng(3)
    W1, W2, x = rng.normal(size=(4, 3)), rng.normal(size=(2, 4)), rng.normal(size=3)

    def f(W1, W2, x):
        return np.tanh(W2 @ np.tanh(W1 @ x))

    g = gad.trace(f, W1, W2, x)
    for name in g.inputs:
        reverse, forward = g.jacobian(name), g.jacobian(name, mode="forward")
        assert reverse.shape == (2, *g.inputs[name].shape)
        np.testing.assert_allclose(reverse, forward, rtol=1e-12, atol=1e-14)
    seed, direction = rng.normal(size=2), rng.normal(size=3)
    np.testing.assert_allclose(g.vjp(seed)["x"], seed @ g.jacobian("x"))
    np.testing.assert_allclose(g.jvp({"x": direction}), g.jacobian("x") @ direction)


def test_unreachable_and_constant_inputs_get_zero_gradients():
    g = gad.trace(lambda x, unused: np.sum(x * 3.0), np.ones(2), np.ones((2, 2)))
    np.testing.assert_array_equal(g.grad("unused"), np.zeros((2, 2)))
    identity = gad.trace(lambda x: x, 2.0)
    assert identity.grad("x") == 1.0
    constant = gad.trace(lambda x: 5.0, 2.0)
    assert constant.output.op == "const" and constant.grad("x") == 0.0


def test_a_10000_deep_chain_needs_no_recursion():
    def chain(x):
        for _ in range(10_000):
            x = x + 1.0
        return x

    g = gad.trace(chain, 0.5)
    assert g.value == 10_000.5 and g.grad("x") == 1.0
    assert len(g.nodes) == 20_001


def test_memory_is_proportional_to_the_values():
    """A 20-op element-wise chain on 10⁶ elements: the peak stays a small multiple of the
    values (a dense diagonal Jacobian would be 8 TB)."""
    x = np.linspace(0.1, 1.0, 1_000_000)

    def chain(x):
        for _ in range(10):
            x = np.sin(x) * 1.01
        return np.sum(x)

    tracemalloc.start()
    g = gad.trace(chain, x)
    g.grad("x")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    values = sum(np.size(node.value) * 8 for node in g.nodes)
    assert peak < values + 6 * x.nbytes


class TestErrors:
    def test_unsupported_function_names_itself_the_line_and_the_rewrite(self):
        def f(x):
            return np.median(x)

        with pytest.raises(gad.UnsupportedOperation) as error:
            gad.trace(f, np.ones(3))
        message = str(error.value)
        assert "np.median" in message and "test_tracer.py:" in message
        assert "np.sort" in message and "np.tanh" not in message  # the rewrite, not a list

    def test_shape_mismatch_names_the_op_both_shapes_and_the_line(self):
        def f(x, y):
            return x + y  # the offending line

        with pytest.raises(gad.ShapeError) as error:
            gad.trace(f, np.ones(3), np.ones(4))
        message = str(error.value)
        assert "add" in message and "(3,)" in message and "(4,)" in message
        assert "test_tracer.py:" in message and "the offending line" in message

    def test_matmul_shapes(self):
        with pytest.raises(gad.ShapeError, match=r"matmul.*\(2, 3\).*\(2,\)"):
            gad.trace(lambda A, x: A @ x, np.ones((2, 3)), np.ones(2))
        with pytest.raises(gad.ShapeError, match=r"matmul.*\(2, 2, 3\) and \(2, 2, 3\)"):
            gad.trace(lambda A: A @ A, np.ones((2, 2, 3)))  # stacks of matrices: inner sizes

    def test_complex_and_object_inputs_are_refused(self):
        with pytest.raises(gad.TraceError, match="complex"):
            gad.trace(lambda z: z * 2, np.ones(2, dtype=complex))
        with pytest.raises(gad.TraceError, match="object"):
            gad.trace(lambda x: x * np.array([1, "a"], dtype=object), np.ones(2))

    def test_out_arguments_are_refused_and_in_place_updates_traced(self):
        with pytest.raises(gad.TraceError, match="out="):
            gad.trace(lambda x: np.exp(x, out=np.empty(2)), np.ones(2))
        outside = np.zeros(2)
        with pytest.raises(gad.TraceError, match="out="):
            gad.trace(lambda x: np.add(outside, x, out=outside), np.ones(2))

        def accumulate(x):
            buffer = np.zeros(2)
            buffer += x
            return buffer

        graph = gad.trace(accumulate, np.array([1.0, 2.0]))
        np.testing.assert_array_equal(graph.value, [1.0, 2.0])
        np.testing.assert_array_equal(graph.jacobian("x"), np.eye(2))

    def test_escaping_the_graph_is_refused(self):
        import math

        with pytest.raises(gad.TraceError, match=r"float\(\).*np.exp"):
            gad.trace(lambda x: math.exp(x), 1.0)
        bound_before_tracing = np.array  # numpy's own, not the one trace() puts in place
        with pytest.raises(gad.TraceError, match=r"np\.stack"):
            gad.trace(lambda x: bound_before_tracing([x, x]), 1.0)

    def test_using_a_traced_value_after_the_trace(self):
        kept = []
        gad.trace(lambda x: kept.append(x) or x * 2, 1.0)
        with pytest.raises(gad.TraceError, match="after its trace"):
            kept[0] + 1

    def test_returning_a_tuple_is_explained(self):
        with pytest.raises(gad.TraceError, match="return one array"):
            gad.trace(lambda x: (x, x), 1.0)


def test_more_user_mistakes_get_clear_messages():
    with pytest.raises(gad.UnsupportedOperation, match=r"np\.linalg\.qr at test_tr"):
        gad.trace(lambda x: np.linalg.qr(x), np.ones((2, 2)))
    with pytest.raises(gad.TraceError, match="returned None"):
        gad.trace(lambda x: None, 1.0)
    # floor division is piecewise constant: derivative 0
    g = gad.trace(lambda x: np.sum(x // 1 + x), np.array([1.5, 2.5]))
    np.testing.assert_array_equal(g.grad("x"), [1.0, 1.0])


def test_comprehensions_are_not_calls():
    def f(x):
        return sum([np.sin(v) for v in x])

    g = gad.trace(f, np.ones(2))
    assert [call.function for call in g.calls] == ["f"]


def test_one_node_lookup_by_node_id_name_or_label():
    graph = gad.trace(lambda x, y: x * y + 2.0 * x + 2.0, 3.0, 4.0)
    u1 = graph.nodes[2]  # the first result: x * y
    assert graph.node(u1) is graph.node(2) is graph.node(np.int64(2)) is u1
    assert graph.node("u₁") is graph.node("u1") is u1  # typed with or without subscripts
    assert graph.node("y") is graph.inputs["y"]
    with pytest.raises(KeyError, match=r"2 nodes of <lambda> are labelled '2' \(ids 3, 6\)"):
        graph.node("2")
    with pytest.raises(KeyError, match="has no node 'u9'; its nodes are x, y, u₁, 2, u₂"):
        graph.node("u9")
    with pytest.raises(KeyError, match="node ids are 0 to 7"):
        graph.node(8)
    with pytest.raises(KeyError, match="not a node of"):
        graph.node(gad.trace(lambda x: x * x, 3.0).nodes[0])
    with pytest.raises(TypeError, match="not float"):
        graph.node(2.0)


# -- names: u₁, u₂, … in tape order, and the source's own names ------------------------------------


def named_neuron(w, x, b):
    z = w @ x + b
    return np.maximum(0, z)


TARGET = np.array([1.0, 2.0, 3.0])


def squared_error(p):
    d = p - TARGET
    return (d * d).sum()


def test_results_are_numbered_from_u1_in_tape_order_and_leaves_use_no_numbers():
    g = gad.trace(named_neuron, W, X, 0.25)
    assert [node.label for node in g.nodes] == ["w", "x", "b", "u₁", "u₂", "0", "u₃"]
    assert g.node("u2") is g.nodes[4] and g.node("u₃") is g.output
    again = gad.trace(named_neuron, W, X, 0.25)
    assert [node.title for node in again.nodes] == [node.title for node in g.nodes]


def test_a_line_that_assigns_one_result_names_it():
    g = gad.trace(named_neuron, W, X, 0.25)
    assert [node.assigned for node in g.nodes] == [None, None, None, None, "z", None, None]
    assert g.nodes[4].title == "z = u₂" and g.nodes[3].title == "u₁"  # w @ x is not z
    assert "z = u₂" in g.to_dot()


def test_an_array_constant_is_named_by_its_variable_and_not_numbered():
    g = gad.trace(squared_error, np.zeros(3))
    assert [node.label for node in g.nodes] == ["p", "TARGET", "u₁", "u₂", "u₃"]
    assert g.nodes[2].title == "d = u₁"
    assert g.nodes[1].name is None  # an input's name only: compare and grad rely on it


def test_only_simple_one_line_assignments_name_a_result():
    def f(x):
        a, b = x * 2.0, x * 3.0
        pair = [x * 4.0, x * 5.0]
        c = x * 6.0; d = c * 7.0  # noqa: E702  (two statements on one line name nothing)
        total = np.sum(
            a + b)
        return total + pair[0] + d

    g = gad.trace(f, np.ones(2))
    assert all(node.assigned is None for node in g.nodes)


def test_a_loop_names_only_the_last_result_of_its_line():
    def f(x):
        h = x
        for _ in range(3):
            h = np.tanh(h * 2.0)
        return h.sum()

    g = gad.trace(f, np.ones(2))
    named = [node for node in g.nodes if node.assigned == "h"]
    assert named == [max((n for n in g.nodes if n.op == "tanh"), key=lambda n: n.id)]
