"""Each bundled example against the closed forms of MATH.md."""

import importlib

import numpy as np
import pytest
from numpy.testing import assert_allclose

import graphviz_ad as gad
from graphviz_ad.check import check_graph
from graphviz_ad.collect import run_script
from graphviz_ad.examples import FOLDER, ORDER, catalogue, find


def example(name):
    return importlib.import_module(f"graphviz_ad.examples.{name}")


def contributions(graph, input_name):
    """The backward steps that add to the input's adjoint, in the order they happen."""
    node = graph.inputs[input_name]
    return [step for step in gad.Debugger(graph, "backward").backward()
            if step.node is node and step.via is not None]


def consumers(graph, node):
    """(consumer, arg) for every edge leaving ``node``: x * x gives two."""
    return [(other, arg) for other in graph.nodes for arg, operand in enumerate(other.inputs)
            if operand is node]


# -- the catalogue ------------------------------------------------------------------------------


def test_catalogue_lists_every_example_file_in_teaching_order():
    files = {path.stem for path in FOLDER.glob("*.py")} - {"__init__"}
    assert set(ORDER) == files
    assert [entry.name for entry in catalogue()] == list(ORDER)
    assert all(entry.summary and entry.path.is_file() for entry in catalogue())


def test_find_accepts_a_name_with_or_without_suffix():
    assert find("neuron").name == find("neuron.py").name == "neuron"
    assert find("no_such_example") is None


@pytest.mark.parametrize("name", ORDER)
def test_every_example_runs_as_a_script_and_passes_the_jacobian_check(name, capsys):
    graphs = run_script(str(find(name).path))
    assert capsys.readouterr().out  # each script explains itself when run
    assert graphs
    for graph in graphs:
        report = check_graph(graph)
        assert report.passed, [(n.node, n.error) for n in report.failures]


# -- scalar_rules --------------------------------------------------------------------------------


def test_scalar_rules_partials_of_three_x_squared_y():
    graph = example("scalar_rules").partials
    x, y = 2.0, 5.0
    assert graph.grad() == pytest.approx({"x": 6 * x * y, "y": 3 * x**2})
    assert graph.grad() == pytest.approx({"x": 60.0, "y": 12.0})


def test_scalar_rules_chain_rule_through_sin_of_square():
    x = 1.5
    grad = example("scalar_rules").chain.grad("x")
    assert grad == pytest.approx(2 * x * np.cos(x**2), rel=1e-14)
    assert grad == pytest.approx(-1.8845208681682175, rel=1e-14)


def test_scalar_rules_nested_chain_is_the_product_of_the_local_rules():
    graph = example("scalar_rules").nested_chain
    x = 2.0
    assert graph.grad("x") == pytest.approx(6 * x**2 * np.cos(x**3) / np.sin(x**3), rel=1e-13)
    assert graph.grad("x") == pytest.approx(-3.5295615347875318, rel=1e-13)
    steps = [node for node in graph.nodes if node.inputs]
    assert [node.jacobian(0).rule for node in steps] == ["3x²", "cos u₁", "2u₂", "1/u₃"]
    u1, u2, u3 = x**3, np.sin(x**3), np.sin(x**3) ** 2
    locals_ = [float(node.jacobian(0).matrix()[0, 0]) for node in steps]
    assert_allclose(locals_, [3 * x**2, np.cos(u1), 2 * u2, 1 / u3], rtol=1e-14)
    assert np.prod(locals_) == pytest.approx(graph.grad("x"), rel=1e-14)


# -- total_derivative ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("graph_name", "paths", "total"),
    [("sum_of_paths", [1.0, 6.0], 7.0), ("product_of_paths", [9.0, 18.0], 27.0)],
)
def test_total_derivative_is_the_sum_over_two_paths(graph_name, paths, total):
    graph = getattr(example("total_derivative"), graph_name)
    steps = contributions(graph, "x")
    assert [float(step.contribution) for step in steps] == paths
    assert float(steps[-1].total) == graph.grad("x") == total
    assert len(consumers(graph, graph.inputs["x"])) == 2


# -- elementwise ---------------------------------------------------------------------------------

W = np.array([1.0, 2.0, 3.0])
X = np.array([4.0, 5.0, 6.0])
Z = 2.0
I3 = np.eye(3)
ONES = np.ones((3, 1))

