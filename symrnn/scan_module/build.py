"""scan(): loops in the graph, as Theano's theano.scan; and map, reduce, foldl, foldr.

scan() calls the step function ``fn`` once, on symbolic stand-ins for one step's
arguments, and turns what it returns into the inner graph of a Scan op
(symrnn/ops/scan.py, whose docstring draws the op's layout).
"""
import builtins
import inspect

import numpy as np

from symrnn.graph import Constant, Variable, clone_replace, graph_inputs, op_error, toposort
from symrnn.ops.scan import Scan, ScanInfo
from symrnn.scan_module.checkpoint import checkpointed
from symrnn.scan_module.step import split_return
from symrnn.shared import SharedVariable
from symrnn.tensor import math as T
from symrnn.tensor.basic import as_tensor_variable, constant, patternbroadcast
from symrnn.tensor.raw_random import draw_count
from symrnn.updates import OrderedUpdates


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None,
         truncate_gradient=-1, go_backwards=False, mode=None, name=None, strict=False,
         return_list=False, unroll=1, checkpoint=None):
    """Repeat ``fn`` over the leading axis of ``sequences``, feeding outputs back.

    Returns ``(outputs, updates)``: one output (bare unless ``return_list``) or a
    list, and an OrderedDict of shared-variable updates for ``function(...,
    updates=updates)``. It computes what this Python loop computes::

        def scan(fn, sequences=(), outputs_info=(), non_sequences=(), n_steps=None,
                 go_backwards=False):
            # a sequence: x, or (x, taps); an output: None (not fed back), its initial
            # value, or (its values before step 0, oldest first; negative taps)
            seqs = [s if isinstance(s, tuple) else (s, [0]) for s in sequences]
            first = [-min(min(taps), 0) for x, taps in seqs]   # first t where all taps exist
            lens = [len(x) - f - max(max(taps), 0) for (x, taps), f in zip(seqs, first)]
            n = min(lens) if n_steps is None else n_steps   # n_steps > a len: ValueError
            # tap k of a sequence reads the slice x[f + k : f + k + len]; go_backwards
            # walks each slice from its end (Theano cuts the taps first)
            at = [[L - 1 - t if go_backwards else t for t in range(n)] for L in lens]
            past = [None if o is None else list(o[0]) if isinstance(o, tuple) else [o]
                    for o in outputs_info]                       # fed-back values so far
            taps = [None if o is None else o[1] if isinstance(o, tuple) else [-1]
                    for o in outputs_info]
            results = None
            for t in range(n):
                args = [x[f + a[t] + k] for (x, ks), f, a in zip(seqs, first, at) for k in ks]
                args += [p[len(p) + k] for p, ks in zip(past, taps) if p is not None
                         for k in ks]
                outs = fn(*args, *non_sequences)
                outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
                if results is None:                              # a pure map: no outputs_info
                    results = [[] for _ in outs]
                    past += [None] * (len(outs) - len(past))
                for r, p, o in zip(results, past, outs):
                    r.append(o)
                    if p is not None:
                        p.append(o)
                # fn may also return until(cond): stop after the step where cond holds,
                # and {shared: new_value}: applied at once by function(..., updates=)
            return [np.stack(r) for r in results]

    Parameters
    ----------
    fn : callable
        Takes, in order: each sequence's slices (one per tap), each fed-back
        output's previous values (one per tap), then the non-sequences (the
        very variables given, so ``T.grad(..., W)`` works inside ``fn``).
        Returns outputs, and optionally an updates dict and/or ``until(cond)``.
    sequences : variable, dict(input=x, taps=[...]) or a list of them
        Taps are ints (default [0]); step t reads ``x[t + k]`` (shifted so that
        the first step is valid). Without n_steps the loop runs over the shortest sequence.
    outputs_info : list of None, initial values or dict(initial=x0, taps=[-k, ..., -1])
        None: an output not fed back. An initial value: fed back as tap -1.
        With other taps ``x0`` has a leading axis of length ``k`` (oldest first); fn
        receives the taps in the order given (taps=[-1, -2]: h[t-1], then h[t-2]).
    non_sequences : list of variables passed unchanged to every step.
        Shared and outer variables used by ``fn`` without being passed are found
        and passed too (gradients reach them); ``strict=True`` forbids that.
    n_steps : int or integer scalar; the number of steps (required without sequences; a
        sequence shorter than this raises ValueError; with until: at most this many).
    truncate_gradient : int; when > 0 the gradient goes back only that many steps.
    go_backwards : bool; iterate the sequences from the end (outputs in iteration order).
        As in Theano each tap's slice is cut first and then walked from its end: x=[0..4],
        taps [-1, 0] give the steps (3, 4), (2, 3), (1, 2), (0, 1).
    unroll : int k; the compiled loop (numba) runs k steps per iteration: its source
        repeats the step body k times, then a loop runs the last ``n % k`` steps. The
        gradient's backward loop is unrolled too. Same results; NumPy ignores it.
    checkpoint : int k; checkpointed BPTT: the loop runs as chunks of k steps and the
        gradient keeps only each chunk's first state, recomputing the chunk's steps in
        the backward pass (it reads n / k stored states and one chunk's k steps at a
        time, instead of every step's state). Works with taps, every output, until,
        updates and truncate_gradient; with until and truncate_gradient together the
        forward loop runs twice (the gradient's cut is known only once the steps taken
        are counted).
    """
    if not callable(fn):
        raise TypeError(f"scan: fn must be callable, got {type(fn).__name__}")
    args, inner_ins, info = [], [], []
    seq_outer = _sequences(sequences, go_backwards, args, inner_ins, info)
    n = _n_steps(n_steps, seq_outer)
    rec = _outputs_info(outputs_info)
    rec_outer, rec_taps = [], []
    op_info = dict(zip(builtins.map(id, inner_ins), info))  # placeholder -> (label, source)
    for j, entry in enumerate(rec):
        if entry is None:
            continue
        init, taps = entry
        base = init.name or f"out{j}"
        tap_type = init.type if taps == [-1] else init.type.clone(
            broadcastable=init.type.broadcastable[1:])
        phs = {}
        for k in taps:  # fn receives the taps in the order given (Theano's)
            phs[k] = ph = tap_type(f"{base}[t{k}]")
            args.append(ph)
            info.append((ph.name, f"outputs_info[{j}]" + (f" tap {k}" if taps != [-1] else "")))
            op_info[id(ph)] = info[-1]
        inner_ins.extend(phs[k] for k in sorted(taps))  # the op takes them oldest first
        buf = init.dimshuffle(["x"] + list(range(init.type.ndim))) if taps == [-1] else init
        rec_outer.append(buf)
        rec_taps.append(tuple(sorted(taps)))
    nonseqs = [as_tensor_variable(v) for v in _as_list(non_sequences)]
    ns_ph = [v.type(v.name) for v in nonseqs]
    for i, v in enumerate(nonseqs):
        args.append(v)
        info.append((v.name or str(v), f"non_sequences[{i}]"))
    _check_arity(fn, info)

    first_draw = draw_count()
    ret = fn(*args)
    outs, updates, cond = split_return(ret)
    if ret is None:
        raise op_error("scan", f"fn{_where(fn)} returned None: did it forget `return`? It "
                       "must return the step's new value of each output (for example "
                       "`return h_t`, or `return h_t, y_t`)", ValueError)
    draws = _draws_in_step(outs, updates, cond, first_draw)
    if not rec:
        rec = [None] * len(outs)
    elif len(outs) != len(rec):
        raise op_error("scan", f"fn returned {len(outs)} outputs but outputs_info has "
                       f"{len(rec)} entries; give None in outputs_info for each output "
                       "that is not fed back", ValueError)
    rec_idx = [j for j, e in enumerate(rec) if e is not None]
    nit_idx = [j for j, e in enumerate(rec) if e is None]
    for j in rec_idx:
        outs[j] = _check_fed_back(j, outs[j], rec[j][0], rec[j][1], info)
    shared_upd = list(updates.keys())
    carry_ph = [s.type(s.name) for s in shared_upd]
    upd_vals = [_fit_update(s, updates[s]) for s in shared_upd]
    info_carry = [(s.name or str(s), "a shared variable updated by fn") for s in shared_upd]
    inner_outs = [outs[j] for j in rec_idx] + [outs[j] for j in nit_idx] + upd_vals
    if cond is not None:
        inner_outs.append(cond)

    # the outer variables fn used become inner placeholders
    repl = dict(zip(nonseqs, ns_ph))
    repl.update(zip(shared_upd, carry_ph))
    inner_outs = clone_replace(inner_outs, repl, rebuild=False)
    placeholders = inner_ins + carry_ph + ns_ph
    free = _free_variables(inner_outs, placeholders)
    if strict and free:
        names = ", ".join(builtins.map(str, free))
        raise op_error("scan", f"strict=True but fn uses {names} without receiving it; add it "
                       "to non_sequences", ValueError)
    free_ph = [v.type(v.name) for v in free]
    inner_outs = clone_replace(inner_outs, dict(zip(free, free_ph)), rebuild=False)
    info_free = [(v.name or str(v), "implicit: shared variable" if isinstance(
        v, SharedVariable) else "implicit: outer variable") for v in free]
    n_in = len(inner_ins)
    n_out = len(rec_idx) + len(nit_idx)

    def make_op(as_while=cond is not None, cond_output=False, tg=truncate_gradient):
        """The loop as a Scan; with ``cond_output`` its condition is one more mapped output."""
        outs, upd = inner_outs[:n_out], inner_outs[n_out:n_out + len(shared_upd)]
        c = inner_outs[-1:]
        extra = c if cond_output else []
        info_ = ScanInfo(n_seqs=len(seq_outer), rec_taps=rec_taps,
                         n_nit=len(nit_idx) + len(extra), n_shared=len(shared_upd),
                         as_while=as_while)
        return Scan(inner_ins + carry_ph + ns_ph + free_ph, outs + extra + upd
                    + (c if as_while else []), info_, truncate_gradient=tg, name=name,
                    unroll=unroll,
                    arg_info=[op_info[id(v)] for v in inner_ins] + info_carry + info[n_in:]
                    + info_free)
    if checkpoint is not None:
        outs, new_updates = checkpointed(
            checkpoint, lambda w, c: make_op(w, c, -1), n, seq_outer, rec_outer, shared_upd,
            nonseqs + free, truncate_gradient, cond is not None, scan)
        _point_draws_at(draws, new_updates)
        results = [None] * len(rec)
        for o, j in zip(outs, rec_idx + nit_idx):
            results[j] = o
        return ScanResult((results[0] if len(results) == 1 and not return_list else results,
                           new_updates))
    op = make_op()
    node = op.make_node(n, *seq_outer, *rec_outer, *shared_upd, *nonseqs, *free)
    results = [None] * len(rec)
    for k, j in enumerate(rec_idx):
        results[j] = node.outputs[k][-rec_taps[k][0]:]
    for k, j in enumerate(nit_idx):
        results[j] = node.outputs[len(rec_idx) + k]
    new_updates = OrderedUpdates(zip(shared_upd, node.outputs[len(rec):]))
    _point_draws_at(draws, new_updates)
    if len(results) == 1 and not return_list:
        return ScanResult((results[0], new_updates))
    return ScanResult((results, new_updates))


