"""Neural-network functions (``T.nnet``): sigmoid, relu, softmax, cross-entropies.

The cross-entropies are written with ``T.log``, which rewrites log(softmax(x))
into log_softmax(x) and log(sigmoid(z)) into -softplus(-z) as the graph is
built, so losses on large logits stay finite, and so do their gradients.
"""
from symrnn.graph import op_error
from symrnn.ops.nnet import log_softmax as _log_softmax_op, softmax as _softmax_op
from symrnn.tensor.basic import as_tensor_variable
from symrnn.tensor.math import arange, log, maximum, sigmoid, softplus  # noqa: F401
from symrnn.tensor.math import clip, expm1, switch


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


# ---- more of Theano 1.0's T.nnet ----

logsoftmax = log_softmax  # Theano's spelling


def hard_sigmoid(x):
    """clip(0.2 * x + 0.5, 0, 1): Theano's piecewise-linear sigmoid."""
    x = as_tensor_variable(x)
    return clip(x * 0.2 + 0.5, 0, 1)


def elu(x, alpha=1):
    """x where x > 0, else alpha * (exp(x) - 1)."""
    x = as_tensor_variable(x)
    return switch(x > 0, x, alpha * expm1(x))


def selu(x):
    """The scaled exponential linear unit (Klambauer et al. 2017), Theano's constants."""
    return 1.0507009873554804934193349852946 * elu(x, 1.6732632423543772848170429916717)


def softsign(x):
    """x / (1 + |x|)."""
    x = as_tensor_variable(x)
    return x / (1 + abs(x))


def sigmoid_binary_crossentropy(output, target):
    """binary_crossentropy(sigmoid(output), target) from the logits ``output``, computed
    as softplus(output) - target * output (finite for any logit)."""
    output, target = as_tensor_variable(output), as_tensor_variable(target)
    return softplus(output) - target * output


def crossentropy_categorical_1hot(coding_dist, true_one_of_n):
    """-log(coding_dist[i, true_one_of_n[i]]) per row (integer labels)."""
    p, t = as_tensor_variable(coding_dist), as_tensor_variable(true_one_of_n)
    if p.type.ndim != 2 or t.type.ndim != 1 or not t.type.dtype.startswith(("int", "uint")):
        raise op_error("crossentropy_categorical_1hot", f"needs a matrix and a vector of "
                       f"integer labels, got {p.type} and {t.type}", TypeError)
    return categorical_crossentropy(p, t)
