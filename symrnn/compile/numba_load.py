"""Machine code from numba's disk cache, loaded without starting numba's compiler.

numba's own loader (``Dispatcher.compile`` on a cache hit) first refreshes the whole target
context: it imports every lowering registry of numba (and SciPy, where it is installed, to look
for BLAS), about 0.4 s per process that running cached machine code does not need. ``load``
reads the entry and links it the way numba does, without that refresh (only numba's runtime,
NRT, is started); the registries are loaded later only if something is compiled.

A ``leaf`` (a function no numba code calls: a generated piece) is linked without the bitcode
numba keeps beside its machine code to inline it into callers: parsing it and listing its
symbols was ~9 ms a piece, a fifth of a warm function().
"""
from numba.core import caching, compiler, compiler_lock, sigutils
from numba.core.ccallback import CFunc
from numba.core.runtime import rtsys


def load(dispatcher, sig, leaf=False):
    """``dispatcher``'s overload for ``sig`` from its disk cache (added to it), or None;
    ``leaf``: no numba code calls it."""
    if sig in dispatcher.overloads:
        return dispatcher.overloads[sig]
    cache = getattr(dispatcher, "_cache", None)
    if cache is None or isinstance(cache, caching.NullCache) or not hasattr(
            cache, "_load_overload"):  # another numba's internals: its own loader then
        return None
    with compiler_lock.global_compiler_lock:  # (another thread may compile it meanwhile)
        cres = _from_cache(cache, sig, dispatcher.targetctx, leaf)
        if cres is None:
            return None
        dispatcher._cache_hits[sig] += 1
        dispatcher.targetctx.insert_user_function(cres.entry_point, cres.fndesc,
                                                  [cres.library])
        dispatcher.add_overload(cres)
        return cres


def _from_cache(cache, sig, ctx, leaf=False):
    """numba's compile result for ``sig`` from ``cache``, or None (a miss, an I/O error)."""
    with compiler_lock.global_compiler_lock:
        rtsys.initialize(ctx)  # NRT: the allocator the machine code calls
        with cache._guard_against_spurious_io_errors():
            if leaf and hasattr(cache, "_index_key") and hasattr(cache, "_cache_file"):
                payload = cache._cache_file.load(cache._index_key(sig, ctx.codegen()))
                return None if payload is None else _leaf(ctx, payload)
            return cache._load_overload(sig, ctx)
    return None  # the guard swallowed an I/O error: a miss


def _leaf(ctx, payload):
    """``CompileResult._rebuild(ctx, *payload)`` (numba 0.68) for a leaf: its machine code
    linked, the wrapper Python calls found, without parsing the bitcode for callers; numba's
    own rebuild where the payload is not the expected one."""
    libdata, fndesc, env, signature, objectmode, lifted, typeann, reload_init, envs = payload
    name, kind, data = libdata
    codegen = ctx.codegen()
    engine = getattr(codegen, "_engine", None)
    if kind != "object" or reload_init or objectmode or lifted or not isinstance(
            getattr(engine, "_defined_symbols", None), set):
        return compiler.CompileResult._rebuild(ctx, *payload)
    library = codegen.create_library(name)
    library.enable_object_caching()
    library._set_compiled_object(data[0])
    library._finalize_final_module()
    engine._defined_symbols.add(fndesc.llvm_cpython_wrapper_name)
    if not library.get_pointer_to_function(fndesc.llvm_cpython_wrapper_name):
        return None  # (not in the machine code: a miss, compiled anew; never a null call)
    cres = compiler.CompileResult(
        target_context=ctx, typing_context=ctx.typing_context, library=library,
        environment=env, entry_point=ctx.get_executable(library, fndesc, env),
        fndesc=fndesc, type_annotation=typeann, signature=signature, objectmode=objectmode,
        lifted=lifted, typing_error=None, call_helper=None, metadata=None,
        reload_init=reload_init, referenced_envs=envs)
    for e in envs:
        codegen.set_env(e.env_name, e)
    return cres


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
