"""Layer helpers shared by the tutorials: dense, IndRNN, simple RNN (IRNN, tanh), batch norm,
dropout.

Sequences are time-major: ``x`` has shape (time, batch, features). Each layer
keeps its shared variables in ``params``. The input projection ``x @ W + b`` of
a recurrent layer is done once for the whole sequence (one large matrix
product); only the recurrence runs inside ``scan``.
"""
import numpy as np

import symrnn
from symrnn.config import config
from symrnn.optimizers import clip_updates
from symrnn.tensor import math as T
from symrnn.tensor import nnet
from symrnn.tensor.basic import constant
from symrnn.tensor.shared_randomstreams import RandomStreams


def _shared(value, name):
    return symrnn.shared(np.asarray(value, dtype=config.floatX), name=name)


def glorot_uniform(rng, n_in, n_out):
    """U(-a, a) with a = sqrt(6 / (n_in + n_out)) (Glorot and Bengio 2010)."""
    a = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-a, a, (n_in, n_out))


def orthogonal(rng, n):
    """A random n x n orthogonal matrix (QR of a Gaussian matrix, signs fixed)."""
    q, r = np.linalg.qr(rng.normal(size=(n, n)))
    return q * np.sign(np.diag(r))


class Dense:
    """y = x @ W + b over the last axis of ``x``."""

    def __init__(self, n_in, n_out, rng, name="dense", W=None):
        self.W = _shared(glorot_uniform(rng, n_in, n_out) if W is None else W, f"{name}.W")
        self.b = _shared(np.zeros(n_out), f"{name}.b")
        self.params = [self.W, self.b]

    def __call__(self, x):
        return T.dot(x, self.W) + self.b


class IndRNN:
    """Independently recurrent layer (Li et al. 2018): h_t = relu(x_t @ W + u * h_{t-1} + b).

    ``u`` is a vector: each unit has its own recurrent weight, drawn from
    U(``recurrent_init``). With ``seq_len`` and ``mag`` the recurrent weights are
    kept in [-U, U], U = mag ** (1 / seq_len), by :meth:`constrain`.
    """

    def __init__(self, n_in, n_hidden, rng, name="indrnn", recurrent_init=(0.0, 1.0),
                 input_std=None, seq_len=None, mag=2.0):
        W = (glorot_uniform(rng, n_in, n_hidden) if input_std is None
             else rng.normal(0, input_std, (n_in, n_hidden)))
        self.W = _shared(W, f"{name}.W")
        self.u = _shared(rng.uniform(*recurrent_init, n_hidden), f"{name}.u")
        self.b = _shared(np.zeros(n_hidden), f"{name}.b")
        self.params = [self.W, self.u, self.b]
        self.bound = None if seq_len is None else float(mag) ** (1.0 / seq_len)

    def __call__(self, x, h0=None):
        """All hidden states (time, batch, n_hidden) for the sequence ``x``.

        ``h0`` (batch, n_hidden) is the state before the first step (zeros by default).
        """
        pre = T.dot(x, self.W) + self.b
        hs, _ = symrnn.scan(lambda p_t, h_prev, u: T.maximum(p_t + u * h_prev, 0),
                            sequences=pre, outputs_info=T.zeros_like(pre[0]) if h0 is None
                            else h0, non_sequences=self.u)
        return hs

    def constrain(self, updates):
        """``updates`` with the new recurrent weights clipped to [-U, U]."""
        if self.bound is None:
            return updates
        return clip_updates(updates, [self.u], -self.bound, self.bound)


class Dropout:
    """Inverted dropout (Srivastava et al. 2014): in training each value is kept with
    probability ``1 - rate`` and scaled by ``1 / (1 - rate)``, so the test-time layer is
    the identity. ``shared_axes``: axes along which one mask value serves every index
    (``(0,)`` on a time-major sequence: one mask for all time steps, seed 003's dropout;
    see TimeDropout). Masks come from ``srng`` (a RandomStreams, made from ``seed`` when
    not given) and are redrawn at every call of a compiled function."""

    def __init__(self, rate, srng=None, seed=None, shared_axes=()):
        if not 0.0 <= float(rate) < 1.0:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate}")
        self.rate = float(rate)
        self.srng = srng if srng is not None else RandomStreams(seed)
        self.shared_axes = tuple(shared_axes)

    def mask(self, x):
        """A fresh mask for ``x``: 0 or 1 / (1 - rate), of length 1 along shared axes."""
        keep = 1.0 - self.rate
        axes = [a % x.type.ndim for a in self.shared_axes]
        shape = [1 if d in axes else T.shape(x)[d] for d in range(x.type.ndim)]
        draw = self.srng.binomial(size=shape, p=keep, dtype=x.type.dtype)
        m = draw * constant(np.asarray(1.0 / keep, dtype=x.type.dtype))
        m = symrnn.tensor.addbroadcast(m, *axes) if axes else m
        m.rng, m.update = draw.rng, draw.update  # the draw's state, as Theano's draws carry
        return m

    def __call__(self, x, train=True):
        """``x`` with dropout applied (``train``), or ``x`` itself (test time)."""
        if not train or self.rate == 0.0:
            return x
        return x * self.mask(x)


class TimeDropout(Dropout):
    """Dropout with one mask for all time steps of a time-major sequence (time, batch, ...),
    as the IndRNN paper's language model (seed 003: "the same mask over time")."""

    def __init__(self, rate, srng=None, seed=None):
        super().__init__(rate, srng, seed, shared_axes=(0,))


