"""Subtensor (a view, with index checks), IncSubtensor (a copy, then set or add), and
x[int array] and its set/inc on the first axis (embedding lookups and their gradients)."""
import re

from symrnn.backends.numba.codegen import emit, loops, np_dtype, tuple_text
from symrnn.ops.subtensor import (AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor,
                                  Subtensor)


def _index(ctx, node, x, idx_list, values):
    """(index text, view is a scalar) for ``x[idx]``, emitting range checks for int entries."""
    values = iter(values)
    parts = []
    for d, e in enumerate(idx_list):
        if isinstance(e, tuple):
            bounds = [("" if p is None else (ctx.elem(next(values), []) if p == "v" else str(p)))
                      for p in e[1:]]
            parts.append(":".join(bounds[:2]) + (f":{bounds[2]}" if bounds[2] else ""))
            continue
        i = ctx.elem(next(values), []) if e == "v" else str(e)
        n = ctx.shape(x, d)
        k = ctx.fresh("k")
        ctx.line(f"{k} = np.int64({i})")
        ctx.check(f"-{n} <= {k} < {n}", node, "IndexError")
        parts.append(f"{k} if {k} >= 0 else {k} + {n}")
    scalar = len(parts) == x.type.ndim and all(not isinstance(e, tuple) for e in idx_list)
    return ", ".join(f"({p})" if " if " in p else p for p in parts), scalar


@emit.register(Subtensor)
def _subtensor(op, node, ctx):
    x, *values = node.inputs
    out = node.outputs[0]
    if ctx.is_lazy(x) and len(op.idx_list) == x.type.ndim == 1 and isinstance(op.idx_list[0], int):
        k = op.idx_list[0]
        n = ctx.shape(x, 0)
        if n.isdigit() and -int(n) <= k < int(n):  # a known entry of a shape vector
            name = ctx.fresh("s")
            ctx.line(f"{name} = {ctx.elem(x, [str(k % int(n))])}")
            ctx.define(out, name)
            return
    src = ctx.name(x)
    index, scalar = _index(ctx, node, x, op.idx_list, values)
    name = ctx.fresh("s" if scalar else "v")
    ctx.line(f"{name} = {src}[{index}]" if index else f"{name} = {src}")
    ctx.define(out, name, alias=not scalar and id(x) in ctx.alias)


def _hand_over(ctx, x, out, name):
    """Define ``out`` as ``name``; if that is x's array, x (read by nobody else) loses it."""
    if ctx.names.get(id(x)) == name:
        del ctx.names[id(x)]
    ctx.define(out, name)


def _copy_or_reuse(ctx, x):
    """The name of an array to write ``x[idx] = y`` into: ``x`` itself when nothing else
    can see it (allocated by its own node here, one reader, no other name for it, not an
    argument's memory), else a copy. Gradients through slices chain many of these."""
    name = ctx.names.get(id(x))
    if (x.owner is not None and name is not None and re.fullmatch(r"[ac]\d+", name)
            and id(x) not in ctx.alias and len(ctx.clients.get(id(x), [])) == 1
            and sum(1 for n in ctx.names.values() if n == name) == 1):
        return name
    copy = ctx.fresh("c")
    ctx.line(f"{copy} = {ctx.name(x)}.copy()")
    return copy


