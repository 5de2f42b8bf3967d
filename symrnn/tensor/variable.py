"""TensorVariable: a symbolic tensor with Python operators and NumPy-like methods."""
from symrnn.graph import Constant, Variable, op_error
from symrnn.ops.elemwise import DimShuffle


def _m():
    from symrnn.tensor import math
    return math


class _TensorOperators:
    """Operators and methods shared by tensor variables, constants and shared variables."""

    # ---- type information ----
    ndim = property(lambda self: self.type.ndim)
    dtype = property(lambda self: self.type.dtype)
    broadcastable = property(lambda self: self.type.broadcastable)
    shape = property(lambda self: _m().shape(self))
    size = property(lambda self: _m().prod(_m().shape(self)))
    T = property(lambda self: _m().transpose(self))

    # ---- arithmetic ----
    def __add__(self, o): return _m().add(self, o)
    def __radd__(self, o): return _m().add(o, self)
    def __sub__(self, o): return _m().sub(self, o)
    def __rsub__(self, o): return _m().sub(o, self)
    def __mul__(self, o): return _m().mul(self, o)
    def __rmul__(self, o): return _m().mul(o, self)
    def __truediv__(self, o): return _m().true_div(self, o)
    def __rtruediv__(self, o): return _m().true_div(o, self)
    def __floordiv__(self, o): return _m().int_div(self, o)
    def __rfloordiv__(self, o): return _m().int_div(o, self)
    def __mod__(self, o): return _m().mod(self, o)
    def __rmod__(self, o): return _m().mod(o, self)
    def __pow__(self, o): return _m().pow(self, o)
    def __rpow__(self, o): return _m().pow(o, self)
    def __neg__(self): return _m().neg(self)
    def __pos__(self): return self
    def __abs__(self): return _m().abs_(self)
    def __matmul__(self, o): return _m().dot(self, o)
    def __rmatmul__(self, o): return _m().dot(o, self)

    # ---- comparisons (symbolic; == and != stay identity, use T.eq / T.neq) ----
    def __lt__(self, o): return _m().lt(self, o)
    def __le__(self, o): return _m().le(self, o)
    def __gt__(self, o): return _m().gt(self, o)
    def __ge__(self, o): return _m().ge(self, o)
    __hash__ = object.__hash__

    # ---- bitwise, on ints and bools ----
    def __and__(self, o): return _m().and_(self, o)
    def __rand__(self, o): return _m().and_(o, self)
    def __or__(self, o): return _m().or_(self, o)
    def __ror__(self, o): return _m().or_(o, self)
    def __xor__(self, o): return _m().xor(self, o)
    def __rxor__(self, o): return _m().xor(o, self)
    def __invert__(self): return _m().invert(self)

    # ---- NumPy's ufuncs (np.tanh(x), ndarray + x) build the symbolic op ----
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = _UFUNCS.get(ufunc.__name__)
        ndims = [getattr(i, "ndim", 0) for i in inputs]
        if name == "dot" and max(ndims) > 2:
            name = None
        if name is None or method != "__call__" or kwargs:
            what = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
            alt = _UFUNCS.get(ufunc.__name__) or ufunc.__name__
            hint = (f"use T.{alt} (import symrnn.tensor as T)" if hasattr(_m(), alt) else
                    "build it from symrnn.tensor's functions")
            given = "".join(f", {k}=" for k in kwargs)
            raise op_error(what, f"NumPy computes on values, and the symbolic variable "
                           f"{self} holds none until theano.function runs it "
                           f"(np.{ufunc.__name__}(...{given})); {hint}")
        return getattr(_m(), name)(*inputs)

    def __bool__(self):
        raise TypeError(f"{self}: a symbolic variable has no truth value. Use T.switch for a "
                        "condition, T.eq/T.neq to compare, or scan's until to stop a loop.")

    def __len__(self):
        raise TypeError(f"{self}: a symbolic variable has no len(); use x.shape[0]")

    def __iter__(self):
        raise TypeError(f"{self}: a symbolic variable cannot be iterated; "
                        "index it (x[i]) or use scan")

    # ---- indexing ----
    def __getitem__(self, index):
        from symrnn.tensor.indexing import getitem
        return getitem(self, index)

    # ---- shape ----
    def dimshuffle(self, *pattern):
        """Reorder axes: ``x.dimshuffle(1, 0)``, ``x.dimshuffle('x', 0)``."""
        if len(pattern) == 1 and isinstance(pattern[0], (list, tuple)):
            pattern = pattern[0]
        pattern = tuple(pattern)
        if pattern == tuple(range(self.type.ndim)):
            return self
        return DimShuffle(self.type.broadcastable, pattern)(self)

    def reshape(self, shape, ndim=None):
        return _m().reshape(self, shape, ndim=ndim)

    def flatten(self, ndim=1):
        return _m().flatten(self, ndim)

    def transpose(self, *axes):
        return _m().transpose(self, axes or None)

    def astype(self, dtype):
        return _m().cast(self, dtype)

    # ---- reductions ----
    def sum(self, axis=None, keepdims=False, dtype=None):
        return _m().sum(self, axis=axis, keepdims=keepdims, dtype=dtype)

    def prod(self, axis=None, keepdims=False):
        return _m().prod(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return _m().mean(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims=False):
        return _m().var(self, axis=axis, keepdims=keepdims)

    def std(self, axis=None, keepdims=False):
        return _m().std(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return _m().max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _m().min(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        return _m().argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False):
        return _m().argmin(self, axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims=False):
        return _m().any(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims=False):
        return _m().all(self, axis=axis, keepdims=keepdims)

    def norm(self, L, axis=None, keepdims=False):
        return _m().norm(self, L, axis=axis, keepdims=keepdims)

    # ---- misc ----
    def dot(self, other):
        return _m().dot(self, other)

    def clip(self, a_min, a_max):
        return _m().clip(self, a_min, a_max)

    def round(self):
        return _m().round(self)

    def copy(self, name=None):
        out = _m().identity(self)
        out.name = name
        return out

    def sort(self, axis=-1):
        return _m().sort(self, axis=axis)

    def argsort(self, axis=-1):
        return _m().argsort(self, axis=axis)

    def cumsum(self, axis=None):
        return _m().cumsum(self, axis=axis)

    def nonzero_values(self):
        return self[_m().neq(self, 0)]


# NumPy ufunc name -> symrnn.tensor function (np.tanh(x) is T.tanh(x))
_UFUNCS = {"add": "add", "subtract": "sub", "multiply": "mul", "true_divide": "true_div",
           "divide": "true_div", "floor_divide": "int_div", "remainder": "mod",
           "power": "pow", "maximum": "maximum", "minimum": "minimum", "equal": "eq",
           "not_equal": "neq", "less": "lt", "less_equal": "le", "greater": "gt",
           "greater_equal": "ge", "bitwise_and": "and_", "bitwise_or": "or_",
           "bitwise_xor": "xor", "invert": "invert", "negative": "neg", "absolute": "abs_",
           "sign": "sgn", "exp": "exp", "log": "log", "log1p": "log1p", "expm1": "expm1",
           "log2": "log2", "log10": "log10", "sqrt": "sqrt", "square": "sqr", "tanh": "tanh",
           "sin": "sin", "cos": "cos", "arctan": "arctan", "floor": "floor", "ceil": "ceil",
           "isnan": "isnan", "isinf": "isinf", "matmul": "dot", "positive": "identity"}


class TensorVariable(_TensorOperators, Variable):
    """A symbolic tensor: an input, or the output of an op."""


class TensorConstant(_TensorOperators, Constant):
    """A tensor with a fixed value (``.data``)."""

    @property
    def value(self):
        return self.data


def is_tensor(x):
    return isinstance(x, _TensorOperators)