# row -> {input: (rule text of ∂y/∂input, its m × n matrix in numerator layout)}
TABLES = {
    "w_plus_x": {"w": ("I", I3), "x": ("I", I3)},
    "w_minus_x": {"w": ("I", I3), "x": ("−I", -I3)},
    "w_times_x": {"w": ("diag(x)", np.diag(X)), "x": ("diag(w)", np.diag(W))},
    "w_over_x": {"w": ("diag(1/x)", np.diag(1 / X)), "x": ("diag(−w/x²)", np.diag(-W / X**2))},
    "tanh_of_x": {"x": ("diag(1 − tanh²x)", np.diag(1 - np.tanh(X) ** 2))},
    "x_plus_z": {"x": ("I", I3), "z": ("1", ONES)},
    "x_minus_z": {"x": ("I", I3), "z": ("−1", -ONES)},
    "z_minus_x": {"x": ("−I", -I3), "z": ("1", ONES)},
    "x_times_z": {"x": ("z I", Z * I3), "z": ("x", X[:, None])},
    "x_over_z": {"x": ("(1/z) I", I3 / Z), "z": ("−x/z²", -X[:, None] / Z**2)},
    "z_over_x": {"x": ("diag(−z/x²)", np.diag(-Z / X**2)), "z": ("1/x", 1 / X[:, None])},
    "sum_of_x": {"x": ("1ᵀ", np.ones((1, 3)))},
    "x_dot_w": {"x": ("wᵀ", W[None, :]), "w": ("xᵀ", X[None, :])},
    "mean_of_x": {"x": ("1ᵀ/n", np.ones((1, 3)) / 3)},
}


def test_elementwise_traces_every_row_of_the_tables():
    assert set(example("elementwise").graphs) == {*TABLES, "sum_of_x_times_z"}


@pytest.mark.parametrize("row", sorted(TABLES))
def test_elementwise_row_rules_and_jacobians(row):
    graph = example("elementwise").graphs[row]
    output = graph.output
    for name, (rule, matrix) in TABLES[row].items():
        (arg,) = [i for i, operand in enumerate(output.inputs) if operand.name == name]
        local = output.jacobian(arg)
        assert local.rule == rule
        assert_allclose(local.matrix(), matrix, rtol=1e-15)
        assert_allclose(graph.jacobian(name).reshape(matrix.shape), matrix, rtol=1e-15)


def test_elementwise_sum_of_x_times_z():
    graph = example("elementwise").graphs["sum_of_x_times_z"]
    assert_allclose(graph.jacobian("x").reshape(1, 3), Z * np.ones((1, 3)))  # z 1ᵀ
    assert graph.grad("z") == pytest.approx(np.sum(X))  # sum(x)
    product = graph.output.inputs[0]
    assert graph.output.jacobian(0).rule == "1ᵀ"
    assert [product.jacobian(i).rule for i in range(2)] == ["z I", "x"]


# -- neuron --------------------------------------------------------------------------------------


def test_neuron_active_passes_the_dot_products_gradient():
    module = example("neuron")
    graph = module.active
    assert float(graph.value) == 2.25
    grads = graph.grad()
    assert_allclose(grads["w"], module.x)  # xᵀ
    assert grads["b"] == 1.0
    assert_allclose(grads["x"], module.w)
    assert graph.output.jacobian(1).rule == "[u₂ > 0]"


def test_neuron_inactive_blocks_every_gradient():
    graph = example("neuron").inactive
    assert float(graph.value) == 0.0
    grads = graph.grad()
    assert_allclose(grads["w"], np.zeros(3))
    assert grads["b"] == 0.0
    assert float(graph.output.jacobian(1).matrix()[0, 0]) == 0.0


# -- mse_loss ------------------------------------------------------------------------------------


def test_mse_loss_gradients_match_the_closed_form():
    module = example("mse_loss")
    X, y, w, b = module.X, module.y, module.w, module.b
    z = X @ w + b
    active = z > 0
    assert active.tolist() == [True, True, False, True]  # one sample leaves the neuron off
    errors = (z - y)[active]
    n = len(y)
    assert float(module.loss.value) == pytest.approx(np.mean((y - np.maximum(0, z)) ** 2))
    assert_allclose(module.loss.grad("w"), 2 / n * errors @ X[active], rtol=1e-14)
    assert module.loss.grad("b") == pytest.approx(2 / n * errors.sum(), rel=1e-14)


# -- mlp -----------------------------------------------------------------------------------------


