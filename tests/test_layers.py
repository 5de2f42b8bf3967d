"""Layer helpers against plain NumPy loops, and their gradients against finite differences."""
import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from symrnn import layers as L
from symrnn.gradient import verify_grad


def run(inputs, outputs, *values, updates=None):
    return symrnn.function(inputs, outputs, updates=updates, mode="NUMPY")(*values)


def test_dense(rng):
    d = L.Dense(4, 3, np.random.RandomState(0))
    d.b.set_value(np.arange(3.0))
    x = T.tensor3("x")
    xv = rng.normal(size=(5, 2, 4))
    np.testing.assert_allclose(run([x], d(x), xv), xv @ d.W.get_value() + np.arange(3.0))
    a = np.sqrt(6.0 / 7)
    assert np.abs(d.W.get_value()).max() <= a


def test_indrnn_matches_loop_and_clips(rng):
    layer = L.IndRNN(3, 4, np.random.RandomState(0), seq_len=10, mag=2.0)
    W, u = layer.W.get_value(), layer.u.get_value()
    layer.b.set_value(np.full(4, 0.1))
    assert np.all((u >= 0) & (u <= 1))
    x = T.tensor3("x")
    xv = rng.normal(size=(6, 2, 3))
    h, expected = np.zeros((2, 4)), []
    for t in range(6):
        h = np.maximum(xv[t] @ W + u * h + 0.1, 0)
        expected.append(h)
    np.testing.assert_allclose(run([x], layer(x), xv), expected, rtol=1e-10)
    bound = 2.0 ** (1 / 10)
    ups = layer.constrain([(layer.u, layer.u * 10.0 - 5.0)])
    run([], [], updates=ups)
    assert np.abs(layer.u.get_value()).max() == pytest.approx(bound)


def test_indrnn_initial_state_and_gradient(rng):
    layer = L.IndRNN(2, 3, np.random.RandomState(1), recurrent_init=(1.0, 1.0))
    assert np.all(layer.u.get_value() == 1.0)
    layer.b.set_value(np.full(3, 0.5))  # keep units active so relu is smooth near the point
    h0 = T.matrix("h0")
    x = T.tensor3("x")
    xv, hv = rng.uniform(0, 1, (4, 2, 2)), rng.uniform(0, 1, (2, 3))
    out = run([x, h0], layer(x, h0)[0], xv, hv)
    np.testing.assert_allclose(out, np.maximum(xv[0] @ layer.W.get_value() + hv + 0.5, 0))
    verify_grad(lambda xs, hs: layer(xs, hs).sum(), [xv, hv], mode="NUMPY")


@pytest.mark.parametrize("recurrent", ["identity", "orthogonal", "glorot"])
def test_rnn_matches_loop(recurrent, rng):
    layer = L.RNN(3, 4, np.random.RandomState(0), recurrent=recurrent, learn_init=True)
    layer.h0.set_value(np.full(4, 0.2))
    W, R = layer.W.get_value(), layer.R.get_value()
    if recurrent == "identity":
        np.testing.assert_array_equal(R, np.eye(4))
    if recurrent == "orthogonal":
        np.testing.assert_allclose(R.T @ R, np.eye(4), atol=1e-12)
    x = T.tensor3("x")
    xv = rng.normal(size=(5, 2, 3))
    h, expected = np.full((2, 4), 0.2), []
    for t in range(5):
        h = np.tanh(xv[t] @ W + h @ R)
        expected.append(h)
    np.testing.assert_allclose(run([x], layer(x), xv), expected, rtol=1e-10)
    assert layer.h0 in layer.params
    verify_grad(lambda xs: layer(xs)[-1].sum(), [xv], mode="NUMPY")


def test_irnn_input_weights_and_penalty():
    layer = L.RNN(1, 50, np.random.RandomState(0), activation=T.nnet.relu,
                  recurrent="identity", input_std=1e-3)
    assert abs(layer.W.get_value().std() - 1e-3) < 3e-4
    assert float(run([], layer.orthogonality_penalty())) == pytest.approx(0.0, abs=1e-20)
    R = np.random.RandomState(1).normal(size=(50, 50))
    layer.R.set_value(R)
    expected = np.sum((R.T @ R - np.eye(50)) ** 2)
    assert float(run([], layer.orthogonality_penalty())) == pytest.approx(expected)