class RNN:
    """Fully recurrent layer: h_t = act(x_t @ W + h_{t-1} @ R + b).

    ``recurrent``: 'identity' (IRNN, Le et al. 2015, with act=relu), 'orthogonal'
    or 'glorot'. Input weights are N(0, input_std) when ``input_std`` is given,
    else Glorot uniform. With ``learn_init`` the initial state is a parameter.
    ``recurrent_map`` (R -> matrix) replaces R in the recurrence by a function
    of it, e.g. :func:`dissolve_orthogonal`.
    """

    def __init__(self, n_in, n_hidden, rng, name="rnn", activation=T.tanh,
                 recurrent="orthogonal", input_std=None, learn_init=False,
                 recurrent_map=None):
        W = (glorot_uniform(rng, n_in, n_hidden) if input_std is None
             else rng.normal(0, input_std, (n_in, n_hidden)))
        R = {"identity": lambda: np.eye(n_hidden),
             "orthogonal": lambda: orthogonal(rng, n_hidden),
             "glorot": lambda: glorot_uniform(rng, n_hidden, n_hidden)}[recurrent]()
        self.recurrent_map = recurrent_map
        self.W, self.R = _shared(W, f"{name}.W"), _shared(R, f"{name}.R")
        self.b = _shared(np.zeros(n_hidden), f"{name}.b")
        self.params = [self.W, self.R, self.b]
        self.h0 = _shared(np.zeros(n_hidden), f"{name}.h0") if learn_init else None
        if learn_init:
            self.params.append(self.h0)
        self.activation = activation

    def __call__(self, x):
        """All hidden states (time, batch, n_hidden) for the sequence ``x``."""
        pre = T.dot(x, self.W) + self.b
        h0 = T.zeros_like(pre[0])
        if self.h0 is not None:
            h0 = h0 + self.h0
        R = self.R if self.recurrent_map is None else self.recurrent_map(self.R)
        hs, _ = symrnn.scan(lambda p_t, h_prev, R: self.activation(p_t + T.dot(h_prev, R)),
                            sequences=pre, outputs_info=h0, non_sequences=R)
        return hs

    def orthogonality_penalty(self):
        """||R^T R - I||^2 (squared Frobenius norm): zero when R is orthogonal."""
        n = self.R.get_value(borrow=True).shape[0]
        eye = constant(np.eye(n, dtype=self.R.type.dtype))
        return T.sum(T.sqr(T.dot(self.R.T, self.R) - eye))


def dissolve_orthogonal(R):
    """CDOpt's constraint-dissolving map for orthogonality: 1.5 R - 0.5 R (R^T R).

    Used in the forward pass with the penalty ||R^T R - I||^2, its minimisers are
    orthogonal matrices (Xiao, Liu and Toh 2022).
    """
    return 1.5 * R - 0.5 * T.dot(R, T.dot(R.T, R))


class BatchNorm:
    """Batch normalisation over every axis but the last (Ioffe and Szegedy 2015).

    ``bn(x)`` normalises with the batch's statistics and returns ``(y, updates)``;
    the updates move the running averages used by ``bn.infer(x)`` at test time by
    ``alpha`` (a shared scalar, see :func:`precise_batch_norm`).
    """

    def __init__(self, n, name="bn", alpha=0.1, epsilon=1e-4):
        self.gamma = _shared(np.ones(n), f"{name}.gamma")
        self.beta = _shared(np.zeros(n), f"{name}.beta")
        self.mean = _shared(np.zeros(n), f"{name}.mean")
        self.var = _shared(np.ones(n), f"{name}.var")
        self.params = [self.gamma, self.beta]
        self.alpha, self.epsilon = _shared(alpha, f"{name}.alpha"), epsilon

    def _normalise(self, x, mean, var):
        return (x - mean) * (self.gamma / T.sqrt(var + self.epsilon)) + self.beta

    def __call__(self, x):
        axes = tuple(range(x.type.ndim - 1))
        mean, var = T.mean(x, axis=axes), T.var(x, axis=axes)
        a = self.alpha
        updates = [(self.mean, (1 - a) * self.mean + a * mean),
                   (self.var, (1 - a) * self.var + a * var)]
        return self._normalise(x, mean, var), updates

    def infer(self, x):
        return self._normalise(x, self.mean, self.var)


def precise_batch_norm(norms, run, batches):
    """Set the running mean and variance of each BatchNorm in ``norms`` to their averages
    over ``batches``, the weights fixed.

    ``run(batch)`` runs the training-mode forward pass with the norms' updates (a
    function compiled with them). Batch k moves the averages by 1/k, so they end as
    plain means over the batches instead of averages weighted toward the last training
    steps, which lag behind weights that are still moving fast."""
    alphas = [bn.alpha.get_value() for bn in norms]
    try:
        for k, batch in enumerate(batches, 1):
            for bn, a in zip(norms, alphas):
                bn.alpha.set_value(np.asarray(1.0 / k, dtype=a.dtype))
            run(batch)
    finally:
        for bn, a in zip(norms, alphas):
            bn.alpha.set_value(a)


def one_hot(labels, n_classes, dtype=None):
    """Integer ``labels`` (any shape) as one-hot vectors along a new last axis."""
    classes = constant(np.arange(n_classes, dtype=labels.type.dtype))
    pattern = list(range(labels.type.ndim)) + ["x"]
    return T.cast(T.eq(labels.dimshuffle(*pattern), classes), dtype or config.floatX)


def cross_entropy(logits, labels, n_classes):
    """Mean categorical cross-entropy of ``logits`` (..., n_classes) against integer ``labels``."""
    target = one_hot(labels, n_classes, logits.type.dtype)
    return -T.mean(T.sum(target * nnet.log_softmax(logits), axis=logits.type.ndim - 1))