class ScanResult(tuple):
    """scan's ``(outputs, updates)``; used as a tensor it says to unpack it."""

    def _misuse(self, *args):
        raise op_error("scan", "returns a pair (outputs, updates), not a tensor: write "
                       "`h, updates = theano.scan(...)` (or `h, _ = ...`) and use h; pass "
                       "updates to theano.function(..., updates=updates)")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = _misuse
    __rtruediv__ = __pow__ = __rpow__ = __matmul__ = __rmatmul__ = __neg__ = _misuse

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        self._misuse()


def _where(fn):
    """' (defined at file:line)' for a Python function, else ''."""
    code = getattr(fn, "__code__", None)
    return f" (defined at {code.co_filename}:{code.co_firstlineno})" if code else ""


# ---- normalising the arguments ----

def _as_list(x):
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _sequences(sequences, go_backwards, args, inner_ins, info):
    """Slice each (sequence, tap) as Theano 1.0 does; append their step placeholders."""
    outer = []
    for i, s in enumerate(_as_list(sequences)):
        if isinstance(s, dict):
            if "input" not in s:
                raise ValueError(f"scan: sequences[{i}] is a dict without 'input'")
            x, taps = s["input"], list(_as_list(s.get("taps", [0])) or [0])
        else:
            x, taps = s, [0]
        x = as_tensor_variable(x)
        if x.type.ndim == 0:
            raise op_error("scan", f"sequences[{i}] ({x}) is a scalar; a sequence needs a "
                           "leading (time) axis", TypeError)
        if not all(isinstance(k, int) for k in taps):
            raise TypeError(f"scan: taps of sequences[{i}] must be ints, got {taps}")
        lo, hi = min(min(taps), 0), max(max(taps), 0)
        base = s["input"].name if isinstance(s, dict) else x.name
        base = base or (s.name if isinstance(s, Variable) else None) or f"sequences[{i}]"
        for k in taps:
            part = x[k - lo:-(hi - k)] if hi - k else x[k - lo:]
            if go_backwards:  # Theano cuts the taps first, then walks each cut from its end
                part = part[::-1]
            ph = x.type.clone(broadcastable=x.type.broadcastable[1:])(
                f"{base}[t]" if k == 0 else f"{base}[t{k:+d}]")
            outer.append(part)
            args.append(ph)
            inner_ins.append(ph)
            info.append((ph.name, f"sequences[{i}]" + (f" tap {k}" if taps != [0] else "")))
    return outer


