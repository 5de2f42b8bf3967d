"""Small njit helpers the generated sources call: scalar functions and matrix products.

Matrix products call the OpenBLAS that NumPy bundles (``cblas_?gemm``, found by
symrnn/backends/openblas.py) as an external symbol, so compiled code that uses it can
be cached on disk; without that library a plain loop is used. The helpers are small and
numba inlines them.
"""
import ctypes

import llvmlite.binding as ll
import numpy as np
from numba import carray, farray, njit, types
from numba.core.extending import intrinsic
from numba.cpython.unsafe.tuple import tuple_setitem

from symrnn.backends import openblas
from symrnn.backends.numba import warm
from symrnn.compile import numba_load

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

_BLAS = openblas.BLAS
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
    # an older OpenBLAS without these: leave its threads alone / assume threads
    _local = openblas.threads_local or ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda n: 1)
    ll.add_symbol("symrnn_blas_threads_local", ctypes.cast(_local, ctypes.c_void_p).value)
    _threads_local = types.ExternalFunction("symrnn_blas_threads_local",
                                            types.int32(types.int32))
    _get = openblas.get_threads or ctypes.CFUNCTYPE(ctypes.c_int)(lambda: 2)
    ll.add_symbol("symrnn_blas_threads", ctypes.cast(_get, ctypes.c_void_p).value)
    _threads = types.ExternalFunction("symrnn_blas_threads", types.int32())

SMALL_GEMM = openblas.SMALL_GEMM


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


THIN = 4  # a large product with at most this many rows (m) or terms (k) runs as loops


@njit(**JIT)
def thin(a, b, out):
    """``out = a @ b`` for a large, thin ``a``: few terms per element (the input projection
    of a whole sequence with 2 features) or few rows (its weight gradient, a sum over 50,000
    rows, kept in float64). Measured on one thread, OpenBLAS took 3-30x longer on such
    products once they outgrow the caches ((20000, 2) @ (2, 128): 6.3 ms, loops 0.4 ms;
    (2, 20000) @ (20000, 128): 16 ms, loops 0.6 ms) and is faster on small ones."""
    m, k = a.shape
    n = b.shape[1]
    if k <= m:
        loop22(a, b, out)
        return
    acc = np.zeros((m, n), np.float64)
    for p in range(k):
        for i in range(m):
            aip = np.float64(a[i, p])
            for j in range(n):
                acc[i, j] += aip * b[p, j]
    for i in range(m):
        for j in range(n):
            out[i, j] = acc[i, j]


@intrinsic
def _ptr(typingctx, addr, like):
    """The byte address ``addr`` as a pointer to values of ``like``'s type."""
    def codegen(context, builder, sig, args):
        return builder.inttoptr(args[0], context.get_value_type(like).as_pointer())
    return types.CPointer(like)(types.intp, like), codegen


@njit(**JIT)
def _layout(r, c, s0, s1, isz):
    """(cblas transpose flag, leading dimension) of the r x c matrix with byte strides s0, s1,
    or (-1, 0) when BLAS cannot read it as it is."""
    if (s1 == isz or c <= 1) and s0 % isz == 0 and s0 >= max(c, 1) * isz:
        return 111, s0 // isz
    if (s0 == isz or r <= 1) and s1 % isz == 0 and s1 >= max(r, 1) * isz:
        return 112, s1 // isz
    return -1, 0