def test_rnn_recurrent_map_dissolve_orthogonal(rng):
    layer = L.RNN(3, 4, np.random.RandomState(0), recurrent="glorot",
                  recurrent_map=L.dissolve_orthogonal)
    W, R = layer.W.get_value(), layer.R.get_value()
    A = 1.5 * R - 0.5 * R @ (R.T @ R)
    x = T.tensor3("x")
    xv = rng.normal(size=(5, 2, 3))
    h, expected = np.zeros((2, 4)), []
    for t in range(5):
        h = np.tanh(xv[t] @ W + h @ A)
        expected.append(h)
    np.testing.assert_allclose(run([x], layer(x), xv), expected, rtol=1e-10)
    Q = L.orthogonal(np.random.RandomState(2), 4)  # orthogonal matrices are fixed points
    np.testing.assert_allclose(run([], L.dissolve_orthogonal(T.constant(Q))), Q, atol=1e-12)
    verify_grad(lambda xs: layer(xs)[-1].sum(), [xv], mode="NUMPY")


def test_batch_norm_train_and_infer(rng):
    bn = L.BatchNorm(3, alpha=0.5)
    x = T.tensor3("x")
    xv = rng.normal(2.0, 3.0, size=(10, 8, 3))
    y, ups = bn(x)
    out = run([x], y, xv, updates=ups)
    np.testing.assert_allclose(out.mean(axis=(0, 1)), 0, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=(0, 1)), 1, rtol=1e-3)
    np.testing.assert_allclose(bn.mean.get_value(), 0.5 * xv.mean(axis=(0, 1)))
    np.testing.assert_allclose(bn.var.get_value(), 0.5 + 0.5 * xv.var(axis=(0, 1)))
    inferred = run([x], bn.infer(x), xv)
    expected = (xv - bn.mean.get_value()) / np.sqrt(bn.var.get_value() + 1e-4)
    np.testing.assert_allclose(inferred, expected)


def test_precise_batch_norm_averages_the_batches_statistics(rng):
    bn = L.BatchNorm(3, alpha=0.1)
    x = T.tensor3("x")
    _, ups = bn(x)
    calibrate = symrnn.function([x], [], updates=ups, mode="NUMPY")
    batches = [rng.normal(k, 1.0 + k, size=(5, 4, 3)) for k in range(3)]
    L.precise_batch_norm([bn], calibrate, batches)
    np.testing.assert_allclose(bn.mean.get_value(),
                               np.mean([b.mean(axis=(0, 1)) for b in batches], 0))
    np.testing.assert_allclose(bn.var.get_value(),
                               np.mean([b.var(axis=(0, 1)) for b in batches], 0))
    assert np.isclose(bn.alpha.get_value(), 0.1)  # the training momentum is back


def test_cross_entropy_and_one_hot():
    z, y = T.matrix("z"), T.lvector("y")
    zv = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1000.0]])
    yv = np.array([2, 0])
    logp = zv - zv.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    ce = run([z, y], L.cross_entropy(z, y, 3), zv, yv)
    assert float(ce) == pytest.approx(-(logp[0, 2] + logp[1, 0]) / 2)
    np.testing.assert_array_equal(run([y], L.one_hot(y, 3), yv), [[0, 0, 1], [1, 0, 0]])
    verify_grad(lambda zs: L.cross_entropy(zs, T.constant(yv), 3), [zv[:1].repeat(2, 0)],
                mode="NUMPY")


def test_cross_entropy_over_time_steps():
    z, y = T.tensor3("z"), T.lmatrix("y")
    zv = np.zeros((4, 2, 5))
    ce = run([z, y], L.cross_entropy(z, y, 5), zv, np.zeros((4, 2), dtype="int64"))
    assert float(ce) == pytest.approx(np.log(5))
