"""Indexing: Subtensor (basic: ints and slices) and IncSubtensor (set/inc a region).

The index structure is a static property of the op (``idx_list``) and the
symbolic parts are inputs:

* a Python int ``i``         -> a constant integer index
* ``"v"``                    -> an integer scalar taken from the inputs, in order
* ``("slice", a, b, c)``     -> a slice whose bounds are None, int or "v"

``x[None]`` and ``x[...]`` are handled in ``symrnn.tensor.variable`` with DimShuffle
before these ops are built, so they only ever see ints and slices.
"""
import numpy as np

from symrnn.graph import Apply, Op, op_error
from symrnn.types import TensorType


def _as(x):
    from symrnn.tensor.basic import as_tensor_variable
    return as_tensor_variable(x)


def build_index(idx_list, values):
    """The Python index tuple for ``idx_list`` with symbolic parts taken from ``values``."""
    values = iter(values)

    def one(e):
        if e == "v":
            return int(next(values))
        return e

    out = []
    for e in idx_list:
        if isinstance(e, tuple):
            out.append(slice(one(e[1]), one(e[2]), one(e[3])))
        else:
            out.append(one(e))
    return tuple(out)


def _slice_length_one(e):
    _, a, b, c = e
    if c not in (None, 1) or not isinstance(a, int) or not isinstance(b, int):
        return False
    return (a >= 0 and b >= 0 or a < 0 and b < 0) and b - a == 1


def _out_broadcastable(x_bcast, idx_list):
    bcast = []
    for d, b in enumerate(x_bcast):
        e = idx_list[d] if d < len(idx_list) else ("slice", None, None, None)
        if isinstance(e, tuple):
            bcast.append(b or _slice_length_one(e))
        # an integer index drops the axis
    return bcast


def _check_index_inputs(op, x, idx_list, idx_vars):
    n_v = sum(1 for e in idx_list if e == "v") + sum(
        1 for e in idx_list if isinstance(e, tuple) for p in e[1:] if p == "v")
    if n_v != len(idx_vars):
        raise op_error(op, f"index list {idx_list} needs {n_v} symbolic indices, "
                       f"got {len(idx_vars)}")
    if len(idx_list) > x.type.ndim:
        raise op_error(op, f"too many indices ({len(idx_list)}) for {x.type}", IndexError)
    for v in idx_vars:
        if v.type.ndim != 0 or not v.type.dtype.startswith(("int", "uint")):
            raise op_error(op, f"indices must be integer scalars, got {v.type}", TypeError)


def _index(node, x, idx):
    try:
        return x[idx]
    except IndexError as e:
        raise op_error(str(node.op), f"index {idx} is out of range for shape {x.shape}: {e}",
                       IndexError, node.trace) from None


class Subtensor(Op):
    """``x[idx]`` for integer and slice indices (a view in the NumPy backend)."""

    __props__ = ("idx_list",)

    def __init__(self, idx_list):
        self.idx_list = tuple(idx_list)

    def __str__(self):
        return f"Subtensor{{{_show(self.idx_list)}}}"

    def make_node(self, x, *idx_vars):
        x, idx_vars = _as(x), [_as(v) for v in idx_vars]
        _check_index_inputs("Subtensor", x, self.idx_list, idx_vars)
        bcast = _out_broadcastable(x.type.broadcastable, self.idx_list)
        return Apply(self, [x] + idx_vars, [TensorType(x.type.dtype, bcast)()])

    def perform(self, node, inputs):
        x, *values = inputs
        return [np.asarray(_index(node, x, build_index(self.idx_list, values)))]

    def grad(self, inputs, output_grads):
        x, *idx_vars = inputs
        (gz,) = output_grads
        if not x.type.dtype.startswith("float"):
            return [None] * len(inputs)
        from symrnn.tensor.math import zeros_like
        gx = IncSubtensor(self.idx_list, False)(zeros_like(x), gz, *idx_vars)
        return [gx] + [None] * len(idx_vars)


class IncSubtensor(Op):
    """A copy of ``x`` with ``x[idx]`` set to (or incremented by) ``y``."""

    __props__ = ("idx_list", "set_instead_of_inc")

    def __init__(self, idx_list, set_instead_of_inc):
        self.idx_list = tuple(idx_list)
        self.set_instead_of_inc = bool(set_instead_of_inc)

    def __str__(self):
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return f"{kind}Subtensor{{{_show(self.idx_list)}}}"

    def make_node(self, x, y, *idx_vars):
        x, y, idx_vars = _as(x), _as(y), [_as(v) for v in idx_vars]
        _check_index_inputs(str(self), x, self.idx_list, idx_vars)
        region_ndim = len(_out_broadcastable(x.type.broadcastable, self.idx_list))
        if y.type.ndim > region_ndim:
            raise op_error(str(self), f"the value has {y.type.ndim} dims, more than the "
                           f"indexed region's {region_ndim}")
        if y.type.dtype != x.type.dtype:
            from symrnn.tensor.math import cast
            y = cast(y, x.type.dtype)
        return Apply(self, [x, y] + idx_vars, [x.type()])

    def perform(self, node, inputs):
        x, y, *values = inputs
        idx = build_index(self.idx_list, values)
        out = x.copy()
        region = _index(node, out, idx)
        rshape = np.shape(region)
        ybc = node.inputs[1].type.broadcastable
        for k in range(1, y.ndim + 1):
            if not ybc[-k] and y.shape[-k] != rshape[-k]:
                raise op_error(str(self), f"cannot put a value of shape {y.shape} into a "
                               f"region of shape {rshape}", ValueError, node.trace)
        if self.set_instead_of_inc:
            out[idx] = y
        else:
            out[idx] += y
        return [out]

    def grad(self, inputs, output_grads):
        from symrnn.ops.elemwise import sum_to_broadcastable
        x, y, *idx_vars = inputs
        (gz,) = output_grads
        if self.set_instead_of_inc:
            gx = IncSubtensor(self.idx_list, True)(gz, 0, *idx_vars)
        else:
            gx = gz
        gy = Subtensor(self.idx_list)(gz, *idx_vars)
        extra = gy.type.ndim - y.type.ndim
        if extra:
            gy = gy.sum(axis=list(range(extra)))
        gy = sum_to_broadcastable(gy, y.type.broadcastable)
        isf = [v.type.dtype.startswith("float") for v in (x, y)]
        return [gx if isf[0] else None, gy if isf[1] else None] + [None] * len(idx_vars)


def _show(idx_list):
    def part(p):
        return "" if p is None else ("i" if p == "v" else str(p))
    out = []
    for e in idx_list:
        if isinstance(e, tuple):
            s = f"{part(e[1])}:{part(e[2])}" + (f":{part(e[3])}" if e[3] is not None else "")
            out.append(s)
        else:
            out.append(part(e))
    return ", ".join(out)