def _n_steps(n_steps, seqs):
    """The int64 number of steps: ``n_steps`` when given (the loop then refuses a sequence
    shorter than that, as Theano does), else the shortest sequence."""
    if n_steps is None and not seqs:
        raise op_error("scan", "give at least one sequence or n_steps", ValueError)
    lengths = [s.shape[0] for s in seqs]
    if n_steps is not None:
        if isinstance(n_steps, (bool, float, np.floating)):
            raise op_error("scan", f"n_steps must be an integer, got {n_steps!r}", TypeError)
        if isinstance(n_steps, (int, np.integer)):
            if n_steps <= 0:
                raise op_error("scan", f"n_steps must be positive, got {n_steps}", ValueError)
            n_steps = constant(np.int64(n_steps))
        n_steps = as_tensor_variable(n_steps)
        if n_steps.type.ndim != 0 or not n_steps.type.dtype.startswith(("int", "uint")):
            raise op_error("scan", f"n_steps must be an integer scalar, got {n_steps.type}; "
                           "use T.cast(n, 'int64')", TypeError)
        return T.cast(n_steps, "int64")
    n = lengths[0]
    for other in lengths[1:]:
        n = T.minimum(n, other)
    return n


def _outputs_info(outputs_info):
    """Per output: None (mapped) or (initial value, negative taps in the order given)."""
    out = []
    for j, e in enumerate(_as_list(outputs_info)):
        if isinstance(e, dict):
            if e.get("initial") is None:
                out.append(None)
                continue
            taps = list(dict.fromkeys(_as_list(e.get("taps", [-1]))))  # order kept
            if not taps or any(not isinstance(k, int) or k >= 0 for k in taps):
                raise op_error("scan", f"outputs_info[{j}] taps must be negative ints, got "
                               f"{e.get('taps')}", ValueError)
            init = as_tensor_variable(e["initial"])
            if taps != [-1] and init.type.ndim == 0:
                raise op_error("scan", f"outputs_info[{j}] has taps {taps}, so its initial "
                               f"value needs a leading axis of length {-min(taps)} (the "
                               f"{-min(taps)} previous values), got {init.type}", ValueError)
            out.append((init, taps))
        elif e is None:
            out.append(None)
        else:
            out.append((as_tensor_variable(e), [-1]))
    return out


