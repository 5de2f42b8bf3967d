"""Elemwise (scalar ops by name) and DimShuffle -> loops and index maps."""
import re

from symrnn.backends.numba.codegen import (bounded, conv, emit, literal, loops, np_dtype,
                                           tuple_text)
from symrnn.graph import clients
from symrnn.ops.elemwise import Composite, DimShuffle, Elemwise
from symrnn.ops.reduction import Reduce
from symrnn.types import upcast

_INT = ("int", "uint", "bool")

_UNARY_NP = ("exp", "log", "log1p", "expm1", "log2", "log10", "sqrt", "sin", "cos",
             "arctan", "floor", "ceil", "round", "isnan", "isinf", "sign")

# name -> function(args as expressions, output dtype) -> expression
SCALAR = {
    "int_div": lambda a, d: (f"rt.int_div({a[0]}, {a[1]})" if d.startswith(_INT)
                             else f"({a[0]} // {a[1]})"),
    "mod": lambda a, d: (f"rt.int_mod({a[0]}, {a[1]})" if d.startswith(_INT)
                         else f"({a[0]} % {a[1]})"),
    "maximum": lambda a, d: f"rt.maximum({a[0]}, {a[1]})",
    "minimum": lambda a, d: f"rt.minimum({a[0]}, {a[1]})",
    "neg": lambda a, d: f"(-{a[0]})",
    "abs": lambda a, d: f"np.abs({a[0]})",
    "sgn": lambda a, d: f"np.sign({a[0]})",
    "sqr": lambda a, d: f"({a[0]} * {a[0]})",
    "sigmoid": lambda a, d: f"rt.sigmoid32({a[0]})" if d == "float32" else f"rt.sigmoid({a[0]})",
    "tanh": lambda a, d: f"rt.tanh32({a[0]})" if d == "float32" else f"np.tanh({a[0]})",
    "softplus": lambda a, d: f"rt.softplus({a[0]})",
    "invert": lambda a, d: f"(not {a[0]})" if d == "bool" else f"(~{a[0]})",
    "switch": lambda a, d: f"({a[1]} if {a[0]} else {a[2]})",
    "second": lambda a, d: a[1],
    "clip": lambda a, d: f"rt.minimum(rt.maximum({a[0]}, {a[1]}), {a[2]})",
    "identity": lambda a, d: a[0],
}
for _n in _UNARY_NP:
    SCALAR[_n] = (lambda n: lambda a, d: f"np.{n}({a[0]})")(_n)
for _n, _o in (("add", "+"), ("sub", "-"), ("mul", "*"), ("true_div", "/"), ("pow", "**"),
               ("eq", "=="), ("neq", "!="), ("lt", "<"), ("le", "<="), ("gt", ">"),
               ("ge", ">="), ("and_", "&"), ("or_", "|"), ("xor", "^")):  # infix
    SCALAR[_n] = (lambda o: lambda a, d: f"({a[0]} {o} {a[1]})")(_o)

_BOOL_RESULT = ("eq", "neq", "lt", "le", "gt", "ge", "isnan", "isinf")


def scalar_expr(scalar_op, args, in_dtypes, out_dtype):
    """The expression of ``scalar_op`` on argument expressions, as a value of ``out_dtype``."""
    name = scalar_op.name
    if name.startswith("cast_"):
        return conv(args[0], out_dtype)
    if name in _BOOL_RESULT:
        work = upcast(*in_dtypes)
        args = [a if d == work else conv(a, work) for a, d in zip(args, in_dtypes)]
        return SCALAR[name](args, work)
    if name == "switch":
        args = [args[0]] + [a if d == out_dtype else conv(a, out_dtype)
                            for a, d in zip(args[1:], in_dtypes[1:])]
        return SCALAR[name](args, out_dtype)
    args = [a if d == out_dtype else conv(a, out_dtype) for a, d in zip(args, in_dtypes)]
    if name == "pow" and args[1] in (f"{np_dtype(out_dtype)}(2.0)", f"{np_dtype(out_dtype)}(1.0)"):
        return args[0] if args[1].endswith("(1.0)") else conv(f"({args[0]} * {args[0]})",
                                                              out_dtype)
    return conv(SCALAR[name](args, out_dtype), out_dtype)


def _fusable(node, ctx):
    """Leave the output lazy: one reader, an Elemwise/Reduce over the same shape."""
    out = node.outputs[0]
    readers = ctx.clients.get(id(out), [])
    if out.type.ndim == 0 or len(readers) != 1:
        return False
    reader = readers[0][0]
    if reader == "output" or reader is None:
        return False
    if isinstance(reader.op, Elemwise):
        return reader.outputs[0].type.broadcastable == out.type.broadcastable
    return isinstance(reader.op, Reduce)


def composite_body(scalar_op, args, in_dtypes, fresh):
    """(statements, expression) of a Composite's body on the argument expressions.

    A value the body reads twice, or one nested too deep to inline, gets a local name (a
    statement); the others inline."""
    readers = clients([scalar_op.output], scalar_op.inputs)
    vals = {id(v): (a, d) for v, a, d in zip(scalar_op.inputs, args, in_dtypes)}
    lines, expr = [], None
    for n in scalar_op.nodes:
        ins = [vals[id(v)] if id(v) in vals else (literal(v.data, v.type.dtype), v.type.dtype)
               for v in n.inputs]
        out = n.outputs[0]
        expr = scalar_expr(n.op.scalar_op, [a for a, _ in ins], [d for _, d in ins],
                           out.type.dtype)
        if len(readers.get(id(out), [])) > 1:
            name = fresh("c")
            lines.append(f"{name} = {expr}")
            expr = name
        else:
            expr = bounded(expr, fresh, lines.append)
        vals[id(out)] = (expr, out.type.dtype)
    return lines, expr


