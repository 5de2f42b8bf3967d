import numpy as np
import pytest

import symrnn
from symrnn.types import TensorType, upcast


def test_equality_hash_and_repr():
    a, b = TensorType("float32", (False, True)), TensorType(np.float32, [0, 1])
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != TensorType("float64", (False, True))
    assert repr(TensorType("float64", (False, False))) == "TensorType(float64, Matrix)"
    assert repr(TensorType("int8", (True, False, False))) == "TensorType(int8, (1, ?, ?))"
    assert TensorType("float32", shape=(1, 5)).broadcastable == (True, False)
    assert a.clone(dtype="int32") == TensorType("int32", (False, True))


def test_floatX_and_unknown_dtype(floatX32):
    assert TensorType("floatX", ()).dtype == "float32"
    with pytest.raises(TypeError, match="unsupported dtype"):
        TensorType("object", ())


def test_filter_converts_safely_and_checks_ndim_and_broadcast():
    t = TensorType("float64", (False, True))
    out = t.filter([[1], [2]])
    assert out.dtype == np.float64 and out.shape == (2, 1)
    with pytest.raises(TypeError, match=r"wrong number of dimensions.*expected 2.*shape \(3,\)"):
        t.filter(np.zeros(3))
    with pytest.raises(TypeError, match=r"dimension 1 is broadcastable.*\(2, 2\)"):
        t.filter(np.zeros((2, 2)))


def test_filter_downcast_rules():
    f32 = TensorType("float32", (False,))
    with pytest.raises(TypeError, match=r"float64.*float32.*allow_input_downcast"):
        f32.filter(np.zeros(2))
    assert f32.filter(np.zeros(2), allow_downcast=True).dtype == np.float32
    assert f32.filter([0.1, 0.2]).dtype == np.float32  # Python floats may go in
    i8 = TensorType("int8", (False,))
    assert i8.filter([1, 2]).dtype == np.int8
    with pytest.raises(TypeError, match="int8"):
        i8.filter([1000])
    with pytest.raises(TypeError, match="float32"):
        f32.filter(np.zeros(2), strict=True)


def test_upcast_is_numpy_promotion():
    assert upcast("int8", "uint8") == "int16"
    assert upcast("int32", "float32") == "float64"
    assert upcast("bool", "float32") == "float32"


def test_type_call_makes_variables():
    v = TensorType("int32", (False,))("n")
    assert v.name == "n" and v.type.dtype == "int32" and v.ndim == 1
    assert isinstance(v, symrnn.tensor.TensorVariable)


def test_is_device_array_is_the_one_gpu_array_test():
    from symrnn.types import is_device_array
    from tests.backends.cupy_on_cpu import ndarray

    class HasGet:  # a .get() alone (a dict-like value) is not a GPU array
        def get(self):
            return 0
    assert is_device_array(ndarray(np.zeros(3)))
    assert not is_device_array(np.zeros(3)) and not is_device_array(HasGet())
    assert not is_device_array([1.0]) and not is_device_array(2.0)
