"""GPU translations of the core ops, registered on ``runtime.translate`` by op class.

Each translation mirrors the op's NumPy ``perform`` with CuPy, including its
checks and error messages (so both backends fail the same way). Ops not
registered here (and Elemwise ops outside a fused group whose scalar op has
no CUDA form) run on the host through ``runtime.host_fallback``.
"""
import cupy as cp
import numpy as np

from symrnn.backends.cupy.fusion import FusedGroup, fusable, group_leaves
from symrnn.backends.cupy.runtime import fused_runner, host_fallback, to_device, to_host, translate
from symrnn.graph import op_error
from symrnn.ops import blas, elemwise, nnet, reduction, shape, sort, subtensor
from symrnn.ops.debug import PrintOp


def _ints(values):
    return tuple(int(v) for v in (values.tolist() if hasattr(values, "tolist") else values))


@translate.register(elemwise.Elemwise)
def _elemwise(op, node):
    # an Elemwise outside any fused group: a group of its own, or (literals only) the host
    if not fusable(node):
        return host_fallback(node)
    leaves = group_leaves([node])
    if leaves:
        return fused_runner(FusedGroup([node], leaves))
    return lambda *xs: [to_device(op.perform(node, [to_host(x) for x in xs])[0])]


@translate.register(elemwise.DimShuffle)
def _dimshuffle(op, node):
    def run(x):
        out_shape = [1 if i == "x" else x.shape[i] for i in op.new_order]
        return [to_device(x).transpose(op.shuffle + op.drop).reshape(out_shape)]
    return run


@translate.register(reduction.Reduce)
def _reduce(op, node):
    dtype = node.outputs[0].type.dtype
    fn = getattr(cp, op.kind)

    def run(x):
        x = to_device(x)
        if op.kind in ("max", "min", "argmax", "argmin") and x.size == 0 and op.axis:
            raise op_error(str(op), f"cannot reduce an empty array of shape {x.shape}",
                           ValueError, node.trace)
        if not op.axis and op.kind not in ("argmax", "argmin"):
            return [x.astype(dtype)]  # nothing to reduce: the value itself
        if op.kind in ("argmax", "argmin"):
            if x.ndim == 0:
                return [cp.zeros((), dtype=dtype)]
            return [fn(x, axis=op.axis[0] if len(op.axis) == 1 else None).astype(dtype)]
        return [cp.asarray(fn(x, axis=op.axis)).astype(dtype, copy=False)]
    return run


@translate.register(reduction.CumOp)
def _cumop(op, node):
    fn = cp.cumsum if op.mode == "add" else cp.cumprod
    return lambda x: [fn(to_device(x), axis=op.axis, dtype=node.outputs[0].type.dtype)]


@translate.register(blas.Dot)
def _dot(op, node):
    dtype = node.outputs[0].type.dtype

    def run(x, y):
        if x.shape[-1] != y.shape[0]:
            raise op_error("Dot", f"shapes {x.shape} ({x.dtype}) and {y.shape} ({y.dtype}) "
                           f"are not aligned: {x.shape[-1]} != {y.shape[0]}",
                           ValueError, node.trace)
        x, y = to_device(x).astype(dtype, copy=False), to_device(y).astype(dtype, copy=False)
        return [cp.asarray(cp.dot(x, y))]
    return run


@translate.register(blas.BatchedDot)
def _batched_dot(op, node):
    dtype = node.outputs[0].type.dtype

    def run(x, y):
        if x.shape[0] != y.shape[0] or x.shape[2] != y.shape[1]:
            raise op_error("BatchedDot", f"shapes {x.shape} and {y.shape} do not match "
                           "(need x (b, n, m) and y (b, m, k))", ValueError, node.trace)
        x, y = to_device(x).astype(dtype, copy=False), to_device(y).astype(dtype, copy=False)
        return [cp.matmul(x, y)]
    return run


@translate.register(shape.Shape)
def _shape(op, node):
    return lambda x: [np.asarray(x.shape, dtype="int64")]


@translate.register(shape.MakeVector)
def _make_vector(op, node):
    def run(*scalars):
        host = np.asarray([np.asarray(s.get() if isinstance(s, cp.ndarray) else s)
                           for s in scalars], dtype=op.dtype).reshape(len(scalars))
        return [host if op.dtype.startswith(("int", "uint")) else to_device(host)]
    return run


