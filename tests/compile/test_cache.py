"""The disk cache: a second process loads the compiled function; bad entries are rebuilt."""
import glob
import os
import subprocess
import sys

import numpy as np
import pytest

import symrnn
from symrnn.compile import cache

pytest.importorskip("symrnn.backends.numba")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = """
import time, numpy as np
import symrnn as theano, symrnn.tensor as T
x, w = T.vector('x'), theano.shared(np.float64(0.5), name='w')
s, _ = theano.scan(lambda xt, h, w: xt + h * w, sequences=x, outputs_info=T.constant(0.0),
                   non_sequences=w)
cost = (s[-1] - 3.0) ** 2
theano.function([x], x + 1, mode='NUMBA')  # numba's own start-up (once per process)
import llvmlite.binding as ll
parsed, parse = [], ll.parse_bitcode
ll.parse_bitcode = lambda *a: (parsed.append(1), parse(*a))[1]
t = time.perf_counter()
f = theano.function([x], [cost, theano.grad(cost, w)], mode='NUMBA')
dt = time.perf_counter() - t
import sys
print(dt, float(f(np.ones(4))[1]), 'numba.np.arraymath' in sys.modules, len(parsed))
"""


def _run(compiledir):
    env = dict(os.environ, SYMRNN_FLAGS=f"compiledir={compiledir},compile=foreground",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout.split()
    _run.registries_loaded, _run.bitcode_parsed = out[2] == "True", int(out[3])
    return float(out[0]), float(out[1])


def test_second_process_loads_from_the_disk_cache(tmp_path):
    cold, g1 = _run(tmp_path)
    assert glob.glob(str(tmp_path / "numba" / "__pycache__" / "*.nbc"))
    warm, g2 = _run(tmp_path)
    assert g1 == g2
    assert warm < 0.5 and warm < cold / 3
    # loaded without refreshing numba's target context (numba_load.py): ~0.4 s less
    assert not _run.registries_loaded
    assert _run.bitcode_parsed == 0  # a generated piece is a leaf: no bitcode for callers


def test_corrupt_entries_are_rebuilt(tmp_path):
    _, g0 = _run(tmp_path)
    assert g0 == pytest.approx(2 * (1.875 - 3) * (1 + 2 * 0.5 + 3 * 0.25))
    for f in glob.glob(str(tmp_path / "numba" / "*.py")):
        with open(f, "w") as fh:
            fh.write("garbage(")
    for f in glob.glob(str(tmp_path / "numba" / "__pycache__" / "*.nb*")):
        with open(f, "wb") as fh:
            fh.write(b"\0garbage")
    assert _run(tmp_path)[1] == g0
    assert _run(tmp_path)[1] == g0


def test_key_depends_on_structure_not_on_array_values():
    import symrnn.tensor as T
    from symrnn.backends.numba import generate
    x = T.vector("x")
    f1 = symrnn.function([x], x * np.arange(3.0), mode="NUMBA")
    f2 = symrnn.function([x], x * np.arange(3.0) ** 2, mode="NUMBA")
    f3 = symrnn.function([x], T.exp(x), mode="NUMBA")
    assert f1.source() == f2.source() != f3.source()
    assert generate is not None
    np.testing.assert_allclose(f2(np.ones(3)), [0.0, 1.0, 4.0])


def test_entry_path_is_under_compiledir(tmp_path, monkeypatch):
    monkeypatch.setattr(symrnn.config, "compiledir", str(tmp_path))
    assert cache.entry_path("x = 1\n").startswith(str(tmp_path))
    mod = cache.load_module("x = 1\n", tag="t")
    assert mod.x == 1 and os.path.exists(cache.entry_path("x = 1\n", tag="t"))


def test_remembered_results_are_read_back_only_when_sealed(tmp_path, monkeypatch):
    monkeypatch.setattr(symrnn.config, "compiledir", str(tmp_path))
    calls = []

    def compute(text):
        calls.append(text)
        return text.upper()
    assert cache.remembered("abc", compute, salt="s") == "ABC"
    cache._MEMO.clear()  # as a new process: read from the file, not computed again
    assert cache.remembered("abc", compute, salt="s") == "ABC" and calls == ["abc"]
    (memo,) = glob.glob(str(tmp_path / "numba" / "memo_*"))
    with open(memo, "rb") as f:
        blob = f.read()
    with open(memo, "wb") as f:  # a planted result (same length, seal kept) is not used
        f.write(blob[:-3] + b"XYZ")
    cache._MEMO.clear()
    assert cache.remembered("abc", compute, salt="s") == "ABC" and calls == ["abc", "abc"]
    assert cache.remembered("abc", compute, salt="t") == "ABC" and len(calls) == 3  # salt
