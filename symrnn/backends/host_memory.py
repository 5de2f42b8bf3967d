"""How this process's memory is handed out to arrays: kept for reuse, in small pages.

A training step allocates the same large buffers (a sequence's projection, a scan's history)
on every call. Two process-wide settings, made when a CPU backend is first imported
(backends/numpy.py, which the numba backend imports too):

- glibc keeps freed memory for reuse instead of returning it to the system: by default it
  maps each large buffer fresh and unmaps it on free, so every call paid a page fault per
  4 KiB of them (a third of a compiled step's time, measured on W3).
- NumPy stops advising the kernel to back its large arrays (4 MiB and up) with huge pages.
  Where the kernel compacts memory to find a huge page on the first touch (transparent
  huge pages' ``defrag=madvise``, the usual default), that touch is slow: a first W3 call on
  the NumPy backend (the first calls while numba compiles in the background) spent 0.7-0.9 s
  in the kernel for 230 MB, 1.1-1.4 s in all instead of 0.4 s; with the memory kept for
  reuse later calls touch no new page either way, so huge pages gained nothing there. A
  user who sets ``NUMPY_MADVISE_HUGEPAGE`` keeps NumPy's choice.
"""
import ctypes
import ctypes.util
import os

import numpy as np

# glibc's mallopt: M_MMAP_THRESHOLD (heap, reusable, up to 32 MiB), M_MMAP_MAX (larger ones
# too: a T=5000 state is 128 MB), M_TRIM_THRESHOLD (keep up to 2 GiB of freed heap)
MALLOPT = ((-3, 32 << 20), (-4, 0), (-1, (1 << 31) - 1))


def keep_for_reuse():
    """Apply both settings (a system without them is left as it is)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        for option, value in MALLOPT:
            libc.mallopt(option, value)
    except (OSError, AttributeError):  # not glibc: leave the allocator alone
        pass
    multiarray = getattr(np._core if hasattr(np, "_core") else np.core, "multiarray", None)
    advise = getattr(multiarray, "_set_madvise_hugepage", None)
    if advise is not None and "NUMPY_MADVISE_HUGEPAGE" not in os.environ:
        advise(False)