@translate.register(shape.Reshape)
def _reshape(op, node):
    def run(x, new_shape):
        new_shape = _ints(new_shape)
        if len(new_shape) != op.ndim:
            raise op_error("Reshape", f"shape {new_shape} has {len(new_shape)} entries, "
                           f"expected {op.ndim}", ValueError, node.trace)
        try:
            return [to_device(x).reshape(new_shape)]
        except ValueError:
            raise op_error("Reshape", f"cannot reshape an array of shape {x.shape} "
                           f"(size {x.size}) into shape {new_shape}",
                           ValueError, node.trace) from None
    return run


@translate.register(shape.Alloc)
def _alloc(op, node):
    def run(value, *dims):
        dims = _ints(dims)
        try:
            return [cp.array(cp.broadcast_to(to_device(value), dims))]
        except ValueError:
            raise op_error("Alloc", f"cannot broadcast a value of shape {value.shape} "
                           f"to shape {dims}", ValueError, node.trace) from None
    return run


@translate.register(shape.Join)
def _join(op, node):
    dtype = node.outputs[0].type.dtype

    def run(*xs):
        shapes = [x.shape for x in xs]
        if len({s[:op.axis] + s[op.axis + 1:] for s in shapes}) > 1:
            raise op_error("Join", f"cannot join shapes {shapes} on axis {op.axis}",
                           ValueError, node.trace)
        return [cp.concatenate([to_device(x).astype(dtype, copy=False) for x in xs],
                               axis=op.axis)]
    return run


@translate.register(shape.Rebroadcast)
def _rebroadcast(op, node):
    def run(x):
        for d, b in enumerate(op.broadcastable):
            if b and x.shape[d] != 1:
                raise op_error("Rebroadcast", f"axis {d} was declared broadcastable but has "
                               f"length {x.shape[d]} (shape {x.shape})", ValueError, node.trace)
        return [x]
    return run


@translate.register(shape.ARange)
def _arange(op, node):
    def run(start, stop, step):
        start, stop, step = (np.asarray(v.get() if isinstance(v, cp.ndarray) else v).item()
                             for v in (start, stop, step))
        if step == 0:
            raise op_error("ARange", f"step must not be zero (start={start}, stop={stop})",
                           ValueError, node.trace)
        return [cp.arange(start, stop, step, dtype=op.dtype)]
    return run


@translate.register(shape.Eye)
def _eye(op, node):
    def run(n, m, k):
        n, m, k = _ints((n, m, k))
        if n < 0 or m < 0:
            raise op_error("Eye", f"negative shape ({n}, {m})", ValueError, node.trace)
        return [cp.eye(n, m, k, dtype=op.dtype)]
    return run


def _region(node, x, idx):
    # integer indices are checked on the host, as NumPy would
    for d, i in enumerate(idx):
        if not isinstance(i, slice) and not -x.shape[d] <= i < x.shape[d]:
            raise op_error(str(node.op), f"index {idx} is out of range for shape {x.shape}: "
                           f"index {i} is out of bounds for axis {d} with size {x.shape[d]}",
                           IndexError, node.trace)
    return x[idx]


@translate.register(subtensor.Subtensor)
def _subtensor(op, node):
    def run(x, *values):
        # a host value (a shape) stays on the host
        return [_region(node, x, subtensor.build_index(op.idx_list, _ints(values)))]
    return run


@translate.register(subtensor.IncSubtensor)
def _inc_subtensor(op, node):
    def run(x, y, *values):
        idx = subtensor.build_index(op.idx_list, _ints(values))
        out = to_device(x).copy()
        rshape = _region(node, out, idx).shape
        ybc = node.inputs[1].type.broadcastable
        for k in range(1, y.ndim + 1):
            if not ybc[-k] and y.shape[-k] != rshape[-k]:
                raise op_error(str(op), f"cannot put a value of shape {y.shape} into a "
                               f"region of shape {rshape}", ValueError, node.trace)
        if op.set_instead_of_inc:
            out[idx] = to_device(y)
        else:
            out[idx] += to_device(y)
        return [out]
    return run


