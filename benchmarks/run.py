"""Time one training step of W1-W5 on symrnn (NUMBA, NUMPY) and the installed peers.

    python benchmarks/run.py --threads 1          # one thread everywhere
    python benchmarks/run.py --threads 2 --t3 100 # all cores here; W3 with T=100
    python benchmarks/run.py --only W3,W4 --skip NUMPY

Columns: symrnn NUMBA (flush-to-zero on, the default), NUMBA-ieee (config.flush_subnormals
= False; only on the workloads whose gradients reach subnormals), symrnn NUMPY, PyTorch
eager, JAX jit, PyTensor, and by_hand (plain NumPy forward/backward, by_hand.py).

Thread counts are fixed through the environment before any framework is imported,
so run the script once per thread count. Each workload's frameworks are built first, then
timed in turn (one step each per round), so a shared machine's load falls on all alike.
Prints a Markdown table: median step time (ms) per framework, the ratio to symrnn NUMBA,
compile time (first call) and the first loss (which must agree across frameworks: same
initial weights).
"""
import argparse
import os
import statistics
import sys
import time


def _set_threads(n):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        os.environ[var] = str(n)
    os.environ["XLA_FLAGS"] = (f"--xla_cpu_multi_thread_eigen={'true' if n > 1 else 'false'} "
                               f"intra_op_parallelism_threads={n}")


def _first(build):
    """(step, first loss, seconds to build + compile + run the first step)."""
    t0 = time.perf_counter()
    step = build()
    loss = step()  # compile (or warm up) + the first step
    return step, loss, time.perf_counter() - t0


def _time_rounds(steps, budget, min_reps=3):
    """{name: median seconds}: the steps timed in turn, one call each per round, so that a
    shared machine's changing load falls on every framework alike."""
    times = {n: [] for n in steps}
    while True:
        for n, step in steps.items():
            t = time.perf_counter()
            step()
            times[n].append(time.perf_counter() - t)
        done = [len(v) >= min_reps and sum(v) >= budget for v in times.values()]
        if all(done) or len(next(iter(times.values()))) >= 200 or \
                (len(next(iter(times.values()))) >= min_reps and
                 sum(map(sum, times.values())) >= budget * len(times)):
            return {n: statistics.median(v) for n, v in times.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--t3", type=int, default=1000, help="sequence length of W3")
    ap.add_argument("--only", default="W1,W2,W3,W3s,W3s-before-relu,W4,W4-before,"
                    "W4-before-relu,W5,W5-before", help="workloads (see workloads.specs)")
    ap.add_argument("--skip", default="", help="frameworks to leave out, e.g. NUMPY,pytensor")
    ap.add_argument("--budget", type=float, default=2.0, help="seconds of timing per cell")
    args = ap.parse_args(argv)
    _set_threads(args.threads)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:0] = [here, os.path.dirname(here)]
    import by_hand
    import workloads as wl
    frameworks = {
        "NUMBA": lambda s, d, p: wl.symrnn_step(s, d, p, "NUMBA"),
        "NUMBA-ieee": lambda s, d, p: wl.symrnn_step(s, d, p, "NUMBA", flush=False),
        "NUMPY": lambda s, d, p: wl.symrnn_step(s, d, p, "NUMPY"),
        "torch": wl.torch_step, "jax": wl.jax_step, "pytensor": wl.pytensor_step,
        "by_hand": lambda s, d, p: by_hand.numpy_step(s, d, p, lr=s.get("lr", wl.LR)),
    }
    skip = set(filter(None, args.skip.split(",")))
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        skip.add("torch")
    for name, module in (("jax", "jax"), ("pytensor", "pytensor")):
        try:
            __import__(module)
        except ImportError:
            skip.add(name)
    names = [n for n in frameworks if n not in skip]
    print(f"threads={args.threads}; milliseconds per training step (median); "
          f"first = compile + first step (s)\n")
    print("| workload | " + " | ".join(f"{n} ms" for n in names) + " | " +
          " | ".join(f"{n}/NUMBA" for n in names if n != "NUMBA") + " | " +
          " | ".join(f"{n} first s" for n in names) + " | loss |")
    print("|" + "---|" * (1 + 3 * len(names)))
    for wname, spec in wl.specs(args.t3).items():
        if wname not in args.only.split(","):
            continue
        data, params = wl.make_data(spec)
        built = {}
        for n in names:
            if n == "NUMPY" and spec["T"] > 1000:
                continue
            if n == "NUMBA-ieee" and spec.get("init") != "active":
                continue  # only where subnormals arise
            try:
                built[n] = _first(lambda: frameworks[n](spec, data, params))
            except Exception as e:  # a peer that cannot run a workload leaves a gap
                print(f"<!-- {wname} {n}: {type(e).__name__}: {str(e)[:200]} -->")
        medians = _time_rounds({n: b[0] for n, b in built.items()}, args.budget)
        res = {n: (b[1], b[2], medians[n]) for n, b in built.items()}
        base = res.get("NUMBA", (None, None, None))[2]
        losses = {n: r[0] for n, r in res.items()}
        ref = losses.get("NUMBA")
        agree = all(abs(v - ref) <= 1e-3 * max(1.0, abs(ref)) for v in losses.values()) \
            if ref is not None else False
        cells = [f"{res[n][2] * 1e3:.3g}" if n in res else "-" for n in names]
        ratios = [f"{res[n][2] / base:.2f}" if n in res and base else "-"
                  for n in names if n != "NUMBA"]
        firsts = [f"{res[n][1]:.2f}" if n in res else "-" for n in names]
        label = f"{wname} (T={spec['T']})"
        shown = f"{ref:.5g} " + ("same" if agree else f"DIFFERS: {losses}") if ref else "-"
        print(f"| {label} | " + " | ".join(cells + ratios + firsts) + f" | {shown} |",
              flush=True)


if __name__ == "__main__":
    main()
