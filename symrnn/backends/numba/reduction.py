"""Reduce -> loops in the input's memory order accumulating into the output; cumsum/cumprod."""
import numpy as np

from symrnn.backends.numba.codegen import conv, emit, literal, loops, np_dtype, tuple_text
from symrnn.ops.reduction import CumOp, Reduce

_COMBINE = {
    "sum": "({acc} + {v})",
    "prod": "({acc} * {v})",
    "max": "rt.maximum({acc}, {v})",
    "min": "rt.minimum({acc}, {v})",
    "all": "({acc} and ({v} != 0))",
    "any": "({acc} or ({v} != 0))",
}


def _init(kind, dtype):
    if kind in ("sum", "prod"):
        return literal(0 if kind == "sum" else 1, dtype)
    if kind in ("all", "any"):
        return repr(kind == "all")
    if dtype.startswith("float"):
        return literal(-np.inf if kind == "max" else np.inf, dtype)
    info = np.iinfo(dtype)
    return literal(info.min if kind == "max" else info.max, dtype)


def _acc_dtype(kind, dtype):
    return "float64" if kind in ("sum", "prod") and dtype == "float32" else dtype


@emit.register(Reduce)
def _reduce(op, node, ctx):
    (x,), out = node.inputs, node.outputs[0]
    shape = [ctx.shape(x, d) for d in range(x.type.ndim)]
    kept = [d for d in range(x.type.ndim) if d not in op.axis]
    dtype = out.type.dtype
    if op.kind in ("max", "min", "argmax", "argmin") and op.axis:
        size = " * ".join(shape[d] for d in op.axis)
        ctx.check(f"{size} > 0", node, "ValueError")
    if op.kind in ("argmax", "argmin"):
        _arg(op, node, ctx, x, shape, kept)
        return
    acc_dtype = _acc_dtype(op.kind, dtype)
    combine = _COMBINE[op.kind]
    idx, nest = loops(ctx, shape)
    name = ctx.fresh("r")
    if not kept:
        acc = ctx.fresh("acc")
        ctx.line(f"{acc} = {_init(op.kind, acc_dtype)}")
        with nest:
            v = conv(ctx.elem(x, idx), acc_dtype)
            ctx.line(f"{acc} = {combine.format(acc=acc, v=v)}")
        ctx.line(f"{name} = {conv(acc, dtype)}")
        ctx.define(out, name)
        return
    out_shape = tuple_text(shape[d] for d in kept)
    acc = ctx.fresh("acc")
    ctx.line(f"{acc} = np.full({out_shape}, {_init(op.kind, acc_dtype)}, {np_dtype(acc_dtype)})")
    at = f"{acc}[{', '.join(idx[d] for d in kept)}]"
    with nest:
        v = conv(ctx.elem(x, idx), acc_dtype)
        ctx.line(f"{at} = {combine.format(acc=at, v=v)}")
    if acc_dtype != dtype:
        ctx.line(f"{name} = {acc}.astype({np_dtype(dtype)})")
    else:
        name = acc
    ctx.define(out, name)


def _arg(op, node, ctx, x, shape, kept):
    out = node.outputs[0]
    if x.type.ndim == 0:
        name = ctx.fresh("s")
        ctx.line(f"{name} = np.int64(0)")
        ctx.define(out, name)
        return
    (axis,) = op.axis
    better = ">" if op.kind == "argmax" else "<"
    name = ctx.fresh("r")
    outer, nest = loops(ctx, [shape[d] for d in kept])
    if kept:
        ctx.line(f"{name} = np.empty({tuple_text(shape[d] for d in kept)}, np.int64)")
    best, at, k = ctx.fresh("best"), ctx.fresh("at"), ctx.fresh("k")
    with nest:
        full = list(outer)
        full.insert(axis, "0")
        ctx.line(f"{best} = {ctx.elem(x, full)}")
        ctx.line(f"{at} = 0")
        full[axis] = k
        with ctx.block(f"for {k} in range(1, {shape[axis]}):"):
            v = ctx.fresh("v")
            ctx.line(f"{v} = {ctx.elem(x, full)}")
            with ctx.block(f"if {v} {better} {best} or ({v} != {v} and {best} == {best}):"):
                ctx.line(f"{best} = {v}")
                ctx.line(f"{at} = {k}")
        if kept:
            ctx.line(f"{name}[{', '.join(outer)}] = {at}")
        else:
            ctx.line(f"{name} = np.int64({at})")
    ctx.define(out, name)


@emit.register(CumOp)
def _cumulative(op, node, ctx):
    (x,), out = node.inputs, node.outputs[0]
    src, dtype = ctx.name(x), out.type.dtype
    name, acc, t = ctx.fresh("a"), ctx.fresh("acc"), ctx.fresh("t")
    ctx.line(f"{name} = np.empty({src}.shape, {np_dtype(dtype)})")
    others = [d for d in range(x.type.ndim) if d != op.axis]
    idx, nest = loops(ctx, [f"{src}.shape[{d}]" for d in others])
    with nest:
        ctx.line(f"{acc} = {literal(0 if op.mode == 'add' else 1, dtype)}")
        at = list(idx)
        at.insert(op.axis, t)
        with ctx.block(f"for {t} in range({src}.shape[{op.axis}]):"):
            combine, where = "+" if op.mode == "add" else "*", ", ".join(at)
            ctx.line(f"{acc} = {conv(f'{acc} {combine} {src}[{where}]', dtype)}")
            ctx.line(f"{name}[{where}] = {acc}")
    ctx.define(out, name)
