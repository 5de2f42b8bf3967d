"""The Scan op: a loop whose body is an inner graph; its gradient is another Scan.

``symrnn.scan()`` (symrnn/scan_module/build.py) normalises the user's call so that this op
stays simple: sequence taps are sliced and ``go_backwards`` is applied outside
the op, so step ``t`` reads every outer sequence at index ``[t]``.

The op knows no backend: the NumPy backend's loop (backends/numpy_scan.py)
defines its meaning, and every backend that runs the loop step by step refuses bad
run-time values with the op's ``check_steps`` and ``store_step`` (same messages).

Layout (the contract the NumPy, numba and CuPy backends implement)::

    outer inputs                     inner inputs (one step)        inner outputs
    ------------                     -----------------------        -------------
    n_steps       int64 scalar
    seqs[i]       (>= n_steps, ...)  seqs[i][t]                (1)  new rec value j   (n_rec)
    rec_init[j]   (lag_j, ...)       buf_j[lag_j + t + k]      (2)  mapped value k    (n_nit)
                                       one per tap k of rec j       new carry c       (n_shared)
    carry_init[c] (...)              carry c before step t          until condition   (as_while)
    nonseqs[w]    (...)              nonseqs[w] itself

    outer outputs
    -------------
    rec buffer j     (lag_j + n_done, ...): rec_init[j] rows first, then one row per step
    mapped output k  (n_done, ...)
    carry c          (...): the value after the last step (no per-step history is kept)

(1) ``n_seqs`` inputs. (2) ``rec_taps[j]`` is a tuple of negative ints in
ascending order, e.g. ``(-2, -1)``; ``lag_j = -rec_taps[j][0]``. At step t tap
k of recurrent output j reads ``buf_j[lag_j + t + k]`` and the new value is
written to ``buf_j[lag_j + t]``. ``n_steps`` is the number of steps (with
``as_while`` the maximum: the loop stops after the first step whose condition is
true and every output is cut to the ``n_done`` steps done). Zero or negative
``n_steps`` is a ValueError. The op's attributes ``inner_inputs`` and
``inner_outputs`` hold the inner graph; ``info`` (a frozen ``ScanInfo``) holds the
counts ``n_seqs, rec_taps, n_nit, n_shared, as_while``, which the op also exposes
as attributes. Those and ``truncate_gradient, name, unroll, graph_id`` are its
properties (``graph_id``: a structural hash of the inner graph). Helpers: ``split_outer``,
``split_inner``, ``lags``, ``n_rec``, ``n_nonseqs``. A rec_init's leading axis may
be typed broadcastable (a single initial row); the rec buffer's never is.

The carry slots (``n_shared``, named after their first use) are recurrent
states of which only the final value is kept. scan() uses them for shared
variables updated inside ``fn``; the gradient uses them for its accumulators.
``unroll = u`` asks a compiled backend to write the step body u times per
iteration of its loop (plus a loop for the last ``n_steps % u`` steps); it never
changes results (the NumPy reference ignores it). The backward Scan inherits it.

Gradient (``L_op``): one backward Scan over the steps done, last step first::

    sequences  seqs[i][t], buf_j[lag_j + t + k] (every tap), buf_j[lag_j + t] (the
               step's own output), g_buf_j[lag_j + t], g_mapped_k[t], all reversed;
               only those the backward step reads
    carries    S_j: pending gradient of the rows of buf_j that later steps read
               (shape (lag_j, ...); just (...) when rec_taps[j] == (-1,))
               sum_g_w: running sum of the gradient of non-sequence w
    mapped     gradient of seqs[i][t]: one (n_done, ...) buffer, O(T) memory
    nonseqs    the forward non-sequences it reads

The step body applies the vector-Jacobian product of the forward step; where
that needs a forward output (tanh, exp, ...) it reads the stored one instead of
recomputing it. Non-sequence gradients accumulate in carries (O(1) in T).
``truncate_gradient=k`` runs only the last k steps. When a carry matters to the
gradient (a shared variable both read and updated in ``fn``; second derivatives,
which differentiate a backward loop's sums) the loop is differentiated as if each
carry were a recurrent output, which recomputes the loop with the carries' history.
Vocabulary used only here: seq, rec (Theano's sit_sot/mit_sot), mapped (nit_sot),
carry, nonseq.
"""
import dataclasses
import hashlib

