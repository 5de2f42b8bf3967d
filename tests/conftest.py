import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))


def pytest_configure(config):
    """Tests compare numba's compiled code with NumPy's: they compile in the foreground
    (numba compiles while NumPy runs the calls otherwise) unless SYMRNN_FLAGS says
    compile=background (the suite must pass either way); tests of the background
    compile ask for it themselves."""
    import symrnn
    if "compile=" not in os.environ.get("SYMRNN_FLAGS", ""):
        symrnn.config.compile = "foreground"
    if config.getoption("--cupy-on-cpu"):  # mode='CUPY' the default, on the stand-in
        from tests.backends import cupy_on_cpu
        cupy_on_cpu.install()
        symrnn.config.mode = "CUPY"


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def reference_grads():
    """Run the test (check_op's verify_grad) on the NumPy backend.

    check_op still compares every forward result on every backend; the gradient's
    meaning is checked once, on the reference, because compiling each finite-difference
    graph with numba costs seconds per op (opt in with ``pytestmark``, as tests/ops and
    tests/tensor do).
    """
    import symrnn
    old = symrnn.config.mode
    symrnn.config.mode = "NUMPY"
    yield
    symrnn.config.mode = old


@pytest.fixture
def floatX32():
    """Run a test with config.floatX = 'float32'."""
    import symrnn
    old = symrnn.config.floatX
    symrnn.config.floatX = "float32"
    yield
    symrnn.config.floatX = old


def pytest_addoption(parser):
    parser.addoption("--cupy-on-cpu", action="store_true",
                     help="make mode='CUPY' the default and run it on the CPU stand-in for "
                          "CuPy (tests/backends/cupy_on_cpu.py): every test then also checks "
                          "the cupy backend, and compare_backends adds CUPY to its modes")
