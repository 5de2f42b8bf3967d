"""Time to the first training step and to full speed, each cell in a fresh process.

    python benchmarks/compile_time.py                          # every cell
    python benchmarks/compile_time.py --only W3,W4 --frameworks symrnn,symrnn-fg,jax
    python benchmarks/compile_time.py --only tutorials --frameworks symrnn

A cell is (workload, framework, cache). Workloads: W1-W5 (benchmarks/workloads.py) and
each tutorial's training function (its --quick run; the training function is the one
with updates that is called most). Frameworks: ``symrnn`` (numba compiling in the
background while NumPy runs the first calls: the default), ``symrnn-fg``
(config.compile='foreground'), ``symrnn-old`` and ``symrnn-old-fg`` (another checkout,
--old, each mode), ``jax`` (jit),
``pytensor`` (its default mode), ``torch.compile``. Cache: ``cold`` (an empty compile
cache: symrnn's compiledir, PyTensor's compiledir and numba cache, Inductor's cache;
numba's cache of symrnn's own helpers, in the package, stays filled as after any first
run) or ``warm`` (the same caches, filled by the cold cell before it).

Each cell prints the time from the start of its script (imports included) to the end of
the first step, and to the end of the first step at full speed: the first step after
which no step is slower than 1.5 times the median of the last steps. A cell runs steps
until numba's compiled code runs (symrnn) and 5 more, within --limit seconds. symrnn's
workload cells also print the time ``function()`` took (warm: the issue's "ready in 0.3 s").
"""
import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

T0 = time.perf_counter()
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TUTORIALS = ["counting_rnn", "scan_basics", "binary_adder", "indrnn_adding", "irnn_mnist",
             "orthogonal_rnn_mnist", "indrnn_charlm", "indrnn_mnist"]
FRAMEWORKS = ["symrnn", "symrnn-fg", "symrnn-old", "symrnn-old-fg", "jax", "pytensor",
              "torch.compile"]


# ---- one cell, in this process ----

def _steps(step, compiling, limit):
    """Run ``step`` until compiled and 5 more (or ``limit`` s): (ends since T0, durations)."""
    ends, times, after = [], [], 0
    while after < 5 and (not ends or ends[-1] < limit):
        t = time.perf_counter()
        step()
        ends.append(time.perf_counter() - T0)
        times.append(time.perf_counter() - t)
        after += not compiling()
    return ends, times


def _summary(ends, times, compiled):
    steady = statistics.median(times[-3:])
    full = next((i for i in range(len(times)) if compiled and
                 max(times[i:]) <= 1.5 * steady), None)
    return dict(first=ends[0], full=None if full is None else ends[full],
                step_ms=steady * 1e3, steps=len(times), compiled=compiled)


def _set_threads():
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        os.environ[var] = "1"
    os.environ["XLA_FLAGS"] = ("--xla_cpu_multi_thread_eigen=false "
                               "intra_op_parallelism_threads=1")


def cell_workload(name, framework, limit):
    _set_threads()
    sys.path[:0] = [HERE]
    import workloads as wl
    spec = wl.specs()[name]
    data, params = wl.make_data(spec)
    fn = {}
    if framework.startswith("symrnn"):
        import symrnn
        fmod = sys.modules["symrnn.compile.function"]
        make = fmod.Function.__init__

        def keep(self, *a, **k):  # remember the training function (to ask .compiling)
            make(self, *a, **k)
            fn["f"] = self
        fmod.Function.__init__ = keep
        build = symrnn.function

        def timed(*a, **k):  # the time function() takes: the target "ready in 0.3 s" warm
            t = time.perf_counter()
            out = build(*a, **k)
            fn["ready"] = time.perf_counter() - t
            return out
        symrnn.function = timed
        import symrnn.tensor as T
        # theano_step, not symrnn_step: that one forces a foreground compile for timing
        # steps, and this cell must keep the mode SYMRNN_FLAGS chose
        step = wl.theano_step(symrnn, T, spec, data, params, mode="NUMBA")
        assert symrnn.config.mode in ("NUMBA", "FAST_RUN")
    elif framework == "jax":
        step = wl.jax_step(spec, data, params)
    elif framework == "pytensor":
        step = wl.pytensor_step(spec, data, params)
    elif framework == "torch.compile":
        import torch
        torch.set_num_threads(1)
        step = wl.torch_step(spec, data, params, compiled=True)
    else:
        raise ValueError(framework)
    ends, times = _steps(step, lambda: getattr(fn.get("f"), "compiling", False), limit)
    out = _summary(ends, times, not getattr(fn.get("f"), "compiling", False))
    if "ready" in fn:
        out["ready"] = fn["ready"]
    return out


def cell_tutorial(name, limit):
    """Run the tutorial's --quick; watch its functions' calls."""
    import runpy
    import symrnn  # noqa: F401
    fmod = sys.modules["symrnn.compile.function"]
    seen = {}
    call = fmod.Function.__call__

    def watch(self, *a, **k):
        t = time.perf_counter()
        out = call(self, *a, **k)
        rec = seen.setdefault(id(self), dict(f=self, ends=[], times=[]))
        rec["ends"].append(time.perf_counter() - T0)
        rec["times"].append(time.perf_counter() - t)
        return out
    fmod.Function.__call__ = watch
    sys.argv = [name, "--quick", "--no-progress", "--out-dir", tempfile.mkdtemp()]
    runpy.run_path(os.path.join(ROOT, "tutorials", f"{name}.py"), run_name="__main__")
    total = time.perf_counter() - T0
    train = max((r for r in seen.values() if r["f"].update_targets),
                key=lambda r: len(r["times"]), default=None)
    if train is None:
        return dict(total=total)
    compiled = not train["f"].compiling
    out = _summary(train["ends"], train["times"], compiled)
    out["total"] = total
    return out


