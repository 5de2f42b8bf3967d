"""Dtype rules: NumPy promotion between tensors; Python literals take the tensor's dtype."""
import numpy as np
import pytest

import symrnn
import symrnn.tensor as T

pytestmark = pytest.mark.usefixtures("reference_grads")

PAIRS = [("int8", "int16"), ("int32", "int64"), ("uint8", "int8"), ("int32", "float32"),
         ("int64", "float32"), ("float32", "float64"), ("bool", "int8"), ("int16", "float32"),
         ("uint8", "uint16")]


@pytest.mark.parametrize("a,b", PAIRS)
def test_tensor_tensor_promotion_is_numpy(a, b):
    x, y = T.TensorType(a, (False,))(), T.TensorType(b, (False,))()
    want = str(np.result_type(np.dtype(a), np.dtype(b)))
    assert (x + y).dtype == want
    assert (x * y).dtype == want
    assert T.maximum(x, y).dtype == want
    if "bool" not in (a, b):
        assert (x - y).dtype == want


@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "int32", "uint8"])
def test_python_literals_keep_the_tensor_dtype(dtype):
    x = T.TensorType(dtype, (False,))()
    assert (x + 1).dtype == dtype
    assert (2 * x).dtype == dtype
    assert (x - 1).dtype == dtype and (1 - x).dtype == dtype
    assert T.maximum(x, 0).dtype == dtype
    assert T.switch(T.gt(x, 0), x, 0).dtype == dtype
    assert T.clip(x, 0, 3).dtype == dtype


def test_float_literals_do_not_upcast_float32():
    x = T.fmatrix()
    for expr in [x * 0.5, 0.5 * x, x + 1e-8, x / 3.0, x ** 2.0, T.maximum(x, 0.0), 1.0 - x,
                 T.switch(x > 0.0, x, 0.1), x.clip(-1.0, 1.0), T.pow(x, 0.5)]:
        assert expr.dtype == "float32", expr


def test_float_literal_with_int_tensor_gives_float():
    assert (T.ivector() * 0.5).dtype == "float64"
    assert (T.bvector() * 0.5).dtype == "float64"


def test_float_literal_with_int_tensor_under_floatX32(floatX32):
    assert (T.bvector() * 0.5).dtype == "float32"
    assert (T.ivector() * 0.5).dtype == "float64"  # int32 does not fit float32


def test_true_div():
    assert (T.ivector() / T.ivector()).dtype == symrnn.config.floatX
    assert (T.lvector() / 2).dtype == symrnn.config.floatX
    assert (T.fvector() / T.ivector()).dtype == "float64"
    assert (T.fvector() / T.fvector()).dtype == "float32"
    assert (T.fvector() / 2).dtype == "float32"
    x, y = T.ivector(), T.ivector()
    out = symrnn.function([x, y], x / y, mode="NUMPY")([7, -7], [2, 2])
    np.testing.assert_array_equal(out, [3.5, -3.5])


def test_true_div_of_ints_under_floatX32(floatX32):
    assert (T.ivector() / T.ivector()).dtype == "float32"
    assert (T.bscalar() / 2).dtype == "float32"


def test_int_div_and_mod_stay_integer_and_floor():
    x, y = T.ivector(), T.ivector()
    assert (x // y).dtype == "int32" and (x % 3).dtype == "int32"
    f = symrnn.function([x, y], [x // y, x % y], mode="NUMPY")
    q, r = f([7, -7, 7], [2, 2, -2])
    np.testing.assert_array_equal(q, [3, -4, -4])
    np.testing.assert_array_equal(r, [1, 1, -1])
    assert (T.fvector() // 2).dtype == "float32"


def test_int_division_by_zero_is_an_error():
    x, y = T.ivector(), T.ivector()
    f = symrnn.function([x, y], x // y, mode="NUMPY")
    with pytest.raises(ZeroDivisionError, match="int_div"):
        f([1], [0])


def test_float_functions_of_ints():
    assert T.exp(T.ivector()).dtype == "float64"
    assert T.sqrt(T.bvector()).dtype == symrnn.config.floatX
    assert T.tanh(T.fvector()).dtype == "float32"


def test_float_functions_of_small_ints_under_floatX32(floatX32):
    assert T.exp(T.bvector()).dtype == "float32"
    assert T.log(T.wvector()).dtype == "float32"
    assert T.scalar().dtype == "float32" and T.matrix().dtype == "float32"


def test_comparisons_give_bool_and_bool_arithmetic():
    x = T.fvector()
    assert (x > 0).dtype == "bool" and T.eq(x, 1).dtype == "bool"
    assert ((x > 0) & (x < 1)).dtype == "bool"
    assert ((x > 0) + (x < 1)).dtype == "bool"
    assert ((x > 0) * 2).dtype == "int64"
    assert ((x > 0) * x).dtype == "float32"


def test_cast_and_astype():
    x = T.dvector()
    assert T.cast(x, "float32").dtype == "float32"
    assert x.astype("int8").dtype == "int8"
    assert T.cast(x, "floatX").dtype == symrnn.config.floatX
    assert T.cast(x, "float64") is x
    f = symrnn.function([x], [T.cast(x, "int32"), x.astype("bool")], mode="NUMPY")
    a, b = f([1.7, -1.7, 0.0])
    np.testing.assert_array_equal(a, [1, -1, 0])
    np.testing.assert_array_equal(b, [True, True, False])


def test_reductions_keep_float32(floatX32):
    x = T.fmatrix()
    for expr in [x.sum(), x.mean(0), x.var(), x.std(1), x.max(), T.prod(x), x.norm(2)]:
        assert expr.dtype == "float32", expr


def test_float32_gradients_stay_float32():
    x = T.fvector()
    cost = (T.exp(x * 0.5) / 3 + T.nnet.sigmoid(x) ** 2).mean()
    assert T.grad(cost, x).dtype == "float32"


def test_constants():
    assert T.constant(3).dtype == "int64" and T.constant(3.0).dtype == symrnn.config.floatX
    assert T.constant(np.float32(1)).dtype == "float32"
    assert T.constant([1, 2], dtype="int8").dtype == "int8"
    assert T.as_tensor_variable(np.zeros((2, 1))).broadcastable == (False, True)
    with pytest.raises(TypeError, match="constant"):
        T.constant("abc")


def test_float_functions_of_int8_are_computed_in_the_output_dtype(floatX32):
    b = T.bvector("b")
    out = symrnn.function([b], T.exp(b), mode="NUMPY")(np.array([3, 7], dtype="int8"))
    assert out.dtype == np.float32
    # NumPy alone would compute exp(int8) in float16 (1096.6 -> 1097.0)
    np.testing.assert_array_equal(out, np.exp(np.array([3, 7], dtype="float32")))


def test_numpy_array_on_the_left_gives_a_symbolic_result():
    x = T.vector("x")
    for expr in (np.ones(3) * x, np.ones(3) + x, np.arange(3.0) < x):
        assert isinstance(expr, symrnn.Variable)
    f = symrnn.function([x], np.full(3, 2.0) * x, mode="NUMPY")
    np.testing.assert_array_equal(f([1.0, 2.0, 3.0]), [2.0, 4.0, 6.0])
