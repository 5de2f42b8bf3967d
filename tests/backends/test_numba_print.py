"""Print inside a scan step on the numba backend: compiled (nopython print, no Python per
step) and printing exactly what the NumPy backend prints, in step order."""
import warnings

import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T
from symrnn.printing import Print

pytest.importorskip("numba")


def printed(capsys, fn, *args):
    result = fn(*args)
    return result, capsys.readouterr().out


def both(capsys, inputs, outputs, *values, **kw):
    """The printed text and results of NUMPY and NUMBA; NUMBA must not fall back to Python."""
    f_np = theano.function(inputs, outputs, mode="NUMPY", **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "no translation for PrintOp" would fail here
        f_nb = theano.function(inputs, outputs, mode="NUMBA", **kw)
    r_np, out_np = printed(capsys, f_np, *values)
    r_nb, out_nb = printed(capsys, f_nb, *values)
    for a, b in zip(r_np if isinstance(r_np, list) else [r_np],
                    r_nb if isinstance(r_nb, list) else [r_nb]):
        np.testing.assert_array_equal(a, b)
    assert "print(" in f_nb.source()
    return out_np, out_nb


def test_print_in_a_scan_step_prints_each_step_like_numpy(capsys):
    # float32 values whose Python-float form differs from NumPy's ("0.1" vs 0.10000000149)
    x = T.fmatrix("x")

    def step(x_t, acc):
        acc = acc + Print("acc")(x_t).sum()
        return Print('say "hi"\n', attrs=("shape", "__str__", "dtype"))(acc)
    out, _ = theano.scan(step, sequences=x, outputs_info=T.constant(np.float32(0)),
                         go_backwards=True, unroll=2)
    total = Print("total", attrs=("ndim", "size", "__str__"))(out)
    xv = np.arange(15, dtype=np.float32).reshape(5, 3) / 10
    out_np, out_nb = both(capsys, [x], total, xv)
    assert out_nb == out_np
    lines = out_np.splitlines()
    assert lines[0] == "acc [1.2 1.3 1.4]"  # the last row first: go_backwards, in step order
    assert lines[1] == 'say "hi"'
    assert lines[2] == " shape = () 3.9 dtype = float32"
    assert len(lines) == 3 * 5 + 1 and lines[-1].startswith("total ndim = 1 size = 5 [")


def test_print_in_a_nested_scan(capsys):
    X = T.dmatrix("X")

    def row(r):
        p, _ = theano.scan(lambda v, acc: Print("inner")(acc * v), sequences=r,
                           outputs_info=T.constant(1.0))
        return Print("row")(p[-1])
    prods, _ = theano.scan(row, sequences=X)
    out_np, out_nb = both(capsys, [X], prods, np.arange(1.0, 7.0).reshape(2, 3))
    assert out_nb == out_np
    assert out_np.splitlines() == ["inner 1.0", "inner 2.0", "inner 6.0", "row 6.0",
                                   "inner 4.0", "inner 20.0", "inner 120.0", "row 120.0"]
