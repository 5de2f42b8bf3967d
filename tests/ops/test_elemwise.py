import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from helpers import check_op

pytestmark = pytest.mark.usefixtures("reference_grads")

R = np.random.default_rng(0)
POS = R.uniform(0.5, 2.0, (3, 4))
ANY = R.uniform(-2.0, 2.0, (3, 4))
SMALL = R.uniform(-0.9, 0.9, (3, 4))

UNARY = [
    ("neg", lambda x: -x, np.negative, ANY),
    ("abs_", T.abs_, np.abs, ANY),
    ("exp", T.exp, np.exp, ANY),
    ("log", T.log, np.log, POS),
    ("log1p", T.log1p, np.log1p, POS),
    ("expm1", T.expm1, np.expm1, ANY),
    ("sqrt", T.sqrt, np.sqrt, POS),
    ("sqr", T.sqr, np.square, ANY),
    ("tanh", T.tanh, np.tanh, ANY),
    ("sin", T.sin, np.sin, ANY),
    ("cos", T.cos, np.cos, ANY),
    ("arctan", T.arctan, np.arctan, ANY),
    ("sigmoid", T.nnet.sigmoid, lambda x: 1 / (1 + np.exp(-x)), ANY),
    ("softplus", T.nnet.softplus, lambda x: np.log1p(np.exp(x)), ANY),
    ("relu", T.nnet.relu, lambda x: np.maximum(x, 0), ANY),
]


@pytest.mark.parametrize("name,fn,ref,value", UNARY, ids=[u[0] for u in UNARY])
def test_unary(name, fn, ref, value):
    check_op(fn, [value], ref)


BINARY = [
    ("add", lambda x, y: x + y, np.add, ANY, ANY),
    ("sub", lambda x, y: x - y, np.subtract, ANY, ANY),
    ("mul", lambda x, y: x * y, np.multiply, ANY, ANY),
    ("div", lambda x, y: x / y, np.divide, ANY, POS),
    ("pow", lambda x, y: x ** y, np.power, POS, ANY),
    ("maximum", T.maximum, np.maximum, ANY, SMALL),
    ("minimum", T.minimum, np.minimum, ANY, SMALL),
]


@pytest.mark.parametrize("name,fn,ref,a,b", BINARY, ids=[b[0] for b in BINARY])
def test_binary(name, fn, ref, a, b):
    check_op(fn, [a, b], ref)


def test_broadcast_row_and_col_gradients():
    x = R.normal(size=(3, 4))
    row = R.normal(size=(1, 4))
    col = R.normal(size=(3, 1))

    def f(a, r, c):
        return a * T.addbroadcast(r, 0) + T.addbroadcast(c, 1) ** 2
    check_op(f, [x, row, col], lambda a, r, c: a * r + c ** 2)


def test_vector_broadcasts_against_matrix():
    check_op(lambda m, v: m + v, [ANY, R.normal(size=4)], lambda m, v: m + v)


def test_comparisons_and_switch():
    check_op(lambda x, y: T.switch(T.lt(x, y), x, y * 2), [ANY, SMALL],
             lambda x, y: np.where(x < y, x, y * 2))
    for fn, ref in [(T.lt, np.less), (T.le, np.less_equal), (T.gt, np.greater),
                    (T.ge, np.greater_equal), (T.eq, np.equal), (T.neq, np.not_equal)]:
        check_op(fn, [ANY, np.round(SMALL)], ref, grad=False)


def test_clip_gradient_inside_only():
    check_op(lambda x: T.clip(x, -0.5, 0.5), [ANY], lambda x: np.clip(x, -0.5, 0.5))


def test_int_ops_and_bitwise():
    a = np.array([5, -7, 9], dtype="int32")
    b = np.array([2, 3, -4], dtype="int32")
    check_op(lambda x, y: x // y, [a, b], np.floor_divide)
    check_op(lambda x, y: x % y, [a, b], np.mod)
    check_op(lambda x, y: x & y, [a, b], np.bitwise_and)
    check_op(lambda x, y: x | y, [a, b], np.bitwise_or)
    check_op(lambda x, y: x ^ y, [a, b], np.bitwise_xor)
    check_op(lambda x: ~x, [a], np.invert)


def test_literals_keep_tensor_dtype():
    x = T.fvector("x")
    assert (x * 0.5).dtype == "float32"
    assert (2 * x + 1).dtype == "float32"
    i = T.ivector("i")
    assert (i + 1).dtype == "int32"
    assert (i * 0.5).dtype == "float64"
    b = T.bvector("b")
    assert (b + 1000).dtype == "int16"  # the literal does not fit int8


def test_numpy_promotion_between_tensors():
    assert (T.fvector() + T.dvector()).dtype == "float64"
    assert (T.ivector() + T.fvector()).dtype == "float64"
    assert (T.bvector() * T.ivector()).dtype == "int32"
    assert T.exp(T.ivector()).dtype == "float64"
    assert T.exp(T.bvector()).dtype == symrnn.config.floatX


def test_runtime_broadcast_mismatch_is_a_clear_error():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = symrnn.function([x, y], x + y, mode="NUMPY")
    with pytest.raises(ValueError, match=r"(?s)Elemwise\{add\}.*axis 0.*test_elemwise.py"):
        f(np.ones((3, 4)), np.ones((1, 4)))
    with pytest.raises(ValueError, match="do not match"):
        f(np.ones((3, 4)), np.ones((2, 4)))


def test_int_input_to_float_op_is_rejected_for_bitwise():
    with pytest.raises(TypeError, match="and_"):
        T.dvector() & T.dvector()


def test_cast():
    check_op(lambda x: T.cast(x, "float32"), [ANY], lambda x: x.astype("float32"),
             eps=1e-3, tol=1e-3)
    check_op(lambda x: T.cast(x, "int32"), [ANY], lambda x: x.astype("int32"), grad=False)


def test_zero_dim_and_empty_inputs():
    s = np.array(1.5)
    check_op(lambda x, y: x * y + T.exp(x), [s, np.array(-0.5)], lambda x, y: x * y + np.exp(x))
    check_op(lambda x, y: x + y, [np.zeros((0, 3)), np.ones(3)], np.zeros((0, 3)))
    check_op(lambda x: T.tanh(x) * 2, [np.zeros((2, 0))], np.zeros((2, 0)))


def test_three_way_broadcasting_with_keepdims():
    m = R.normal(size=(3, 4))
    check_op(lambda x: x - x.mean(axis=1, keepdims=True) + x.max(axis=0, keepdims=True),
             [m], lambda x: x - x.mean(1, keepdims=True) + x.max(0, keepdims=True))
    check_op(lambda c, a, b: T.switch(T.addbroadcast(c, 1), a, b),
             [np.array([[True], [False], [True]]), R.normal(size=(3, 4)), np.array(0.5)],
             lambda c, a, b: np.where(c, a, b), grad=False)


def test_dimshuffle_gradient():
    t = R.normal(size=(2, 1, 3))
    check_op(lambda x: T.addbroadcast(x, 1).dimshuffle(2, "x", 0) * 2.0, [t],
             lambda x: np.transpose(x[:, 0, :], (1, 0))[:, None, :] * 2.0)
