"""Scan on the GPU: one kernel for an elementwise scan, else a host loop over GPU work.

``translate(Scan)`` plans the scan once (``backends/scan_plan.py`` with CUDA C's
scalar forms: ``fusion.kernel_plan``). A fused scan checks the run-time shapes on
the host (no GPU work), launches its kernel once for all steps and finishes its
accumulators with a small compiled graph.
When the shapes do not fit the plan (say a length-1 axis that the types do not
mark broadcastable) it takes the host loop, which raises the NumPy backend's
error or gives its result.
"""
import cupy as cp
import numpy as np

from symrnn.backends.cupy.fusion import kernel_plan
from symrnn.backends.cupy.runtime import compile_graph, kernel_options, to_device, translate
from symrnn.backends.cupy.scan_kernel import ScanKernel
from symrnn.compile.fgraph import FunctionGraph
from symrnn.graph import ancestors, clone_replace
from symrnn.ops.scan import Scan
from symrnn.tensor.basic import lscalar
from symrnn.tensor.math import cast

BLOCK = 256


def host_loop(op, node):
    """The scan as a Python loop whose steps run the inner graph on the GPU."""
    inner = compile_graph(FunctionGraph(op.inner_inputs, op.inner_outputs))
    nr, nn, nc = op.n_rec, op.n_nit, op.n_shared
    tap_index = [(j, lag + k) for j, (taps, lag) in enumerate(zip(op.rec_taps, op.lags))
                 for k in taps]

    def run(n_steps, *rest):
        n = int(n_steps)
        _, seqs, inits, carries, nonseqs = op.split_outer([n_steps] + list(rest))
        op.check_steps(node, n, seqs, inits)
        bufs = []
        for j, (x0, lag) in enumerate(zip(inits, op.lags)):
            buf = cp.empty((lag + n,) + x0.shape[1:], dtype=node.outputs[j].type.dtype)
            buf[:lag] = to_device(x0)
            bufs.append(buf)
        mapped, carries, done = [None] * nn, list(carries), n
        for t in range(n):
            args = [s[t] for s in seqs] + [bufs[j][p + t] for j, p in tap_index]
            outs = inner(args + carries + list(nonseqs))
            for j in range(nr):
                op.store_step(node, bufs[j], op.lags[j] + t, outs[j], t, f"output {j}")
            for k in range(nn):
                if mapped[k] is None:
                    mapped[k] = cp.empty((n,) + outs[nr + k].shape,
                                         node.outputs[nr + k].type.dtype)
                op.store_step(node, mapped[k], t, outs[nr + k], t, f"output {nr + k}")
            carries = outs[nr + nn:nr + nn + nc]
            if op.as_while and bool(outs[-1]):
                done = t + 1
                break
        bufs = [b[:lag + done] for b, lag in zip(bufs, op.lags)]
        return bufs + [m[:done] for m in mapped] + [to_device(c) for c in carries]
    run.source = inner.source
    return run


def _shuffle(x, shuffles, time_axis):
    """Apply the DimShuffle ops to ``x`` (keeping a leading time axis when ``time_axis``)."""
    for ds in shuffles:
        lead = [0] if time_axis else []
        perm = lead + [i + time_axis for i in ds.shuffle + ds.drop]
        shape = list(x.shape[:time_axis]) + [1 if i == "x" else x.shape[i + time_axis]
                                             for i in ds.new_order]
        x = x.transpose(perm).reshape(shape)
    return x


def _fits(shape, state, var):
    """Whether a leaf of per-step ``shape`` broadcasts to ``state`` as its type allows."""
    return len(shape) == len(state) and all(
        n == m or (n == 1 and var.type.broadcastable[d])
        for d, (n, m) in enumerate(zip(shape, state)))


