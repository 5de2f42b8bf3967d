"""The compiled MRG generator the generated sources call as ``rnd`` (mrg.py writes the calls).

``mrg_uniform_f64`` / ``_f32``: a loop over the draw's elements, element i advancing stream
``i % n_streams`` with the NumPy reference's own ``mrg_next``, so the numbers equal the NumPy
backend's bit for bit and no Python runs per element or per scan step.
"""
import numpy as np
from numba import njit

from symrnn.ops import random as R

_next = njit(inline="always", cache=True, nogil=True)(R.mrg_next)


@njit(cache=True, nogil=True)
def _ints(rstate, n):
    state = rstate.copy()
    ns = state.shape[0]
    ints = np.empty(n, np.int64)
    for i in range(n):
        j = i % ns
        a, b, c, d, e, f, out = _next(np.int64(state[j, 0]), np.int64(state[j, 1]),
                                      np.int64(state[j, 2]), np.int64(state[j, 3]),
                                      np.int64(state[j, 4]), np.int64(state[j, 5]))
        state[j, 0], state[j, 1], state[j, 2] = a, b, c
        state[j, 3], state[j, 4], state[j, 5] = d, e, f
        ints[i] = out
    return state, ints


@njit(cache=True, nogil=True)
def mrg_uniform_f64(rstate, n):
    state, ints = _ints(rstate, n)
    out = np.empty(n, np.float64)
    for i in range(n):
        out[i] = np.float64(ints[i]) * R.NORM64
    return state, out


@njit(cache=True, nogil=True)
def mrg_uniform_f32(rstate, n):
    state, ints = _ints(rstate, n)
    out = np.empty(n, np.float32)
    norm = np.float32(R.NORM32)
    for i in range(n):
        out[i] = np.float32(ints[i]) * norm
    return state, out
