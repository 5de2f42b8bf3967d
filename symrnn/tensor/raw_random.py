"""What RandomStreams and MRG_RandomStreams share: the state variables and the distributions.

Each draw owns a shared variable holding its generator state (an (n_streams, 6)
int32 MRG31k3p matrix, symrnn/ops/random.py) whose ``default_update`` is the
advanced state, so every function using the draw moves its stream on (unless
``function(..., no_default_updates=...)``). Every distribution is arithmetic on
uniform numbers from that op, so it runs compiled on every backend, and its
numbers are constants for ``grad``.
"""
import numpy as np

from symrnn.config import config
from symrnn.graph import Variable, op_error
from symrnn.ops import random as R
from symrnn.shared import SharedVariable
from symrnn.tensor import math as T
from symrnn.tensor.basic import as_tensor_variable, constant
from symrnn.tensor.extra_ops import arange, argsort, cumsum
from symrnn.types import TensorType, upcast


class RandomState(np.ndarray):
    """The value of a stream's state variable: the (n_streams, 6) int32 state, with
    numpy.random.RandomState's ``seed``, ``get_state`` and ``set_state``, so that
    Theano's ``r = rv.rng.get_value(); r.seed(5); rv.rng.set_value(r)`` runs as is."""

    def seed(self, seed=None):
        """Restart this state from ``seed`` (an int; None: from the OS's entropy)."""
        self[...] = R.substreams(seed_state(seed), self.shape[0])

    def get_state(self):
        """A copy of the state (give it to ``set_state`` to go back to this point)."""
        return np.array(self)

    def set_state(self, state):
        """Set the state from ``get_state``'s value."""
        self[...] = np.asarray(state, dtype=np.int32).reshape(self.shape)


def seed_state(seed):
    """Six valid MRG31k3p seed values derived from an int (or None: fresh entropy)."""
    return np.random.RandomState(seed).randint(1, R.M2, size=6).astype(np.int32)


class RandomStateSharedVariable(SharedVariable):
    """A shared variable holding a stream's state; ``get_value`` gives a RandomState."""

    def get_value(self, borrow=False, return_internal_type=False):
        value = super().get_value(borrow, return_internal_type)
        return value.view(RandomState) if isinstance(value, np.ndarray) else value

    def set_value(self, value, borrow=False):
        """Set the state: a RandomState / int32 (n_streams, 6) array, or (as Theano code
        does) a numpy.random.RandomState, from which a new state is seeded."""
        if isinstance(value, np.random.RandomState):
            n = self.get_value(borrow=True).shape[0]
            value = R.substreams(seed_state(int(value.randint(2 ** 30))), n)
        if isinstance(value, np.ndarray):
            value = value.view(np.ndarray)
        super().set_value(value, borrow)

    def clone(self):
        c = super().clone()
        c.__class__ = RandomStateSharedVariable
        return c


_DRAWS = [0]  # draws made so far: scan() tells those made inside its step function


def draw_count():
    """How many draws (state variables) have been made in this process."""
    return _DRAWS[0]


def state_variable(value):
    """A RandomStateSharedVariable holding the int32 state matrix ``value``."""
    v = RandomStateSharedVariable(TensorType("int32", (False, False)), value)
    v.tag["is_rng"] = True
    v.tag["draw"] = _DRAWS[0]
    _DRAWS[0] += 1
    return v


# ---- arguments ----

