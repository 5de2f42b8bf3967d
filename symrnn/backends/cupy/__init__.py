"""The CuPy backend: the same graphs on an NVIDIA GPU (``mode='CUPY'``).

Elementwise chains become one generated ``cupy.ElementwiseKernel`` each,
matrix products go to cuBLAS through CuPy, and a scan whose step is
elementwise in its state (IndRNN, the counting RNN) runs as one
``cupy.RawKernel`` with the time loop inside, forward and backward; other
scans run as a host loop over GPU work. Ops without a GPU translation run
on the host with their NumPy ``perform`` (with a warning, once per op).

CuPy is optional (``pip install symrnn[cuda]``, see the README for which CuPy to
pick): this package imports without it, ``available()`` says whether CuPy, a GPU
and a working kernel compiler are there, and compiling a function in this mode
without them raises ``CuPyUnavailableError``.

The GPU half (``runtime.py`` and the translations each family module registers into
it: ``translations.py``, ``rng.py``, ``scan_runtime.py``) is imported by ``_gpu()``
on first use; ``fusion.py`` and the CUDA C writers (``scalar_c.py``,
``elemwise_kernel.py``, ``scan_kernel.py``) need no CuPy.
"""
from importlib import metadata

from symrnn.types import is_device_array


class CuPyUnavailableError(RuntimeError):
    """mode='CUPY' was asked for, but CuPy, a CUDA GPU or CuPy's kernel compiler is missing."""


INSTALL_HINT = (
    "Install one CuPy that fits the machine's CUDA (`nvidia-smi` shows it): "
    "`pip install symrnn[cuda12]` (cupy-cuda12x, for CUDA 12 and newer drivers) or "
    "`pip install symrnn[cuda13]` (cupy-cuda13x, CUDA 13 drivers); `pip install symrnn[cuda]` "
    "is the CUDA 12 choice. Where a CuPy is already installed, install no second one: it "
    "needs only NVRTC and the CUDA headers (a CUDA toolkit, or its `[ctk]` extra, "
    "e.g. `pip install cupy-cuda12x[ctk]`)")
_PROBED = {}  # id(cupy module) -> (module, None or the reason it cannot run kernels)


def _probe():
    """None when CuPy, a GPU and CuPy's kernel compiler work, else the reason why not."""
    try:
        import cupy  # optional: here is where its absence is found
    except ImportError as e:
        return f"CuPy is not installed ({e})"
    if id(cupy) not in _PROBED:
        twins = cupy_distributions()
        why = (f"{len(twins)} CuPy packages are installed ({', '.join(twins)}): they share "
               "the module `cupy` and break each other; uninstall all but the one that fits "
               "the machine's CUDA" if len(twins) > 1 else _probe_device(cupy))
        _PROBED[id(cupy)] = (cupy, why)
    return _PROBED[id(cupy)][1]


def cupy_distributions():
    """The installed CuPy packages ('cupy-cuda12x 14.2.0', ...): more than one is broken."""
    found = set()
    for dist in metadata.distributions():
        name = (dist.metadata.get("Name") or "").lower().replace("_", "-")
        if name == "cupy" or name.startswith(("cupy-cuda", "cupy-rocm")):
            found.add(f"{name} {dist.version}")
    return sorted(found)


def _probe_device(cupy):
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # the CUDA driver or runtime is missing or broken
        return f"CuPy found no usable CUDA GPU ({type(e).__name__}: {e})"
    if count < 1:
        return "CuPy found no CUDA GPU (0 devices)"
    try:  # a driver alone is not enough: CuPy compiles every kernel with NVRTC
        kernel = cupy.ElementwiseKernel("float32 x", "float32 y", "y = x * 2 + 1",
                                        "symrnn_probe")
        got = kernel(cupy.arange(4, dtype=cupy.float32)).get().tolist()
    except Exception as e:
        return (f"CuPy sees {count} GPU(s) but cannot compile and run a kernel "
                f"({type(e).__name__}: {str(e)[:300]})")
    if got != [1.0, 3.0, 5.0, 7.0]:
        return f"a test kernel on the GPU computed {got}, not [1, 3, 5, 7]"
    return None


def available():
    """Whether CuPy imports, sees a CUDA GPU, and compiles and runs a tiny kernel there."""
    return _probe() is None


def require():
    """Raise CuPyUnavailableError saying what is missing, unless CuPy and a GPU are usable."""
    reason = _probe()
    if reason is not None:
        raise CuPyUnavailableError(
            f"mode='CUPY' (or config.device='cuda') needs CuPy and an NVIDIA GPU: {reason}. "
            f"{INSTALL_HINT}. Or use mode='NUMBA' / mode='NUMPY'.")


def _gpu():
    """The GPU half of this backend: its runtime, whose ``translate`` each family module
    below registers into (the one place they are imported).

    Imported on first use, not with this package: it imports CuPy, which is optional and
    slow to import (``import symrnn`` must not wait for it)."""
    from symrnn.backends.cupy import runtime
    from symrnn.backends.cupy import rng, scan_runtime, translations  # noqa: F401
    return runtime


def compile_graph(fgraph):
    """A thunk running ``fgraph`` on the GPU (CuPyUnavailableError without CuPy and a GPU)."""
    require()
    return _gpu().compile_graph(fgraph)


def to_host(value):
    """``value`` as a NumPy array (a copy to the host for a GPU array)."""
    return value.get() if is_device_array(value) else value


def fresh(value, given_ids):
    """``value``, copied when it is an array the call was given or a view (no aliasing)."""
    if id(value) in given_ids or getattr(value, "base", None) is not None:
        return value.copy()
    return value


def prepare_shared(shared_variable):
    """The value of a shared variable, moved to the GPU once (it lives there from then on)."""
    value = shared_variable.container["value"]
    if not is_device_array(value):
        import cupy  # optional: imported only on the GPU path (see _gpu)
        value = cupy.asarray(value)
        shared_variable.container["value"] = value
    return value


def filter_input(type, value, allow_downcast, what):
    """An explicit input checked against ``type``; a GPU array stays on the GPU."""
    if not is_device_array(value):
        return type.filter(value, allow_downcast=allow_downcast, what=what)
    return _gpu().filter_device(type, value, allow_downcast, what)