import numpy as np

from symrnn.gradient import grad
from symrnn.graph import Apply, Constant, Op, clone_replace, graph_inputs, op_error, toposort
from symrnn.ops.shape import Shape
from symrnn.ops.subtensor import Subtensor, region_of_zeros
from symrnn.tensor import math as T
from symrnn.tensor.basic import as_tensor_variable, constant, patternbroadcast
from symrnn.tensor.indexing import inc_subtensor, set_subtensor
from symrnn.types import TensorType


@dataclasses.dataclass(frozen=True)
class ScanInfo:
    """How many inner inputs and outputs of each kind a Scan has (the layout above).

    ``n_seqs`` sequences; ``rec_taps``: per recurrent output, its negative taps in
    ascending order; ``n_nit`` mapped outputs; ``n_shared`` carries; ``as_while``: the
    last inner output is the ``until`` condition. ``ScanInfo.replace(info, n_nit=2)``
    gives a copy with one count changed."""

    n_seqs: int
    rec_taps: tuple
    n_nit: int
    n_shared: int
    as_while: bool = False

    def __post_init__(self):
        taps = tuple(tuple(int(k) for k in t) for t in self.rec_taps)
        object.__setattr__(self, "rec_taps", taps)
        object.__setattr__(self, "as_while", bool(self.as_while))

    replace = dataclasses.replace


def _bcast0(t):
    """``t`` with one more leading (non-broadcastable) axis."""
    return TensorType(t.dtype, (False,) + t.broadcastable)


def _is_float(v):
    return v.type.dtype.startswith("float")


