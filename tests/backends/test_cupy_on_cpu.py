"""The CPU stand-in for CuPy itself: it leaves no stale modules behind, and it checks the
backend's calls against the real CuPy's API where that is installed."""
import importlib.util
import inspect
import os
import shutil
import sys
import types
import warnings

import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from tests.backends import cupy_api
from tests.backends.cupy_on_cpu import RUNTIME_MODULES, on_cpu

pytestmark = pytest.mark.skipif(shutil.which("g++") is None,
                                reason="g++ is required to run generated kernels on the CPU")


def second_stand_in():
    """A fresh copy of the stand-in module, playing the real CuPy imported before the tests."""
    path = os.path.join(os.path.dirname(__file__), "cupy_on_cpu.py")
    spec = importlib.util.spec_from_file_location("tests.backends.other_cupy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def other_cupy():
    """``import cupy`` gives another module (as on a GPU machine); all restored afterwards."""
    import symrnn.backends.cupy as package
    names = ("cupy", "cupyx") + RUNTIME_MODULES
    saved = {k: sys.modules.get(k) for k in names}
    attrs = {k: package.__dict__.get(k.rsplit(".", 1)[1]) for k in RUNTIME_MODULES}
    other = second_stand_in()
    sys.modules["cupy"], sys.modules["cupyx"] = other, other.cupyx
    for k in RUNTIME_MODULES:
        sys.modules.pop(k, None)
        package.__dict__.pop(k.rsplit(".", 1)[1], None)
    yield other
    for k, v in saved.items():
        if v is None:
            sys.modules.pop(k, None)
        else:
            sys.modules[k] = v
    for k, v in attrs.items():
        name = k.rsplit(".", 1)[1]
        if v is None:
            package.__dict__.pop(name, None)
        else:
            setattr(package, name, v)


def test_leaving_the_stand_in_gives_back_the_runtime_bound_to_the_real_cupy(other_cupy):
    import symrnn.backends.cupy as package
    from symrnn.backends.cupy import runtime, scan_runtime, translations
    from symrnn.ops.blas import Dot
    assert runtime.cp is other_cupy and translations.cp is other_cupy
    x = T.dmatrix("x")
    with on_cpu() as fake:
        f = symrnn.function([x], T.dot(T.exp(x), x) + 1, mode="CUPY")
        assert package.runtime.cp is fake and package.translations.cp is fake
        assert package.runtime.translate.dispatch(Dot) is not \
            package.runtime.translate.dispatch(object)  # registered on the runtime in use
        f(np.eye(2))
    # the modules (and package attributes) from before are back, none bound to the stand-in
    for name, module in (("runtime", runtime), ("translations", translations),
                         ("scan_runtime", scan_runtime)):
        assert getattr(package, name) is module
        assert sys.modules[f"symrnn.backends.cupy.{name}"] is module
    from symrnn.backends.cupy import runtime as again, translations as again_t
    assert again is runtime and again_t.cp is other_cupy
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Dot, Elemwise: translated, not run on the host
        g = symrnn.function([x], T.dot(T.exp(x), x) + 1, mode="CUPY")
    assert np.allclose(g(np.eye(2)), np.exp(np.eye(2)) @ np.eye(2) + 1)


# ---- the real CuPy's API ----

def test_docstring_signatures_of_compiled_functions_are_read():
    def fake(doc):
        return types.SimpleNamespace(__doc__=doc)
    sig = cupy_api.doc_signature(fake(
        "RawKernel(str code, str name, tuple options=(), str backend='nvrtc', *, "
        "bool enable_cooperative_groups=False, jitify=None)\n\nUser-defined custom kernel."))
    assert list(sig.parameters) == ["code", "name", "options", "backend",
                                    "enable_cooperative_groups", "jitify"]
    sig.bind("src", "k", enable_cooperative_groups=True)
    with pytest.raises(TypeError):
        sig.bind("src", "k", "opts", "nvrtc", True)  # keyword-only
    sig = cupy_api.doc_signature(fake("_ndarray_base.astype(self, dtype, order='K', "
                                      "casting=None, subok=None, copy=True) -> _ndarray_base"))
    sig.bind(None, "float32", copy=False)
    with pytest.raises(TypeError):
        sig.bind(None, "float32", where=True)
    sig = cupy_api.doc_signature(fake("RawKernel.__call__(self, grid, block, args, **kwargs)"))
    assert str(sig) == "(self, grid, block, args, **kwargs)"
    assert cupy_api.doc_signature(fake("Casts the array.")) is None
    assert cupy_api.doc_signature(fake("f(x=__import__('os').getcwd())")).parameters["x"] \
        .default is None  # defaults are never evaluated


def test_calls_the_real_cupy_would_refuse_fail_on_the_stand_in(monkeypatch):
    real = types.ModuleType("cupy")
    real.__version__ = "0.test"

    def asarray(a, dtype=None, order=None, *, copy=None, blocking=False):
        pass
    real.asarray = asarray
    real.sum = lambda a, axis=None, dtype=None, out=None, keepdims=False: None
    real.ndarray = type("ndarray", (), {"astype": lambda self, dtype, copy=True: None})
    monkeypatch.setattr(cupy_api, "_REAL", [real])
    with on_cpu() as fake:
        x = fake.asarray(np.ones(3))
        fake.sum(x, axis=0)
        x.astype("float32", copy=False)
        with pytest.raises(TypeError, match=r"cupy.sum.*real CuPy 0.test would refuse.*where"):
            fake.sum(x, where=np.ones(3, bool))
        with pytest.raises(TypeError, match=r"cupy.ndarray.astype.*would refuse"):
            x.astype("float32", casting="unsafe")
        with pytest.raises(AttributeError, match="real CuPy 0.test has no such attribute"):
            fake.busday_count
        with pytest.raises(AttributeError, match="cupy.ndarray.tolist"):
            x.tolist()


REAL = cupy_api.real_cupy()


@pytest.mark.skipif(REAL is None, reason="the real CuPy is required to check its API")
def test_the_real_cupys_api_is_checked_where_it_is_installed():
    assert not getattr(REAL, "STAND_IN", False) and REAL.__version__
    with on_cpu() as fake:
        x = fake.asarray(np.ones(3))
        with pytest.raises(TypeError, match=f"real CuPy {REAL.__version__} would refuse"):
            fake.sum(x, where=np.ones(3, bool))  # NumPy takes where=, CuPy does not
        with pytest.raises(AttributeError):
            fake.busday_count
        with pytest.raises(TypeError, match="refuses these arguments"):
            fake.ElementwiseKernel("float32", "float32 y", "y = 1", "k")  # no name
        sig = cupy_api.signature(REAL.RawKernel.__call__)
        assert sig is not None and "grid" in sig.parameters
    assert inspect.ismodule(REAL)
