"""scan_hoist: move the work that need not run every step out of scan loops.

Four moves, each a rebuild of the Scan from its public parts (symrnn/ops/scan.py):

- loop-invariant work: inner nodes that read only non-sequences and constants run once
  before the loop; the step reads their result as a new non-sequence;
- input projections: an inner ``dot(x_t, W)`` (x_t a sequence slice, W invariant)
  becomes one product of the whole sequence, ``(n*B, k) @ W``, before the loop, read
  step by step as a new sequence (the IndRNN input projection, forward and in
  the backward scan, which recomputes it);
- output projections: a per-step output ``dot(e_t, W)`` becomes the per-step output
  ``e_t`` and one product after the loop (the gradient of a layer's input sequence);
- product accumulators: a carried sum ``acc + dot(a_t.T, b_t)`` (the gradient of W in
  a backward scan) becomes one product of the two whole sequences after the loop.

The last three run only when together they leave no matrix product in the step:
the loop is then elementwise (one fused loop in numba, see
backends/numba/elementwise_scan.py). Otherwise they stay in the loop: measured
here, 1000 per-step products (50, 128) @ (128, 128) take the time of one
(50000, 128) @ (128, 128), and hoisting would add a (steps, batch, units) buffer.
Sequences and non-sequences the step no longer reads are dropped. The rewrite
``scan_drop_unused_carries`` (also here) drops carried values nobody reads.
Both run in every mode (on CUPY checked with the CPU stand-in of tests/backends; no GPU yet).
"""
from dataclasses import dataclass

import numpy as np

from symrnn.graph import Constant, clients, clone_replace, graph_inputs, toposort
from symrnn.ops.blas import Dot
from symrnn.ops.elemwise import DimShuffle, Elemwise
from symrnn.ops.scan import Scan
from symrnn.ops.subtensor import Subtensor
from symrnn.rewrite import register
from symrnn.rewrite.basic import merge
from symrnn.tensor.basic import patternbroadcast
from symrnn.tensor.math import dot


@dataclass
class _Input:
    """A sequence or non-sequence of the loop being rebuilt."""
    inner: object  # the step's placeholder
    outer: object  # the value outside the loop
    info: tuple    # (label, source) for explain()


@dataclass
class _Mapped:
    """A per-step output: ``post`` (or None) turns the new loop's mapped outputs into the
    value of ``old``, the old loop's output (None for an output the rebuild added)."""
    value: object  # the inner output
    post: object = None
    old: object = None


@dataclass
class _Carry:
    """A carried value; ``post`` as for _Mapped (the carry then leaves the loop)."""
    inner: object  # the step's placeholder
    init: object   # its outer initial value
    info: tuple
    new: object    # the inner new value
    post: object = None
    old: object = None


