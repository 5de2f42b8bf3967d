"""MRGUniform -> a call of the compiled generator (rng.py, ``rnd`` in the generated source).

Translation only: this module imports no numba (function() writes the source before numba is
imported, see loading.py).
"""
from symrnn.backends.numba.codegen import emit, tuple_text
from symrnn.ops import random as R

_M1 = R.M1


@emit.register(R.MRGUniform)
def _mrg_uniform(op, node, ctx):
    (rstate, size), (new_state, sample) = node.inputs, node.outputs
    st, sz = ctx.name(rstate), ctx.name(size)
    dims = [ctx.fresh("m") for _ in range(op.ndim)]
    ctx.check(f"{st}.shape[0] >= 1 and {st}.shape[1] == 6 and {sz}.shape[0] == {op.ndim}",
              node)
    total = ctx.fresh("m")
    ctx.line(f"{total} = 1")
    for k, d in enumerate(dims):
        ctx.line(f"{d} = np.int64({sz}[{k}])")
        ctx.check(f"{d} >= 0", node)
        ctx.line(f"{total} *= {d}")
    ctx.check(f"{total} <= {_M1}", node)
    state, flat = ctx.fresh("st"), ctx.fresh("u")
    fn = "mrg_uniform_f32" if op.dtype == "float32" else "mrg_uniform_f64"
    ctx.line(f"{state}, {flat} = rnd.{fn}({st}, {total})")
    ctx.define(new_state, state)
    if op.ndim == 0:
        out = ctx.fresh("s")
        ctx.line(f"{out} = {flat}[0]")
        ctx.define(sample, out)
    else:
        out = ctx.fresh("u")
        ctx.line(f"{out} = {flat}.reshape({tuple_text(dims)})")
        ctx.define(sample, out)