class Scan(Op):
    """A loop over an inner graph; see the module docstring for the layout."""

    __props__ = ("n_seqs", "rec_taps", "n_nit", "n_shared", "as_while", "truncate_gradient",
                 "name", "unroll", "graph_id")

    def __init__(self, inner_inputs, inner_outputs, info, truncate_gradient=-1, name=None,
                 unroll=1, arg_info=None):
        if not isinstance(info, ScanInfo):
            raise TypeError(f"Scan: info must be a ScanInfo, got {type(info).__name__}")
        self.inner_inputs, self.inner_outputs = list(inner_inputs), list(inner_outputs)
        self.info = info
        n_seqs, n_nit, n_shared = info.n_seqs, info.n_nit, info.n_shared
        self.n_rec = len(self.rec_taps)
        self.lags = [-taps[0] for taps in self.rec_taps]
        self.truncate_gradient = int(truncate_gradient)
        self.name = name or "scan"
        if isinstance(unroll, bool) or not isinstance(unroll, (int, np.integer)) or unroll < 1:
            raise op_error("scan", f"unroll must be a positive int, got {unroll!r}", ValueError)
        self.unroll = int(unroll)
        self.arg_info = arg_info  # (label, source) per inner input, for explain()
        n_taps = sum(len(t) for t in self.rec_taps)
        self.n_nonseqs = len(self.inner_inputs) - n_seqs - n_taps - n_shared
        n_out = self.n_rec + n_nit + n_shared + self.as_while
        if self.n_nonseqs < 0 or len(self.inner_outputs) != n_out:
            raise ValueError(f"Scan: inner graph has {len(self.inner_inputs)} inputs and "
                             f"{len(self.inner_outputs)} outputs, which does not fit the counts")
        self.graph_id = _graph_key(self.inner_inputs, self.inner_outputs)
        self.backend_cache = {}  # what a backend prepares once per op (not pickled)

    # the counts, read from the frozen ``info``
    n_seqs = property(lambda self: self.info.n_seqs)
    rec_taps = property(lambda self: self.info.rec_taps)
    n_nit = property(lambda self: self.info.n_nit)
    n_shared = property(lambda self: self.info.n_shared)
    as_while = property(lambda self: self.info.as_while)

    def __str__(self):
        return f"Scan{{{self.name}}}"

    def loop_key(self):
        """What decides this Scan's loop: its props but its name (equal keys: the same code)."""
        return tuple(getattr(self, p) for p in self.__props__ if p != "name")

    def __getstate__(self):  # a backend's prepared state is rebuilt on first use
        return dict(self.__dict__, backend_cache={})

    # ---- where things are ----

    def split_outer(self, inputs):
        """(n_steps, seqs, rec_inits, carry_inits, nonseqs) from the outer inputs."""
        a = 1 + self.n_seqs
        b = a + self.n_rec
        c = b + self.n_shared
        return inputs[0], inputs[1:a], inputs[a:b], inputs[b:c], inputs[c:]

    def split_inner(self):
        """(seqs, taps per rec output, carries, nonseqs) placeholders of the inner graph."""
        ins, k = self.inner_inputs, self.n_seqs
        seqs, taps = ins[:k], []
        for t in self.rec_taps:
            taps.append(ins[k:k + len(t)])
            k += len(t)
        return seqs, taps, ins[k:k + self.n_shared], ins[k + self.n_shared:]

    # ---- graph building ----

    def make_node(self, n_steps, *inputs):
        n_steps = as_tensor_variable(n_steps)
        if n_steps.type.ndim != 0 or not n_steps.type.dtype.startswith(("int", "uint")):
            raise op_error(str(self), f"n_steps must be an integer scalar, got {n_steps.type}")
        n_steps = T.cast(n_steps, "int64")
        inputs = [as_tensor_variable(x) for x in inputs]
        if len(inputs) != len(self.inner_inputs) - sum(len(t) for t in self.rec_taps) \
                + self.n_rec:
            raise op_error(str(self), f"got {len(inputs)} outer inputs, expected "
                           f"{self.n_seqs + self.n_rec + self.n_shared + self.n_nonseqs}")
        seqs_in, taps_in, carry_in, ns_in = self.split_inner()
        expected = ([_bcast0(v.type) for v in seqs_in] + [_bcast0(t[0].type) for t in taps_in]
                    + [v.type for v in carry_in + ns_in])
        fitted, n_lead = [], self.n_seqs + self.n_rec
        for k, (x, t) in enumerate(zip(inputs, expected)):
            if x.type.dtype != t.dtype or x.type.ndim != t.ndim:
                raise op_error(str(self), f"outer input {k} has type {x.type}, expected {t}")
            keep = x.type.broadcastable[:1] if k < n_lead else ()  # the time axis may differ
            fitted.append(patternbroadcast(x, keep + t.broadcastable[len(keep):]))
        outs = self.inner_outputs
        types = ([_bcast0(o.type) for o in outs[:self.n_rec + self.n_nit]]
                 + [o.type for o in outs[self.n_rec + self.n_nit:
                                         self.n_rec + self.n_nit + self.n_shared]])
        return Apply(self, [n_steps] + fitted, [t() for t in types])

    # ---- run-time checks, the same in every backend that runs the loop step by step ----

    def check_steps(self, node, n, seqs, inits):
        """Refuse a loop of ``n`` steps whose sequences or initial values do not fit it
        (every backend calls this before its loop)."""
        if n <= 0:
            raise op_error(str(self), f"the loop would run {n} steps: sequences must not be "
                           "empty (after taps) and n_steps must be positive", ValueError,
                           node.trace)
        for i, s in enumerate(seqs):
            if len(s) < n:
                raise op_error(str(self), f"sequence is shorter than the required number "
                               f"of steps: sequence {i} has {len(s)} entries, fewer than the "
                               f"{n} steps (n_steps; the sequence's taps already cut)",
                               ValueError, node.trace)
        for j, (x0, lag) in enumerate(zip(inits, self.lags)):
            if x0.shape[0] != lag:
                raise op_error(str(self), f"the initial value of output {j} has {x0.shape[0]} "
                               f"rows (shape {x0.shape}) but its taps {list(self.rec_taps[j])} "
                               f"need {lag}", ValueError, node.trace)

    def store_step(self, node, buf, i, value, t, what):
        """``buf[i] = value`` (step t's value of ``what``), refusing a value whose shape
        differs from the earlier steps' (NumPy and CuPy arrays alike)."""
        if tuple(value.shape) != tuple(buf.shape[1:]):
            raise op_error(str(self), f"step {t} produced {what} of shape {tuple(value.shape)}"
                           f", but it must keep the shape {tuple(buf.shape[1:])} (of its "
                           "initial value or of earlier steps)", ValueError, node.trace)
        buf[i] = value

    # ---- gradient: a backward Scan ----

    def L_op(self, inputs, outputs, output_grads):
        n_steps, seqs, inits, carries, nonseqs = self.split_outer(inputs)
        nr, nn = self.n_rec, self.n_nit
        g_bufs, g_maps = output_grads[:nr], output_grads[nr:nr + nn]
        g_rows = [_steps_gradient(g, o, lag) for g, o, lag in zip(g_bufs, outputs, self.lags)]
        s_in, taps_in, c_in, w_in = self.split_inner()
        reads_carry = set(map(id, c_in)) & set(map(id, graph_inputs(
            self.inner_outputs[:nr + nn])))
        if reads_carry or any(g is not None and _is_float(o) for g, o in zip(
                output_grads[nr + nn:], outputs[nr + nn:])):
            return self._grad_with_carry_history(inputs, output_grads)
        if self.as_while:
            n_done = (outputs[0].shape[0] - self.lags[0]) if nr else outputs[0].shape[0]
        else:
            n_done = n_steps
        tg = self.truncate_gradient
        m = n_done if tg < 0 else T.minimum(n_done, tg)

        # fresh placeholders, so the backward inner graph shares no node with the forward one
        def ph(v):
            return v.type(v.name)
        new_s, new_taps = [ph(v) for v in s_in], [[ph(v) for v in t] for t in taps_in]
        new_w = [ph(v) for v in w_in]
        repl = dict(zip(s_in, new_s))
        repl.update(zip(w_in, new_w))
        for old, new in zip(taps_in, new_taps):
            repl.update(zip(old, new))
        fwd = clone_replace(self.inner_outputs[:nr + nn], repl, copy_inputs=True, rebuild=False)

        g_h = [o.type(f"g_out{j}[t]") if g is not None else None
               for j, (o, g) in enumerate(zip(fwd[:nr], g_bufs))]
        g_y = [o.type(f"g_out{nr + k}[t]") if g is not None else None
               for k, (o, g) in enumerate(zip(fwd[nr:], g_maps))]
        states = []  # pending gradients S_j
        for j, o in enumerate(fwd[:nr]):
            states.append((o.type if self.lags[j] == 1 else _bcast0(o.type))(f"S_out{j}"))
        known = {}

        def add(v, g):
            if _is_float(v):
                known[id(v)] = (v, known[id(v)][1] + g if id(v) in known else g)
        for j, o in enumerate(fwd[:nr]):
            add(o, states[j] if self.lags[j] == 1 else states[j][self.lags[j] - 1])
            if g_h[j] is not None:
                add(o, g_h[j])
        for o, g in zip(fwd[nr:], g_y):
            if g is not None:
                add(o, g)
        flat_taps = [v for t in new_taps for v in t]
        wrt_s = [v for v in new_s if _is_float(v)]
        wrt_w = [v for v in new_w if _is_float(v)]
        wrt = wrt_s + [v for v in flat_taps if _is_float(v)] + wrt_w
        grads = grad(None, wrt, known_grads=dict(known.values()),
                     disconnected_inputs="ignore") if known and wrt else []
        gmap = {id(v): g for v, g in zip(wrt, grads)}

        def g_of(v):
            return gmap.get(id(v)) if id(v) in gmap else T.zeros_like(v)
        new_states = []
        for j, (taps, lag) in enumerate(zip(self.rec_taps, self.lags)):
            if lag == 1:
                new_states.append(T.cast(g_of(new_taps[j][0]), states[j].type.dtype))
                continue
            S = states[j]
            shifted = T.concatenate([T.zeros_like(S[:1]), S[:-1]])
            for k, v in zip(taps, new_taps[j]):
                shifted = inc_subtensor(shifted[lag + k], g_of(v))
            new_states.append(shifted)
        acc = [v.type(f"sum_g_{v.name}") for v in wrt_w]
        new_acc = [a + T.cast(g_of(v), a.type.dtype) for a, v in zip(acc, wrt_w)]
        g_seq_out = [T.cast(g_of(v), v.type.dtype) for v in wrt_s]

        # backward sequences: only those the backward step reads, reversed in time
        def rev(x, start):
            return x[start:start + n_done][::-1]
        b_seq = [(v, rev(x, 0), "forward sequence") for v, x in zip(new_s, seqs)]
        for j, (taps, lag) in enumerate(zip(self.rec_taps, self.lags)):
            b_seq += [(v, rev(outputs[j], lag + k), f"stored output {j}")
                      for k, v in zip(taps, new_taps[j])]
            if g_h[j] is not None:
                g = rev(g_bufs[j], lag) if g_rows[j] is None else g_rows[j][::-1]
                b_seq.append((g_h[j], g, f"gradient of output {j}"))
        b_seq += [(v, rev(g, 0), f"gradient of output {nr + k}")
                  for k, (v, g) in enumerate(zip(g_y, g_maps)) if v is not None]
        b_out, stored = _reuse_outputs(g_seq_out + new_states + new_acc, fwd)
        for j, v in stored:  # a forward output the backward step reads: stored, not recomputed
            start = self.lags[j] if j < nr else 0
            b_seq.append((v, rev(outputs[j], start), f"stored output {j}"))
        used = set(map(id, graph_inputs(b_out)))
        b_seq = [e for e in b_seq if id(e[0]) in used]
        zero_states = [T.zeros_like(x0[0]) if lag == 1 else T.zeros_like(x0)
                       for x0, lag in zip(inits, self.lags)]
        zero_acc = [T.zeros_like(w) for w, v in zip(nonseqs, new_w) if _is_float(v)]
        b_ns = [(v, w) for v, w in zip(new_w, nonseqs) if id(v) in used]
        info = ([(v.name, src) for v, _, src in b_seq]
                + [(v.name, "pending gradient (carried)") for v in states + acc]
                + [(v.name, "forward non-sequence") for v, _ in b_ns])
        back = Scan([e[0] for e in b_seq] + states + acc + [v for v, _ in b_ns], b_out,
                    ScanInfo(n_seqs=len(b_seq), rec_taps=(), n_nit=len(g_seq_out),
                             n_shared=len(states) + len(acc)),
                    arg_info=info, name=f"grad_of_{self.name}", unroll=self.unroll)
        res = back(m, *[e[1] for e in b_seq], *zero_states, *zero_acc, *[w for _, w in b_ns])
        res = res if isinstance(res, list) else [res]
        g_seqs, g_states, g_acc = (res[:len(g_seq_out)], res[len(g_seq_out):nr + len(
            g_seq_out)], res[nr + len(g_seq_out):])

        out = [None]
        it = iter(g_seqs)
        for x in seqs:
            if not _is_float(x):
                out.append(None)
                continue
            gx = next(it)[::-1]
            if tg < 0 and not self.as_while and _is_length(n_steps, x) and gx.type == x.type:
                out.append(gx)  # every step read x: its gradient is the loop's, whole
            else:
                out.append(set_subtensor(T.zeros_like(x)[n_done - m:n_done], gx))
        for j, (x0, lag) in enumerate(zip(inits, self.lags)):
            if not _is_float(x0):
                out.append(None)
                continue
            gs = g_states[j] if lag > 1 else g_states[j].dimshuffle(
                ["x"] + list(range(g_states[j].type.ndim)))
            if tg >= 0:
                gs = T.switch(T.le(n_done, tg), gs, constant(np.zeros((), x0.type.dtype)))
            if g_bufs[j] is not None and g_rows[j] is None:
                gs = gs + g_bufs[j][:lag]
            out.append(gs)
        out += [None] * len(carries)
        it = iter(g_acc)
        out += [next(it) if _is_float(v) else None for v in new_w]
        return out

    def _grad_with_carry_history(self, inputs, output_grads):
        """The gradient when carries matter: the same loop with every carry as a recurrent
        output (keeping its per-step history) is differentiated instead. This recomputes
        the loop; it serves shared variables read and updated in fn, and second
        derivatives (the gradient of a backward loop's sums)."""
        nr, nn, nc = self.n_rec, self.n_nit, self.n_shared
        outs = self.inner_outputs
        hist = Scan(self.inner_inputs, outs[:nr] + outs[nr + nn:nr + nn + nc] + outs[nr:nr + nn]
                    + outs[nr + nn + nc:], self.info.replace(
                        rec_taps=self.rec_taps + ((-1,),) * nc, n_shared=0),
                    truncate_gradient=self.truncate_gradient, name=self.name, unroll=self.unroll)
        n, seqs, inits, carries, nonseqs = self.split_outer(inputs)
        bufs = [as_tensor_variable(c).dimshuffle(["x"] + list(range(c.type.ndim)))
                for c in carries]
        node = hist.make_node(n, *seqs, *inits, *bufs, *nonseqs)
        g_c = [None if g is None else set_subtensor(T.zeros_like(b)[-1], g)
               for g, b in zip(output_grads[nr + nn:], node.outputs[nr:nr + nc])]
        grads = hist.L_op(node.inputs, node.outputs,
                          list(output_grads[:nr]) + g_c + list(output_grads[nr:nr + nn]))
        k = 1 + self.n_seqs + nr
        return grads[:k] + [None if g is None else g[0] for g in grads[k:k + nc]] \
            + grads[k + nc:]