def test_mlp_backpropagation_layer_by_layer():
    module = example("mlp")
    W1, b1, W2, b2, x, y = (module.W1, module.b1, module.W2, module.b2, module.x, module.y)
    a1 = np.tanh(W1 @ x + b1)
    z2 = W2 @ a1 + b2
    p = np.exp(z2) / np.sum(np.exp(z2))
    assert float(module.loss.value) == pytest.approx(-np.log(p[1]), rel=1e-13)
    delta2 = p - y  # ∂C/∂z² for softmax with cross-entropy
    delta1 = (W2.T @ delta2) * (1 - a1**2)
    grads = module.loss.grad()
    assert_allclose(grads["b2"], delta2, rtol=1e-12, atol=1e-15)
    assert_allclose(grads["W2"], np.outer(delta2, a1), rtol=1e-12, atol=1e-15)  # δ² (a¹)ᵀ
    assert_allclose(grads["b1"], delta1, rtol=1e-12, atol=1e-15)
    assert_allclose(grads["W1"], np.outer(delta1, x), rtol=1e-12, atol=1e-15)  # δ¹ xᵀ


def test_mlp_adjoint_of_the_scores_is_p_minus_y():
    module = example("mlp")
    graph = module.loss
    (scores,) = [node for node in graph.nodes
                 if node.op == "add" and graph.inputs["b2"] in node.inputs]
    debugger = gad.Debugger(graph, "backward")
    debugger.run()
    z2 = scores.value
    p = np.exp(z2) / np.sum(np.exp(z2))
    assert_allclose(debugger.state().total(scores), p - module.y, rtol=1e-12, atol=1e-15)


# -- batchnorm -----------------------------------------------------------------------------------


def test_batchnorm_input_gradient_matches_the_closed_form():
    module = example("batchnorm")
    x, gamma, beta, target = module.x, module.gamma, module.beta, module.target
    n = len(x)
    mu = x.mean(axis=0)
    std = np.sqrt(x.var(axis=0) + module.EPSILON)
    x_hat = (x - mu) / std
    dy = gamma * x_hat + beta - target  # ∂L/∂y for L = ½ Σ (y − t)²
    g_hat = gamma * dy
    expected = (n * g_hat - g_hat.sum(axis=0) - x_hat * (g_hat * x_hat).sum(axis=0)) / (n * std)
    grads = module.loss.grad()
    assert_allclose(grads["x"], expected, rtol=1e-10, atol=1e-12)
    assert_allclose(grads["gamma"], (x_hat * dy).sum(axis=0), rtol=1e-12)
    assert_allclose(grads["beta"], dy.sum(axis=0), rtol=1e-12)


def test_batchnorm_input_reaches_the_loss_three_ways():
    graph = example("batchnorm").loss
    assert len(consumers(graph, graph.inputs["x"])) == 3  # μ, σ² and x̂
    assert len(contributions(graph, "x")) == 3


# -- tied_autoencoder ----------------------------------------------------------------------------


def test_tied_autoencoder_weight_gradient_is_the_sum_of_two_paths():
    module = example("tied_autoencoder")
    W, x = module.W, module.x
    h = np.tanh(W @ x)
    r = W.T @ h - x
    decoder = np.outer(h, r)  # through Wᵀ
    encoder = np.outer((W @ r) * (1 - h**2), x)  # through W
    steps = contributions(module.loss, "W")
    by_route = {step.via.op: step.contribution for step in steps}
    assert sorted(by_route) == ["matmul", "transpose"]
    assert_allclose(by_route["transpose"], decoder, rtol=1e-12)
    assert_allclose(by_route["matmul"], encoder, rtol=1e-12)
    assert_allclose(module.loss.grad("W"), decoder + encoder, rtol=1e-12)


# -- conv1d --------------------------------------------------------------------------------------


def test_conv1d_kernel_gradient_sums_one_contribution_per_position():
    module = example("conv1d")
    x, k = module.x, module.k
    windows = [x[t : t + 3] for t in range(4)]
    y = np.array([window @ k for window in windows])
    steps = contributions(module.energy, "k")
    assert len(steps) == len(consumers(module.energy, module.energy.inputs["k"])) == 4
    got = sorted(tuple(step.contribution) for step in steps)
    assert_allclose(got, sorted(tuple(y[t] * windows[t]) for t in range(4)), rtol=1e-14)
    assert_allclose(module.energy.grad("k"), sum(y[t] * windows[t] for t in range(4)))


