"""Concurrent calls of one function: every shared-variable update lands (no lost update)."""
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
    assert f._lock is None
    _hammer(f, 4, 50, np.ones(100))
    assert "Threads" in type(f).__doc__ and "lock" in type(f).__doc__
