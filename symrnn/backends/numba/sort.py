"""Sort and ArgSort -> a stable merge sort of each line along the axis (numba's np.argsort)."""
from symrnn.backends.numba.codegen import emit, loops, np_dtype
from symrnn.ops.sort import ArgSort, Sort


@emit.register(Sort)
@emit.register(ArgSort)
def _sort(op, node, ctx):
    (x,), out = node.inputs, node.outputs[0]
    src, name, order = ctx.name(x), ctx.fresh("a"), ctx.fresh("order")
    ctx.line(f"{name} = np.empty({src}.shape, {np_dtype(out.type.dtype)})")
    others = [d for d in range(x.type.ndim) if d != op.axis]
    idx, nest = loops(ctx, [f"{src}.shape[{d}]" for d in others])
    with nest:
        at = list(idx)
        at.insert(op.axis, ":")
        line = ", ".join(at)
        ctx.line(f"{order} = np.argsort({src}[{line}], kind='mergesort')")  # stable, NaN last
        value = f"{src}[{line}][{order}]" if isinstance(op, Sort) else order
        ctx.line(f"{name}[{line}] = {value}")
    ctx.define(out, name)


_sort.supports = lambda node: node.inputs[0].type.dtype != "bool"
