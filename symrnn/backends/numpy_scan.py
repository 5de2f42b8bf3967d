"""Scan in the reference backend: a Python loop that runs the inner graph every step.

The loop follows the layout drawn in symrnn/ops/scan.py's docstring: recurrent
outputs are written into buffers that start with their initial rows, mapped
outputs into one buffer allocated at the first step, carries are passed on, and
``until`` stops after the step whose condition is true. The run-time checks
(``Scan.check_steps``, ``Scan.store_step``) are the op's, shared with CuPy's loop.
Registered as ``perform`` of Scan (symrnn/backends/numpy.py imports this module).
"""
import numpy as np

from symrnn.backends.numpy import perform, run_node
from symrnn.compile.fgraph import FunctionGraph
from symrnn.compile.nanguardmode import step_check
from symrnn.graph import Constant, clone_replace
from symrnn.ops.scan import Scan
from symrnn.rewrite import rewrite_graph


def inner_function(op):
    """The inner graph of ``op`` prepared once: a function of the step's values -> outputs.

    A lean interpreter (slots in a list, dispatch resolved once per node): the loop
    runs it every step, so per-step overhead matters."""
    run = op.backend_cache.get("NUMPY")
    if run is not None:
        return run
    # rewrites edit a private copy; the op's inner graph stays as it is
    fg = FunctionGraph(op.inner_inputs, clone_replace(
        op.inner_outputs, copy_inputs=True, rebuild=False))
    rewrite_graph(fg, "NUMPY")
    slot = {id(v): k for k, v in enumerate(op.inner_inputs)}
    store0 = [None] * len(op.inner_inputs)
    program = []
    for node in fg.toposort():
        for v in node.inputs:
            if id(v) not in slot and isinstance(v, Constant):
                slot[id(v)] = len(store0)
                store0.append(v.data)
        ins = [slot[id(v)] for v in node.inputs]
        for v in node.outputs:
            slot[id(v)] = len(store0)
            store0.append(None)
        program.append((perform.dispatch(type(node.op)), node, ins,
                        [slot[id(v)] for v in node.outputs]))
    for v in fg.outputs:
        if id(v) not in slot:  # a constant returned as it is
            slot[id(v)] = len(store0)
            store0.append(v.data)
    out_slots = [slot[id(v)] for v in fg.outputs]
    n_in = len(op.inner_inputs)

    def run(values):
        store = list(store0)
        store[:n_in] = values
        check = step_check()  # NanGuardMode's check of every value, or None
        for impl, node, ins, outs in program:
            args = [store[i] for i in ins]
            try:
                res = impl(node.op, node, args)
            except Exception:
                run_node(node, args)  # raises the error naming the node and line
                raise
            if check is not None:
                check(node, res, args)
            for k, r in zip(outs, res):
                store[k] = r
        return [store[k] for k in out_slots]
    op.backend_cache["NUMPY"] = run
    return run


@perform.register(Scan)
def _scan(op, node, inputs):
    n_steps, seqs, inits, carries, nonseqs = op.split_outer(inputs)
    n = int(n_steps)
    op.check_steps(node, n, seqs, inits)
    bufs = []
    for j, (x0, lag) in enumerate(zip(inits, op.lags)):
        buf = np.empty((lag + n,) + x0.shape[1:], dtype=node.outputs[j].type.dtype)
        buf[:lag] = x0
        bufs.append(buf)
    mapped = [None] * op.n_nit
    carries = list(carries)
    fn, nr, nn, nc = inner_function(op), op.n_rec, op.n_nit, op.n_shared
    tap_index = [(j, lag + k) for j, (taps, lag) in enumerate(zip(op.rec_taps, op.lags))
                 for k in taps]
    done, nonseqs = n, list(nonseqs)
    for t in range(n):
        args = [s[t] for s in seqs] + [bufs[j][p + t] for j, p in tap_index]
        try:
            outs = fn(args + carries + nonseqs)
        except (ValueError, TypeError, IndexError, ZeroDivisionError, FloatingPointError,
                OverflowError) as e:
            err = type(e)(f"{e}\n  during step {t} of the loop {op} built at {node.trace}")
            err.symrnn_reported = True
            raise err from e
        for j in range(nr):
            op.store_step(node, bufs[j], op.lags[j] + t, np.asarray(outs[j]), t, f"output {j}")
        for k in range(nn):
            v = np.asarray(outs[nr + k])
            if mapped[k] is None:
                mapped[k] = np.empty((n,) + v.shape, node.outputs[nr + k].type.dtype)
            op.store_step(node, mapped[k], t, v, t, f"output {nr + k}")
        carries = outs[nr + nn:nr + nn + nc]
        if op.as_while and bool(outs[-1]):
            done = t + 1
            break
    bufs = [b[:lag + done] for b, lag in zip(bufs, op.lags)]
    mapped = [m[:done] for m in mapped]
    return bufs + mapped + [np.asarray(c) for c in carries]
