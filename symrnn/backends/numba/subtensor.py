"""Subtensor (a view, with index checks), IncSubtensor (a copy, then set or add), and
x[int array] on the first axis (embedding lookups) and x[boolean mask], with their set/inc."""
import re
from contextlib import contextmanager

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


def _one_index_array(node):
    """x[ids] with one integer array on the first axis (embeddings) or one boolean mask
    over the leading axes: the cases translated."""
    idx = node.inputs[-1]
    return node.op.idx_list == ("v",) and idx.type.ndim >= 1 and (
        idx.type.dtype.startswith(("int", "uint")) or
        (idx.type.dtype == "bool" and idx.type.ndim <= node.inputs[0].type.ndim))


class _Rows:
    """The rows of ``x`` an index array picks, in order: ``count`` of them; ``each()`` opens
    the loop over them and returns (position in the result, index of the row in x)."""

    def __init__(self, ctx, node, src, ids):
        self.ctx, self.node, self.src, self.ids = ctx, node, src, ids
        self.ndim = node.inputs[-1].type.ndim
        self.mask = node.inputs[-1].type.dtype == "bool"
        if not self.mask:
            self.count = [f"{ids}.shape[{d}]" for d in range(self.ndim)]
            return
        for d in range(self.ndim):  # NumPy: IndexError when the mask's shape differs
            ctx.check(f"{ids}.shape[{d}] == {src}.shape[{d}]", node, "IndexError")
        self.count = [ctx.fresh("cnt")]
        ctx.line(f"{self.count[0]} = np.int64(np.count_nonzero({ids}))")

    @contextmanager
    def each(self):
        ctx, src, ids = self.ctx, self.src, self.ids
        idx, nest = loops(ctx, [f"{ids}.shape[{d}]" for d in range(self.ndim)])
        if self.mask:
            at = ctx.fresh("at")
            ctx.line(f"{at} = 0")
            with nest, ctx.block(f"if {ids}[{', '.join(idx)}]:"):
                yield [at], idx
                ctx.line(f"{at} += 1")
            return
        with nest:
            k, n = ctx.fresh("k"), f"{src}.shape[0]"
            ctx.line(f"{k} = np.int64({ids}[{', '.join(idx)}])")
            ctx.check(f"-{n} <= {k} < {n}", self.node, "IndexError")
            with ctx.block(f"if {k} < 0:"):
                ctx.line(f"{k} += {n}")
            yield idx, [k]


@emit.register(AdvancedSubtensor)
def _advanced_subtensor(op, node, ctx):
    x, i = node.inputs
    src, ids = ctx.name(x), ctx.name(i)
    rows = _Rows(ctx, node, src, ids)
    skip = i.type.ndim if rows.mask else 1  # the axes of x the index consumes
    name = ctx.fresh("a")
    rest = [f"{src}.shape[{d}]" for d in range(skip, x.type.ndim)]
    ctx.line(f"{name} = np.empty({tuple_text(rows.count + rest)}, {np_dtype(x.type.dtype)})")
    with rows.each() as (at, row):
        inner, nest = loops(ctx, rest, "j")
        with nest:
            ctx.line(f"{name}[{', '.join(at + inner)}] = {src}[{', '.join(row + inner)}]")
    ctx.define(node.outputs[0], name)


_advanced_subtensor.supports = _one_index_array


@emit.register(AdvancedIncSubtensor)
def _advanced_inc_subtensor(op, node, ctx):
    x, y, i = node.inputs
    src, ids, val = ctx.name(x), ctx.name(i), ctx.name(y)
    name = _copy_or_reuse(ctx, x)
    rows = _Rows(ctx, node, src, ids)
    skip = i.type.ndim if rows.mask else 1
    region = rows.count + [f"{src}.shape[{d}]" for d in range(skip, x.type.ndim)]
    lead = len(region) - y.type.ndim
    for d, b in enumerate(y.type.broadcastable):
        if not b:
            ctx.check(f"{val}.shape[{d}] == {region[lead + d]}", node, "ValueError")
    sign = "=" if op.set_instead_of_inc else "+="
    with rows.each() as (at, row):
        inner, nest = loops(ctx, region[len(at):], "j")
        with nest:
            every = at + inner
            value = ctx.elem(y, [every[lead + d] for d in range(y.type.ndim)])
            ctx.line(f"{name}[{', '.join(row + inner)}] {sign} {value}")
    _hand_over(ctx, x, node.outputs[0], name)


_advanced_inc_subtensor.supports = _one_index_array
