"""``x[index]`` with integer or boolean arrays: NumPy's advanced indexing.

Index arrays may be symbolic tensors, lists or NumPy arrays, mixed with ints,
slices and None where NumPy allows. Lists and arrays become constants; every
array is an input of AdvancedSubtensor, so one op covers every mix.
"""
import numpy as np

from symrnn.graph import Variable, op_error
from symrnn.ops.subtensor import AdvancedIncSubtensor, AdvancedSubtensor
from symrnn.tensor.basic import as_tensor_variable, constant
from symrnn.tensor.indexing import _entry


def _array_entry(e, inputs):
    if isinstance(e, Variable):
        v = as_tensor_variable(e)
    elif isinstance(e, (list, np.ndarray)) and not any(
            isinstance(i, Variable) for i in np.ravel(np.array(e, object))):
        data = np.asarray(e)
        v = constant(data.astype("int64") if data.size == 0 else data)
    else:
        v = as_tensor_variable(e)
    if not v.type.dtype.startswith(("int", "uint", "bool")):
        raise op_error("AdvancedSubtensor", f"index arrays must hold integers or booleans, "
                       f"got {v.type}", IndexError)
    if v.type.dtype == "bool" and v.type.ndim == 0:
        raise op_error("AdvancedSubtensor", "a scalar boolean index (x[True]) is not "
                       "supported; use x[None] or T.switch", IndexError)
    inputs.append(v)
    return "v"


def index_list(entries):
    """(idx_list, symbolic inputs) for normalised index entries holding arrays."""
    idx_list, inputs = [], []
    for e in entries:
        if e is None or isinstance(e, (int, np.integer)) and not isinstance(e, (bool, np.bool_)):
            idx_list.append(None if e is None else int(e))
        elif isinstance(e, slice):
            idx_list.append(("slice",) + tuple(_entry(p, inputs)
                                               for p in (e.start, e.stop, e.step)))
        else:
            idx_list.append(_array_entry(e, inputs))
    return idx_list, inputs


def advanced_getitem(x, entries):
    """Symbolic ``x[entries]`` when some entry is an integer or boolean array."""
    idx_list, inputs = index_list(entries)
    return AdvancedSubtensor(idx_list)(x, *inputs)


def advanced_set_or_inc(x, y, set_instead_of_inc):
    """set_subtensor / inc_subtensor of ``x``, the output of an AdvancedSubtensor."""
    base, *idx_vars = x.owner.inputs
    return AdvancedIncSubtensor(x.owner.op.idx_list, set_instead_of_inc)(base, y, *idx_vars)
