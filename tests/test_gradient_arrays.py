"""Gradients are handed out as the caller's own arrays: never shared with each other, with
the seed or tangent given, or with a recorded value, and always writable."""

import numpy as np

import graphviz_ad as gad


def test_inputs_sharing_one_adjoint_get_separate_arrays():
    grads = gad.trace(lambda x, y: np.sum(x + y), np.ones(3), np.ones(3)).grad()
    assert not np.shares_memory(grads["x"], grads["y"])
    grads["x"][0] = 5.0
    np.testing.assert_array_equal(grads["y"], np.ones(3))


def test_vjp_never_returns_the_seed():
    seed = np.array([1.0, 2.0, 3.0])
    graph = gad.trace(lambda x: x, np.zeros(3))
    result = graph.vjp(seed)["x"]
    result[0] = 9.0
    np.testing.assert_array_equal(seed, [1.0, 2.0, 3.0])
    through_ops = gad.trace(lambda x: x + 0.0, np.zeros(3)).vjp(seed)["x"]
    assert not np.shares_memory(through_ops, seed)


def test_jvp_never_returns_the_tangent():
    tangent = np.array([1.0, 2.0])
    for f in (lambda x: x, lambda x: x + 0.0, lambda x: 2.0 * x):
        result = gad.trace(f, np.zeros(2)).jvp({"x": tangent})
        assert not np.shares_memory(result, tangent)
        assert result.flags.writeable


def test_gradients_do_not_alias_recorded_values():
    w = np.array([1.0, 2.0])
    graph = gad.trace(lambda w, v: np.sum(w * v), w, np.array([3.0, 4.0]))
    grads = graph.grad()
    for grad in grads.values():
        assert grad.flags.writeable
        assert not any(np.shares_memory(grad, node.value) for node in graph.nodes
                       if isinstance(node.value, np.ndarray))
    np.testing.assert_array_equal(grads["w"], [3.0, 4.0])
