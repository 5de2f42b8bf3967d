"""Scan rewrites: drop mapped (per-step) outputs that nobody reads.

The gradient of a scan computes the gradient of every float sequence; when the
sequence is a function input (data), that per-step output is never read. The
rewritten Scan no longer returns it, so its inner computation is dead code and
the compiled loop does not run it (one matrix product less per step in an RNN's
backward pass).
"""
from symrnn.ops.scan import Scan
from symrnn.rewrite import register


def _without_mapped(op, drop):
    """A copy of ``op`` whose mapped outputs ``drop`` (indices among them) are gone."""
    nr, nn = op.n_rec, op.n_nit
    keep = [k for k in range(nn) if k not in drop]
    outs = (op.inner_outputs[:nr] + [op.inner_outputs[nr + k] for k in keep]
            + op.inner_outputs[nr + nn:])
    return Scan(op.inner_inputs, outs, op.info.replace(n_nit=len(keep)),
                truncate_gradient=op.truncate_gradient, name=op.name,
                unroll=op.unroll, arg_info=op.arg_info), keep


@register("scan_drop_unused_outputs")
def scan_drop_unused_outputs(fgraph):
    """Rebuild each Scan without the mapped outputs no node and no function output reads."""
    clients = fgraph.clients()
    for node in fgraph.toposort():
        op = node.op
        if not isinstance(op, Scan):
            continue
        nr, nn = op.n_rec, op.n_nit
        drop = [k for k in range(nn) if not clients.get(id(node.outputs[nr + k]))]
        if not drop or len(drop) == nn and not nr and not op.n_shared:
            continue
        new_op, keep = _without_mapped(op, drop)
        new = new_op.make_node(*node.inputs)
        new.trace = node.trace
        pairs = list(zip(node.outputs[:nr], new.outputs[:nr]))
        pairs += [(node.outputs[nr + k], new.outputs[nr + i]) for i, k in enumerate(keep)]
        pairs += list(zip(node.outputs[nr + nn:], new.outputs[nr + len(keep):]))
        fgraph.replace_all(dict(pairs))
