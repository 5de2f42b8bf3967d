import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from helpers import check_op

pytestmark = pytest.mark.usefixtures("reference_grads")

R = np.random.default_rng(11)
X = R.normal(size=(3, 4, 2))

AXES = [None, 0, -1, (0, 2)]
KINDS = [("sum", T.sum, np.sum), ("prod", T.prod, np.prod), ("mean", T.mean, np.mean),
         ("var", T.var, np.var), ("std", T.std, np.std), ("max", T.max, np.max),
         ("min", T.min, np.min)]


@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name,fn,ref", KINDS, ids=[k[0] for k in KINDS])
def test_reductions(name, fn, ref, axis):
    check_op(lambda x: fn(x, axis=axis), [X], lambda x: ref(x, axis=axis))


@pytest.mark.parametrize("name,fn,ref", KINDS, ids=[k[0] for k in KINDS])
def test_reductions_keepdims_negative_axes(name, fn, ref):
    check_op(lambda x: fn(x, axis=(-1, 0), keepdims=True), [X],
             lambda x: ref(x, axis=(-1, 0), keepdims=True))
    check_op(lambda x: fn(x, keepdims=True), [X[0]], lambda x: ref(x, keepdims=True))


@pytest.mark.parametrize("axis", [None, 0, -1])
def test_methods_match_functions(axis):
    check_op(lambda x: x.sum(axis) + x.mean(axis) + x.max(axis) - x.min(axis) + x.prod(axis),
             [X[:, :, 0]], lambda x: x.sum(axis) + x.mean(axis) + x.max(axis) - x.min(axis)
             + x.prod(axis))


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_argmax_argmin(axis):
    m = X[:, :, 0]
    check_op(lambda x: T.argmax(x, axis=axis), [m], lambda x: np.argmax(x, axis=axis))
    check_op(lambda x: x.argmin(axis=axis, keepdims=True), [m],
             lambda x: np.argmin(x, axis=axis, keepdims=True))


def test_zero_dim_and_empty():
    s = np.array(2.5)
    check_op(T.sum, [s], s)
    check_op(lambda x: T.max(x) * T.mean(x), [s], s * s)
    check_op(lambda x: T.sum(x, axis=0), [np.zeros((0, 3))], np.zeros(3))
    check_op(lambda x: T.prod(x, axis=1), [np.zeros((2, 0))], np.ones(2))


def test_max_gradient_with_ties_goes_to_every_maximum():
    x = T.dmatrix("x")
    f = symrnn.function([x], [T.grad(T.max(x, axis=1).sum(), x),
                              T.grad(T.min(x), x)], mode="NUMPY")
    gmax, gmin = f(np.array([[1.0, 3.0, 3.0], [0.0, 0.0, -1.0]]))
    np.testing.assert_array_equal(gmax, [[0, 1, 1], [1, 1, 0]])
    np.testing.assert_array_equal(gmin, [[0, 0, 0], [0, 0, 1]])


def test_sum_dtypes_and_mean_of_ints():
    i8, i32, f32 = T.bvector(), T.ivector(), T.fvector()
    assert i8.sum().dtype == "int64" and (i8 > 0).sum().dtype == "int64"
    assert f32.sum().dtype == "float32" and f32.mean().dtype == "float32"
    assert i32.mean().dtype == symrnn.config.floatX
    check_op(T.mean, [np.array([1, 2, 4], dtype="int32")], np.float64(7 / 3))


def test_mean_of_ints_with_float32(floatX32):
    assert T.ivector().mean().dtype == "float32"
    assert T.ivector().var().dtype == "float32"


def test_norm():
    m = X[:, :, 0]
    check_op(lambda x: x.norm(2, axis=1), [m], lambda x: np.linalg.norm(x, axis=1))
    check_op(lambda x: T.norm(x, 1), [m], lambda x: np.abs(x).sum())
    check_op(lambda x: T.norm(x, 3, axis=0), [m], lambda x: (np.abs(x) ** 3).sum(0) ** (1 / 3))


def test_bad_axes():
    with pytest.raises(ValueError, match=r"(?s)sum.*axis 2.*2 dims.*test_reduction.py"):
        T.dmatrix().sum(axis=2)
    with pytest.raises(ValueError, match="repeated axis"):
        T.dmatrix().sum(axis=(0, -2))
    x = T.dvector()
    f = symrnn.function([x], x.max(), mode="NUMPY")
    with pytest.raises(ValueError, match=r"Max.*empty.*\(0,\)"):
        f(np.zeros(0))


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_cumsum_cumprod(axis):
    m = R.uniform(0.5, 1.5, size=(3, 4))
    check_op(lambda x: T.cumsum(x, axis=axis), [m], lambda x: np.cumsum(x, axis=axis))
    check_op(lambda x: T.cumprod(x, axis=axis), [m], lambda x: np.cumprod(x, axis=axis))


def test_cumsum_ints_and_method():
    v = np.array([1, 2, 3], dtype="int32")
    check_op(lambda x: x.cumsum(), [v], np.cumsum(v))
    with pytest.raises(ValueError, match="cumsum"):
        T.cumsum(T.dvector(), axis=1)


def test_prod_gradient_with_zeros():
    x = T.dmatrix("x")
    f = symrnn.function([x], T.grad(T.prod(x, axis=1).sum(), x), mode="NUMPY")
    g = f(np.array([[2.0, 3.0, 4.0], [2.0, 0.0, 4.0], [0.0, 5.0, 0.0]]))
    np.testing.assert_array_equal(g, [[12, 8, 6], [0, 8, 0], [0, 0, 0]])
    check_op(lambda x: T.prod(x, axis=0), [np.array([[0.0, 1.5], [2.0, -1.0], [3.0, 0.5]])],
             lambda x: np.prod(x, axis=0))
