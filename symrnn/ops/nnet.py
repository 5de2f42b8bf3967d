"""Neural-network ops over the last axis: Softmax and LogSoftmax (numerically stable).

sigmoid, softplus and relu are elementwise (symrnn/ops/scalar.py); the
cross-entropies are built from these in symrnn/tensor/nnet.py.
"""
import numpy as np

from symrnn.graph import Apply, Op, op_error
from symrnn.ops.scalar import float_dtype
from symrnn.tensor.basic import as_tensor_variable


def _float_input(op, x):
    from symrnn.tensor.math import cast
    x = as_tensor_variable(x)
    if x.type.ndim == 0 or x.type.dtype == "bool" or x.type.dtype.startswith("complex"):
        raise op_error(op, f"needs a real tensor with at least one dim, got {x.type}")
    dtype = float_dtype(x.type.dtype)
    return x if x.type.dtype == dtype else cast(x, dtype)


def _row_of_vector(x):
    """A vector as a (1, n) row: Theano 1.0's Softmax and LogSoftmax return a row for a
    vector (classic RNN code indexes ``T.nnet.softmax(h_t.dot(W) + b)[0]``)."""
    return x.dimshuffle("x", 0) if x.type.ndim == 1 else x


def _shifted(x):
    """x minus its maximum over the last axis (0 where that maximum is not finite)."""
    m = np.max(x, axis=-1, keepdims=True, initial=-np.inf)
    return x - np.where(np.isfinite(m), m, 0)


class Softmax(Op):
    """exp(x) / sum(exp(x)) over the last axis, computed as exp(x - max(x)) / ..."""

    def make_node(self, x):
        x = _row_of_vector(_float_input("Softmax", x))
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs):
        with np.errstate(invalid="ignore"):
            e = np.exp(_shifted(inputs[0]))
            return [e / np.sum(e, axis=-1, keepdims=True)]

    def grad(self, inputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        sm = self(x)
        return [(gz - (gz * sm).sum(axis=-1, keepdims=True)) * sm]


class LogSoftmax(Op):
    """log(softmax(x)) over the last axis: x - max - log(sum(exp(x - max)))."""

    def make_node(self, x):
        x = _row_of_vector(_float_input("LogSoftmax", x))
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs):
        s = _shifted(inputs[0])
        with np.errstate(divide="ignore", invalid="ignore"):
            return [s - np.log(np.sum(np.exp(s), axis=-1, keepdims=True))]

    def grad(self, inputs, output_grads):
        from symrnn.tensor import math as T
        (x,), (gz,) = inputs, output_grads
        return [gz - T.exp(self(x)) * gz.sum(axis=-1, keepdims=True)]


softmax = Softmax()
log_softmax = LogSoftmax()