class _Parts:
    """A Scan node taken apart into editable records: ``seqs`` and ``nonseqs`` (_Input),
    ``mapped`` (_Mapped), ``carries`` (_Carry), the recurrent outputs ``rec``."""

    def __init__(self, node):
        op = self.op = node.op
        n, seqs, inits, carries, nonseqs = op.split_outer(node.inputs)
        s_in, taps_in, c_in, w_in = op.split_inner()
        nr, nn, nc = op.n_rec, op.n_nit, op.n_shared
        outs, info = op.inner_outputs, list(op.arg_info or [(None, "")] * len(op.inner_inputs))
        k = len(s_in) + sum(len(t) for t in taps_in)
        olds = node.outputs
        self.n, self.inits, self.taps = n, list(inits), taps_in
        self.tap_info = info[len(s_in):k]
        self.seqs = [_Input(*e) for e in zip(s_in, seqs, info[:len(s_in)])]
        self.nonseqs = [_Input(*e) for e in zip(w_in, nonseqs, info[k + nc:])]
        self.rec = outs[:nr]
        self.mapped = [_Mapped(o, None, old) for o, old in zip(outs[nr:nr + nn],
                                                               olds[nr:nr + nn])]
        self.carries = [_Carry(ci, x0, inf, new, None, old) for ci, x0, inf, new, old in zip(
            c_in, carries, info[k:k + nc], outs[nr + nn:nr + nn + nc], olds[nr + nn:])]
        self.until = outs[nr + nn + nc:]
        self.old_rec, self.trace = olds[:nr], node.trace

    def live_carries(self):
        return [c for c in self.carries if c.post is None]

    def inner_outputs(self):
        return (self.rec + [m.value for m in self.mapped] + [c.new for c in self.live_carries()]
                + self.until)

    def inner_inputs(self):
        return ([s.inner for s in self.seqs] + [v for t in self.taps for v in t]
                + [c.inner for c in self.live_carries()] + [w.inner for w in self.nonseqs])

    def replace_inner(self, repl):
        """Rewrite every inner output with ``repl`` (inner variable -> same-type variable)."""
        live = self.live_carries()
        outs = clone_replace(self.inner_outputs(), repl, rebuild=False)
        nr, nn, nc = len(self.rec), len(self.mapped), len(live)
        self.rec = outs[:nr]
        for m, o in zip(self.mapped, outs[nr:nr + nn]):
            m.value = o
        for c, o in zip(live, outs[nr + nn:nr + nn + nc]):
            c.new = o
        self.until = outs[nr + nn + nc:]

    def build(self):
        """[(old outer output, new value)] of the rebuilt loop (unread inputs dropped)."""
        used = set(map(id, graph_inputs(self.inner_outputs())))
        seqs = [s for s in self.seqs if id(s.inner) in used]
        if not seqs and not self.rec and self.seqs:
            seqs = self.seqs[:1]  # keep one sequence: it checks the number of steps
        nonseqs = [w for w in self.nonseqs if id(w.inner) in used]
        live = self.live_carries()
        inner_in = ([s.inner for s in seqs] + [v for t in self.taps for v in t]
                    + [c.inner for c in live] + [w.inner for w in nonseqs])
        info = ([s.info for s in seqs] + self.tap_info + [c.info for c in live]
                + [w.info for w in nonseqs])
        op = self.op
        new_op = Scan(inner_in, self.inner_outputs(), op.info.replace(
                      n_seqs=len(seqs), n_nit=len(self.mapped), n_shared=len(live)),
                      truncate_gradient=op.truncate_gradient, name=op.name, unroll=op.unroll,
                      arg_info=info)
        node = new_op.make_node(self.n, *[s.outer for s in seqs], *self.inits,
                                *[c.init for c in live], *[w.outer for w in nonseqs])
        node.trace = self.trace
        outs, nr, nn = node.outputs, len(self.rec), len(self.mapped)
        maps = outs[nr:nr + nn]
        pairs = list(zip(self.old_rec, outs[:nr]))
        for m, new in zip(self.mapped, maps):
            if m.old is not None:
                pairs.append((m.old, m.post(new) if m.post else new))
        it = iter(outs[nr + nn:])
        for c in self.carries:
            pairs.append((c.old, c.post(maps) if c.post else next(it)))
        return pairs


def _invariant_ids(p):
    """ids of the inner variables that read only non-sequences and constants."""
    inv = {id(w.inner) for w in p.nonseqs}
    blockers = [s.inner for s in p.seqs] + [v for t in p.taps for v in t] + \
        [c.inner for c in p.carries] + [w.inner for w in p.nonseqs]
    for node in toposort(p.inner_outputs(), blockers=blockers):
        if getattr(node.op, "stateful", False) or isinstance(node.op, Scan):
            continue
        if all(id(v) in inv or isinstance(v, Constant) for v in node.inputs):
            inv.update(id(o) for o in node.outputs)
    return inv


def _outer_of(p, var):
    """The outer value computing the invariant inner ``var`` (non-sequences substituted)."""
    return clone_replace([var], {w.inner: w.outer for w in p.nonseqs}, rebuild=False)[0]


def _invariant_outer(p, var, inv):
    """The outer value of ``var`` when it is loop-invariant, else None."""
    return _outer_of(p, var) if id(var) in inv or isinstance(var, Constant) else None


# ---- the four moves; each returns True when it changed ``p`` ----

def _inline_constants(p):
    """Non-sequences that are small constants outside become constants inside."""
    repl = {w.inner: w.outer for w in p.nonseqs if isinstance(w.outer, Constant)
            and w.outer.type == w.inner.type and np.size(w.outer.data) <= 16}
    if repl:
        p.replace_inner(repl)
    return bool(repl)


def _hoist_invariants(p):
    inv = _invariant_ids(p)
    ns_ids = {id(w.inner) for w in p.nonseqs}
    readers = clients(p.inner_outputs(), [w.inner for w in p.nonseqs])
    repl = {}
    for node in toposort(p.inner_outputs(), blockers=[w.inner for w in p.nonseqs]):
        for v in node.outputs:
            if id(v) not in inv or id(v) in ns_ids:
                continue
            needed = any(r == "output" or not all(id(o) in inv for o in r.outputs)
                         for r, _ in readers.get(id(v), []))
            cheap = all(isinstance(n.op, DimShuffle) for n in toposort([v], blockers=[
                w.inner for w in p.nonseqs]))
            if needed and not cheap and any(id(a) in ns_ids for a in graph_inputs([v])):
                ph = v.type(f"hoisted{len(p.nonseqs)}")
                p.nonseqs.append(_Input(ph, _outer_of(p, v), ("hoisted", "loop-invariant value")))
                repl[v] = ph
    if repl:
        p.replace_inner(repl)
    return bool(repl)


