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
intrinsics (no C build step, about 0.3 us each per call); on other processors, or without
numba, the mode is left alone (``supported()`` says which). The mode is per thread: threads
that OpenBLAS starts for a large matrix product keep their own (IEEE) mode.
"""
import platform

_BITS = {"x86_64": 0x8040, "AMD64": 0x8040, "aarch64": 1 << 24, "arm64": 1 << 24}
_FNS = None


def _build():
    """(flush bits, (enter, leave, read) entry points), or (None, None) where unsupported."""
    bits = _BITS.get(platform.machine())
    if bits is None:
        return None, None
    try:
        from symrnn.compile import fpregs
    except ImportError:  # no numba
        return None, None
    return bits, fpregs.entry_points()


def _fns():
    global _FNS
    if _FNS is None:
        _FNS = _build()
    return _FNS


def supported():
    """True where symrnn can set flush-to-zero (x86-64 or aarch64, with numba)."""
    return _fns()[0] is not None


def enter():
    """Set flush-to-zero (and denormals-are-zero) in this thread; returns the saved mode."""
    bits, fns = _fns()
    if bits is None:
        return None
    return fns[0](bits)


def leave(saved):
    """Put back the mode ``enter`` saved (None: nothing was changed)."""
    if saved is not None:
        _fns()[1][1](saved)


def current():
    """This thread's floating-point control register (MXCSR / FPCR), or None if unsupported."""
    bits, fns = _fns()
    return None if bits is None else fns[2](0)


def scoped(thunk):
    """``thunk`` run with flush-to-zero, the caller's mode restored afterwards (also on error)."""
    bits, fns = _fns()
    if bits is None:
        return thunk
    set_mode, restore = fns[0], fns[1]

    def flushed(values):
        saved = set_mode(bits)
        try:
            return thunk(values)
        finally:
            restore(saved)
    flushed.source = getattr(thunk, "source", None)
    flushed.inner = thunk
    return flushed
