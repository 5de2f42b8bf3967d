"""A NumPy-backed stand-in for the part of CuPy the cupy backend uses, for CPU-only tests.

``ndarray`` wraps a NumPy array and, like CuPy's, refuses implicit conversion
to NumPy (``np.asarray(a)`` raises TypeError; ``a.get()`` copies to the host),
so host/device mix-ups in the backend fail here as they would on a GPU.
Module functions are NumPy's, unwrapping and wrapping arrays.
``ElementwiseKernel`` and ``RawKernel`` compile the generated CUDA C source as
C++ with g++ (a header maps ``__global__``, ``threadIdx`` ... to host code) and
run it through ctypes, one simulated thread after another: the kernels'
arithmetic is checked on the CPU, not their GPU behaviour (launch sizes,
timing, memory coherence across threads).

Where the real CuPy is installed (it imports without a GPU), every call the
backend makes here is also checked against its API (cupy_api.py): a function,
method or argument the real CuPy lacks fails the test as it would on a GPU.
"""
import contextlib
import ctypes
import hashlib
import os
import subprocess
import sys
import tempfile
import types

import numpy as np

from symrnn.compile import fpmode

from . import cupy_api

STAND_IN = True  # tells this module from the real CuPy
_HEADER = r"""
#include <math.h>
#include <cmath>
#include <cstring>
static inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
static inline double __longlong_as_double(long long i) {
    double d; std::memcpy(&d, &i, 8); return d;
}
using std::isnan; using std::isinf;
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
struct sym_dim3 { unsigned int x, y, z; };
static sym_dim3 threadIdx, blockIdx, blockDim, gridDim;
extern "C" void sym_set_thread(unsigned int b, unsigned int t, unsigned int bd, unsigned int gd) {
    blockIdx.x = b; threadIdx.x = t; blockDim.x = bd; gridDim.x = gd;
    blockIdx.y = blockIdx.z = threadIdx.y = threadIdx.z = 0;
    blockDim.y = blockDim.z = gridDim.y = gridDim.z = 1;
}
"""
_C = {"bool": "bool", "int8": "signed char", "uint8": "unsigned char", "int16": "short",
      "uint16": "unsigned short", "int32": "int", "uint32": "unsigned int",
      "int64": "long long", "uint64": "unsigned long long", "float32": "float",
      "float64": "double"}
_CACHE_DIR = os.path.join(tempfile.gettempdir(), f"symrnn_cupy_on_cpu_{os.getuid()}")
COMPILED = []  # the kernel functions compiled in this process (tests count them)
CUDA_SOURCES = {}  # kernel name -> its CUDA C form (preamble left out), for NVRTC checks
_PENDING, _LIBS = {}, {}  # kernel name -> C++ function source / loaded library


def _compile(source):
    os.makedirs(_CACHE_DIR, exist_ok=True)
    key = hashlib.sha1(source.encode()).hexdigest()[:16]
    lib = os.path.join(_CACHE_DIR, f"k{key}.so")
    if not os.path.exists(lib):
        src = os.path.join(_CACHE_DIR, f"k{key}.cpp")
        with open(src, "w") as f:
            f.write(source)
        tmp = f"{lib}.{os.getpid()}"
        subprocess.run(["g++", "-O1", "-shared", "-fPIC", "-w", src, "-o", tmp], check=True)
        os.replace(tmp, lib)
    return ctypes.CDLL(lib)


def _register(name, code):
    """Queue a kernel; the first one called compiles every queued kernel in one g++ run."""
    from symrnn.backends.cupy.scalar_c import PREAMBLE
    if name not in _LIBS:
        _PENDING[name] = code.replace(PREAMBLE, "")


def _library(name):
    if name not in _LIBS:
        from symrnn.backends.cupy.scalar_c import PREAMBLE
        batch = dict(_PENDING)
        _PENDING.clear()
        lib = _compile("\n".join([_HEADER, PREAMBLE, *batch.values()]))
        COMPILED.extend(batch)
        _LIBS.update(dict.fromkeys(batch, lib))
    return _LIBS[name]


# ---- arrays ----