def _flat(x):
    """``x`` (lead axes, ..., k) as a matrix (rows, k), or as it is when it has 2 dims."""
    if x.type.ndim == 2:
        return x
    return x.reshape((x.shape[0] * x.shape[1], x.shape[2]))


def _unflat(y, like, extra):
    """``y`` (rows, m...) back to the leading axes of ``like`` (T, B, ...)."""
    if like.type.ndim == 2:
        return y
    return y.reshape((like.shape[0], like.shape[1]) + tuple(extra))


def _rows_of(x):
    """(root, row selections): ``x`` is ``root`` with axis-0 slices applied (a scan's
    sequence is often a reversed or shifted view of another loop's output)."""
    sel = []
    while x.owner is not None and isinstance(x.owner.op, Subtensor) and \
            len(x.owner.op.idx_list) == 1 and isinstance(x.owner.op.idx_list[0], tuple):
        sel.insert(0, x.owner)
        x = x.owner.inputs[0]
    return x, sel


def _project_inputs(p, cache):
    seq_of = {id(s.inner): s for s in p.seqs}
    inv = _invariant_ids(p)
    repl = {}
    for node in toposort(p.inner_outputs(), blockers=[s.inner for s in p.seqs]):
        if not isinstance(node.op, Dot):
            continue
        x, w = node.inputs
        wo = _invariant_outer(p, w, inv)
        if id(x) not in seq_of or wo is None or x.type.ndim not in (1, 2):
            continue
        # rows commute with a row-wise product: project the root once (shared by the
        # forward loop and the backward one, which reads the same rows reversed)
        root, sel = _rows_of(seq_of[id(x)].outer)
        key = (id(root), id(wo))
        if key not in cache:
            y = dot(_flat(root), wo)
            y.owner.trace = _StepTrace(node, x, w, p.trace, root.type.ndim)
            cache[key] = _unflat(y, root, [wo.shape[1]] if w.type.ndim == 2 else [])
        y = cache[key]
        for sub in sel:
            y = sub.op(y, *sub.inputs[1:])
        out = node.outputs[0]
        ph = out.type(f"{x.name or 'x'}_proj[t]")
        p.seqs.append(_Input(ph, y, ("projected sequence",
                                     f"dot({x.name}, {w.name}) for all steps")))
        repl[out] = ph
    if repl:
        p.replace_inner(repl)
    return bool(repl)


class _StepTrace(str):
    """The trace of a product moved out of a loop: the user's step line and scan line, and
    ``per_step(x_shape, w_shape)``, which states a shape error in one step's terms."""

    def __new__(cls, node, x, w, scan_trace, root_ndim):
        xn, wn = x.name or "x_t", w.name or "W"
        where = node.trace if node.trace == scan_trace or not scan_trace else \
            f"{node.trace}\n  in the step of the scan built at {scan_trace}"
        self = super().__new__(cls, where)
        self.names, self.root_ndim = (xn, wn), root_ndim
        return self

    def per_step(self, x_shape, w_shape):
        xn, wn = self.names
        step = "(batch, " * (self.root_ndim - 2) + f"{x_shape[-1]}" + ")" * (self.root_ndim - 2)
        step = f"({x_shape[-1]},)" if self.root_ndim == 2 else step
        return (f". Per step: dot({xn}, {wn}) with {xn} {step} and {wn} {tuple(w_shape)} "
                "(scan computes this product once for all steps, before the loop, so its "
                "first operand holds every step's rows)")


def _project_outputs(p):
    inv = _invariant_ids(p)
    readers = clients(p.inner_outputs())
    changed = False
    for m in p.mapped:
        o = m.value
        if m.post is not None or o.owner is None or not isinstance(o.owner.op, Dot):
            continue
        e, w = o.owner.inputs
        wo, ndim_w = _invariant_outer(p, w, inv), w.type.ndim
        if wo is None or id(e) in inv or e.type.ndim not in (1, 2) or \
                len(readers.get(id(o), [])) != 1:
            continue

        def post(es, wo=wo, ndim_w=ndim_w, t=o.type):
            y = dot(_flat(es), wo)
            y = _unflat(y, es, [wo.shape[1]] if ndim_w == 2 else [])
            return patternbroadcast(y, (False,) + t.broadcastable)
        m.value, m.post = e, post
        changed = True
    return changed


