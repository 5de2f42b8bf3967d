"""Each scalar op of ``symrnn.ops.scalar``, by name, as a CUDA C expression.

``expression(name, args, in_dtypes, out_dtype)`` returns C text computing one
element; ``args`` are C expressions already of ``in_dtypes``. Float functions
use the ``f``-suffixed forms in float32 (expf, log1pf, ...). ``PREAMBLE`` holds
the helpers that need more than an expression (floor division and modulo with
Python's signs, integer powers); it is put in front of every generated kernel.
"""
from symrnn.backends.cupy.ctypes_map import c_type, is_float, supported
from symrnn.types import upcast

# floor division and modulo of floats: NumPy's npy_divmod, step by step (floor(a / b)
# would round a / b first: 1.0 // 0.1 is 9.0 in NumPy, floor(10.000000000000002) 10)
_FLOAT_DIVMOD = r"""
__device__ __forceinline__ {T} sym_floordiv({T} a, {T} b) {{
    if (b == 0) return a / b;
    {T} mod = fmod{f}(a, b), div = (a - mod) / b;
    if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1;
    if (div == 0) return copysign{f}(({T})0, a / b);
    {T} q = floor{f}(div);
    return (div - q > ({T})0.5) ? q + 1 : q;
}}
__device__ __forceinline__ {T} sym_mod({T} a, {T} b) {{
    {T} mod = fmod{f}(a, b);
    if (b == 0) return mod;
    if (mod == 0) return copysign{f}(({T})0, b);
    return ((b < 0) != (mod < 0)) ? mod + b : mod;
}}
"""

# integers: Python's signs; x // 0 and x % 0 give 0 as NumPy's (which also warns);
# MIN // -1 is MIN and MIN % -1 is 0 as in NumPy (C would trap or overflow)
PREAMBLE = r"""
__device__ __forceinline__ int sym_neg(int a) { return (int)(0u - (unsigned int)a); }
__device__ __forceinline__ long long sym_neg(long long a) {
    return (long long)(0ull - (unsigned long long)a);
}
template <typename T> __device__ __forceinline__ T sym_neg(T a) { return (T)(-a); }
template <typename T> __device__ __forceinline__ T sym_floordiv(T a, T b) {
    if (b == 0) return 0;
    if ((T)-1 < (T)0 && b == (T)-1) return sym_neg(a);
    T q = a / b;
    return (q * b != a && ((a < 0) != (b < 0))) ? q - 1 : q;
}
template <typename T> __device__ __forceinline__ T sym_mod(T a, T b) {
    if (b == 0 || ((T)-1 < (T)0 && b == (T)-1)) return 0;
    T r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
""" + _FLOAT_DIVMOD.format(T="float", f="f") + _FLOAT_DIVMOD.format(T="double", f="") + r"""
template <typename T> __device__ __forceinline__ T sym_ipow(T a, T b) {
    T r = 1;
    if (b < 0) return (a == 1) ? 1 : ((a == -1) ? ((b % 2) ? -1 : 1) : 0);
    while (b) { if (b & 1) r *= a; a *= a; b >>= 1; }
    return r;
}
"""

# float functions: name -> C function of double (float32 adds the suffix f)
_MATH = {"exp": "exp", "log": "log", "log1p": "log1p", "expm1": "expm1", "log2": "log2",
         "log10": "log10", "sqrt": "sqrt", "tanh": "tanh", "sin": "sin", "cos": "cos",
         "arctan": "atan", "floor": "floor", "ceil": "ceil", "round": "rint"}
