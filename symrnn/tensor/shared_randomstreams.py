"""RandomStreams: Theano's ``theano.tensor.shared_randomstreams`` random streams.

Each draw gets its own state variable, seeded from the streams' seed, so a
function's numbers depend only on the seed and on the order of the draws. The
generator is MRG31k3p (symrnn/ops/random.py) on every backend, not NumPy's
Mersenne Twister as in Theano: the distributions are Theano's, the numbers are
not. A state's ``get_value()`` is a RandomState with ``seed``, ``get_state`` and
``set_state``.
"""
import numpy as np

from symrnn.ops import random as R
from symrnn.tensor.raw_random import (RandomState, RandomStreamsBase, draw_uniform,  # noqa
                                      seed_state)

MAX_STREAMS = 1024  # per draw: enough for NumPy to work on whole rows, small to carry in scan


class RandomStreams(RandomStreamsBase):
    """Symbolic random streams with numpy.random's interface: ``uniform``, ``normal``,
    ``binomial``, ``random_integers``, ``choice``, ``permutation``, ``multinomial``,
    ``shuffle_row_elements``; ``seed(n)`` re-seeds every draw made so far."""

    def __init__(self, seed=None):
        self.state_updates = []  # (state variable, its update) per draw
        self.default_instance_seed = seed
        self.gen_seedgen = np.random.RandomState(seed)

    def updates(self):
        """The (state, new state) updates of every draw made so far."""
        return list(self.state_updates)

    def seed(self, seed=None):
        """Give every draw a new state derived from ``seed`` (None: the constructor's)."""
        if seed is None:
            seed = self.default_instance_seed
        seedgen = np.random.RandomState(seed)
        for old, _new in self.state_updates:
            n = old.get_value(borrow=True).shape[0]
            old.set_value(R.substreams(seed_state(int(seedgen.randint(2 ** 30))), n),
                          borrow=True)

    def __getitem__(self, item):
        """The state (a RandomState) of the draw whose state variable is ``item``."""
        return item.get_value(borrow=True)

    def __setitem__(self, item, val):
        item.set_value(val, borrow=True)

    # the primitive every distribution uses
    def new_state(self, nstreams):
        return R.substreams(seed_state(int(self.gen_seedgen.randint(2 ** 30))), nstreams)

    def register(self, rstate, new_state, size, nstreams):
        self.state_updates.append((rstate, new_state))

    def _uniform(self, size, ndim, dtype, nstreams, params, who):
        return draw_uniform(self, size, ndim, dtype, nstreams, params, who,
                            lambda s: min(R.guess_n_streams(s), MAX_STREAMS))


__all__ = ["RandomStreams", "RandomState"]
