"""User text never runs: hostile names, labels and dtype strings on every backend.

A name with a newline used to leave a comment in the generated numba source and
run as code (and be stored in the disk cache for every later process). Names
reach no generated code now, and numba's sources are checked (guard.py) before
they run: these tests prove a payload in every user-given text runs nowhere and
that harmless odd names compile.
"""
import glob
import os
import shutil
import warnings

import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from helpers import MODES

HAS_GPP = shutil.which("g++") is not None


def payload(marker):
    """A name that, pasted into Python or C source, writes ``marker``."""
    return (f"x\nimport os; open({str(marker)!r}, 'w').write('pwned')\ndef _g():\n    #"
            f"*/ system(\"touch {marker}\"); /*")


def _graph(name, with_print):
    x = T.matrix(name)
    w = symrnn.shared(np.full(3, 0.5), name=name)
    h0 = T.vector(name + "0")
    # an elementwise scan (numba's fused loop) and one with a matrix product
    s, _ = symrnn.scan(lambda x_t, h: T.tanh(x_t * w + h * 0.5), sequences=x,
                       outputs_info=h0, name=name)
    m, _ = symrnn.scan(lambda x_t, h: T.dot(T.outer(x_t, h), w) + h, sequences=x,
                       outputs_info=h0, name=name + "\n2")
    y = symrnn.printing.Print(name)(s[-1]) if with_print else s[-1]
    out = (y + m[-1]).sum()
    out.name = name
    return [x, h0], [out], w


def _compile_and_run(name, mode, with_print=False):
    inputs, outputs, w = _graph(name, with_print)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Print has no compiled translation
        f = symrnn.function(inputs, outputs, mode=mode, name=name,
                            updates=[(w, w * 0.5 + outputs[0])])
    vals = [np.linspace(-1, 1, 12).reshape(4, 3), np.full(3, 0.1)]
    return f, [np.asarray(r) for r in f(*vals)] + [w.get_value()]


def _modes_with_stand_in():
    modes = [m for m in MODES if m != "CUPY"]
    return modes + (["CUPY-on-CPU"] if HAS_GPP else [])


@pytest.fixture
def mode(request):
    if request.param != "CUPY-on-CPU":
        yield request.param
        return
    from tests.backends.cupy_on_cpu import on_cpu
    with on_cpu():
        yield "CUPY"


@pytest.mark.parametrize("mode", _modes_with_stand_in(), indirect=True)
def test_hostile_names_run_nothing_and_compile(mode, tmp_path, capsys):
    marker = tmp_path / "marker"
    name = payload(marker)
    _, ref = _compile_and_run("plain", "NUMPY")
    f, got = _compile_and_run(name, mode, with_print=True)
    assert "pwned" in capsys.readouterr().out  # the Print's message, printed as text
    assert not marker.exists()
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    assert "\nimport os" not in f.source()  # at most as escaped data (a Print's message)


@pytest.mark.parametrize("mode", _modes_with_stand_in(), indirect=True)
def test_odd_harmless_names_compile(mode, capsys):
    _, ref = _compile_and_run("plain", "NUMPY")
    for name in ("layer\n1", "a'b\"c\\", "# x", "λ\t{0}", ""):
        _, got = _compile_and_run(name, mode)
        for a, b in zip(got, ref):
            np.testing.assert_allclose(a, b, rtol=1e-10)
    capsys.readouterr()


def test_hostile_dtype_strings_are_refused_before_any_code(tmp_path):
    marker = tmp_path / "marker"
    bad = f"float64\nopen({str(marker)!r}, 'w')"
    with pytest.raises(TypeError):
        T.vector("v", dtype=bad)
    with pytest.raises(TypeError):
        T.cast(T.vector("v"), bad)
    with pytest.raises(TypeError):
        symrnn.shared(np.zeros(2), name="w").type.clone(dtype=bad)
    assert not marker.exists()


def test_nothing_of_a_name_reaches_the_disk_cache(tmp_path, monkeypatch):
    pytest.importorskip("symrnn.backends.numba")
    from symrnn.compile import cache
    monkeypatch.setattr(symrnn.config, "compiledir", str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "MODULES", {})  # write the entries again, to this folder
    marker = tmp_path / "marker"
    _compile_and_run(payload(marker), "NUMBA")
    texts = [open(p, encoding="utf-8").read()
             for p in glob.glob(str(tmp_path / "cache" / "numba" / "*.py"))]
    assert texts and not any("\nimport os" in t for t in texts)
    assert not marker.exists()


@pytest.mark.parametrize("body", [
    "open({m!r}, 'w')\n",  # a top-level statement
    "@njit(cache=True)\ndef fn(a=open({m!r}, 'w')):\n    return a\n",  # a default value
    "@njit(cache=open({m!r}, 'w') is None)\ndef fn(a):\n    return a\n",  # a decorator option
    "def fn(a: open({m!r}, 'w')):\n    return a\n",  # no njit, an annotation
    "@njit(cache=True)\ndef fn(a):\n    import os\n    return a\n",
    "@njit(cache=True)\ndef fn(a):\n    return __import__('os')\n",
    "@njit(cache=True)\ndef fn(a):\n    return a.__class__\n",
])
def test_the_numba_source_guard_refuses_code_symrnn_never_writes(tmp_path, body):
    guard = pytest.importorskip("symrnn.backends.numba.guard")
    marker = tmp_path / "marker"
    with pytest.raises(guard.UnsafeSource):
        guard.checked_code(guard.HEADER + body.format(m=str(marker)), "<test>")
    assert not marker.exists()
    assert not os.path.exists(marker)