@njit(**JIT)
def _copy(p, r, c, s0, s1, isz, z, dst):
    """The r x c matrix at ``p`` written C-ordered at address ``dst``."""
    src, out = _ptr(p, z), _ptr(dst, z)
    for i in range(r):
        for j in range(c):
            out[i * c + j] = src[(i * s0 + j * s1) // isz]


@njit(**JIT)
def _gemm(m, n, k, a, ta, lda, b, tb, ldb, c, ldc, isz):
    # at one BLAS thread (the usual case in a loop) a small product needs no setup at all
    small = m * n * k < SMALL_GEMM and _threads() > 1
    if small:
        prev = _threads_local(1)
    if isz == 8:
        _dgemm(101, ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc)
    else:
        _sgemm(101, ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc)
    if small:
        _threads_local(prev)


@njit(**JIT)
def _product(m, n, k, a, a0, a1, b, b0, b1, c, ldc, isz, z):
    """``c = a @ b`` on byte addresses and strides (c row-major, ``ldc`` elements a row)."""
    if m == 0 or n == 0:
        return
    out = _ptr(c, z)
    if k == 0:
        for i in range(m):
            for j in range(n):
                out[i * ldc + j] = 0
        return
    if min(m, k) <= THIN and m * n * k >= SMALL_GEMM and b1 == isz and b0 == n * isz and \
            ldc == n:  # (each layout of ``a`` its own call: strided access does not vectorise)
        if a1 == isz and a0 == k * isz:
            thin(carray(_ptr(a, z), (m, k)), carray(_ptr(b, z), (k, n)), carray(out, (m, n)))
            return
        if a0 == isz and a1 == m * isz:
            thin(farray(_ptr(a, z), (m, k)), carray(_ptr(b, z), (k, n)), carray(out, (m, n)))
            return
    ta, lda = _layout(m, k, a0, a1, isz)
    tb, ldb = _layout(k, n, b0, b1, isz)
    if ta >= 0 and tb >= 0:  # the usual case (every step of a scan): nothing allocated
        _gemm(m, n, k, a, ta, lda, b, tb, ldb, c, ldc, isz)
        return
    size_a = (m * k * isz + 7) // 8  # C-ordered copies of what BLAS cannot read (8-aligned)
    keep = np.empty(size_a + (k * n * isz + 7) // 8 + 1, np.float64)
    if ta < 0:
        _copy(a, m, k, a0, a1, isz, z, keep.ctypes.data)
        a, ta, lda = keep.ctypes.data, 111, k
    if tb < 0:
        _copy(b, k, n, b0, b1, isz, z, keep.ctypes.data + 8 * size_a)
        b, tb, ldb = keep.ctypes.data + 8 * size_a, 111, n
    _gemm(m, n, k, a, ta, lda, b, tb, ldb, c, ldc, isz)
    keep[0] = 0.0  # (the copies live until BLAS has read them)


_RAW = types.void(*[types.intp] * 11)  # m n k, a a0 a1, b b0 b1, c ldc


_dproduct = types.ExternalFunction("symrnn_dproduct", _RAW)
_sproduct = types.ExternalFunction("symrnn_sproduct", _RAW)
_REGISTERED = set()


def _register(kind):
    """Compile (or load from numba's cache) the product of ``kind`` ('s', 'd') as a C
    function and register its address as the symbol ``symrnn_<kind>product``: a generated
    function calling it holds a call, not a copy of its code (numba links and optimises
    again the code of every njit function a function calls, for each layout of the
    arguments: ~0.25 s of cold compile per layout, in every generated function)."""
    if kind in _REGISTERED or not HAVE_BLAS:
        return
    isz, z = (8, np.float64(0)) if kind == "d" else (4, np.float32(0))

    def raw(m, n, k, a, a0, a1, b, b0, b1, c, ldc):
        _product(m, n, k, a, a0, a1, b, b0, b1, c, ldc, isz, z)
    raw.__name__ = raw.__qualname__ = f"{kind}product"  # (the cache file's name)
    compiled = numba_load.cfunc(raw, _RAW, warm.prepare, nopython=True, error_model="numpy")
    ll.add_symbol(f"symrnn_{kind}product", compiled.address)
    _REGISTERED.add(kind)


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
        """``out = a @ b`` (``out`` C-contiguous)."""
        call = _dproduct if kind == "d" else _sproduct
        call(a.shape[0], b.shape[1], a.shape[1], a.ctypes.data, a.strides[0], a.strides[1],
             b.ctypes.data, b.strides[0], b.strides[1], out.ctypes.data,
             out.strides[0] // out.itemsize)
    return gemm


def __getattr__(name):
    """``sgemm`` and ``dgemm`` on first use (their C function is compiled or loaded then:
    a program without matrix products never pays for it)."""
    if name not in ("sgemm", "dgemm"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _register(name[0])
    globals()[name] = fn = _make_gemm(name[0])
    return fn


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


# ---- NumPy's allocations, compiled once per machine ----
# numba compiles the implementation of np.empty, np.zeros, np.full, astype and reshape anew
# in every process, for each dtype and rank (about 2 s of a training step's cold compile);
# through these helpers it is loaded from numba's cache instead (prune.cached_calls)

@njit(**JIT)
def empty(shape, dtype=float):
    return np.empty(shape, dtype)


@njit(**JIT)
def zeros(shape, dtype=float):
    return np.zeros(shape, dtype)


@njit(**JIT)
def full(shape, value, dtype=None):
    return np.full(shape, value, dtype)


@njit(**JIT)
def astype(x, dtype):
    return x.astype(dtype)


@njit(**JIT)
def reshaped(x, shape):
    """``np.ascontiguousarray(x).reshape(shape)``."""
    return np.ascontiguousarray(x).reshape(shape)


@njit(**JIT)
def reshape_sizes(sizes, total):
    """``sizes`` for ``total`` elements with a -1 entry made whole (NumPy's reshape); its
    first entry is -1 when there is no such shape. One call instead of a dozen lines per
    Reshape, which took numba ~0.15 s each to compile."""
    known, n, bad = 1, 1, False
    for s in sizes:
        known *= s if s != -1 else 1
    for i in range(len(sizes)):
        if sizes[i] == -1 and known != 0:
            sizes = tuple_setitem(sizes, i, total // known)
        n, bad = n * sizes[i], bad or sizes[i] < 0
    return tuple_setitem(sizes, 0, -1) if bad or n != total else sizes


@njit(**JIT)
def copied(x):
    """``np.ascontiguousarray(x).copy()``: one copy (numba's copy is C-ordered)."""
    return x.copy()


# ---- copies into part of a buffer (a scan's rows): compiled once, not a loop nest each ----

@njit(**JIT)
def assign1(dst, src):
    """``dst[:len(src)] = src`` element by element (the leading part of ``dst``)."""
    for i in range(src.shape[0]):
        dst[i] = src[i]


@njit(**JIT)
def assign2(dst, src):
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[i, j] = src[i, j]


@njit(**JIT)
def assign3(dst, src):
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            for k in range(src.shape[2]):
                dst[i, j, k] = src[i, j, k]