class ndarray:
    """A 'device' array: a NumPy array that must be moved to the host with ``get()``."""

    def __init__(self, a):
        self._a = a

    def get(self):
        return np.array(self._a)

    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. "
                        "Please use `.get()` to construct a NumPy array explicitly.")

    @property
    def __cuda_array_interface__(self):
        return {"shape": self._a.shape, "typestr": self._a.dtype.str, "version": 3,
                "data": (self._a.ctypes.data, False)}

    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    base = property(lambda self: self._a.base)
    T = property(lambda self: ndarray(self._a.T))
    flags = property(lambda self: self._a.flags)

    def __reduce__(self):  # pickles as CuPy's: back to a device array
        return ndarray, (np.array(self._a),)

    def __getattr__(self, name):
        if name.startswith("__") or name == "_a":  # (before __init__, as in unpickling)
            raise AttributeError(name)
        cupy_api.check_exists(f"cupy.ndarray.{name}")
        return _wrap_fn(getattr(self._a, name), f"cupy.ndarray.{name}", method=True)

    def __getitem__(self, idx):
        return _wrap(self._a[_unwrap(idx)])

    def __setitem__(self, idx, value):
        self._a[_unwrap(idx)] = _unwrap(value)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        raise TypeError("iterating a device array is slow; use .get() or tolist()")

    def __int__(self):
        return int(self._a)

    def __float__(self):
        return float(self._a)

    def __bool__(self):
        return bool(self._a)

    def __index__(self):
        return int(self._a)

    def __repr__(self):
        return f"fake_cupy.{self._a!r}"


def _operator(name):
    def op(self, *args):
        return _wrap(getattr(self._a, name)(*_unwrap(args)))
    return op


for _name in ("add radd sub rsub mul rmul truediv rtruediv floordiv rfloordiv mod rmod pow "
              "rpow neg pos abs invert and rand or ror xor rxor lt le gt ge eq ne matmul "
              "iadd isub imul itruediv").split():
    setattr(ndarray, f"__{_name}__", _operator(f"__{_name}__"))
ndarray.__hash__ = None


def _unwrap(x):
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap(v) for k, v in x.items()}
    if isinstance(x, np.ndarray):
        raise TypeError("a NumPy array was passed where CuPy expects a device array")
    return x


def _wrap(x):
    if isinstance(x, np.ndarray):
        return ndarray(x)
    if isinstance(x, np.generic):
        return ndarray(np.asarray(x))
    if isinstance(x, (list, tuple)):
        return type(x)(_wrap(v) for v in x)
    return x


def _wrap_fn(fn, path=None, method=False):
    if not callable(fn):
        return _wrap(fn)

    def wrapped(*args, **kwargs):
        if path:
            cupy_api.check_call(path, args, kwargs, method)
        return _wrap(fn(*_unwrap(args), **_unwrap(kwargs)))
    return wrapped


# ---- module-level functions ----

def asarray(x, dtype=None):
    cupy_api.check_call("cupy.asarray", (x,), {"dtype": dtype})
    if isinstance(x, ndarray):
        return x if dtype is None or x.dtype == dtype else ndarray(x._a.astype(dtype))
    return ndarray(np.array(x, dtype=dtype))  # host -> device is a copy


def array(x, dtype=None, copy=True):
    cupy_api.check_call("cupy.array", (x,), {"dtype": dtype, "copy": copy})
    return ndarray(np.array(_unwrap(x) if isinstance(x, ndarray) else x, dtype=dtype))


def asnumpy(x):
    return x.get() if isinstance(x, ndarray) else np.asarray(x)


def ascontiguousarray(x, dtype=None):
    cupy_api.check_call("cupy.ascontiguousarray", (x,), {"dtype": dtype})
    return ndarray(np.ascontiguousarray(_unwrap(x), dtype=dtype))


def _params(text):
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        dtype, name = part.split()
        out.append((str(np.dtype(dtype)), name))
    return out


