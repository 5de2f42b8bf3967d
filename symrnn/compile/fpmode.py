"""Flush-to-zero for the duration of a call: the floating-point mode compiled functions run in.

A gradient that fades through a long recurrence passes through the subnormal range (below
1.2e-38 in float32), where each x86 arithmetic operation takes a slow microcode path (10-100x).
XLA sets flush-to-zero around its computations; symrnn does the same per call, on by default
(``config.flush_subnormals``, read when a function is compiled; ``fn.flush_subnormals`` per
function): ``enter()`` saves the thread's control register and sets

- x86-64: MXCSR FTZ (bit 15: subnormal results become 0) and DAZ (bit 6: subnormal inputs
  read as 0);
- aarch64: FPCR.FZ (bit 24: both, for single and double precision);

and ``leave(saved)`` puts the saved register back exactly (status flags included), also when
the call raised. The registers are read and written by two tiny numba functions built from LLVM
intrinsics (no C build step, about 0.15 us each per call), or, where numba is not imported
(mode NUMPY) on x86-64, by a few constant bytes of machine code (fpcode.py, 0.3 us); on other
processors, or on aarch64 without numba, the mode is left alone (``supported()`` says which).
The mode is per thread: threads that OpenBLAS starts for a large matrix product keep their own
(IEEE) mode.
"""
import platform
import sys

from symrnn.compile import fpcode

_BITS = {"x86_64": 0x8040, "AMD64": 0x8040, "aarch64": 1 << 24, "arm64": 1 << 24}
_FNS = None


def _build():
    """(flush bits, (enter, leave, read), whether they are fpcode's), or (None, None, False)
    where unsupported."""
    bits = _BITS.get(platform.machine())
    if bits is None:
        return None, None, False
    code = fpcode.entry_points() if not numba_loaded() else None
    if code is None:  # (machine code first where numba is not imported: its 0.2 s import)
        try:
            from symrnn.compile import fpregs
            return bits, fpregs.entry_points(), False
        except ImportError:  # no numba
            code = fpcode.entry_points()
    return (bits if code else None), code, code is not None


def numba_loaded():
    """Whether numba is imported, its import finished (backends/numba/loading.py says, where
    a loader thread may be importing it)."""
    loading = sys.modules.get("symrnn.backends.numba.loading")
    return loading.numba_ready() if loading is not None else "numba" in sys.modules


def _fns():
    global _FNS
    if _FNS is None or (_FNS[2] and numba_loaded()):
        _FNS = _build()  # (numba's functions, a call half as long, once numba is imported)
    return _FNS


def supported():
    """True where symrnn can set flush-to-zero (x86-64; aarch64 with numba)."""
    return _fns()[0] is not None


def enter():
    """Set flush-to-zero (and denormals-are-zero) in this thread; returns the saved mode."""
    bits, fns = _fns()[:2]
    if bits is None:
        return None
    return fns[0](bits)


def leave(saved):
    """Put back the mode ``enter`` saved (None: nothing was changed)."""
    if saved is not None:
        _fns()[1][1](saved)


def current():
    """This thread's floating-point control register (MXCSR / FPCR), or None if unsupported."""
    bits, fns = _fns()[:2]
    return None if bits is None else fns[2](0)


def scoped(thunk):
    """``thunk`` run with flush-to-zero, the caller's mode restored afterwards (also on error)."""
    bits = _fns()[0]
    if bits is None:
        return thunk

    def flushed(values):
        fns = _FNS[1]  # (read per call: fpcode's until numba is imported, numba's then)
        saved = fns[0](bits)
        try:
            return thunk(values)
        finally:
            fns[1](saved)
    flushed.source = getattr(thunk, "source", None)
    flushed.inner = thunk
    return flushed