def size_vector(size, ndim, params, who):
    """(int64 size vector, ndim, the size as given) for a draw; size None: the broadcast
    shape of ``params`` (Theano's rule)."""
    if size is None:
        if not params:
            return constant(np.zeros(0, "int64")), 0, ()
        acc = params[0]
        for p in params[1:]:
            acc = acc + p
        if acc.type.ndim == 0:
            return constant(np.zeros(0, "int64")), 0, ()
        return T.shape(acc), acc.type.ndim, None
    if isinstance(size, (int, np.integer)):
        size = (int(size),)
    if isinstance(size, Variable):
        size = as_tensor_variable(size)
        if size.type.ndim == 0:
            size = T.stack([size])
        if size.type.ndim != 1 or size.type.dtype[:3] not in ("int", "uin"):
            raise op_error(who, f"size must be a tuple of ints or an integer vector, got "
                           f"{size.type}")
        if ndim is None:
            try:
                ndim = T._vector_length(size)
            except TypeError:
                raise op_error(who, f"the length of size {size} is unknown; pass ndim=") \
                    from None
        return T.cast(size, "int64"), int(ndim), size
    if not isinstance(size, (tuple, list)):
        raise op_error(who, f"size must be an int, a tuple or an integer vector, got "
                       f"{type(size).__name__}")
    for s in size:
        if isinstance(s, Variable):
            if s.type.ndim != 0 or s.type.dtype[:3] not in ("int", "uin"):
                raise op_error(who, f"a symbolic entry of size must be an integer scalar, "
                               f"got {s.type}")
        elif not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise op_error(who, f"size entries must be ints or integer scalars, got {s!r}")
        elif s < 0:
            raise op_error(who, f"size {tuple(size)} has a negative entry", ValueError)
    if ndim is not None and ndim != len(size):
        raise op_error(who, f"ndim={ndim} does not match size {tuple(size)}", ValueError)
    if all(isinstance(s, (int, np.integer)) for s in size):
        return constant(np.asarray(size, dtype="int64").reshape(-1)), len(size), tuple(size)
    return T.stack([T.cast(s, "int64") for s in size]), len(size), tuple(size)


def _tensor(x):
    return as_tensor_variable(x)


def _float_dtype(dtype, *params):
    return dtype or upcast(config.floatX, *[p.type.dtype for p in params])


# ---- the distributions ----

