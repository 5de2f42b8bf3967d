"""Which elementwise nodes of a graph run together as one kernel.

A fused group is a tree of Elemwise nodes with one output (its root): a node
joins the group of its readers when every reader of its output is in that
group and its output is not a graph output (the grouping of rewrite/fusion.py,
here with the nodes that have a CUDA C form). Leaves are the group's array
inputs; a scalar constant leaf (a Python literal, possibly dimshuffled) is
written into the kernel as a literal instead. Groups whose value is a graph
output merge into the group that reads them (``merge_outputs``): one kernel,
several outputs.
"""
import numpy as np

from symrnn.backends.cupy.ctypes_map import literal, supported
from symrnn.backends.cupy.scalar_c import has_expression
from symrnn.backends.scan_plan import plan_scan, scalar_constant
from symrnn.ops.elemwise import Elemwise
from symrnn.rewrite.fusion import groups as elementwise_groups


class FusedGroup:
    """``nodes`` (topological order) computing ``outputs`` from ``leaves``.

    ``outputs`` is the root's output, preceded by those of the groups merged
    into this one (see ``merge_outputs``).
    """

    def __init__(self, nodes, leaves, outputs=None):
        self.nodes, self.leaves = nodes, leaves
        self.root = nodes[-1]
        self.output = self.root.outputs[0]
        self.outputs = outputs or [self.output]

    def __repr__(self):
        return f"FusedGroup({' -> '.join(n.op.scalar_op.name for n in self.nodes)})"


def fusable(node):
    """Whether ``node`` is an Elemwise op whose scalar op has a CUDA C form for its dtypes."""
    if not isinstance(node.op, Elemwise):
        return False
    return has_expression(node.op.scalar_op.name, [v.type.dtype for v in node.inputs],
                          node.outputs[0].type.dtype)


def scalar_literal(var):
    """The C literal for ``var`` when it is a one-element constant (through DimShuffles)."""
    c = scalar_constant(var)
    if c is not None and supported(c.type.dtype):
        return literal(np.asarray(c.data).reshape(()), c.type.dtype)
    return None


def kernel_plan(op):
    """The ScanPlan of ``op`` (a Scan) as one CUDA kernel, or why it does not fuse."""
    return plan_scan(op, fusable, supported)


def group_leaves(nodes):
    """The distinct array inputs of ``nodes`` not computed inside them (literals excluded)."""
    inside = {id(o) for n in nodes for o in n.outputs}
    leaves, seen = [], set()
    for n in nodes:
        for v in n.inputs:
            if id(v) in inside or id(v) in seen or scalar_literal(v) is not None:
                continue
            seen.add(id(v))
            leaves.append(v)
    return leaves


def find_groups(order, clients):
    """Fused groups of the nodes in ``order`` (a toposort); ``clients``: graph.clients' map.

    The grouping is rewrite/fusion.py's, with the nodes that have a CUDA C form, any
    broadcast pattern and groups of one; a group of constants only is left to the
    per-node path. Returns {id(root node): FusedGroup} and {id(member node): id(root)}.
    """
    groups, member_of = {}, {}
    for nodes in elementwise_groups(order, clients, fusable, same_pattern=False,
                                    keep=group_leaves):
        root = nodes[-1]
        groups[id(root)] = FusedGroup(nodes, group_leaves(nodes))
        for n in nodes:
            member_of[id(n)] = id(root)
    return merge_outputs(groups, member_of, clients)


def _elementwise_shape(var):
    """'full' (no broadcastable axis), 'scalar' (every axis broadcastable) or None."""
    pattern = set(var.type.broadcastable)
    return "scalar" if pattern <= {True} else ("full" if pattern == {False} else None)


def merge_outputs(groups, member_of, clients):
    """Merge a group whose value is a graph output into the group that reads it (one kernel).

    This is how an optimizer's updates (m, v, then the parameter from m and v)
    become one kernel with several outputs. Only groups whose outputs and
    leaves have no broadcastable axis (or only broadcastable ones, scalars)
    merge: their outputs then all have the shape of the full leaves, which the
    run-time check makes equal.
    """
    def simple(g):
        return (all(_elementwise_shape(o) == "full" for o in g.outputs)
                and all(_elementwise_shape(v) for v in g.leaves))
    for key in list(groups):
        if key not in groups:  # merged into a later group already
            continue
        g = groups[key]
        for leaf in list(g.leaves):
            a_key = member_of.get(id(leaf.owner)) if leaf.owner is not None else None
            a = groups.get(a_key)
            if a is None or a is g or leaf is not a.output or not (simple(a) and simple(g)):
                continue
            if a.output.type.ndim != g.output.type.ndim or any(
                    r != "output" and member_of.get(id(r)) != key
                    for r, _ in clients.get(id(leaf), [])):
                continue
            nodes = a.nodes + g.nodes
            leaves = [v for v in a.leaves + g.leaves if v is not leaf]
            leaves = list({id(v): v for v in leaves}.values())
            g = groups[key] = FusedGroup(nodes, leaves, a.outputs + g.outputs)
            del groups[a_key]
            for n in a.nodes:
                member_of[id(n)] = key
    return groups, member_of
