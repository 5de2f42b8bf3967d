"""The on-disk compile cache: generated sources as modules under ``config.compiledir``.

A generated source is stored as ``<compiledir>/<tag>/<tag>_<key>.py`` where ``key``
hashes the source (which encodes the graph's structure and types, and the values
of inlined scalar constants only) together with the versions it depends on. The
module is imported from there, so numba's own cache (``njit(cache=True)``) keeps
its machine code next to it in ``__pycache__``: a second process compiling the
same graph loads both instead of compiling.

Several processes may fill the cache at once: files are written to a temporary
name and renamed into place (atomic on POSIX), and no lock is taken. An entry
whose text does not match what its key promises (corrupt or truncated) is
rewritten; ``forget`` removes an entry's machine code when it fails to load.
"""
import glob
import hashlib
import importlib.util
import os
import sys
import tempfile

from symrnn.config import config

MODULES = {}  # key -> imported module (one per process)


def key_of(source, salt=""):
    """The cache key of ``source`` (a hex digest)."""
    return hashlib.sha256((salt + "\0" + source).encode()).hexdigest()[:40]


def _write_atomic(path, text):
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".py")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def entry_path(source, tag="numba", salt=""):
    """Where ``source`` is (or would be) stored."""
    key = key_of(source, salt)
    return os.path.join(config.compiledir, tag, f"{tag}_{key}.py")


def store(source, tag="numba", salt=""):
    """(path, module name) of ``source``'s entry, written there if missing or bad."""
    key = key_of(source, salt)
    path = entry_path(source, tag, salt)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        with open(path, encoding="utf-8") as f:
            ok = f.read() == source
    except (OSError, UnicodeDecodeError):
        ok = False
    if not ok:
        _write_atomic(path, source)
    return path, f"symrnn_{tag}_{key}"


def import_file(path, name):
    """Import the module stored at ``path`` as ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_module(source, tag="numba", salt="", fresh=False):
    """The module made of ``source``, from the disk cache (written there if missing or bad).

    ``fresh`` imports it again under a new name (after ``forget``).
    """
    key = key_of(source, salt)
    if key in MODULES and not fresh:
        return MODULES[key]
    path, name = store(source, tag, salt)
    module = import_file(path, name + (f"_{len(MODULES)}" if fresh else ""))
    MODULES[key] = module
    return module


def forget(source, tag="numba", salt=""):
    """Delete the machine code cached for ``source`` (kept by numba in __pycache__)."""
    path = entry_path(source, tag, salt)
    stem = os.path.splitext(os.path.basename(path))[0]
    cache_dir = os.path.join(os.path.dirname(path), "__pycache__")
    for f in glob.glob(os.path.join(cache_dir, f"{stem}.*")):
        try:
            os.unlink(f)
        except OSError:
            pass
    MODULES.pop(key_of(source, salt), None)


def clear():
    """Remove every cached entry (all tags) from config.compiledir."""
    import shutil
    if os.path.isdir(config.compiledir):
        shutil.rmtree(config.compiledir, ignore_errors=True)
    MODULES.clear()
