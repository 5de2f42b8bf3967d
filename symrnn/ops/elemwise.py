"""Elementwise ops with broadcasting, and DimShuffle (transpose / add / drop axes).

``Elemwise(scalar_op)`` applies a ScalarOp to every element. Its inputs are
first given the same number of dimensions (missing leading axes are added as
broadcastable by a DimShuffle, as in NumPy). A dimension of length 1 only
broadcasts when its type says so (``broadcastable``); a non-broadcastable
dimension of length 1 meeting a longer one is a ValueError, as in Theano,
because a gradient must know statically which axes to sum over.
"""
import numpy as np

from symrnn.config import config
from symrnn.graph import Apply, Constant, Op, clone_replace, op_error, toposort
from symrnn.tensor.basic import as_tensor_variable, constant, patternbroadcast
from symrnn.types import TensorType, upcast


def _is_weak(v):
    return v.owner is None and v.tag.get("weak", False)


def _common_dtype(inputs):
    """The dtype weak Python literals take when they meet the strong inputs."""
    strong = [v.type.dtype for v in inputs if not _is_weak(v)]
    weak = [v for v in inputs if _is_weak(v)]
    if not strong:
        return None
    common = upcast(*strong)
    for w in weak:
        value = np.asarray(w.data)
        kind = value.dtype.kind
        if kind == "f" and np.dtype(common).kind in "biu":
            common = upcast(common, config.floatX)
        elif kind in "iu" and np.dtype(common).kind == "b":
            common = "int64"
        if kind in "iu" and np.dtype(common).kind in "iu":
            signed = np.dtype(common).kind == "i"
            need = np.min_scalar_type(-abs(int(value)) - 1 if signed else int(value))
            if np.asarray(value).size == 1 and not np.can_cast(need, common):
                common = upcast(common, need)
    return common


class Elemwise(Op):
    """Apply ``scalar_op`` elementwise, with NumPy broadcasting of declared-broadcastable axes."""

    __props__ = ("scalar_op",)

    def __init__(self, scalar_op):
        self.scalar_op = scalar_op

    def __str__(self):
        return f"Elemwise{{{self.scalar_op.name}}}"

    def make_node(self, *inputs):
        name = self.scalar_op.name
        if len(inputs) != self.scalar_op.nin:
            raise op_error(str(self), f"takes {self.scalar_op.nin} inputs, got {len(inputs)}")
        inputs = [as_tensor_variable(x) for x in inputs]
        common = _common_dtype(inputs)
        if common is not None:
            inputs = [constant(np.asarray(v.data).astype(common)) if _is_weak(v) else v
                      for v in inputs]
        if self.scalar_op.int_only:
            for v in inputs:
                if v.type.dtype.startswith(("float", "complex")):
                    raise op_error(str(self), f"{name} needs integer or bool inputs, got "
                                   f"{[v.type.dtype for v in inputs]}")
        ndim = max(v.type.ndim for v in inputs)
        inputs = [v if v.type.ndim == ndim else
                  v.dimshuffle(["x"] * (ndim - v.type.ndim) + list(range(v.type.ndim)))
                  for v in inputs]
        bcast = tuple(all(v.type.broadcastable[d] for v in inputs) for d in range(ndim))
        dtype = self.scalar_op.out_dtype([v.type.dtype for v in inputs])
        return Apply(self, inputs, [TensorType(dtype, bcast)()])

    def perform(self, node, inputs):
        check_broadcast(node, [x.shape for x in inputs])
        dtype = node.outputs[0].type.dtype
        if dtype.startswith(("float", "complex")) and not any(
                x.dtype.kind in "fc" for x in inputs):  # exp(int8) in float32, not float16
            inputs = [x.astype(dtype) for x in inputs]
        out = self.scalar_op.impl(*inputs)
        return [np.asarray(out, dtype=node.outputs[0].type.dtype)]

    def L_op(self, inputs, outputs, output_grads):
        from symrnn.tensor.math import cast
        (gz,) = output_grads
        grads = self.scalar_op.grad(inputs, outputs[0], gz)
        result = []
        for x, g in zip(inputs, grads):
            if g is None or not x.type.dtype.startswith("float"):
                result.append(None)
                continue
            g = sum_to_broadcastable(g, x.type.broadcastable)
            result.append(cast(g, x.type.dtype) if g.type.dtype != x.type.dtype else g)
        return result


