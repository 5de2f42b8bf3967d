"""The symbolic graph: Variable, Constant, Apply, Op; toposort and clone/replace.

A graph is a DAG of ``Variable`` s and ``Apply`` nodes. Each Apply node applies
one ``Op`` to input Variables and owns its output Variables. Ops are immutable
values: two ops of the same class with equal ``__props__`` are equal and hash
equal, which lets the merge rewrite find duplicate nodes and gives stable
compile-cache keys.

Every Apply node remembers the user's source line that built it
(``node.trace``); errors name that line.
"""
import linecache
import os
import sys

import numpy as np

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


# ---- where in the user's code was this built? ----

def user_trace():
    """The first stack frame outside symrnn, as 'file:line (code)' (or '' if none)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(_PACKAGE_DIR):
            break
        frame = frame.f_back
    if frame is None:
        return ""
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    where = f"{frame.f_code.co_filename}:{frame.f_lineno}"
    return f"{where}: {line}" if line else where


def op_error(what, message, exc=TypeError, trace=None):
    """Build an exception whose message names the op and the user's line."""
    trace = user_trace() if trace is None else trace
    text = f"{what}: {message}"
    if trace:
        text += f"\n  The node was built at {trace}"
    err = exc(text)
    err.symrnn_reported = True  # backends re-raise it as it is
    return err


# ---- variables and nodes ----

class Variable:
    """A symbolic value of a given Type: an input, a constant, or an Op's output."""

    def __init__(self, type, owner=None, index=None, name=None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = {}

    def clone(self):
        """A new unowned Variable of the same type and name."""
        v = type(self)(self.type, None, None, self.name)
        v.tag = dict(self.tag)
        return v

    def __repr__(self):
        if self.name is not None:
            return self.name
        if self.owner is not None:
            op = str(self.owner.op)
            return op if len(self.owner.outputs) == 1 else f"{op}.{self.index}"
        return f"<{self.type}>"

    __str__ = __repr__


class Constant(Variable):
    """A Variable with a fixed value (``.data``); it has no owner."""

    def __init__(self, type, data, name=None):
        super().__init__(type, None, None, name)
        self.data = data

    def clone(self):
        c = type(self)(self.type, self.data, self.name)
        c.tag = dict(self.tag)
        return c

    def signature(self):
        """A hashable key for merging equal constants."""
        d = np.asarray(self.data)
        return (self.type, d.shape, d.tobytes())

    def __repr__(self):
        if self.name is not None:
            return self.name
        d = np.asarray(self.data)
        return str(d.item()) if d.size == 1 and d.ndim == 0 else f"Constant{{{d.shape}}}"


class Apply:
    """One application of an Op to input Variables, producing output Variables."""

    def __init__(self, op, inputs, outputs, trace=None):
        self.op = op
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.trace = user_trace() if trace is None else trace
        for i, out in enumerate(self.outputs):
            out.owner, out.index = self, i

    @property
    def out(self):
        return self.outputs[0]

    def clone_with_new_inputs(self, inputs):
        """A copy of this node reading ``inputs``; output types are re-inferred."""
        new = self.op.make_node(*inputs)
        new.trace = self.trace
        for old_out, new_out in zip(self.outputs, new.outputs):
            new_out.name = old_out.name
        return new

    def __repr__(self):
        return f"{self.op}({', '.join(map(str, self.inputs))})"


class Op:
    """Base class of all operations.

    Subclasses set ``__props__`` (names of the attributes that define the op),
    and implement ``make_node`` (type checking and output types), ``perform``
    (the NumPy reference meaning, returning a list of output arrays) and
    ``grad`` (symbolic reverse-mode gradients, one per input; ``None`` for an
    input that gets no gradient). ``symrnn.gradient`` calls ``L_op`` only, as
    Theano does: an op whose gradient reads its own outputs overrides ``L_op``
    (it is given them) instead of ``grad``.
    """

    __props__ = ()

    def _props(self):
        return tuple(getattr(self, p) for p in self.__props__)

    def __eq__(self, other):
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self):
        return hash((type(self).__name__, self._props()))

    def __str__(self):
        if not self.__props__:
            return type(self).__name__
        return f"{type(self).__name__}{{{', '.join(str(p) for p in self._props())}}}"

    __repr__ = __str__

    def make_node(self, *inputs):
        raise NotImplementedError

    def __call__(self, *inputs, **kwargs):
        node = self.make_node(*inputs, **kwargs)
        return node.outputs[0] if len(node.outputs) == 1 else node.outputs

    def perform(self, node, inputs):
        raise NotImplementedError(f"{self} has no perform")

    def grad(self, inputs, output_grads):
        raise NotImplementedError(f"{self} has no gradient")

    def L_op(self, inputs, outputs, output_grads):
        """Gradients for ``inputs`` given the node's ``outputs``; the default is ``grad``."""
        return self.grad(inputs, output_grads)

    def connection_pattern(self, node):
        """For each input, for each output: may the output depend on the input?"""
        return [[True] * len(node.outputs) for _ in node.inputs]


