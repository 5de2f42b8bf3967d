"""Ranges, identity matrices, cumulative sums and sorting (Theano's extra_ops names)."""
import numpy as np

from symrnn.config import config
from symrnn.graph import op_error
from symrnn.ops.elemwise import _common_dtype
from symrnn.ops.reduction import CumOp, normalize_axis
from symrnn.ops.shape import ARange, Eye
from symrnn.ops.sort import ArgSort, Sort
from symrnn.tensor.basic import as_tensor_variable
from symrnn.tensor.math import flatten, shape


def arange(start, stop=None, step=1, dtype=None):
    """numpy.arange with scalar (possibly symbolic) bounds.

    Without ``dtype`` the inputs' dtypes are upcast; Python ints alone give
    int64 and Python floats alone give floatX.
    """
    if stop is None:
        start, stop = 0, start
    inputs = [as_tensor_variable(v) for v in (start, stop, step)]
    if dtype is None:
        dtype = _common_dtype(inputs)
        if dtype is None:  # only Python numbers
            kinds = {np.asarray(v.data).dtype.kind for v in inputs}
            dtype = config.floatX if "f" in kinds else "int64"
    dtype = config.floatX if dtype == "floatX" else str(np.dtype(dtype))
    return ARange(dtype)(*inputs)


def eye(n, m=None, k=0, dtype=None):
    """An (n, m) matrix with ones on diagonal ``k`` (dtype floatX unless given)."""
    dtype = config.floatX if dtype in (None, "floatX") else str(np.dtype(dtype))
    return Eye(dtype)(n, n if m is None else m, k)


def identity_like(x, dtype=None):
    """The identity matrix with the shape of the matrix ``x`` (and its dtype unless given)."""
    x = as_tensor_variable(x)
    if x.type.ndim != 2:
        raise op_error("identity_like", f"needs a matrix, got {x.type}")
    s = shape(x)
    return eye(s[0], s[1], 0, dtype=dtype or x.type.dtype)


def _along(x, axis, what):
    """(x, axis) with x flattened when axis is None, axis made non-negative."""
    x = as_tensor_variable(x)
    if axis is None:
        return flatten(x), 0
    (axis,) = normalize_axis(axis, x.type.ndim, what)
    return x, axis


def cumsum(x, axis=None):
    """Cumulative sum along ``axis`` (of the flattened tensor when None)."""
    x, axis = _along(x, axis, "cumsum")
    return CumOp(axis, "add")(x)


def cumprod(x, axis=None):
    """Cumulative product along ``axis`` (of the flattened tensor when None)."""
    x, axis = _along(x, axis, "cumprod")
    return CumOp(axis, "mul")(x)


def sort(a, axis=-1, kind=None, order=None):
    """Sorted copy of ``a`` along ``axis`` (flattened when None); ties keep their order."""
    a, axis = _along(a, axis, "sort")
    return Sort(axis)(a)


def argsort(a, axis=-1, kind=None, order=None):
    """Indices that sort ``a`` along ``axis`` (flattened when None), as int64."""
    a, axis = _along(a, axis, "argsort")
    return ArgSort(axis)(a)
