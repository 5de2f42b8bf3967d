"""MRGUniform -> a call of the compiled generator (the NumPy reference's own ``mrg_next``).

The generated source calls ``rnd.mrg_uniform_f64`` / ``_f32``: a loop over the draw's
elements, element i advancing stream ``i % n_streams``, so the numbers equal the NumPy
backend's bit for bit and no Python runs per element or per scan step.
"""
import numpy as np
from numba import njit

from symrnn.backends.numba.codegen import emit, tuple_text
from symrnn.ops import random as R

_next = njit(inline="always", cache=True, nogil=True)(R.mrg_next)
_M1 = R.M1


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


@emit.register(R.MRGUniform)
def _mrg_uniform(op, node, ctx):
    (rstate, size), (new_state, sample) = node.inputs, node.outputs
    st, sz = ctx.name(rstate), ctx.name(size)
    dims = [ctx.fresh("m") for _ in range(op.ndim)]
    ctx.check(f"{st}.shape[0] >= 1 and {st}.shape[1] == 6 and {sz}.shape[0] == {op.ndim}",
              node)
    total = ctx.fresh("m")
    ctx.line(f"{total} = 1")
    for k, d in enumerate(dims):
        ctx.line(f"{d} = np.int64({sz}[{k}])")
        ctx.check(f"{d} >= 0", node)
        ctx.line(f"{total} *= {d}")
    ctx.check(f"{total} <= {_M1}", node)
    state, flat = ctx.fresh("st"), ctx.fresh("u")
    fn = "mrg_uniform_f32" if op.dtype == "float32" else "mrg_uniform_f64"
    ctx.line(f"{state}, {flat} = rnd.{fn}({st}, {total})")
    ctx.define(new_state, state)
    if op.ndim == 0:
        out = ctx.fresh("s")
        ctx.line(f"{out} = {flat}[0]")
        ctx.define(sample, out)
    else:
        out = ctx.fresh("u")
        ctx.line(f"{out} = {flat}.reshape({tuple_text(dims)})")
        ctx.define(sample, out)