def _steps_gradient(g, buf, lag):
    """The gradient of ``buf[lag:]`` (the steps' rows, what scan returns to the user) when
    ``g``, the gradient of the whole buffer, is just that put into zeros; else None."""
    hit = None if g is None else region_of_zeros(g)
    if hit and hit[0] is buf and hit[1] == (("slice", lag, None, None),) \
            and hit[3].type == buf.type:
        return hit[3]
    return None


def _is_length(n, x):
    """Is ``n`` the graph of ``x.shape[0]``?"""
    o = n.owner
    return (o is not None and isinstance(o.op, Subtensor) and o.op.idx_list == (0,)
            and o.inputs[0].owner is not None and isinstance(o.inputs[0].owner.op, Shape)
            and o.inputs[0].owner.inputs[0] is x)


def _graph_key(inputs, outputs):
    """A structural key of an inner graph: equal graphs (up to names) get equal keys, in
    every process, so equal Scans merge and compile caches can key on them."""
    index = {id(v): f"in{k}:{v.type}" for k, v in enumerate(inputs)}

    def ref(v):
        if id(v) not in index:
            if isinstance(v, Constant):
                d = np.asarray(v.data)
                index[id(v)] = f"{v.type}{d.shape}:{hashlib.sha1(d.tobytes()).hexdigest()}"
            else:
                raise ValueError(f"Scan: the inner graph reads {v}, which is not an inner input")
        return index[id(v)]
    lines = []
    for n, node in enumerate(toposort(outputs, blockers=inputs)):
        props = ", ".join(str(p) for p in node.op._props())
        lines.append(f"{type(node.op).__name__}{{{props}}}({', '.join(map(ref, node.inputs))})")
        index.update((id(o), f"n{n}.{k}") for k, o in enumerate(node.outputs))
    lines.append(", ".join(map(ref, outputs)))
    return hashlib.sha1("\n".join(lines).encode()).hexdigest()[:20]


def _reuse_outputs(outputs, step_outputs):
    """``outputs`` reading placeholders instead of recomputing a forward step output (the
    gradients of tanh, exp, sigmoid... rebuild the node they differentiate)."""
    keys = {}
    for j, o in enumerate(step_outputs):
        if o.owner is not None:
            keys.setdefault((o.owner.op, tuple(map(id, o.owner.inputs)), o.index), j)
    repl, stored = {}, {}
    for node in toposort(outputs):
        for out in node.outputs:
            j = keys.get((node.op, tuple(map(id, node.inputs)), out.index))
            if j is not None:
                if j not in stored:
                    stored[j] = step_outputs[j].type(f"out{j}[t]")
                repl[out] = stored[j]
    if not repl:
        return outputs, []
    return clone_replace(outputs, repl, rebuild=False), sorted(stored.items())
