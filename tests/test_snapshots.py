"""Every array the graph holds is a snapshot taken when it was recorded: changing the user's
array afterwards changes nothing in the graph, its gradients, its pictures or its steps."""

import numpy as np
import pytest

import graphviz_ad as gad
from graphviz_ad.check import check_graph


def one_hot_total(x, e):
    """Σᵢ (x · (i + 1) eᵢ)², reusing one buffer e for every one-hot vector."""
    total = 0.0
    for i in range(3):
        e[:] = 0.0
        e[i] = i + 1.0
        total = total + np.sum(x * e) ** 2
    return total


def test_a_reused_one_hot_buffer_issue_13_case_1():
    def f(x):
        return one_hot_total(x, np.zeros(3))

    graph = gad.trace(f, np.ones(3))
    np.testing.assert_array_equal(graph.grad()["x"], [2.0, 8.0, 18.0])
    assert check_graph(graph).passed


def test_a_buffer_made_outside_and_mutated_between_uses():
    e = np.zeros(3)
    graph = gad.trace(lambda x: one_hot_total(x, e), np.ones(3))
    e[:] = 100.0  # after tracing too
    np.testing.assert_array_equal(graph.grad("x"), [2.0, 8.0, 18.0])
    assert check_graph(graph).passed


def test_an_unchanged_array_used_twice_is_one_constant():
    weights = np.array([1.0, 2.0, 3.0])
    graph = gad.trace(lambda x: np.sum(x * weights) + np.sum(x / weights), np.ones(3))
    constants = [node for node in graph.nodes if node.op == "const" and node.shape == (3,)]
    assert len(constants) == 1


def test_an_optimiser_step_after_tracing_changes_nothing_issue_13_case_2():
    w = np.array([0.5, -1.0, 2.0])
    data = np.array([1.0, 2.0, 3.0])

    def loss(w):
        return np.sum((w * data - 1.0) ** 2)

    graph = gad.trace(loss, w)
    before = graph.grad("w").copy()
    dot = graph.to_dot()
    w -= 0.1 * graph.grad("w")  # the usual step, on the caller's array
    data[:] = 0.0
    np.testing.assert_array_equal(graph.grad("w"), before)
    assert graph.value == pytest.approx((0.5 - 1.0) ** 2 + (-2.0 - 1.0) ** 2 + (6.0 - 1.0) ** 2)
    np.testing.assert_array_equal(graph.inputs["w"].value, [0.5, -1.0, 2.0])
    assert graph.to_dot() == dot
    steps = [step.node.label for step in gad.Debugger(graph, "backward").backward()]
    assert steps and graph.grad("w").tolist() == before.tolist()


def test_where_conditions_and_index_arrays_are_snapshots():
    mask = np.array([True, False, True])
    rows = np.array([2, 0])

    def f(x):
        picked = x[rows]
        kept = np.where(mask, x, 0.0)
        return np.sum(picked * np.array([1.0, 10.0])) + np.sum(kept * 100.0)

    graph = gad.trace(f, np.array([1.0, 2.0, 3.0]))
    mask[:] = False
    rows[:] = 1
    np.testing.assert_array_equal(graph.grad("x"), [110.0, 0.0, 101.0])
    assert check_graph(graph).passed


def test_a_mask_mutated_inside_the_function_is_read_at_each_use():
    def f(x):
        mask = x > 0
        first = np.where(mask, x, 0.0)
        mask[:] = True
        second = np.where(mask, x, 0.0)
        return np.sum(first) + 2.0 * np.sum(second)

    x = np.array([-1.0, 2.0])
    graph = gad.trace(f, x)
    assert graph.value == f(x)
    np.testing.assert_array_equal(graph.grad("x"), [2.0, 3.0])


def test_recorded_values_are_read_only_and_inputs_are_copies():
    x = np.array([1.0, 2.0])
    graph = gad.trace(lambda x: np.sum(np.exp(x) * np.ones(2)), x)
    for node in graph.nodes:
        if isinstance(node.value, np.ndarray):
            assert not node.value.flags.writeable, node
    with pytest.raises(ValueError, match="read-only"):
        graph.inputs["x"].value[0] = 5.0
    assert not np.shares_memory(graph.inputs["x"].value, x)
    assert x.flags.writeable  # the caller's array itself is left alone


def test_traced_value_of_a_peek_cannot_change_the_graph():
    seen = {}

    def f(x):
        y = np.sin(x)
        seen["value"] = y.value
        return np.sum(y)

    graph = gad.trace(f, np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="read-only"):
        seen["value"][0] = 0.0
    np.testing.assert_allclose(graph.grad("x"), np.cos([0.5, 1.0]))


def test_a_constant_list_of_arrays_is_copied():
    rows = [np.array([1.0, 2.0]), np.array([3.0, 4.0])]

    def f(x):
        return np.sum(x * rows)

    graph = gad.trace(f, np.ones(2))
    rows[0][:] = 0.0
    np.testing.assert_array_equal(graph.grad("x"), [4.0, 6.0])


def test_large_snapshots_reuse_memory_only_once_no_graph_needs_it():
    weights = np.ones((128, 128))  # 128 KiB: copied into pooled buffers

    def f(w):
        return np.sum(w * weights)

    first = gad.trace(f, weights)
    weights[:] = 2.0
    second = gad.trace(f, weights)
    assert first.value == 128 * 128 and second.value == 4 * 128 * 128
    del first  # its buffers may now be reused
    weights[:] = 3.0
    third = gad.trace(f, weights)
    assert second.value == 4 * 128 * 128 and third.value == 9 * 128 * 128
    np.testing.assert_array_equal(second.grad("w"), np.full((128, 128), 2.0))
    np.testing.assert_array_equal(third.grad("w"), np.full((128, 128), 3.0))
    assert not np.shares_memory(second.inputs["w"].value, third.inputs["w"].value)
