"""Sorting along one axis: Sort and ArgSort (stable, so ties keep their order)."""
import numpy as np

from symrnn.graph import Apply, Op, op_error
from symrnn.tensor.basic import as_tensor_variable
from symrnn.types import TensorType


def _check_axis(op, x, axis):
    if not 0 <= axis < x.type.ndim:
        raise op_error(str(op), f"axis {axis} is out of range for {x.type}", ValueError)


def _mesh(x, along, axis):
    """Index arrays ``idx`` with x[idx] == take_along_axis(x, along, axis)."""
    from symrnn.tensor import math as T
    idx = []
    for d in range(x.type.ndim):
        if d == axis:
            idx.append(along)
        else:
            order = ["x"] * x.type.ndim
            order[d] = 0
            idx.append(T.arange(T.shape(x)[d]).dimshuffle(order))
    return tuple(idx)


class _AlongAxis(Op):
    """An op of one tensor along ``axis``; ``out_dtype`` None keeps the input's dtype."""

    __props__ = ("axis",)
    out_dtype = None

    def __init__(self, axis):
        self.axis = int(axis)

    def make_node(self, x):
        x = as_tensor_variable(x)
        _check_axis(self, x, self.axis)
        dtype = self.out_dtype or x.type.dtype
        return Apply(self, [x], [TensorType(dtype, x.type.broadcastable)()])


class Sort(_AlongAxis):
    """numpy.sort along ``axis``."""

    def perform(self, node, inputs):
        return [np.sort(inputs[0], axis=self.axis, kind="stable")]

    def grad(self, inputs, output_grads):
        # sorting permutes: each gradient goes back to the place its element came from
        from symrnn.tensor import math as T
        from symrnn.tensor.indexing import inc_subtensor
        (x,), (gz,) = inputs, output_grads
        if not x.type.dtype.startswith("float"):
            return [None]
        idx = _mesh(x, ArgSort(self.axis)(x), self.axis)
        return [inc_subtensor(T.zeros_like(x)[idx], gz)]


class ArgSort(_AlongAxis):
    """numpy.argsort along ``axis`` (int64 indices)."""

    out_dtype = "int64"

    def perform(self, node, inputs):
        return [np.argsort(inputs[0], axis=self.axis, kind="stable").astype("int64")]

    def grad(self, inputs, output_grads):
        return [None]
