"""Random numbers in graphs: the MRG31k3p generator as an op (``MRGUniform``).

Every random draw of symrnn (RandomStreams, MRG_RandomStreams, dropout) starts
as uniform numbers from MRG31k3p (L'Ecuyer and Touzin, 2000), the generator of
Theano's ``theano.sandbox.rng_mrg``, computed exactly as Theano does. Its state
is small: one row of six int32 per stream, held in a shared variable; the op
reads a state matrix and returns the advanced matrix (the draw's default
update) and the numbers. Element ``i`` of a draw comes from stream
``i % n_streams``, so the NumPy reference advances all streams at once, one
round per ``n_streams`` elements, and the numba backend runs the same
``mrg_next`` compiled: the same state gives the same numbers on every backend.

A draw is a constant for ``grad``: the op has no gradient (distributions built
on it are ordinary arithmetic of its output).
"""
import numpy as np

from symrnn.graph import Apply, Op, op_error
from symrnn.tensor.basic import as_tensor_variable
from symrnn.types import TensorType

M1, M2 = 2147483647, 2147462579  # 2^31 - 1, 2^31 - 21069
NORM64 = 4.656612873077392578125e-10  # 1 / 2^31
NORM32 = np.float32(4.6566126e-10)
MAX_SAMPLES = M1  # as Theano: at most 2^31 - 1 numbers per draw

# jumps of 2^72 steps (between the streams of one draw) and of 2^134 (between draws)
A1P72 = ((1516919229, 758510237, 499121365), (1884998244, 1516919229, 335398200),
         (601897748, 1884998244, 358115744))
A2P72 = ((1228857673, 1496414766, 954677935), (1133297478, 1407477216, 1496414766),
         (2002613992, 1639496704, 1407477216))
A1P134 = ((1702500920, 1849582496, 1656874625), (828554832, 1702500920, 1512419905),
          (1143731069, 828554832, 102237247))
A2P134 = ((796789021, 1464208080, 607337906), (1241679051, 1431130166, 1464208080),
          (1401213391, 1178684362, 1431130166))


# ---- the generator: one step, on int64 scalars (numba) or arrays (NumPy) ----

def mrg_next(x11, x12, x13, x21, x22, x23):
    """One MRG31k3p step: (the new six state values, the output integer in [1, M1]).

    Branch-free int64 arithmetic that wraps as C's int32 does (``(v + W) & MASK32) - W``),
    so that the same source runs on NumPy arrays (all streams at once) and compiled by
    numba (the numba backend's rng translation)."""
    W, MASK32 = 2147483648, 4294967295
    y1 = ((((x12 & 511) << 22) + (x12 >> 9) + ((x13 & 16777215) << 7) + (x13 >> 24) + W)
          & MASK32) - W
    y1 = ((y1 - M1 * ((y1 < 0) | (y1 >= M1)) + W) & MASK32) - W
    y1 = ((y1 + x13 + W) & MASK32) - W
    y1 = ((y1 - M1 * ((y1 < 0) | (y1 >= M1)) + W) & MASK32) - W
    z1 = ((((x21 & 65535) << 15) + 21069 * (x21 >> 16) + W) & MASK32) - W
    z1 = ((z1 - M2 * ((z1 < 0) | (z1 >= M2)) + W) & MASK32) - W
    z2 = ((((x23 & 65535) << 15) + 21069 * (x23 >> 16) + W) & MASK32) - W
    z2 = ((z2 - M2 * ((z2 < 0) | (z2 >= M2)) + W) & MASK32) - W
    z2 = ((z2 + x23 + W) & MASK32) - W
    z2 = ((z2 - M2 * ((z2 < 0) | (z2 >= M2)) + W) & MASK32) - W
    z2 = ((z2 + z1 + W) & MASK32) - W
    z2 = ((z2 - M2 * ((z2 < 0) | (z2 >= M2)) + W) & MASK32) - W
    out = y1 - z2 + M1 * (y1 <= z2)
    return y1, x11, x12, z2, x21, x22, out


def mrg_fill(rstate, n, dtype):
    """(advanced copy of ``rstate``, ``n`` uniform numbers of ``dtype``): the reference."""
    state = np.array(rstate, dtype=np.int64)
    ints = np.empty(n, dtype=np.int64)
    ns = state.shape[0]
    for start in range(0, n, ns):
        k = min(ns, n - start)
        *new, out = mrg_next(*state[:k].T)
        state[:k] = np.stack(new, axis=1)
        ints[start:start + k] = out
    return state.astype(np.int32), to_unit(ints, dtype)


def to_unit(ints, dtype):
    """The generator's integers in [1, M1] as floats in (0, 1], as Theano's C code does."""
    if dtype == "float32":
        return ints.astype(np.float32) * NORM32
    return ints.astype(np.float64) * NORM64


# ---- seeding: streams 2^72 steps apart, draws 2^134 apart ----

def _matmul_mod(a, b, m):
    return tuple(tuple(sum(a[i][k] * b[k][j] for k in range(3)) % m for j in range(3))
                 for i in range(3))


def _matvec_mod(a, s, m):
    return np.stack([sum((int(a[i][k]) * s[..., k]) % m for k in range(3)) % m
                     for i in range(3)], axis=-1)


def jump(state, a1, a2):
    """Rows of ``state`` (..., 6) moved ahead by the jump matrices (a1 mod M1, a2 mod M2)."""
    s = np.asarray(state, dtype=np.int64)
    return np.concatenate([_matvec_mod(a1, s[..., :3], M1),
                           _matvec_mod(a2, s[..., 3:], M2)], axis=-1).astype(np.int32)


