"""Indexing: Subtensor (basic: ints and slices) and IncSubtensor (set/inc a region);
AdvancedSubtensor and AdvancedIncSubtensor (integer and boolean arrays, NumPy's rules).

The index structure is a static property of the op (``idx_list``) and the
symbolic parts are inputs:

* a Python int ``i``         -> a constant integer index
* ``"v"``                    -> an integer scalar taken from the inputs, in order
* ``("slice", a, b, c)``     -> a slice whose bounds are None, int or "v"

``x[None]`` and ``x[...]`` are handled in ``symrnn.tensor.indexing`` with DimShuffle
before the basic ops are built, so they only ever see ints and slices. The
advanced ops also take ``None`` entries (a new axis) and ``"v"`` entries that are
integer or boolean arrays.
"""
import numpy as np

from symrnn.graph import Apply, Op, op_error
from symrnn.ops.elemwise import DimShuffle, Elemwise, sum_to_broadcastable
from symrnn.tensor.basic import as_tensor_variable
from symrnn.types import TensorType


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


# the slices that keep a whole axis (x[:], x[0:], x[::1], x[0::1]), and the reversal
WHOLE = frozenset(("slice", a, None, c) for a in (None, 0) for c in (None, 1))
FLIP = ("slice", None, None, -1)


def region_of_zeros(g):
    """(x, idx_list, idx_vars, y) when ``g`` is ``x`` zeroed with ``y`` put into ``x[idx]``
    (set or inc), as the gradient of ``x[idx]`` is built; else None."""
    o = g.owner
    if o is None or not isinstance(o.op, IncSubtensor):
        return None
    z, y, *idx_vars = o.inputs
    zo = z.owner
    if zo is None or not isinstance(zo.op, Elemwise) or zo.op.scalar_op.name != "second":
        return None
    c = zo.inputs[1]
    while c.owner is not None and isinstance(c.owner.op, DimShuffle):
        c = c.owner.inputs[0]
    if getattr(c, "data", None) is None or np.any(c.data):
        return None
    return zo.inputs[0], o.op.idx_list, idx_vars, y


class Subtensor(Op):
    """``x[idx]`` for integer and slice indices (a view in the NumPy backend)."""

    __props__ = ("idx_list",)

    def __init__(self, idx_list):
        self.idx_list = tuple(idx_list)

    def __str__(self):
        return f"Subtensor{{{_show(self.idx_list)}}}"

    def make_node(self, x, *idx_vars):
        x, idx_vars = as_tensor_variable(x), [as_tensor_variable(v) for v in idx_vars]
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
        if all(e in WHOLE or e == FLIP for e in self.idx_list) and gz.type == x.type:
            # x[0:] is x, x[::-1] x reversed: no zeros to fill and add into (scan slices so)
            return [gz if all(e in WHOLE for e in self.idx_list) else self(gz)]
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
        x, y = as_tensor_variable(x), as_tensor_variable(y)
        idx_vars = [as_tensor_variable(v) for v in idx_vars]
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
        if e is None:
            out.append("newaxis")
        elif isinstance(e, tuple):
            s = f"{part(e[1])}:{part(e[2])}" + (f":{part(e[3])}" if e[3] is not None else "")
            out.append(s)
        else:
            out.append(part(e))
    return ", ".join(out)


# ---- advanced indexing: integer and boolean arrays ----

def _adv_broadcastable(x_type, idx_list, idx_types, op):
    """The output pattern of x[idx] by NumPy's rules for advanced indices.

    The array indices (and the integers among them) broadcast together; their
    dims replace the indexed axes where the array indices are adjacent in the
    index, and go first otherwise.
    """
    types, basic, arrays, axis = iter(idx_types), [], [], 0
    for pos, e in enumerate(idx_list):
        if e is None:
            basic.append((pos, True))
        elif isinstance(e, tuple):
            for p in e[1:]:
                if p == "v":
                    next(types)
            b = x_type.broadcastable[axis] if axis < x_type.ndim else False
            basic.append((pos, b or _slice_length_one(e)))
            axis += 1
        else:
            t = next(types) if e == "v" else TensorType("int64", ())
            if t.dtype == "bool":
                arrays.append((pos, (False,)))
                axis += t.ndim
            else:
                arrays.append((pos, t.broadcastable))
                axis += 1
    if axis > x_type.ndim:
        raise op_error(op, f"too many indices ({axis} axes indexed) for {x_type}", IndexError)
    basic += [(len(idx_list), b) for b in x_type.broadcastable[axis:]]
    nd = max(len(b) for _, b in arrays)
    padded = [(True,) * (nd - len(b)) + tuple(b) for _, b in arrays]
    adv = [all(b[d] for b in padded) for d in range(nd)]
    positions = [p for p, _ in arrays]
    if positions == list(range(positions[0], positions[-1] + 1)):
        before = [b for p, b in basic if p < positions[0]]
        return before + adv + [b for p, b in basic if p > positions[-1]]
    return adv + [b for _, b in basic]


