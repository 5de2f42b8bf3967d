"""Bad input to scan gives a clear TypeError/ValueError naming the problem and the user's line."""
import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from helpers import MODES

x, h0, W = T.matrix("x"), T.vector("h"), T.matrix("W")


def test_wrong_arity_lists_what_scan_passes():
    with pytest.raises(TypeError) as e:
        symrnn.scan(lambda a, b: a, sequences=x, outputs_info=h0, non_sequences=W)
    msg = str(e.value)
    assert ("x[t] from sequences[0], h[t-1] from outputs_info[0], W from non_sequences[0]"
            in msg)
    assert "scan/test_errors.py" in msg


def test_fed_back_output_of_another_dtype():
    with pytest.raises(TypeError) as e:
        symrnn.scan(lambda a, h: T.cast(a + h, "float32"), sequences=x, outputs_info=h0)
    msg = str(e.value)
    assert "float32" in msg and "float64" in msg and "T.cast" in msg
    assert "scan/test_errors.py" in msg


def test_fed_back_output_of_another_broadcastable_pattern():
    x3 = T.tensor3("x3")
    with pytest.raises(TypeError) as e:
        symrnn.scan(lambda a, h: h + a, sequences=x3, outputs_info=T.row("r"))
    assert "T.unbroadcast" in str(e.value) and "Row" in str(e.value)


def test_fed_back_output_of_another_rank():
    with pytest.raises(TypeError, match="as many dimensions"):
        symrnn.scan(lambda h: h.sum(), outputs_info=h0, n_steps=3)


def test_number_of_outputs_must_match_outputs_info():
    with pytest.raises(ValueError, match="returned 2 outputs but outputs_info has 1"):
        symrnn.scan(lambda h: [h, h], outputs_info=[h0], n_steps=3)


@pytest.mark.parametrize("n_steps, exc, text", [
    (-2, ValueError, "positive"), (0, ValueError, "positive"),
    (2.5, TypeError, "integer"), (T.scalar("n"), TypeError, "integer scalar")])
def test_bad_n_steps(n_steps, exc, text):
    with pytest.raises(exc, match=text):
        symrnn.scan(lambda h: h, outputs_info=h0, n_steps=n_steps)


def test_no_sequence_and_no_n_steps():
    with pytest.raises(ValueError, match="n_steps"):
        symrnn.scan(lambda h: h, outputs_info=h0)


def test_taps_inconsistent_with_the_initial_value():
    with pytest.raises(ValueError, match="leading axis of length 2"):
        symrnn.scan(lambda a, b: a + b, outputs_info=dict(initial=T.scalar("s"),
                                                          taps=[-2, -1]), n_steps=3)
    with pytest.raises(ValueError, match="negative"):
        symrnn.scan(lambda a: a, outputs_info=dict(initial=h0, taps=[1]), n_steps=3)
    out, _ = symrnn.scan(lambda a, b: a + b, outputs_info=dict(initial=h0, taps=[-2, -1]),
                         n_steps=3)
    f = symrnn.function([h0], out, mode="NUMPY")
    with pytest.raises(ValueError, match=r"3 rows .* need 2") as e:
        f(np.ones(3))
    assert "scan/test_errors.py" in str(e.value)


def test_zero_length_sequence_and_negative_symbolic_n_steps_at_run_time():
    out, _ = symrnn.scan(lambda a, h: a + h, sequences=x, outputs_info=h0)
    f = symrnn.function([x, h0], out, mode="NUMPY")
    with pytest.raises(ValueError, match="0 steps"):
        f(np.ones((0, 3)), np.ones(3))
    n = T.lscalar("n")
    out, _ = symrnn.scan(lambda h: h * 2, outputs_info=h0, n_steps=n)
    with pytest.raises(ValueError, match="-1 steps"):
        symrnn.function([h0, n], out, mode="NUMPY")(np.ones(3), -1)


def test_a_step_changing_the_state_shape():
    out, _ = symrnn.scan(lambda a, h: T.concatenate([h, a])[:a.shape[0] - 1], sequences=x,
                         outputs_info=h0)
    f = symrnn.function([x, h0], out, mode="NUMPY")
    with pytest.raises(ValueError, match=r"shape \(2,\).*keep the shape \(3,\)"):
        f(np.ones((2, 3)), np.zeros(3))


def test_scalar_sequence_and_strict_mode():
    with pytest.raises(TypeError, match="scalar"):
        symrnn.scan(lambda a: a, sequences=T.scalar("s"))
    Wsh = symrnn.shared(np.ones(3), name="Wsh")
    with pytest.raises(ValueError, match="strict=True but fn uses Wsh"):
        symrnn.scan(lambda a: a * Wsh, sequences=x, strict=True)
    out, _ = symrnn.scan(lambda a, w: a * w, sequences=x, non_sequences=Wsh, strict=True)
    assert out.type.ndim == 2


def test_update_of_a_non_shared_variable():
    with pytest.raises(TypeError, match="not a shared variable"):
        symrnn.scan(lambda a: (a, {h0: h0 + 1}), sequences=x)


def test_an_error_inside_a_step_names_the_node_the_step_and_the_loop():
    h, _ = symrnn.scan(lambda xt, h, W: T.tanh(T.dot(h, W) + xt), sequences=x,
                       outputs_info=h0, non_sequences=W)
    f = symrnn.function([x, h0, W], h, mode="NUMPY")
    with pytest.raises(ValueError) as e:
        f(np.ones((3, 4)), np.ones(3), np.ones((3, 3)))
    msg = str(e.value)
    assert "Elemwise{add}" in msg and "during step 0" in msg and "scan/test_errors.py" in msg


@pytest.mark.parametrize("mode", MODES)
def test_run_time_checks_say_the_same_on_every_backend(mode):
    # one compiled function per backend (Scan.check_steps and Scan.store_step, shared)
    xs, hs, n, k = T.dmatrix("x"), T.dmatrix("h0"), T.lscalar("n"), T.lscalar("k")
    h, _ = symrnn.scan(lambda a, h2, h1, k: (h1 + 0.5 * h2 + a)[:k], sequences=xs, n_steps=n,
                       outputs_info=dict(initial=hs, taps=[-2, -1]), non_sequences=k)
    f = symrnn.function([xs, hs, n, k], h, mode=mode)
    x_ok, h_ok = np.ones((4, 3)), np.zeros((2, 3))
    assert f(x_ok, h_ok, 3, 3).shape == (3, 3)
    cases = [((x_ok, h_ok, 0, 3), r"the loop would run 0 steps: sequences must not be empty"),
             ((x_ok, h_ok, 5, 3), r"sequence 0 has 4 entries, fewer than the 5 steps"),
             ((x_ok, h_ok[:1], 3, 3), r"output 0 has 1 rows \(shape \(1, 3\)\) but its taps "
                                      r"\[-2, -1\] need 2"),
             ((x_ok, h_ok, 3, 2), r"step 0 produced output 0 of shape \(2,\), but it must keep "
                                  r"the shape \(3,\)")]
    for values, message in cases:
        with pytest.raises(ValueError, match=r"^Scan\{scan\}: .*" + message):
            f(*values)