def _check_arity(fn, info):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    try:
        sig.bind(*range(len(info)))
    except TypeError:
        listing = ", ".join(f"{label} from {src}" for label, src in info) or "nothing"
        raise op_error("scan", f"fn{sig} cannot take the {len(info)} arguments scan passes, "
                       f"in this order: {listing}", TypeError) from None


def _draws_in_step(outs, updates, cond, first_draw):
    """Add to ``updates`` the state update of each random draw made by fn (numbered from
    ``first_draw``): every step draws anew, and scan returns the last state (as Theano).
    Draws made before scan and read by fn are computed once, outside the loop."""
    draws = []
    for v in graph_inputs(outs + list(updates.values()) + ([cond] if cond is not None else [])):
        if isinstance(v, SharedVariable) and v.tag.get("draw", -1) >= first_draw and \
                v.default_update is not None and v not in updates:
            updates[v] = v.default_update
            draws.append(v)
    return draws


def _point_draws_at(draws, new_updates):
    """A draw made in fn is updated, by default, to its state after the loop (then an
    enclosing scan or a function not given scan's updates still moves it on correctly)."""
    for v in draws:
        v.default_update = new_updates[v]


def _check_fed_back(j, out, init, taps, info):
    """The new value of output ``j``, whose type must equal its previous value's."""
    want = init.type if taps == [-1] else init.type.clone(
        broadcastable=init.type.broadcastable[1:])
    if out.type == want:
        return out
    if isinstance(out, Constant) and out.type.ndim == want.ndim:
        return constant(np.asarray(out.data, dtype=want.dtype), ndim=want.ndim)
    if out.type.dtype != want.dtype:
        fix = f"T.cast(new_value, '{want.dtype}') in fn (or cast the initial value)"
    elif out.type.ndim != want.ndim:
        fix = "return a value with as many dimensions as the initial value"
    else:
        axes = [d for d, (a, b) in enumerate(zip(out.type.broadcastable, want.broadcastable))
                if a != b]
        listed = ", ".join(builtins.map(str, axes))
        fix = (f"T.unbroadcast(initial, {listed}) on the initial value, or T.addbroadcast / "
               f"T.unbroadcast on the returned value (axes {axes})")
    built = f"\n  The returned value was built at {out.owner.trace}" if out.owner else ""
    raise op_error("scan", f"output {j} is fed back to the next step, so fn must return it "
                   f"with the type of its initial value (outputs_info[{j}]): {want}; fn "
                   f"returned {out.type}. Fix: {fix}.{built}", TypeError)


