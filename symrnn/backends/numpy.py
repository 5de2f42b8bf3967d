"""The reference backend: runs each node's ``perform`` in topological order.

It defines what every op means; every other backend must give its answers.
Backends register per-Op translations; here ``perform`` is a singledispatch
function whose default calls ``op.perform``, so an op needing special handling
in this backend (Scan runs its inner graph) can register without editing ops.
Products run as the compiled code runs them: a small one on one BLAS thread
(symrnn/backends/openblas.py). ``fresh_array`` (a result that aliases an argument or is a
view is copied) serves the other CPU backends too.
"""
from functools import singledispatch

import numpy as np

from symrnn.backends import host_memory, openblas
from symrnn.graph import Constant
from symrnn.ops.blas import BatchedDot, Dot

host_memory.keep_for_reuse()  # (every CPU backend runs this module's calls)


@singledispatch
def perform(op, node, inputs):
    """Run one node; the default is the op's own NumPy ``perform``."""
    return op.perform(node, inputs)


@perform.register(Dot)
@perform.register(BatchedDot)
def _product(op, node, inputs):
    """The op's ``perform``, a small product on one BLAS thread (as compiled code runs it)."""
    x, y = inputs
    with openblas.one_thread_if_small(np.size(x) * (np.shape(y)[-1] if np.ndim(y) > 1 else 1)):
        return op.perform(node, inputs)


def describe_inputs(node, values):
    return ", ".join(f"{tuple(np.shape(v))} {getattr(v, 'dtype', type(v).__name__)}"
                     for v in values)


def run_step(runner, node, values):
    """``runner(*values)`` with errors turned into ones that name the node and the user's line.

    Every backend that calls Python per node (this one, CuPy's) raises through here.
    """
    try:
        return runner(*values)
    except (ValueError, IndexError, TypeError, ZeroDivisionError, FloatingPointError,
            OverflowError) as e:
        if getattr(e, "symrnn_reported", False):
            raise
        err = type(e)(f"{node.op}: {e} (inputs: {describe_inputs(node, values)})"
                      + (f"\n  The node was built at {node.trace}" if node.trace else ""))
        err.symrnn_reported = True
        raise err from e


def run_node(node, values):
    """``perform`` of ``node`` on ``values``, errors naming the node (see run_step)."""
    outs = run_step(lambda *v: perform(node.op, node, list(v)), node, values)
    if len(outs) != len(node.outputs):
        raise RuntimeError(f"{node.op}.perform returned {len(outs)} outputs, "
                           f"expected {len(node.outputs)}")
    return outs


def compile_graph(fgraph):
    """A thunk running ``fgraph`` node by node with NumPy."""
    return compile_nodes(fgraph.toposort(), list(fgraph.inputs), list(fgraph.outputs))


def compile_nodes(order, inputs, outputs):
    """A thunk computing ``outputs`` from ``inputs`` by running ``order`` (the nodes between
    them, in topological order) node by node with NumPy (a graph's, or one compiled piece's
    while numba compiles it: symrnn/backends/numba)."""
    constants = list({id(v): v.data for v in [v for n in order for v in n.inputs] + list(outputs)
                      if isinstance(v, Constant)}.items())
    keep = set(map(id, outputs)) | set(map(id, inputs)) | {c for c, _ in constants}
    frees = last_uses([node.inputs for node in order], keep)

    def thunk(values):
        storage = dict(constants)
        storage.update(zip(map(id, inputs), values))
        for k, node in enumerate(order):
            outs = run_node(node, [storage[id(v)] for v in node.inputs])
            for var, val in zip(node.outputs, outs):
                storage[id(var)] = val
            for vid in frees[k]:
                storage.pop(vid, None)
        return [storage[id(o)] for o in outputs]
    return thunk


def last_uses(reads, keep):
    """Per step (``reads``: the variables each step reads), the ids of the values to free
    after it: those no later step reads, but for the ids in ``keep``."""
    last = {id(v): k for k, step in enumerate(reads) for v in step}
    frees = [[] for _ in reads]
    for vid, k in last.items():
        if vid not in keep:
            frees[k].append(vid)
    return frees


def to_host(value):
    return value


def fresh_array(value, given_ids):
    """``value``, copied when it is one of the arrays the call was given (so no aliasing)."""
    if id(value) in given_ids or (isinstance(value, np.ndarray) and value.base is not None):
        return np.array(value)
    return value


fresh = fresh_array  # the name every backend gives it

__all__ = ["compile_graph", "compile_nodes", "perform", "fresh", "to_host", "Constant"]

from symrnn.backends import numpy_scan  # noqa: E402,F401  (registers Scan's loop)
