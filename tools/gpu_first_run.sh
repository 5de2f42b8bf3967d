#!/usr/bin/env bash
# The first run of symrnn on a lent GPU: one call of at most ~7 minutes, logs under $OUT.
#
#   bash tools/gpu_first_run.sh             # on the GPU machine, in the repository root
#   bash tools/gpu_first_run.sh --dry-run   # on the CPU: the same steps, small, on the CuPy
#                                           # stand-in (tests/test_gpu_first_run.py runs it)
#
# Steps, most telling first, each with its own time limit inside GPU_RUN_SECONDS (default
# 420; a step that would start with under 20 s left is reported NOT RUN):
#   1 env.log        nvidia-smi, Python, CuPy / CUDA / NVRTC versions, symrnn.info, require()
#   2 smoke.log      tools/gpu_smoke.py: a fused elementwise chain, the IndRNN fused scan
#                    forward and backward, cuBLAS products, each equal to mode NUMPY
#   3 gpu_tests.log  the [gpu] tests of tests/backends (a skip for want of a GPU fails the step)
#   4 bench.log      benchmarks/gpu_indrnn.py W3 at T=1000 and 5000, against PyTorch CUDA if
#                    it is there (run before the suite, on a quiet machine)
#   5 suite.log      the rest of the suite with mode=CUPY as the default (pytest-xdist if there)
#   summary.txt      one line per step: passed / FAILED / TIMED OUT / NOT RUN, and seconds
# It installs nothing: this checkout runs through PYTHONPATH on the machine's own Python
# ($PYTHON, default python3). The exit status is 0 only when every step passed.
# With the device tool: run command "bash tools/gpu_first_run.sh", timeout_s about 480, then
# give the machine back; the W3 figures go to benchmarks/README.md.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1
PY=${PYTHON:-python3}
OUT=${OUT:-$ROOT/gpu_first_run_logs}
mkdir -p "$OUT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
BUDGET=${GPU_RUN_SECONDS:-420}
START=$(date +%s)
: >"$OUT/summary.txt"
FAILED=0

# step NAME LOG CAP COMMAND...: run COMMAND with at most CAP seconds (and what is left)
step() {
    local name=$1 log=$2 cap=$3 left t0 rc status
    shift 3
    left=$((BUDGET - ($(date +%s) - START)))
    [ "$cap" -gt "$left" ] && cap=$left
    if [ "$cap" -lt 20 ]; then
        printf '%-10s NOT RUN (time budget spent)\n' "$name" | tee -a "$OUT/summary.txt"
        FAILED=1
        return
    fi
    t0=$(date +%s)
    timeout --kill-after=10 "$cap" "$@" >"$OUT/$log" 2>&1
    rc=$?
    status=passed
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        status="TIMED OUT after ${cap} s"
    elif [ $rc -ne 0 ]; then
        status="FAILED (exit $rc)"
    fi
    if [ "$name" = gpu_tests ] && [ $DRY -eq 0 ] && grep -q "CuPy and a GPU are required" "$OUT/$log"; then
        status="FAILED (the [gpu] tests were skipped: no usable GPU)"
    fi
    [ "$status" = passed ] || FAILED=1
    printf '%-10s %-55s %4d s  %s\n' "$name" "$status" $(($(date +%s) - t0)) "$log" \
        | tee -a "$OUT/summary.txt"
}

env_report() {
    date -u
    echo "--- nvidia-smi"
    nvidia-smi 2>&1 || echo "(no nvidia-smi)"
    echo "--- python: $(command -v "$PY")"
    "$PY" - "$DRY" <<'EOF'
import platform, sys
print(sys.version)
for name in ("numpy", "numba", "networkx", "pytest", "xdist", "torch", "cupy"):
    try:
        m = __import__(name)
        print(f"{name} {getattr(m, '__version__', '?')} ({m.__file__})")
    except Exception as e:
        print(f"{name}: not importable ({type(e).__name__}: {e})")
if sys.argv[1] == "1":
    from tests.backends import cupy_on_cpu
    cupy_on_cpu.install()
    print("dry run: cupy is the CPU stand-in (tests/backends/cupy_on_cpu.py)")
else:
    try:
        import cupy
        print("CUDA runtime", cupy.cuda.runtime.runtimeGetVersion(),
              "driver", cupy.cuda.runtime.driverGetVersion())
        from cupy_backends.cuda.libs import nvrtc
        print("NVRTC", nvrtc.getVersion(), "archs", nvrtc.getSupportedArchs())
        cupy.show_config()
    except Exception as e:
        print(f"CuPy details: {type(e).__name__}: {e}")
import symrnn.info
from symrnn.config import config
print(config)
for mode, state in symrnn.info.backends().items():
    print(f"backend {mode}: {state}")
from symrnn.backends.cupy import _probe
print("cupy backend:", _probe() or "usable (a test kernel compiled and ran)")
EOF
}

export -f env_report
export DRY PY
XDIST=()
"$PY" -c "import xdist" 2>/dev/null && XDIST=(-n "${GPU_TEST_WORKERS:-8}")
if [ $DRY -eq 1 ]; then
    # the same steps, small, with cupy the CPU stand-in
    BENCH_PY=("$PY" -c "import runpy, sys; from tests.backends import cupy_on_cpu; \
cupy_on_cpu.install(); sys.argv = ['gpu_indrnn.py'] + sys.argv[1:]; \
runpy.run_path('benchmarks/gpu_indrnn.py', run_name='__main__')")
    step env env.log 60 bash -c env_report
    step smoke smoke.log 120 "$PY" tools/gpu_smoke.py --stand-in
    step gpu_tests gpu_tests.log 120 "$PY" -m pytest -q -p no:cacheprovider \
        tests/backends/test_cupy_runtime.py -k "cpu-stand-in and indrnn"
    step bench bench.log 120 "${BENCH_PY[@]}" --workload W3 --seq-len 8 16 --repeats 1
    step suite suite.log 180 "$PY" -m pytest -q -p no:cacheprovider --cupy-on-cpu \
        tests/rewrite/test_fusion.py
else
    step env env.log 60 bash -c env_report
    step smoke smoke.log 90 "$PY" tools/gpu_smoke.py
    step gpu_tests gpu_tests.log 150 "$PY" -m pytest -q -rs -p no:cacheprovider \
        ${XDIST[@]+"${XDIST[@]}"} tests/backends -k "gpu or nvrtc or real_cupy"
    step bench bench.log 120 "$PY" benchmarks/gpu_indrnn.py --workload W3 \
        --seq-len 1000 5000 --repeats 5
    step suite suite.log 400 env SYMRNN_FLAGS="${SYMRNN_FLAGS:+$SYMRNN_FLAGS,}mode=CUPY" \
        "$PY" -m pytest -q -p no:cacheprovider ${XDIST[@]+"${XDIST[@]}"} tests \
        -k "not gpu and not nvrtc and not real_cupy"
fi

echo
echo "=== smoke"
grep -E "^(check|chain|indrnn|cublas|smoke)" "$OUT/smoke.log" 2>/dev/null
echo "=== bench"
grep -vE "^\s*$" "$OUT/bench.log" 2>/dev/null | tail -n 20
for log in gpu_tests suite; do
    echo "=== $log: $(grep -E '(passed|failed|error)' "$OUT/$log.log" 2>/dev/null | tail -n 1)"
done
echo "=== summary (logs in $OUT)"
cat "$OUT/summary.txt"
exit $FAILED