def _shifted(x):
    m = cp.max(x, axis=-1, keepdims=True) if x.shape[-1] else cp.full(x.shape[:-1] + (1,),
                                                                      -cp.inf, x.dtype)
    return x - cp.where(cp.isfinite(m), m, 0).astype(x.dtype)


@translate.register(nnet.Softmax)
def _softmax(op, node):
    def run(x):
        e = cp.exp(_shifted(to_device(x)))
        return [e / cp.sum(e, axis=-1, keepdims=True)]
    return run


@translate.register(nnet.LogSoftmax)
def _log_softmax(op, node):
    def run(x):
        s = _shifted(to_device(x))
        return [s - cp.log(cp.sum(cp.exp(s), axis=-1, keepdims=True))]
    return run


@translate.register(sort.Sort)
def _sort(op, node):
    return lambda x: [cp.sort(to_device(x), axis=op.axis)]


@translate.register(sort.ArgSort)
def _argsort(op, node):
    return lambda x: [cp.argsort(to_device(x), axis=op.axis).astype("int64")]


@translate.register(PrintOp)
def _print(op, node):
    def run(x):
        print(op.render(x.get() if isinstance(x, cp.ndarray) else x))
        return [x]
    return run


def _adv_index(node, x, idx_list, values):
    """The CuPy index for advanced ``idx_list``, integer arrays bounds-checked as NumPy does."""
    idx = subtensor.build_adv_index(
        idx_list, [v if isinstance(v, cp.ndarray) or np.ndim(v) == 0 else to_device(v)
                   for v in values])
    axis = 0
    for e in idx:
        if e is None:
            continue
        if isinstance(e, cp.ndarray) and e.dtype == bool:
            axis += e.ndim
            continue
        if isinstance(e, cp.ndarray) and e.size:
            n = x.shape[axis]
            lo, hi = int(e.min()), int(e.max())  # one small sync: CuPy would wrap silently
            if lo < -n or hi >= n:
                bad = hi if hi >= n else lo
                raise op_error(str(node.op), f"index {bad} is out of range for shape {x.shape}: "
                               f"index {bad} is out of bounds for axis {axis} with size {n}",
                               IndexError, node.trace)
        axis += 1
    return idx


@translate.register(subtensor.AdvancedSubtensor)
def _advanced_subtensor(op, node):
    def run(x, *values):
        x = to_device(x)
        return [x[_adv_index(node, x, op.idx_list, values)]]
    return run


# the dtypes CuPy's scatter add (atomicAdd) takes; int64 only from CuPy 14 on
_ATOMIC_ADD = ("int32", "uint32", "uint64", "float32", "float64")


def add_at(a, idx, values):
    """``numpy.add.at(a, idx, values)`` on the GPU, for every dtype (values of a's dtype).

    ``cupy.add.at`` refuses small integers and bools: those accumulate in int32
    (the sum modulo 2**32 agrees with NumPy's wrap-around modulo 2**8 or 2**16;
    a bool sum is non-zero exactly when NumPy's logical or is true), int64 as the
    same bits in uint64.
    """
    name = a.dtype.name
    if name in _ATOMIC_ADD:
        cp.add.at(a, idx, values)
    elif name == "int64":
        cp.add.at(a.view(cp.uint64), idx, values.astype(cp.uint64))
    else:
        wide = a.astype(cp.int32)
        cp.add.at(wide, idx, values.astype(cp.int32))
        a[...] = wide.astype(a.dtype)


@translate.register(subtensor.AdvancedIncSubtensor)
def _advanced_inc_subtensor(op, node):
    def run(x, y, *values):
        out, y = to_device(x).copy(), to_device(y)
        view, idx = subtensor.without_newaxes(out, _adv_index(node, out, op.idx_list, values))
        rshape = view[idx].shape
        ybc = node.inputs[1].type.broadcastable
        if any(not ybc[-k] and y.shape[-k] != rshape[-k] for k in range(1, y.ndim + 1)):
            raise op_error(str(op), f"cannot put a value of shape {y.shape} into a region "
                           f"of shape {rshape}", ValueError, node.trace)
        if op.set_instead_of_inc:
            view[idx] = y
        else:  # repeated indices accumulate, as numpy.add.at
            add_at(view, idx, cp.broadcast_to(y, rshape))
        return [out]
    return run
