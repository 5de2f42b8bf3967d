"""numba's compile of a training step, piece by piece: CPU time and what the machine code is.

    python benchmarks/compile_pieces.py --only W3,W4
    python benchmarks/compile_pieces.py --only W3 --old ../old-checkout --rounds 6

For each workload (benchmarks/workloads.py) a fresh process builds the training function
as the foreground compile cuts it, without compiling it, then compiles each of its distinct
pieces with numba's cache off, one after the other, and reports the CPU time of each (after a
warm-up compile, so numba's one-time start is not counted) and the instructions of the
machine code: the generated function, its wrappers (CPython's; C's before 4fb2f41), and what
numba linked into it
(runtime.py's helpers, NumPy implementations). With ``--old`` the two trees alternate, round
by round in both orders: this machine's speed drifts by 10-30% over minutes, which single
runs of compile_time.py cannot tell from a change. CPU time (process_time) is the figure to
compare; instruction counts do not drift.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def cell(workload):
    """In this process (symrnn from PYTHONPATH): the pieces' CPU times and instructions."""
    sys.path.insert(0, HERE)
    import compile_time
    compile_time._set_threads()
    import tempfile
    import numba
    import workloads as wl
    import symrnn
    import symrnn.tensor as T
    import symrnn.backends.numba as nb
    from symrnn.backends.numba import runtime
    symrnn.config.compiledir = tempfile.mkdtemp()
    symrnn.config.compile = "foreground"
    pieces = {}

    def keep(fgraph, thunk, segments):  # the pieces, not compiled
        for s in segments:
            pieces.setdefault(s.source, nb.signature(s.types))
        return thunk
    nb._when_compiled = keep
    spec = wl.specs()[workload]
    data, params = wl.make_data(spec)
    wl.theano_step(symrnn, T, spec, data, params, mode="NUMBA")
    getattr(runtime, "sgemm"), getattr(runtime, "dgemm")  # (their C functions registered)
    numba.njit(lambda a: a[0] + 1).compile((numba.float64[:],))  # numba's start: not counted
    out = []
    for source, sig in pieces.items():
        fn = nb._module(source.replace("cache=True", "cache=False")).fn
        t = time.process_time()
        fn.compile(sig)
        cpu = time.process_time() - t
        out.append(dict(lines=source.count("\n"), cpu=cpu, code=_instructions(fn, sig)))
    return out


def _instructions(fn, sig):
    """Instructions of ``fn``'s machine code by function: fn, wrapper, the linked ones."""
    count, where = Counter(), None
    for line in fn.inspect_asm(sig).splitlines():
        label = re.match(r"^([A-Za-z_$][\w.$]*):", line)
        if label:
            name = label.group(1)
            where = ("wrapper" if name.startswith(("_ZN7cpython", "cfunc.")) else
                     "fn" if "2fnB" in name else "linked")  # (cfunc.: the C wrapper)
        elif where and line.startswith("\t") and not line.startswith("\t."):
            count[where] += 1
    return dict(count)


def run_cell(workload, tree):
    env = dict(os.environ, PYTHONPATH=tree + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run([sys.executable, __file__, "--cell", workload], env=env,
                         capture_output=True, text=True, timeout=1800)
    if run.returncode:
        raise RuntimeError(f"{workload} in {tree}: {run.stderr[-2000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="W1,W2,W3,W4,W5")
    ap.add_argument("--old", help="another checkout, alternated with this one")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--cell", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.cell:
        print(json.dumps(cell(args.cell)))
        return
    trees = {"this": ROOT, **({"old": os.path.abspath(args.old)} if args.old else {})}
    print("| workload | tree | pieces (lines) | CPU s, median (all rounds) | instructions: "
          "fn / wrapper / linked |\n|---|---|---|---|---|")
    for w in args.only.split(","):
        runs = {k: [] for k in trees}
        for r in range(args.rounds):
            for k in (list(trees) if r % 2 == 0 else list(trees)[::-1]):
                runs[k].append(run_cell(w, trees[k]))
        for k, rs in runs.items():
            totals = [sum(p["cpu"] for p in pieces) for pieces in rs]
            code = Counter()
            for p in rs[0]:
                code.update(p["code"])
            lines = ", ".join(str(p["lines"]) for p in rs[0])
            print(f"| {w} | {k} | {len(rs[0])} ({lines}) | {statistics.median(totals):.2f} "
                  f"({', '.join(f'{t:.2f}' for t in totals)}) | {code['fn']} / "
                  f"{code['wrapper']} / {code['linked']} |", flush=True)


if __name__ == "__main__":
    main()
