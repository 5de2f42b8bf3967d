"""MXCSR read and written by three constant machine-code functions (x86-64, System V calling
convention: Linux, macOS) called through ctypes, without numba.

symrnn.compile.fpmode uses them where numba is not imported (mode NUMPY): importing numba and
loading its two compiled functions (symrnn.compile.fpregs) took 0.2-0.3 s of such a
function() for four instructions. The bytes below are the whole of it, written here, never
read from anywhere; they run from a page that is made executable and never writable again.
Where the processor, the calling convention or the system (no executable page) does not
allow it, ``entry_points()`` is None and fpmode uses numba.
"""
import ctypes
import mmap
import platform
import sys

# each function stores MXCSR in the red zone below the stack pointer and reads it back; each
# starts with endbr64 (a no-op where indirect-branch tracking is off)
_CODE = [
    # enter(bits): stmxcsr [rsp-4]; mov eax, [rsp-4]; mov ecx, eax; or ecx, edi;
    #              mov [rsp-4], ecx; ldmxcsr [rsp-4]; ret   (returns MXCSR as it was)
    "f30f1efa 0fae5c24fc 8b4424fc 89c1 09f9 894c24fc 0fae5424fc c3",
    # leave(saved): mov [rsp-4], edi; ldmxcsr [rsp-4]; ret
    "f30f1efa 897c24fc 0fae5424fc c3",
    # read(dummy): stmxcsr [rsp-4]; mov eax, [rsp-4]; ret
    "f30f1efa 0fae5c24fc 8b4424fc c3",
]
_SLOT = 32  # bytes per function (the rest int3)
_PAGE = []  # the executable page, kept for the life of the process


def entry_points():
    """(enter, leave, read) as ctypes functions taking and returning the register as an int,
    or None where they cannot run here."""
    if platform.machine() not in ("x86_64", "AMD64") or sys.platform == "win32":
        return None  # (Windows x64 passes the first argument in ecx and has no red zone)
    if not _PAGE:
        try:
            code = b"".join(bytes.fromhex(c.replace(" ", "")).ljust(_SLOT, b"\xcc")
                            for c in _CODE)
            page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
            page.write(code)
            addr = ctypes.addressof(ctypes.c_char.from_buffer(page))
            protect = ctypes.CDLL(None).mprotect
            protect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
            if protect(addr, mmap.PAGESIZE, mmap.PROT_READ | mmap.PROT_EXEC) != 0:
                return None  # (a system that refuses executable pages made at run time)
        except (OSError, AttributeError, ValueError):
            return None
        _PAGE.append((page, addr))
    addr = _PAGE[0][1]
    kind = ctypes.PYFUNCTYPE(ctypes.c_uint32, ctypes.c_uint32)  # (keeps the GIL: ~0.3 us)
    return tuple(kind(addr + k * _SLOT) for k in range(len(_CODE)))
