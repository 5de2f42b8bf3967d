"""Loading beside the running program: numba's import and the disk cache's machine code in a thread.

In the background mode (the default) function() returns before numba is imported: importing
numba takes 0.2-0.3 s and loading a training step's machine code from the disk cache another
0.1 s (2-core AMD EPYC), more than the whole rest of a warm function(). A ``Loading`` thunk
does both in a thread (and, for pieces the cache does not have, starts their background
compile: background.py), so that what the program does between function() and its first call
(reading data, building its other functions) overlaps them. The first call waits for the
thread (up to WAIT_S): a call running on NumPy meanwhile would only share the interpreter
lock with numba's import, slowing both (a warm W1's calls reached full speed 0.4 s later
that way, W3's first call took 0.2 s longer). A later call while the thread still works
runs the pieces not loaded yet on NumPy, exactly as during a background compile. A loader
thread is started only while numba is not (yet fully) imported: later functions load their
code in function() (~10 ms a piece). It is not a daemon: a program ending at once waits for
it (a fraction of a second) rather than leave numba half-used while the interpreter shuts
down.

If the thread fails, the next call settles in the caller's thread (and raises what it
raises); if numba cannot be imported at all (installed but broken), the function stays on
NumPy with one warning, as get_backend does for a missing numba.
"""
import atexit
import os
import sys
import threading
import time
import warnings

from symrnn.backends.numba import background
from symrnn.compile import fpmode

WAIT_S = 1.0  # the first call waits this long at most for the thread (numba's import, ~0.3 s)
EXIT_WAIT_S = 10.0  # at exit, how long a program waits at most for the compilers to get tasks
_started = set()  # the process ids that started a loader thread
importing = set()  # the Loadings whose thread may be importing numba


def numba_ready():
    """Is numba imported, its import finished? (a loader thread may be importing it; what
    needs numba then would wait for that, 0.2-0.3 s)"""
    return "numba" in sys.modules and not importing


class Loading:
    """A thunk running on NumPy until ``settle()`` (run in a thread) returns the thunk to run
    from then on (the compiled one, or a background compile's Switch)."""

    def __init__(self, thunk, settle):
        self.thunk, self.settle, self.source = thunk, settle, thunk.source
        self.result, self.error, self.pid, self.waited = None, None, os.getpid(), False
        self.settled = threading.Event()
        background.watch(self)
        _started.add(self.pid)
        importing.add(self)
        threading.Thread(target=self._load, name="symrnn-numba-loader").start()

    def _load(self):
        try:
            try:
                result = self.settle()
            finally:
                importing.discard(self)
            fpmode.supported()  # (numba's register functions from now on: a call half as long)
            self.result = result
        except BaseException as e:  # noqa: BLE001  (the next call says it, in its thread)
            self.error = e
        finally:
            self.settled.set()

    @property
    def compiling(self):
        """True while some pieces run on NumPy (loading, or a background compile after it)."""
        result = self.result
        return result is None or bool(getattr(result, "compiling", False))

    def wait(self, timeout=None):
        """The thunk the loading settled on (None if not settled within ``timeout`` s)."""
        if not self.settled.wait(timeout):
            return None
        return self.result if self.result is not None else self._settle_here()

    def __call__(self, values):
        result = self.result
        if result is not None:
            return result(values)
        if not self.waited and self.pid == os.getpid():
            self.waited = True
            self.settled.wait(WAIT_S)
            if self.result is not None:
                return self.result(values)
        if self.settled.is_set() or self.pid != os.getpid():  # failed, or a forked child's
            return self._settle_here()(values)  # copy (no thread there): settled here
        return background.on_numpy(self.thunk, values, busy=1)

    def _settle_here(self):
        error, self.error = self.error, None
        if isinstance(error, ImportError):  # numba is installed but does not import
            warnings.warn(f"symrnn: numba backend unavailable ({error}); this function runs "
                          "on the NumPy backend", stacklevel=4)
            self.result = lambda values: background.on_numpy(self.thunk, values)
            self.result.compiling = False
            return self.result
        self.result = self.settle()
        return self.result


@atexit.register
def _hand_over():
    """A program ending right after function() (its loader thread joined first: not a daemon)
    waits until the compiler processes have been handed a task each (at most EXIT_WAIT_S):
    each finishes the one it is on, so the next program finds that machine code cached."""
    if os.getpid() in _started:
        background.hand_over(time.monotonic() + EXIT_WAIT_S)
