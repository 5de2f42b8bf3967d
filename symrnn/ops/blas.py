"""Matrix products: Dot (vectors and matrices, as numpy.dot) and BatchedDot.

Higher-rank ``T.dot`` and ``T.tensordot`` are built in symrnn.tensor.math from
DimShuffle, Reshape and Dot, so their gradients come for free.
"""
import numpy as np

from symrnn.graph import Apply, Op, op_error
from symrnn.ops.elemwise import sum_to_broadcastable
from symrnn.tensor.basic import as_tensor_variable
from symrnn.types import TensorType, upcast


def _check_float_or_int(op, xs):
    for v in xs:
        if v.type.dtype == "bool":
            raise op_error(op, f"does not take bool inputs, got {[x.type for x in xs]}")


class Dot(Op):
    """numpy.dot for inputs of 1 or 2 dimensions."""

    def make_node(self, x, y):
        x, y = as_tensor_variable(x), as_tensor_variable(y)
        if x.type.ndim not in (1, 2) or y.type.ndim not in (1, 2):
            raise op_error("Dot", f"takes vectors and matrices, got {x.type} and {y.type}")
        _check_float_or_int("Dot", [x, y])
        bcast = x.type.broadcastable[:-1] + y.type.broadcastable[1:]
        return Apply(self, [x, y], [TensorType(upcast(x.type.dtype, y.type.dtype), bcast)()])

    def perform(self, node, inputs):
        x, y = inputs
        if x.shape[-1] != y.shape[0]:
            raise op_error("Dot", f"shapes {x.shape} ({x.dtype}) and {y.shape} ({y.dtype}) "
                           f"are not aligned: {x.shape[-1]} != {y.shape[0]}"
                           + _per_step(node, x.shape, y.shape), ValueError, node.trace)
        return [np.asarray(np.dot(x, y), dtype=node.outputs[0].type.dtype)]

    def grad(self, inputs, output_grads):
        from symrnn.tensor import math as T
        (x, y), (gz,) = inputs, output_grads
        nx, ny = x.type.ndim, y.type.ndim
        if nx == 1 and ny == 1:
            gx, gy = gz * y, gz * x
        elif nx == 1:  # v @ M
            gx, gy = T.dot(y, gz), T.outer(x, gz)
        elif ny == 1:  # M @ v
            gx, gy = T.outer(gz, y), T.dot(x.T, gz)
        else:
            gx, gy = T.dot(gz, y.T), T.dot(x.T, gz)
        return [_grad_like(gx, x), _grad_like(gy, y)]


def _grad_like(g, x):
    from symrnn.tensor import math as T
    if not x.type.dtype.startswith("float"):
        return None
    g = sum_to_broadcastable(g, x.type.broadcastable)
    return T.cast(g, x.type.dtype) if g.type.dtype != x.type.dtype else g


class BatchedDot(Op):
    """numpy.matmul of two 3-d tensors: out[b] = x[b] @ y[b]."""

    def make_node(self, x, y):
        x, y = as_tensor_variable(x), as_tensor_variable(y)
        if x.type.ndim != 3 or y.type.ndim != 3:
            raise op_error("BatchedDot", f"takes 3-d tensors, got {x.type} and {y.type}")
        _check_float_or_int("BatchedDot", [x, y])
        bcast = (x.type.broadcastable[0] and y.type.broadcastable[0],
                 x.type.broadcastable[1], y.type.broadcastable[2])
        return Apply(self, [x, y], [TensorType(upcast(x.type.dtype, y.type.dtype), bcast)()])

    def perform(self, node, inputs):
        x, y = inputs
        if x.shape[0] != y.shape[0] or x.shape[2] != y.shape[1]:
            raise op_error("BatchedDot", f"shapes {x.shape} and {y.shape} do not match "
                           "(need x (b, n, m) and y (b, m, k))", ValueError, node.trace)
        return [np.asarray(np.matmul(x, y), dtype=node.outputs[0].type.dtype)]

    def grad(self, inputs, output_grads):
        (x, y), (gz,) = inputs, output_grads
        bd = BatchedDot()
        gx = bd(gz, y.dimshuffle(0, 2, 1))
        gy = bd(x.dimshuffle(0, 2, 1), gz)
        return [_grad_like(gx, x), _grad_like(gy, y)]


dot = Dot()
batched_dot = BatchedDot()


def _per_step(node, x_shape, y_shape):
    """A product moved out of a scan loop (rewrite/scan_hoist.py) states its shapes per step."""
    per_step = getattr(node.trace, "per_step", None)
    return per_step(x_shape, y_shape) if per_step else ""
