"""Which scans run as one elementwise loop: those whose step is elementwise in their state.

A scan fuses when every value it produces per step is an elementwise
expression (Elemwise nodes the backend writes as scalar code) of: the step's
sequence slices, its recurrent taps and carried states, its non-sequences and
scalar constants, all of one state shape S. Each element of S then runs the
recurrence on its own: the CuPy kernel gives each a thread with the time loop
inside, numba's loop has time outside and no array per step. A sequence or
non-sequence may be reached through DimShuffles (broadcast to S); a recurrent
tap or carried state must be used as it is.

A carry that is only used in its own update ``c + inc`` is an accumulator (the
gradient of a non-sequence in a backward scan): ``inc`` is split into a linear
part (sums, DimShuffles, casts, additions) over elementwise terms E; the loop
sums each E over time per element, and the linear part is applied once after
the loop (sums over axes and over time commute). Terms that read no
per-step value are loop-invariant: their total is n_steps times their value.

``plan_scan(op, fusable, supported)`` returns a ScanPlan, or a string saying why
the scan does not fuse (the tests check both); the backend says which nodes and
dtypes its scalar code handles. Both backends plan here; this module imports
neither (``cupy.fusion.kernel_plan``, ``numba.elementwise_scan.plan_for``).
"""
import numpy as np

from symrnn.graph import Constant, ancestors, clients, toposort
from symrnn.ops.elemwise import DimShuffle, Elemwise
from symrnn.ops.reduction import Reduce
from symrnn.ops.shape import Rebroadcast

_LINEAR_SCALARS = ("add", "sub", "neg", "identity")


def scalar_constant(var):
    """The one-element Constant that ``var`` is, through DimShuffles, else None."""
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    if isinstance(var, Constant) and np.size(var.data) == 1:
        return var
    return None


class Leaf:
    """A loop input: ``var`` (as the inner graph reads it) from inner input ``source``.

    ``kind`` is 'seq', 'tap', 'state', 'nonseq' or 'const'; ``shuffles`` the
    DimShuffle ops from ``source`` up to ``var``.
    """

    def __init__(self, var, source, kind, index, shuffles):
        self.var, self.source, self.kind, self.index = var, source, kind, index
        self.shuffles = shuffles

    def __repr__(self):
        return f"Leaf({self.kind}[{self.index}]{'+shuffle' if self.shuffles else ''})"


class ScanPlan:
    """How a fused scan maps to one loop over the elements of S.

    ``leaves``: the loop's inputs; ``rec_out`` / ``nit_out`` / ``state_out``:
    the expressions computing each recurrent, mapped and carried-state value;
    ``states``: carry indices that are states (the others are accumulators);
    ``acc``: per accumulator carry, (increment expression, its E terms that
    vary per step, its loop-invariant E terms); ``terms``: every varying E (the
    loop sums each over time); ``nodes``: the Elemwise nodes, in order;
    ``ndim``: the number of dims of S.
    """

    def __init__(self, op, leaves, states, acc, nodes, ndim):
        self.op, self.leaves, self.states, self.acc = op, leaves, states, acc
        self.nodes, self.ndim = nodes, ndim
        outs = op.inner_outputs
        nr, nn = op.n_rec, op.n_nit
        self.rec_out, self.nit_out = outs[:nr], outs[nr:nr + nn]
        self.state_out = [outs[nr + nn + c] for c in states]
        self.terms = [e for _, (_, varying, _) in sorted(acc.items()) for e in varying]

    def kernel_outputs(self):
        """Every expression the loop (the CuPy kernel) evaluates per step."""
        return self.rec_out + self.nit_out + self.state_out + self.terms


def _inner_kinds(op):
    """id(inner input) -> (kind, index into the outer group, index of the tap or None)."""
    seqs, taps, carries, nonseqs = op.split_inner()
    kinds = {id(v): ("seq", i, None) for i, v in enumerate(seqs)}
    for j, tj in enumerate(taps):
        kinds.update({id(v): ("tap", j, k) for k, v in enumerate(tj)})
    kinds.update({id(v): ("carry", c, None) for c, v in enumerate(carries)})
    kinds.update({id(v): ("nonseq", w, None) for w, v in enumerate(nonseqs)})
    return kinds


