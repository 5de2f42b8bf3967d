"""A compiler process's warm-up: what numba does once per process, before any task.

The first compile in a process initialises numba's typing and target contexts and its
runtime (``prepare``). A worker (background.py) that function() started early may be idle
before its first task: it compiles a tiny function then, in memory (the point is this
process's own state), and skips it when a task is already waiting.

Measured on W4's training step (a fresh process, process time, 6 runs each, a shared
2-core machine): the warm-up costs 0.35-0.5 s and the step's sources then compile in
3.5 s instead of 3.7 s (min), 3.9 s instead of 4.6 s (median), so it pays only in time
the worker would have waited. Compiling more first does not pay since the sources call
the runtime's cached helpers (rt.empty, rt.zeros, rt.full, rt.reshaped, rt.sgemm...): a
piece calling those with a float32 step's signatures cost 1.0 s more and saved 0.03 s;
one calling np.empty/np.zeros/np.full/np.ascontiguousarray directly (what the sources
did before) cost 2.5-3 s and now saves nothing.
"""
import importlib.util
import sys
import threading

from numba import njit, types
from numba.core.compiler_lock import global_compiler_lock
from numba.core.registry import cpu_target


def _first(x):
    return x + 1.0


PIECES = [(_first, (types.float64,))]
_prepared = []


class _WithoutScipyLinalg:
    """An import finder failing ``scipy.linalg`` for one thread (the others import it as
    usual)."""

    def __init__(self):
        self.thread = threading.get_ident()

    def find_spec(self, name, path=None, target=None):
        if threading.get_ident() == self.thread and name.split(".")[:2] == ["scipy", "linalg"]:
            raise ImportError(f"{name}: not imported while symrnn sets numba's compiler up")
        return None


def prepare():
    """numba's once-per-process set-up of its compiler (the typing and target contexts'
    registries), without importing SciPy's linalg: numba imports it, where SciPy is
    installed, only to learn whether np.dot may call BLAS in code typed later, and that
    import was 0.25-0.3 s of the 0.45 s set-up (numba 0.68, SciPy 1.17, 2-core AMD EPYC),
    paid by every process that compiles, before its first compile. The generated sources
    never call numba's BLAS (their products call symrnn's, runtime.py); numba's np.dot,
    in anyone's code, imports SciPy's linalg itself when it is typed; and the answer numba
    keeps is set afterwards as the import would have given it."""
    if _prepared:
        return
    with global_compiler_lock:  # (no compile in another thread meanwhile)
        if _prepared:
            return
        _prepared.append(True)
        if "scipy.linalg" in sys.modules or importlib.util.find_spec("scipy") is None:
            return  # (nothing to save)
        finder = _WithoutScipyLinalg()
        sys.meta_path.insert(0, finder)
        try:
            cpu_target.typing_context.refresh()
            cpu_target.target_context.refresh()
        finally:
            sys.meta_path.remove(finder)
        arraymath = sys.modules.get("numba.np.arraymath")  # (the refresh imported it)
        if arraymath is not None:
            arraymath._HAVE_BLAS = importlib.util.find_spec("scipy.linalg") is not None


def warm_up(waiting=lambda: False):
    """Set the compiler up, then compile the pieces in memory, stopping before the next one
    once ``waiting()``."""
    prepare()
    for fn, sig in PIECES:
        if waiting():
            return
        njit(nogil=True, error_model="numpy")(fn).compile(sig)
