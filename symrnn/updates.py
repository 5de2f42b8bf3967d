"""OrderedUpdates (theano.updates): an ordered dict of shared variable -> new value."""
from collections import OrderedDict
from symrnn.shared import SharedVariable


class OrderedUpdates(OrderedDict):
    """Updates for ``function(..., updates=)``: keys must be shared variables, and merging
    two sets of updates that both change one variable is an error (as in Theano)."""

    def __setitem__(self, key, value):
        if not isinstance(key, SharedVariable):
            raise TypeError(f"OrderedUpdates: keys must be shared variables, got {key!r}")
        super().__setitem__(key, value)

    def update(self, other=(), **kw):
        if kw:
            raise TypeError("OrderedUpdates.update: keyword arguments are not shared variables")
        for key, value in OrderedDict(other).items():
            if key in self and self[key] is not value:
                raise KeyError(f"OrderedUpdates: {key} is updated twice (with {self[key]} "
                               f"and {value})")
            self[key] = value

    def __add__(self, other):
        out = OrderedUpdates(self)
        out.update(other)
        return out
