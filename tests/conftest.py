import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def floatX32():
    """Run a test with config.floatX = 'float32'."""
    import symrnn
    old = symrnn.config.floatX
    symrnn.config.floatX = "float32"
    yield
    symrnn.config.floatX = old