@emit.register(IncSubtensor)
def _inc_subtensor(op, node, ctx):
    x, y, *values = node.inputs
    out = node.outputs[0]
    ctx.name(x)
    name = _copy_or_reuse(ctx, x)
    index, scalar = _index(ctx, node, x, op.idx_list, values)
    val = ctx.name(y)
    if not scalar and y.type.ndim:
        region = ctx.fresh("g")
        ctx.line(f"{region} = {name}[{index}]")
        for k in range(1, y.type.ndim + 1):
            if not y.type.broadcastable[-k]:
                ctx.check(f"{val}.shape[-{k}] == {region}.shape[-{k}]", node, "ValueError")
    sign = "=" if op.set_instead_of_inc else "+="
    if not scalar and y.type.ndim:  # explicit loops: numba's own broadcasting costs seconds
        ndim = x.type.ndim - sum(1 for e in op.idx_list if not isinstance(e, tuple))
        idx, nest = loops(ctx, [f"{region}.shape[{d}]" for d in range(ndim)], "j")
        yidx = ["0" if b else idx[ndim - y.type.ndim + d]
                for d, b in enumerate(y.type.broadcastable)]
        with nest:
            ctx.line(f"{region}[{', '.join(idx)}] {sign} {val}[{', '.join(yidx)}]")
    else:
        ctx.line(f"{name}[{index}] {sign} {val}")
    _hand_over(ctx, x, out, name)


def _one_int_array(node):
    """x[ids] with one integer array on the first axis: the case translated (embeddings)."""
    idx = node.inputs[-1]
    return node.op.idx_list == ("v",) and idx.type.ndim >= 1 and \
        idx.type.dtype.startswith(("int", "uint"))


def _rows(ctx, node, x, ids):
    """(index names, nest): loops over every entry of the index array ``ids``."""
    return loops(ctx, [f"{ids}.shape[{d}]" for d in range(node.inputs[-1].type.ndim)])


def _row_of(ctx, node, x, ids, idx):
    k, n = ctx.fresh("k"), f"{x}.shape[0]"
    ctx.line(f"{k} = np.int64({ids}[{', '.join(idx)}])")
    ctx.check(f"-{n} <= {k} < {n}", node, "IndexError")
    with ctx.block(f"if {k} < 0:"):
        ctx.line(f"{k} += {n}")
    return k


@emit.register(AdvancedSubtensor)
def _advanced_subtensor(op, node, ctx):
    x, i = node.inputs
    src, ids = ctx.name(x), ctx.name(i)
    name = ctx.fresh("a")
    rest = [f"{src}.shape[{d}]" for d in range(1, x.type.ndim)]
    shape = [f"{ids}.shape[{d}]" for d in range(i.type.ndim)] + rest
    ctx.line(f"{name} = np.empty({tuple_text(shape)}, {np_dtype(x.type.dtype)})")
    idx, nest = _rows(ctx, node, src, ids)
    with nest:
        k = _row_of(ctx, node, src, ids, idx)
        inner, nest2 = loops(ctx, rest, "j")
        with nest2:
            ctx.line(f"{name}[{', '.join(idx + inner)}] = {src}[{', '.join([k] + inner)}]")
    ctx.define(node.outputs[0], name)


_advanced_subtensor.supports = _one_int_array


@emit.register(AdvancedIncSubtensor)
def _advanced_inc_subtensor(op, node, ctx):
    x, y, i = node.inputs
    src, ids, val = ctx.name(x), ctx.name(i), ctx.name(y)
    name = _copy_or_reuse(ctx, x)
    region = [f"{ids}.shape[{d}]" for d in range(i.type.ndim)] + \
             [f"{src}.shape[{d}]" for d in range(1, x.type.ndim)]
    lead = len(region) - y.type.ndim
    for d, b in enumerate(y.type.broadcastable):
        if not b:
            ctx.check(f"{val}.shape[{d}] == {region[lead + d]}", node, "ValueError")
    idx, nest = _rows(ctx, node, src, ids)
    sign = "=" if op.set_instead_of_inc else "+="
    with nest:
        k = _row_of(ctx, node, src, ids, idx)
        inner, nest2 = loops(ctx, region[i.type.ndim:], "j")
        with nest2:
            every = idx + inner
            value = ctx.elem(y, [every[lead + d] for d in range(y.type.ndim)])
            ctx.line(f"{name}[{', '.join([k] + inner)}] {sign} {value}")
    _hand_over(ctx, x, node.outputs[0], name)


_advanced_inc_subtensor.supports = _one_int_array