def _fit_update(shared, value):
    value = as_tensor_variable(value)
    if value.type.dtype != shared.type.dtype or value.type.ndim != shared.type.ndim:
        raise op_error("scan", f"the update of {shared} ({shared.type}) returned by fn has "
                       f"type {value.type}; use T.cast(value, '{shared.type.dtype}')", TypeError)
    return patternbroadcast(value, shared.type.broadcastable)


def _free_variables(outputs, placeholders):
    """Outer variables the inner graph reads: the largest parts not depending on a step
    argument (computed once, outside the loop); constants stay inside."""
    dep = set(builtins.map(id, placeholders))
    for node in toposort(outputs, blockers=placeholders):
        if any(id(i) in dep for i in node.inputs):
            dep.update(builtins.map(id, node.outputs))
    free, seen = [], set()

    def visit(v):
        if id(v) not in dep and not isinstance(v, Constant) and id(v) not in seen:
            seen.add(id(v))
            free.append(v)
    for node in toposort(outputs, blockers=placeholders):
        if any(id(o) in dep for o in node.outputs):
            for i in node.inputs:
                visit(i)
    for o in outputs:
        visit(o)
    return free


# ---- the classic helpers ----

def map(fn, sequences, non_sequences=None, truncate_gradient=-1, go_backwards=False,
        mode=None, name=None):
    """``[fn(x[t], *non_sequences) for t]`` as a graph (scan with no fed-back output)."""
    return scan(fn, sequences, [], non_sequences, truncate_gradient=truncate_gradient,
                go_backwards=go_backwards, mode=mode, name=name)


def reduce(fn, sequences, outputs_info, non_sequences=None, go_backwards=False, mode=None,
           name=None):
    """Like functools.reduce: scan keeping only the last value of each output."""
    outs, updates = scan(fn, sequences, outputs_info, non_sequences, go_backwards=go_backwards,
                         mode=mode, name=name, return_list=True)
    outs = [o[-1] for o in outs]
    return (outs[0] if len(outs) == 1 else outs), updates


def foldl(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """reduce from the first element to the last."""
    return reduce(fn, sequences, outputs_info, non_sequences, False, mode, name)


def foldr(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """reduce from the last element to the first."""
    return reduce(fn, sequences, outputs_info, non_sequences, True, mode, name)
