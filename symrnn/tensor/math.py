"""Tensor functions with Theano's names: arithmetic, math, reductions, shapes, products."""
import builtins

import numpy as np

from symrnn.config import config
from symrnn.graph import Constant, op_error
from symrnn.ops.blas import batched_dot as _batched_dot_op, dot as _dot_op
from symrnn.ops.elemwise import DimShuffle, Elemwise
from symrnn.ops.nnet import Softmax, log_softmax
from symrnn.ops.reduction import Reduce, normalize_axis
from symrnn.ops.scalar import SCALAR_OPS, cast_op
from symrnn.ops.shape import Alloc, Join, MakeVector, Reshape, Shape, constant_entries
from symrnn.tensor.basic import as_tensor_variable, constant
from symrnn.types import TensorType, upcast

# ---- elementwise ----

_E = {name: Elemwise(op) for name, op in SCALAR_OPS.items()}


def _unary(name, doc):
    def f(x):
        return _E[name](x)
    f.__name__, f.__doc__ = name, doc
    return f


def _binary(name, doc):
    def f(x, y):
        return _E[name](x, y)
    f.__name__, f.__doc__ = name, doc
    return f


# ---- numerically stable forms, recognised as the graph is built ----
# (so that gradients taken afterwards are stable too)

def _const_value(v):
    """The single value a constant (possibly dimshuffled) holds, or None."""
    while v.owner is not None and isinstance(v.owner.op, DimShuffle):
        v = v.owner.inputs[0]
    if isinstance(v, Constant):
        d = np.asarray(v.data)
        if d.size and np.all(d == d.flat[0]):
            return float(d.flat[0])
    return None


def _is(v, name):
    """The inputs of ``v`` if it is the Elemwise ``name``, else None."""
    if v.owner is not None and isinstance(v.owner.op, Elemwise) \
            and v.owner.op.scalar_op.name == name:
        return v.owner.inputs
    return None


def _stable_div(x, y):
    # 1 / (1 + exp(w)) is sigmoid(-w)
    if _const_value(x) == 1.0 and _is(y, "add"):
        a, b = _is(y, "add")
        e = b if _const_value(a) == 1.0 else a if _const_value(b) == 1.0 else None
        if e is not None and _is(e, "exp") and e.type.broadcastable == y.type.broadcastable:
            return _E["sigmoid"](neg(_is(e, "exp")[0]))
    return None


def _stable_log(x):
    # log(softmax(z)) = log_softmax(z)
    if x.owner is not None and isinstance(x.owner.op, Softmax):
        return log_softmax(x.owner.inputs[0])
    # log(sigmoid(z)) = -softplus(-z);  log(1 - sigmoid(z)) = -softplus(z)
    if _is(x, "sigmoid"):
        return neg(_E["softplus"](neg(_is(x, "sigmoid")[0])))
    if _is(x, "sub") and _const_value(_is(x, "sub")[0]) == 1.0:
        s = _is(x, "sub")[1]
        if _is(s, "sigmoid") and s.type.broadcastable == x.type.broadcastable:
            return neg(_E["softplus"](_is(s, "sigmoid")[0]))
    return None


add = _binary("add", "x + y")
sub = _binary("sub", "x - y")
mul = _binary("mul", "x * y")


