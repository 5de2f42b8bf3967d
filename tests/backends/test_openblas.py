"""NumPy's OpenBLAS: small products on one thread, in the NumPy backend as in compiled code."""
import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T
from symrnn.backends import openblas

pytestmark = pytest.mark.skipif(openblas.BLAS is None or openblas.threads_local is None,
                                reason="NumPy's bundled OpenBLAS (0.3.27+) not found")


@pytest.fixture
def two_threads():
    before = openblas.get_threads()
    openblas.set_threads(2)
    yield
    openblas.set_threads(before)


def test_small_products_run_on_one_thread_and_the_count_comes_back(two_threads):
    with openblas.one_thread_if_small(100):
        assert openblas.get_threads() == 1
    assert openblas.get_threads() == 2
    with pytest.raises(RuntimeError):
        with openblas.one_thread_if_small(100):
            raise RuntimeError("inside")
    assert openblas.get_threads() == 2
    with openblas.one_thread_if_small(openblas.SMALL_GEMM):
        assert openblas.get_threads() == 2


def test_numpy_backend_runs_a_small_dot_on_one_thread(two_threads, monkeypatch):
    seen = []
    real = np.dot

    def spy(a, b, *rest):
        seen.append(openblas.get_threads())
        return real(a, b, *rest)
    x, w = T.matrix("x"), T.matrix("w")
    f = theano.function([x, w], [T.dot(x, w), T.batched_dot(x.dimshuffle("x", 0, 1),
                                                            w.dimshuffle("x", 0, 1))],
                        mode="NUMPY")
    a, b = np.ones((4, 3)), np.ones((3, 2))
    monkeypatch.setattr(np, "dot", spy)
    monkeypatch.setattr(np, "matmul", spy)
    out = f(a, b)
    assert seen and set(seen) == {1}
    assert np.allclose(out[0], 3.0) and np.allclose(out[1], 3.0)
    assert openblas.get_threads() == 2
