"""Tensor constructors (scalar, vector, fmatrix, ...), constants and as_tensor_variable."""
import numpy as np

from symrnn.config import config
from symrnn.graph import Variable, op_error
from symrnn.types import TensorType


def as_tensor_variable(x, name=None, ndim=None):
    """``x`` as a symbolic tensor: Variables pass through, values become constants.

    Python ints, floats and bools become *weak* constants: in an elementwise
    operation with a tensor they take that tensor's dtype (``x * 0.5`` stays
    float32 when ``x`` is float32).
    """
    if isinstance(x, Variable):
        if not isinstance(x.type, TensorType):
            raise TypeError(f"as_tensor_variable: {x} is not a tensor (type {x.type})")
        out = x
    elif isinstance(x, dict) or type(x).__name__ == "ScanResult":
        raise op_error("as_tensor_variable", f"got {type(x).__name__} {_short(x)}, not a "
                       "tensor. scan returns a pair (outputs, updates): write `h, updates = "
                       "theano.scan(...)` (or `h, _ = ...`), use h, and pass updates to "
                       "theano.function(..., updates=updates)")
    elif isinstance(x, (list, tuple)) and any(isinstance(e, Variable) for e in x):
        from symrnn.tensor.math import stack
        out = stack([as_tensor_variable(e) for e in x])
    else:
        out = constant(x, name=name)
    if ndim is not None and out.type.ndim != ndim:
        raise op_error("as_tensor_variable", f"expected {ndim} dims, got {out.type}")
    return out


def _short(x, limit=60):
    text = repr(x)
    return text if len(text) <= limit else text[:limit] + "..."


def constant(x, name=None, ndim=None, dtype=None):
    """A symbolic constant holding ``x`` (a copy, as a NumPy array)."""
    from symrnn.tensor.variable import TensorConstant
    weak = isinstance(x, (bool, int, float)) and dtype is None
    if weak:
        if isinstance(x, bool):
            dtype = "bool"
        elif isinstance(x, int):
            dtype = "int64" if -2**63 <= x < 2**63 else "uint64"
        else:
            dtype = config.floatX
    try:
        data = np.array(x, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as e:
        raise TypeError(f"constant: cannot make a tensor constant from {type(x).__name__}: "
                        f"{e}") from None
    if data.dtype == object or data.dtype.kind in "USV":
        raise TypeError(f"constant: cannot make a tensor constant from {x!r}")
    if ndim is not None:
        if data.ndim > ndim:
            raise ValueError(f"constant: {data.shape} has more than {ndim} dims")
        data = data.reshape((1,) * (ndim - data.ndim) + data.shape)
    c = TensorConstant(TensorType(str(data.dtype), [s == 1 for s in data.shape]), data,
                       name=name)
    c.tag["weak"] = weak
    return c


def _maker(dtype, bcast):
    def make(name=None, dtype=dtype):
        return TensorType(dtype if dtype != "floatX" else config.floatX, bcast)(name)
    return make


_SHAPES = {"scalar": (), "vector": (False,), "matrix": (False, False), "row": (True, False),
           "col": (False, True), "tensor3": (False,) * 3, "tensor4": (False,) * 4,
           "tensor5": (False,) * 5}
_PREFIX = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32",
           "d": "float64", "c": "complex64", "z": "complex128"}

scalar = _maker("floatX", ())
vector = _maker("floatX", (False,))
matrix = _maker("floatX", (False, False))
row = _maker("floatX", (True, False))
col = _maker("floatX", (False, True))
tensor3 = _maker("floatX", (False,) * 3)
tensor4 = _maker("floatX", (False,) * 4)
tensor5 = _maker("floatX", (False,) * 5)

CONSTRUCTORS = {}
for _p, _dt in _PREFIX.items():
    for _s, _b in _SHAPES.items():
        CONSTRUCTORS[_p + _s] = _maker(_dt, _b)
globals().update(CONSTRUCTORS)


def tensor(dtype=None, broadcastable=None, name=None, shape=None):
    """A symbolic tensor of the given dtype (floatX by default) and pattern or static shape."""
    if isinstance(dtype, (tuple, list)) and broadcastable is None:
        dtype, broadcastable = None, dtype
    if broadcastable is None and shape is None:
        raise TypeError("tensor: give broadcastable=(...) or shape=(...)")
    return TensorType(dtype or config.floatX, broadcastable, shape=shape)(name)


def patternbroadcast(x, broadcastable):
    """``x`` with the given broadcastable pattern (checked at run time)."""
    from symrnn.ops.shape import Rebroadcast
    x = as_tensor_variable(x)
    if x.type.broadcastable == tuple(broadcastable):
        return x
    return Rebroadcast(broadcastable)(x)


def _with_pattern(x, axes, value, what):
    x = as_tensor_variable(x)
    b = list(x.type.broadcastable)
    for a in axes:
        if not -len(b) <= a < len(b):
            raise op_error(what, f"axis {a} is out of range for {x.type}", ValueError)
        b[a] = value
    return patternbroadcast(x, b)


def addbroadcast(x, *axes):
    """``x`` with ``axes`` marked broadcastable (they must have length 1 at run time)."""
    return _with_pattern(x, axes, True, "addbroadcast")


def unbroadcast(x, *axes):
    """``x`` with ``axes`` no longer marked broadcastable."""
    return _with_pattern(x, axes, False, "unbroadcast")
