import pytest

import symrnn


@pytest.fixture
def reference_grads():
    """Run check_op's verify_grad on the NumPy backend.

    check_op still compares every forward result on every backend; the gradient's
    meaning is checked once, on the reference, because compiling each finite-difference
    graph with numba costs seconds per op (opt in with ``pytestmark``).
    """
    old = symrnn.config.mode
    symrnn.config.mode = "NUMPY"
    yield
    symrnn.config.mode = old
