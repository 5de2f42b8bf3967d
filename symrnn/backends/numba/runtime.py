"""Small njit helpers the generated sources call: scalar functions and matrix products.

Matrix products call the OpenBLAS that NumPy bundles (``cblas_?gemm``, found in
numpy.libs / scipy_openblas, with its ``scipy_`` prefix and ``64_`` suffix) as an
external symbol, so compiled code that uses it can be cached on disk; without
that library a plain loop is used. The helpers are small and numba inlines them.
"""
import ctypes
import glob
import os

import llvmlite.binding as ll
import numpy as np
from numba import njit, types

JIT = dict(cache=True, nogil=True, error_model="numpy")


# ---- scalar functions with NumPy's meaning ----

@njit(inline="always", **JIT)
def maximum(a, b):
    return a if (a >= b or a != a) else b


@njit(inline="always", **JIT)
def minimum(a, b):
    return a if (a <= b or a != a) else b


@njit(**JIT)
def sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + np.exp(-x))
    e = np.exp(x)
    return e / (1.0 + e)


@njit(inline="always", **JIT)
def tanh32(x):
    """float32 tanh as a clamped rational function (Eigen's): arithmetic only, so the loops
    around it vectorise (libm's tanhf does not); error about 3e-7."""
    lim = np.float32(7.90531110763549805)
    x = min(max(x, -lim), lim)
    x2 = x * x
    p = x2 * np.float32(-2.76076847742355e-16) + np.float32(2.00018790482477e-13)
    p = x2 * p + np.float32(-8.60467152213735e-11)
    p = x2 * p + np.float32(5.12229709037114e-08)
    p = x2 * p + np.float32(1.48572235717979e-05)
    p = x2 * p + np.float32(6.37261928875436e-04)
    p = x2 * p + np.float32(4.89352455891786e-03)
    q = x2 * np.float32(1.19825839466702e-06) + np.float32(1.18534705686654e-04)
    q = x2 * q + np.float32(2.26843463243900e-03)
    q = x2 * q + np.float32(4.89352518554385e-03)
    return x * p / q


@njit(inline="always", **JIT)
def sigmoid32(x):
    return np.float32(0.5) + np.float32(0.5) * tanh32(np.float32(0.5) * x)


@njit(**JIT)
def softplus(x):
    return max(x, 0.0) + np.log1p(np.exp(-abs(x)))


@njit(**JIT)
def transpose(a, axes):
    """``a.transpose(axes)``: compiled once here, loaded from numba's cache after."""
    return a.transpose(axes)


@njit(**JIT)
def int_div(a, b):
    if b == 0:
        raise ZeroDivisionError("integer division by zero")
    return a // b


@njit(**JIT)
def int_mod(a, b):
    if b == 0:
        raise ZeroDivisionError("integer modulo by zero")
    return a % b


# ---- BLAS ----

def _find_blas():
    """(prefix, suffix, CDLL) of NumPy's bundled OpenBLAS, or None."""
    here = os.path.dirname(np.__file__)
    pats = [os.path.join(here, "..", "numpy.libs", "lib*openblas*.so*"),
            os.path.join(here, ".libs", "lib*openblas*"),
            os.path.join(here, "..", "scipy_openblas64", "lib", "lib*openblas*.so*"),
            os.path.join(here, "..", "scipy_openblas32", "lib", "lib*openblas*.so*")]
    for pat in pats:
        for path in sorted(glob.glob(pat)):
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for pre, suf in (("scipy_", "64_"), ("", "64_"), ("scipy_", ""), ("", "")):
                names = (f"{pre}cblas_dgemm{suf}", f"{pre}cblas_sgemm{suf}")
                if all(hasattr(lib, n) for n in names):
                    return pre, suf, lib
    return None


_BLAS = _find_blas()
HAVE_BLAS = _BLAS is not None
_I = types.int64
if HAVE_BLAS:
    _pre, _suf, _lib = _BLAS
    _int = _I if _suf.startswith("64") else types.int32
    for _t in "ds":
        _sym = f"{_pre}cblas_{_t}gemm{_suf}"
        ll.add_symbol(f"symrnn_{_t}gemm", ctypes.cast(getattr(_lib, _sym), ctypes.c_void_p).value)
    _sig = {t: types.void(_int, _int, _int, _int, _int, _int, f, types.intp, _int, types.intp,
                          _int, f, types.intp, _int)
            for t, f in (("d", types.float64), ("s", types.float32))}
    _dgemm = types.ExternalFunction("symrnn_dgemm", _sig["d"])
    _sgemm = types.ExternalFunction("symrnn_sgemm", _sig["s"])
    if hasattr(_lib, "openblas_set_num_threads_local"):
        _local = _lib.openblas_set_num_threads_local
    else:  # an older OpenBLAS: leave its threads alone
        _local = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda n: 1)
    ll.add_symbol("symrnn_blas_threads_local", ctypes.cast(_local, ctypes.c_void_p).value)
    _threads_local = types.ExternalFunction("symrnn_blas_threads_local",
                                            types.int32(types.int32))
    _get = getattr(_lib, f"{_pre}openblas_get_num_threads{_suf}",
                   getattr(_lib, "openblas_get_num_threads", None))
    if _get is None:  # no getter: assume threads, set one per small product as before
        _get = ctypes.CFUNCTYPE(ctypes.c_int)(lambda: 2)
    ll.add_symbol("symrnn_blas_threads", ctypes.cast(_get, ctypes.c_void_p).value)
    _threads = types.ExternalFunction("symrnn_blas_threads", types.int32())

