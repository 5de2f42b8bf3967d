"""Shape ops: Shape, MakeVector, Reshape, Alloc, Join."""
import numpy as np

from symrnn.graph import Apply, Constant, Op, op_error
from symrnn.ops.elemwise import sum_to_broadcastable
from symrnn.tensor.basic import as_tensor_variable
from symrnn.types import TensorType, upcast


def _int_scalar(v, what):
    v = as_tensor_variable(v)
    if v.type.ndim != 0 or v.type.dtype.startswith(("float", "complex")) or v.type.dtype == "bool":
        raise op_error(what, f"expected an integer scalar, got {v.type}")
    return v


def constant_value(v):
    """The Python int a scalar Variable is known to hold, or None."""
    if isinstance(v, Constant):
        d = np.asarray(v.data)
        return int(d) if d.ndim == 0 else None
    return None


def constant_entries(vec):
    """For an int vector built by MakeVector or a Constant: its entries (None if unknown)."""
    if isinstance(vec, Constant):
        return [int(v) for v in np.asarray(vec.data).ravel()]
    if vec.owner is not None and isinstance(vec.owner.op, MakeVector):
        return [constant_value(i) for i in vec.owner.inputs]
    return None


class Shape(Op):
    """The shape of a tensor, as an int64 vector."""

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", (False,))()])

    def perform(self, node, inputs):
        return [np.asarray(inputs[0].shape, dtype="int64")]

    def grad(self, inputs, output_grads):
        return [None]


class MakeVector(Op):
    """A vector from scalars of one dtype."""

    __props__ = ("dtype",)

    def __init__(self, dtype="int64"):
        self.dtype = dtype

    def make_node(self, *scalars):
        scalars = [as_tensor_variable(s) for s in scalars]
        for s in scalars:
            if s.type.ndim != 0:
                raise op_error("MakeVector", f"takes scalars, got {s.type}")
        from symrnn.tensor.math import cast
        scalars = [s if s.type.dtype == self.dtype else cast(s, self.dtype) for s in scalars]
        return Apply(self, scalars, [TensorType(self.dtype, (len(scalars) == 1,))()])

    def perform(self, node, inputs):
        return [np.asarray(inputs, dtype=self.dtype).reshape(len(inputs))]

    def grad(self, inputs, output_grads):
        if not self.dtype.startswith("float"):
            return [None] * len(inputs)
        (gz,) = output_grads
        return [gz[i] for i in range(len(inputs))]


class Reshape(Op):
    """Reshape ``x`` to the ``ndim`` entries of the int vector ``shape`` (-1 allowed once)."""

    __props__ = ("ndim",)

    def __init__(self, ndim):
        self.ndim = ndim

    def make_node(self, x, shape):
        x, shape = as_tensor_variable(x), as_tensor_variable(shape)
        if shape.type.ndim != 1 or not shape.type.dtype.startswith(("int", "uint")):
            raise op_error("Reshape", f"shape must be an integer vector, got {shape.type}")
        entries = constant_entries(shape) or [None] * self.ndim
        if len(entries) != self.ndim:
            raise op_error("Reshape", f"shape has {len(entries)} entries, expected {self.ndim}",
                           ValueError)
        bcast = [e == 1 for e in entries]
        return Apply(self, [x, shape], [TensorType(x.type.dtype, bcast)()])

    def perform(self, node, inputs):
        x, shape = inputs
        shape = tuple(int(s) for s in shape)
        if len(shape) != self.ndim:
            raise op_error("Reshape", f"shape {shape} has {len(shape)} entries, "
                           f"expected {self.ndim}", ValueError, node.trace)
        try:
            return [np.reshape(x, shape)]
        except ValueError:
            raise op_error("Reshape", f"cannot reshape an array of shape {x.shape} "
                           f"(size {x.size}) into shape {shape}",
                           ValueError, node.trace) from None

    def grad(self, inputs, output_grads):
        from symrnn.tensor import math as T
        (x, _), (gz,) = inputs, output_grads
        if not x.type.dtype.startswith("float"):
            return [None, None]
        return [T.reshape(gz, T.shape(x), ndim=x.type.ndim), None]


class Alloc(Op):
    """An array of the given shape filled with ``value`` (broadcast NumPy-style)."""

    def make_node(self, value, *shape):
        value = as_tensor_variable(value)
        shape = [_int_scalar(s, "Alloc") for s in shape]
        if len(shape) < value.type.ndim:
            raise op_error("Alloc", f"shape has {len(shape)} entries, fewer than the value's "
                           f"{value.type.ndim} dims")
        bcast = [constant_value(s) == 1 for s in shape]
        return Apply(self, [value] + shape, [TensorType(value.type.dtype, bcast)()])

    def perform(self, node, inputs):
        value, *shape = inputs
        shape = tuple(int(s) for s in shape)
        try:
            return [np.array(np.broadcast_to(value, shape))]
        except ValueError:
            raise op_error("Alloc", f"cannot broadcast a value of shape {value.shape} to "
                           f"shape {shape}", ValueError, node.trace) from None

    def grad(self, inputs, output_grads):
        value, *shape = inputs
        (gz,) = output_grads
        if not value.type.dtype.startswith("float"):
            return [None] * len(inputs)
        extra = gz.type.ndim - value.type.ndim
        g = gz.sum(axis=list(range(extra))) if extra else gz
        g = sum_to_broadcastable(g, value.type.broadcastable)
        return [g] + [None] * len(shape)