def _whole(p, var):
    """``var`` (a step value) for every step: its outer sequence, or a new mapped output."""
    for s in p.seqs:
        if s.inner is var:
            return lambda maps, s=s: s.outer[:p.n]
    for k, m in enumerate(p.mapped):
        if m.value is var:
            return lambda maps, k=k: maps[k]
    p.mapped.append(_Mapped(var))
    k = len(p.mapped) - 1
    return lambda maps, k=k: maps[k]


def _sink_accumulators(p):
    if p.op.as_while:
        return False
    inv = _invariant_ids(p)
    readers = clients(p.inner_outputs())
    changed = False
    for c in p.live_carries():
        new = c.new
        node = new.owner
        if node is None or not isinstance(node.op, Elemwise) or \
                node.op.scalar_op.name != "add" or c.inner not in node.inputs or \
                len(readers.get(id(c.inner), [])) != 1 or len(readers.get(id(new), [])) != 1:
            continue
        d = node.inputs[1] if node.inputs[0] is c.inner else node.inputs[0]
        if d is c.inner or d.owner is None or not isinstance(d.owner.op, Dot) or \
                d.type != new.type:
            continue
        at, b = d.owner.inputs
        if at.owner is None or not isinstance(at.owner.op, DimShuffle) or \
                at.owner.op.new_order != (1, 0) or b.type.ndim != 2:
            continue
        a = at.owner.inputs[0]
        if id(a) in inv or id(b) in inv:
            continue
        get_a, get_b = _whole(p, a), _whole(p, b)

        def post(maps, get_a=get_a, get_b=get_b, init=c.init, t=new.type):
            prod = dot(_flat(get_a(maps)).T, _flat(get_b(maps)))
            return patternbroadcast(init + prod, t.broadcastable)
        c.post = post
        changed = True
    return changed


@register("scan_drop_unused_carries")
def scan_drop_unused_carries(fgraph):
    """Drop the carried values (gradient sums...) that no node and no output reads."""
    readers = fgraph.clients()
    for node in fgraph.toposort():
        if not isinstance(node.op, Scan) or not node.op.n_shared:
            continue
        p = _Parts(node)
        changed = False
        for c in p.carries:
            if readers.get(id(c.old)):
                continue
            c.post = _nothing  # dropped, unless the values still computed read it
            if id(c.inner) in set(map(id, graph_inputs(p.inner_outputs()))):
                c.post = None
            else:
                changed = True
        if changed:
            for old, new in p.build():
                if new is not None:
                    _replace(fgraph, old, new)


def _step_has_product(p):
    inv = _invariant_ids(p)
    return any(isinstance(n.op, Dot) and not all(id(o) in inv for o in n.outputs)
               for n in toposort(p.inner_outputs(), blockers=p.inner_inputs()))


@register("scan_hoist")
def scan_hoist(fgraph):
    """Move invariant work, input and output projections and product sums out of scans.

    Projections and sums leave a loop only when that leaves no matrix product in its
    step (the loop is then elementwise: a fused loop on the CPU, one kernel on a GPU).
    Otherwise they stay: a per-step product of a small batch runs at the same speed
    as one large product here, and hoisting it costs a (steps, batch, units) buffer."""
    done, cache = False, {}
    for node in fgraph.toposort():
        if not isinstance(node.op, Scan):
            continue
        p, trial = _Parts(node), _Parts(node)
        changed = _inline_constants(p) | _hoist_invariants(p)
        _inline_constants(trial)
        _hoist_invariants(trial)
        moved = _project_inputs(trial, {}) | _project_outputs(trial) | \
            _sink_accumulators(trial)
        if moved and not _step_has_product(trial):  # the same moves on p, sharing projections
            _project_inputs(p, cache)
            _project_outputs(p)
            _sink_accumulators(p)
            changed = True
        if changed:
            for old, new in p.build():
                _replace(fgraph, old, new)
            done = True
    if done:  # the new outer nodes may repeat each other (slices of one sequence)
        merge(fgraph)


def _nothing(maps):
    return None


def _replace(fgraph, old, new):
    if new.type != old.type:
        new = patternbroadcast(new, old.type.broadcastable)
    fgraph.replace(old, new)