class FusedScan:
    """Runs a planned scan as one RawKernel (see scan_kernel for the arguments)."""

    def __init__(self, op, node, plan):
        self.op, self.node, self.plan = op, node, plan
        self.kernel = ScanKernel(plan)
        self.raw = cp.RawKernel(self.kernel.source, self.kernel.name, options=kernel_options())
        self.fallback = host_loop(op, node)
        leaf_ids = {id(leaf.var): k for k, leaf in enumerate(plan.leaves)}
        # for each value the kernel writes: the leaves it reads (its shape is theirs, broadcast)
        self.reads = [[leaf_ids[id(v)] for v in ancestors([o]) if id(v) in leaf_ids]
                      for o in plan.kernel_outputs()]
        self.post = self._accumulator_graph() if plan.acc else None
        self.source = self.kernel.source

    def _accumulator_graph(self):
        """Compiled graph: (carry inits, n_steps, term sums, non-seqs) -> final accumulators."""
        plan, carries = self.plan, self.op.split_inner()[2]
        n = lscalar("n_steps")
        inits, terms, finals = [], [], []
        for c, (inc, varying, invariant) in sorted(plan.acc.items()):
            repl = {}
            for e in varying:
                repl[e] = e.type("term")
                terms.append(repl[e])
            for e in invariant:
                repl[e] = e * cast(n, e.type.dtype)
            init = carries[c].type("init")
            inits.append(init)
            add = self.op.inner_outputs[self.op.n_rec + self.op.n_nit + c].owner.op
            finals.append(add(init, clone_replace([inc], repl)[0]))
        nonseqs = self.op.split_inner()[3]
        return compile_graph(FunctionGraph(inits + [n] + terms + nonseqs, finals))

    def layout(self, n, seqs, inits, carries, nonseqs):
        """(state shape, per-leaf values) on the host side of the plan, or None when unfit."""
        plan = self.plan
        shapes = [x0.shape[1:] for x0 in inits] + [carries[c].shape for c in plan.states]
        values = []
        for leaf in plan.leaves:
            if leaf.kind == "seq":
                values.append(_shuffle(to_device(seqs[leaf.index])[:n], leaf.shuffles, 1))
            elif leaf.kind == "nonseq":
                values.append(_shuffle(to_device(nonseqs[leaf.index]), leaf.shuffles, 0))
            elif leaf.kind == "const":
                values.append(_shuffle(to_device(np.asarray(leaf.source.data)), leaf.shuffles, 0))
            else:
                values.append(None)
        step_shapes = [v.shape[1:] if leaf.kind == "seq" else (v.shape if v is not None else None)
                       for leaf, v in zip(plan.leaves, values)]
        if not shapes:
            shapes = [np.broadcast_shapes(*[s for s in step_shapes if s is not None])]
        state = tuple(shapes[0])
        if any(tuple(s) != state for s in shapes):
            return None
        for leaf, s in zip(plan.leaves, step_shapes):
            if s is not None and not _fits(s, state, leaf.var):
                return None
        for reads in self.reads:
            got = [step_shapes[k] for k in reads if step_shapes[k] is not None]
            if not any(plan.leaves[k].kind in ("tap", "state") for k in reads) and \
                    np.broadcast_shapes(*got, ()) != state:
                return None
        return state, values

    def __call__(self, n_steps, *rest):
        op, plan = self.op, self.plan
        n = int(n_steps)
        _, seqs, inits, carries, nonseqs = op.split_outer([n_steps] + list(rest))
        op.check_steps(self.node, n, seqs, inits)
        fit = self.layout(n, seqs, inits, carries, nonseqs)
        if fit is None:
            return self.fallback(n_steps, *rest)
        state, values = fit
        size = int(np.prod(state))
        outs = self.node.outputs
        bufs = []
        for j, (x0, lag) in enumerate(zip(inits, op.lags)):
            buf = cp.empty((lag + n,) + state, dtype=outs[j].type.dtype)
            buf[:lag] = to_device(x0)
            bufs.append(buf)
        nits = [cp.empty((n,) + state, dtype=outs[op.n_rec + k].type.dtype)
                for k in range(op.n_nit)]
        state_in = {c: cp.ascontiguousarray(to_device(carries[c])) for c in plan.states}
        state_out = {c: cp.empty(state, dtype=state_in[c].dtype) for c in plan.states}
        terms = [cp.empty(state, dtype=e.type.dtype) for e in plan.terms]
        args = []
        for role, k in self.kernel.args:
            if role == "n_steps":
                args.append(np.int64(n))
            elif role == "N":
                args.append(np.int64(size))
            elif role == "seq":
                x = values[k]
                if not _contiguous_steps(x, state):
                    x = values[k] = cp.ascontiguousarray(cp.broadcast_to(x, (n,) + state))
                args.append(x)
            elif role == "stride":
                args.append(np.int64(values[k].strides[0] // values[k].itemsize))
            elif role == "bcast":
                args.append(cp.ascontiguousarray(cp.broadcast_to(values[k], state)))
            else:
                args.append({"rec": bufs, "nit": nits, "state_in": state_in,
                             "state_out": state_out, "term": terms}[role][k])
        if size:
            self.raw(((size + BLOCK - 1) // BLOCK,), (BLOCK,), args)
        finals = [state_out[c] for c in plan.states]
        if self.post is not None:
            accs = [carries[c] for c in sorted(plan.acc)]
            finals_acc = self.post(accs + [np.int64(n)] + terms + list(nonseqs))
            by_carry = dict(zip(sorted(plan.acc), finals_acc))
            by_carry.update(zip(plan.states, finals))
            finals = [by_carry[c] for c in range(op.n_shared)]
        return bufs + nits + finals


def _contiguous_steps(x, state):
    """Whether each step x[t] is a C-contiguous block of shape ``state`` (any time stride)."""
    if x.shape[1:] != state or x.strides[0] % x.itemsize:
        return False
    expected, step = [], x.itemsize
    for n in reversed(state):
        expected.insert(0, step)
        step *= n
    return all(s == e or n == 1 for s, e, n in zip(x.strides[1:], expected, state))


@translate.register(Scan)
def _scan(op, node):
    plan = kernel_plan(op)
    return host_loop(op, node) if isinstance(plan, str) else FusedScan(op, node, plan)
