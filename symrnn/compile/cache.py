"""The on-disk compile cache: generated sources as modules under ``config.compiledir``.

A generated source is stored as ``<compiledir>/<tag>/<tag>_<key>.py`` where ``key``
hashes the source (which encodes the graph's structure and types, and the values
of inlined scalar constants only) together with the versions it depends on. The
module is executed from the source text symrnn generated (never from the file, nor
from Python's ``__pycache__`` bytecode); the file is there for numba's own cache
(``njit(cache=True)``), which keeps its machine code next to it in ``__pycache__``:
a second process compiling the same graph loads it instead of compiling.

Safety:

- the directory is private: created with mode 0o700; one owned by another user
  or writable by group or others is refused (one loud warning), and so is one that
  cannot be created or written: symrnn then compiles in memory (nothing persists).
- what the cache loads is sealed: ``seal`` prefixes written bytes with an HMAC
  (key: ``<compiledir>/.key``, mode 0o600) over the file's name and contents, and
  ``unseal`` checks it before anything is unpickled (numba's index and machine-code
  files, see backends/numba/sealed.py), so a damaged or planted file is ignored and
  rebuilt, never run.
- several processes may fill the cache at once: files are written to a temporary
  name and renamed into place (atomic on POSIX); no lock is taken.
"""
import hashlib
import hmac
import os
import stat
import sys
import tempfile
import types
import warnings

from symrnn.config import config

MODULES = {}  # key -> executed module (one per process)
_MEMO = {}  # remembered(): name -> text, in this process
_WARNED = set()
_KEYS = {}  # compiledir -> HMAC key
_MAGIC = b"symrnn-sealed-1\n"
_FRESH = [0]  # how many modules were run again under a new name


def key_of(source, salt=""):
    """The cache key of ``source`` (a hex digest)."""
    return hashlib.sha256((salt + "\0" + source).encode()).hexdigest()[:40]


def _write_atomic(path, data, mode="w"):
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, mode) as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def entry_path(source, tag="numba", salt=""):
    """Where ``source`` is (or would be) stored."""
    key = key_of(source, salt)
    return os.path.join(config.compiledir, tag, f"{tag}_{key}.py")


# ---- a private directory ----

class UnsafeDirectory(OSError):
    """The compile directory cannot be used safely (why in the message)."""


def _private_dir(path):
    """Create ``path`` (mode 0o700) if missing; UnsafeDirectory unless only we can write it."""
    if not os.path.isdir(path):
        parent = os.path.dirname(path.rstrip(os.sep)) or os.sep
        try:
            os.makedirs(parent, exist_ok=True)
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        except OSError as e:
            raise UnsafeDirectory(f"it cannot be created ({e.strerror})") from None
    st = os.stat(path)
    if st.st_uid != os.getuid():
        raise UnsafeDirectory(f"it belongs to another user (uid {st.st_uid})")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnsafeDirectory(f"other users can write to it (mode {oct(st.st_mode & 0o777)}); "
                              f"make it private (chmod 700) or choose another compiledir")
    if not os.access(path, os.W_OK | os.X_OK):
        raise UnsafeDirectory("it is not writable")


def _load_key(root):
    """The HMAC key of ``root`` (made on first use): 32 random bytes only we can read."""
    path = os.path.join(root, ".key")
    if not os.path.exists(path):
        fd, tmp = tempfile.mkstemp(dir=root, prefix=".tmp-key-")  # mode 0o600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(os.urandom(32))
            os.link(tmp, path)  # atomic: the first process's key wins
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise UnsafeDirectory(f"its key file {path} is not a private file of this user")
    with open(path, "rb") as f:
        key = f.read()
    if len(key) != 32:
        raise UnsafeDirectory(f"its key file {path} is damaged; delete it")
    return key


def directory(tag):
    """The private folder of ``tag`` in config.compiledir, or None (warned once) if unusable."""
    root = os.path.abspath(config.compiledir)
    try:
        _private_dir(root)
        _private_dir(os.path.join(root, tag))
        _KEYS[root] = _load_key(root)  # read again: the folder may have been emptied
    except OSError as e:
        why = str(e) if isinstance(e, UnsafeDirectory) else f"{e.strerror or e}"
        if (root, why) not in _WARNED:
            _WARNED.add((root, why))
            warnings.warn(f"symrnn: not using the compile cache directory {root}: {why}. "
                          "Compiling in memory (nothing is kept for the next process); set "
                          "symrnn.config.compiledir or SYMRNN_FLAGS=compiledir=<dir> to a "
                          "private directory.", RuntimeWarning, stacklevel=4)
        return None
    return os.path.join(root, tag)