class ElementwiseKernel:
    """cupy.ElementwiseKernel with concrete types: broadcasting, one loop over elements."""

    def __init__(self, in_params, out_params, operation, name="kernel", preamble="",
                 options=()):
        cupy_api.construct("cupy.ElementwiseKernel", (in_params, out_params, operation, name),
                           {"preamble": preamble, "options": options})
        self.ins, self.outs = _params(in_params), _params(out_params)
        self.name, self.options = name, tuple(options)
        args = ["long long n"] + [f"const {_C[d]}* p_{n}" for d, n in self.ins] + \
            [f"{_C[d]}* p_{n}" for d, n in self.outs]
        body = [f"const {_C[d]} {n} = p_{n}[i];" for d, n in self.ins]
        body += [f"{_C[d]} {n};" for d, n in self.outs] + [operation + ";"]  # as CuPy adds
        body += [f"p_{n}[i] = {n};" for d, n in self.outs]
        head = f'extern "C" void {name}({", ".join(args)}) {{'
        _register(name, "\n".join([preamble, head, "for (long long i = 0; i < n; ++i) {",
                                   *body, "}}"]))
        CUDA_SOURCES[name] = "\n".join([  # the same, one element per thread
            preamble, head.replace('extern "C" void', 'extern "C" __global__ void'),
            "long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;",
            "if (i >= n) return;", *body, "}"])

    def __call__(self, *args):
        if len(args) != len(self.ins):
            raise TypeError(f"{self.name}: expected {len(self.ins)} inputs, got {len(args)}")
        arrays = []
        for (dtype, name), a in zip(self.ins, args):
            if not isinstance(a, ndarray):
                raise TypeError(f"{self.name}: input {name} is {type(a).__name__}, not a "
                                "device array")
            if str(a.dtype) != dtype:
                raise TypeError(f"{self.name}: input {name} has dtype {a.dtype}, the kernel "
                                f"takes {dtype}")
            arrays.append(a._a)
        shape = np.broadcast_shapes(*[a.shape for a in arrays])
        ins = [np.ascontiguousarray(np.broadcast_to(a, shape)) for a in arrays]
        outs = [np.empty(shape, dtype) for dtype, _ in self.outs]
        ptrs = [ctypes.c_void_p(a.ctypes.data) for a in ins + outs]
        with _flush_mode(self.options):
            getattr(_library(self.name), self.name)(ctypes.c_longlong(int(np.prod(shape))),
                                                    *ptrs)
        outs = [ndarray(o) for o in outs]
        return outs[0] if len(outs) == 1 else outs


_SCALARS = {np.dtype("int32"): ctypes.c_int, np.dtype("int64"): ctypes.c_longlong,
            np.dtype("uint32"): ctypes.c_uint, np.dtype("uint64"): ctypes.c_ulonglong,
            np.dtype("float32"): ctypes.c_float, np.dtype("float64"): ctypes.c_double}


class RawKernel:
    """cupy.RawKernel: ``kernel(grid, block, args)`` runs every (block, thread) in turn."""

    def __init__(self, code, name, options=()):
        cupy_api.construct("cupy.RawKernel", (code, name), {"options": options})
        self.code, self.name, self.options = code, name, tuple(options)
        CUDA_SOURCES[name] = code
        _register(name, code)

    def __call__(self, grid, block, args):
        if not (isinstance(grid, tuple) and isinstance(block, tuple)):
            raise TypeError(f"{self.name}: grid and block must be tuples (CuPy's are typed so)")
        cupy_api.check_call("cupy.RawKernel.__call__", (grid, block, args), {}, method=True)
        lib = _library(self.name)
        cargs = []
        for a in args:
            if isinstance(a, ndarray):  # the address of element 0, as CuPy passes it
                cargs.append(ctypes.c_void_p(a._a.ctypes.data))
            elif isinstance(a, np.generic):
                cargs.append(_SCALARS[a.dtype](a.item()))
            else:
                raise TypeError(f"{self.name}: pass numpy scalars or arrays, got {type(a)}")
        fn = getattr(lib, self.name)
        (gx,), (bx,) = tuple(grid), tuple(block)
        with _flush_mode(self.options):
            for b in range(gx):
                for t in range(bx):
                    lib.sym_set_thread(b, t, bx, gx)
                    fn(*cargs)


@contextlib.contextmanager
def _flush_mode(options):
    """NVRTC's --ftz=true on the CPU: the kernel runs with flush-to-zero (symrnn's fpmode)."""
    saved = fpmode.enter() if ("--ftz=true" in options or "-ftz=true" in options) else None
    try:
        yield
    finally:
        fpmode.leave(saved)


class _Device:
    """cupy.cuda.Device: one device, whose work is always done (the kernels ran already)."""

    def __init__(self, device=None):
        self.id = 0

    def synchronize(self):
        pass


cuda = types.SimpleNamespace(
    Device=_Device, runtime=types.SimpleNamespace(
        getDeviceCount=lambda: 1,
        getDeviceProperties=lambda device: {"name": b"CPU stand-in for CuPy"}))

# CuPy's atomicAdd takes these dtypes only: ``cupy.add.at`` with an integer-array
# index refuses the others (int8, int16, uint8, uint16, bool; int64 too before CuPy 14)
SCATTER_ADD_DTYPES = ("int32", "uint32", "uint64", "float16", "float32", "float64")


