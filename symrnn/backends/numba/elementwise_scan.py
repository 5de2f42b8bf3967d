"""An elementwise scan as one fused loop with no per-step array.

A scan whose step is elementwise in its recurrent state once input projections
are hoisted (IndRNN ``h_t = relu(xw_t + u * h_{t-1} + b)``, the counting RNN
``s_t = xw_t + s_{t-1} * w``; their backward scans too) needs no array per step:
every value of the step is a scalar expression per element of the state, written
straight into the output buffers. Which scans qualify, and how their carries split
into states and accumulators, is decided for both backends by
``backends/scan_plan.py``, here with numba's scalar forms (``_elementwise``)::

    for t in range(n_steps):
        for b in range(B):
            for j in range(H):           # contiguous: vectorises
                buf[1 + t, b, j] = max(xw[t, b, j] + u[j] * buf[t, b, j] + c[j], 0)

Time is the outer loop on the CPU, unlike the GPU kernel (a thread per element,
time inside): measured on the IndRNN forward at T=1000, B=50, H=128, one thread,
time outside takes 3.1 ms, time inside 13-15 ms (each step of one element is
25 KB from the last: a TLB miss per row), tiles of 32 steps 4.7 ms. With two
threads a ``prange`` over the batch costs 9 ms time inside, 120 ms in tiles of
64 steps and 2 s with a parallel region per step (on a busy 2-core machine), so
the loop stays serial.

An accumulated carry (the gradient of a non-sequence) sums its elementwise terms
over time per element (in float64) inside the loop; its linear rest (a sum over
the batch, a cast) runs once after it, as ordinary generated code.
"""
import numpy as np

from symrnn.backends.numba.codegen import (SUPPORTED, copy_into, emit, literal, np_dtype,
                                           translatable, tuple_text)
from symrnn.backends.numba.elemwise import scalar_expr
from symrnn.backends.scan_plan import ScanPlan, plan_scan, scalar_constant
from symrnn.compile.fgraph import FunctionGraph
from symrnn.graph import Constant, clone_replace, toposort
from symrnn.ops.elemwise import Elemwise
from symrnn.ops.subtensor import Subtensor
from symrnn.rewrite import disabled
from symrnn.tensor.basic import lscalar
from symrnn.tensor.math import cast

_PLANS = {}  # id(op) -> (op, plan or None)


def plan_for(op):
    """The op's ScanPlan when it runs as one fused loop here, else None (cached per op)."""
    hit = _PLANS.get(id(op))
    if hit is None or hit[0] is not op:
        hit = _PLANS[id(op)] = (op, _plan(op))
    return hit[1]


def _elementwise(node):
    """Whether ``node`` is an Elemwise that ``scalar_expr`` writes (a Composite is not)."""
    return type(node.op) is Elemwise and translatable(node)


def _plan(op):
    plan = plan_scan(op, _elementwise, SUPPORTED.__contains__)
    if not isinstance(plan, ScanPlan) or plan.ndim == 0 or not (op.n_rec or plan.states):
        return None
    if any(leaf.kind == "const" for leaf in plan.leaves) or any(  # (an array constant:
            any(o.type.broadcastable) for o in plan.kernel_outputs()):  # not an argument)
        return None
    for inc, _, invariant in plan.acc.values():
        if any(isinstance(v, Constant) and np.size(v.data) > 1 for n in toposort([inc])
               for v in n.inputs):
            return None
    return plan


def _source_axis(leaf, d):
    """The axis of the leaf's source that its (shuffled) axis ``d`` reads, or None."""
    for ds in reversed(leaf.shuffles):
        d = ds.new_order[d]
        if d == "x":
            return None
    return d


_REVERSE = (("slice", None, None, -1),)


def _unreversed(ctx, seq):
    """(array name, last index or None): a sequence given as ``x[::-1]`` (a backward scan
    reads every sequence so) is read as ``x[last - t]`` from ``x`` itself when this function
    holds it: a reversed view has a run-time layout in numba, and a loop reading it does not
    vectorise (2.5x slower measured on the IndRNN's backward loop). x[::-1][::-1] is x."""
    flips = 0
    while (seq.owner is not None and isinstance(seq.owner.op, Subtensor)
           and seq.owner.op.idx_list == _REVERSE and id(seq.owner.inputs[0]) in ctx.names):
        seq, flips = seq.owner.inputs[0], flips + 1
    name = ctx.name(seq)
    if flips % 2 == 0:
        return name, None
    last = ctx.fresh("L")
    ctx.line(f"{last} = {name}.shape[0] - 1")
    return name, last


