"""A compiler process's warm-up: what numba does once per process, before any task.

The first compile in a process initialises numba's typing and target contexts and its
runtime. A worker (background.py) that function() started early may be idle before its
first task: it compiles a tiny function then, in memory (the point is this process's own
state), and skips it when a task is already waiting.

Measured on W4's training step (a fresh process, process time, 6 runs each, a shared
2-core machine): the warm-up costs 0.35-0.5 s and the step's sources then compile in
3.5 s instead of 3.7 s (min), 3.9 s instead of 4.6 s (median), so it pays only in time
the worker would have waited. Compiling more first does not pay since the sources call
the runtime's cached helpers (rt.empty, rt.zeros, rt.full, rt.reshaped, rt.sgemm...): a
piece calling those with a float32 step's signatures cost 1.0 s more and saved 0.03 s;
one calling np.empty/np.zeros/np.full/np.ascontiguousarray directly (what the sources
did before) cost 2.5-3 s and now saves nothing.
"""
from numba import njit, types


def _first(x):
    return x + 1.0


PIECES = [(_first, (types.float64,))]


def warm_up(waiting=lambda: False):
    """Compile the pieces in memory, stopping before the next one once ``waiting()``."""
    for fn, sig in PIECES:
        if waiting():
            return
        njit(nogil=True, error_model="numpy")(fn).compile(sig)
