"""``x[index]``: NumPy's indexing rules mapped onto Subtensor / DimShuffle ops."""
import numpy as np

from symrnn.graph import Variable, op_error
from symrnn.ops.subtensor import IncSubtensor, Subtensor


def _is_advanced(e):
    if isinstance(e, Variable):
        return e.type.ndim > 0 or e.type.dtype == "bool"
    return isinstance(e, (list, np.ndarray)) or isinstance(e, (bool, np.bool_))


def _normalize(x, index):
    """A tuple of index entries with Ellipsis expanded and None kept."""
    if not isinstance(index, tuple):
        index = (index,)
    n_ell = sum(1 for e in index if e is Ellipsis)
    if n_ell > 1:
        raise op_error("Subtensor", "an index can only have a single ellipsis ('...')", IndexError)
    if n_ell:
        used = sum(1 for e in index if e is not None and e is not Ellipsis)
        i = next(k for k, e in enumerate(index) if e is Ellipsis)
        index = index[:i] + (slice(None),) * (x.type.ndim - used) + index[i + 1:]
    return index


def _entry(e, inputs):
    """One basic index entry for idx_list; symbolic parts go to ``inputs``."""
    from symrnn.tensor.basic import as_tensor_variable
    if e is None or isinstance(e, (int, np.integer)):
        return None if e is None else int(e)
    v = as_tensor_variable(e)
    if v.type.ndim != 0 or not v.type.dtype.startswith(("int", "uint")):
        raise op_error("Subtensor", f"an index must be an integer, a slice or an integer/bool "
                       f"array; got {v.type}", TypeError)
    inputs.append(v)
    return "v"


def split_index(x, index):
    """(idx_list, symbolic inputs, new-axis positions) for a basic index of ``x``."""
    index = _normalize(x, index)
    idx_list, inputs, newaxes, out_pos = [], [], [], 0
    for e in index:
        if e is None:
            newaxes.append(out_pos)
            out_pos += 1
            continue
        if isinstance(e, slice):
            parts = tuple(_entry(p, inputs) for p in (e.start, e.stop, e.step))
            idx_list.append(("slice",) + parts)
            out_pos += 1
        else:
            idx_list.append(_entry(e, inputs))
    if len(idx_list) > x.type.ndim:
        raise op_error("Subtensor", f"too many indices ({len(idx_list)}) for {x.type}", IndexError)
    return idx_list, inputs, newaxes


def getitem(x, index):
    """Symbolic ``x[index]`` with NumPy semantics (ints, slices, None, ..., int/bool arrays)."""
    entries = _normalize(x, index)
    if any(_is_advanced(e) for e in entries):
        from symrnn.tensor.advanced_indexing import advanced_getitem
        return advanced_getitem(x, entries)
    idx_list, inputs, newaxes = split_index(x, entries)
    out = x
    # trailing full slices change nothing
    while idx_list and idx_list[-1] == ("slice", None, None, None):
        idx_list.pop()
    if idx_list:
        out = Subtensor(idx_list)(x, *inputs)
    if newaxes:
        order, k = [], 0
        total = out.type.ndim + len(newaxes)
        for pos in range(total):
            if pos in newaxes:
                order.append("x")
            else:
                order.append(k)
                k += 1
        out = out.dimshuffle(order)
    return out


def _set_or_inc(x, y, set_instead_of_inc):
    if x.owner is None or not isinstance(x.owner.op, Subtensor):
        if x.owner is not None and type(x.owner.op).__name__ == "AdvancedSubtensor":
            from symrnn.tensor.advanced_indexing import advanced_set_or_inc
            return advanced_set_or_inc(x, y, set_instead_of_inc)
        raise op_error("set_subtensor" if set_instead_of_inc else "inc_subtensor",
                       f"the first argument must be an indexed tensor such as x[1:3], got {x}",
                       TypeError)
    base, *idx_vars = x.owner.inputs
    return IncSubtensor(x.owner.op.idx_list, set_instead_of_inc)(base, y, *idx_vars)


def set_subtensor(x, y):
    """A copy of the tensor that ``x`` indexes, with that region set to ``y``: x[i] = y."""
    return _set_or_inc(x, y, True)


def inc_subtensor(x, y):
    """A copy of the tensor that ``x`` indexes, with ``y`` added to that region: x[i] += y."""
    return _set_or_inc(x, y, False)
