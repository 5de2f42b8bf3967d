"""Scalar functions: the per-element meaning of every Elemwise op.

A ScalarOp has a name, an arity, a NumPy implementation working on whole arrays,
an output-dtype rule and a gradient written with tensor operations. The backends
translate scalar ops by name, so this file knows nothing about numba or CUDA.
"""
import numpy as np

from symrnn.config import config
from symrnn.types import upcast


def float_dtype(dtype):
    """The float dtype an op like exp gives for input ``dtype`` (Theano's rule)."""
    if dtype in ("float16", "float32", "float64"):
        return dtype
    if dtype in ("bool", "int8", "uint8", "int16", "uint16"):
        return "float32" if config.floatX == "float32" else "float64"
    return "float64"


def _true_div_dtype(dtypes):
    # Theano: integers divided by integers give floatX; otherwise as numpy
    if all(d == "bool" or d.startswith(("int", "uint")) for d in dtypes):
        return config.floatX
    return float_dtype(upcast(*dtypes))


DTYPE_RULES = {
    "upcast": lambda dts: upcast(*dts),
    "true_div": _true_div_dtype,
    "float": lambda dts: float_dtype(upcast(*dts)),
    "bool": lambda dts: "bool",
    "switch": lambda dts: upcast(*dts[1:]),
    "second": lambda dts: dts[1],
    "clip": lambda dts: upcast(*dts),
}


class ScalarOp:
    """One elementwise scalar function; instances are module-level singletons."""

    def __init__(self, name, nin, impl, dtype_rule="upcast", grad=None, int_only=False,
                 out_dtype=None):
        self.name, self.nin, self.impl = name, nin, impl
        self.dtype_rule, self._grad, self.int_only = dtype_rule, grad, int_only
        self.out_dtype_fixed = out_dtype

    def out_dtype(self, in_dtypes):
        if self.out_dtype_fixed is not None:
            return self.out_dtype_fixed
        return DTYPE_RULES[self.dtype_rule](in_dtypes)

    def grad(self, inputs, output, gz):
        """Gradients for each input (full output shape), or None where there is none."""
        if self._grad is None:
            return [None] * self.nin
        return self._grad(*inputs, output, gz)

    def __eq__(self, other):
        return isinstance(other, ScalarOp) and self.name == other.name

    def __hash__(self):
        return hash(("ScalarOp", self.name))

    def __repr__(self):
        return self.name

    def __reduce__(self):
        # pickled (and deep-copied) by name: the module's instance, with its functions
        return (scalar_op, (self.name,))


def scalar_op(name):
    """The ScalarOp called ``name`` (a cast: ``cast_<dtype>``)."""
    if name.startswith("cast_") and name not in SCALAR_OPS:
        return cast_op(name[len("cast_"):])
    return SCALAR_OPS[name]


def _T():
    from symrnn.tensor import math
    return math


def _zero(*xs):
    return [_T().zeros_like(x) for x in xs]


def _stable_sigmoid(x):
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _safe(f):
    def g(*a):
        with np.errstate(all="ignore"):
            return f(*a)
    return g


def _floor_divide(x, y):
    if np.issubdtype(np.result_type(x, y), np.integer) and np.any(np.asarray(y) == 0):
        raise ZeroDivisionError("integer division by zero")
    return np.floor_divide(x, y)


def _mod(x, y):
    if np.issubdtype(np.result_type(x, y), np.integer) and np.any(np.asarray(y) == 0):
        raise ZeroDivisionError("integer modulo by zero")
    return _safe(np.mod)(x, y)


def _pow_grad(x, y, out, gz):
    T = _T()
    return [gz * y * T.pow(x, y - 1), gz * out * T.log(T.switch(T.gt(x, 0), x, 1))]


def _cmp_grad(x, y, out, gz):
    return _zero(x, y)