# -- rnn -----------------------------------------------------------------------------------------


def bptt(module):
    """Backpropagation through time by hand: per-step contributions to W, U and b."""
    W, U, b, xs = module.W, module.U, module.b, module.xs
    hs = [module.h0]
    for x in xs:
        hs.append(np.tanh(W @ hs[-1] + U @ x + b))
    delta = (hs[-1] - module.target) * (1 - hs[-1] ** 2)
    per_step = []
    for t in range(len(xs), 0, -1):
        per_step.append({"W": np.outer(delta, hs[t - 1]), "U": np.outer(delta, xs[t - 1]),
                         "b": delta})
        delta = (W.T @ delta) * (1 - hs[t - 1] ** 2)
    return per_step  # last step first, as reverse mode meets them


def test_rnn_shared_weights_sum_their_per_step_contributions():
    module = example("rnn")
    expected = bptt(module)
    for name in ("W", "U", "b"):
        steps = contributions(module.loss, name)
        assert len(steps) == 3
        for step, by_hand in zip(steps, expected, strict=True):
            assert_allclose(step.contribution, by_hand[name], rtol=1e-12, atol=1e-15)
        assert_allclose(module.loss.grad(name), sum(e[name] for e in expected), rtol=1e-12)


def test_rnn_forward_mode_through_time_agrees_with_reverse_mode():
    graph = example("rnn").loss
    assert_allclose(graph.jacobian("W", mode="forward"), graph.jacobian("W"), rtol=1e-12)


# -- conv_loops and rnn_buffer: writes into preallocated buffers -------------------------------


@pytest.mark.parametrize("name, written, twin, names", [
    ("conv_loops", "loops", "vectorised", ("x", "w", "b")),
    ("rnn_buffer", "buffered", "stacked", ("Wx", "Wh", "b", "xs", "h0", "ys")),
])
def test_buffer_examples_match_their_vectorised_twins(name, written, twin, names):
    module = example(name)
    graph, reference = getattr(module, written), getattr(module, twin)
    assert_allclose(graph.value, reference.value, rtol=1e-13)
    for input_name in names:
        assert_allclose(graph.grad(input_name), reference.grad(input_name), rtol=1e-12,
                        atol=1e-14, err_msg=input_name)
    sets = [node for node in graph.nodes if node.op == "set"]
    assert sets and all(node.jacobian(0).rule.startswith("I − SᵀS") for node in sets)
    assert "[·]=" in graph.to_dot()
    debugger = gad.Debugger(graph, "backward")
    steps = list(debugger.backward())
    assert len(steps) >= len(sets)


def test_conv_loops_writes_each_output_element_once():
    module = example("conv_loops")
    F, positions = module.w.shape[0], 3 * 3
    assert sum(node.op == "set" for node in module.loops.nodes) == F * positions


def test_rnn_buffer_writes_one_row_per_step():
    module = example("rnn_buffer")
    rows = [node.params["text"] for node in module.buffered.nodes if node.op == "set"]
    assert rows == [str(t) for t in range(module.T)]
# -- softmax_batch ---------------------------------------------------------------------------------


def test_softmax_batch_gradients_are_the_closed_forms():
    """∂C/∂W = Xᵀ (P − Y)/n + 2λ W and ∂C/∂b = 1ᵀ (P − Y)/n, with Y the one-hot labels."""
    module = example("softmax_batch")
    W, b, X, y, penalty = module.W, module.b, module.X, module.y, module.penalty
    n = len(y)
    scores = X @ W + b
    P = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    Y = np.eye(W.shape[1])[y]
    loss = -np.mean(np.log(P[np.arange(n), y])) + penalty * np.sum(W**2)
    assert float(module.loss.value) == pytest.approx(loss, rel=1e-13)
    assert_allclose(module.loss.grad("W"), X.T @ (P - Y) / n + 2 * penalty * W, rtol=1e-12)
    assert_allclose(module.loss.grad("b"), (P - Y).sum(axis=0) / n, rtol=1e-12, atol=1e-15)


def test_softmax_batch_differentiates_only_w_and_b():
    graph = example("softmax_batch").loss
    assert list(graph.inputs) == ["W", "b"]
    constants = {node.label for node in graph.nodes if node.op == "const"}
    assert "X" in constants  # held fixed by wrt=, drawn with its name
    assert not any(np.asarray(node.value).dtype.kind in "iu" and node.op == "input"
                   for node in graph.nodes)  # the labels are no input
