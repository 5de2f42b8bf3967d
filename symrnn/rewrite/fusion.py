"""fusion: chains of elementwise nodes become one Composite Elemwise (one loop).

A group grows from a root Elemwise backwards: a node joins when it is an
Elemwise whose output has the root's broadcast pattern (so no element is
computed twice), is not a function output, and every reader of it is already
in the group. Its inputs from outside the group become the Composite's inputs;
a one-element constant is written into the body. Groups of one node stay as
they are.

``groups`` is the one elementwise grouping: the CuPy backend renders the groups
it finds as kernels (its own fusable nodes, any broadcast pattern: a GPU thread
per element recomputes a broadcast value cheaply; see backends/cupy/fusion.py).
"""
import numpy as np

from symrnn.graph import Apply, Constant
from symrnn.ops.elemwise import Composite, CompositeScalar, Elemwise
from symrnn.rewrite import register
from symrnn.types import TensorType


def _fusable(node):
    return type(node.op) is Elemwise and node.outputs[0].type.dtype != "float16"


def _literal(v):
    if isinstance(v, Constant) and np.size(v.data) == 1:
        from symrnn.tensor.variable import TensorConstant
        return TensorConstant(TensorType(v.type.dtype, ()),
                              np.asarray(v.data).reshape(()))
    return None


def _several(nodes):
    return len(nodes) > 1


def groups(order, clients, fusable=_fusable, same_pattern=True, keep=_several):
    """Lists of nodes (topological order, root last) that fuse, the last root first.

    ``order``: a toposort; ``clients``: symrnn.graph.clients' map; ``fusable(node)``:
    whether a node may join; ``same_pattern``: members have the root's broadcast
    pattern; ``keep(nodes)``: whether a group is taken (the nodes of one that is not
    stay free for later roots)."""
    taken, found = set(), []
    for k in range(len(order) - 1, -1, -1):
        root = order[k]
        if id(root) in taken or not fusable(root):
            continue
        pattern = root.outputs[0].type.broadcastable
        members = [root]
        ids = {id(root)}
        for j in range(k - 1, -1, -1):
            n = order[j]
            if id(n) in taken or not fusable(n) or (
                    same_pattern and n.outputs[0].type.broadcastable != pattern):
                continue
            readers = clients.get(id(n.outputs[0]), [])
            if readers and all(r != "output" and id(r) in ids for r, _ in readers):
                members.append(n)
                ids.add(id(n))
        if keep(members[::-1]):
            taken.update(ids)
            found.append(members[::-1])
    return found


def composite(nodes):
    """(Composite node, the group's root output) computing the group ``nodes``."""
    inside = {id(n.outputs[0]) for n in nodes}
    leaves, memo = [], {}
    for n in nodes:
        ins = []
        for v in n.inputs:
            if id(v) not in memo:
                lit = None if id(v) in inside else _literal(v)
                if lit is None and id(v) not in inside:
                    memo[id(v)] = TensorType(v.type.dtype, ())(f"i{len(leaves)}")
                    leaves.append(v)
                elif lit is not None:
                    memo[id(v)] = lit
            ins.append(memo[id(v)])
        out = TensorType(n.outputs[0].type.dtype, ())()
        Apply(n.op, ins, [out], n.trace)
        memo[id(n.outputs[0])] = out
    inner_inputs = [memo[id(v)] for v in leaves]
    op = Composite(CompositeScalar(inner_inputs, memo[id(nodes[-1].outputs[0])]), nodes)
    node = Apply(op, leaves, [nodes[-1].outputs[0].type()], nodes[-1].trace)
    return node


@register("fusion", modes=("NUMPY", "NUMBA"))
def fusion(fgraph):
    """Replace each group of fusable elementwise nodes by one Composite node."""
    order = fgraph.toposort()
    found = groups(order, fgraph.clients())
    if not found:
        return
    repl = {}
    for nodes in found:
        new = composite(nodes)
        repl[nodes[-1].outputs[0]] = new.outputs[0]
    fgraph.replace_all(repl)
