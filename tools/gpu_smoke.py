"""Smoke test of the cupy backend on a GPU: three graphs, each equal to the NumPy reference.

    python tools/gpu_smoke.py              # on a machine with CuPy and a GPU
    python tools/gpu_smoke.py --stand-in   # on the CPU, through tests/backends/cupy_on_cpu.py

1. a fused elementwise chain (one ElementwiseKernel),
2. an IndRNN layer's scan, forward and backward (one RawKernel each way),
3. a matrix product through cuBLAS (float32 and float64).
Each prints its compile and run times and its largest relative error; any
mismatch, missing fusion or op run on the host makes the exit status 1.
"""
import argparse
import os
import sys
import time
import traceback
import warnings

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)


def rel_error(got, ref):
    """max over outputs of ||got - ref|| / ||ref|| (on the host, in float64)."""
    errs = []
    for g, r in zip(got, ref):
        g, r = np.asarray(g, "float64"), np.asarray(r, "float64")
        assert g.shape == r.shape, f"shape {g.shape} != {r.shape}"
        errs.append(np.linalg.norm(g - r) / max(np.linalg.norm(r), 1e-30))
    return max(errs)


def compiled(inputs, outputs):
    import symrnn
    t0 = time.perf_counter()
    f = symrnn.function(inputs, outputs, mode="CUPY")
    return f, time.perf_counter() - t0


def run(f, values, ref_f):
    t0 = time.perf_counter()
    got = f(*values)
    seconds = time.perf_counter() - t0
    got = got if isinstance(got, list) else [got]
    ref = ref_f(*values)
    return rel_error(got, ref if isinstance(ref, list) else [ref]), seconds


def steps_of(f):
    return [type(s[0]).__name__ for s in f.thunk.steps]


def chain(rng):
    import symrnn
    import symrnn.tensor as T
    x, b = T.fmatrix("x"), T.fvector("b")
    y = T.nnet.sigmoid(x * 2 + b) * T.tanh(x) - T.nnet.softplus(x) / 3 + T.exp(-x * x)
    f, compile_s = compiled([x, b], y)
    kernels = [s for s in f.thunk.steps if hasattr(s[0], "source")]
    assert len(kernels) == 1, f"the chain should be one kernel, got steps {steps_of(f)}"
    values = [rng.normal(size=(512, 256)).astype("float32"),
              rng.normal(size=256).astype("float32")]
    err, run_s = run(f, values, symrnn.function([x, b], y, mode="NUMPY"))
    return err, 1e-6, compile_s, run_s


def indrnn(rng):
    import symrnn
    import symrnn.tensor as T
    xw, u, b, h0 = T.ftensor3("xw"), T.fvector("u"), T.fvector("b"), T.fmatrix("h0")
    h, _ = symrnn.scan(lambda x_t, hp: T.nnet.relu(x_t + u * hp + b), sequences=xw,
                       outputs_info=h0)
    cost = (h[-1] ** 2).sum() + h.mean()
    inputs, outputs = [xw, u, b, h0], [cost, h] + T.grad(cost, [xw, u, b, h0])
    f, compile_s = compiled(inputs, outputs)
    fused = steps_of(f).count("FusedScan")
    assert fused == 2, f"forward and backward scans should be one kernel each: {steps_of(f)}"
    values = [rng.normal(size=(200, 32, 64)).astype("float32"),
              rng.uniform(0.5, 1.0, 64).astype("float32"),
              rng.normal(size=64).astype("float32"), rng.normal(size=(32, 64)).astype("float32")]
    err, run_s = run(f, values, symrnn.function(inputs, outputs, mode="NUMPY"))
    return err, 1e-5, compile_s, run_s


def cublas(rng):
    import symrnn
    import symrnn.tensor as T
    errs, compile_s, run_s = [], 0.0, 0.0
    for dtype, tol in (("float32", 1e-5), ("float64", 1e-12)):
        a, b = T.matrix("a", dtype=dtype), T.matrix("b", dtype=dtype)
        f, c = compiled([a, b], T.dot(a, b))
        values = [rng.normal(size=(384, 512)).astype(dtype),
                  rng.normal(size=(512, 256)).astype(dtype)]
        err, r = run(f, values, symrnn.function([a, b], T.dot(a, b), mode="NUMPY"))
        errs.append(err / tol)
        compile_s, run_s = compile_s + c, run_s + r
    return max(errs), 1.0, compile_s, run_s  # errors in units of each dtype's tolerance


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stand-in", action="store_true",
                        help="run on the CPU stand-in for CuPy (a dry run of this script)")
    args = parser.parse_args(argv)
    if args.stand_in:
        from tests.backends import cupy_on_cpu
        cupy_on_cpu.install()
    from symrnn.backends.cupy import CuPyUnavailableError, require
    try:
        require()
    except CuPyUnavailableError as e:
        print(f"gpu_smoke.py: {e}")
        return 1
    warnings.filterwarnings("error", message=".*has no GPU translation")
    rng = np.random.default_rng(0)
    failed = 0
    print(f"{'check':10s} {'rel. error':>11s} {'limit':>8s} {'compile s':>10s} {'run s':>8s}")
    for name, check in (("chain", chain), ("indrnn", indrnn), ("cublas", cublas)):
        try:
            err, limit, compile_s, run_s = check(rng)
        except Exception:
            traceback.print_exc()
            print(f"{name:10s} FAILED (above)")
            failed += 1
            continue
        ok = err <= limit
        failed += not ok
        print(f"{name:10s} {err:11.2e} {limit:8.0e} {compile_s:10.2f} {run_s:8.3f}"
              f"{'' if ok else '  FAILED: not equal to NUMPY'}")
    print("smoke test:", "FAILED" if failed else "passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