_COMPARE = {"eq": "==", "neq": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_ARITH = {"add": "+", "sub": "-", "mul": "*", "and_": "&", "or_": "|", "xor": "^"}


def _fn(name, dtype):
    return name + ("f" if str(dtype) == "float32" else "")


def _cast(expr, dtype):
    return f"(({c_type(dtype)})({expr}))"


def has_expression(name, in_dtypes, out_dtype):
    """Whether ``expression`` can translate this scalar op for these dtypes."""
    if not all(supported(d) for d in list(in_dtypes) + [out_dtype]):
        return False
    return name.startswith("cast_") or name in _TRANSLATORS


def expression(name, args, in_dtypes, out_dtype):
    """The C expression for scalar op ``name`` applied to the C expressions ``args``."""
    if name.startswith("cast_"):
        return _cast(args[0], out_dtype)
    if name not in _TRANSLATORS:
        raise NotImplementedError(f"cupy backend: no CUDA C form for scalar op {name!r}")
    return _TRANSLATORS[name](list(args), list(in_dtypes), out_dtype)


def _arith(op):
    def f(a, dts, out):
        if out == "bool" and op in ("+", "*"):  # numpy: add is or, mul is and on bools
            return f"({a[0]} {'||' if op == '+' else '&&'} {a[1]})"
        return _cast(f"{_cast(a[0], out)} {op} {_cast(a[1], out)}", out)
    return f


def _compare(op):
    def f(a, dts, out):
        common = upcast(*dts)
        return f"({_cast(a[0], common)} {op} {_cast(a[1], common)})"
    return f


def _math(fname):
    def f(a, dts, out):
        if not is_float(out):  # floor, ceil, round of integers: the value itself
            return _cast(a[0], out)
        return f"{_fn(fname, out)}({_cast(a[0], out)})"
    return f


def _unary(template):
    def f(a, dts, out):
        x = _cast(a[0], out)
        return _cast(template.format(x=x, exp=_fn("exp", out), log1p=_fn("log1p", out),
                                     fabs=_fn("fabs", out)), out)
    return f


def _pow(a, dts, out):
    x, y = _cast(a[0], out), _cast(a[1], out)
    return f"{_fn('pow', out)}({x}, {y})" if is_float(out) else f"sym_ipow({x}, {y})"


def _abs(a, dts, out):
    x = _cast(a[0], out)
    if is_float(out):
        return f"{_fn('fabs', out)}({x})"
    return x if out.startswith("uint") or out == "bool" else _cast(f"{x} < 0 ? -{x} : {x}", out)


def _extreme(op):
    # numpy propagates nan: keep a when it is nan (a != a) or wins the comparison
    def f(a, dts, out):
        x, y = _cast(a[0], out), _cast(a[1], out)
        return f"(({x} {op} {y} || {x} != {x}) ? {x} : {y})"
    return f


def _clip(a, dts, out):
    x, lo, hi = (_cast(v, out) for v in a)
    return f"({x} < {lo} ? {lo} : ({x} > {hi} ? {hi} : {x}))"


def _invert(a, dts, out):
    return f"(!{a[0]})" if out == "bool" else _cast(f"~{_cast(a[0], out)}", out)


def _isnan(kind):
    def f(a, dts, out):
        if not is_float(dts[0]):
            return "false"
        return f"({kind}({a[0]}))"
    return f


_TRANSLATORS = {
    **{name: _arith(op) for name, op in _ARITH.items()},
    **{name: _compare(op) for name, op in _COMPARE.items()},
    **{name: _math(fname) for name, fname in _MATH.items()},
    "true_div": lambda a, dts, out: f"({_cast(a[0], out)} / {_cast(a[1], out)})",
    "int_div": lambda a, dts, out: f"sym_floordiv({_cast(a[0], out)}, {_cast(a[1], out)})",
    "mod": lambda a, dts, out: f"sym_mod({_cast(a[0], out)}, {_cast(a[1], out)})",
    "pow": _pow,
    "maximum": _extreme(">"),
    "minimum": _extreme("<"),
    "neg": _unary("-{x}"),
    "abs": _abs,
    "sgn": _unary("({x} > 0 ? 1 : ({x} < 0 ? -1 : {x}))"),
    "sqr": _unary("{x} * {x}"),
    "identity": lambda a, dts, out: _cast(a[0], out),
    # sigmoid and softplus in the stable forms of the NumPy reference
    "sigmoid": _unary("{x} >= 0 ? 1 / (1 + {exp}(-{x})) : {exp}({x}) / (1 + {exp}({x}))"),
    "softplus": _unary("({x} > 0 ? {x} : 0) + {log1p}({exp}(-{fabs}({x})))"),
    "isnan": _isnan("isnan"),
    "isinf": _isnan("isinf"),
    "invert": _invert,
    "switch": lambda a, dts, out: f"({a[0]} ? {_cast(a[1], out)} : {_cast(a[2], out)})",
    "second": lambda a, dts, out: _cast(a[1], out),
    "clip": _clip,
}
