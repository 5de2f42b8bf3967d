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


_FULL = ("slice", None, None, None)


def _layout(node):
    """(leading full slices, the index arrays) when ``node`` indexes x[:, ..., ids..., :]:
    integer arrays (broadcast together, any ints among them) on adjacent axes after full
    slices, or one boolean mask over the leading axes; None for other indexes."""
    x = node.inputs[0]
    arrays = node.inputs[1 if isinstance(node.op, AdvancedSubtensor) else 2:]
    entries = list(node.op.idx_list)
    while entries and entries[-1] == _FULL:
        entries.pop()
    lead = 0
    while lead < len(entries) and entries[lead] == _FULL:
        lead += 1
    if entries[lead:] != ["v"] * len(arrays) or not arrays:
        return None
    if arrays[0].type.dtype == "bool":
        ok = len(arrays) == 1 and lead == 0 and 1 <= arrays[0].type.ndim <= x.type.ndim
        return (0, arrays) if ok else None
    if not all(a.type.dtype.startswith(("int", "uint")) for a in arrays):
        return None
    return lead, arrays


class _Picker:
    """The elements of ``x`` an advanced index picks: ``shape`` of the result, and ``each()``
    opening the loops over it, giving (index into the result, index into x)."""

    def __init__(self, ctx, node, src):
        self.ctx, self.node, self.src = ctx, node, src
        x = node.inputs[0]
        self.lead, arrays = _layout(node)
        self.ids = [ctx.name(a) for a in arrays]
        self.arrays = arrays
        self.mask = arrays[0].type.dtype == "bool"
        used = arrays[0].type.ndim if self.mask else len(arrays)
        self.rest = [f"{src}.shape[{d}]" for d in range(self.lead + used, x.type.ndim)]
        outer = [f"{src}.shape[{d}]" for d in range(self.lead)]
        self.shape = outer + self._broadcast() + self.rest

    def _broadcast(self):
        ctx, node, src = self.ctx, self.node, self.src
        if self.mask:
            (ids,), (m,) = self.ids, self.arrays
            for d in range(m.type.ndim):  # NumPy: IndexError when the mask's shape differs
                ctx.check(f"{ids}.shape[{d}] == {src}.shape[{d}]", node, "IndexError")
            cnt = ctx.fresh("cnt")
            ctx.line(f"{cnt} = np.int64(np.count_nonzero({ids}))")
            return [cnt]
        self.nb = max(a.type.ndim for a in self.arrays)
        dims = []
        for d in range(self.nb):
            size = ctx.fresh("B")
            ctx.line(f"{size} = 1")
            for a, ids in zip(self.arrays, self.ids):
                k = d - (self.nb - a.type.ndim)
                if k >= 0 and not a.type.broadcastable[k]:
                    n = f"{ids}.shape[{k}]"
                    ctx.check(f"{n} == 1 or {size} == 1 or {n} == {size}", node, "IndexError")
                    with ctx.block(f"if {n} != 1:"):
                        ctx.line(f"{size} = {n}")
            dims.append(size)
        return dims

    @contextmanager
    def each(self):
        ctx = self.ctx
        outer, nest = loops(ctx, self.shape[:self.lead], "j")
        with nest:
            if self.mask:
                (ids,) = self.ids
                at = ctx.fresh("at")
                ctx.line(f"{at} = 0")
                idx, nest2 = loops(ctx, [f"{ids}.shape[{d}]"
                                         for d in range(self.arrays[0].type.ndim)])
                with nest2, ctx.block(f"if {ids}[{', '.join(idx)}]:"):
                    rest, nest3 = loops(ctx, self.rest, "r")
                    with nest3:
                        yield [at] + rest, idx + rest
                    ctx.line(f"{at} += 1")
                return
            b, nest2 = loops(ctx, self.shape[self.lead:self.lead + self.nb], "b")
            with nest2:
                ks = [self._entry(a, ids, b, self.lead + i)
                      for i, (a, ids) in enumerate(zip(self.arrays, self.ids))]
                rest, nest3 = loops(ctx, self.rest, "r")
                with nest3:
                    yield outer + b + rest, outer + ks + rest

    def _entry(self, a, ids, b, axis):
        """The row of x's ``axis`` that index array ``a`` names at broadcast position ``b``."""
        ctx = self.ctx
        at = []
        for k in range(a.type.ndim):
            i = b[k + self.nb - a.type.ndim]
            at.append("0" if a.type.broadcastable[k] else f"min({i}, {ids}.shape[{k}] - 1)")
        k, n = ctx.fresh("k"), f"{self.src}.shape[{axis}]"
        ctx.line(f"{k} = np.int64({ids}[{', '.join(at)}])" if at else f"{k} = np.int64({ids})")
        ctx.check(f"-{n} <= {k} < {n}", self.node, "IndexError")
        with ctx.block(f"if {k} < 0:"):
            ctx.line(f"{k} += {n}")
        return k


@emit.register(AdvancedSubtensor)
def _advanced_subtensor(op, node, ctx):
    src = ctx.name(node.inputs[0])
    pick = _Picker(ctx, node, src)
    name = ctx.fresh("a")
    ctx.line(f"{name} = np.empty({tuple_text(pick.shape)}, {np_dtype(node.inputs[0].type.dtype)})")
    with pick.each() as (out, at):
        ctx.line(f"{name}[{', '.join(out)}] = {src}[{', '.join(at)}]")
    ctx.define(node.outputs[0], name)


_advanced_subtensor.supports = lambda node: _layout(node) is not None


@emit.register(AdvancedIncSubtensor)
def _advanced_inc_subtensor(op, node, ctx):
    x, y = node.inputs[:2]
    src, val = ctx.name(x), ctx.name(y)
    name = _copy_or_reuse(ctx, x)
    pick = _Picker(ctx, node, src)
    lead = len(pick.shape) - y.type.ndim
    for d, b in enumerate(y.type.broadcastable):
        if not b:
            ctx.check(f"{val}.shape[{d}] == {pick.shape[lead + d]}", node, "ValueError")
    sign = "=" if op.set_instead_of_inc else "+="
    with pick.each() as (out, at):
        value = ctx.elem(y, [out[lead + d] for d in range(y.type.ndim)])
        ctx.line(f"{name}[{', '.join(at)}] {sign} {value}")
    _hand_over(ctx, x, node.outputs[0], name)


_advanced_inc_subtensor.supports = lambda node: _layout(node) is not None