class RandomStreamsBase:
    """Distributions built on ``self._uniform(size, ndim, dtype, nstreams)`` (numbers in
    (0, 1) of shape ``size``), which a subclass provides: it makes the draw's state."""

    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None):
        """Numbers uniform between ``low`` and ``high`` (dtype: that of the bounds, at least
        floatX); size None: the broadcast shape of low and high."""
        low, high = _tensor(low), _tensor(high)
        dtype = _float_dtype(dtype, low, high)
        low, high = T.cast(low, dtype), T.cast(high, dtype)
        u = self._uniform(size, ndim, dtype, nstreams, [low, high], "uniform")
        return self._keep_attrs(u * (high - low) + low, u)

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None):
        """Normal numbers of mean ``avg`` and standard deviation ``std`` (Box-Muller on
        uniform pairs, as Theano's MRG_RandomStreams)."""
        avg, std = _tensor(avg), _tensor(std)
        dtype = _float_dtype(dtype, avg, std)
        avg, std = T.cast(avg, dtype), T.cast(std, dtype)
        vec, ndim, given = size_vector(size, ndim, [avg, std], "normal")
        n_odd = T.prod(vec) if ndim else T.constant(np.int64(1))
        n_even = n_odd + n_odd % 2
        u = self._uniform((n_even,), 1, dtype, nstreams, [], "normal")
        half = n_even // 2
        u1, u2 = u[:half], u[half:]
        r = T.sqrt(-2.0 * T.log(u1))
        theta = T.constant(np.asarray(2.0 * np.pi, dtype=dtype)) * u2
        z = T.join(0, r * T.cos(theta), r * T.sin(theta))[:n_odd]
        z = T.reshape(z, vec, ndim=ndim) if ndim else z[0]
        return self._keep_attrs(z * std + avg, u)

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", prob=None,
                 nstreams=None):
        """The number of successes in ``n`` trials of probability ``p`` (both may be
        symbolic and broadcast against each other and ``size``)."""
        p = _tensor(p if prob is None else prob)
        if isinstance(n, (int, np.integer)) and n == 1:
            u = self._uniform(size, ndim, config.floatX, nstreams, [p], "binomial")
            return self._keep_attrs(T.cast(T.lt(u, p), dtype), u)
        n = _tensor(n)
        if n.type.dtype[:3] not in ("int", "uin"):
            raise op_error("binomial", f"n must be an integer, got {n.type}")
        vec, nd, _ = size_vector(size, ndim, [n, p], "binomial")
        n_max = T.maximum(T.max(n), 0)
        u = self._uniform(T.concatenate([vec, T.stack([n_max])]), nd + 1, "float64",
                          nstreams, [], "binomial")
        trials = arange(n_max)
        hit = T.lt(u, T.shape_padright(p)) * T.lt(trials, T.shape_padright(n))
        return self._keep_attrs(T.cast(T.sum(hit, axis=-1), dtype), u)

    def random_integers(self, size=None, low=0, high=1, ndim=None, dtype="int64",
                        nstreams=None):
        """Integers between ``low`` and ``high``, both included."""
        low, high = _tensor(low), _tensor(high)
        u = self._uniform(size, ndim, "float64", nstreams, [low, high], "random_integers")
        span = T.cast(high, "float64") - T.cast(low, "float64") + 1
        return self._keep_attrs(T.cast(T.floor(u * span) + low, dtype), u)

    def choice(self, size=None, a=2, replace=True, p=None, ndim=None, dtype="int64",
               nstreams=None):
        """Values of ``a`` (a vector, or an int n for range(n)) drawn with or without
        replacement, with probabilities ``p`` (uniform when None); size None: one value."""
        a = _tensor(a)
        if a.type.ndim > 1:
            raise op_error("choice", f"a must be an int or a vector, got {a.type}")
        n = T.shape(a)[0] if a.type.ndim == 1 else T.cast(a, "int64")
        vec, nd, _ = size_vector(size, ndim, [], "choice")
        k = T.prod(vec) if nd else T.constant(np.int64(1))
        if replace:
            u = self._uniform(size, ndim, "float64", nstreams, [], "choice")
            idx = (T.floor(u * T.cast(n, "float64")) if p is None
                   else _inverse_cdf(_tensor(p), u))
            idx = T.cast(T.minimum(idx, n - 1), "int64")
        else:
            u = self._uniform(T.stack([n]), 1, "float64", nstreams, [], "choice")
            keys = -u if p is None else -T.log(u) / _tensor(p)  # smallest first
            idx = argsort(keys)[:k]
            idx = T.reshape(idx, vec, ndim=nd) if nd else idx[0]
        out = a[idx] if a.type.ndim == 1 else idx
        return self._keep_attrs(T.cast(out, dtype), u)

    def poisson(self, size=None, lam=1.0, ndim=None, dtype="int64", nstreams=None):
        """Poisson counts of mean ``lam``: the number of arrivals of a unit-rate process
        before time ``lam`` (exponential gaps -log u), with max(lam) + 10 sqrt(max(lam)) + 20
        gaps drawn per value (fewer than needed with probability below 1e-20)."""
        lam = T.cast(_tensor(lam), "float64")
        vec, nd, _ = size_vector(size, ndim, [lam], "poisson")
        top = T.maximum(T.max(lam), 0.0)
        k = T.cast(T.ceil(top + 10 * T.sqrt(top) + 20), "int64")
        u = self._uniform(T.concatenate([vec, T.stack([k])]), nd + 1, "float64", nstreams,
                          [], "poisson")
        arrivals = cumsum(-T.log(u), axis=-1)
        counts = T.sum(T.le(arrivals, T.shape_padright(lam)), axis=-1)
        return self._keep_attrs(T.cast(counts, dtype), u)

    def permutation(self, size=None, n=1, ndim=None, dtype="int64", nstreams=None):
        """Permutations of range(n), one per element of ``size``: shape size + (n,)."""
        vec, nd, _ = size_vector(size, ndim, [], "permutation")
        n = T.cast(_tensor(n), "int64")
        u = self._uniform(T.concatenate([vec, T.stack([n])]), nd + 1, "float64", nstreams,
                          [], "permutation")
        return self._keep_attrs(T.cast(argsort(u, axis=-1), dtype), u)

    def multinomial(self, size=None, n=1, pvals=(0.5, 0.5), ndim=None, dtype="int64",
                    nstreams=None):
        """Counts of ``n`` draws among len(pvals) outcomes: shape size + (len(pvals),)
        (size None: pvals' leading shape, broadcast with n)."""
        pvals, n = _tensor(pvals), _tensor(n)
        if pvals.type.ndim < 1:
            raise op_error("multinomial", f"pvals must have at least one axis, got "
                           f"{pvals.type}")
        lead = pvals[..., 0] if pvals.type.ndim > 1 else None
        vec, nd, _ = size_vector(size, ndim, [x for x in (lead, n) if x is not None] or
                                 [T.constant(np.int64(0))], "multinomial")
        n_max = T.maximum(T.max(n), 0)
        u = self._uniform(T.concatenate([vec, T.stack([n_max])]), nd + 1, "float64",
                          nstreams, [], "multinomial")
        pv = T.shape_padaxis(pvals, -2)  # (..., 1, K): one row for all trials
        cat = _inverse_cdf(pv, u)  # (size..., n_max): the outcome of each trial
        k = T.shape(pvals)[-1]
        one_hot = T.eq(T.shape_padright(cat), arange(k))
        used = T.lt(arange(n_max), T.shape_padright(n))
        counts = T.sum(one_hot * T.shape_padright(used), axis=-2)
        return self._keep_attrs(T.cast(counts, dtype), u)

    def shuffle_row_elements(self, input):
        """``input`` with the elements of each row (last axis) shuffled; the permutation
        used is the result's ``.permutation``."""
        x = _tensor(input)
        perm = self.permutation(size=T.shape(x)[:-1], n=T.shape(x)[-1], ndim=x.type.ndim - 1)
        idx = []
        for d in range(x.type.ndim - 1):
            order = ["x"] * x.type.ndim
            order[d] = 0
            idx.append(arange(T.shape(x)[d]).dimshuffle(order))
        out = x[tuple(idx + [perm])]
        out.permutation = perm
        return out

    @staticmethod
    def _keep_attrs(out, u):
        """``out`` carrying the draw's ``rng`` / ``rstate`` and ``update`` (as Theano's)."""
        out.rng = out.rstate = u.rng
        out.update = u.update
        return out


