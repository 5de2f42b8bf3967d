"""Configuration: unknown or malformed values are refused with an error naming the setting."""
import os
import subprocess
import sys

import pytest

import symrnn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _import_with(flags):
    env = dict(os.environ, SYMRNN_FLAGS=flags,
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", "import symrnn; print(symrnn.config.compiledir)"],
                          env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.mark.parametrize("flags, words", [
    ("rewrites=no_such_rewrite", ["rewrites", "no_such_rewrite", "fusion"]),
    ("floatX=float16", ["floatX", "float16"]),
    ("no_such_setting=1", ["SYMRNN_FLAGS", "no_such_setting"]),
    ("floatX", ["SYMRNN_FLAGS", "name=value"]),
])
def test_bad_flags_stop_the_import_naming_the_setting(flags, words):
    run = _import_with(flags)
    assert run.returncode != 0
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith(("ValueError", "AttributeError", "TypeError")), last
    for w in words:
        assert w in last


def test_good_flags_pass_and_an_empty_compiledir_means_the_default():
    run = _import_with("rewrites=-fusion,merge,compiledir=,mode=numpy")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == os.path.join(os.path.expanduser("~"), ".cache", "symrnn")


def test_bad_values_set_at_run_time_are_refused(monkeypatch):
    c = symrnn.config
    with pytest.raises(ValueError, match="rewrites.*no_such_rewrite"):
        c.rewrites = "-fusion,no_such_rewrite"
    with pytest.raises(TypeError, match="rewrites"):
        c.rewrites = ["fusion"]
    with pytest.raises(ValueError, match="floatX"):
        c.floatX = "float128"
    with pytest.raises(AttributeError, match="no_such"):
        c.no_such = 1
    with pytest.raises(TypeError, match="compiledir"):
        c.compiledir = None
    monkeypatch.setattr(c, "compiledir", "")
    assert c.compiledir == os.path.join(os.path.expanduser("~"), ".cache", "symrnn")
    monkeypatch.setattr(c, "compiledir", "relative/dir")
    assert c.compiledir == os.path.abspath("relative/dir")
    monkeypatch.setattr(c, "rewrites", "-merge,elementwise_scan")
    from symrnn.rewrite import disabled
    assert disabled() == {"merge", "elementwise_scan"}
