"""benchmarks/: every formulation of a workload computes the same training step, and the
NumPy-by-hand peer's backpropagation equals symrnn's gradients (three SGD steps agree)."""
import os
import sys

import numpy as np
import pytest

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks")
sys.path.insert(0, HERE)
import by_hand  # noqa: E402
import workloads as wl  # noqa: E402


@pytest.fixture(autouse=True)
def _keep_floatx():
    """workloads.py sets config.floatX = 'float32' (as a benchmark run wants): put it back, or
    every later test of the suite would build float32 graphs."""
    import symrnn
    old = symrnn.config.floatX
    yield
    symrnn.config.floatX = old


def _small(spec):
    """The workload at sizes the NumPy backend runs in a moment."""
    return dict(spec, T=min(spec["T"], 6), B=min(spec["B"], 5))


@pytest.mark.parametrize("name", list(wl.specs()))
def test_by_hand_and_symrnn_take_the_same_steps(name):
    spec = _small(wl.specs()[name])
    spec["lr"] = spec.get("lr", wl.LR) * (1e8 if name.startswith("W3s") else 1)
    data, params = wl.make_data(spec)
    ours = wl.symrnn_step(spec, data, params, "NUMPY")
    hand = by_hand.numpy_step(spec, data, params, lr=spec["lr"])
    with np.errstate(all="ignore"):
        a = [ours() for _ in range(3)]
        b = [hand() for _ in range(3)]
    assert np.isfinite(a).all() and a[0] != a[2], a  # the steps learn: gradients are used
    np.testing.assert_allclose(b, a, rtol=2e-4)


def test_subnormal_prone_init_keeps_units_active():
    spec = wl.specs(t3=50)["W3s"]
    data, params = wl.make_data(spec)
    assert (data["x"][:, :, 1] > 0).mean() > 0.9  # the second channel is not a sparse marker
    assert params["W0"].std() > 0.05 and (params["u0"] >= 0).all() and (params["u0"] < 1).all()


def test_compile_pieces_reports_each_piece():
    """benchmarks/compile_pieces.py: a workload's pieces compiled, timed and counted (a cell
    runs in its own process: it replaces the backend's compile step there)."""
    pytest.importorskip("numba")
    import json
    import subprocess
    run = subprocess.run([sys.executable, os.path.join(HERE, "compile_pieces.py"),
                          "--cell", "W1"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    pieces = json.loads(run.stdout.strip().splitlines()[-1])
    assert pieces and all(p["cpu"] > 0 and p["code"]["fn"] > 0 and p["code"]["wrapper"] > 0
                          for p in pieces)
