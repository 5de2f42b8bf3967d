"""What a scan step function may return: its outputs, an updates dict (or a list of
(shared variable, new value) pairs) and ``until(condition)``, in any of Theano's orders.

    def step(x, acc):
        new = acc + x
        return new, until(new > 10)      # stop after the first step where new > 10
"""
from collections import OrderedDict

from symrnn.graph import op_error
from symrnn.shared import SharedVariable
from symrnn.tensor.basic import as_tensor_variable


class until:
    """Returned by a scan step function (with its outputs) to stop the loop when ``condition``
    is true: the step that makes it true is the last one done."""

    def __init__(self, condition):
        self.condition = as_tensor_variable(condition)
        if self.condition.type.ndim != 0:
            raise TypeError(f"until: the condition must be a scalar, got {self.condition.type}"
                            " (reduce it, e.g. with T.all or T.any)")


def split_return(ret):
    """(outputs, updates, until condition) from what fn returned, in Theano's orders."""
    outs, updates, cond = [], OrderedDict(), None
    parts = list(ret) if isinstance(ret, (list, tuple)) and not is_pairs(ret) else [ret]
    for p in parts:
        if p is None:
            continue
        if isinstance(p, until):
            cond = p.condition
        elif isinstance(p, dict):
            updates.update(p)
        elif isinstance(p, (list, tuple)) and p and is_pairs(p):
            updates.update(p)
        elif isinstance(p, (list, tuple)):
            outs.extend(p)
        else:
            outs.append(p)
    for s in updates:
        if not isinstance(s, SharedVariable):
            raise op_error("scan", f"fn returned an update for {s!r}, which is not a shared "
                           "variable", TypeError)
    return [as_tensor_variable(o) for o in outs], updates, cond


def is_pairs(items):
    return bool(items) and all(isinstance(p, (list, tuple)) and len(p) == 2
                               and isinstance(p[0], SharedVariable) for p in items)