def _check_adv_inputs(op, x, idx_list, idx_vars):
    n_v = sum(1 for e in idx_list if e == "v") + sum(
        1 for e in idx_list if isinstance(e, tuple) for p in e[1:] if p == "v")
    if n_v != len(idx_vars):
        raise op_error(op, f"index list {idx_list} needs {n_v} symbolic indices, "
                       f"got {len(idx_vars)}")
    for v in idx_vars:
        if not v.type.dtype.startswith(("int", "uint", "bool")):
            raise op_error(op, f"array indices must be integers or booleans, got {v.type}",
                           IndexError)
    return _adv_broadcastable(x.type, idx_list, [v.type for v in idx_vars], op)


def build_adv_index(idx_list, values):
    """The NumPy index tuple for an advanced ``idx_list`` (None, ints, slices, arrays)."""
    values = iter(values)

    def one(e):
        if e != "v":
            return e
        v = next(values)
        return int(v) if np.ndim(v) == 0 and v.dtype != bool else v

    return tuple(slice(one(e[1]), one(e[2]), one(e[3])) if isinstance(e, tuple)
                 else None if e is None else one(e) for e in idx_list)


class AdvancedSubtensor(Op):
    """``x[idx]`` where idx holds integer or boolean arrays (a copy, as in NumPy)."""

    __props__ = ("idx_list",)

    def __init__(self, idx_list):
        self.idx_list = tuple(idx_list)

    def __str__(self):
        return f"AdvancedSubtensor{{{_show(self.idx_list)}}}"

    def make_node(self, x, *idx_vars):
        x, idx_vars = as_tensor_variable(x), [as_tensor_variable(v) for v in idx_vars]
        bcast = _check_adv_inputs(str(self), x, self.idx_list, idx_vars)
        return Apply(self, [x] + idx_vars, [TensorType(x.type.dtype, bcast)()])

    def perform(self, node, inputs):
        x, *values = inputs
        return [np.asarray(_index(node, x, build_adv_index(self.idx_list, values)))]

    def grad(self, inputs, output_grads):
        from symrnn.tensor.math import zeros_like
        x, *idx_vars = inputs
        if not x.type.dtype.startswith("float"):
            return [None] * len(inputs)
        gx = AdvancedIncSubtensor(self.idx_list, False)(zeros_like(x), output_grads[0],
                                                        *idx_vars)
        return [gx] + [None] * len(idx_vars)


def without_newaxes(x, idx):
    """(view of x with a length-1 axis per None, idx with those Nones made full slices).

    Works on NumPy and CuPy arrays alike (the CuPy backend uses it too)."""
    shape, it = [], iter(x.shape)
    for e in idx:
        if e is None:
            shape.append(1)
        else:
            n = e.ndim if getattr(e, "dtype", None) == bool else 1
            shape += [next(it) for _ in range(n)]
    shape += list(it)
    return x.reshape(shape), tuple(slice(None) if e is None else e for e in idx)


class AdvancedIncSubtensor(Op):
    """A copy of ``x`` with ``x[idx]`` set to, or incremented by, ``y``.

    Increments use numpy.add.at, so a repeated index accumulates every increment.
    """

    __props__ = ("idx_list", "set_instead_of_inc")

    def __init__(self, idx_list, set_instead_of_inc):
        self.idx_list = tuple(idx_list)
        self.set_instead_of_inc = bool(set_instead_of_inc)

    def __str__(self):
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return f"Advanced{kind}Subtensor{{{_show(self.idx_list)}}}"

    def make_node(self, x, y, *idx_vars):
        from symrnn.tensor.math import cast
        x, y = as_tensor_variable(x), as_tensor_variable(y)
        idx_vars = [as_tensor_variable(v) for v in idx_vars]
        region = _check_adv_inputs(str(self), x, self.idx_list, idx_vars)
        if y.type.ndim > len(region):
            raise op_error(str(self), f"the value {y.type} has more dims than the indexed "
                           f"region ({len(region)})")
        y = y if y.type.dtype == x.type.dtype else cast(y, x.type.dtype)
        return Apply(self, [x, y] + idx_vars, [x.type()])

    def perform(self, node, inputs):
        x, y, *values = inputs
        out = x.copy()
        view, idx = without_newaxes(out, build_adv_index(self.idx_list, values))
        rshape = np.shape(_index(node, view, idx))
        ybc = node.inputs[1].type.broadcastable
        if any(not ybc[-k] and y.shape[-k] != rshape[-k] for k in range(1, y.ndim + 1)):
            raise op_error(str(self), f"cannot put a value of shape {y.shape} into a region "
                           f"of shape {rshape}", ValueError, node.trace)
        if self.set_instead_of_inc:
            view[idx] = y
        else:
            np.add.at(view, idx, y)
        return [out]

    def grad(self, inputs, output_grads):
        x, y, *idx_vars = inputs
        (gz,) = output_grads
        gx = gz
        if self.set_instead_of_inc:
            gx = AdvancedIncSubtensor(self.idx_list, True)(gz, 0, *idx_vars)
        gy = AdvancedSubtensor(self.idx_list)(gz, *idx_vars)
        extra = gy.type.ndim - y.type.ndim
        gy = sum_to_broadcastable(gy.sum(axis=list(range(extra))) if extra else gy,
                                  y.type.broadcastable)
        isf = [v.type.dtype.startswith("float") for v in (x, y)]
        return [gx if isf[0] else None, gy if isf[1] else None] + [None] * len(idx_vars)