class Join(Op):
    """Concatenate tensors of equal rank along a fixed ``axis``."""

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = axis

    def make_node(self, *tensors):
        tensors = [as_tensor_variable(t) for t in tensors]
        if not tensors:
            raise op_error("Join", "needs at least one tensor", ValueError)
        ndim = tensors[0].type.ndim
        if any(t.type.ndim != ndim for t in tensors) or not 0 <= self.axis < ndim:
            raise op_error("Join", f"tensors must have the same number of dims and axis "
                           f"{self.axis} must exist; got {[t.type for t in tensors]}")
        dtype = upcast(*[t.type.dtype for t in tensors])
        bcast = [all(t.type.broadcastable[d] for t in tensors) for d in range(ndim)]
        bcast[self.axis] = len(tensors) == 1 and tensors[0].type.broadcastable[self.axis]
        return Apply(self, tensors, [TensorType(dtype, bcast)()])

    def perform(self, node, inputs):
        try:
            out = np.concatenate(inputs, axis=self.axis)
        except ValueError:
            raise op_error("Join", f"cannot join shapes {[x.shape for x in inputs]} on axis "
                           f"{self.axis}", ValueError, node.trace) from None
        return [np.asarray(out, dtype=node.outputs[0].type.dtype)]

    def grad(self, inputs, output_grads):
        from symrnn.tensor import math as T
        (gz,) = output_grads
        grads, start = [], 0
        for t in inputs:
            stop = start + T.shape(t)[self.axis]
            index = [slice(None)] * self.axis + [slice(start, stop)]
            g = sum_to_broadcastable(gz[tuple(index)], t.type.broadcastable)
            grads.append(T.cast(g, t.type.dtype) if t.type.dtype.startswith("float") else None)
            start = stop
        return grads


class Rebroadcast(Op):
    """Change which axes are marked broadcastable; checks at run time that they have length 1."""

    __props__ = ("broadcastable",)

    def __init__(self, broadcastable):
        self.broadcastable = tuple(bool(b) for b in broadcastable)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if len(self.broadcastable) != x.type.ndim:
            raise op_error("Rebroadcast", f"pattern {self.broadcastable} does not fit {x.type}",
                           ValueError)
        return Apply(self, [x], [TensorType(x.type.dtype, self.broadcastable)()])

    def perform(self, node, inputs):
        (x,) = inputs
        for d, b in enumerate(self.broadcastable):
            if b and x.shape[d] != 1:
                raise op_error("Rebroadcast", f"axis {d} was declared broadcastable but has "
                               f"length {x.shape[d]} (shape {x.shape})", ValueError, node.trace)
        return [x]

    def grad(self, inputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        if not x.type.dtype.startswith("float"):
            return [None]
        return [sum_to_broadcastable(gz, x.type.broadcastable)]


class ARange(Op):
    """numpy.arange(start, stop, step) for scalar inputs, in ``dtype``."""

    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype

    def make_node(self, start, stop, step):
        inputs = [as_tensor_variable(v) for v in (start, stop, step)]
        for v in inputs:
            if v.type.ndim != 0 or v.type.dtype.startswith("complex"):
                raise op_error("ARange", f"start, stop and step must be real scalars, got "
                               f"{[i.type for i in inputs]}")
        return Apply(self, inputs, [TensorType(self.dtype, (False,))()])

    def perform(self, node, inputs):
        start, stop, step = inputs
        if step == 0:
            raise op_error("ARange", f"step must not be zero (start={start}, stop={stop})",
                           ValueError, node.trace)
        return [np.arange(start, stop, step, dtype=self.dtype)]

    def grad(self, inputs, output_grads):
        # out[i] = start + i * step; the length is piecewise constant in stop
        from symrnn.tensor import math as T
        (_, stop, _), (gz,) = inputs, output_grads
        if not self.dtype.startswith("float"):
            return [None, None, None]
        i = T.arange(T.shape(gz)[0], dtype=self.dtype)
        return [T.sum(gz), T.zeros_like(stop), T.sum(gz * i)]


class Eye(Op):
    """An (n, m) matrix of ``dtype`` with ones on diagonal ``k`` (numpy.eye)."""

    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype

    def make_node(self, n, m, k):
        inputs = [_int_scalar(v, "Eye") for v in (n, m, k)]
        return Apply(self, inputs, [TensorType(self.dtype, (False, False))()])

    def perform(self, node, inputs):
        n, m, k = (int(v) for v in inputs)
        if n < 0 or m < 0:
            raise op_error("Eye", f"negative shape ({n}, {m})", ValueError, node.trace)
        return [np.eye(n, m, k, dtype=self.dtype)]

    def grad(self, inputs, output_grads):
        return [None, None, None]
