"""The compile cache survives damage and sharing: each test runs fresh processes on one folder.

Damaged files of every kind are rebuilt; planted ones (bytecode, numba index and
machine-code pickles, the source itself) are never run; a folder that cannot be
used (read-only, uncreatable, writable by others, another user's) gives one
warning and an in-memory compile; several processes filling one folder at once
all get the right answer.
"""
import glob
import os
import pickle
import stat
import subprocess
import sys
import warnings

import numpy as np
import pytest

import symrnn
from symrnn.compile import cache

pytest.importorskip("symrnn.backends.numba")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# a small graph (fast to compile cold) with a scan, so the fused loop is generated too
SCRIPT = """
import warnings, numpy as np
warnings.simplefilter("always")
import symrnn as theano, symrnn.tensor as T
x = T.vector('x')
s, _ = theano.scan(lambda xt, h: xt + h * 0.5, sequences=x, outputs_info=T.constant(0.0))
f = theano.function([x], s[-1] * 2, mode='NUMBA')
print("RESULT", float(f(np.arange(4.0))))
"""
EXPECTED = 2 * (3 + 0.5 * (2 + 0.5 * (1 + 0.5 * 0)))


def _start(compiledir):
    env = dict(os.environ, SYMRNN_FLAGS=f"compiledir={compiledir},compile=foreground",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-c", SCRIPT], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)


def _finish(proc):
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    value = float([line for line in out.splitlines() if line.startswith("RESULT")][0].split()[1])
    assert value == EXPECTED
    return err


def _run(compiledir):
    """stderr (warnings) of one process compiling SCRIPT's function with ``compiledir``."""
    return _finish(_start(compiledir))


def _entries(folder):
    numba_dir = os.path.join(folder, "numba")
    return (glob.glob(os.path.join(numba_dir, "*.py")),
            glob.glob(os.path.join(numba_dir, "__pycache__", "*.nbi")),
            glob.glob(os.path.join(numba_dir, "__pycache__", "*.nbc")))


class _Plant:
    """Unpickling it writes the marker file: a stand-in for an attacker's payload."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (eval, (f"open({self.marker!r}, 'w').write('pwned')",))


def test_new_folders_are_private_and_entries_sealed(tmp_path):
    folder = tmp_path / "new" / "cache"
    assert "warn" not in _run(folder).lower()
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(folder / "numba").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(folder / ".key").st_mode) == 0o600
    sources, index, data = _entries(folder)
    assert sources and index and data
    for f in index + data:
        with open(f, "rb") as fh:
            assert fh.read().startswith(b"symrnn-sealed-1\n")
    assert not glob.glob(str(folder / "numba" / "__pycache__" / "*.pyc"))  # never used


def test_damaged_files_of_every_kind_are_rebuilt(tmp_path):
    _run(tmp_path)
    sources, index, data = _entries(tmp_path)
    for f in sources:
        with open(f, "w") as fh:
            fh.write("garbage(")
    for f in index + data:  # truncated, and garbled with the header kept
        with open(f, "r+b") as fh:
            blob = fh.read()
            fh.seek(0)
            fh.write(blob[:len(blob) // 2] + b"\0garbage")
            fh.truncate()
    pyc = tmp_path / "numba" / "__pycache__" / (
        os.path.basename(sources[0])[:-3] + f".cpython-{sys.version_info[0]}"
        f"{sys.version_info[1]}.pyc")
    pyc.write_bytes(b"\x00" * 16 + b"bad marshal")
    _run(tmp_path)
    _run(tmp_path)  # and the rebuilt entries load
    for f in _entries(tmp_path)[1]:
        with open(f, "rb") as fh:
            assert cache._MAGIC in fh.read(64)


def test_planted_files_are_never_run(tmp_path):
    import importlib._bootstrap_external as bx
    marker = tmp_path / "marker"
    folder = tmp_path / "cache"
    _run(folder)
    sources, index, data = _entries(folder)
    bomb = pickle.dumps(_Plant(marker))
    evil = f"open({str(marker)!r}, 'w').write('pwned')\n"
    for f in index + data:  # numba's own format, and a forged seal
        with open(f, "wb") as fh:
            fh.write(bomb if f.endswith(".nbi") else cache._MAGIC + b"\0" * 32 + bomb)
    for f in sources:  # bytecode that Python's import would take as fresh for the source
        st = os.stat(f)
        pyc = bx.cache_from_source(f)
        os.makedirs(os.path.dirname(pyc), exist_ok=True)
        with open(pyc, "wb") as fh:
            fh.write(bx._code_to_timestamp_pyc(compile(evil, f, "exec"), int(st.st_mtime),
                                               st.st_size))
    _run(folder)
    assert not marker.exists()
    for f in sources:  # the cached source itself
        with open(f, "w") as fh:
            fh.write(evil)
    _run(folder)
    assert not marker.exists()


def test_sealed_bytes_are_checked(tmp_path, monkeypatch):
    monkeypatch.setattr(symrnn.config, "compiledir", str(tmp_path))
    assert cache.directory("numba") is not None
    blob = cache.seal("a.nbi", b"payload")
    assert cache.unseal("a.nbi", blob) == b"payload"
    assert cache.unseal("b.nbi", blob) is None  # bound to the file's name
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    assert cache.unseal("a.nbi", flipped) is None
    assert cache.unseal("a.nbi", b"payload") is None


def _assert_memory_compile_warned_once(folder, err):
    assert err.count("not using the compile cache directory") == 1, err
    assert str(folder) in err


def test_a_folder_others_can_write_is_refused(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o777)
    marker = tmp_path / "marker"
    (folder / "numba").mkdir()
    (folder / "numba" / "planted.py").write_text(f"open({str(marker)!r}, 'w')\n")
    err = _run(folder)
    _assert_memory_compile_warned_once(folder, err)
    assert "other users can write" in err
    assert not marker.exists()
    assert sorted(os.listdir(folder / "numba")) == ["planted.py"]  # nothing written there


def test_another_users_folder_is_refused(tmp_path):
    if os.getuid() != 0:
        pytest.skip("needs root to give a folder to another user")
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o755)
    os.chown(folder, 65534, 65534)
    err = _run(folder)
    _assert_memory_compile_warned_once(folder, err)
    assert "another user" in err


def test_an_uncreatable_folder_compiles_in_memory(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    folder = tmp_path / "file" / "cache"
    err = _run(folder)
    _assert_memory_compile_warned_once(folder, err)


def test_a_read_only_folder_compiles_in_memory(tmp_path):
    if os.getuid() == 0:
        pytest.skip("root writes to read-only folders; see the in-process test below")
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o700)
    os.chmod(folder, 0o500)
    try:
        err = _run(folder)
    finally:
        os.chmod(folder, 0o700)
    _assert_memory_compile_warned_once(folder, err)


def test_a_read_only_folder_compiles_in_memory_in_process(tmp_path, monkeypatch):
    import symrnn.tensor as T
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o700)
    monkeypatch.setattr(symrnn.config, "compiledir", str(folder))
    monkeypatch.setattr(cache, "MODULES", {})
    monkeypatch.setattr(cache, "_WARNED", set())
    real_access = os.access
    monkeypatch.setattr(cache.os, "access", lambda p, m: False if str(p).startswith(
        str(folder)) else real_access(p, m))
    x = T.vector("x")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f = symrnn.function([x], T.tanh(x) * 3.5, mode="NUMBA")
        g = symrnn.function([x], T.tanh(x) * 4.5, mode="NUMBA")
    msgs = [str(m.message) for m in w if "compile cache" in str(m.message)]
    assert len(msgs) == 1 and "not writable" in msgs[0]
    np.testing.assert_allclose(f(np.ones(2)), np.tanh(np.ones(2)) * 3.5)
    np.testing.assert_allclose(g(np.ones(2)), np.tanh(np.ones(2)) * 4.5)
    assert os.listdir(folder) == []


def test_concurrent_writers_share_one_folder(tmp_path):
    procs = [_start(tmp_path) for _ in range(3)]
    for p in procs:
        _finish(p)
    _run(tmp_path)
    sources, index, data = _entries(tmp_path)
    assert len(sources) >= 1 and index and data


def test_the_guards_verdict_is_read_back_only_when_sealed(tmp_path, monkeypatch):
    """A source the guard passed once is not checked again while its sealed verdict is in
    the cache; a verdict file that is not sealed by this cache (planted, damaged) counts as
    none, so a source the guard refuses is refused whatever the folder holds."""
    nb = pytest.importorskip("symrnn.backends.numba")
    from symrnn.backends.numba import guard
    monkeypatch.setattr(symrnn.config, "compiledir", str(tmp_path))
    monkeypatch.setattr(cache, "_MEMO", {})
    safe = guard.HEADER + ("@njit(cache=True, nogil=True, error_model='numpy')\n"
                           "def fn(x_0):\n    return x_0 + 1\n")
    checks = []
    real = guard.checked_code
    monkeypatch.setattr(guard, "checked_code",
                        lambda *a, **k: (checks.append(1), real(*a, **k))[1])
    assert nb._checked_code(safe, "<a>", True) is not None and len(checks) == 1
    monkeypatch.setattr(cache, "_MEMO", {})  # (a later process: read back from the folder)
    assert nb._checked_code(safe, "<a>", True) is not None and len(checks) == 1
    hostile = safe.replace("x_0 + 1", "__import__('os').getcwd()")
    name = f"memo_{cache.key_of(hostile, nb._salt() + 'guard')}"
    with open(tmp_path / "numba" / name, "wb") as fh:  # a verdict planted for it, unsealed
        fh.write(cache._MAGIC + b"\0" * 32 + b"checked")
    with pytest.raises(guard.UnsafeSource):
        nb._checked_code(hostile, "<b>", True)
    assert cache.remembered(safe, lambda s: "?", "numba", nb._salt() + "guard") == "checked"
