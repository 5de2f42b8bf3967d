"""Shared variables: symbolic tensors with a persistent value, updated by functions."""
import numpy as np

from symrnn.tensor.variable import TensorVariable
from symrnn.types import TensorType, is_device_array


class SharedVariable(TensorVariable):
    """A tensor whose value lives between calls (model parameters, counters).

    Every compiled function that uses it reads its current value; a function's
    ``updates`` replace it after a successful call.
    """

    def __init__(self, type, value, name=None, strict=False, allow_downcast=None):
        super().__init__(type, name=name)
        self.allow_downcast = allow_downcast
        self.container = {"value": type.filter(value, strict, allow_downcast,
                                               what=f"shared {name or ''}".strip())}
        self.default_update = None

    def get_value(self, borrow=False, return_internal_type=False):
        """The current value (a copy unless ``borrow=True``)."""
        v = self.container["value"]
        if is_device_array(v) and not return_internal_type:
            return v.get()  # a device array: give the user NumPy
        return v if borrow else v.copy()

    def set_value(self, value, borrow=False):
        """Replace the value; its dtype and number of dims must fit the variable's type."""
        what = f"{self.name or 'shared variable'}.set_value"
        if is_device_array(value):
            bad = [d for d, (b, n) in enumerate(zip(self.type.broadcastable, value.shape))
                   if b and n != 1]
            if str(value.dtype) != self.type.dtype or value.ndim != self.type.ndim or bad:
                raise TypeError(f"{what}: a GPU array of dtype {value.dtype} and shape "
                                f"{value.shape} does not fit {self.type}; cast or reshape it "
                                "first (arr.astype(...))")
            self.container["value"] = value if borrow else value.copy()
            return
        v = self.type.filter(value, False, self.allow_downcast, what=what)
        self.container["value"] = v if (borrow or v is not value) else v.copy()

    def clone(self):
        c = SharedVariable.__new__(SharedVariable)
        TensorVariable.__init__(c, self.type, name=self.name)
        c.container, c.allow_downcast = self.container, self.allow_downcast
        c.default_update = self.default_update
        return c

    def __repr__(self):
        return self.name if self.name is not None else f"<shared {self.type}>"

    __str__ = __repr__


def shared(value, name=None, strict=False, allow_downcast=None, borrow=False,
           broadcastable=None, shape=None):
    """A SharedVariable holding ``value``; its type (dtype and dims) comes from the value.

    ``broadcastable`` marks length-1 axes that may broadcast (none by default,
    as in Theano). With ``borrow=True`` the array is used without a copy.
    """
    if hasattr(value, "type") and hasattr(value, "owner"):
        raise TypeError(f"shared: expected a value, got the symbolic variable {value}")
    is_device = is_device_array(value)
    arr = value if (isinstance(value, np.ndarray) or is_device) else np.asarray(value)
    if not is_device and arr.dtype == object:
        raise TypeError(f"shared: cannot store a value of type {type(value).__name__}")
    if broadcastable is None:
        broadcastable = (tuple(s == 1 for s in shape) if shape is not None
                         else (False,) * arr.ndim)
    t = TensorType(str(arr.dtype), broadcastable)
    if is_device:
        sv = SharedVariable(t, np.zeros((1,) * arr.ndim, arr.dtype), name, False, allow_downcast)
        sv.container["value"] = arr if borrow else arr.copy()
        return sv
    if not borrow and arr is value:
        arr = arr.copy()
    return SharedVariable(t, arr, name=name, strict=strict, allow_downcast=allow_downcast)
