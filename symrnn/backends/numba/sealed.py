"""numba's on-disk cache, sealed: nothing it reads is unpickled before its HMAC is checked.

numba keeps a compiled function's index (``.nbi``) and machine code (``.nbc``) as
pickles and unpickles whatever it finds, so a damaged file breaks every later
process and a planted one runs code. ``seal(dispatcher)`` swaps the dispatcher's
cache-file object for one that writes ``cache.seal(name, bytes)`` and reads only
what ``cache.unseal`` accepts; a file that fails the check counts as absent, so the
function is compiled again and the file rewritten. If numba's internals are not
the expected ones the dispatcher's disk cache is switched off instead (warned once).
"""
import pickle
import warnings

from numba.core import caching

from symrnn.compile import cache

_WARNED = []


class SealedCacheFile(caching.IndexDataCacheFile):
    """numba's index/data files, each sealed with the compile cache's HMAC."""

    def _read(self, path, name):
        try:
            with open(path, "rb") as f:
                blob = f.read()
        except FileNotFoundError:
            return None
        return cache.unseal(name, blob)

    def _load_index(self):
        data = self._read(self._index_path, self._index_name)
        if data is None:
            return {}  # missing, damaged or not ours: rebuilt on the next save
        try:
            version, stamp, overloads = pickle.loads(data)
        except Exception:  # noqa: BLE001  (sealed by us but unreadable: an older format)
            return {}
        if version != self._version or stamp != self._source_stamp:
            return {}
        return overloads

    def _save_index(self, overloads):
        data = self._dump((self._version, self._source_stamp, overloads))
        blob = cache.seal(self._index_name, data)
        if blob is not None:  # None: the cache directory went away; keep it in memory
            with self._open_for_write(self._index_path) as f:
                f.write(blob)

    def _load_data(self, name):
        data = self._read(self._data_path(name), name)
        if data is None:
            raise OSError(f"{name}: missing or not sealed")  # load() then compiles anew
        return pickle.loads(data)

    def _save_data(self, name, data):
        blob = cache.seal(name, self._dump(data))
        if blob is not None:
            with self._open_for_write(self._data_path(name)) as f:
                f.write(blob)


def seal(dispatcher):
    """Make ``dispatcher``'s disk cache (if it has one) read and write sealed files only."""
    c = getattr(dispatcher, "_cache", None)
    if c is None or isinstance(c, caching.NullCache):
        return dispatcher
    cf = getattr(c, "_cache_file", None)
    if type(cf) is caching.IndexDataCacheFile and all(
            hasattr(cf, a) for a in ("_index_path", "_index_name", "_source_stamp", "_version")):
        cf.__class__ = SealedCacheFile
    elif type(cf) is not SealedCacheFile:
        dispatcher._cache = caching.NullCache()
        if not _WARNED:
            _WARNED.append(True)
            warnings.warn("symrnn: this numba's cache files cannot be sealed; compiled code "
                          "is not cached on disk", RuntimeWarning)
    return dispatcher
