"""Neural-network functions (``T.nnet``): sigmoid, relu, softmax, cross-entropies.

The cross-entropies are written with ``T.log``, which rewrites log(softmax(x))
into log_softmax(x) and log(sigmoid(z)) into -softplus(-z) as the graph is
built, so losses on large logits stay finite, and so do their gradients.
"""
from symrnn.graph import op_error
from symrnn.ops.nnet import log_softmax as _log_softmax_op, softmax as _softmax_op
from symrnn.tensor.basic import as_tensor_variable
from symrnn.tensor.math import arange, log, maximum, sigmoid, softplus  # noqa: F401


def relu(x, alpha=0):
    """max(x, 0); with ``alpha`` the leaky form max(x, alpha * x) for 0 <= alpha <= 1."""
    if alpha == 0:
        return maximum(x, 0)
    return maximum(x, alpha * x)


def softmax(x):
    """exp(x) / sum(exp(x)) over the last axis (row-wise for a matrix); a vector gives a
    (1, n) row, as in Theano 1.0."""
    return _softmax_op(x)


def log_softmax(x):
    """log(softmax(x)) over the last axis, computed without overflow (a vector gives a
    (1, n) row, as in Theano 1.0)."""
    return _log_softmax_op(x)


def categorical_crossentropy(coding_dist, true_dist):
    """-sum(true_dist * log(coding_dist)) over the last axis.

    ``true_dist`` is either a distribution (one-hot rows) shaped like
    ``coding_dist``, or integer labels with one dim fewer: then the loss is
    -log(coding_dist[..., label]).
    """
    p, t = as_tensor_variable(coding_dist), as_tensor_variable(true_dist)
    if t.type.ndim == p.type.ndim:
        return -(t * log(p)).sum(axis=-1)
    if t.type.ndim != p.type.ndim - 1 or not t.type.dtype.startswith(("int", "uint")):
        raise op_error("categorical_crossentropy", f"true_dist must be like coding_dist "
                       f"({p.type}) or integer labels with one dim fewer, got {t.type}")
    logp = log(p)
    if p.type.ndim == 1:
        return -logp[t]
    if p.type.ndim == 2:
        return -logp[arange(t.shape[0]), t]
    flat = logp.reshape((-1, logp.shape[-1]))
    labels = t.flatten()
    return -flat[arange(labels.shape[0]), labels].reshape(t.shape, ndim=t.type.ndim)


def binary_crossentropy(output, target):
    """-(target * log(output) + (1 - target) * log(1 - output)), elementwise."""
    output, target = as_tensor_variable(output), as_tensor_variable(target)
    return -(target * log(output) + (1 - target) * log(1 - output))
