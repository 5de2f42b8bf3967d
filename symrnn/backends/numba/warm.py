"""A compiler process's warm-up: what numba compiles once per process, before any task.

The first compile in a process initialises numba's typing and target contexts, and each
NumPy-API call a generated source makes (np.empty, np.zeros, np.full of a dtype and a
rank, np.ascontiguousarray for a reshape, max and min of scalars) compiles its
implementation once per process and signature. A worker (background.py) that function()
started early may be idle before its first task: it compiles these small functions then,
in memory (the point is this process's own caches), a piece at a time, and stops before
the next piece as soon as a task is waiting; one that gets its task at once skips it all.

The pieces hold what the float32 training steps W3 and W4 compile besides their own code
(numba's compile events): after them W4's source compiled in 4.2 s instead of 6.3 s and
W3's in 10.7 s instead of 11.5 s (process time, min of 3, a shared 2-core machine); they
cost about 3 s themselves, so they pay only in time the worker would have waited.
"""
import numpy as np
from numba import njit, types

from symrnn.backends.numba import runtime as rt


def _allocate32(n, x3):
    # a float32 training step: allocations of rank 1-3, zero-filled ones, checks, a
    # float64 sum cast back, a tuple holding a 0-d result
    if not (n > 0):
        raise ValueError(0)
    a1 = np.empty((n,), np.float32)
    a2 = np.empty((n, n), np.float32)
    a3 = np.empty((n, n, n), np.float32)
    z2 = np.full((n, n), np.float32(0.0), np.float32)
    for i in range(n):
        a1[i] = np.float32(rt.maximum(np.float32(x3[0, 0, i]), np.float32(0.0)))
        for j in range(n):
            a2[i, j] = z2[i, j] + a1[j]
            a3[0, i, j] = a2[i, j]
    m = -np.inf
    m = max(m, a2[0, 0])
    acc = np.full((n,), np.float64(0.0), np.float64)
    # gradients' zero-filled accumulators
    zeros = (np.zeros((n,), np.float32), np.zeros((n, n), np.float32),
             np.zeros((n, n, n), np.float32), np.zeros((n,), np.float64),
             np.zeros((n, n), np.float64))
    return (rt.as0d(np.float32(m), np.float32), a3, acc.astype(np.float32), zeros)


def _reshape32(n, x3):
    # Reshape's checks and copies: of a whole input, of a reversed view, of a product
    if not (min(n, n, 0) >= 0 and min(n, n, n, 0) >= 0):
        raise ValueError(0)
    flat = np.ascontiguousarray(x3).reshape((x3.shape[0] * x3.shape[1], x3.shape[2]))
    back = np.ascontiguousarray(x3[::-1]).reshape((x3.shape[0] * x3.shape[1], x3.shape[2]))
    return flat, back, np.ascontiguousarray(flat).reshape((n, n, 1))


def _array(dtype, ndim):
    return types.Array(dtype, ndim, "C")


PIECES = [(_allocate32, (types.int64, _array(types.float32, 3))),
          (_reshape32, (types.int64, _array(types.float32, 3)))]


def warm_up(waiting=lambda: False):
    """Compile the pieces in memory, stopping before the next one once ``waiting()``."""
    for fn, sig in PIECES:
        if waiting():
            return
        njit(nogil=True, error_model="numpy")(fn).compile(sig)
