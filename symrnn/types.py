"""TensorType: a dtype plus a broadcastable pattern; checked conversion of user values."""
import numpy as np

from symrnn.config import config

FLOAT_DTYPES = ("float16", "float32", "float64")
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
ALL_DTYPES = ("bool",) + INT_DTYPES + FLOAT_DTYPES + ("complex64", "complex128")


def is_device_array(value):
    """Whether ``value`` is a GPU array (CuPy's: the CUDA array interface and ``.get()``)."""
    return (hasattr(value, "__cuda_array_interface__") and hasattr(value, "get")
            and not isinstance(value, np.ndarray))


class TensorType:
    """The type of a tensor Variable: ``dtype`` and ``broadcastable`` (one bool per dim).

    A dimension marked broadcastable is known to have length 1 and may be
    broadcast against any length in elementwise operations.
    """

    def __init__(self, dtype, broadcastable=None, shape=None):
        try:
            dtype = str(np.dtype(dtype)) if dtype != "floatX" else config.floatX
        except (TypeError, ValueError):
            dtype = repr(dtype)  # not a dtype at all: refused below
        if dtype not in ALL_DTYPES:
            raise TypeError(f"TensorType: unsupported dtype {dtype!r}")
        if broadcastable is None:
            broadcastable = tuple(s == 1 for s in shape) if shape is not None else ()
        self.dtype = dtype
        self.broadcastable = tuple(bool(b) for b in broadcastable)

    ndim = property(lambda self: len(self.broadcastable))

    def __eq__(self, other):
        return (type(self) is type(other) and self.dtype == other.dtype
                and self.broadcastable == other.broadcastable)

    def __hash__(self):
        return hash((self.dtype, self.broadcastable))

    def __call__(self, name=None):
        """A new symbolic Variable of this type."""
        from symrnn.tensor.variable import TensorVariable
        return TensorVariable(self, name=name)

    make_variable = __call__

    def clone(self, dtype=None, broadcastable=None):
        return TensorType(dtype or self.dtype,
                          self.broadcastable if broadcastable is None else broadcastable)

    def __repr__(self):
        names = {(): "Scalar", (False,): "Vector", (False, False): "Matrix",
                 (True, False): "Row", (False, True): "Col"}
        pattern = names.get(self.broadcastable)
        if pattern is None:
            pattern = "(" + ", ".join("1" if b else "?" for b in self.broadcastable) + ")"
        return f"TensorType({self.dtype}, {pattern})"

    __str__ = __repr__

    def value_zeros(self, shape):
        return np.zeros(shape, dtype=self.dtype)

    def filter(self, data, strict=False, allow_downcast=None, what="value"):
        """Convert ``data`` to an ndarray of this type, or raise TypeError.

        Safe casts are always done; a cast that can lose precision (float64 data
        into float32) needs ``allow_downcast=True``, except for Python floats
        and lists of them, which may go into any float type (as in Theano).
        """
        if isinstance(data, np.ndarray) and data.dtype == self.dtype:
            out = data
        elif strict:
            raise TypeError(f"{what}: expected a numpy.ndarray of dtype {self.dtype}, got "
                            f"{type(data).__name__} of dtype {getattr(data, 'dtype', '?')}")
        else:
            out = self._convert(data, allow_downcast, what)
        return self.check_shape(out, what)

    def check_shape(self, value, what="value"):
        """``value`` (a NumPy or CuPy array) if its ndim and length-1 axes fit; else TypeError."""
        if value.ndim != self.ndim:
            raise TypeError(f"{what}: wrong number of dimensions: expected {self.ndim} "
                            f"({self}), got {value.ndim} with shape {value.shape}")
        for axis, (b, n) in enumerate(zip(self.broadcastable, value.shape)):
            if b and n != 1:
                raise TypeError(f"{what}: dimension {axis} is broadcastable in {self} and must "
                                f"have length 1, got shape {value.shape}")
        return value

    def _convert(self, data, allow_downcast, what):
        if is_device_array(data):
            data = data.get()  # a CuPy array given to a CPU function
        is_python = not isinstance(data, (np.ndarray, np.generic))
        if data is None:
            raise TypeError(f"{what}: got None, expected an array for {self}")
        try:
            arr = np.asarray(data)
        except (ValueError, TypeError) as e:  # ragged nested lists, objects numpy refuses
            raise type(e)(f"{what}: cannot convert {type(data).__name__} to {self}: "
                          f"{e}") from None
        if arr.dtype == object:
            raise TypeError(f"{what}: cannot convert {type(data).__name__} holding "
                            f"{_kinds(arr)} to {self}; a tensor holds numbers of one dtype")
        if arr.dtype == self.dtype:
            return arr
        if np.can_cast(arr.dtype, self.dtype, "safe") or allow_downcast:
            return arr.astype(self.dtype)
        if is_python and allow_downcast is None:
            if self.dtype in FLOAT_DTYPES and arr.dtype.kind in "biuf":
                return arr.astype(self.dtype)
            if arr.dtype.kind in "biu" and self.dtype != "bool":
                conv = arr.astype(self.dtype)
                if np.array_equal(conv, arr):
                    return conv
        raise TypeError(
            f"{what}: cannot store a value of dtype {arr.dtype} in {self} without risking "
            f"loss of precision. Cast the data to {self.dtype} first, or pass "
            f"allow_input_downcast=True to function (allow_downcast=True to shared/set_value).")


def _kinds(arr):
    """The types of the objects in an object array, for messages (``list, NoneType``)."""
    kinds = sorted({type(x).__name__ for x in arr.ravel()[:100]})
    return ", ".join(kinds) if kinds else "no elements"


def upcast(*dtypes):
    """The dtype NumPy's promotion gives for ``dtypes``."""
    return str(np.result_type(*[np.dtype(d) for d in dtypes]))
