"""PrintOp: passes its input through and prints it at run time (symrnn.printing.Print)."""
import numpy as np

from symrnn.graph import Apply, Op
from symrnn.tensor.basic import as_tensor_variable


class PrintOp(Op):
    """Identity that prints ``message`` and the value (or the listed attributes) when run."""

    __props__ = ("message", "attrs")

    def __init__(self, message, attrs=("__str__",)):
        self.message, self.attrs = message, tuple(attrs)

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs):
        (x,) = inputs
        print(self.render(x))
        return [x]

    def render(self, x):
        parts = []
        for a in self.attrs:
            value = getattr(x, a)
            value = value() if callable(value) else value
            parts.append(f"{a} = {value}" if a != "__str__" else str(np.asarray(value)))
        return f"{self.message} " + " ".join(parts) if self.message else " ".join(parts)

    def grad(self, inputs, output_grads):
        return [output_grads[0] if inputs[0].type.dtype.startswith("float") else None]
