"""NanGuardMode (Theano's name and options): raise at the first op producing NaN/Inf/big."""
import pickle

import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from symrnn.compile.nanguardmode import NanGuardMode
from helpers import MODES

GUARDED = [m for m in MODES if m in ("NUMPY", "NUMBA")]


def _f(mode, **flags):
    x = T.vector("x")
    w = symrnn.shared(np.ones(2), name="w")
    y = T.log(x) * 2 + 1  # the line a NaN error must name
    out = (y * w).sum()
    f = symrnn.function([x], out, mode=NanGuardMode(linker=mode, **flags),
                        updates=[(w, w + 1)])
    return f, w


@pytest.mark.parametrize("mode", GUARDED)
def test_good_values_pass_and_agree_with_the_plain_function(mode):
    f, w = _f(mode)
    x = T.vector("x")
    plain = symrnn.function([x], (T.log(x) * 2 + 1).sum(), mode=mode)
    assert f(np.array([1.0, 2.0])) == pytest.approx(plain(np.array([1.0, 2.0])))
    np.testing.assert_array_equal(w.get_value(), [2.0, 2.0])
    assert f.mode == mode


@pytest.mark.parametrize("mode", GUARDED)
@pytest.mark.parametrize("value, what", [([-1.0, 1.0], "NaN"), ([0.0, 1.0], "Inf")])
def test_the_first_op_producing_nan_or_inf_is_named_with_the_users_line(mode, value, what):
    f, w = _f(mode)
    with pytest.raises(AssertionError) as e:
        f(np.array(value))
    msg = str(e.value)
    assert f"{what} in output 0 of Elemwise{{log}}" in msg
    assert "test_nanguardmode.py" in msg and "y = T.log(x) * 2 + 1" in msg
    np.testing.assert_array_equal(w.get_value(), [1.0, 1.0])  # the failed call changed nothing


@pytest.mark.parametrize("mode", GUARDED)
def test_inputs_and_big_values_are_checked_and_options_switch_checks_off(mode):
    f, _ = _f(mode)
    with pytest.raises(AssertionError, match=r"NaN in input 0 \(x\)"):
        f(np.array([np.nan, 1.0]))
    with pytest.raises(AssertionError, match=r"big value.*input 0 \(x\)"):
        f(np.array([1e11, 1.0]))
    lenient, _ = _f(mode, nan_is_error=False, big_is_error=False)
    assert np.isnan(lenient(np.array([-1.0, 1.0])))  # NaN allowed now
    with pytest.raises(AssertionError, match="Inf"):
        lenient(np.array([0.0, 1.0]))
    with pytest.raises(ValueError):
        NanGuardMode(False, False, False)


@pytest.mark.parametrize("mode", GUARDED)
def test_a_nan_inside_a_scan_names_the_op_the_step_and_the_loop(mode):
    x = T.vector("x")
    s, _ = symrnn.scan(lambda xt, h: T.sqrt(h - xt), sequences=x,
                       outputs_info=T.constant(1.0), name="drain")
    g = symrnn.function([x], s[-1], mode=NanGuardMode(True, True, True, linker=mode))
    assert g(np.array([0.1, 0.1])) == pytest.approx(np.sqrt(np.sqrt(0.9) - 0.1))
    with pytest.raises(AssertionError) as e:
        g(np.array([0.1, 0.5, 2.0]))
    msg = str(e.value)
    assert "NaN in output 0 of Elemwise{sqrt}" in msg and "step 2" in msg
    assert "Scan{drain}" in msg and "T.sqrt(h - xt)" in msg


def test_theano_import_paths_and_pickling():
    import symrnn.compile
    from symrnn.compile.nanguardmode import NanGuardMode as N
    assert symrnn.compile.NanGuardMode is N
    f, _ = _f("NUMPY")
    f2 = pickle.loads(pickle.dumps(f))
    with pytest.raises(AssertionError, match="Elemwise{log}"):
        f2(np.array([-1.0, 1.0]))


@pytest.mark.parametrize("mode", GUARDED)
def test_a_nan_masked_later_is_still_found(mode):
    x = T.vector("x")
    y = T.log(x)  # NaN for x < 0, then masked: no output shows it
    out = T.switch(T.isnan(y), 0.0, y).sum()
    f = symrnn.function([x], out, mode=NanGuardMode(linker=mode))
    assert f(np.array([1.0, np.e])) == pytest.approx(1.0)
    with pytest.raises(AssertionError, match=r"NaN in output 0 of Elemwise{log}.*\n.*y = T.log"):
        f(np.array([-1.0, 1.0]))
