"""The floating-point control register read and written from numba (LLVM intrinsics).

x86-64: MXCSR through ``llvm.x86.sse.stmxcsr`` / ``ldmxcsr``; aarch64: FPCR through
``llvm.aarch64.get.fpcr`` / ``set.fpcr``. Imported only on those processors (symrnn.compile.
fpmode decides); the functions are cached on disk like the runtime helpers.
"""
import platform

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from symrnn.compile import numba_load

X86 = platform.machine() in ("x86_64", "AMD64")
_I8P, _I32, _I64 = ir.IntType(8).as_pointer(), ir.IntType(32), ir.IntType(64)


def _call(builder, name, ret, args):
    fn = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ret, [a.type for a in args]), name)
    return builder.call(fn, args)


@intrinsic
def _get(typingctx):
    def codegen(context, builder, sig, args):
        if not X86:
            return _call(builder, "llvm.aarch64.get.fpcr", _I64, [])
        slot = cgutils.alloca_once(builder, _I32)
        _call(builder, "llvm.x86.sse.stmxcsr", ir.VoidType(), [builder.bitcast(slot, _I8P)])
        return builder.zext(builder.load(slot), _I64)
    return types.int64(), codegen


@intrinsic
def _set(typingctx, value):
    def codegen(context, builder, sig, args):
        if not X86:
            _call(builder, "llvm.aarch64.set.fpcr", ir.VoidType(), [args[0]])
        else:
            slot = cgutils.alloca_once(builder, _I32)
            builder.store(builder.trunc(args[0], _I32), slot)
            _call(builder, "llvm.x86.sse.ldmxcsr", ir.VoidType(), [builder.bitcast(slot, _I8P)])
        return context.get_dummy_value()
    return types.void(types.int64), codegen


@njit(cache=True, nogil=True)
def enter(flush_bits):
    """Set ``flush_bits`` in the control register; returns the register as it was."""
    saved = _get()
    _set(saved | flush_bits)
    return saved


@njit(cache=True, nogil=True)
def leave(saved):
    """Write ``saved`` back into the control register."""
    _set(saved)


@njit(cache=True, nogil=True)
def read(dummy):
    """The control register now."""
    return _get()


def entry_points():
    """(enter, leave, read) as compiled entry points: no type dispatch per call."""
    sig = (types.int64,)
    out = []
    for fn in (enter, leave, read):
        if numba_load.load(fn, sig) is None:  # not cached yet: compile (about a second)
            fn.compile(sig)
        out.append(fn.overloads[sig].entry_point)
    return tuple(out)
