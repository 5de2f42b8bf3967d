"""Views that change nothing: ``x[0:]``, ``x[:]`` and ``x[::-1][::-1]`` are ``x``; and
a reversed sequence of zeros with one step put in is the zeros with the mirrored step.

A scan's gradient writes such views (the whole sequence from step 0, a reversed
sequence reversed back); each costs the compiled backends a view (numba ~12 ms of
compile per view) for nothing. The gradient of a loss on an RNN's last state is zeros
with its last step set, which the backward scan reads reversed: with the first step set
instead, it reads its sequence as the backward scan of a layer below reads the product
it is handed, and a deep model's backward scans are the same compiled piece
(backends/numba/cut.py's twins).
"""
import numpy as np

from symrnn.ops.scan import Scan
from symrnn.ops.shape import constant_value
from symrnn.ops.subtensor import FLIP, WHOLE, IncSubtensor, Subtensor, region_of_zeros
from symrnn.rewrite import register


def _same(node):
    """The variable ``node`` (a Subtensor) is a plain view of, else None."""
    if not isinstance(node.op, Subtensor) or len(node.inputs) > 1:
        return None
    x = node.inputs[0]
    if all(e in WHOLE for e in node.op.idx_list):
        return x
    inner = x.owner
    if node.op.idx_list == (FLIP,) and inner is not None and \
            isinstance(inner.op, Subtensor) and inner.op.idx_list == (FLIP,):
        return inner.inputs[0]
    return None


@register("subtensor_identity")
def subtensor_identity(fgraph):
    """Replace each view that is its input unchanged (same type) by that input."""
    repl = {}
    for node in fgraph.toposort():
        same = _same(node)
        if same is not None:
            same = repl.get(same, same)
            if same.type == node.outputs[0].type:
                repl[node.outputs[0]] = same
    fgraph.replace_all(repl)


def _step_index(idx_list, idx_vars):
    """The constant int that ``idx_list`` (with ``idx_vars``) takes on the first axis, keeping
    the others whole; else None."""
    if not idx_list or not all(e in WHOLE for e in idx_list[1:]):
        return None
    first = idx_list[0]
    if first == "v":
        return constant_value(idx_vars[0]) if len(idx_vars) == 1 else None
    return int(first) if isinstance(first, (int, np.integer)) else None


@register("reversed_zeros_region")
def reversed_zeros_region(fgraph):
    """Replace ``inc_subtensor(zeros_like(x)[k], y)[::-1]`` by ``inc_subtensor(zeros_like(x)
    [-1 - k], y)`` (set or inc; k a constant step), the same values without the reversed
    view, where a Scan reads it and an equal Scan reads a sequence there that is not reversed
    (a deep model's backward scans: the top one reads its loss gradient so, the one below
    the product it is handed)."""
    order, readers, repl = fgraph.toposort(), fgraph.clients(), {}
    unreversed = {(n.op.loop_key(), k) for n in order if isinstance(n.op, Scan)
                  for k, v in enumerate(n.inputs) if not _reversed(v)}
    for node in order:
        region = region_of_zeros(node.inputs[0]) if _reversed(node.outputs[0]) else None
        k = None if region is None else _step_index(region[1], region[2])
        if k is None or not any(not isinstance(r, str) and isinstance(r.op, Scan) and
                                (r.op.loop_key(), i) in unreversed
                                for r, i in readers.get(id(node.outputs[0]), [])):
            continue
        inc = node.inputs[0].owner
        out = IncSubtensor((-1 - k,) + tuple(region[1][1:]), inc.op.set_instead_of_inc)(
            inc.inputs[0], region[3])
        if out.type == node.outputs[0].type:
            repl[node.outputs[0]] = out
    fgraph.replace_all(repl)


def _reversed(v):
    return v.owner is not None and isinstance(v.owner.op, Subtensor) and \
        v.owner.op.idx_list == (FLIP,)
