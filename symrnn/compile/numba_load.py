"""Machine code from numba's disk cache, loaded without starting numba's compiler.

numba's own loader (``Dispatcher.compile`` on a cache hit) first refreshes the whole target
context: it imports every lowering registry of numba (and SciPy, where it is installed, to look
for BLAS), about 0.4 s per process that running cached machine code does not need. ``load``
reads the entry and links it the way numba does, without that refresh (only numba's runtime,
NRT, is started); the registries are loaded later only if something is compiled.
"""
from numba.core import caching, compiler_lock, sigutils
from numba.core.ccallback import CFunc
from numba.core.runtime import rtsys


def load(dispatcher, sig):
    """``dispatcher``'s overload for ``sig`` from its disk cache (added to it), or None."""
    if sig in dispatcher.overloads:
        return dispatcher.overloads[sig]
    cache = getattr(dispatcher, "_cache", None)
    if cache is None or isinstance(cache, caching.NullCache) or not hasattr(
            cache, "_load_overload"):  # another numba's internals: its own loader then
        return None
    with compiler_lock.global_compiler_lock:  # (another thread may compile it meanwhile)
        cres = _from_cache(cache, sig, dispatcher.targetctx)
        if cres is None:
            return None
        dispatcher._cache_hits[sig] += 1
        dispatcher.targetctx.insert_user_function(cres.entry_point, cres.fndesc,
                                                  [cres.library])
        dispatcher.add_overload(cres)
        return cres


def _from_cache(cache, sig, ctx):
    """numba's compile result for ``sig`` from ``cache``, or None (a miss, an I/O error)."""
    with compiler_lock.global_compiler_lock:
        rtsys.initialize(ctx)  # NRT: the allocator the machine code calls
        with cache._guard_against_spurious_io_errors():
            return cache._load_overload(sig, ctx)
    return None  # the guard swallowed an I/O error: a miss


def cfunc(pyfunc, sig, before_compile=lambda: None, **options):
    """``numba.cfunc(sig, cache=True, **options)(pyfunc)``, its machine code loaded from the
    disk cache the same way when it is there (compiled and cached otherwise, after
    ``before_compile()``)."""
    fn = CFunc(pyfunc, sigutils.normalize_signature(sig), locals={}, options=options)
    fn.enable_caching()
    cres = None
    if hasattr(fn._cache, "_load_overload"):  # (else another numba's internals)
        cres = _from_cache(fn._cache, fn._sig, fn._targetdescr.target_context)
    if cres is None:
        before_compile()
        fn.compile()
        return fn
    fn._cache_hits += 1
    fn._library = cres.library
    fn._wrapper_name = cres.fndesc.llvm_cfunc_wrapper_name
    fn._wrapper_address = fn._library.get_pointer_to_function(fn._wrapper_name)
    return fn
