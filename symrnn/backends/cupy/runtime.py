"""The CuPy thunk: runs a graph's nodes on the GPU, fused elementwise groups as one kernel.

``translate(op, node)`` (a singledispatch on the op class, registered in
``translations.py``, ``rng.py`` and ``scan_runtime.py``, which the package's
``_gpu()`` imports) returns a function of the node's input values giving its
output values as GPU arrays; an op without a translation runs its NumPy
``perform`` on the host (``host_fallback``), with a warning once per op class.
Small integer values that describe shapes stay on the host as NumPy arrays.
"""
import warnings
from functools import singledispatch

import cupy as cp
import numpy as np

from symrnn.backends.cupy.elemwise_kernel import kernel_spec
from symrnn.backends.cupy.fusion import find_groups
from symrnn.backends.numpy import last_uses, run_step
from symrnn.config import config
from symrnn.graph import op_error

_WARNED = set()


def kernel_options():
    """NVRTC options of the kernels symrnn compiles: flush-to-zero while
    ``config.flush_subnormals`` is on (as the CPU backends run each call; read at compile time)."""
    return ("--ftz=true",) if config.flush_subnormals else ()


def to_device(value):
    """``value`` as a CuPy array (no copy when it already is one)."""
    return value if isinstance(value, cp.ndarray) else cp.asarray(value)


def to_host(value):
    return value.get() if isinstance(value, cp.ndarray) else np.asarray(value)


def host_fallback(node):
    """Run ``node.op.perform`` on host copies of the inputs; outputs go back to the GPU."""
    name = type(node.op).__name__
    if name not in _WARNED:
        _WARNED.add(name)
        warnings.warn(f"cupy backend: {name} has no GPU translation; it runs on the host "
                      "with NumPy (its inputs and outputs cross the PCIe bus)", stacklevel=2)

    def run(*inputs):
        outs = node.op.perform(node, [to_host(v) for v in inputs])
        return [to_device(np.asarray(o)) for o in outs]
    return run


@singledispatch
def translate(op, node):
    """A function(*input values) -> list of output values for ``node`` on the GPU."""
    return host_fallback(node)


def check_leaf_shapes(group, values):
    """ValueError, as the NumPy backend raises, when lengths break the types' broadcasting."""
    ndim = group.output.type.ndim
    for d in range(ndim):
        lengths = {v.shape[d] for leaf, v in zip(group.leaves, values)
                   if not leaf.type.broadcastable[d]}
        if len(lengths) > 1:
            shown = ", ".join(f"{v.shape} ({v.dtype})" for v in values)
            hint = (" A length-1 axis broadcasts only when its type says so: use "
                    "T.addbroadcast, a row/col, or shared(..., broadcastable=...)."
                    if 1 in lengths else "")
            raise op_error(f"Elemwise{{{group.root.op.scalar_op.name}}}",
                           f"input shapes do not match on axis {d}: {shown}.{hint}", ValueError,
                           group.root.trace)


def fused_runner(group):
    """The function running ``group`` as one ElementwiseKernel."""
    in_params, out_params, operation, name, preamble = kernel_spec(group)
    kernel = cp.ElementwiseKernel(in_params, out_params, operation, name, preamble=preamble,
                                  options=kernel_options())

    def run(*inputs):
        inputs = [to_device(v) for v in inputs]
        check_leaf_shapes(group, inputs)
        out = kernel(*inputs)
        return list(out) if len(group.outputs) > 1 else [out]
    run.source = operation
    return run


def filter_device(type, value, allow_downcast, what):
    """A CuPy input checked against ``type`` (dtype, dims, broadcastable axes); stays on GPU."""
    if str(value.dtype) != type.dtype:
        if not (np.can_cast(value.dtype, type.dtype, "safe") or allow_downcast):
            raise TypeError(f"{what}: cannot store a CuPy array of dtype {value.dtype} in "
                            f"{type} without risking loss of precision; cast it first or pass "
                            "allow_input_downcast=True")
        value = value.astype(type.dtype)
    return type.check_shape(value, what)


def _steps(fgraph):
    """(runner, input variables, output variables, trace node) for each step of the thunk."""
    order = fgraph.toposort()
    groups, member_of = find_groups(order, fgraph.clients())
    steps = []
    for node in order:
        if id(node) in groups:
            g = groups[id(node)]
            steps.append((fused_runner(g), g.leaves, g.outputs, node))
        elif id(node) not in member_of:
            steps.append((translate(node.op, node), node.inputs, node.outputs, node))
    # drop steps nobody reads (a DimShuffle of a literal that kernels inline)
    needed, kept = set(map(id, fgraph.outputs)), []
    for step in reversed(steps):
        if any(id(v) in needed for v in step[2]):
            kept.append(step)
            needed.update(map(id, step[1]))
    return kept[::-1]


def constant_value(c):
    """A constant's value: small integer ones (shapes, indices) stay on the host."""
    data = np.asarray(c.data)
    if data.dtype.kind in "biu" and data.size <= 32:
        return data
    return to_device(data)


def compile_graph(fgraph):
    """A thunk running ``fgraph`` on the GPU; its values are CuPy arrays."""
    steps = _steps(fgraph)
    inputs, outputs = list(fgraph.inputs), list(fgraph.outputs)
    constants = [(id(c), constant_value(c)) for c in fgraph.constants()]
    # free each intermediate value after its last reader (GPU memory is precious)
    keep = set(map(id, outputs)) | set(map(id, inputs)) | {c for c, _ in constants}
    frees = last_uses([ins for _, ins, _, _ in steps], keep)

    def thunk(values):
        storage = dict(constants)
        storage.update(zip(map(id, inputs), (to_device(v) for v in values)))
        for (runner, ins, outs, node), free in zip(steps, frees):
            results = run_step(runner, node, [storage[id(v)] for v in ins])
            storage.update(zip(map(id, outs), results))
            for vid in free:
                storage.pop(vid, None)
        return [to_device(storage[id(o)]) for o in outputs]

    # each kernel headed by its op's class only: user text (names) never enters source text
    thunk.source = "\n\n".join(f"// {type(node.op).__name__}\n{runner.source}"
                               for runner, _, _, node in steps
                               if hasattr(runner, "source"))
    thunk.steps = steps
    return thunk
