"""Constant folding and the merge of duplicate nodes."""
import numpy as np

from symrnn.graph import Constant
from symrnn.rewrite import register

FOLD_MAX_SIZE = 4096  # larger results stay computed at run time (they would bloat the graph)


def _foldable(node):
    from symrnn.ops.debug import PrintOp
    return (all(isinstance(v, Constant) for v in node.inputs)
            and not isinstance(node.op, PrintOp)
            and not getattr(node.op, "inner_outputs", None)
            and not getattr(node.op, "stateful", False))


def _constant(var, value):
    from symrnn.tensor.variable import TensorConstant
    return TensorConstant(var.type, np.asarray(value, dtype=var.type.dtype), name=None)


@register("gradient_ops")
def gradient_ops(fgraph):
    """Drop zero_grad, grad_clip ... (symrnn/ops/gradient_ops.py): the gradient is built."""
    from symrnn.ops.gradient_ops import GradientOp
    repl = {}
    for node in fgraph.toposort():
        node.inputs = [repl.get(id(v), v) for v in node.inputs]
        if isinstance(node.op, GradientOp):
            repl[id(node.outputs[0])] = node.inputs[0]
    fgraph.outputs = [repl.get(id(v), v) for v in fgraph.outputs]


@register("constant_folding")
def constant_folding(fgraph):
    """Compute nodes whose inputs are all constants once, at compile time."""
    from symrnn.backends.numpy import run_node
    memo = {}
    for node in fgraph.toposort():
        node.inputs = [memo.get(id(v), v) for v in node.inputs]
        if not _foldable(node):
            continue
        try:
            values = run_node(node, [v.data for v in node.inputs])
        except Exception:  # an error is the run's to report, with its user line
            continue
        if any(np.size(x) > FOLD_MAX_SIZE for x in values):
            continue
        for out, value in zip(node.outputs, values):
            memo[id(out)] = _constant(out, value)
    fgraph.outputs = [memo.get(id(v), v) for v in fgraph.outputs]


@register("merge")
def merge(fgraph):
    """Make equal constants one constant and equal nodes (same op, same inputs) one node."""
    canon, seen_const, seen_node = {}, {}, {}

    def key_of(v):
        v = canon.get(id(v), v)
        if isinstance(v, Constant):
            return seen_const.setdefault(v.signature(), v)
        return v
    for node in fgraph.toposort():
        node.inputs = [key_of(v) for v in node.inputs]
        if getattr(node.op, "stateful", False):  # two random draws are not one
            continue
        key = (node.op, tuple(map(id, node.inputs)))
        first = seen_node.setdefault(key, node)
        if first is not node:
            for old, new in zip(node.outputs, first.outputs):
                canon[id(old)] = new
    fgraph.outputs = [canon.get(id(v), v) for v in fgraph.outputs]