def _inverse_cdf(p, u):
    """Per uniform number u: the index k with cdf[k-1] <= u * total < cdf[k] (p's last axis
    holds the probabilities, which need not sum to one)."""
    p = T.cast(p, "float64")
    cdf = cumsum(p, axis=-1)
    v = T.shape_padright(u) * T.sum(p, axis=-1, keepdims=True)
    idx = T.sum(T.le(cdf, v), axis=-1)
    return T.minimum(idx, T.shape(p)[-1] - 1)


def draw_uniform(streams, size, ndim, dtype, nstreams, params, who, n_streams_of):
    """The uniform numbers of one new draw: its state variable (registered with
    ``streams``), the MRGUniform node, the attributes Theano's draws carry."""
    vec, nd, given = size_vector(size, ndim, params, who)
    if nstreams is None:
        nstreams = n_streams_of(given)
    nstreams = int(nstreams)
    if nstreams < 1:
        raise op_error(who, f"nstreams must be positive, got {nstreams}", ValueError)
    rstate = state_variable(streams.new_state(nstreams))
    new_state, u = R.MRGUniform(dtype, nd)(rstate, as_tensor_variable(vec))
    rstate.default_update = new_state
    u.rng = u.rstate = rstate
    u.update = (rstate, new_state)
    streams.register(rstate, new_state, given, nstreams)
    return u
