"""CUDA C source for a fused elementwise group (a ``cupy.ElementwiseKernel``).

Each node of the group becomes one typed local variable; the group's outputs
go to ``out0``, ``out1``, ... ``kernel_spec(group)`` gives the ElementwiseKernel arguments
(in_params, out_params, operation, name, preamble); ``cuda_source`` writes the
same thing as a stand-alone ``__global__`` function over contiguous arrays, the
form the tests compile with ``nvcc -ptx``.
"""
import hashlib

from symrnn.backends.cupy.ctypes_map import c_type
from symrnn.backends.cupy.fusion import scalar_literal
from symrnn.backends.cupy.scalar_c import PREAMBLE, expression


def statements(nodes, names):
    """C statements computing ``nodes``; ``names`` maps id(variable) to a C expression.

    Adds each node's output to ``names`` and returns the list of lines.
    """
    lines = []
    for node in nodes:
        args = []
        for v in node.inputs:
            lit = scalar_literal(v)
            args.append(names[id(v)] if id(v) in names else lit)
        out = node.outputs[0]
        dtypes = [v.type.dtype for v in node.inputs]
        expr = expression(node.op.scalar_op.name, args, dtypes, out.type.dtype)
        name = f"v{len(names)}"
        lines.append(f"const {c_type(out.type.dtype)} {name} = {expr};")
        names[id(out)] = name
    return lines


def kernel_name(text):
    """A stable kernel name derived from its source text."""
    return "symrnn_" + hashlib.sha1(text.encode()).hexdigest()[:12]


def kernel_spec(group):
    """(in_params, out_params, operation, name, preamble) for ``cupy.ElementwiseKernel``."""
    names = {id(v): f"in{k}" for k, v in enumerate(group.leaves)}
    lines = statements(group.nodes, names)
    lines += [f"out{k} = {names[id(o)]};" for k, o in enumerate(group.outputs)]
    in_params = ", ".join(f"{v.type.dtype} in{k}" for k, v in enumerate(group.leaves))
    out_params = ", ".join(f"{o.type.dtype} out{k}" for k, o in enumerate(group.outputs))
    operation = "\n".join(lines)
    return in_params, out_params, operation, kernel_name(in_params + out_params + operation), \
        PREAMBLE


def cuda_source(group):
    """The group as a stand-alone ``__global__`` function (contiguous inputs, same shape)."""
    in_params, out_params, operation, name, _ = kernel_spec(group)
    args = [f"const {c_type(v.type.dtype)}* __restrict__ p_in{k}"
            for k, v in enumerate(group.leaves)]
    outs = list(enumerate(group.outputs))
    args += [f"{c_type(o.type.dtype)}* __restrict__ p_out{k}" for k, o in outs]
    args.append("long long n")
    loads = [f"const {c_type(v.type.dtype)} in{k} = p_in{k}[i];"
             for k, v in enumerate(group.leaves)]
    return "\n".join([
        f'extern "C" __global__ void {name}({", ".join(args)}) {{',
        "    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;",
        "    if (i >= n) return;",
        *(f"    {c_type(o.type.dtype)} out{k};" for k, o in outs),
        *("    " + line for line in loads + operation.splitlines()),
        *(f"    p_out{k}[i] = out{k};" for k, _ in outs),
        "}"])