# name: (nin, impl, dtype_rule, grad)
_TABLE = {
    "add": (2, np.add, "upcast", lambda x, y, o, gz: [gz, gz]),
    "sub": (2, np.subtract, "upcast", lambda x, y, o, gz: [gz, -gz]),
    "mul": (2, np.multiply, "upcast", lambda x, y, o, gz: [gz * y, gz * x]),
    "true_div": (2, _safe(np.true_divide), "true_div",
                 lambda x, y, o, gz: [gz / y, -gz * o / y]),
    "int_div": (2, _floor_divide, "upcast", lambda x, y, o, gz: _zero(x, y)),
    "mod": (2, _mod, "upcast",
            lambda x, y, o, gz: [gz, -gz * _T().floor(x / y)]),
    "pow": (2, _safe(np.power), "upcast", _pow_grad),
    "maximum": (2, np.maximum, "upcast",
                lambda x, y, o, gz: [gz * _T().ge(x, y), gz * _T().lt(x, y)]),
    "minimum": (2, np.minimum, "upcast",
                lambda x, y, o, gz: [gz * _T().le(x, y), gz * _T().gt(x, y)]),
    "neg": (1, np.negative, "upcast", lambda x, o, gz: [-gz]),
    "abs": (1, np.abs, "upcast", lambda x, o, gz: [gz * _T().sgn(x)]),
    "sgn": (1, np.sign, "upcast", lambda x, o, gz: _zero(x)),
    "exp": (1, _safe(np.exp), "float", lambda x, o, gz: [gz * o]),
    "log": (1, _safe(np.log), "float", lambda x, o, gz: [gz / x]),
    "log1p": (1, _safe(np.log1p), "float", lambda x, o, gz: [gz / (1 + x)]),
    "expm1": (1, _safe(np.expm1), "float", lambda x, o, gz: [gz * (o + 1)]),
    "log2": (1, _safe(np.log2), "float", lambda x, o, gz: [gz / (x * np.log(2.0))]),
    "log10": (1, _safe(np.log10), "float", lambda x, o, gz: [gz / (x * np.log(10.0))]),
    "sqrt": (1, _safe(np.sqrt), "float", lambda x, o, gz: [gz * 0.5 / o]),
    "sqr": (1, np.square, "upcast", lambda x, o, gz: [gz * 2 * x]),
    "tanh": (1, np.tanh, "float", lambda x, o, gz: [gz * (1 - o * o)]),
    "sin": (1, np.sin, "float", lambda x, o, gz: [gz * _T().cos(x)]),
    "cos": (1, np.cos, "float", lambda x, o, gz: [-gz * _T().sin(x)]),
    "arctan": (1, np.arctan, "float", lambda x, o, gz: [gz / (1 + x * x)]),
    "sigmoid": (1, _stable_sigmoid, "float", lambda x, o, gz: [gz * o * (1 - o)]),
    "softplus": (1, lambda x: np.logaddexp(0, x), "float",
                 lambda x, o, gz: [gz * _T().sigmoid(x)]),
    "floor": (1, np.floor, "upcast", lambda x, o, gz: _zero(x)),
    "ceil": (1, np.ceil, "upcast", lambda x, o, gz: _zero(x)),
    "round": (1, np.round, "upcast", lambda x, o, gz: _zero(x)),
    "eq": (2, np.equal, "bool", _cmp_grad),
    "neq": (2, np.not_equal, "bool", _cmp_grad),
    "lt": (2, np.less, "bool", _cmp_grad),
    "le": (2, np.less_equal, "bool", _cmp_grad),
    "gt": (2, np.greater, "bool", _cmp_grad),
    "ge": (2, np.greater_equal, "bool", _cmp_grad),
    "isnan": (1, np.isnan, "bool", lambda x, o, gz: _zero(x)),
    "isinf": (1, np.isinf, "bool", lambda x, o, gz: _zero(x)),
    "and_": (2, np.bitwise_and, "upcast", None),
    "or_": (2, np.bitwise_or, "upcast", None),
    "xor": (2, np.bitwise_xor, "upcast", None),
    "invert": (1, np.invert, "upcast", None),
    "switch": (3, lambda c, a, b: np.where(c, a, b), "switch",
               lambda c, a, b, o, gz: [_T().zeros_like(c),
                                       _T().switch(c, gz, 0), _T().switch(c, 0, gz)]),
    "second": (2, lambda a, b: np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape)),
               "second", lambda a, b, o, gz: [_T().zeros_like(a), gz]),
    "clip": (3, np.clip, "clip",
             lambda x, lo, hi, o, gz: [gz * (_T().ge(x, lo) & _T().le(x, hi)),
                                       gz * _T().lt(x, lo), gz * _T().gt(x, hi)]),
    "identity": (1, lambda x: x.copy(), "upcast", lambda x, o, gz: [gz]),
}

SCALAR_OPS = {}
for _name, (_nin, _impl, _rule, _grad) in _TABLE.items():
    SCALAR_OPS[_name] = ScalarOp(_name, _nin, _impl, _rule, _grad,
                                 int_only=_name in ("and_", "or_", "xor", "invert"))


class Cast(ScalarOp):
    """Conversion to a fixed dtype."""

    def __init__(self, dtype):
        super().__init__(f"cast_{dtype}", 1, lambda x: x.astype(dtype), out_dtype=dtype)
        self.dtype = dtype

    def grad(self, inputs, output, gz):
        (x,) = inputs
        if x.dtype.startswith("float") or x.dtype.startswith("complex"):
            return [_T().cast(gz, x.dtype)]
        return [None]


def cast_op(dtype):
    """The ScalarOp casting to ``dtype``."""
    key = f"cast_{dtype}"
    if key not in SCALAR_OPS:
        SCALAR_OPS[key] = Cast(dtype)
    return SCALAR_OPS[key]
