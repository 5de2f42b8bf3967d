"""Concurrent calls: every shared-variable update lands (no lost update), also when several
functions update the same variable; calls without updates take no lock."""
import threading

import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from helpers import MODES


def _hammer(fn, n_threads, n_calls, *args):
    start = threading.Barrier(n_threads)
    errors = []

    def work():
        try:
            start.wait()
            for _ in range(n_calls):
                fn(*args)
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(e)
    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@pytest.mark.parametrize("mode", MODES)
def test_no_update_is_lost_across_threads(mode):
    count = symrnn.shared(np.int64(0), name="count")
    acc = symrnn.shared(np.zeros(2000), name="acc")
    x = T.vector("x")
    # enough work per call that threads overlap inside it (numba releases the GIL)
    inc = symrnn.function([x], T.tanh(x).sum(), mode=mode,
                          updates=[(count, count + 1), (acc, acc + T.exp(-x * x))])
    v = np.linspace(-1, 1, 2000)
    _hammer(inc, 8, 150, v)
    assert int(count.get_value()) == 1200
    np.testing.assert_allclose(acc.get_value(), 1200 * np.exp(-v * v))


@pytest.mark.parametrize("mode", MODES)
def test_functions_without_updates_run_concurrently_and_right(mode):
    x = T.vector("x")
    f = symrnn.function([x], T.exp(x).sum(), mode=mode)
    assert f._cell is None
    _hammer(f, 4, 50, np.ones(100))
    assert "Threads" in type(f).__doc__ and "lock" in type(f).__doc__


@pytest.mark.parametrize("mode", MODES)
def test_functions_updating_the_same_variable_share_one_lock(mode):
    count = symrnn.shared(np.int64(0), name="count")
    other = symrnn.shared(np.int64(0), name="other")
    lone = symrnn.shared(np.int64(0), name="lone")
    x = T.vector("x")
    work = T.tanh(x).sum()
    f = symrnn.function([x], work, mode=mode, updates=[(count, count + 1)])
    g = symrnn.function([x], work, mode=mode, updates=[(other, other + 1)])
    h = symrnn.function([x], work, mode=mode, updates=[(count, count + 2), (other, other + 3)])
    k = symrnn.function([x], work, mode=mode, updates=[(lone, lone + 1)])
    assert f._cell.root() is g._cell.root() is h._cell.root()  # h merged f's and g's
    assert k._cell.root() is not f._cell.root()
    v = np.ones(20000)
    threads = [threading.Thread(target=_hammer, args=(fn, 2, 100, v)) for fn in (f, g, h, k)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert int(count.get_value()) == 200 + 2 * 200
    assert int(other.get_value()) == 200 + 3 * 200
    assert int(lone.get_value()) == 200