class _Walker:
    """Collects the leaves and Elemwise nodes of elementwise expressions of the inner graph."""

    def __init__(self, op, kinds, states, fusable, supported):
        self.op, self.kinds, self.states = op, kinds, states
        self.fusable, self.supported = fusable, supported
        self.leaves, self.nodes = {}, {}

    def is_literal(self, var):
        c = scalar_constant(var)
        return c is not None and self.supported(c.type.dtype)

    def leaf(self, var):
        """The Leaf for ``var``, or a reason string when it cannot be one."""
        shuffles, src = [], var
        while src.owner is not None and isinstance(src.owner.op, DimShuffle):
            shuffles.insert(0, src.owner.op)
            src = src.owner.inputs[0]
        if isinstance(src, Constant):
            return Leaf(var, src, "const", None, shuffles)
        if id(src) not in self.kinds:
            return None
        kind, index, tap = self.kinds[id(src)]
        if kind == "carry":
            if index not in self.states:
                return "an accumulated carry is read by the step"
            kind = "state"
        if kind in ("tap", "state") and shuffles:
            return f"the step reshapes its recurrent state with {shuffles[-1]}"
        return Leaf(var, src, kind, (index, tap) if kind == "tap" else index, shuffles)

    def walk(self, var):
        """None when ``var`` is elementwise over leaves, else why not."""
        if id(var) in self.leaves or id(var) in self.nodes or self.is_literal(var):
            return None
        leaf = self.leaf(var)
        if isinstance(leaf, str):
            return leaf
        if leaf is not None:
            self.leaves[id(var)] = leaf
            return None
        node = var.owner
        if node is None:
            return f"the step reads {var}, which is not one of its inputs"
        if isinstance(node.op, Elemwise) and not self.fusable(node):
            dtypes = [v.type.dtype for v in node.inputs + node.outputs]
            return (f"the step computes {node.op} on dtypes {dtypes}, which this backend "
                    "does not write as scalar code")
        if not self.fusable(node):
            return f"the step computes {node.op}, which is not elementwise"
        for v in node.inputs:
            why = self.walk(v)
            if why:
                return why
        self.nodes[id(var)] = node
        return None


def _split_linear(inc, is_step_value):
    """The E terms under the linear part of ``inc`` (varying, invariant), or a reason."""
    varying, invariant, stack, seen = [], [], [inc], set()
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        op = v.owner.op if v.owner is not None else None
        linear = (isinstance(op, (DimShuffle, Rebroadcast))
                  or (isinstance(op, Reduce) and op.kind == "sum")
                  or (isinstance(op, Elemwise) and (op.scalar_op.name in _LINEAR_SCALARS
                                                    or op.scalar_op.name.startswith("cast_"))))
        if linear and any(is_step_value(i) for i in v.owner.inputs):
            stack.extend(v.owner.inputs)
        elif is_step_value(v):
            varying.append(v)
        else:  # a constant or a function of the non-sequences: the same every step
            invariant.append(v)
    return varying, invariant


def plan_scan(op, fusable, supported):
    """A ScanPlan when ``op`` (a Scan) runs as one elementwise loop, else the reason.

    ``fusable(node)``: whether the backend writes this Elemwise node as a scalar
    expression; ``supported(dtype)``: whether its scalar code has this dtype."""
    if op.as_while:
        return "it stops with until (the number of steps is not known before the loop)"
    kinds = _inner_kinds(op)
    _, _, carries, _ = op.split_inner()
    nr, nn, nc = op.n_rec, op.n_nit, op.n_shared
    outs = op.inner_outputs
    readers = clients(outs, op.inner_inputs)
    states, acc_updates = [], {}
    for c, (cv, new) in enumerate(zip(carries, outs[nr + nn:nr + nn + nc])):
        node = new.owner
        is_acc = (node is not None and isinstance(node.op, Elemwise)
                  and node.op.scalar_op.name == "add" and cv in node.inputs
                  and len([r for r, _ in readers.get(id(cv), []) if r != "output"]) == 1
                  and sum(v is cv for v in node.inputs) == 1 and new not in outs[:nr + nn])
        if is_acc:
            acc_updates[c] = next(v for v in node.inputs if v is not cv)
        else:
            states.append(c)
    w = _Walker(op, kinds, set(states), fusable, supported)
    direct = outs[:nr + nn] + [outs[nr + nn + c] for c in states]
    for v in direct:
        why = w.walk(v)
        if why:
            return why
    step_inputs = {id(v) for v, (k, i, _) in
                   ((v, kinds[id(v)]) for v in op.inner_inputs if id(v) in kinds)
                   if k in ("seq", "tap") or (k == "carry" and i in states)}

    def is_step_value(v):
        return any(id(a) in step_inputs for a in ancestors([v]))
    acc = {}
    for c, inc in acc_updates.items():
        varying, invariant = _split_linear(inc, is_step_value)
        for e in varying:
            why = w.walk(e)
            if why:
                return f"{why} (in the accumulated carry {c})"
        acc[c] = (inc, varying, invariant)
    ndims = {v.type.ndim for v in direct + [e for _, vs, _ in acc.values() for e in vs]}
    ndims |= {leaf.var.type.ndim for leaf in w.leaves.values() if leaf.kind in ("tap", "state")}
    if len(ndims) != 1:
        return (f"its per-step values have different numbers of dims {sorted(ndims)}"
                if ndims else "it computes no per-step value")
    dtypes = [v.type.dtype for v in op.inner_inputs + op.inner_outputs]
    if not all(supported(d) for d in dtypes):
        return f"a dtype among {sorted(set(dtypes))} has no scalar type in this backend"
    if not any(leaf.kind in ("seq", "tap", "state") for leaf in w.leaves.values()):
        return "no value changes from step to step"
    everything = list(w.nodes.values())
    order = [n for n in toposort([n.outputs[0] for n in everything], blockers=[
        leaf.var for leaf in w.leaves.values()]) if id(n.outputs[0]) in w.nodes]
    return ScanPlan(op, list(w.leaves.values()), states, acc, order, ndims.pop())
