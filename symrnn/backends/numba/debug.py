"""PrintOp -> numba's nopython ``print``: a Print inside a scan step keeps the loop compiled.

NumPy's perform prints ``message`` then ``str(np.asarray(value))`` (or ``attr = value``
per attribute); numba prints an array (and a 0-d array made from a scalar) through the
same ``str``, so both backends print the same lines, in step order. The message enters
the source only as a string literal (``repr``).
"""
from symrnn.backends.numba.codegen import emit
from symrnn.ops.debug import PrintOp

_ATTRS = ("__str__", "shape", "ndim", "size", "dtype")


def _supports(node):
    return all(a in _ATTRS for a in node.op.attrs)


@emit.register(PrintOp)
def _print(op, node, ctx):
    (x,), out = node.inputs, node.outputs[0]
    name, ndim = ctx.name(x), x.type.ndim
    parts = [repr(op.message)] if op.message else []
    for a in op.attrs:
        if a == "__str__":
            parts.append(f"np.asarray({name})" if ndim == 0 else name)
            continue
        parts.append(repr(f"{a} ="))
        if a == "shape":
            parts.append(f"{name}.shape" if ndim else "()")
        elif a == "ndim":
            parts.append(str(ndim))
        elif a == "size":
            parts.append(f"{name}.size" if ndim else "1")
        else:
            parts.append(repr(x.type.dtype))
    ctx.line(f"print({', '.join(parts)})")
    ctx.define(out, name, alias=id(x) in ctx.alias)


_print.supports = _supports
