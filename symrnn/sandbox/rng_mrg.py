"""MRG_RandomStreams: Theano's ``theano.sandbox.rng_mrg`` random streams.

The streams are Theano's: MRG31k3p seeded with ``seed`` (an int, repeated six
times, or six ints); a draw of ``nstreams`` streams takes rows 2^72 steps apart,
and each new draw starts 2^134 steps further, so ``uniform`` gives Theano's
numbers for the same seed, size, nstreams and dtype (tests/test_random.py checks
them against L'Ecuyer's own implementation); ``normal`` (Box-Muller on one
uniform draw of 60 * 256 streams) and ``binomial`` (``u < p``) are built from
them as Theano builds them.
"""

from symrnn.ops import random as R
from symrnn.ops.random import guess_n_streams  # noqa: F401  (Theano's name)
from symrnn.tensor import math as T
from symrnn.tensor.extra_ops import argsort
from symrnn.tensor.raw_random import RandomStreamsBase, _inverse_cdf, _tensor, draw_uniform


class MRG_RandomStreams(RandomStreamsBase):
    """Symbolic random streams with numpy.random's interface, as Theano's.

    ``seed``: an int in 1 .. 2147462578 (used six times) or six ints (the first three
    below 2^31 - 1, the last three below 2147462579; neither three all zero)."""

    def __init__(self, seed=12345):
        self.state_updates = []  # (state variable, its update, size, nstreams) per draw
        self.default_instance_seed = seed
        self.set_rstate(seed)

    def updates(self):
        """The (state, new state) updates of every draw made so far."""
        return [(old, new) for old, new, *_ in self.state_updates]

    def set_rstate(self, seed):
        """Start the generator at ``seed`` (the next draw's streams start there)."""
        self.rstate = R.check_seed(seed)

    def inc_rstate(self):
        """Move the generator 2^134 steps on: the start of the next draw's streams."""
        self.rstate = R.jump(self.rstate, R.A1P134, R.A2P134)

    def get_substream_rstates(self, n_streams, dtype=None, inc_rstate=True):
        """(n_streams, 6) states 2^72 steps apart from the current start; then move on."""
        if not 0 < int(n_streams) < 2 ** 31:
            raise ValueError(f"MRG_RandomStreams: n_streams must be positive, got {n_streams}")
        rval = R.substreams(self.rstate, int(n_streams))
        if inc_rstate:
            self.inc_rstate()
        return rval

    def seed(self, seed=None):
        """Re-seed: restart from ``seed`` (None: the constructor's) and give every draw
        made so far a fresh state, as if they were made again in order."""
        self.set_rstate(self.default_instance_seed if seed is None else seed)
        for old, _new, _size, nstreams in self.state_updates:
            n = old.get_value(borrow=True).shape[0] if nstreams is None else nstreams
            old.set_value(self.get_substream_rstates(n), borrow=True)

    def n_streams(self, size):
        return guess_n_streams(size)

    # the primitive every distribution uses
    def new_state(self, nstreams):
        return self.get_substream_rstates(nstreams)

    def register(self, rstate, new_state, size, nstreams):
        self.state_updates.append((rstate, new_state, size, nstreams))

    def _uniform(self, size, ndim, dtype, nstreams, params, who):
        return draw_uniform(self, size, ndim, dtype, nstreams, params, who, self.n_streams)

    # Theano's MRG signatures: size first (required for uniform and normal)
    def uniform(self, size, low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None):
        """Numbers uniform in (low, high), shape ``size``."""
        return super().uniform(size, low, high, ndim, dtype, nstreams)

    def normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None,
               truncate=False):
        """Normal numbers (Box-Muller, as Theano); ``truncate=True``: values beyond two
        standard deviations are drawn again (see truncated_normal)."""
        out = super().normal(size, avg, std, ndim, dtype, nstreams)
        if truncate:
            return self._truncate(out, size, avg, std, ndim, dtype, nstreams)
        return out

    def truncated_normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None):
        """Normal numbers cut at two standard deviations, scaled so that ``std`` is their
        standard deviation (Theano's constant 0.8796...)."""
        std = _tensor(std) / 0.87962566103423978
        return self.normal(size, avg, std, ndim, dtype, nstreams, truncate=True)

    def _truncate(self, z, size, avg, std, ndim, dtype, nstreams):
        # each value outside [avg - 2 std, avg + 2 std] is replaced by a fresh draw, up to
        # 16 rounds (a value survives all of them with probability 0.0455^16 ~ 3e-22)
        avg, std = T.cast(_tensor(avg), z.type.dtype), T.cast(_tensor(std), z.type.dtype)
        first = z
        for _ in range(16):
            fresh = RandomStreamsBase.normal(self, size, avg, std, ndim, z.type.dtype, nstreams)
            z = T.switch(T.gt(abs(z - avg), 2 * std), fresh, z)
        return self._keep_attrs(z, first)

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", nstreams=None):
        """Successes in ``n`` trials of probability ``p``."""
        return super().binomial(size, n, p, ndim, dtype, nstreams=nstreams)

    def multinomial(self, size=None, n=1, pvals=None, ndim=None, dtype="int64",
                    nstreams=None):
        """One row of counts per row of ``pvals`` (n draws each), as Theano's MRG."""
        if pvals is None:
            raise TypeError("MRG_RandomStreams.multinomial: give pvals")
        return super().multinomial(size, n, pvals, ndim, dtype, nstreams)

    def choice(self, size=1, a=None, replace=True, p=None, ndim=None, dtype="int64",
               nstreams=None):
        """Per row of ``p`` (a matrix), ``size`` indices into the row drawn with its
        probabilities (Theano's MRG form; with ``a`` given: RandomStreams' choice)."""
        if a is not None or p is None or _tensor(p).type.ndim != 2:
            return super().choice(size, 2 if a is None else a, replace, p, ndim, dtype,
                                  nstreams)
        p = T.cast(_tensor(p), "float64")
        k = T.cast(_tensor(size), "int64")
        if replace:
            u = self._uniform(T.stack([T.shape(p)[0], k]), 2, "float64", nstreams, [],
                              "choice")
            idx = _inverse_cdf(T.shape_padaxis(p, 1), u)
        else:
            u = self._uniform(T.shape(p), 2, "float64", nstreams, [], "choice")
            idx = argsort(-T.log(u) / p, axis=-1)[:, :k]
        return self._keep_attrs(T.cast(idx, dtype), u)

    def multinomial_wo_replacement(self, size=None, n=1, pvals=None, ndim=None,
                                   dtype="int64", nstreams=None):
        """Deprecated in Theano: choice(size=n, replace=False, p=pvals)."""
        return self.choice(n, None, False, pvals, ndim, dtype, nstreams)


__all__ = ["MRG_RandomStreams", "guess_n_streams"]
