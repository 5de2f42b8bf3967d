"""Shape, MakeVector, Reshape, Alloc, Join, Rebroadcast, ARange, Eye."""
from symrnn.backends.numba.codegen import conv, emit, loops, np_dtype, tuple_text
from symrnn.ops.shape import ARange, Alloc, Eye, Join, MakeVector, Rebroadcast, Reshape, Shape


def _vector(ctx, var, entries):
    """Define ``var`` as a vector holding the scalar expressions ``entries``."""
    name = ctx.fresh("v")
    ctx.line(f"{name} = np.empty({len(entries)}, {np_dtype(var.type.dtype)})")
    for k, e in enumerate(entries):
        ctx.line(f"{name}[{k}] = {e}")
    return name


def _entry_elem(entries):
    def elem(c, idx):
        (i,) = idx
        return entries[int(i)] if i.lstrip("-").isdigit() else None
    return elem


def _set_vector(ctx, out, entries):
    lazy_elem = _entry_elem(entries)

    def elem(c, idx):
        e = lazy_elem(c, idx)
        return e if e is not None else f"{c.name(out)}[{idx[0]}]"
    ctx.set_lazy(out, elem, [str(len(entries))], lambda c: _vector(c, out, entries))


@emit.register(Shape)
def _shape(op, node, ctx):
    (x,), out = node.inputs, node.outputs[0]
    _set_vector(ctx, out, [f"np.int64({ctx.shape(x, d)})" for d in range(x.type.ndim)])


@emit.register(MakeVector)
def _make_vector(op, node, ctx):
    out = node.outputs[0]
    _set_vector(ctx, out, [conv(ctx.elem(v, []), op.dtype) for v in node.inputs])


def _entries(ctx, vec, n):
    return [ctx.elem(vec, [str(k)]) for k in range(n)]


@emit.register(Reshape)
def _reshape(op, node, ctx):
    (x, shp), out = node.inputs, node.outputs[0]
    sizes = [conv(e, "int64") for e in _entries(ctx, shp, op.ndim)]
    size = " * ".join(ctx.shape(x, d) for d in range(x.type.ndim)) or "1"
    if sizes:
        whole = ctx.fresh("m")
        ctx.line(f"{whole} = rt.reshape_sizes({tuple_text(sizes)}, {size})")
        ctx.check(f"{whole}[0] >= 0", node, "ValueError")
        sizes = [whole]
    name = ctx.fresh("v")
    src = ctx.name(x)
    if x.type.ndim == 0:
        ctx.line(f"{name} = np.full({tuple_text(['1'] * op.ndim)}, {src})")
    elif op.ndim == 0:
        ctx.line(f"{name} = {src}.ravel()[0]")
    else:
        ctx.line(f"{name} = np.ascontiguousarray({src}).reshape({sizes[0]})")
    ctx.define(out, name, alias=id(x) in ctx.alias)


@emit.register(Alloc)
def _alloc(op, node, ctx):
    value, *dims = node.inputs
    out = node.outputs[0]
    shape = [ctx.fresh("n") for _ in dims]
    for s, d in zip(shape, dims):
        ctx.line(f"{s} = {conv(ctx.elem(d, []), 'int64')}")
    name = ctx.fresh("a")
    dtype = np_dtype(out.type.dtype)
    if value.type.ndim == 0:
        ctx.line(f"{name} = np.full({tuple_text(shape)}, {ctx.elem(value, [])}, {dtype})")
        ctx.define(out, name)
        return
    lead = len(shape) - value.type.ndim
    vshape = [ctx.shape(value, j) for j in range(value.type.ndim)]
    conds = [f"({v} == 1 or {v} == {shape[lead + j]})" for j, v in enumerate(vshape)]
    ctx.check(" and ".join(conds), node, "ValueError")
    ctx.line(f"{name} = np.empty({tuple_text(shape)}, {dtype})")
    src = ctx.name(value)
    idx, nest = loops(ctx, shape)
    with nest:
        vidx = [f"({idx[lead + j]} if {v} != 1 else 0)" for j, v in enumerate(vshape)]
        ctx.line(f"{name}[{', '.join(idx)}] = {src}[{', '.join(vidx)}]")
    ctx.define(out, name)


@emit.register(Join)
def _join(op, node, ctx):
    out = node.outputs[0]
    dtype = out.type.dtype
    parts = []
    for v in node.inputs:
        n = ctx.name(v)
        parts.append(n if v.type.dtype == dtype else f"{n}.astype({np_dtype(dtype)})")
    ax = op.axis
    first = node.inputs[0]
    for v in node.inputs[1:]:
        for d in range(first.type.ndim):
            if d != ax:
                ctx.check(f"{ctx.shape(v, d)} == {ctx.shape(first, d)}", node, "ValueError")
    name = ctx.fresh("j")
    ctx.line(f"{name} = np.concatenate({tuple_text(parts)}, axis={ax})")
    ctx.define(out, name)


@emit.register(Rebroadcast)
def _rebroadcast(op, node, ctx):
    (x,), out = node.inputs, node.outputs[0]
    src = ctx.name(x)
    for d, b in enumerate(op.broadcastable):
        if b and not x.type.broadcastable[d]:
            ctx.check(f"{src}.shape[{d}] == 1", node, "ValueError")
    ctx.define(out, src, alias=id(x) in ctx.alias)


@emit.register(ARange)
def _arange(op, node, ctx):
    start, stop, step = (ctx.elem(v, []) for v in node.inputs)
    s, e, st, n, name, i = (ctx.fresh(p) for p in ("s", "s", "s", "n", "a", "i"))
    ctx.line(f"{s}, {e}, {st} = {start}, {stop}, {step}")
    ctx.check(f"{st} != 0", node, "ValueError")
    ctx.line(f"{n} = max(0, int(np.ceil(({e} - {s}) / {st})))")
    ctx.line(f"{name} = np.empty({n}, {np_dtype(op.dtype)})")
    with ctx.block(f"for {i} in range({n}):"):
        ctx.line(f"{name}[{i}] = {conv(f'{s} + {i} * {st}', op.dtype)}")
    ctx.define(node.outputs[0], name)


@emit.register(Eye)
def _eye(op, node, ctx):
    n, m, k = (ctx.fresh(p) for p in ("n", "n", "k"))
    ctx.line(f"{n}, {m}, {k} = {', '.join(f'np.int64({ctx.elem(v, [])})' for v in node.inputs)}")
    ctx.check(f"{n} >= 0 and {m} >= 0", node, "ValueError")
    name, i = ctx.fresh("a"), ctx.fresh("i")
    ctx.line(f"{name} = np.zeros(({n}, {m}), {np_dtype(op.dtype)})")
    with ctx.block(f"for {i} in range(max(0, -{k}), min({n}, {m} - {k})):"):
        ctx.line(f"{name}[{i}, {i} + {k}] = 1")
    ctx.define(node.outputs[0], name)