class _Leaves:
    """Source text reading each leaf of the plan at one element and step."""

    def __init__(self, op, plan, ctx, names, last):
        self.op, self.plan, self.ctx, self.names = op, plan, ctx, names
        self.last = last  # id(leaf) -> the last index of a sequence read backwards

    def index(self, leaf, idx):
        src = leaf.source
        out = ["0"] * src.type.ndim
        for d, i in enumerate(idx):
            if not leaf.var.type.broadcastable[d]:
                a = _source_axis(leaf, d)
                if a is not None:
                    out[a] = i
        return out

    def expr(self, leaf, idx, t):
        kind, name = leaf.kind, self.names[id(leaf)]
        if kind == "tap":
            j, k = leaf.index
            tap = self.op.rec_taps[j][k]
            return f"{name}[{self.op.lags[j] + tap} + {t}, {', '.join(idx)}]"
        if kind == "state":
            return f"{name}[{', '.join(idx)}]"
        pos = self.index(leaf, idx)
        if kind == "seq":
            last = self.last.get(id(leaf))
            pos = [t if last is None else f"{last} - {t}"] + pos
        return f"{name}[{', '.join(pos)}]" if pos else name

    def check(self, dims, node):
        """Run-time checks: each leaf's unbroadcast axes have the state's lengths."""
        for leaf in self.plan.leaves:
            if leaf.kind in ("tap", "state"):
                continue
            for d, b in enumerate(leaf.var.type.broadcastable):
                a = _source_axis(leaf, d)
                if not b and a is not None:
                    axis = a + (leaf.kind == "seq")
                    self.ctx.check(f"{self.names[id(leaf)]}.shape[{axis}] == {dims[d]}", node,
                                   "ValueError")


def try_fused(op, node, ctx):
    """Emit ``node`` (a Scan) as one fused loop when its plan allows; False otherwise.

    ``config.rewrites = "-elementwise_scan"`` turns it off (the plain step loop runs)."""
    plan = plan_for(op)
    if plan is None or "elementwise_scan" in disabled():
        return False
    n_steps, seqs, inits, carries, nonseqs = op.split_outer(node.inputs)
    nr, nn = op.n_rec, op.n_nit
    ctx.line("# a Scan elementwise in its state: one loop with no per-step array")
    n = ctx.fresh("n")
    ctx.line(f"{n} = np.int64({ctx.elem(n_steps, [])})")
    ctx.check(f"{n} > 0", node, "ValueError")
    for s in seqs:
        ctx.check(f"{ctx.name(s)}.shape[0] >= {n}", node, "ValueError")
    ref, lead = (ctx.name(inits[0]), 1) if nr else (ctx.name(carries[plan.states[0]]), 0)
    dims = [ctx.fresh("S") for _ in range(plan.ndim)]
    for d, name in enumerate(dims):
        ctx.line(f"{name} = {ref}.shape[{d + lead}]")
    names, outs = {}, node.outputs
    bufs = []
    for j, (x0, lag) in enumerate(zip(inits, op.lags)):
        src = ctx.name(x0)
        ctx.check(" and ".join([f"{src}.shape[0] == {lag}"] + [
            f"{src}.shape[{d + 1}] == {s}" for d, s in enumerate(dims)]), node, "ValueError")
        b = ctx.fresh("buf")
        ctx.line(f"{b} = np.empty({tuple_text([f'{lag} + {n}'] + dims)}, "
                 f"{np_dtype(outs[j].type.dtype)})")
        copy_into(ctx, b, [], src, [str(lag)] + dims)
        bufs.append(b)
    maps = []
    for k in range(nn):
        m = ctx.fresh("map")
        ctx.line(f"{m} = np.empty({tuple_text([n] + dims)}, {np_dtype(outs[nr + k].type.dtype)})")
        maps.append(m)
    states = {}
    for c in plan.states:
        src = ctx.name(carries[c])
        ctx.check(" and ".join(f"{src}.shape[{d}] == {s}" for d, s in enumerate(dims)), node,
                  "ValueError")
        states[c] = ctx.fresh("st")
        ctx.line(f"{states[c]} = np.ascontiguousarray({src}).copy()")
    sums = []
    for e in plan.terms:
        sums.append(ctx.fresh("sum"))
        ctx.line(f"{sums[-1]} = np.zeros({tuple_text(dims)}, np.float64)")
    last = {}
    for leaf in plan.leaves:
        if leaf.kind == "seq":
            names[id(leaf)], last[id(leaf)] = _unreversed(ctx, seqs[leaf.index])
            continue
        names[id(leaf)] = {"nonseq": lambda: ctx.name(nonseqs[leaf.index]),
                           "tap": lambda: bufs[leaf.index[0]],
                           "state": lambda: states[leaf.index]}[leaf.kind]()
    leaves = _Leaves(op, plan, ctx, names, last)
    leaves.check(dims, node)
    _loops(ctx, plan, dims, n,
           lambda idx, t: _body(ctx, plan, leaves, idx, t, bufs, maps, states, sums, op))
    for j, b in enumerate(bufs):
        ctx.define(outs[j], b)
    for k, m in enumerate(maps):
        ctx.define(outs[nr + k], m)
    for c, st in states.items():
        ctx.define(outs[nr + nn + c], st)
    if plan.acc:
        _accumulators(op, node, plan, ctx, n, sums, carries, nonseqs)
    return True