# ---- sealed bytes ----

def _mac(name, data):
    root = os.path.abspath(config.compiledir)
    key = _KEYS.get(root)
    if key is None:
        return None
    return hmac.new(key, os.path.basename(name).encode() + b"\0" + data, "sha256").digest()


def seal(name, data):
    """``data`` prefixed with its HMAC (bound to the file's base ``name``), ready to write;
    None when the cache directory is not in use (nothing to write)."""
    mac = _mac(name, data)
    return None if mac is None else _MAGIC + mac + data


def unseal(name, blob):
    """The data ``seal(name, data)`` made, or None if ``blob`` is damaged or not sealed by us."""
    n = len(_MAGIC)
    if not blob.startswith(_MAGIC) or len(blob) < n + 32:
        return None
    data = blob[n + 32:]
    mac = _mac(name, data)
    return data if mac is not None and hmac.compare_digest(mac, blob[n:n + 32]) else None


# ---- modules ----

def store(source, tag="numba", salt=""):
    """(path, module name) of ``source``'s entry, written there if missing or bad; path is
    None when the cache directory is not usable (then nothing persists)."""
    key = key_of(source, salt)
    folder = directory(tag)
    if folder is None:
        return None, f"symrnn_{tag}_{key}"
    path = os.path.join(folder, f"{tag}_{key}.py")
    try:
        with open(path, encoding="utf-8") as f:
            ok = f.read() == source
    except (OSError, UnicodeDecodeError):
        ok = False
    try:
        if not ok:
            _write_atomic(path, source)
    except OSError as e:
        warnings.warn(f"symrnn: cannot write the compile cache entry {path} ({e}); "
                      "compiling in memory", RuntimeWarning, stacklevel=3)
        return None, f"symrnn_{tag}_{key}"
    return path, f"symrnn_{tag}_{key}"


def remembered(text, compute, tag="numba", salt=""):
    """``compute(text)`` (a string), kept sealed beside ``tag``'s entries so that a later
    process reads it back instead of computing it again (a damaged or foreign file is
    ignored and rewritten); computed every time when the cache directory is not usable."""
    name = f"memo_{key_of(text, salt)}"
    if name in _MEMO:
        return _MEMO[name]
    folder = directory(tag)
    if folder is None:
        return compute(text)
    path = os.path.join(folder, name)
    try:
        with open(path, "rb") as f:
            data = unseal(name, f.read())
        if data is not None:
            _MEMO[name] = data.decode("utf-8")
            return _MEMO[name]
    except (OSError, UnicodeDecodeError):
        pass
    out = _MEMO[name] = compute(text)
    try:
        _write_atomic(path, seal(name, out.encode("utf-8")), "wb")
    except (OSError, TypeError):  # (TypeError: no key any more, nothing sealed)
        pass
    return out


def read_entry(path, salt=""):
    """The source stored at ``path`` if it is what its name's key promises, else None."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return None
    key = os.path.splitext(os.path.basename(path))[0].rsplit("_", 1)[-1]
    return text if key_of(text, salt) == key else None


def load_module(source, tag="numba", salt="", fresh=False, compile_source=None):
    """The module made of ``source``, written to the disk cache (rewritten if missing or bad).

    ``compile_source(source, filename, on_disk)`` gives the code object to run (the
    default compiles it as it is); ``on_disk`` is False when the cache directory is not
    usable and the module lives in memory only. ``fresh`` runs it again under a new name
    (after ``forget``).
    """
    key = key_of(source, salt)
    if key in MODULES and not fresh:
        return MODULES[key]
    path, name = store(source, tag, salt)
    _FRESH[0] += fresh
    name += f"_{_FRESH[0]}" if fresh else ""
    filename = path or f"<symrnn {tag} {key}>"
    code = (compile_source or (lambda s, f, d: compile(s, f, "exec")))(
        source, filename, path is not None)
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module
    exec(code, module.__dict__)
    MODULES[key] = module
    return module


def forget(source, tag="numba", salt=""):
    """Delete the machine code cached for ``source`` (kept by numba in __pycache__)."""
    import glob
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
    _KEYS.clear()
    _MEMO.clear()
