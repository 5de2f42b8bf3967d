"""Optimizers: each returns an updates list of (shared variable, new value) pairs.

Use them as Lasagne's update rules::

    updates = symrnn.optimizers.adam(loss, params, learning_rate=1e-3)
    train = symrnn.function([x, y], loss, updates=updates)

The first argument is either the scalar loss or the list of gradients (for
example clipped with :func:`clip_grad_norm`). Each optimizer's state (velocity,
moving averages, step counter) lives in new shared variables created here.
"""
import numpy as np

from symrnn.gradient import grad
from symrnn.shared import shared
from symrnn.tensor import math as T
from symrnn.tensor.basic import as_tensor_variable


def _grads(loss_or_grads, params, what):
    params = list(params)
    if isinstance(loss_or_grads, (list, tuple)):
        grads = [as_tensor_variable(g) for g in loss_or_grads]
        if len(grads) != len(params):
            raise ValueError(f"{what}: got {len(grads)} gradients for {len(params)} params")
    else:
        grads = grad(loss_or_grads, params)
    for p, g in zip(params, grads):
        if not hasattr(p, "get_value"):
            raise TypeError(f"{what}: {p} is not a shared variable")
        if g.type.ndim != p.type.ndim:
            raise ValueError(f"{what}: gradient {g.type} does not fit param {p} ({p.type})")
    return params, [T.cast(g, p.type.dtype) if g.type.dtype != p.type.dtype else g
                    for p, g in zip(params, grads)]


def _zeros_like(p, name):
    value = p.get_value(borrow=True)
    return shared(np.zeros(np.shape(value), dtype=p.type.dtype),
                  name=f"{p.name or 'param'}.{name}", broadcastable=p.type.broadcastable)


def clip_grad_norm(grads, max_norm, epsilon=1e-7):
    """Rescale ``grads`` together so that their total L2 norm is at most ``max_norm``.

    Returns the list of rescaled gradients (the direction is unchanged).
    """
    grads = [as_tensor_variable(g) for g in grads]
    norm = T.sqrt(sum(T.sum(T.sqr(T.cast(g, "float64"))) for g in grads))
    scale = T.minimum(1.0, max_norm / (norm + epsilon))
    return [g * T.cast(scale, g.type.dtype) for g in grads]


def sgd(loss_or_grads, params, learning_rate=0.01):
    """Plain gradient descent: p <- p - learning_rate * g."""
    params, grads = _grads(loss_or_grads, params, "sgd")
    return [(p, p - learning_rate * g) for p, g in zip(params, grads)]


def momentum(loss_or_grads, params, learning_rate=0.01, momentum=0.9):
    """Heavy-ball momentum: v <- momentum * v - lr * g;  p <- p + v."""
    params, grads = _grads(loss_or_grads, params, "momentum")
    updates = []
    for p, g in zip(params, grads):
        v = _zeros_like(p, "velocity")
        v_new = momentum * v - learning_rate * g
        updates += [(v, v_new), (p, p + v_new)]
    return updates


def _nesterov(params, steps, momentum):
    """Nesterov momentum around descent ``steps``; each param holds the look-ahead point.

    With v <- momentum * v + step and the param stored at the look-ahead
    position phi = p + momentum * v, the update is phi <- phi + momentum * v_new + step
    (Sutskever et al. 2013; the gradient is taken at phi, as Nesterov asks).
    """
    updates = []
    for p, step in zip(params, steps):
        v = _zeros_like(p, "velocity")
        v_new = momentum * v + step
        updates += [(v, v_new), (p, p + momentum * v_new + step)]
    return updates


def nesterov(loss_or_grads, params, learning_rate=0.01, momentum=0.9):
    """Nesterov accelerated gradient (the param holds the look-ahead point)."""
    params, grads = _grads(loss_or_grads, params, "nesterov")
    return _nesterov(params, [-learning_rate * g for g in grads], momentum)


def rmsprop(loss_or_grads, params, learning_rate=1e-3, rho=0.9, epsilon=1e-6,
            momentum=None):
    """RMSProp: ma <- rho * ma + (1 - rho) * g**2;  step = -lr * g / (sqrt(ma) + epsilon).

    With ``momentum`` (a float) the normalised step drives Nesterov momentum, as
    in the RNN tutorial of seed 001 (there ``rho`` is called lambda).
    """
    params, grads = _grads(loss_or_grads, params, "rmsprop")
    updates, steps = [], []
    for p, g in zip(params, grads):
        ma = _zeros_like(p, "ma_sqr")
        ma_new = rho * ma + (1 - rho) * T.sqr(g)
        updates.append((ma, ma_new))
        steps.append(-learning_rate * g / (T.sqrt(ma_new) + epsilon))
    if momentum is None:
        return updates + [(p, p + s) for p, s in zip(params, steps)]
    return updates + _nesterov(params, steps, momentum)


def adam(loss_or_grads, params, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """Adam (Kingma and Ba 2015) with bias-corrected moments."""
    params, grads = _grads(loss_or_grads, params, "adam")
    t = shared(np.asarray(0.0, dtype="float64"), name="adam.t")
    t_new = t + 1.0
    rate = learning_rate * T.sqrt(1.0 - beta2 ** t_new) / (1.0 - beta1 ** t_new)
    updates = [(t, t_new)]
    for p, g in zip(params, grads):
        m, v = _zeros_like(p, "adam_m"), _zeros_like(p, "adam_v")
        m_new = beta1 * m + (1 - beta1) * g
        v_new = beta2 * v + (1 - beta2) * T.sqr(g)
        step = T.cast(rate, p.type.dtype) * m_new / (T.sqrt(v_new) + epsilon)
        updates += [(m, m_new), (v, v_new), (p, p - step)]
    return updates


def clip_updates(updates, params, low, high):
    """``updates`` with the new values of ``params`` clipped to [low, high] (weight constraint)."""
    ids = set(map(id, params))
    return [(p, T.clip(v, low, high) if id(p) in ids else v) for p, v in updates]
