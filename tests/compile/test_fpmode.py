"""Flush-to-zero during a call (config.flush_subnormals): subnormals flushed when on, kept when
off, the caller's floating-point mode restored (also after an error), backends agreeing.
CuPy's kernels (--ftz=true): tests/backends/test_cupy_runtime.py, test_kernels_flush_subnormals."""
import os
import subprocess
import sys

import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from symrnn.compile import fpcode, fpmode
from helpers import MODES

pytestmark = pytest.mark.skipif(not fpmode.supported(), reason="flush-to-zero is set only on "
                                "x86-64 and aarch64 with numba")
CPU_MODES = [m for m in MODES if m != "CUPY"]
TINY = np.float32(1e-20)  # TINY * TINY = 1e-40: subnormal in float32
SUB = np.float32(1e-40)  # a subnormal input


@pytest.fixture
def flush(request):
    """Set config.flush_subnormals for the test, restore it afterwards."""
    old = symrnn.config.flush_subnormals
    symrnn.config.flush_subnormals = request.param
    yield request.param
    symrnn.config.flush_subnormals = old


def _graph():
    """Inputs and outputs whose results are subnormal unless flushed: a product of two normal
    numbers (FTZ), a subnormal input times three (DAZ), and a scan whose state fades (x86: the
    loop inside compiled code)."""
    x, y, s = T.fvector("x"), T.fvector("y"), T.fvector("s")
    h, _ = symrnn.scan(lambda h: h * np.float32(1e-10), outputs_info=T.ones_like(x),
                       n_steps=4)
    return [x, y, s], [x * y, s * np.float32(3.0), h[-1]]


def _values():
    return [np.full(3, TINY), np.full(3, TINY), np.full(3, SUB)]


@pytest.mark.parametrize("mode", CPU_MODES)
@pytest.mark.parametrize("flush", [True, False], indirect=True)
def test_subnormals_flushed_when_on_kept_when_off(mode, flush):
    inputs, outputs = _graph()
    f = symrnn.function(inputs, outputs, mode=mode)
    assert f.flush_subnormals is flush
    for k, out in enumerate(f(*_values())):
        if flush:
            assert (out == 0).all(), f"{mode} output {k}: {out} not flushed"
        else:
            assert (out != 0).all() and (abs(out) < np.finfo(np.float32).tiny).all(), \
                f"{mode} output {k}: {out} should stay subnormal"


@pytest.mark.parametrize("flush", [True, False], indirect=True)
def test_backends_agree_in_both_settings(flush):
    inputs, outputs = _graph()
    results = {m: symrnn.function(inputs, outputs, mode=m)(*_values()) for m in CPU_MODES}
    for m, res in results.items():
        for got, ref in zip(res, results["NUMPY"]):
            np.testing.assert_array_equal(got, ref, err_msg=m)


@pytest.mark.parametrize("mode", CPU_MODES)
@pytest.mark.parametrize("flush", [True, False], indirect=True)
def test_callers_mode_restored_after_call_and_error(mode, flush):
    a, b = T.fmatrix("a"), T.fmatrix("b")
    f = symrnn.function([a, b], T.dot(a, b) * np.float32(2), mode=mode)
    before = fpmode.current()
    try:
        # the caller runs in a mode of its own (DAZ alone on x86, FZ on aarch64 is the same
        # bit as ours: then the rounding mode toward zero marks the caller's register)
        fpmode.leave(before ^ (0x40 if before < (1 << 16) else 0xC00000))
        callers = fpmode.current()
        f(np.ones((2, 3), "float32"), np.ones((3, 2), "float32"))
        assert fpmode.current() == callers
        with pytest.raises(ValueError):
            f(np.ones((2, 3), "float32"), np.ones((2, 2), "float32"))
        assert fpmode.current() == callers
    finally:
        fpmode.leave(before)
    assert fpmode.current() == before


def test_setting_spelled_in_flags():
    from symrnn.config import Config
    c = Config()
    assert c.flush_subnormals is True
    c.flush_subnormals = "False"
    assert c.flush_subnormals is False
    with pytest.raises(ValueError, match="flush_subnormals"):
        c.flush_subnormals = "maybe"


@pytest.mark.skipif(fpcode.entry_points() is None, reason="x86-64 System V machine code only")
def test_machine_code_sets_reads_and_restores_mxcsr():
    """fpcode's three functions: enter sets the bits and returns the register as it was (what
    numba's functions read too), subnormals are flushed meanwhile, leave puts it back exactly."""
    enter, leave, read = fpcode.entry_points()
    before = read(0)
    saved = enter(0x8040)
    try:
        assert saved == before and read(0) == before | 0x8040
        assert np.float32(1e-20) * np.float32(1e-20) == 0 and np.float32(1e-40) * 3 == 0
        if "numba" in sys.modules:
            from symrnn.compile import fpregs
            assert fpregs.entry_points()[2](0) == read(0)
    finally:
        leave(saved)
    assert read(0) == before
    assert np.float32(1e-20) * np.float32(1e-20) != 0  # IEEE again


@pytest.mark.skipif(fpcode.entry_points() is None, reason="x86-64 System V machine code only")
def test_a_numpy_mode_function_flushes_without_importing_numba():
    """... and a function compiled once numba is imported uses numba's faster calls."""
    code = ("import sys, numpy as np, symrnn, symrnn.tensor as T\n"
            "from symrnn.compile import fpmode\n"
            "x, tiny = T.fvector('x'), np.full(2, 1e-20, np.float32)\n"
            "f = symrnn.function([x], x * x, mode='NUMPY')\n"
            "print(f(tiny).tolist(), 'numba' in sys.modules, fpmode._FNS[2])\n"
            "g = symrnn.function([x], x * x, mode='NUMBA')\n"
            "print(g(tiny).tolist(), f(tiny).tolist(), fpmode._FNS[2])\n")
    env = dict(os.environ, SYMRNN_FLAGS="")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:2] == ["[0.0, 0.0] False True",
                                          "[0.0, 0.0] [0.0, 0.0] False"], run.stdout
