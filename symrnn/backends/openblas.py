"""NumPy's bundled OpenBLAS, found once: its gemm symbols and its thread count.

Both CPU backends use it. The numba backend calls ``cblas_?gemm`` as external symbols
(``BLAS``: prefix, suffix, library: numpy.libs / scipy_openblas name them with a ``scipy_``
prefix and a ``64_`` suffix). Both run a small product (fewer than ``SMALL_GEMM``
multiply-adds: an RNN's per-step products) on one thread: OpenBLAS's threads cost more than
they gain there, and far more on a busy machine (a 2-core machine under load spent 29 ms per
tiny NumPy product, against 0.1 ms on one thread).
"""
import ctypes
import glob
import os
from contextlib import contextmanager

import numpy as np

# below this many multiply-adds a product runs on one thread
SMALL_GEMM = 1 << 22


def _find():
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


BLAS = _find()


def _symbol(*names):
    lib = BLAS[2] if BLAS else None
    return next((getattr(lib, n) for n in names if lib is not None and hasattr(lib, n)), None)


_pre, _suf = BLAS[:2] if BLAS else ("", "")
# per calling thread (OpenBLAS 0.3.27+); returns the count it replaces
threads_local = _symbol("openblas_set_num_threads_local")
get_threads = _symbol(f"{_pre}openblas_get_num_threads{_suf}", "openblas_get_num_threads")
_set = _symbol(f"{_pre}openblas_set_num_threads{_suf}", f"{_pre}openblas_set_num_threads")


def set_threads(n):
    """Set the number of threads of NumPy's OpenBLAS (the one compiled code calls)."""
    if _set is not None:
        _set(int(n))


@contextmanager
def one_thread_if_small(multiply_adds):
    """Run the block's products on one BLAS thread (this thread only) if they are small."""
    if multiply_adds >= SMALL_GEMM or threads_local is None or get_threads is None or \
            get_threads() <= 1:
        yield
        return
    prev = threads_local(1)
    try:
        yield
    finally:
        threads_local(prev)
