"""numba's compiler set up once per process without SciPy's linalg (numba/warm.py)."""
import importlib.util
import subprocess
import sys
import textwrap
import threading

import pytest

pytest.importorskip("numba")

from symrnn.backends.numba import warm  # noqa: E402

NEEDS_SCIPY = pytest.mark.skipif(importlib.util.find_spec("scipy") is None,
                                 reason="SciPy is not installed: nothing to leave out")


def _run(code):
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@NEEDS_SCIPY
def test_the_compiler_is_set_up_without_scipy_linalg_and_numbas_own_dot_still_works():
    out = _run("""
        import sys
        import numpy as np
        from symrnn.backends.numba import warm
        warm.prepare()
        print("after prepare:", "scipy.linalg" in sys.modules)
        import numba
        from numba.np import arraymath
        print("blas:", arraymath._HAVE_BLAS)

        @numba.njit
        def product(a, b):
            return np.dot(a, b)
        a = np.arange(6.0).reshape(2, 3)
        print("dot ok:", np.allclose(product(a, a.T), a @ a.T))
        print("after dot:", "scipy.linalg" in sys.modules)
    """)
    assert out.split("\n")[:4] == ["after prepare: False", "blas: True", "dot ok: True",
                                   "after dot: True"]


@NEEDS_SCIPY
def test_a_generated_function_compiles_after_the_set_up():
    out = _run("""
        import sys
        import numpy as np
        import symrnn, tempfile
        import symrnn.tensor as T
        symrnn.config.compiledir = tempfile.mkdtemp()
        symrnn.config.compile = "foreground"
        x, w = T.matrix("x"), T.matrix("w")
        f = symrnn.function([x, w], T.nnet.relu(T.dot(x, w)).sum(axis=0), mode="NUMBA")
        a = np.arange(6, dtype=symrnn.config.floatX).reshape(2, 3) - 2
        print(np.allclose(f(a, a.T), np.maximum(a @ a.T, 0).sum(0), atol=1e-5),
              "scipy.linalg" in sys.modules)
    """)
    assert out.split("\n")[0] == "True False"


def test_the_import_block_holds_only_for_the_thread_that_set_it_up():
    finder = warm._WithoutScipyLinalg()
    with pytest.raises(ImportError):
        finder.find_spec("scipy.linalg")
    with pytest.raises(ImportError):
        finder.find_spec("scipy.linalg.cython_blas")
    assert finder.find_spec("scipy") is None and finder.find_spec("scipy.linalgx") is None
    elsewhere = []
    t = threading.Thread(target=lambda: elsewhere.append(finder.find_spec("scipy.linalg")))
    t.start()
    t.join()
    assert elsewhere == [None]


def test_prepare_runs_once():
    warm.prepare()
    assert warm._prepared
    before = list(sys.meta_path)
    warm.prepare()
    assert sys.meta_path == before
