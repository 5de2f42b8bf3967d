"""Constant folding (each op's own NumPy ``perform``), dropping the gradient-only ops, an
elementwise result's shape read from its input, and the merge of duplicate nodes."""
import numpy as np

from symrnn.graph import Constant
from symrnn.ops.debug import PrintOp
from symrnn.ops.elemwise import Elemwise
from symrnn.ops.gradient_ops import GradientOp
from symrnn.ops.shape import Shape
from symrnn.rewrite import register
from symrnn.tensor.variable import TensorConstant

FOLD_MAX_SIZE = 4096  # larger results stay computed at run time (they would bloat the graph)


def _foldable(node, inputs):
    return (all(isinstance(v, Constant) for v in inputs)
            and not isinstance(node.op, PrintOp)
            and not getattr(node.op, "inner_outputs", None)
            and not getattr(node.op, "stateful", False))


def _constant(var, value):
    return TensorConstant(var.type, np.asarray(value, dtype=var.type.dtype), name=None)


@register("gradient_ops")
def gradient_ops(fgraph):
    """Drop zero_grad, grad_clip ... (symrnn/ops/gradient_ops.py): the gradient is built."""
    repl = {}
    for node in fgraph.toposort():
        if isinstance(node.op, GradientOp):
            repl[node.outputs[0]] = repl.get(node.inputs[0], node.inputs[0])
    fgraph.replace_all(repl)


@register("constant_folding")
def constant_folding(fgraph):
    """Compute nodes whose inputs are all constants once, at compile time, with each op's
    own NumPy ``perform`` (ops with an inner graph, random draws and prints stay)."""
    memo = {}
    for node in fgraph.toposort():
        inputs = [memo.get(v, v) for v in node.inputs]
        if not _foldable(node, inputs):
            continue
        try:
            values = node.op.perform(node, [v.data for v in inputs])
        except Exception:  # an error is the run's to report, with its user line
            continue
        if any(np.size(x) > FOLD_MAX_SIZE for x in values):
            continue
        for out, value in zip(node.outputs, values):
            memo[out] = _constant(out, value)
    fgraph.replace_all(memo)


def _shape_only(reader):
    """Whether ``reader`` (a node, or "output") reads its first input for its shape alone."""
    return reader != "output" and (isinstance(reader.op, Shape) or isinstance(
        reader.op, Elemwise) and reader.op.scalar_op.name == "second")


@register("shape_of_elemwise")
def shape_of_elemwise(fgraph):
    """Read an elementwise result's shape (``x.shape``; ``fill(x, c)``, as gradients are built)
    from an input of the same broadcast pattern, so that a result a reduction reads too (the
    count of a mean of ``(y - t) ** 2``, its gradient's fill) fuses into it rather than being
    made whole; only where something else reads the result (which still checks its inputs'
    shapes)."""
    readers, repl = fgraph.clients(), {}
    for node in fgraph.toposort():
        v = node.inputs[0] if _shape_only(node) else None
        if v is None or all(_shape_only(r) and k == 0 for r, k in readers.get(id(v), [])):
            continue
        src = v
        while src.owner is not None and isinstance(src.owner.op, Elemwise):
            same = [u for u in src.owner.inputs if u.type.broadcastable == v.type.broadcastable]
            if not same:
                break
            src = same[0]
        if src is not v:
            out = node.op(src, *node.inputs[1:])
            if out.type == node.outputs[0].type:
                repl[node.outputs[0]] = out
    fgraph.replace_all(repl)


@register("merge")
def merge(fgraph):
    """Make equal constants one constant and equal nodes (same op, same inputs) one node."""
    canon, seen_const, seen_node = {}, {}, {}

    def key_of(v):
        v = canon.get(v, v)
        if isinstance(v, Constant):
            canon[v] = seen_const.setdefault(v.signature(), v)
            return canon[v]
        return v
    for node in fgraph.toposort():
        inputs = [key_of(v) for v in node.inputs]
        if getattr(node.op, "stateful", False):  # two random draws are not one
            continue
        key = (node.op, tuple(map(id, inputs)))
        first = seen_node.setdefault(key, node)
        if first is not node:
            for old, new in zip(node.outputs, first.outputs):
                canon[old] = new
    fgraph.replace_all({old: new for old, new in canon.items() if old is not new})