def _loops(ctx, plan, dims, n, body):
    t = ctx.fresh("t")
    depth = ctx.depth
    idx = [ctx.fresh("e") for _ in dims]
    ctx.line(f"for {t} in range({n}):")
    ctx.depth += 1
    for i, s in zip(idx, dims):
        ctx.line(f"for {i} in range({s}):")
        ctx.depth += 1
    body(idx, t)
    ctx.depth = depth


def _body(ctx, plan, leaves, idx, t, bufs, maps, states, sums, op):
    by_var = {id(leaf.var): leaf for leaf in plan.leaves}
    vals = {}

    def val(v):
        if id(v) in vals:
            return vals[id(v)]
        if id(v) in by_var:
            return leaves.expr(by_var[id(v)], idx, t)
        c = scalar_constant(v)  # (a one-element constant: a literal)
        return None if c is None else literal(np.asarray(c.data).reshape(()), c.type.dtype)
    for node in plan.nodes:
        out = node.outputs[0]
        expr = scalar_expr(node.op.scalar_op, [val(v) for v in node.inputs],
                           [v.type.dtype for v in node.inputs], out.type.dtype)
        vals[id(out)] = ctx.fresh("s")
        ctx.line(f"{vals[id(out)]} = {expr}")
    at = ", ".join(idx)
    for j, o in enumerate(plan.rec_out):
        ctx.line(f"{bufs[j]}[{op.lags[j]} + {t}, {at}] = {val(o)}")
    for k, o in enumerate(plan.nit_out):
        ctx.line(f"{maps[k]}[{t}, {at}] = {val(o)}")
    for c, o in zip(plan.states, plan.state_out):
        ctx.line(f"{states[c]}[{at}] = {val(o)}")
    for s, e in zip(sums, plan.terms):
        ctx.line(f"{s}[{at}] += {val(e)}")


def _zeros(v):
    """Whether ``v`` is zeros by construction (a constant, or a fill of one)."""
    fill = getattr(getattr(v.owner, "op", None), "scalar_op", None)
    c = scalar_constant(v.owner.inputs[1] if getattr(fill, "name", "") == "second" else v)
    return c is not None and not np.any(c.data)


def _accumulators(op, node, plan, ctx, n, sums, carries, nonseqs):
    """Emit each accumulated carry's final value: init + its linear rest on the term sums."""
    c_in, w_in = op.split_inner()[2:]
    n_var = lscalar("n_steps")
    ctx.define(n_var, n)
    terms = iter(zip(plan.terms, sums))
    finals, blockers = [], [n_var] + list(w_in)
    for c, (inc, varying, invariant) in sorted(plan.acc.items()):
        repl = {}
        for e in varying:
            _, s = next(terms)
            repl[e] = e.type("term")
            s32 = ctx.fresh("sum")
            ctx.line(f"{s32} = {s}.astype({np_dtype(e.type.dtype)})")
            ctx.define(repl[e], s32)
            blockers.append(repl[e])
        for e in invariant:
            repl[e] = e * cast(n_var, e.type.dtype)
        init = c_in[c].type("init")
        ctx.define(init, ctx.name(carries[c]), alias=id(carries[c]) in ctx.alias)
        blockers.append(init)
        add = op.inner_outputs[op.n_rec + op.n_nit + c].owner.op
        rest = clone_replace([inc], repl)[0]  # (a zero init, a gradient's: no loop adding it)
        finals.append((c, rest if _zeros(carries[c]) and rest.type == init.type
                       else add(init, rest)))
    fg = FunctionGraph(blockers, [f for _, f in finals])
    outer_clients, ctx.clients = ctx.clients, fg.clients()
    with ctx.scope():  # the op's inner placeholders are named only here
        for v, w in zip(w_in, nonseqs):
            ctx.define(v, ctx.name(w), alias=id(w) in ctx.alias)
        for inner in fg.toposort():
            emit(inner.op, inner, ctx)
        names = []
        for c, f in finals:
            name = ctx.name(f)
            names.append(f"{name}.copy()" if f.type.ndim and id(f) in ctx.alias else name)
    ctx.clients = outer_clients
    for (c, f), name in zip(finals, names):
        ctx.define(node.outputs[op.n_rec + op.n_nit + c], name)
