"""FunctionGraph: a private copy of a graph with fixed inputs and outputs, that rewrites edit."""
from symrnn.graph import Constant, ancestors, clients, toposort


class FunctionGraph:
    """The graph a compiled function runs: ``inputs`` (explicit, then shared) and ``outputs``.

    Rewrites edit it in place with ``replace``; it owns its nodes (function()
    copies the user's graph first), so the user's graph never changes.
    """

    def __init__(self, inputs, outputs):
        self.inputs = list(inputs)
        self.outputs = list(outputs)

    def toposort(self):
        return toposort(self.outputs, blockers=self.inputs)

    def variables(self):
        return ancestors(self.outputs, blockers=self.inputs)

    def constants(self):
        return [v for v in self.variables() if isinstance(v, Constant)]

    def clients(self):
        """id(variable) -> list of (node, input position) reading it; outputs as ('output', i)."""
        return clients(self.outputs, self.inputs)

    def replace(self, old, new):
        """Make every reader of ``old`` read ``new`` (same type required)."""
        if old.type != new.type:
            raise TypeError(f"FunctionGraph.replace: {old.type} != {new.type}")
        for node in self.toposort():
            node.inputs = [new if v is old else v for v in node.inputs]
        self.outputs = [new if v is old else v for v in self.outputs]

    def __repr__(self):
        return f"FunctionGraph({len(self.inputs)} inputs, {len(self.toposort())} nodes)"