# ---- walking graphs ----

def ancestors(outputs, blockers=()):
    """All Variables that ``outputs`` depend on (stopping at ``blockers``)."""
    blockers = set(map(id, blockers))
    seen, stack, order = set(), list(outputs), []
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        order.append(v)
        if v.owner is not None and id(v) not in blockers:
            stack.extend(v.owner.inputs)
    return order


def graph_inputs(outputs, blockers=()):
    """The owner-less Variables (inputs and constants) that ``outputs`` depend on."""
    blocker_ids = set(map(id, blockers))
    return [v for v in ancestors(outputs, blockers)
            if v.owner is None or id(v) in blocker_ids]


def toposort(outputs, blockers=()):
    """The Apply nodes computing ``outputs``, each after the nodes it reads.

    The order is deterministic: networkx's topological sort (generation by generation,
    Kahn's algorithm) of a DiGraph whose nodes and edges were inserted in a depth-first
    order from the outputs; tests/test_graph.py checks it against networkx itself. Not
    networkx: importing it takes 0.12 s of every start, and a function() sorts its graph
    a few hundred times (0.05 s more through networkx).
    """
    blockers = set(map(id, blockers))
    children, indegree = {}, {}  # insertion-ordered, as a DiGraph's nodes and adjacency
    stack = [v.owner for v in reversed(outputs) if v.owner is not None and id(v) not in blockers]
    seen = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        children.setdefault(id(node), (node, {}))
        for inp in node.inputs:
            if inp.owner is not None and id(inp) not in blockers:
                kids = children.setdefault(id(inp.owner), (inp.owner, {}))[1]
                if id(node) not in kids:
                    kids[id(node)] = node
                    indegree[id(node)] = indegree.get(id(node), 0) + 1
                stack.append(inp.owner)
    ready = [n for k, (n, _) in children.items() if k not in indegree]
    order = []
    while ready:
        order += ready
        generation, ready = ready, []
        for node in generation:
            for k, child in children[id(node)][1].items():
                indegree[k] -= 1
                if indegree[k] == 0:
                    ready.append(child)
    if len(order) != len(children):
        raise ValueError("toposort: the graph has a cycle")
    return order


def clients(outputs, blockers=()):
    """Who reads each variable of the graph computing ``outputs`` (stopping at ``blockers``):
    id(variable) -> list of (node, input position), and ('output', i) for ``outputs[i]``.

    The one map of readers: FunctionGraph.clients, the rewrites and the backends use it."""
    out = {}
    for node in toposort(outputs, blockers):
        for i, v in enumerate(node.inputs):
            out.setdefault(id(v), []).append((node, i))
    for i, v in enumerate(outputs):
        out.setdefault(id(v), []).append(("output", i))
    return out


def clone_replace(outputs, replace=None, copy_inputs=False, rebuild=True):
    """Copies of ``outputs`` in which each key of ``replace`` is replaced by its value.

    Nodes that do not depend on a replaced variable are shared with the original
    graph unless ``copy_inputs`` is true (then every owned node is copied; owner-less
    inputs are kept). With ``rebuild`` a copied node goes through its op's
    ``make_node`` again (types are re-inferred); without it the node is copied as
    it is, which requires each replacement to have the type of what it replaces.
    Returns a list of new outputs.
    """
    replace = dict(replace or {})
    memo = {id(k): v for k, v in replace.items()}
    keys = set(memo)
    for node in toposort(list(outputs), blockers=list(replace)):
        new_inputs = [memo.get(id(i), i) for i in node.inputs]
        if not copy_inputs and all(a is b for a, b in zip(new_inputs, node.inputs)):
            continue
        if rebuild:
            new_node = node.clone_with_new_inputs(new_inputs)
        else:
            new_node = Apply(node.op, new_inputs, [o.clone() for o in node.outputs], node.trace)
        for old, new in zip(node.outputs, new_node.outputs):
            if id(old) not in keys:
                memo[id(old)] = new
    return [memo.get(id(o), o) for o in outputs]


def is_constant(v):
    return isinstance(v, Constant)
