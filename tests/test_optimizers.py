"""Optimizers: convergence on a quadratic and agreement with NumPy reference steps."""
import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from symrnn import optimizers as opt

TARGET = np.array([1.0, -0.5, 2.0])
START = np.array([3.0, 2.0, -1.0])


def _quadratic(dtype="float64"):
    w = symrnn.shared(START.astype(dtype), name="w")
    scales = np.array([1.0, 2.0, 0.5])
    loss = T.sum(T.constant(scales.astype(dtype)) * T.sqr(w - T.constant(TARGET.astype(dtype))))
    return w, loss, lambda v: 2 * scales * (v - TARGET)


@pytest.mark.parametrize("name, kw", [
    ("sgd", dict(learning_rate=0.1)),
    ("momentum", dict(learning_rate=0.05, momentum=0.9)),
    ("nesterov", dict(learning_rate=0.05, momentum=0.9)),
    ("rmsprop", dict(learning_rate=0.01)),
    ("rmsprop", dict(learning_rate=0.01, rho=0.5, momentum=0.8)),
    ("adam", dict(learning_rate=0.05)),
])
def test_converges_on_quadratic(name, kw):
    w, loss, _ = _quadratic()
    step = symrnn.function([], loss, updates=getattr(opt, name)(loss, [w], **kw), mode="NUMPY")
    first = step()
    for _ in range(600):
        last = step()
    assert last < 1e-3 * first
    np.testing.assert_allclose(w.get_value(), TARGET, atol=0.05)


def _reference_steps(name, kw, n):
    """The same optimizer written directly in NumPy; returns the param after ``n`` steps."""
    _, _, gradient = _quadratic()
    p, lr = START.copy(), kw["learning_rate"]
    state = dict(v=np.zeros(3), ma=np.zeros(3), m=np.zeros(3), t=0)
    for _ in range(n):
        g = gradient(p)
        if name == "sgd":
            p = p - lr * g
        elif name == "momentum":
            state["v"] = kw["momentum"] * state["v"] - lr * g
            p = p + state["v"]
        elif name == "nesterov":
            mu = kw["momentum"]
            state["v"] = mu * state["v"] - lr * g
            p = p + mu * state["v"] - lr * g
        elif name == "rmsprop":
            state["ma"] = 0.9 * state["ma"] + 0.1 * g ** 2
            p = p - lr * g / (np.sqrt(state["ma"]) + 1e-6)
        elif name == "adam":
            state["t"] += 1
            state["m"] = 0.9 * state["m"] + 0.1 * g
            state["ma"] = 0.999 * state["ma"] + 0.001 * g ** 2
            m_hat = state["m"] / (1 - 0.9 ** state["t"])
            v_hat = state["ma"] / (1 - 0.999 ** state["t"])
            p = p - lr * m_hat / (np.sqrt(v_hat) + 1e-8 / np.sqrt(1 - 0.999 ** state["t"]))
    return p


@pytest.mark.parametrize("name, kw", [
    ("sgd", dict(learning_rate=0.1)),
    ("momentum", dict(learning_rate=0.05, momentum=0.9)),
    ("nesterov", dict(learning_rate=0.05, momentum=0.9)),
    ("rmsprop", dict(learning_rate=0.01)),
    ("adam", dict(learning_rate=0.05)),
])
@pytest.mark.parametrize("n", [1, 3])
def test_matches_numpy_reference(name, kw, n):
    w, loss, _ = _quadratic()
    step = symrnn.function([], [], updates=getattr(opt, name)(loss, [w], **kw), mode="NUMPY")
    for _ in range(n):
        step()
    np.testing.assert_allclose(w.get_value(), _reference_steps(name, kw, n), rtol=1e-10)


def test_rmsprop_nesterov_matches_seed_001_loop():
    # seed 001 moves P by the old velocity, takes the gradient there, then steps;
    # symrnn keeps that look-ahead point phi = P + momentum * V in the param
    lr, lmbd, mu = 0.05, 0.5, 0.8
    w, loss, gradient = _quadratic()
    step = symrnn.function([], [], mode="NUMPY", updates=opt.rmsprop(
        loss, [w], learning_rate=lr, rho=lmbd, momentum=mu, epsilon=0.0))
    p, v, ma = START.copy(), np.zeros(3), np.zeros(3)
    for _ in range(5):
        v_tmp = v * mu
        p = p + v_tmp
        g = gradient(p)
        ma = lmbd * ma + (1 - lmbd) * g ** 2
        s = lr * g / np.sqrt(ma)
        v = v_tmp - s
        p = p - s
        step()
        np.testing.assert_allclose(w.get_value(), p + mu * v, rtol=1e-10)


def test_float32_params_stay_float32(floatX32):
    w, loss, _ = _quadratic("float32")
    for name in ("sgd", "momentum", "nesterov", "rmsprop", "adam"):
        symrnn.function([], loss, updates=getattr(opt, name)(loss, [w]), mode="NUMPY")()
        assert w.get_value().dtype == np.float32


def test_clip_grad_norm_rescales_only_large_gradients():
    a, b = T.vector("a"), T.vector("b")
    f = symrnn.function([a, b], opt.clip_grad_norm([a, b], 1.0), mode="NUMPY")
    big = f(np.array([3.0, 0.0]), np.array([4.0]))
    np.testing.assert_allclose(np.concatenate(big), [0.6, 0.0, 0.8], rtol=1e-6)
    small = f(np.array([0.3, 0.0]), np.array([0.4]))
    np.testing.assert_allclose(np.concatenate(small), [0.3, 0.0, 0.4], rtol=1e-6)


def test_clipped_gradients_feed_an_optimizer():
    w, loss, _ = _quadratic()
    grads = opt.clip_grad_norm(T.grad(loss, [w]), 0.1)
    symrnn.function([], [], updates=opt.sgd(grads, [w], learning_rate=1.0), mode="NUMPY")()
    assert np.linalg.norm(w.get_value() - START) == pytest.approx(0.1, rel=1e-5)


def test_clip_updates_bounds_the_new_value():
    w, loss, _ = _quadratic()
    ups = opt.clip_updates(opt.sgd(loss, [w], learning_rate=10.0), [w], -1.5, 1.5)
    symrnn.function([], [], updates=ups, mode="NUMPY")()
    assert np.all(np.abs(w.get_value()) <= 1.5)


def test_bad_arguments():
    w, loss, _ = _quadratic()
    with pytest.raises(ValueError, match="adam: got 2 gradients for 1 params"):
        opt.adam([loss, loss], [w])
    with pytest.raises(TypeError, match="not a shared variable"):
        opt.sgd([T.vector("g")], [T.vector("p")])