def substreams(start, n_streams):
    """An (n_streams, 6) int32 state: row i is ``start`` moved ahead by i * 2^72 steps
    (Theano's get_substream_rstates), by binary powers of the jump."""
    rows = np.repeat(np.asarray(start, np.int64).reshape(1, 6), n_streams, axis=0)
    idx = np.arange(n_streams)
    a1, a2, bit = A1P72, A2P72, 0
    while (n_streams - 1) >> bit:
        sel = (idx >> bit) & 1 == 1
        rows[sel] = jump(rows[sel], a1, a2)
        a1, a2, bit = _matmul_mod(a1, a1, M1), _matmul_mod(a2, a2, M2), bit + 1
    return rows.astype(np.int32)


def check_seed(seed):
    """A valid six-value MRG31k3p state from an int or six ints (Theano's rules), or raise."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed == 0 or not 0 < seed < M2:
            raise ValueError(f"MRG_RandomStreams: an int seed must be in 1 .. {M2 - 1}, "
                             f"got {seed}")
        return np.array([seed] * 6, dtype=np.int32)
    try:
        s = [int(v) for v in seed]
    except TypeError:
        raise TypeError(f"MRG_RandomStreams: seed must be an int or 6 ints, got {seed!r}") \
            from None
    if len(s) != 6:
        raise TypeError(f"MRG_RandomStreams: seed must be an int or 6 ints, got {len(s)}")
    if not all(0 <= v < M1 for v in s[:3]) or not any(s[:3]):
        raise ValueError(f"MRG_RandomStreams: the first 3 seed values must be in 0 .. "
                         f"{M1 - 1} and not all 0, got {s[:3]}")
    if not all(0 <= v < M2 for v in s[3:]) or not any(s[3:]):
        raise ValueError(f"MRG_RandomStreams: the last 3 seed values must be in 0 .. "
                         f"{M2 - 1} and not all 0, got {s[3:]}")
    return np.array(s, dtype=np.int32)


def guess_n_streams(size):
    """Theano's choice: one stream per 6 numbers, at most 60 * 256 (and 60 * 256 for a
    size known only when the function runs)."""
    if isinstance(size, (tuple, list)) and all(
            isinstance(s, (int, np.integer)) for s in size):
        r = int(np.prod(size, dtype=np.int64))
        return max(1, min(r // 6 if r > 6 else r, 60 * 256))
    return 60 * 256


# ---- the op ----

class MRGUniform(Op):
    """(state, size) -> (advanced state, uniform numbers of shape ``size`` in (0, 1]).

    ``state`` is an (n_streams, 6) int32 matrix, ``size`` an int64 vector of length
    ``ndim``. The outputs are the draw's new state (its shared variable's default
    update) and the numbers; float32 numbers are computed as Theano's C code does."""

    __props__ = ("dtype", "ndim")

    def __init__(self, dtype, ndim):
        self.dtype, self.ndim = str(dtype), int(ndim)
        if self.dtype not in ("float32", "float64"):
            raise TypeError(f"MRGUniform: dtype must be float32 or float64, got {dtype}")

    def make_node(self, rstate, size):
        from symrnn.tensor.math import cast
        rstate, size = as_tensor_variable(rstate), as_tensor_variable(size)
        if rstate.type.dtype != "int32" or rstate.type.ndim != 2:
            raise op_error(str(self), f"the state must be an int32 matrix, got {rstate.type}")
        if size.type.ndim != 1 or size.type.dtype[:3] not in ("int", "uin"):
            raise op_error(str(self), f"size must be an integer vector, got {size.type}")
        size = cast(size, "int64")
        bcast = [False] * self.ndim
        data = getattr(size, "data", None)
        if data is not None:
            if len(data) != self.ndim:
                raise op_error(str(self), f"size {tuple(data)} has {len(data)} entries, "
                               f"expected {self.ndim}", ValueError)
            bcast = [int(s) == 1 for s in data]
        return Apply(self, [rstate, size], [TensorType("int32", (False, False))(),
                                            TensorType(self.dtype, bcast)()])

    def perform(self, node, inputs):
        rstate, size = inputs
        shape = check_size(self, node, rstate, size)
        new_state, flat = mrg_fill(rstate, int(np.prod(shape, dtype=np.int64)), self.dtype)
        return [new_state, flat.reshape(shape)]

    def grad(self, inputs, output_grads):
        return [None, None]

    def connection_pattern(self, node):
        return [[False, False], [False, False]]


def check_size(op, node, rstate, size):
    """The shape ``size`` asks for, after the checks every backend makes."""
    if rstate.ndim != 2 or rstate.shape[1] != 6 or rstate.shape[0] < 1:
        raise op_error(str(op), f"the state must have shape (n_streams, 6), got "
                       f"{rstate.shape}", ValueError, node.trace)
    if len(size) != op.ndim:
        raise op_error(str(op), f"size has {len(size)} entries, expected {op.ndim}",
                       ValueError, node.trace)
    shape = tuple(int(s) for s in size)
    if any(s < 0 for s in shape):
        raise op_error(str(op), f"size {shape} has a negative entry", ValueError, node.trace)
    if int(np.prod(shape, dtype=np.int64)) > MAX_SAMPLES:
        raise op_error(str(op), f"size {shape} asks for more than 2^31 - 1 numbers",
                       ValueError, node.trace)
    return shape
