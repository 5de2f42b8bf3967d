import pytest

import symrnn


@pytest.fixture(autouse=True)
def reference_grads():
    """Run check_op's verify_grad on the NumPy backend (see tests/ops/conftest.py)."""
    old = symrnn.config.mode
    symrnn.config.mode = "NUMPY"
    yield
    symrnn.config.mode = old
