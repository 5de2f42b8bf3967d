"""FunctionGraph: a private copy of a graph with fixed inputs and outputs, that rewrites edit."""
from symrnn.graph import Constant, ancestors, clients, toposort


class FunctionGraph:
    """The graph a compiled function runs: ``inputs`` (explicit, then shared) and ``outputs``.

    Rewrites edit it in place with ``replace`` / ``replace_all`` only; it owns its nodes (function()
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
        """Make every reader of ``old`` (nodes and outputs) read ``new`` (same type required)."""
        self.replace_all({old: new})

    def replace_all(self, repl):
        """``replace`` for each ``old: new`` of the dict ``repl`` at once (one pass).

        The one way rewrites edit the graph. A ``new`` is used as it is: give the final
        variable, not one that ``repl`` replaces in turn.
        """
        for old, new in repl.items():
            if old.type != new.type:
                raise TypeError(f"FunctionGraph.replace: {old} ({old.type}) cannot be "
                                f"replaced by {new} ({new.type})")
        inputs = set(map(id, self.inputs))
        for v in ancestors(self.outputs, blockers=self.inputs):  # (no order needed)
            if v.owner is not None and id(v) not in inputs:
                v.owner.inputs = [repl.get(i, i) for i in v.owner.inputs]
        self.outputs = [repl.get(v, v) for v in self.outputs]

    def __repr__(self):
        return f"FunctionGraph({len(self.inputs)} inputs, {len(self.toposort())} nodes)"
