"""fn.source() / symrnn.printing.source(fn): the generated code, or why there is none."""
import pytest

import symrnn as theano
import symrnn.tensor as T
from helpers import MODES


def test_numpy_mode_says_it_generates_nothing():
    x = T.vector("x")
    f = theano.function([x], T.exp(x) * 2, mode="NUMPY")
    text = f.source()
    assert "generates no source" in text and "NUMBA" in text
    assert theano.printing.source(f) == text


@pytest.mark.skipif("NUMBA" not in MODES, reason="numba is not installed")
def test_numba_source_is_the_compiled_function():
    x = T.matrix("x")
    h, _ = theano.scan(lambda xt, hp: T.maximum(xt + 0.5 * hp, 0), sequences=x,
                       outputs_info=T.zeros_like(x[0]))
    f = theano.function([x], h, mode="NUMBA")
    src = theano.printing.source(f)
    assert src == f.source() and "@njit" in src and "def fn(" in src
    assert "for t" in src and "one loop with no per-step array" in src
    compile(src, "<generated>", "exec")  # valid Python
