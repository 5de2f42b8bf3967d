"""MRGUniform on the GPU: one CUDA thread per stream, the generator of symrnn/ops/random.py.

Thread s advances stream s and writes elements s, s + n_streams, ... of the draw, which
is the element order of the NumPy reference, so a seed gives the same numbers as on the
CPU backends (Theano's GPU_mrg_uniform splits the work the same way).
"""
import cupy as cp
import numpy as np

from symrnn.backends.cupy.runtime import to_device, to_host, translate
from symrnn.ops import random as R

BLOCK = 128

# MRG31k3p in 64-bit integers wrapped to int32 as mrg_next does, step for step
_STEP = r"""
#define W32(v) ((((v) + 2147483648LL) & 4294967295LL) - 2147483648LL)
#define FIX(v, m) W32((v) - (m) * (((v) < 0) | ((v) >= (m))))
extern "C" __global__ void NAME(int* state, OUT* out, long long n, long long ns) {
    long long s = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (s >= ns) return;
    const long long M1 = 2147483647LL, M2 = 2147462579LL;
    long long x11 = state[6 * s], x12 = state[6 * s + 1], x13 = state[6 * s + 2];
    long long x21 = state[6 * s + 3], x22 = state[6 * s + 4], x23 = state[6 * s + 5];
    for (long long i = s; i < n; i += ns) {
        long long y1 = W32(((x12 & 511) << 22) + (x12 >> 9) + ((x13 & 16777215) << 7)
                           + (x13 >> 24));
        y1 = FIX(y1, M1);
        y1 = W32(y1 + x13);
        y1 = FIX(y1, M1);
        long long z1 = W32(((x21 & 65535) << 15) + 21069 * (x21 >> 16));
        z1 = FIX(z1, M2);
        long long z2 = W32(((x23 & 65535) << 15) + 21069 * (x23 >> 16));
        z2 = FIX(z2, M2);
        z2 = W32(z2 + x23);
        z2 = FIX(z2, M2);
        z2 = W32(z2 + z1);
        z2 = FIX(z2, M2);
        x13 = x12; x12 = x11; x11 = y1;
        x23 = x22; x22 = x21; x21 = z2;
        long long v = y1 - z2 + M1 * (y1 <= z2);
        out[i] = (OUT)v * NORM;
    }
    state[6 * s] = (int)x11; state[6 * s + 1] = (int)x12; state[6 * s + 2] = (int)x13;
    state[6 * s + 3] = (int)x21; state[6 * s + 4] = (int)x22; state[6 * s + 5] = (int)x23;
}
"""
_KERNELS = {}


def _kernel(dtype):
    if dtype not in _KERNELS:
        out, norm = (("float", "4.6566126e-10f") if dtype == "float32"
                     else ("double", "4.656612873077392578125e-10"))
        name = f"symrnn_mrg_uniform_{dtype}"
        code = _STEP.replace("NAME", name).replace("OUT", out).replace("NORM", norm)
        _KERNELS[dtype] = cp.RawKernel(code, name)
    return _KERNELS[dtype]


@translate.register(R.MRGUniform)
def _mrg_uniform(op, node):
    def run(rstate, size):
        shape = R.check_size(op, node, rstate, to_host(size))
        n = int(np.prod(shape, dtype=np.int64))
        state = to_device(rstate).astype("int32")  # a copy: the draw's update is out of place
        flat = cp.empty(n, dtype=op.dtype)
        ns = state.shape[0]
        if n:
            _kernel(op.dtype)(((min(ns, n) + BLOCK - 1) // BLOCK,), (BLOCK,),
                              (state, flat, np.int64(n), np.int64(ns)))
        return [state, flat.reshape(shape)]
    return run
