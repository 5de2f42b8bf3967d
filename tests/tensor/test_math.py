"""The Theano names of issue 2, each reachable as T.<name> and checked against NumPy."""
import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from helpers import check_op

pytestmark = pytest.mark.usefixtures("reference_grads")

R = np.random.default_rng(19)
M = R.uniform(-2, 2, size=(3, 4))
POS = R.uniform(0.5, 2, size=(3, 4))

NAMES = ("as_tensor_variable constant dot tensordot batched_dot outer sum prod mean var std max "
         "min argmax argmin exp log log1p expm1 sqrt sqr pow tanh sin cos abs_ sgn floor ceil "
         "round maximum minimum clip switch where cast concatenate stack join arange zeros ones "
         "zeros_like ones_like alloc fill eye identity_like reshape flatten transpose "
         "shape_padleft shape_padright addbroadcast unbroadcast cumsum cumprod sort argsort "
         "isnan isinf eq neq lt le gt ge grad set_subtensor inc_subtensor").split()
NNET = "sigmoid softmax log_softmax relu softplus categorical_crossentropy binary_crossentropy"


def test_every_name_of_the_issue_exists():
    assert [n for n in NAMES if not callable(getattr(T, n, None))] == []
    assert [n for n in NNET.split() if not callable(getattr(T.nnet, n, None))] == []


UNARY = [("expm1", T.expm1, np.expm1, M), ("sqr", T.sqr, np.square, M),
         ("sgn", T.sgn, np.sign, M), ("floor", T.floor, np.floor, M),
         ("ceil", T.ceil, np.ceil, M), ("round", T.round, np.round, M),
         ("log", T.log, np.log, POS), ("log1p", T.log1p, np.log1p, POS),
         ("sqrt", T.sqrt, np.sqrt, POS), ("abs_", T.abs_, np.abs, M),
         ("neg", lambda x: -x, np.negative, M), ("pow", lambda x: T.pow(x, 3), lambda x: x ** 3, M),
         ("rpow", lambda x: 2.0 ** x, lambda x: 2.0 ** x, M),
         ("log2", T.log2, np.log2, POS), ("log10", T.log10, np.log10, POS),
         ("identity", T.identity, lambda x: x, M), ("copy", lambda x: x.copy(), lambda x: x, M)]


@pytest.mark.parametrize("name,fn,ref,value", UNARY, ids=[u[0] for u in UNARY])
def test_unary_functions(name, fn, ref, value):
    check_op(fn, [value], ref)


def test_round_ties_and_half_away_from_zero():
    v = np.array([0.5, 1.5, 2.5, -0.5, -1.5])
    check_op(T.round, [v], np.round(v), grad=False)
    check_op(lambda x: T.round(x, "half_away_from_zero"), [v], [1.0, 2.0, 3.0, -1.0, -2.0],
             grad=False)
    check_op(lambda x: x.round(), [v], np.round(v), grad=False)


def test_isnan_isinf():
    v = np.array([0.0, np.nan, np.inf, -np.inf, 1.0])
    check_op(T.isnan, [v], np.isnan(v), grad=False)
    check_op(T.isinf, [v], np.isinf(v), grad=False)


def test_switch_where_broadcast():
    c = np.array([True, False, True, False])
    check_op(lambda c, a, b: T.switch(c, a, b), [c, M, POS[0]], lambda c, a, b: np.where(c, a, b))
    check_op(lambda a: T.where(a > 0, a, 0.5 * a), [M], lambda a: np.where(a > 0, a, 0.5 * a))
    with pytest.raises(TypeError, match="where"):
        T.where(T.dvector() > 0)


def test_clip_method_and_symbolic_bounds():
    check_op(lambda x, lo: x.clip(lo, 1.0), [M, np.array(-0.5)],
             lambda x, lo: np.clip(x, lo, 1.0))


def test_pow_with_tensor_exponent_and_operators():
    check_op(lambda x, y: x ** y - x % 0.75 + x // 0.5, [POS, M],
             lambda x, y: x ** y - np.mod(x, 0.75) + np.floor_divide(x, 0.5))


def test_comparison_functions():
    a, b = np.array([1, 2, 3]), np.array([3, 2, 1])
    for fn, ref in [(T.eq, np.equal), (T.neq, np.not_equal), (T.lt, np.less),
                    (T.le, np.less_equal), (T.gt, np.greater), (T.ge, np.greater_equal)]:
        check_op(fn, [a, b], ref)


def test_bitwise_on_ints_and_bools():
    a, b = np.array([6, 3, -1], dtype="int16"), np.array([3, 5, 2], dtype="int16")
    check_op(lambda x, y: (x & y) | (x ^ ~y), [a, b], lambda x, y: (x & y) | (x ^ ~y))
    m = np.array([True, False, True])
    check_op(lambda p, q: (p & ~q) | (p ^ q), [m, ~m], lambda p, q: (p & ~q) | (p ^ q))


def test_as_tensor_variable_and_constant():
    x = T.dvector("x")
    assert T.as_tensor_variable(x) is x
    c = T.as_tensor_variable([[1.0, 2.0]])
    assert c.broadcastable == (True, False) and c.dtype == "float64"
    v = T.as_tensor_variable([x[0], 2.0, x[1]])
    assert v.ndim == 1
    check_op(lambda x: T.as_tensor_variable([x[1], x[0] * 2]), [np.array([3.0, 4.0])],
             np.array([4.0, 6.0]))
    with pytest.raises(TypeError, match="as_tensor_variable"):
        T.as_tensor_variable(x, ndim=2)


def test_tensor_constructors_and_type_call():
    assert T.fmatrix().type == T.TensorType("float32", (False, False))
    assert T.lscalar().dtype == "int64" and T.itensor3().ndim == 3
    assert T.row().broadcastable == (True, False) and T.col().broadcastable == (False, True)
    assert T.TensorType("int8", (True,))("b").name == "b"
    assert T.tensor("float32", (False, True)).type.broadcastable == (False, True)


def test_eval_free_graph_through_function():
    out = symrnn.function([], T.arange(3) * 2 + T.eye(3).sum(), mode="NUMPY")()
    np.testing.assert_array_equal(out, [3.0, 5.0, 7.0])
