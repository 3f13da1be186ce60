"""graphviz-ad explain FILE INPUT: why a gradient is zero, from the command line (exit 0),
with the user's names shown as text; and item assignment as a reason for a zero gradient."""

import numpy as np

import graphviz_ad as gad
from tests.test_cli import run, script


def test_the_inactive_neuron_is_explained_by_its_relu(capsys):
    status, out, err = run(capsys, "explain", "neuron", "w", "--graph", "neuron#2")
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "∂/∂w is zero because:"
    assert lines[1].startswith("- u₃ = maximum(0, u₂) at neuron.py:")
    assert "is inactive: u₂ = −1 ≤ 0, so its derivative [u₂ > 0] is 0" in lines[1]
    assert len(lines) == 2


def test_every_graph_is_explained_under_its_name(capsys):
    status, out, _ = run(capsys, "explain", "neuron", "b")
    assert status == 0
    assert out.splitlines()[:2] == ["neuron#1:", "∂/∂b = 1 is not zero."]
    assert "neuron#2:" in out and "∂/∂b is zero because:" in out and "inactive" in out


def test_an_unknown_input_is_a_usage_error(capsys):
    status, out, err = run(capsys, "explain", "neuron", "q", "--graph", "neuron#2")
    assert status == 2 and out == ""
    assert "explain: neuron has no node 'q'; its nodes are w, x, b" in err


def test_the_users_names_are_shown_not_obeyed(capsys, tmp_path):
    path = script(tmp_path, """
        import numpy as np
        import graphviz_ad as gad

        def f(x):
            return np.maximum(0.0, x) * 2.0

        f.__name__ = "evil\\x1b[2J"
        gad.trace(f, -1.0)
        gad.trace(f, 3.0)
    """)
    status, out, _ = run(capsys, "explain", path, "x")
    assert status == 0
    assert "\x1b" not in out and "evil\\x1b[2J#1:" in out
    assert "is inactive: x = −1 ≤ 0" in out and "∂/∂x = 2 is not zero." in out


def test_an_overwritten_array_gets_no_gradient(capsys, tmp_path):
    path = script(tmp_path, """
        import numpy as np
        import graphviz_ad as gad

        def overwrite(x, v):
            a = x * 2.0
            a[:] = v
            return np.sum(a)

        gad.trace(overwrite, np.array([1.0, 2.0, 3.0]), 5.0)
    """)
    status, out, _ = run(capsys, "explain", path, "x")
    assert status == 0
    assert out.splitlines()[0] == "∂/∂x is zero because:"
    assert "u₂ = u₁[:] ← v at model.py:7" in out
    assert "overwrites every entry of u₁: an overwritten entry passes no gradient" in out


def test_entries_overwritten_in_part_are_named_with_their_count():
    def overwrite_one(x, v):
        a = x * 2.0
        a[1] = v
        return np.sum(a)

    explanation = gad.trace(overwrite_one, np.array([1.0, 2.0, 3.0]), 5.0).explain("x")
    assert explanation.zero_count == 1
    assert [reason.kind for reason in explanation.reasons] == ["overwritten"]
    assert "overwrites 1 of the 3 entries of u₁" in explanation.text
    np.testing.assert_array_equal(explanation.gradient, [2.0, 0.0, 2.0])


def test_a_nan_gradient_is_traced_to_where_it_was_born(capsys, tmp_path):
    path = script(tmp_path, """
        import numpy as np
        import graphviz_ad as gad

        def safe_root(x):
            return np.where(x > 0, np.sqrt(x), 0.0)

        gad.trace(safe_root, -1.0)
    """)
    with np.errstate(invalid="ignore", divide="ignore"):
        status, out, _ = run(capsys, "explain", path, "x")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "∂/∂x = NaN is not finite:"
    assert "∂u₁/∂x = 1/(2√x) of u₁ = sqrt(x) at model.py:6" in lines[1]
    assert "is not finite at x = −1" in lines[1]
    assert lines[1].endswith("hidden from the output by u₂ = where(c, u₁, 0) at model.py:6 "
                             "(`return np.where(x > 0, np.sqrt(x), 0.0)`)")


def test_some_entries_not_finite_and_some_zero_are_both_explained():
    def f(x):
        return np.sum(np.log(x) * np.array([1.0, 1.0, 0.0]))

    with np.errstate(divide="ignore", invalid="ignore"):
        explanation = gad.trace(f, np.array([0.0, 1.0, 2.0])).explain("x")
    assert explanation.nonfinite_count == 1 and explanation.zero_count == 1
    lines = explanation.text.splitlines()
    assert lines[0] == "1 of the 3 entries of ∂/∂x are NaN or infinite:"
    assert "1/x" in lines[1] and "not finite at x = [0, 1, 2]" in lines[1]
    assert lines[2] == "1 of the 3 entries are zero; the gradient stops at:"
    assert [reason.kind for reason in explanation.reasons] == ["not_finite", "zero_factor"]


def test_a_non_scalar_output_is_explained_for_the_sum_of_its_entries(capsys, tmp_path):
    path = script(tmp_path, """
        import numpy as np
        import graphviz_ad as gad

        gad.trace(lambda x: np.maximum(0, x), np.array([-1.0, 2.0]))
    """)
    status, out, _ = run(capsys, "explain", path, "x")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == ("(the output has shape (2,): this is the gradient of the sum of its "
                        "entries, seed ȳ = 1)")
    assert lines[1] == "1 of the 2 entries of ∂/∂x are zero; the gradient stops at:"
    assert "is inactive at 1 of 2 elements" in lines[2]