# ---- the table: one fresh process per cell ----

def run_cell(workload, framework, cache, dirs, args):
    env = dict(os.environ)
    tree = args.old if framework.startswith("symrnn-old") else ROOT
    env["PYTHONPATH"] = tree + os.pathsep + env.get("PYTHONPATH", "")
    flags = [f"compiledir={dirs['symrnn']}"]
    if framework in ("symrnn", "symrnn-fg", "symrnn-old-fg"):  # (symrnn-old: its default)
        flags.append("compile=" + ("foreground" if framework.endswith("-fg") else "background"))
    env["SYMRNN_FLAGS"] = ",".join(flags)
    env["PYTENSOR_FLAGS"] = f"compiledir={dirs['pytensor']}"
    env["TORCHINDUCTOR_CACHE_DIR"] = dirs["torch"]
    if not framework.startswith("symrnn"):
        env["NUMBA_CACHE_DIR"] = dirs["numba"]  # PyTensor's numba code
    python = args.python if framework in ("jax", "pytensor", "torch.compile") else sys.executable
    cmd = [python, os.path.abspath(__file__), "--cell", workload, framework,
           "--limit", str(args.limit)]
    t = time.perf_counter()
    try:
        run = subprocess.run(cmd, env=env, capture_output=True, text=True,
                             timeout=args.limit + 120)
    except subprocess.TimeoutExpired:
        return dict(error=f"no result after {time.perf_counter() - t:.0f} s")
    _wait_for_orphans()
    lines = [s for s in run.stdout.splitlines() if s.startswith("{")]
    if run.returncode != 0 or not lines:
        return dict(error=(run.stderr.strip().splitlines() or ["?"])[-1][:120])
    return json.loads(lines[-1])


def _wait_for_orphans(limit=120.0):
    """Wait until the cell's compiler processes have ended: a worker finishes the task it is
    on after its program exits, and would take a core from the next cell (a tutorial cell
    measured 12 s that ran in 5 s alone)."""
    t = time.perf_counter()
    while time.perf_counter() - t < limit:
        busy = False
        for pid in os.listdir("/proc") if os.path.isdir("/proc") else ():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    busy |= b"symrnn.backends.numba.background" in f.read()
            except OSError:  # (gone meanwhile, or not a process)
                continue
        if not busy:
            return
        time.sleep(0.2)


def _fmt(r):
    if "error" in r:
        return f"error: {r['error']}"
    if "first" not in r:
        return f"total {r['total']:.1f}"
    full = f"{r['full']:.1f}" if r.get("full") is not None else "not in run"
    text = f"{r['first']:.2f} / {full} ({r['step_ms']:.3g} ms"
    text += f"; function() {r['ready']:.2f} s)" if "ready" in r else ")"
    return text + (f", run {r['total']:.1f}" if "total" in r else "")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="W1,W2,W3,W4,W5,tutorials")
    ap.add_argument("--frameworks", default="symrnn,symrnn-fg,jax,pytensor,torch.compile")
    ap.add_argument("--caches", default="cold,warm")
    ap.add_argument("--old", default=None, help="a checkout to time as symrnn-old")
    ap.add_argument("--python", default=sys.executable, help="the interpreter with the peers")
    ap.add_argument("--limit", type=float, default=180.0, help="seconds per cell at most")
    ap.add_argument("--cell", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.cell:
        workload, framework = args.cell
        res = (cell_tutorial(workload[4:], args.limit) if workload.startswith("tut:")
               else cell_workload(workload, framework, args.limit))
        print(json.dumps(res), flush=True)
        return
    for tree in filter(None, (ROOT, args.old)):  # byte-compiled, as pip installs a package (with
        # PYTHONDONTWRITEBYTECODE set each cell would compile symrnn's modules from source)
        for part in ("symrnn", "benchmarks"):
            compileall.compile_dir(os.path.join(tree, part), quiet=1)
    workloads = [w for w in args.only.split(",") if w != "tutorials"]
    if "tutorials" in args.only.split(","):
        workloads += [f"tut:{t}" for t in TUTORIALS]
    frameworks = args.frameworks.split(",")
    caches = args.caches.split(",")
    print("seconds from the start of the script to the end of the first training step / of "
          "the first step at full speed (median step time then; for symrnn also the time "
          "function() took); tutorials: their --quick run, and its total time\n")
    cols = [(f, c) for f in frameworks for c in caches if not (f.endswith("-fg") and c == "warm")]
    print("| workload | " + " | ".join(f"{f} {c}" for f, c in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for w in workloads:
        res, dirs = {}, {}
        for f, c in sorted(cols, key=lambda fc: fc[1] == "warm"):  # cold cells first
            if w.startswith("tut:") and not f.startswith("symrnn"):
                res[f, c] = "-"
                continue
            if c == "cold" or f not in dirs:
                base = tempfile.mkdtemp(prefix="compile_time_")
                dirs[f] = {k: os.path.join(base, k)
                           for k in ("symrnn", "pytensor", "torch", "numba")}
            # warm: the caches its cold cell filled (a symrnn cell runs until its background
            # compile is done; the foreground cuts a graph into other pieces: cut.py's tails)
            res[f, c] = _fmt(run_cell(w, f, c, dirs[f], args))
        for d in dirs.values():
            shutil.rmtree(os.path.dirname(d["symrnn"]), ignore_errors=True)
        print(f"| {w.replace('tut:', '')} | " + " | ".join(res[fc] for fc in cols) + " |",
              flush=True)


if __name__ == "__main__":
    main()
