"""Estimate this machine's limits: float32 GEMM FLOP/s and memory bandwidth (NumPy, OpenBLAS).

    OPENBLAS_NUM_THREADS=1 python benchmarks/machine.py

The lower bound of a training step is then about max(flops / GEMM rate, bytes / bandwidth);
benchmarks/README.md shows the estimate per workload.
"""
import time

import numpy as np


def best(fn, reps=20):
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    for m, k, n in ((64, 150, 150), (50, 128, 128), (40, 100, 100), (512, 512, 512)):
        a = np.random.rand(m, k).astype(np.float32)
        b = np.random.rand(k, n).astype(np.float32)
        t = best(lambda: a @ b)
        print(f"sgemm {m}x{k}x{n}: {2 * m * k * n / t / 1e9:.1f} GFLOP/s")
    x = np.random.rand(32 * 1024 * 1024 // 4).astype(np.float32)  # 32 MiB
    y = np.empty_like(x)
    t = best(lambda: np.copyto(y, x), 10)
    print(f"memory copy: {2 * x.nbytes / t / 1e9:.1f} GB/s (read + write)")


if __name__ == "__main__":
    main()