def _pure(op):
    """Whether ``op``'s element is one expression (no statements): it may stay lazy."""
    if not isinstance(op, Composite):
        return True
    seen = set()
    for n in op.scalar_op.nodes:
        for v in n.inputs:
            if v.owner is not None and id(v) in seen:
                return False
            seen.add(id(v))
    return True


def _body(op, c, args, in_dtypes, dtype):
    if isinstance(op, Composite):
        return composite_body(op.scalar_op, args, in_dtypes, c.fresh)
    return [], scalar_expr(op.scalar_op, args, in_dtypes, dtype)


_LITERAL = re.compile(r"np\.\w+\(-?[\w.+-]+\)|True|False|-?np\.inf|np\.nan")
_ZERO = re.compile(r"np\.\w+\(0(\.0)?\)|False")


@emit.register(Elemwise)
def _elemwise(op, node, ctx):
    out = node.outputs[0]
    dtype = out.type.dtype
    in_dtypes = [v.type.dtype for v in node.inputs]
    if out.type.ndim == 0:
        lines, expr = _body(op, ctx, [ctx.elem(v, []) for v in node.inputs], in_dtypes, dtype)
        for text in lines:
            ctx.line(text)
        name = ctx.fresh("s")
        ctx.line(f"{name} = {expr}")
        ctx.define(out, name)
        return
    shape = []
    for d in range(out.type.ndim):
        lengths = [ctx.shape(v, d) for v in node.inputs if not v.type.broadcastable[d]]
        if not lengths:
            shape.append("1")
            continue
        n = ctx.fresh("n")
        ctx.line(f"{n} = {lengths[0]}")
        for other in lengths[1:]:
            ctx.check(f"{other} == {n}", node, "ValueError")
        shape.append(n)
    inputs = list(node.inputs)

    def elem(c, idx):  # inlined into the reader's loop body, where statements may go first
        lines, expr = _body(op, c, [c.elem(v, idx) for v in inputs], in_dtypes, dtype)
        for text in lines:
            c.line(text)
        return bounded(expr, c.fresh, c.line)

    def make(c):
        name = c.fresh("a")
        start = len(c.lines)
        c.line(f"{name} = np.empty({tuple_text(shape)}, {np_dtype(dtype)})")
        idx, nest = loops(c, shape)
        with nest:
            lines, expr = _body(op, c, [c.elem(v, idx) for v in inputs], in_dtypes, dtype)
            for text in lines:
                c.line(text)
            c.line(f"{name}[{', '.join(idx)}] = {expr}")
        if len(c.lines) == start + 2 + len(shape) and _LITERAL.fullmatch(expr) and \
                not set(idx) & set(re.findall(r"\w+", expr)):
            # a constant (zeros_like, ones_like): one call, not a loop nest per array
            # (numba compiles each nest for ~60 ms, a call to np.full for ~2 ms)
            del c.lines[start:]
            if _ZERO.fullmatch(expr):  # (memset; -0.0 is not zero bits)
                c.line(f"{name} = np.zeros({tuple_text(shape)}, {np_dtype(dtype)})")
            else:
                c.line(f"{name} = np.full({tuple_text(shape)}, {expr}, {np_dtype(dtype)})")
        return name

    pure = _pure(op)
    short = pure and ctx.set_lazy(out, elem, shape, make, inputs)
    if not short or not _fusable(node, ctx):
        ctx.define(out, make(ctx))


def _supports(node):
    op = node.op
    if isinstance(op, Composite):
        return all(_supports(n) for n in op.scalar_op.nodes)
    name = op.scalar_op.name
    return name.startswith("cast_") or name in SCALAR


_elemwise.supports = _supports


@emit.register(DimShuffle)
def _dimshuffle(op, node, ctx):
    (x,), out = node.inputs, node.outputs[0]
    order = op.new_order
    shape = ["1" if i == "x" else ctx.shape(x, i) for i in order]

    def elem(c, idx):
        src = [idx[order.index(i)] if i in order else "0" for i in range(x.type.ndim)]
        return c.elem(x, src)

    def make(c):
        name = c.fresh("v")
        if x.type.ndim == 0:
            c.line(f"{name} = np.full({tuple_text(['1'] * len(order))}, {c.elem(x, [])})")
            return name
        src = c.name(x)
        perm = list(op.shuffle) + list(op.drop)
        if perm == list(range(x.type.ndim))[::-1] and x.type.ndim > 1:
            src = f"{src}.T"
        elif perm != list(range(x.type.ndim)):
            # numba's transpose(axes) checks its axes with formatted messages that cost ~1 s
            # of compile per function: in a helper it is compiled once and cached on disk
            src = f"rt.transpose({src}, {tuple_text(map(str, perm))})"
        parts = ["None" if i == "x" else ":" for i in order] + ["0"] * len(op.drop)
        if parts:
            src = f"{src}[{', '.join(parts)}]"
        c.line(f"{name} = {src}")
        if id(x) in c.alias:
            c.alias.add(id(out))
        return name

    short = ctx.set_lazy(out, elem, shape, make, [x])
    if out.type.ndim and not short:
        ctx.define(out, make(ctx))
    elif out.type.ndim == 0:
        ctx.define(out, ctx.fresh("s"))
        ctx.line(f"{ctx.names[id(out)]} = {ctx.elem(x, ['0'] * x.type.ndim)}")