def check_broadcast(node, shapes):
    """Raise ValueError when the runtime shapes do not agree with the types' broadcasting."""
    ndim = len(shapes[0]) if shapes else 0
    for d in range(ndim):
        lengths = {s[d] for v, s in zip(node.inputs, shapes) if not v.type.broadcastable[d]}
        if len(lengths) > 1:
            shown = ", ".join(f"{s} ({v.type.dtype})" for v, s in zip(node.inputs, shapes))
            hint = ""
            if 1 in lengths:
                hint = (" A length-1 axis broadcasts only when its type says so: use "
                        "T.addbroadcast, a row/col, or shared(..., broadcastable=...).")
            raise op_error(str(node.op), f"input shapes do not match on axis {d}: "
                           f"{shown}.{hint}", ValueError, node.trace)


def sum_to_broadcastable(g, broadcastable):
    """Sum ``g`` over the axes that are broadcastable in ``broadcastable`` but not in g."""
    axes = [d for d, (b, gb) in enumerate(zip(broadcastable, g.type.broadcastable))
            if b and not gb]
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if g.type.broadcastable != tuple(broadcastable):
        g = patternbroadcast(g, broadcastable)
    return g


class DimShuffle(Op):
    """Reorder axes, insert broadcastable axes ('x'), or drop broadcastable axes.

    ``new_order`` lists, for each output axis, an input axis number or 'x'.
    Input axes left out must be broadcastable (length 1).
    """

    __props__ = ("input_broadcastable", "new_order")

    def __init__(self, input_broadcastable, new_order):
        self.input_broadcastable = tuple(input_broadcastable)
        self.new_order = tuple(new_order)
        kept = [i for i in self.new_order if i != "x"]
        if len(set(kept)) != len(kept) or any(not 0 <= i < len(self.input_broadcastable)
                                              for i in kept):
            raise op_error("DimShuffle", f"bad order {self.new_order} for an input of "
                           f"{len(self.input_broadcastable)} dims", ValueError)
        for i, b in enumerate(self.input_broadcastable):
            if i not in kept and not b:
                raise op_error("DimShuffle", f"cannot drop axis {i}: it is not broadcastable "
                               f"(pattern {self.input_broadcastable}, order {self.new_order})",
                               ValueError)
        self.shuffle = kept
        self.drop = [i for i in range(len(self.input_broadcastable)) if i not in kept]
        self.augment = [j for j, i in enumerate(self.new_order) if i == "x"]

    def __str__(self):
        return f"DimShuffle{{{','.join(map(str, self.new_order))}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.type.broadcastable != self.input_broadcastable:
            raise op_error(str(self), f"expected input broadcastable pattern "
                           f"{self.input_broadcastable}, got {x.type}")
        bcast = [True if i == "x" else x.type.broadcastable[i] for i in self.new_order]
        return Apply(self, [x], [TensorType(x.type.dtype, bcast)()])

    def perform(self, node, inputs):
        (x,) = inputs
        out_shape = [1 if i == "x" else x.shape[i] for i in self.new_order]
        return [np.transpose(x, self.shuffle + self.drop).reshape(out_shape)]

    def grad(self, inputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        # drop the augmented axes, put the kept axes back, re-add the dropped ones
        g = gz
        if self.augment:
            g = g.dimshuffle([j for j in range(len(self.new_order)) if j not in self.augment]) \
                if all(gz.type.broadcastable[j] for j in self.augment) \
                else g.sum(axis=self.augment)
        inverse = [None] * x.type.ndim
        for pos, i in enumerate(self.shuffle):
            inverse[i] = pos
        order = [inverse[i] if inverse[i] is not None else "x" for i in range(x.type.ndim)]
        g = g.dimshuffle(order)
        return [g if x.type.dtype.startswith("float") else None]


# ---- fused elementwise chains ----

class CompositeScalar:
    """A scalar function built from scalar ops: the body of a Composite.

    ``inputs`` are 0-d placeholders, ``nodes`` Elemwise nodes on 0-d values in
    topological order, ``output`` the last one's result. The name spells the body
    (``t1=add(i0,i1); t2=maximum(t1,0.0:float64)``), so equal bodies are equal ops.
    """

    def __init__(self, inputs, output):
        self.inputs, self.output = list(inputs), output
        self.nodes = toposort([output], blockers=self.inputs)
        self.nin, self.int_only = len(self.inputs), False
        ref = {id(v): f"i{k}" for k, v in enumerate(self.inputs)}
        parts = []
        for k, n in enumerate(self.nodes):
            args = [ref[id(v)] if id(v) in ref else
                    f"{np.asarray(v.data).item()!r}:{v.type.dtype}" if isinstance(v, Constant)
                    else "?" for v in n.inputs]
            ref[id(n.outputs[0])] = f"t{k}"
            parts.append(f"t{k}={n.op.scalar_op.name}({','.join(args)})")
        self.name = f"composite{{{'; '.join(parts)}}}"

    def out_dtype(self, in_dtypes):
        return self.output.type.dtype

    def __eq__(self, other):
        return isinstance(other, CompositeScalar) and self.name == other.name

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return self.name


class Composite(Elemwise):
    """One Elemwise computing a chain of them (built by the ``fusion`` rewrite).

    ``perform`` runs the chain's scalar ops on whole arrays, each as its own
    Elemwise would (so the result is the unfused chain's, bit for bit); compiled
    backends emit one loop.
    """

    def __init__(self, scalar_op, origin=None):
        super().__init__(scalar_op)
        self.origin = origin  # the fused nodes: they report a shape error as unfused

    def __str__(self):
        return f"Composite{{{','.join(n.op.scalar_op.name for n in self.scalar_op.nodes)}}}"

    def _unfused_error(self, node, inputs):
        """Run the fused nodes one by one on ``inputs``: raises their own shape error."""
        values = dict(zip(map(id, node.inputs), inputs))
        for n in self.origin or []:
            args = [values[id(v)] if id(v) in values else np.asarray(v.data) for v in n.inputs]
            values[id(n.outputs[0])] = n.op.perform(n, args)[0]

    def make_node(self, *inputs):
        inputs = [as_tensor_variable(x) for x in inputs]
        ndim = max(v.type.ndim for v in inputs)
        if len(inputs) != self.scalar_op.nin or any(v.type.ndim != ndim for v in inputs):
            raise op_error(str(self), f"takes {self.scalar_op.nin} inputs of one number of "
                           f"dims, got {[v.type for v in inputs]}")
        bcast = tuple(all(v.type.broadcastable[d] for v in inputs) for d in range(ndim))
        return Apply(self, inputs, [TensorType(self.scalar_op.output.type.dtype, bcast)()])

    def perform(self, node, inputs):
        try:
            check_broadcast(node, [x.shape for x in inputs])
        except ValueError:
            self._unfused_error(node, inputs)
            raise
        values = {id(v): x for v, x in zip(self.scalar_op.inputs, inputs)}
        for n in self.scalar_op.nodes:
            args = [values[id(v)] if id(v) in values else np.asarray(v.data) for v in n.inputs]
            dtype = n.outputs[0].type.dtype
            if dtype.startswith(("float", "complex")) and not any(
                    a.dtype.kind in "fc" for a in args):
                args = [a.astype(dtype) for a in args]
            values[id(n.outputs[0])] = np.asarray(n.op.scalar_op.impl(*args), dtype=dtype)
        return [np.asarray(values[id(self.scalar_op.output)])]

    def L_op(self, inputs, outputs, output_grads):
        from symrnn.gradient import grad
        (out,) = clone_replace([self.scalar_op.output], dict(zip(self.scalar_op.inputs, inputs)))
        floats = [v for v in inputs if v.type.dtype.startswith("float")]
        gs = dict(zip(map(id, floats), grad(None, floats, known_grads={out: output_grads[0]},
                                            disconnected_inputs="ignore")))
        return [gs.get(id(v)) for v in inputs]