# below this many multiply-adds a product runs on one thread: threading a small GEMM (the
# per-step products of an RNN) costs more than it gains, and far more on a busy machine
SMALL_GEMM = 1 << 22


def blas_threads(n):
    """Set the number of threads of NumPy's OpenBLAS (the one compiled code calls)."""
    if HAVE_BLAS:
        pre, suf, lib = _BLAS
        for name in (f"{pre}openblas_set_num_threads{suf}", f"{pre}openblas_set_num_threads"):
            if hasattr(lib, name):
                getattr(lib, name)(int(n))
                return


@njit(**JIT)
def _layout(a):
    """(cblas transpose flag, leading dimension) for a 2-d array, or (-1, 0) if unusable."""
    isz = a.itemsize
    r, c = a.shape
    s0, s1 = a.strides
    if (s1 == isz or c <= 1) and s0 % isz == 0 and s0 >= max(c, 1) * isz:
        return 111, s0 // isz
    if (s0 == isz or r <= 1) and s1 % isz == 0 and s1 >= max(r, 1) * isz:
        return 112, s1 // isz
    return -1, 0


@njit(**JIT)
def loop22(a, b, out):
    m, k = a.shape
    n = b.shape[1]
    for i in range(m):
        for j in range(n):
            out[i, j] = 0
        for p in range(k):
            aip = a[i, p]
            for j in range(n):
                out[i, j] += aip * b[p, j]


def _make_gemm(kind):
    if not HAVE_BLAS:
        @njit(**JIT)
        def gemm(a, b, out):
            loop22(a, b, out)
        return gemm
    # the closure holds only ``kind`` (numba prunes the other branch): numba's cache key
    # includes the pickled closure, and an ExternalFunction pickles differently in each
    # process, so a closure holding one was compiled anew in every process (~1 s each)
    @njit(**JIT)
    def gemm(a, b, out):
        m, k = a.shape
        n = b.shape[1]
        if m == 0 or n == 0:
            return
        if k == 0:
            out[:, :] = 0
            return
        ta, lda = _layout(a)
        if ta < 0:
            a = np.ascontiguousarray(a)
            ta, lda = _layout(a)
        tb, ldb = _layout(b)
        if tb < 0:
            b = np.ascontiguousarray(b)
            tb, ldb = _layout(b)
        # at one BLAS thread (the usual case in a loop) a small product needs no setup at all
        small = m * n * k < SMALL_GEMM and _threads() > 1
        if small:
            prev = _threads_local(1)
        if kind == "d":
            _dgemm(101, ta, tb, m, n, k, 1.0, a.ctypes.data, lda, b.ctypes.data, ldb, 0.0,
                   out.ctypes.data, n)
        else:
            _sgemm(101, ta, tb, m, n, k, 1.0, a.ctypes.data, lda, b.ctypes.data, ldb, 0.0,
                   out.ctypes.data, n)
        if small:
            _threads_local(prev)
    return gemm


dgemm = _make_gemm("d")
sgemm = _make_gemm("s")


@njit(**JIT)
def dot21(a, b, out):
    for i in range(a.shape[0]):
        acc = 0.0
        for p in range(a.shape[1]):
            acc += a[i, p] * b[p]
        out[i] = acc


@njit(**JIT)
def dot12(a, b, out):
    out[:] = 0
    for p in range(a.shape[0]):
        ap = a[p]
        for j in range(b.shape[1]):
            out[j] += ap * b[p, j]


@njit(**JIT)
def dot11(a, b):
    acc = 0.0
    for p in range(a.shape[0]):
        acc += a[p] * b[p]
    return acc


@njit(**JIT)
def as0d(x, dtype):
    """A 0-d array holding the scalar ``x``."""
    out = np.empty((), dtype)
    out[()] = x
    return out
