"""Views that change nothing: ``x[0:]``, ``x[:]`` and ``x[::-1][::-1]`` are ``x``.

A scan's gradient writes such views (the whole sequence from step 0, a reversed
sequence reversed back); each costs the compiled backends a view (numba ~12 ms of
compile per view) for nothing.
"""
from symrnn.ops.subtensor import FLIP, WHOLE, Subtensor
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
