"""The CuPy backend: the same graphs on an NVIDIA GPU (``mode='CUPY'``).

Elementwise chains become one generated ``cupy.ElementwiseKernel`` each,
matrix products go to cuBLAS through CuPy, and a scan whose step is
elementwise in its state (IndRNN, the counting RNN) runs as one
``cupy.RawKernel`` with the time loop inside, forward and backward; other
scans run as a host loop over GPU work. Ops without a GPU translation run
on the host with their NumPy ``perform`` (with a warning, once per op).

CuPy is optional (``pip install symrnn[cuda]``): this package imports without
it, ``available()`` says whether CuPy and a GPU are usable, and compiling a
function in this mode without them raises ``CuPyUnavailableError``.
"""
import numpy as np


class CuPyUnavailableError(RuntimeError):
    """mode='CUPY' was asked for, but CuPy or a CUDA GPU is missing."""


def _probe():
    """None when CuPy and a GPU are usable, else the reason why not."""
    try:
        import cupy
    except ImportError as e:
        return f"CuPy is not installed ({e})"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # the CUDA driver or runtime is missing or broken
        return f"CuPy found no usable CUDA GPU ({type(e).__name__}: {e})"
    return None if count > 0 else "CuPy found no CUDA GPU (0 devices)"


def available():
    """Whether CuPy imports and sees at least one CUDA GPU."""
    return _probe() is None


def require():
    """Raise CuPyUnavailableError saying what is missing, unless CuPy and a GPU are usable."""
    reason = _probe()
    if reason is not None:
        raise CuPyUnavailableError(
            f"mode='CUPY' (or config.device='cuda') needs CuPy and an NVIDIA GPU: {reason}. "
            "Install CuPy with `pip install symrnn[cuda]` (or `pip install cupy-cuda12x` for "
            "CUDA 12), or use mode='NUMBA' / mode='NUMPY'.")


def compile_graph(fgraph):
    """A thunk running ``fgraph`` on the GPU (CuPyUnavailableError without CuPy and a GPU)."""
    require()
    from symrnn.backends.cupy.runtime import compile_graph as compile_on_gpu
    return compile_on_gpu(fgraph)


def is_device_array(value):
    """Whether ``value`` is a GPU array (has ``.get()`` and the CUDA array interface)."""
    return hasattr(value, "__cuda_array_interface__") and hasattr(value, "get") and \
        not isinstance(value, np.ndarray)


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
        import cupy
        value = cupy.asarray(value)
        shared_variable.container["value"] = value
    return value


def filter_input(type, value, allow_downcast, what):
    """An explicit input checked against ``type``; a GPU array stays on the GPU."""
    if not is_device_array(value):
        return type.filter(value, allow_downcast=allow_downcast, what=what)
    from symrnn.backends.cupy.runtime import filter_device
    return filter_device(type, value, allow_downcast, what)
