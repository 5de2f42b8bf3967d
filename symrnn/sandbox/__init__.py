"""Theano's ``theano.sandbox`` names: ``rng_mrg`` (MRG_RandomStreams)."""
from symrnn.sandbox import rng_mrg  # noqa: F401
