"""Dot and BatchedDot -> BLAS gemm calls (float32/float64) or loops."""
from symrnn.backends.numba.codegen import emit, np_dtype
from symrnn.ops.blas import BatchedDot, Dot

_GEMM = {"float64": "rt.dgemm", "float32": "rt.sgemm"}


def _operand(ctx, v, dtype):
    name = ctx.name(v)
    if v.type.ndim == 0 or v.type.dtype == dtype:
        return name
    return f"{name}.astype({np_dtype(dtype)})"


@emit.register(Dot)
def _dot(op, node, ctx):
    (x, y), out = node.inputs, node.outputs[0]
    dtype = out.type.dtype
    a, b = _operand(ctx, x, dtype), _operand(ctx, y, dtype)
    nx, ny = x.type.ndim, y.type.ndim
    ka, kb = ctx.shape(x, nx - 1), ctx.shape(y, 0)
    ctx.check(f"{ka} == {kb}", node, "ValueError")
    name = ctx.fresh("d")
    if nx == 1 and ny == 1:
        ctx.line(f"{name} = {np_dtype(dtype)}(rt.dot11({a}, {b}))")
    elif nx == 2 and ny == 2:
        rows, cols = ctx.shape(x, 0), ctx.shape(y, 1)
        ctx.line(f"{name} = np.empty(({rows}, {cols}), {np_dtype(dtype)})")
        ctx.line(f"{_GEMM.get(dtype, 'rt.loop22')}({a}, {b}, {name})")
    elif nx == 2:
        ctx.line(f"{name} = np.empty({ctx.shape(x, 0)}, {np_dtype(dtype)})")
        ctx.line(f"rt.dot21({a}, {b}, {name})")
    else:
        ctx.line(f"{name} = np.empty({ctx.shape(y, 1)}, {np_dtype(dtype)})")
        ctx.line(f"rt.dot12({a}, {b}, {name})")
    ctx.define(out, name)


@emit.register(BatchedDot)
def _batched_dot(op, node, ctx):
    (x, y), out = node.inputs, node.outputs[0]
    dtype = out.type.dtype
    a, b = _operand(ctx, x, dtype), _operand(ctx, y, dtype)
    ctx.check(f"{ctx.shape(x, 0)} == {ctx.shape(y, 0)} and {ctx.shape(x, 2)} == "
              f"{ctx.shape(y, 1)}", node, "ValueError")
    name, i = ctx.fresh("d"), ctx.fresh("b")
    ctx.line(f"{name} = np.empty(({ctx.shape(x, 0)}, {ctx.shape(x, 1)}, {ctx.shape(y, 2)}), "
             f"{np_dtype(dtype)})")
    with ctx.block(f"for {i} in range({ctx.shape(x, 0)}):"):
        ctx.line(f"{_GEMM.get(dtype, 'rt.loop22')}({a}[{i}], {b}[{i}], {name}[{i}])")
    ctx.define(out, name)
