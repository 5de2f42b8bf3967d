import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from symrnn.ops.nnet import LogSoftmax
from helpers import check_op

pytestmark = pytest.mark.usefixtures("reference_grads")

R = np.random.default_rng(7)


def np_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (3, 1)])
def test_softmax_and_log_softmax_any_ndim(shape):
    x = R.normal(size=shape)
    row = (lambda y: y[None]) if x.ndim == 1 else (lambda y: y)  # Theano 1.0: a vector -> a row
    check_op(T.nnet.softmax, [x], lambda x: row(np_softmax(x)))
    check_op(T.nnet.log_softmax, [x], lambda x: row(np.log(np_softmax(x))))


def test_softmax_of_a_vector_is_a_row_as_in_theano():
    v = T.dvector("v")
    for f in (T.nnet.softmax, T.nnet.log_softmax):
        assert f(v).type.broadcastable == (True, False)
    x = R.normal(size=5)
    check_op(lambda v: T.nnet.softmax(v)[0] * T.arange(5), [x], np_softmax(x) * np.arange(5))
    check_op(lambda v: T.log(T.nnet.softmax(v))[0, 2], [x], np.log(np_softmax(x))[2])

    # the classic RNN tutorial (rnnslu): a (1, n) row per step, s[:, 0, :] after the scan
    def rnn(X, W):
        def step(x_t, h_tm1):
            h_t = T.tanh(x_t + T.dot(h_tm1, W))
            return [h_t, T.nnet.softmax(T.dot(h_t, W))]
        [h, s], _ = symrnn.scan(step, sequences=X, outputs_info=[T.zeros_like(X[0]), None])
        assert s.type.ndim == 3
        return s[:, 0, :]

    def rnn_np(X, W):
        h, out = np.zeros(X.shape[1]), []
        for x_t in X:
            h = np.tanh(x_t + h @ W)
            out.append(np_softmax(h @ W))
        return np.array(out)
    xv, wv = R.normal(size=(4, 3)), R.normal(size=(3, 3)) * 0.5
    check_op(rnn, [xv, wv], rnn_np)


def test_softmax_is_stable_for_large_logits():
    x = np.array([[1000.0, 0.0, -1000.0], [-1e5, -1e5, -1e5]])
    check_op(T.nnet.softmax, [x], [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], grad=False)
    check_op(T.nnet.log_softmax, [x], [[0.0, -1000.0, -2000.0], [-np.log(3)] * 3], grad=False)


def test_softmax_float32_stays_float32():
    x = T.fmatrix()
    assert T.nnet.softmax(x).dtype == "float32"
    assert T.nnet.log_softmax(x).dtype == "float32"


def test_log_of_softmax_becomes_log_softmax():
    x = T.dmatrix("x")
    y = T.log(T.nnet.softmax(x))
    assert isinstance(y.owner.op, LogSoftmax)
    f = symrnn.function([x], [y, T.grad(y[:, 0].sum(), x)], mode="NUMPY")
    out, g = f(np.array([[800.0, 0.0], [0.0, 0.0]]))
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(g))


def test_categorical_crossentropy_int_labels():
    x, y = R.normal(size=(4, 5)), np.array([0, 4, 2, 2])
    want = -np.log(np_softmax(x))[np.arange(4), y]
    check_op(lambda x, y: T.nnet.categorical_crossentropy(T.nnet.softmax(x), y), [x, y], want)


def test_categorical_crossentropy_one_hot_and_probabilities():
    p = np_softmax(R.normal(size=(4, 3)))
    t = np.eye(3)[[0, 2, 1, 1]]
    check_op(T.nnet.categorical_crossentropy, [p, t], lambda p, t: -(t * np.log(p)).sum(-1))


def test_categorical_crossentropy_3d_labels_and_vector():
    x, y = R.normal(size=(2, 3, 4)), np.array([[0, 1, 3], [3, 3, 2]])
    want = -np.log(np_softmax(x))[np.arange(2)[:, None], np.arange(3), y]
    check_op(lambda x, y: T.nnet.categorical_crossentropy(T.nnet.softmax(x), y), [x, y], want)
    v = np_softmax(R.normal(size=4))
    check_op(lambda p, i: T.nnet.categorical_crossentropy(p, i), [v, np.array(2)],
             -np.log(v[2]))


def test_crossentropy_of_softmax_is_stable_for_large_logits():
    x, y = T.dmatrix("x"), T.lvector("y")
    loss = T.nnet.categorical_crossentropy(T.nnet.softmax(x), y).mean()
    f = symrnn.function([x, y], [loss, T.grad(loss, x)], mode="NUMPY")
    value, g = f(np.array([[1000.0, 0.0, -1000.0]]), [2])
    np.testing.assert_allclose(value, 2000.0)
    np.testing.assert_allclose(g, [[1.0, 0.0, -1.0]], atol=1e-12)
    t = T.dmatrix("t")
    onehot = T.nnet.categorical_crossentropy(T.nnet.softmax(x), t).sum()
    h = symrnn.function([x, t], T.grad(onehot, x), mode="NUMPY")
    np.testing.assert_allclose(h([[1000.0, 0.0, -1000.0]], [[0.0, 0.0, 1.0]]), [[1, 0, -1]],
                               atol=1e-12)


def test_binary_crossentropy():
    p, t = R.uniform(0.1, 0.9, size=(3, 4)), R.integers(0, 2, size=(3, 4)).astype(float)
    check_op(T.nnet.binary_crossentropy, [p, t],
             lambda p, t: -(t * np.log(p) + (1 - t) * np.log(1 - p)))


def test_binary_crossentropy_of_sigmoid_is_stable():
    z, t = T.dvector("z"), T.dvector("t")
    loss = T.nnet.binary_crossentropy(T.nnet.sigmoid(z), t).sum()
    f = symrnn.function([z, t], [loss, T.grad(loss, z)], mode="NUMPY")
    value, g = f([800.0, -800.0], [0.0, 1.0])
    np.testing.assert_allclose(value, 1600.0)
    np.testing.assert_allclose(g, [1.0, -1.0])


def test_sigmoid_softplus_relu():
    x = np.array([-800.0, -1.5, 0.0, 2.0, 800.0])
    check_op(T.nnet.sigmoid, [x[1:-1]], lambda x: 1 / (1 + np.exp(-x)))
    check_op(T.nnet.sigmoid, [x], [0.0, 1 / (1 + np.exp(1.5)), 0.5, 1 / (1 + np.exp(-2)), 1.0],
             grad=False)
    check_op(T.nnet.softplus, [x], np.logaddexp(0, x), grad=False)
    check_op(lambda v: T.nnet.relu(v, 0.1), [x[[1, 3]]], lambda v: np.where(v > 0, v, 0.1 * v))


def test_nnet_bad_input():
    with pytest.raises(TypeError, match=r"(?s)Softmax.*Scalar.*test_nnet.py"):
        T.nnet.softmax(T.dscalar())
    with pytest.raises(TypeError, match=r"categorical_crossentropy.*float64"):
        T.nnet.categorical_crossentropy(T.dmatrix(), T.dvector())
