"""Scan -> a counted ``for`` loop in the same source, its inner graph inlined as the body.

Buffers are allocated once before the loop (recurrent outputs with their initial
rows, mapped outputs on the first step, when their shape is known); ``until``
becomes a ``break``. Backward scans are Scans too, so training runs the same way.
"""
from symrnn.backends.numba.codegen import copy_into, emit, np_dtype, translatable, tuple_text
from symrnn.backends.numba.elementwise_scan import try_fused
from symrnn.compile.fgraph import FunctionGraph
from symrnn.graph import clone_replace
from symrnn.ops.scan import Scan
from symrnn.rewrite import rewrite_graph

_INNER = {}  # id(op) -> (op, rewritten inner FunctionGraph)


def inner_graph(op):
    """The op's inner graph, copied and rewritten for this backend (once per op)."""
    hit = _INNER.get(id(op))
    if hit is None or hit[0] is not op:
        fg = FunctionGraph(op.inner_inputs, clone_replace(
            op.inner_outputs, copy_inputs=True, rebuild=False))
        rewrite_graph(fg, "NUMBA")
        hit = _INNER[id(op)] = (op, fg)
    return hit[1]


def _supports(node):
    return all(translatable(n) for n in inner_graph(node.op).toposort())


@emit.register(Scan)
def _scan(op, node, ctx):
    if try_fused(op, node, ctx):  # elementwise in its state: no per-step arrays
        return
    fg = inner_graph(op)
    n_steps, seqs, inits, carries, nonseqs = op.split_outer(node.inputs)
    s_in, taps_in, c_in, w_in = op.split_inner()
    nr, nn, nc = op.n_rec, op.n_nit, op.n_shared
    n = ctx.fresh("n")
    ctx.line(f"{n} = np.int64({ctx.elem(n_steps, [])})")
    ctx.check(f"{n} > 0", node, "ValueError")
    seq_names = [ctx.name(s) for s in seqs]
    for s in seq_names:
        ctx.check(f"{s}.shape[0] >= {n}", node, "ValueError")
    bufs = []
    for j, (x0, lag) in enumerate(zip(inits, op.lags)):
        src = ctx.name(x0)
        ctx.check(f"{src}.shape[0] == {lag}", node, "ValueError")
        b = ctx.fresh("buf")
        dims = [f"{lag} + {n}"] + [f"{src}.shape[{d}]" for d in range(1, x0.type.ndim)]
        ctx.line(f"{b} = np.empty({tuple_text(dims)}, {np_dtype(node.outputs[j].type.dtype)})")
        copy_into(ctx, b, [], src, [f"{src}.shape[{d}]" for d in range(x0.type.ndim)])
        bufs.append(b)
    maps = []
    for k in range(nn):
        o = node.outputs[nr + k]
        m = ctx.fresh("map")
        zeros = tuple_text(["0"] * o.type.ndim)
        ctx.line(f"{m} = np.empty({zeros}, {np_dtype(o.type.dtype)})")
        maps.append(m)
    cars = []
    for x0 in carries:
        c = ctx.fresh("car")
        ctx.line(f"{c} = {ctx.name(x0)}")
        cars.append(c)
    ns_names = [ctx.name(w) for w in nonseqs]
    done = ctx.fresh("done")
    ctx.line(f"{done} = {n}")
    t = ctx.fresh("t")
    outer_clients = ctx.clients
    ctx.clients = fg.clients()

    def step():  # the body of step t; written once per unrolled copy
        for v, s in zip(s_in, seq_names):
            ctx.define(v, ctx.fresh("x"))
            ctx.line(f"{ctx.names[id(v)]} = {s}[{t}]")
        for j, (taps, lag) in enumerate(zip(op.rec_taps, op.lags)):
            for k, v in zip(taps, taps_in[j]):
                ctx.define(v, ctx.fresh("h"))
                ctx.line(f"{ctx.names[id(v)]} = {bufs[j]}[{lag} + {t} - {-k}]")
        for v, c in zip(c_in, cars):
            ctx.define(v, c)
        for v, w in zip(w_in, ns_names):
            ctx.define(v, w)
        for inner in fg.toposort():
            emit(inner.op, inner, ctx)
        outs = fg.outputs
        for j in range(nr):
            _store(ctx, node, bufs[j], f"{op.lags[j]} + {t}", outs[j])
        for k in range(nn):
            y = outs[nr + k]
            val = ctx.name(y)
            if y.type.ndim:
                shape = tuple_text([n] + [f"{val}.shape[{d}]" for d in range(y.type.ndim)])
                with ctx.block(f"if {t} == 0:"):
                    ctx.line(f"{maps[k]} = np.empty({shape}, {np_dtype(y.type.dtype)})")
            else:
                with ctx.block(f"if {t} == 0:"):
                    ctx.line(f"{maps[k]} = np.empty({n}, {np_dtype(y.type.dtype)})")
            _store(ctx, node, maps[k], t, y)
        new = [ctx.name(o) for o in outs[nr + nn:nr + nn + nc]]
        for c, v in zip(cars, new):
            ctx.line(f"{c} = {v}")
        if op.as_while:
            with ctx.block(f"if {ctx.elem(outs[-1], [])}:"):
                ctx.line(f"{done} = {t} + 1")
                ctx.line("break")
    with ctx.scope():
        _loop(ctx, op, n, t, done, step)
    ctx.clients = outer_clients
    for j, b in enumerate(bufs):
        name = b if not op.as_while else f"{b}[:{op.lags[j]} + {done}]"
        ctx.define(node.outputs[j], name)
    for k, m in enumerate(maps):
        ctx.define(node.outputs[nr + k], m if not op.as_while else f"{m}[:{done}]")
    for c, out in zip(cars, node.outputs[nr + nn:]):
        ctx.define(out, c, alias=True)


def _loop(ctx, op, n, t, done, step):
    """``for t in range(n): step()``. With ``op.unroll = u > 1`` each iteration writes the
    body u times (t = u * i + 0 ... u - 1), then a remainder loop runs the last n % u steps
    (skipped when ``until`` already stopped the loop)."""
    u = op.unroll
    if u <= 1:
        with ctx.block(f"for {t} in range({n}):"):
            step()
        return
    tb = ctx.fresh("tb")
    with ctx.block(f"for {tb} in range({n} // {u}):"):
        for i in range(u):
            ctx.line(f"# unrolled step {i + 1} of {u}")
            ctx.line(f"{t} = {tb} * {u} + {i}")
            with ctx.scope():  # each copy defines the inner graph's values anew
                step()
    rest = f"for {t} in range({n} - {n} % {u}, {n}):"
    with ctx.scope():
        if op.as_while:
            with ctx.block(f"if {done} == {n}:"), ctx.block(rest):
                step()
        else:
            with ctx.block(rest):
                step()


def _store(ctx, node, buf, i, value):
    val = ctx.name(value)
    if value.type.ndim:
        for d in range(value.type.ndim):
            ctx.check(f"{val}.shape[{d}] == {buf}.shape[{d + 1}]", node, "ValueError")
    if value.type.ndim:
        copy_into(ctx, buf, [str(i)], val, [f"{val}.shape[{d}]" for d in range(value.type.ndim)])
    else:
        ctx.line(f"{buf}[{i}] = {val}")


_scan.supports = _supports


def nested_nodes(nodes):
    """``nodes`` and, recursively, the nodes of the inner graphs of the Scans among them."""
    out = []
    for n in nodes:
        out.append(n)
        if isinstance(n.op, Scan):
            out.extend(nested_nodes(inner_graph(n.op).toposort()))
    return out