def _int_array_index(idx):
    parts = idx if isinstance(idx, tuple) else (idx,)
    return any(isinstance(p, (ndarray, np.ndarray, list)) and np.asarray(
        _unwrap(p) if isinstance(p, ndarray) else p).dtype.kind in "iu" for p in parts)


class ufunc:
    """A CuPy ufunc: a NumPy one on device arrays, with ``at`` refusing what CuPy refuses."""

    def __init__(self, np_ufunc):
        self._np = np_ufunc

    def __call__(self, *args, **kwargs):
        return _wrap(self._np(*_unwrap(args), **_unwrap(kwargs)))

    def at(self, a, indices, b=None):
        cupy_api.check_call(f"cupy.{self._np.__name__}.at", (a, indices, b), {}, method=True)
        if not isinstance(a, ndarray):
            raise TypeError(f"{self._np.__name__}.at: a must be a device array")
        if self._np is np.add and _int_array_index(indices) and \
                a.dtype.name not in SCATTER_ADD_DTYPES:
            raise TypeError("scatter_add only supports int32, float16, float32, float64, "
                            "uint32, uint64, as data type")
        value = _unwrap(b)
        if isinstance(value, np.ndarray):  # CuPy casts the values to a's dtype first
            value = value.astype(a.dtype)
        self._np.at(a._a, _unwrap(indices), value)


add = ufunc(np.add)


def _scatter_add(a, idx, value):
    import warnings
    warnings.warn("cupyx.scatter_add is deprecated: use cupy.add.at", DeprecationWarning,
                  stacklevel=2)
    add.at(a, idx, value)


cupyx = types.ModuleType("cupyx")  # installed as the module cupyx next to this one
cupyx.scatter_add = _scatter_add
newaxis = None
inf, nan = np.inf, np.nan


def __getattr__(name):
    value = getattr(np, name)
    cupy_api.check_exists(f"cupy.{name}")
    if isinstance(value, type) and issubclass(value, np.generic):
        return value  # cupy.float32 is numpy.float32
    return _wrap_fn(value, f"cupy.{name}")


def install():
    """Put this module in ``sys.modules['cupy']`` (and its ``cupyx`` in ``sys.modules``)."""
    cupy_api.real_cupy()
    sys.modules["cupy"] = sys.modules[__name__]
    sys.modules["cupyx"] = cupyx


# ---- pytest: run the cupy backend on this stand-in or on a real GPU ----

RUNTIME_MODULES = ("symrnn.backends.cupy.runtime", "symrnn.backends.cupy.translations",
                   "symrnn.backends.cupy.scan_runtime", "symrnn.backends.cupy.rng")
GPU_REQUIRED = "CuPy and a GPU are required"


def installed():
    """Whether ``import cupy`` gives this stand-in."""
    return sys.modules.get("cupy") is sys.modules[__name__]


def real_gpu():
    """Whether the real CuPy imports and sees a GPU (False while this stand-in is installed)."""
    if installed():
        return False
    from symrnn.backends.cupy import available
    return available()


def _forget_runtime():
    """Drop the backend's CuPy-bound modules: from sys.modules and as package attributes.

    ``from symrnn.backends.cupy import translations`` takes the package attribute
    when there is one, so a module left there would keep its old ``cupy``.
    """
    import symrnn.backends.cupy as package
    gone = {}
    for k in RUNTIME_MODULES:
        gone[k] = (sys.modules.pop(k, None), package.__dict__.pop(k.rsplit(".", 1)[1], None))
    return gone


class on_cpu:
    """Context manager: ``import cupy`` gives this stand-in; the backend's runtime re-imports.

    On exit the modules it imported are dropped and the ones from before come
    back, in ``sys.modules`` and as attributes of ``symrnn.backends.cupy``.
    """

    def __enter__(self):
        cupy_api.real_cupy()  # imported before the stand-in takes its name
        self.saved = {k: sys.modules.pop(k) for k in ("cupy", "cupyx") if k in sys.modules}
        self.saved_runtime = _forget_runtime()
        install()
        return sys.modules[__name__]

    def __exit__(self, *exc):
        import symrnn.backends.cupy as package
        for k in ("cupy", "cupyx"):
            sys.modules.pop(k, None)
        sys.modules.update(self.saved)
        _forget_runtime()
        for k, (module, attribute) in self.saved_runtime.items():
            if module is not None:
                sys.modules[k] = module
            if attribute is not None:
                setattr(package, k.rsplit(".", 1)[1], attribute)
