"""A background-mode function() returns before numba is imported; numba's import and the
machine code's loading run in a thread while the calls run on NumPy (backends/numba/loading.py).

Each case runs in a fresh process: in this one numba is imported already."""
import os
import subprocess
import sys

import pytest

pytest.importorskip("numba")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PROGRAM = """
import sys, threading, time
import numpy as np
import symrnn as theano, symrnn.tensor as T

class Spy:  # which thread imports numba: the last to look for it (find_spec looks too)
    who = []

    def find_spec(self, name, path=None, target=None):
        if name == "numba":
            self.who.append(threading.current_thread().name)
sys.meta_path.insert(0, Spy())

def build(mode):
    w = theano.shared(np.array([0.5, -0.25]), name="w")
    k = theano.shared(np.int64(0), name="k")
    x = T.matrix("x")
    h, _ = theano.scan(lambda xt, hm, w: T.tanh(xt * w + hm), sequences=x,
                       outputs_info=T.zeros((2,)), non_sequences=w)
    loss = (h[-1] ** 2).sum() + 0.01 * k
    return theano.function([x], [loss, h], mode=mode,
                           updates=[(w, w - 0.1 * theano.grad(loss, w)), (k, k + 1)]), (w, k)

f, state = build(None)
print("compiling", f.compiling)
ref, ref_state = build("NUMPY")
xs = np.random.default_rng(0).normal(size=(30, 4, 2))
on_numpy, t = 0, time.time()
for i in range(100000):
    x = xs[i % 30]
    on_numpy += f.compiling
    got, want = f(x), ref(x)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    for s, r in zip(state, ref_state):
        np.testing.assert_allclose(s.get_value(), r.get_value(), rtol=1e-12, atol=1e-14)
    if not f.compiling and i > on_numpy + 3:
        break
    assert time.time() - t < 240, "never settled"
    time.sleep(0.002)
settled = f.thunk.wait(0)
print("settled", on_numpy, type(settled).__name__, state[1].get_value() == i + 1)
from symrnn.compile import fpmode
print("numba registers", "numba" in sys.modules and not fpmode._FNS[2], Spy.who[-1])
"""


def _run(tmp_path, env_extra=None, code=PROGRAM):
    env = dict(os.environ, SYMRNN_FLAGS=f"compiledir={tmp_path},compile=background",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.update(env_extra or {})
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout.split("\n"), run.stderr


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: no compiler processes")
def test_cold_then_warm_function_returns_before_numba_and_keeps_numpys_answers(tmp_path):
    """Cold: the loading settles on a background compile (a Switch), whose end the calls see;
    warm: it settles on the cached machine code. In both, numba is imported by the loader
    thread, not by function(), the calls while it works run on NumPy (the first waits for it
    a while) with NUMPY's answers and shared state, and once numba is imported the calls'
    flush-to-zero uses its register functions."""
    for kind in ("Switch", "function"):
        lines, _ = _run(tmp_path)
        assert lines[0] == "compiling True"
        word, on_numpy, settled, counted = lines[1].split()
        assert (word, settled, counted) == ("settled", kind, "True")
        assert int(on_numpy) > 0 or kind == "function"  # (cold: calls on NumPy meanwhile)
        assert lines[2] == "numba registers True symrnn-numba-loader"


def test_a_numba_that_does_not_import_leaves_the_function_on_numpy(tmp_path):
    """numba installed but broken (here: a stand-in package raising ImportError, as numba does
    for a NumPy it does not support): the function keeps running on NumPy, with one warning."""
    fake = tmp_path / "fake" / "numba"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('Numba needs NumPy 1.0 or less')\n")
    code = PROGRAM.split("settled = ")[0] + "print('done', on_numpy, i)\n"
    lines, err = _run(tmp_path / "cache", {"PYTHONPATH": f"{fake.parent}{os.pathsep}{ROOT}"},
                      code)
    assert lines[0] == "compiling True"
    assert lines[1].startswith("done") and int(lines[1].split()[1]) >= 1
    assert err.count("numba backend unavailable (Numba needs NumPy 1.0 or less)") == 1


EXIT_AT_ONCE = """
import numpy as np, symrnn as theano, symrnn.tensor as T
x = T.vector('x')
s, _ = theano.scan(lambda xt, h: T.tanh(xt + 0.5 * h), sequences=x,
                   outputs_info=T.constant(0.0))
f = theano.function([x], s[-1] * 3.0)
print(f.compiling, float(f(np.ones(3))))
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: no compiler processes")
def test_a_program_ending_while_its_function_loads_still_hands_its_compile_over(tmp_path):
    """A program that ends right after its first call waits at exit for its loading to hand
    the missing pieces to a compiler process, which finishes it: the next program finds it."""
    import glob
    import time
    lines, _ = _run(tmp_path, code=EXIT_AT_ONCE)
    assert lines[0].split()[0] == "True"
    cached, t = str(tmp_path / "numba" / "__pycache__" / "*.nbi"), time.time()
    while not glob.glob(cached):  # (the worker ends after its task, the program before it)
        assert time.time() - t < 240, "nothing reached numba's cache"
        time.sleep(0.1)
