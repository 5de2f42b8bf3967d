"""Softmax and LogSoftmax over the last axis: one pass for the maximum, one for the sum."""
from symrnn.backends.numba.codegen import emit, loops, np_dtype
from symrnn.ops.nnet import LogSoftmax, Softmax


def _softmax(op, node, ctx, log):
    (x,), out = node.inputs, node.outputs[0]
    src, nd = ctx.name(x), x.type.ndim
    name = ctx.fresh("sm")
    dtype = np_dtype(out.type.dtype)
    ctx.line(f"{name} = np.empty({src}.shape, {dtype})")
    last = ctx.shape(x, nd - 1)
    outer, nest = loops(ctx, [ctx.shape(x, d) for d in range(nd - 1)])
    m, z, j = ctx.fresh("mx"), ctx.fresh("z"), ctx.fresh("j")
    at = ", ".join(outer + [j])
    with nest:
        ctx.line(f"{m} = -np.inf")
        with ctx.block(f"for {j} in range({last}):"):
            ctx.line(f"{m} = max({m}, {src}[{at}])")
        with ctx.block(f"if not np.isfinite({m}):"):
            ctx.line(f"{m} = 0.0")
        ctx.line(f"{z} = 0.0")
        with ctx.block(f"for {j} in range({last}):"):
            e = f"np.exp({src}[{at}] - {m})"
            if log:
                ctx.line(f"{z} += {e}")
            else:
                ctx.line(f"{name}[{at}] = {e}")
                ctx.line(f"{z} += {name}[{at}]")
        with ctx.block(f"for {j} in range({last}):"):
            if log:
                ctx.line(f"{name}[{at}] = {src}[{at}] - {m} - np.log({z})")
            else:
                ctx.line(f"{name}[{at}] = {name}[{at}] / {z}")
    ctx.define(out, name)


@emit.register(Softmax)
def _sm(op, node, ctx):
    _softmax(op, node, ctx, log=False)


@emit.register(LogSoftmax)
def _lsm(op, node, ctx):
    _softmax(op, node, ctx, log=True)
