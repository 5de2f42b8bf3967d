"""Identities that change only the gradient: theano.gradient's zero_grad, disconnected_grad,
grad_clip and grad_scale.

Forward they pass their input through; ``grad`` changes what flows back. The rewrite
``gradient_ops`` (symrnn/rewrite/basic.py) removes them before a function is compiled (the
gradient is built by then), so no backend translates them.
"""
from symrnn.graph import Apply, Op
from symrnn.tensor.basic import as_tensor_variable


class GradientOp(Op):
    """x forward; backward: zeros ('zero'), nothing ('disconnected'), the gradient clipped
    to [low, high] ('clip') or multiplied by ``low`` ('scale')."""

    __props__ = ("kind", "low", "high")

    def __init__(self, kind, low=None, high=None):
        assert kind in ("zero", "disconnected", "clip", "scale")
        self.kind, self.low, self.high = kind, low, high
        self.disconnects = kind == "disconnected"  # grad() treats it as a wall

    def __str__(self):
        return f"{self.kind}_grad"

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs):
        return [inputs[0]]

    def grad(self, inputs, output_grads):
        from symrnn.tensor import math as T
        (x,), (g,) = inputs, output_grads
        if self.kind == "zero":
            return [T.zeros_like(x)]
        if self.kind == "disconnected":
            return [None]
        if self.kind == "clip":
            return [T.clip(g, self.low, self.high)]
        return [g * self.low]
