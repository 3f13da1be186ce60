"""The finite-difference checker: it passes correct rules and catches wrong ones."""

import numpy as np
import pytest

import graphviz_ad as gad
from graphviz_ad.check import DENSE_LIMIT, TOLERANCE, check_graph
from graphviz_ad.linear import Elementwise
from graphviz_ad.primitives import PRIMITIVES, Diag, Primitive


def methods(report):
    return {node.node.op: {edge.method for edge in node.edges} for node in report.nodes}


def test_a_smooth_graph_passes_with_tiny_errors():
    rng = np.random.default_rng(0)
    graph = gad.trace(lambda A, x: np.sum(np.exp(np.tanh(A @ x) / 3)), rng.normal(size=(4, 3)),
                      rng.normal(size=3))
    report = check_graph(graph)
    assert report.passed and not report.failures
    assert report.worst.error < 1e-8
    assert [node.node.op for node in report.nodes] == ["matmul", "tanh", "divide", "exp", "sum"]
    assert methods(report)["matmul"] == {"matrix"}


def test_large_operands_are_checked_along_random_directions():
    x = np.linspace(-1, 1, DENSE_LIMIT + 1)
    report = check_graph(gad.trace(lambda x: np.sum(np.sin(x) * x), x))
    assert methods(report) == {"sin": {"directions"}, "multiply": {"directions"},
                               "sum": {"directions"}}
    assert report.passed


def test_the_report_is_deterministic():
    x = np.linspace(-1, 1, 100)
    first, second = (check_graph(gad.trace(lambda x: np.sum(np.tanh(x) ** 3), x)) for _ in "ab")
    assert [n.error for n in first.nodes] == [n.error for n in second.nodes]


def test_only_edges_from_inputs_are_checked():
    report = check_graph(gad.trace(lambda x: x**2, 3.0))
    (node,) = report.nodes
    assert [edge.operand.name for edge in node.edges] == ["x"]  # not the constant exponent


def wrong_sin(derivative):
    return Primitive("sin", "sin", np.sin, (Diag(derivative, "cos {x}"),))


@pytest.mark.parametrize("size", [3, DENSE_LIMIT + 5], ids=["matrix", "directions"])
def test_a_wrong_rule_is_caught(monkeypatch, size):
    monkeypatch.setitem(PRIMITIVES, "sin", wrong_sin(lambda x, out: -np.cos(x)))
    graph = gad.trace(lambda x: np.sum(np.sin(x)), np.linspace(0.1, 1.0, size))
    report = check_graph(graph)
    assert not report.passed
    assert [node.node.op for node in report.failures] == ["sin"]
    assert report.worst.node.op == "sin" and report.worst.error > 0.1


def test_a_slightly_wrong_rule_is_caught():
    graph = gad.trace(lambda x: np.sin(x), 0.7)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(PRIMITIVES, "sin", wrong_sin(lambda x, out: np.cos(x) * (1 + 1e-5)))
        assert not check_graph(graph).passed
    assert check_graph(graph).passed


class _Doubled(Elementwise):
    """The right rule except that one of its three forms is doubled."""

    __slots__ = ()
    wrong = ""

    def vjp(self, g):
        return (2 if self.wrong == "vjp" else 1) * super().vjp(g)

    def jvp(self, v):
        return (2 if self.wrong == "jvp" else 1) * super().jvp(v)

    def matrix(self):
        return (2 if self.wrong == "matrix" else 1) * super().matrix()


@pytest.mark.parametrize(("wrong", "sizes"), [
    ("vjp", (3, DENSE_LIMIT + 5)), ("jvp", (3, DENSE_LIMIT + 5)), ("matrix", (3,)),
])
def test_each_form_of_a_rule_is_checked(monkeypatch, wrong, sizes):
    class Wrong(_Doubled):
        __slots__ = ()

    Wrong.wrong = wrong

    def partial(node, i):
        x = node.inputs[0].value
        return Wrong(np.cos(x), np.shape(x), np.shape(node.value), "cos {x}", node)

    monkeypatch.setitem(PRIMITIVES, "sin", Primitive("sin", "sin", np.sin, (partial,)))
    for size in sizes:
        report = check_graph(gad.trace(lambda x: np.sin(x), np.linspace(0.1, 1.0, size)))
        assert [node.node.op for node in report.failures] == ["sin"]


def test_a_kink_accepts_either_one_sided_derivative():
    graph = gad.trace(lambda z: np.maximum(0, z), np.array([0.0, 1.0, -1.0]))
    (node,) = check_graph(graph).nodes
    assert node.kink and node.passed()
    tie = gad.trace(lambda a, b: np.maximum(a, b), 1.0, 1.0)  # ½–½ between two inputs
    assert all(node.kink and node.passed() for node in check_graph(tie).nodes)


def test_a_wrong_rule_at_a_kink_is_caught(monkeypatch):
    monkeypatch.setitem(PRIMITIVES, "abs", Primitive("abs", "|·|", np.abs, (
        Diag(lambda x, out: np.where(x == 0, 2.0, np.sign(x)), "sign({x})"),)))
    (node,) = check_graph(gad.trace(lambda x: np.abs(x), 0.0)).nodes
    assert node.kink and not node.passed()


def test_a_point_where_the_function_is_undefined_is_reported_not_failed():
    with np.errstate(divide="ignore"):
        graph = gad.trace(lambda x: np.log(x), 0.0)
    report = check_graph(graph)
    (node,) = report.nodes
    assert node.undefined and np.isnan(node.error)
    assert report.passed and report.worst is None


def test_undefined_entries_do_not_hide_the_others(monkeypatch):
    x = np.array([0.0, 1.0, 4.0])  # sqrt is not finite just left of 0
    (node,) = check_graph(gad.trace(lambda x: np.sqrt(x), x)).nodes
    assert node.undefined and node.error < 1e-8 and node.passed()
    monkeypatch.setitem(PRIMITIVES, "sqrt", Primitive("sqrt", "√", np.sqrt, (
        Diag(lambda x, out: 1 / out, "1/√{x}"),)))  # twice the right derivative
    (node,) = check_graph(gad.trace(lambda x: np.sqrt(x), x)).nodes
    assert node.undefined and not node.passed()


def test_the_tolerance_decides():
    graph = gad.trace(lambda x: np.exp(x), 30.0)  # large values: a visible rounding error
    report = check_graph(graph)
    assert report.tolerance == TOLERANCE and report.passed
    assert not check_graph(graph, tolerance=report.worst.error / 2).passed


def test_small_elements_next_to_large_ones_are_probed_within_the_domain(monkeypatch):
    """The step is relative to each element: log at 0.01 beside 10⁴ is checked, not skipped."""
    graph = gad.trace(lambda x: np.sum(np.log(x)), np.array([1e4, 0.01]))
    log = check_graph(graph).nodes[0]
    assert log.passed() and not log.undefined and log.error < 1e-6

    wrong = Diag(lambda x, out: 1 / x + 5 * (x < 0.1), "1/{x}")
    monkeypatch.setitem(PRIMITIVES, "log", Primitive("log", "log", np.log, (wrong,)))
    assert not check_graph(graph).passed
