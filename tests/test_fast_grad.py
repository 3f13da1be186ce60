"""``Graph.grad``'s fast reverse pass against the debugger's structured one: the same
numbers to the last bit, on every bundled example and on random programs; and the garbage
collector paused while tracing and differentiating, restored even after an error."""

import gc

import numpy as np
import pytest
from hypothesis import given, settings

import graphviz_ad as gad
from graphviz_ad import propagate
from graphviz_ad.collect import run_script
from graphviz_ad.examples import catalogue
from graphviz_ad.gc_pause import gc_paused
from tests.random_programs import programs


def assert_same_adjoints(graph, seed):
    structured = propagate.input_adjoints(graph, seed)
    fast = propagate.fast_input_adjoints(graph, seed)
    assert structured.keys() == fast.keys()
    for node_id, expected in structured.items():
        actual = fast[node_id]
        if expected is None:
            assert actual is None
            continue
        assert np.shape(actual) == np.shape(expected)
        assert np.result_type(actual) == np.result_type(expected)
        assert np.array_equal(actual, expected, equal_nan=True), graph.nodes[node_id].label


def seed_for(graph):
    return np.ones(graph.output.shape)


@pytest.mark.parametrize("example", [entry.path for entry in catalogue()],
                         ids=[entry.name for entry in catalogue()])
def test_fast_pass_equals_structured_pass_on_every_example(example):
    graphs = run_script(str(example), run_name="example")
    assert graphs
    for graph in graphs:
        assert_same_adjoints(graph, seed_for(graph))
        batched = np.random.default_rng(0).normal(size=(3, *graph.output.shape))
        assert_same_adjoints(graph, batched)


@settings(max_examples=150, deadline=None)
@given(programs())
def test_fast_pass_equals_structured_pass_on_random_programs(program):
    function, x, s = program
    graph = gad.trace(function, x, s)
    assert_same_adjoints(graph, seed_for(graph))
    assert_same_adjoints(graph, np.random.default_rng(1).normal(size=(2, *graph.output.shape)))


def test_adding_in_place_leaves_the_seed_and_shared_adjoints_alone():
    # x + y hands both operands the same adjoint; each then gets more contributions.
    def shared(x, y):
        total = x + y
        return np.sum(total * x + total * y + x * 3.0 + y * 2.0)

    x, y = np.arange(3.0), np.arange(3.0) + 1
    graph = gad.trace(shared, x, y)
    seed = np.ones(())
    grads = graph.vjp(seed)
    assert seed == 1.0
    np.testing.assert_array_equal(grads["x"], 2 * x + y + y + 3.0)
    np.testing.assert_array_equal(grads["y"], x + x + 2 * y + 2.0)
    assert not np.shares_memory(grads["x"], grads["y"])


def test_the_collector_is_paused_inside_and_restored_after_an_error():
    seen = []

    def looks(x):
        seen.append(gc.isenabled())
        return x * 2.0

    def fails(x):
        raise RuntimeError("boom")

    assert gc.isenabled()
    gad.trace(looks, 1.0)
    assert seen == [False] and gc.isenabled()
    with pytest.raises(RuntimeError):
        gad.trace(fails, 1.0)
    assert gc.isenabled()
    with pytest.raises(ValueError):
        gad.trace(lambda x: x * 2.0, np.ones(2)).grad()  # not a scalar output
    assert gc.isenabled()


def test_a_collector_disabled_by_the_caller_stays_disabled():
    gc.disable()
    try:
        gad.trace(lambda x: x * 2.0, 1.0).grad()
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