def true_div(x, y):
    """x / y (float result); 1 / (1 + exp(w)) becomes sigmoid(-w)."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    stable = _stable_div(x, y)
    return stable if stable is not None else _E["true_div"](x, y)


int_div = _binary("int_div", "x // y")
mod = _binary("mod", "x % y (sign of y, as in Python)")
pow = _binary("pow", "x ** y")
maximum = _binary("maximum", "elementwise maximum")
minimum = _binary("minimum", "elementwise minimum")
eq = _binary("eq", "x == y, elementwise (bool)")
neq = _binary("neq", "x != y, elementwise (bool)")
lt = _binary("lt", "x < y")
le = _binary("le", "x <= y")
gt = _binary("gt", "x > y")
ge = _binary("ge", "x >= y")
and_ = _binary("and_", "bitwise/logical and of ints or bools")
or_ = _binary("or_", "bitwise/logical or of ints or bools")
xor = _binary("xor", "bitwise/logical xor of ints or bools")
bitwise_and, bitwise_or, bitwise_xor = and_, or_, xor
neg = _unary("neg", "-x")
abs_ = _unary("abs", "|x|")
abs = abs_
sgn = _unary("sgn", "sign of x: -1, 0 or 1")
sign = sgn
exp = _unary("exp", "e ** x")


def log(x):
    """Natural logarithm; log(softmax(z)) becomes log_softmax(z), and log(sigmoid(z)) and
    log(1 - sigmoid(z)) become softplus forms."""
    x = as_tensor_variable(x)
    stable = _stable_log(x)
    return stable if stable is not None else _E["log"](x)


log1p = _unary("log1p", "log(1 + x), accurate for small x")
expm1 = _unary("expm1", "exp(x) - 1, accurate for small x")
log2 = _unary("log2", "base-2 logarithm")
log10 = _unary("log10", "base-10 logarithm")
sqrt = _unary("sqrt", "square root")
sqr = _unary("sqr", "x * x")
square = sqr
tanh = _unary("tanh", "hyperbolic tangent")
sin = _unary("sin", "sine")
cos = _unary("cos", "cosine")
arctan = _unary("arctan", "inverse tangent")
sigmoid = _unary("sigmoid", "1 / (1 + exp(-x)), computed without overflow")
softplus = _unary("softplus", "log(1 + exp(x)), computed without overflow")
floor = _unary("floor", "round down")
ceil = _unary("ceil", "round up")
isnan = _unary("isnan", "elementwise isnan")
isinf = _unary("isinf", "elementwise isinf")
invert = _unary("invert", "bitwise not of ints, logical not of bools")
bitwise_not = invert
identity = _unary("identity", "a copy of x")
tensor_copy = identity


def round(x, mode="half_to_even"):
    """Round to the nearest integer; ties to even, as numpy.round."""
    if mode != "half_to_even":
        if mode == "half_away_from_zero":
            x = as_tensor_variable(x)
            return sgn(x) * floor(abs_(x) + 0.5)
        raise ValueError(f"round: unknown mode {mode!r}")
    return _E["round"](x)


def switch(cond, ift, iff):
    """Elementwise ``ift if cond else iff`` (numpy.where with three arguments)."""
    return _E["switch"](cond, ift, iff)


def where(cond, ift=None, iff=None):
    """numpy.where(cond, ift, iff); the one-argument form is not supported."""
    if ift is None or iff is None:
        raise TypeError("where: give cond, ift and iff (the one-argument form needs nonzero)")
    return switch(cond, ift, iff)


def clip(x, a_min, a_max):
    """``x`` limited to [a_min, a_max]; the gradient flows where x is inside."""
    return _E["clip"](x, a_min, a_max)


def fill(model, value):
    """An array shaped like ``model`` filled with ``value``."""
    return _E["second"](model, value)


second = fill


def cast(x, dtype):
    """``x`` converted to ``dtype`` ('floatX' means config.floatX)."""
    x = as_tensor_variable(x)
    dtype = TensorType(dtype, ()).dtype  # a TypeError naming it unless a supported dtype
    if x.type.dtype == dtype:
        return x
    return Elemwise(cast_op(dtype))(x)


def zeros_like(x, dtype=None):
    """Zeros with the shape (and dtype, unless given) of ``x``."""
    x = as_tensor_variable(x)
    return fill(x, constant(np.zeros((), dtype=dtype or x.type.dtype)))


def ones_like(x, dtype=None):
    """Ones with the shape (and dtype, unless given) of ``x``."""
    x = as_tensor_variable(x)
    return fill(x, constant(np.ones((), dtype=dtype or x.type.dtype)))


def _shape_args(shape):
    if isinstance(shape, (int, np.integer)) or getattr(shape, "ndim", None) == 0:
        return [shape]
    if hasattr(shape, "type") and shape.type.ndim == 1:
        return [shape[i] for i in range(_vector_length(shape))]
    return list(shape)


def _vector_length(v):
    entries = constant_entries(v)
    if entries is not None:
        return len(entries)
    if v.owner is not None and isinstance(v.owner.op, Shape):
        return v.owner.inputs[0].type.ndim
    raise op_error("shape", f"the length of {v} is not known when the graph is built; "
                   "give the shape as a tuple")


def alloc(value, *shape):
    """``value`` broadcast to ``shape`` (Theano's T.alloc)."""
    return Alloc()(value, *shape)


def zeros(shape, dtype=None):
    """A tensor of zeros (dtype floatX unless given)."""
    return alloc(constant(np.zeros((), dtype=dtype or config.floatX)), *_shape_args(shape))


def ones(shape, dtype=None):
    """A tensor of ones (dtype floatX unless given)."""
    return alloc(constant(np.ones((), dtype=dtype or config.floatX)), *_shape_args(shape))


# ---- shapes ----

def shape(x):
    """The shape of ``x`` as an int64 vector."""
    return Shape()(as_tensor_variable(x))


def _shape_vector(shape):
    if hasattr(shape, "type"):
        return shape, _vector_length(shape)
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = list(shape)
    if builtins.all(isinstance(s, (int, np.integer)) for s in shape):
        return constant(np.asarray(shape, dtype="int64")), len(shape)
    return MakeVector("int64")(*shape), len(shape)


def reshape(x, newshape, ndim=None):
    """``x`` reshaped; ``newshape`` is a tuple (ints or symbolic scalars) or an int vector."""
    x = as_tensor_variable(x)
    if hasattr(newshape, "type") and not newshape.type.dtype.startswith(("int", "uint")):
        raise op_error("Reshape", f"the shape must hold integers, got {newshape.type}")
    vec, n = _shape_vector(newshape) if ndim is None else (as_tensor_variable(newshape), ndim)
    if hasattr(newshape, "type") and ndim is None:
        n = _vector_length(newshape)
    return Reshape(n)(x, vec)


def flatten(x, ndim=1):
    """``x`` with its trailing axes merged so that it has ``ndim`` dims."""
    x = as_tensor_variable(x)
    if ndim < 1 or ndim > builtins.max(x.type.ndim, 1):
        raise op_error("flatten", f"ndim={ndim} is out of range for {x.type}", ValueError)
    s = shape(x)
    return reshape(x, [s[i] for i in range(ndim - 1)] + [-1])


def transpose(x, axes=None):
    """``x`` with its axes reversed, or permuted as ``axes``."""
    x = as_tensor_variable(x)
    if axes is None:
        axes = list(range(x.type.ndim))[::-1]
    return x.dimshuffle(list(axes))


def shape_padleft(x, n_ones=1):
    """``x`` with ``n_ones`` broadcastable axes added on the left."""
    x = as_tensor_variable(x)
    return x.dimshuffle(["x"] * n_ones + list(range(x.type.ndim)))


def shape_padright(x, n_ones=1):
    """``x`` with ``n_ones`` broadcastable axes added on the right."""
    x = as_tensor_variable(x)
    return x.dimshuffle(list(range(x.type.ndim)) + ["x"] * n_ones)


def shape_padaxis(x, axis):
    """``x`` with one broadcastable axis inserted at ``axis``."""
    x = as_tensor_variable(x)
    order = list(range(x.type.ndim))
    axis = axis if axis >= 0 else x.type.ndim + 1 + axis
    order.insert(axis, "x")
    return x.dimshuffle(order)


def concatenate(tensors, axis=0):
    """Join ``tensors`` along an existing ``axis``."""
    tensors = [as_tensor_variable(t) for t in tensors]
    axis = axis + tensors[0].type.ndim if axis < 0 else axis
    return Join(axis)(*tensors)


def join(axis, *tensors):
    """Theano's argument order for concatenate: ``join(axis, a, b, ...)``."""
    return concatenate(tensors, axis)


def stack(tensors, axis=0):
    """Join ``tensors`` along a new ``axis``."""
    tensors = [as_tensor_variable(t) for t in tensors]
    if builtins.all(t.type.ndim == 0 for t in tensors) and axis == 0:
        return MakeVector(upcast(*[t.type.dtype for t in tensors]))(*tensors)
    return concatenate([shape_padaxis(t, axis) for t in tensors], axis)


# ---- reductions ----

def _keep(out, x, axes, keepdims):
    if not keepdims:
        return out
    order, k = [], 0
    for d in range(x.type.ndim):
        if d in axes:
            order.append("x")
        else:
            order.append(k)
            k += 1
    return out.dimshuffle(order)


def _reduce(kind, x, axis, keepdims):
    x = as_tensor_variable(x)
    axes = normalize_axis(axis, x.type.ndim, kind)
    if not axes and kind not in ("argmax", "argmin"):
        out = x if kind not in ("all", "any") else cast(x, "bool")
        return identity(out) if out is x else out
    return _keep(Reduce(kind, axes)(x), x, axes, keepdims)


def sum(x, axis=None, keepdims=False, dtype=None):
    """Sum over ``axis`` (all axes by default)."""
    out = _reduce("sum", x, axis, keepdims)
    return cast(out, dtype) if dtype else out


def prod(x, axis=None, keepdims=False):
    """Product over ``axis``."""
    return _reduce("prod", x, axis, keepdims)


def max(x, axis=None, keepdims=False):
    """Maximum over ``axis``."""
    return _reduce("max", x, axis, keepdims)


def min(x, axis=None, keepdims=False):
    """Minimum over ``axis``."""
    return _reduce("min", x, axis, keepdims)


def _arg(kind, x, axis, keepdims):
    x = as_tensor_variable(x)
    if axis is not None or x.type.ndim == 0:
        return _reduce(kind, x, axis, keepdims)
    out = _reduce(kind, flatten(x) if x.type.ndim > 1 else x, 0, False)
    return out.dimshuffle(["x"] * x.type.ndim) if keepdims else out


def argmax(x, axis=None, keepdims=False):
    """Index of the maximum over one ``axis`` (of the flattened tensor when None)."""
    return _arg("argmax", x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    """Index of the minimum over one ``axis`` (of the flattened tensor when None)."""
    return _arg("argmin", x, axis, keepdims)


def any(x, axis=None, keepdims=False):
    """True where any element over ``axis`` is non-zero."""
    return _reduce("any", x, axis, keepdims)


def all(x, axis=None, keepdims=False):
    """True where every element over ``axis`` is non-zero."""
    return _reduce("all", x, axis, keepdims)


def _count(x, axis):
    x = as_tensor_variable(x)
    axes = normalize_axis(axis, x.type.ndim)
    s = shape(x)
    n = constant(np.int64(1))
    for a in axes:
        n = n * s[a]
    return n


def mean(x, axis=None, keepdims=False, dtype=None):
    """Mean over ``axis``; integer inputs give a float mean."""
    x = as_tensor_variable(x)
    total = sum(x, axis=axis, keepdims=keepdims)
    out_dtype = dtype or (x.type.dtype if x.type.dtype.startswith("float") else config.floatX)
    return cast(total, out_dtype) / cast(_count(x, axis), out_dtype)


def var(x, axis=None, keepdims=False, ddof=0):
    """Variance over ``axis``."""
    x = as_tensor_variable(x)
    mu = mean(x, axis=axis, keepdims=True)
    centered = cast(x, mu.type.dtype) - mu
    out = sum(sqr(centered), axis=axis, keepdims=keepdims)
    n = cast(_count(x, axis), out.type.dtype)
    return out / (n - ddof)


def std(x, axis=None, keepdims=False, ddof=0):
    """Standard deviation over ``axis``."""
    return sqrt(var(x, axis=axis, keepdims=keepdims, ddof=ddof))


def norm(x, L, axis=None, keepdims=False):
    """The L-norm over ``axis`` (L = 1, 2, any p, or inf)."""
    x = as_tensor_variable(x)
    if L == 1:
        return sum(abs_(x), axis=axis, keepdims=keepdims)
    if L == 2:
        return sqrt(sum(sqr(x), axis=axis, keepdims=keepdims))
    if L in (np.inf, "inf"):
        return max(abs_(x), axis=axis, keepdims=keepdims)
    return pow(sum(pow(abs_(x), L), axis=axis, keepdims=keepdims), 1.0 / L)


# ---- products ----

def dot(x, y):
    """numpy.dot: vectors and matrices; higher ranks contract the last axis of x
    with the second-to-last of y (as tensordot)."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.type.ndim == 0 or y.type.ndim == 0:
        return x * y
    if x.type.ndim <= 2 and y.type.ndim <= 2:
        return _dot_op(x, y)
    return tensordot(x, y, axes=[[x.type.ndim - 1], [y.type.ndim - 2 if y.type.ndim >= 2 else 0]])


def outer(x, y):
    """The outer product of two vectors."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    return x.dimshuffle(0, "x") * y.dimshuffle("x", 0)


def tensordot(a, b, axes=2):
    """numpy.tensordot, built from transposes, reshapes and one matrix product."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if isinstance(axes, (int, np.integer)):
        axes = [list(range(a.type.ndim - axes, a.type.ndim)), list(range(axes))]
    a_axes = [int(i) % a.type.ndim for i in np.atleast_1d(axes[0])]
    b_axes = [int(i) % b.type.ndim for i in np.atleast_1d(axes[1])]
    if len(a_axes) != len(b_axes):
        raise op_error("tensordot", f"axes {axes} pair {len(a_axes)} with {len(b_axes)} axes",
                       ValueError)
    a_free = [d for d in range(a.type.ndim) if d not in a_axes]
    b_free = [d for d in range(b.type.ndim) if d not in b_axes]
    sa, sb = shape(a), shape(b)
    a2 = reshape(a.dimshuffle(a_free + a_axes), [_prod([sa[d] for d in a_free]),
                                                 _prod([sa[d] for d in a_axes])])
    b2 = reshape(b.dimshuffle(b_axes + b_free), [_prod([sb[d] for d in b_axes]),
                                                 _prod([sb[d] for d in b_free])])
    out = _dot_op(a2, b2)
    return reshape(out, [sa[d] for d in a_free] + [sb[d] for d in b_free])


def _prod(items):
    out = constant(np.int64(1))
    for i in items:
        out = out * i
    return out


def batched_dot(x, y):
    """out[i] = dot(x[i], y[i]) for 3-d (and 2-d) tensors."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.type.ndim == 2 and y.type.ndim == 2:
        return sum(x * y, axis=1)
    xs = x.dimshuffle(0, "x", 1) if x.type.ndim == 2 else x
    ys = y.dimshuffle(0, 1, "x") if y.type.ndim == 2 else y
    out = _batched_dot_op(xs, ys)
    if x.type.ndim == 2:
        out = out[:, 0]
    if y.type.ndim == 2:
        out = out[..., 0]
    return out


from symrnn.tensor.extra_ops import (  # noqa: E402,F401
    arange, argsort, cumprod, cumsum, eye, identity_like, sort)
