"""CUDA C source of a fused elementwise scan: one thread per element of the state, time inside.

Kernel arguments, in order (``ScanKernel.args`` names them for the runtime)::

    n_steps, N                      long long: steps, elements of the state shape S
    x<k>, x<k>_stride               per sequence leaf: T* of step 0, elements per step
    x<k>                            per other leaf: T* of N elements (broadcast to S)
    rec<j>                          per recurrent output: buffer (lag_j + n_steps, N)
    nit<k>                          per mapped output: (n_steps, N)
    state_in<c>, state_out<c>       per carried state: (N,) before and after the loop
    term<m>                         per accumulated term: (N,) its sum over the steps

Step t reads tap k of recurrent output j at ``rec<j>[(lag_j + t + k) * N + i]``
and writes the new value at ``rec<j>[(lag_j + t) * N + i]``: the thread that
writes a row is the one that reads it later, so no synchronisation is needed.
"""
from symrnn.backends.cupy.ctypes_map import c_type
from symrnn.backends.cupy.elemwise_kernel import kernel_name, statements
from symrnn.backends.cupy.fusion import scalar_literal
from symrnn.backends.cupy.scalar_c import PREAMBLE


class ScanKernel:
    """The kernel for ``plan``: ``name``, ``code`` (the function), ``source`` (with the
    preamble, for ``cupy.RawKernel``) and ``args``, (role, index) per argument in order."""

    def __init__(self, plan):
        self.plan = plan
        op, leaves = plan.op, plan.leaves
        params, self.args, pre, load, post = [], [], [], [], []

        def arg(ctype, name, role, index=None):
            params.append(f"{ctype} {name}")
            self.args.append((role, index))
        arg("const long long", "n_steps", "n_steps")
        arg("const long long", "N", "N")
        names = {}
        for k, leaf in enumerate(leaves):
            t, x = c_type(leaf.var.type.dtype), f"x{k}"
            names[id(leaf.var)] = x
            if leaf.kind == "seq":
                arg(f"const {t}* __restrict__", f"p_{x}", "seq", k)
                arg("const long long", f"{x}_stride", "stride", k)
                load.append(f"const {t} {x} = p_{x}[t * {x}_stride + i];")
            elif leaf.kind == "tap":
                j, tap = leaf.index
                lag = op.lags[j]
                offset = op.rec_taps[j][tap]
                load.append(f"const {t} {x} = rec{j}[(t + {lag + offset}) * N + i];")
            elif leaf.kind == "state":
                names[id(leaf.var)] = f"st{leaf.index}"
            else:
                arg(f"const {t}* __restrict__", f"p_{x}", "bcast", k)
                pre.append(f"const {t} {x} = p_{x}[i];")
        for j, v in enumerate(plan.rec_out):
            arg(f"{c_type(v.type.dtype)}* __restrict__", f"rec{j}", "rec", j)
        for k, v in enumerate(plan.nit_out):
            arg(f"{c_type(v.type.dtype)}* __restrict__", f"nit{k}", "nit", k)
        carries = op.split_inner()[2]
        for c in plan.states:
            t = c_type(carries[c].type.dtype)
            arg(f"const {t}* __restrict__", f"state_in{c}", "state_in", c)
            arg(f"{t}* __restrict__", f"state_out{c}", "state_out", c)
            pre.append(f"{t} st{c} = state_in{c}[i];")
            post.append(f"state_out{c}[i] = st{c};")
        for m, e in enumerate(plan.terms):
            t = c_type(e.type.dtype)
            arg(f"{t}* __restrict__", f"term{m}", "term", m)
            pre.append(f"{t} acc{m} = 0;")
            post.append(f"term{m}[i] = acc{m};")
        body = statements(plan.nodes, names)

        def value(v):
            return names[id(v)] if id(v) in names else scalar_literal(v)
        writes = [f"rec{j}[(t + {op.lags[j]}) * N + i] = {value(v)};"
                  for j, v in enumerate(plan.rec_out)]
        writes += [f"nit{k}[t * N + i] = {value(v)};" for k, v in enumerate(plan.nit_out)]
        writes += [f"acc{m} += {value(e)};" for m, e in enumerate(plan.terms)]
        writes += [f"st{c} = {value(v)};" for c, v in zip(plan.states, plan.state_out)]
        inner = "\n".join("        " + s for s in load + body + writes)
        head = ",\n    ".join(params)
        text = "\n".join([
            f"(\n    {head})", "{",
            "    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;",
            "    if (i >= N) return;",
            *("    " + s for s in pre),
            "    for (long long t = 0; t < n_steps; ++t) {", inner, "    }",
            *("    " + s for s in post), "}"])
        self.name = kernel_name(text)
        self.code = f'extern "C" __global__ void {self.name}' + text + "\n"
        self.source = PREAMBLE + self.code
