"""Reductions over axes: sum, prod, max, min, argmax, argmin, all, any; cumsum, cumprod.

``keepdims`` is not a property of the op: ``symrnn.tensor.math`` adds the
kept axes back with a DimShuffle, so backends see one form only.
"""
import numpy as np

from symrnn.graph import Apply, Op, op_error
from symrnn.tensor.basic import as_tensor_variable
from symrnn.types import TensorType

_NUMPY = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min,
          "argmax": np.argmax, "argmin": np.argmin, "all": np.all, "any": np.any}


def normalize_axis(axis, ndim, what="reduction"):
    """``axis`` (None, int or sequence) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise op_error(what, f"axis {a} is out of range for a tensor of {ndim} dims",
                           ValueError)
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise op_error(what, f"repeated axis in {axis}", ValueError)
    return tuple(sorted(out)) if ndim else ()


def _sum_dtype(dtype):
    # as numpy: small ints and bool sum in the default int, floats keep their dtype
    if dtype == "bool" or dtype in ("int8", "int16", "int32"):
        return "int64"
    if dtype in ("uint8", "uint16", "uint32"):
        return "uint64"
    return dtype


class Reduce(Op):
    """Reduce ``x`` over ``axis`` (a tuple of axes) with ``kind``."""

    __props__ = ("kind", "axis")

    def __init__(self, kind, axis):
        if kind not in _NUMPY:
            raise ValueError(f"Reduce: unknown kind {kind!r}")
        if kind in ("argmax", "argmin") and len(axis) > 1:
            raise ValueError(f"Reduce: {kind} takes one axis or None, got {axis}")
        self.kind, self.axis = kind, tuple(axis)

    def __str__(self):
        return f"{self.kind.capitalize()}{{axis={list(self.axis)}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        if any(a >= x.type.ndim for a in self.axis):
            raise op_error(str(self), f"axis out of range for {x.type}", ValueError)
        if self.kind in ("argmax", "argmin") and self.axis and x.type.ndim > 1 \
                and len(self.axis) == x.type.ndim and x.type.ndim > 1:
            raise op_error(str(self), "argmax/argmin over several axes is not supported")
        if self.kind in ("sum", "prod"):
            dtype = _sum_dtype(x.type.dtype)
        elif self.kind in ("argmax", "argmin"):
            dtype = "int64"
        elif self.kind in ("all", "any"):
            dtype = "bool"
        else:
            dtype = x.type.dtype
        bcast = [b for d, b in enumerate(x.type.broadcastable) if d not in self.axis]
        return Apply(self, [x], [TensorType(dtype, bcast)()])

    def perform(self, node, inputs):
        (x,) = inputs
        dtype = node.outputs[0].type.dtype
        if self.kind in ("max", "min", "argmax", "argmin") and x.size == 0 and self.axis:
            raise op_error(str(self), f"cannot reduce an empty array of shape {x.shape}",
                           ValueError, node.trace)
        if self.kind in ("argmax", "argmin"):
            axis = self.axis[0] if len(self.axis) == 1 else None
            if x.ndim == 0:
                return [np.asarray(0, dtype=dtype)]
            return [np.asarray(_NUMPY[self.kind](x, axis=axis), dtype=dtype)]
        return [np.asarray(_NUMPY[self.kind](x, axis=self.axis), dtype=dtype)]

    def grad(self, inputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        if self.kind in ("argmax", "argmin", "all", "any") or \
                not x.type.dtype.startswith("float"):
            return [None]
        from symrnn.tensor import math as T
        order = []
        kept = iter(range(x.type.ndim - len(self.axis)))
        for d in range(x.type.ndim):
            order.append("x" if d in self.axis else next(kept))
        gz_full = gz.dimshuffle(order)
        if self.kind == "sum":
            g = T.fill(x, gz_full)
        elif self.kind == "prod":
            g = gz_full * self._prod_of_others(x, order)
        else:  # max, min: the gradient goes to every element equal to the extreme
            out = self(x).dimshuffle(order)
            g = gz_full * T.eq(x, out)
        return [T.cast(g, x.type.dtype)]

    def _prod_of_others(self, x, order):
        """For each element, the product of the other elements of its group (zeros allowed)."""
        from symrnn.tensor import math as T
        is_zero = T.eq(x, 0)
        n_zeros = Reduce("sum", self.axis)(is_zero).dimshuffle(order)
        nonzero_prod = Reduce("prod", self.axis)(T.switch(is_zero, 1, x)).dimshuffle(order)
        # no zero: out / x; one zero: only that element gets the others' product; more: none
        return T.switch(T.eq(n_zeros, 0), nonzero_prod / x,
                        T.switch(T.eq(n_zeros, 1) & is_zero, nonzero_prod, 0))


class CumOp(Op):
    """Cumulative sum (``mode='add'``) or product (``mode='mul'``) along one ``axis``."""

    __props__ = ("axis", "mode")

    def __init__(self, axis, mode="add"):
        if mode not in ("add", "mul"):
            raise ValueError(f"CumOp: mode must be 'add' or 'mul', got {mode!r}")
        self.axis, self.mode = int(axis), mode

    def __str__(self):
        return f"Cum{'sum' if self.mode == 'add' else 'prod'}{{axis={self.axis}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        if not 0 <= self.axis < x.type.ndim:
            raise op_error(str(self), f"axis {self.axis} is out of range for {x.type}",
                           ValueError)
        dtype = str(np.cumsum(np.zeros(1, dtype=x.type.dtype)).dtype)
        return Apply(self, [x], [TensorType(dtype, x.type.broadcastable)()])

    def perform(self, node, inputs):
        fn = np.cumsum if self.mode == "add" else np.cumprod
        return [fn(inputs[0], axis=self.axis, dtype=node.outputs[0].type.dtype)]

    def grad(self, inputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        if not x.type.dtype.startswith("float"):
            return [None]
        rev = (slice(None),) * self.axis + (slice(None, None, -1),)
        if self.mode == "add":  # each input reaches every later output
            return [CumOp(self.axis)(gz[rev])[rev]]
        # d out[j] / d x[i] = out[j] / x[i] for j >= i (x without zeros)
        return [CumOp(self.axis)((gz * self(x))[rev])[rev] / x]
