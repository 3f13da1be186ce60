"""np.linalg: inv, pinv, det, slogdet, solve, cholesky, eigh, svd, eig (real spectra).

Every linear-algebra node's local Jacobian is checked against central finite differences
(dense matrix, VJP, JVP, batched seeds); whole gradients against HIPS autograd to 1e-10
and, where installed, PyTorch.  Stacks of matrices and broadcasting right-hand sides are
included.
"""

from types import SimpleNamespace

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import graphviz_ad as gad
from tests.test_primitives import assert_jacobian_matches

rng = np.random.default_rng(5)
LINALG = {"inv", "pinv", "det", "logabsdet", "solve", "cholesky", "eigh_values",
          "eigh_vectors", "svd_values", "svd_u", "svd_vh", "eig_values", "eig_vectors"}


def normal(*shape):
    return rng.normal(size=shape)


def invertible(*shape):
    n = shape[-1]
    return normal(*shape) + n * np.eye(n)


def spd(*shape):
    """Symmetric positive definite with distinct eigenvalues."""
    a = normal(*shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def real_spectrum(*shape):
    """A non-symmetric matrix with eigenvalues 1, 2, …, n."""
    n = shape[-1]
    q = invertible(*shape)
    return q @ (np.arange(1.0, n + 1) * np.linalg.inv(q)[..., :, :].swapaxes(-1, -2)).swapaxes(
        -1, -2)


def _sym(xp, a):
    """A symmetric matrix built from a: factorizations that read one triangle agree with
    oracles that symmetrise when the matrix moves only symmetrically."""
    return a @ xp.swapaxes(a, -1, -2) + 3.0 * xp.eye(a.shape[-1])


# (id, f(xp, *arrays), arrays, oracles)
CASES = [
    ("inv", lambda xp, A: xp.linalg.inv(A), (invertible(3, 3),), "at"),
    ("inv stack", lambda xp, A: xp.linalg.inv(A), (invertible(2, 3, 3),), "at"),
    ("pinv tall", lambda xp, A: xp.linalg.pinv(A), (normal(4, 2),), "at"),
    ("pinv wide", lambda xp, A: xp.linalg.pinv(A), (normal(2, 3),), "at"),
    ("pinv stack", lambda xp, A: xp.linalg.pinv(A), (normal(2, 3, 2),), "t"),
    ("det", lambda xp, A: xp.linalg.det(A), (invertible(3, 3),), "at"),
    ("det stack", lambda xp, A: xp.linalg.det(A), (invertible(2, 3, 3),), "at"),
    ("slogdet", lambda xp, A: xp.linalg.slogdet(A)[1], (invertible(3, 3),), "at"),
    ("slogdet negative det", lambda xp, A: xp.linalg.slogdet(A)[1],
     (invertible(3, 3) * np.array([[-1.0], [1.0], [1.0]]),), "at"),
    ("slogdet stack", lambda xp, A: xp.linalg.slogdet(A)[1], (invertible(2, 3, 3),), "at"),
    ("solve vector", lambda xp, A, b: xp.linalg.solve(A, b), (invertible(3, 3), normal(3)),
     "at"),
    ("solve matrix", lambda xp, A, B: xp.linalg.solve(A, B), (invertible(3, 3), normal(3, 2)),
     "at"),
    ("solve stack", lambda xp, A, B: xp.linalg.solve(A, B),
     (invertible(2, 3, 3), normal(2, 3, 2)), "at"),
    ("solve stack, one vector", lambda xp, A, b: xp.linalg.solve(A, b),
     (invertible(2, 3, 3), normal(3)), "t"),
    ("solve one matrix, stacked rhs", lambda xp, A, B: xp.linalg.solve(A, B),
     (invertible(3, 3), normal(4, 3, 2)), "t"),
    ("solve broadcast stacks", lambda xp, A, B: xp.linalg.solve(A, B),
     (invertible(2, 1, 3, 3), normal(4, 3, 1)), "t"),
    ("cholesky", lambda xp, A: xp.linalg.cholesky(_sym(xp, A)), (normal(3, 3),), "at"),
    ("cholesky stack", lambda xp, A: xp.linalg.cholesky(_sym(xp, A)), (normal(2, 3, 3),),
     "at"),
    ("cholesky lower triangle", lambda xp, A: xp.linalg.cholesky(A), (spd(3, 3),), ""),
    ("cholesky upper", lambda xp, A: np.linalg.cholesky(A, upper=True), (spd(3, 3),), ""),
    ("eigh values", lambda xp, A: xp.linalg.eigh(_sym(xp, A))[0], (normal(3, 3),), "at"),
    ("eigh vectors", lambda xp, A: xp.linalg.eigh(_sym(xp, A))[1], (normal(3, 3),), "a"),
    ("eigh vectors squared", lambda xp, A: xp.linalg.eigh(_sym(xp, A))[1] ** 2,
     (normal(3, 3),), "at"),
    ("eigh stack", lambda xp, A: xp.linalg.eigh(_sym(xp, A))[1] ** 2, (normal(2, 3, 3),),
     "at"),
    ("eigh lower triangle", lambda xp, A: xp.linalg.eigh(A)[0], (spd(3, 3),), "a"),
    ("eigh upper triangle", lambda xp, A: xp.linalg.eigh(A, UPLO="U")[1], (spd(3, 3),), ""),
    ("eigvalsh", lambda xp, A: xp.linalg.eigvalsh(A), (spd(3, 3),), ""),
    ("svd values", lambda xp, A: xp.linalg.svd(A, compute_uv=False), (normal(4, 3),), "at"),
    ("svd values wide stack", lambda xp, A: xp.linalg.svd(A, compute_uv=False),
     (normal(2, 2, 3),), "at"),
    ("svd U", lambda xp, A: xp.linalg.svd(A, full_matrices=False)[0], (normal(4, 3),), "a"),
    ("svd Vh", lambda xp, A: xp.linalg.svd(A, full_matrices=False)[2], (normal(4, 3),), "a"),
    ("svd U wide", lambda xp, A: xp.linalg.svd(A, full_matrices=False)[0], (normal(2, 3),),
     "a"),
    ("svd Vh wide", lambda xp, A: xp.linalg.svd(A, full_matrices=False)[2], (normal(2, 3),),
     "a"),
    ("svd square full", lambda xp, A: xp.linalg.svd(A)[0] ** 2, (normal(3, 3),), "t"),
    ("svd stack", lambda xp, A: xp.linalg.svd(A, full_matrices=False)[2] ** 2,
     (normal(2, 4, 3),), "at"),
    ("svd sign-free", lambda xp, A: _sign_free_svd(xp, A), (normal(4, 3),), "at"),
    ("eig values", lambda xp, A: xp.linalg.eig(A)[0], (real_spectrum(3, 3),), "a"),
    ("eig vectors", lambda xp, A: xp.linalg.eig(A)[1], (real_spectrum(3, 3),), "a"),
    ("eig stack", lambda xp, A: xp.linalg.eig(A)[1] ** 2, (real_spectrum(2, 3, 3),), "a"),
    ("eigvals", lambda xp, A: xp.linalg.eigvals(A), (real_spectrum(3, 3),), ""),
]
IDS = [case[0] for case in CASES]


def _sign_free_svd(xp, A):
    """U diag(s) Vh built back from the factors (each factor's sign cancels)."""
    u, s, vh = xp.linalg.svd(A, full_matrices=False)
    return (u * s[..., None, :]) @ vh


def _traced(function):
    return lambda *arrays: function(np, *arrays)


@pytest.mark.parametrize("name, function, arrays, oracles", CASES, ids=IDS)
def test_forward_matches_numpy(name, function, arrays, oracles):
    graph = gad.trace(_traced(function), *arrays)
    np.testing.assert_allclose(graph.value, function(np, *arrays), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, function, arrays, oracles", CASES, ids=IDS)
def test_local_jacobians_against_finite_differences(name, function, arrays, oracles):
    graph = gad.trace(_traced(function), *arrays)
    nodes = [node for node in graph.nodes if node.op in LINALG]
    assert nodes, f"{name} recorded no linear-algebra node"
    for node in nodes:
        for i in range(len(node.inputs)):
            assert_jacobian_matches(node, i)
            local = node.jacobian(i)
            assert local.kind == "linalg"
            assert local.rule and "{" not in local.rule and "dense" not in local.rule


def _weighted(function, arrays):
    weights = rng.normal(size=np.shape(function(np, *arrays)))
    return weights, gad.trace(lambda *xs: np.sum(function(np, *xs) * weights), *arrays)


@pytest.mark.parametrize("name, function, arrays, oracles", CASES, ids=IDS)
def test_gradients_match_autograd(name, function, arrays, oracles):
    if "a" not in oracles:
        pytest.skip("autograd has no rule for this function or this form of it")
    weights, graph = _weighted(function, arrays)
    ours = graph.vjp(1.0)
    for k in range(len(arrays)):
        theirs = autograd.grad(lambda *xs: anp.sum(function(anp, *xs) * weights), k)(*arrays)
        np.testing.assert_allclose(ours[f"xs[{k}]"], theirs, rtol=1e-10, atol=1e-12)


def _torch_namespace(torch):
    linalg = torch.linalg
    return SimpleNamespace(
        eye=lambda n: torch.eye(n, dtype=torch.float64), swapaxes=torch.swapaxes,
        linalg=SimpleNamespace(
            inv=linalg.inv, pinv=linalg.pinv, det=linalg.det, slogdet=linalg.slogdet,
            solve=linalg.solve,
            cholesky=linalg.cholesky, eigh=linalg.eigh,
            svd=lambda a, full_matrices=True, compute_uv=True: (
                linalg.svd(a, full_matrices=full_matrices) if compute_uv
                else linalg.svdvals(a)),
        ),
    )


@pytest.mark.parametrize("name, function, arrays, oracles", CASES, ids=IDS)
def test_gradients_match_torch(name, function, arrays, oracles):
    torch = pytest.importorskip("torch")
    if "t" not in oracles:
        pytest.skip("torch's factors differ by sign or torch has no such function")
    weights, graph = _weighted(function, arrays)
    ours = graph.vjp(1.0)
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    if name == "solve stack, one vector":  # torch reads a 1-d b as a vector too, but wants
        tensors_used = [tensors[0], tensors[1].expand(2, 3)]  # the stacks to match
    else:
        tensors_used = tensors
    result = function(_torch_namespace(torch), *tensors_used)
    (result * torch.tensor(weights)).sum().backward()
    for k, tensor in enumerate(tensors):
        np.testing.assert_allclose(ours[f"xs[{k}]"], tensor.grad.numpy(), rtol=1e-9,
                                   atol=1e-11)


def test_several_outputs_come_back_as_numpy_named_tuples():
    A = invertible(3, 3) * np.array([[-1.0], [1.0], [1.0]])
    graph = gad.trace(lambda A: np.linalg.slogdet(A).logabsdet, A)
    sign, logabsdet = np.linalg.slogdet(A)
    assert graph.output.op == "logabsdet" and np.isclose(graph.value, logabsdet)

    def sign_times(A):
        result = np.linalg.slogdet(A)
        assert isinstance(result.sign, np.floating | float)  # plain: piecewise constant
        return result.sign * result.logabsdet

    np.testing.assert_allclose(gad.trace(sign_times, A).grad("A"),
                               sign * np.linalg.inv(A).T, rtol=1e-12)
    eigh = gad.trace(lambda S: np.linalg.eigh(S).eigenvectors, spd(3, 3))
    assert [node.op for node in eigh.nodes] == ["input", "eigh_values", "eigh_vectors"]
    svd = gad.trace(lambda A: np.linalg.svd(A, full_matrices=False).S, normal(3, 2))
    assert [node.op for node in svd.nodes] == ["input", "svd_u", "svd_values", "svd_vh"]
    A = normal(3, 2)
    np.testing.assert_allclose(gad.trace(lambda A: np.linalg.svdvals(A), A).value,
                               np.linalg.svd(A, compute_uv=False), rtol=1e-12)


def test_det_of_a_singular_matrix_has_the_adjugate_as_gradient():
    """∂ det X/∂X = adj(X)ᵀ, defined even where X⁻¹ is not (det X · X⁻ᵀ would be 0 · ∞)."""
    X = np.array([[1.0, 2.0], [2.0, 4.0]])
    graph = gad.trace(lambda X: np.linalg.det(X), X)
    np.testing.assert_allclose(graph.grad("X"), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)
    X3 = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    assert_jacobian_matches(gad.trace(lambda X: np.linalg.det(X), X3).output, 0)


def test_repeated_eigenvalues():
    """Documented: eigenvalues keep a gradient at a repeated eigenvalue; eigenvectors have
    none there (they may turn freely inside the eigenspace), which shows as non-finite."""
    identity = np.eye(3)
    values = gad.trace(lambda S: np.sum(np.linalg.eigh(S)[0]), identity)
    np.testing.assert_allclose(values.grad("S"), np.eye(3), atol=1e-12)  # d trace = I
    vectors = gad.trace(lambda S: np.sum(np.linalg.eigh(S)[1] * normal(3, 3)), identity)
    with np.errstate(invalid="ignore"):
        assert not np.all(np.isfinite(vectors.grad("S")))


def test_forward_and_reverse_jacobians_agree():
    A, B = invertible(2, 3, 3), normal(3, 2)
    graph = gad.trace(lambda A, B: np.linalg.inv(A[0]) @ np.linalg.solve(A, B), A, B)
    for name in ("A", "B"):
        np.testing.assert_allclose(graph.jacobian(name), graph.jacobian(name, "forward"),
                                   rtol=1e-10, atol=1e-12)


def test_rule_texts():
    def rules(f, *arrays):
        node = gad.trace(f, *arrays).output
        return [node.jacobian(i).rule for i in range(len(node.inputs))]

    assert rules(lambda X: np.linalg.inv(X), invertible(2, 2)) == ["∂X⁻¹ = −X⁻¹ (∂X) X⁻¹"]
    assert rules(lambda X: np.linalg.det(X), invertible(2, 2)) == [
        "∂ det X/∂X = det X · X⁻ᵀ"]
    assert rules(lambda A, b: np.linalg.solve(A, b), invertible(2, 2), normal(2)) == [
        "∂u₁ = −A⁻¹ (∂A) u₁", "A⁻¹"]
    assert rules(lambda A, B: np.linalg.solve(A, B), invertible(3, 2, 2), normal(2, 4)) == [
        "∂u₁ = −A⁻¹ (∂A) u₁ (for each matrix in the stack)",
        "A⁻¹ ⊗ I (for each matrix in the stack)"]
    assert rules(lambda S: np.linalg.eigh(S)[1], spd(2, 2)) == [
        "∂V = V (F ∘ Vᵀ (∂S) V), Fᵢⱼ = 1/(λⱼ − λᵢ)"]


def test_errors_name_the_function_and_line():
    with pytest.raises(gad.ShapeError, match=r"np.linalg.inv of shape \(2, 3\) at "
                                             r"test_coverage_linalg.py:\d+: needs a square"):
        gad.trace(lambda A: np.linalg.inv(A), normal(2, 3))
    with pytest.raises(gad.UnsupportedOperation, match=r"full_matrices=False"):
        gad.trace(lambda A: np.linalg.svd(A)[0], normal(3, 2))
    with pytest.raises(gad.UnsupportedOperation, match=r"hermitian=True\) at .*py:\d+"):
        gad.trace(lambda S: np.linalg.svd(S, hermitian=True)[0], spd(2, 2))
    rotation = np.array([[0.0, -1.0], [1.0, 0.0]])
    with pytest.raises(gad.UnsupportedOperation, match=r"complex eigenvalues.*eigh"):
        gad.trace(lambda A: np.linalg.eig(A)[0], rotation)
    with pytest.raises(np.linalg.LinAlgError, match=r"inv at test_coverage_linalg.py:\d+ "
                                                     r"\(.*\): Singular matrix"):
        gad.trace(lambda A: np.linalg.inv(A), np.zeros((2, 2)))
    with pytest.raises(np.linalg.LinAlgError, match=r"cholesky at .*py:\d+.*positive definite"):
        gad.trace(lambda A: np.linalg.cholesky(A), -np.eye(2))


def test_rules_in_denominator_layout_keep_the_stack_note():
    from graphviz_ad.render.text import transposed_rule

    node = gad.trace(lambda A, B: np.linalg.solve(A, B), invertible(3, 2, 2), normal(2, 4)).output
    assert transposed_rule(node.jacobian(1).rule) == "(A⁻¹)ᵀ ⊗ I (for each matrix in the stack)"


def test_no_derivative_at_a_singular_point_is_an_error_naming_the_node():
    graph = gad.trace(lambda X: np.linalg.slogdet(X)[1], np.array([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(np.linalg.LinAlgError, match=r"logabsdet\(X\) at .*py:\d+.*−∞"):
        graph.grad("X")
