"""GPU training-step benchmark: symrnn mode='CUPY' against PyTorch CUDA.

    python benchmarks/gpu_indrnn.py                 # W3 at T=1000 and 5000, then W4
    python benchmarks/gpu_indrnn.py --workload W3 --seq-len 1000 --repeats 20

W3: IndRNN on the adding problem (batch 50, 2 inputs, 2 layers x 128 relu
units, elementwise recurrent weights, MSE on a linear read-out of the last
step). symrnn writes the input projection of each layer as one product over the
whole sequence (the hoisted form), so each layer's scan is elementwise and
runs as one kernel forward and one backward. PyTorch runs a hand-written
per-step loop (the usual IndRNN implementation).
W4: IRNN on pixel-MNIST shapes (T=784, batch 40, 1 input, 100 relu units,
identity recurrent init, dense 10 + softmax cross-entropy); PyTorch uses
nn.RNN (cuDNN). Both sides train with Adam from the same initial weights and
the first losses are checked to agree.

Reports the median time of a training step (forward, backward, update) and
the CUDA kernels launched per step (counted with torch.profiler/CUPTI, which
sees CuPy's kernels too; without PyTorch, symrnn's host-issued GPU operations).
Needs CuPy and an NVIDIA GPU; PyTorch is optional.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def require_gpu():
    """Exit with a clear message unless CuPy and a GPU are usable."""
    from symrnn.backends.cupy import CuPyUnavailableError, require
    try:
        require()
    except CuPyUnavailableError as e:
        sys.exit(f"gpu_indrnn.py: {e}")


def torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


# ---- the models in symrnn ----

def symrnn_indrnn(rng, seq_len, batch, n_in, hidden, layers):
    import symrnn
    import symrnn.tensor as T
    from symrnn.optimizers import adam
    x, target = T.ftensor3("x"), T.fvector("target")
    params, h, width = [], x, n_in
    for k in range(layers):
        W = symrnn.shared((rng.normal(0, 0.1, (width, hidden))).astype("float32"), f"W{k}")
        u = symrnn.shared(rng.uniform(0, 1, hidden).astype("float32"), f"u{k}")
        b = symrnn.shared(np.zeros(hidden, "float32"), f"b{k}")
        params += [W, u, b]
        xw = T.dot(h.reshape((-1, width)), W).reshape((h.shape[0], h.shape[1], hidden))
        h0 = T.zeros((h.shape[1], hidden), dtype="float32")
        h, _ = symrnn.scan(lambda xw_t, h_prev, u=u, b=b: T.nnet.relu(xw_t + u * h_prev + b),
                           sequences=xw, outputs_info=h0)
        width = hidden
    w_out = symrnn.shared(rng.normal(0, 0.1, hidden).astype("float32"), "w_out")
    params.append(w_out)
    loss = ((T.dot(h[-1], w_out) - target) ** 2).mean()
    step = symrnn.function([x, target], loss, mode="CUPY", updates=adam(loss, params, 2e-4))
    return step, [p.get_value() for p in params]


def symrnn_irnn(rng, batch, hidden):
    import symrnn
    import symrnn.tensor as T
    from symrnn.optimizers import adam
    x, labels = T.ftensor3("x"), T.lvector("labels")
    W_in = symrnn.shared(rng.normal(0, 1e-3, (1, hidden)).astype("float32"), "W_in")
    W_rec = symrnn.shared(np.eye(hidden, dtype="float32"), "W_rec")
    b = symrnn.shared(np.zeros(hidden, "float32"), "b")
    W_out = symrnn.shared(rng.normal(0, 0.1, (hidden, 10)).astype("float32"), "W_out")
    b_out = symrnn.shared(np.zeros(10, "float32"), "b_out")
    params = [W_in, W_rec, b, W_out, b_out]
    xw = T.dot(x, W_in)  # (T, batch, hidden): the hoisted input projection
    h0 = T.zeros((x.shape[1], hidden), dtype="float32")
    h, _ = symrnn.scan(lambda xw_t, hp: T.nnet.relu(xw_t + T.dot(hp, W_rec) + b),
                       sequences=xw, outputs_info=h0)
    logp = T.nnet.log_softmax(T.dot(h[-1], W_out) + b_out)
    loss = -T.mean(logp[T.arange(labels.shape[0]), labels])
    step = symrnn.function([x, labels], loss, mode="CUPY", updates=adam(loss, params, 1e-4))
    return step, [p.get_value() for p in params]


# ---- the same models in PyTorch ----

def torch_indrnn(torch, init, layers):
    dev = "cuda"
    ps = [torch.nn.Parameter(torch.tensor(p, device=dev)) for p in init]
    opt = torch.optim.Adam(ps, lr=2e-4)

    def step(x, target):
        opt.zero_grad()
        h = x
        for k in range(layers):
            W, u, b = ps[3 * k:3 * k + 3]
            xw = h @ W
            hs, h_t = [], torch.zeros(x.shape[1], W.shape[1], device=dev)
            for t in range(x.shape[0]):
                h_t = torch.relu(xw[t] + u * h_t + b)
                hs.append(h_t)
            h = torch.stack(hs)
        loss = ((h[-1] @ ps[-1] - target) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    return step


def torch_irnn(torch, init):
    W_in, W_rec, b, W_out, b_out = init
    rnn = torch.nn.RNN(1, W_rec.shape[0], nonlinearity="relu").cuda()
    dense = torch.nn.Linear(W_rec.shape[0], 10).cuda()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(W_in.T))
        rnn.weight_hh_l0.copy_(torch.tensor(W_rec.T))
        rnn.bias_ih_l0.copy_(torch.tensor(b))
        rnn.bias_hh_l0.zero_()
        dense.weight.copy_(torch.tensor(W_out.T))
        dense.bias.copy_(torch.tensor(b_out))
    opt = torch.optim.Adam(list(rnn.parameters()) + list(dense.parameters()), lr=1e-4)

    def step(x, labels):
        opt.zero_grad()
        out, _ = rnn(x)
        loss = torch.nn.functional.cross_entropy(dense(out[-1]), labels)
        loss.backward()
        opt.step()
        return loss
    return step


# ---- timing ----

def timed(run, sync, repeats):
    """Median seconds of ``run()`` over ``repeats`` calls after two warm-up calls."""
    for _ in range(2):
        run()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def kernels_per_step(torch, run, fallback):
    """CUDA kernels launched by one ``run()`` (CUPTI via torch.profiler), else ``fallback()``."""
    if torch is None:
        return fallback()
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        run()
        torch.cuda.synchronize()
    return sum(1 for e in prof.events() if e.device_type.name == "CUDA")


def host_operations(step):
    """GPU operations the symrnn thunk issues per call (a fused scan counts once)."""
    return len(step.thunk.steps)


def report(name, rows):
    print(f"\n{name}")
    print(f"  {'implementation':34s} {'step (ms)':>10s} {'kernels/step':>13s} {'ratio':>7s}")
    base = rows[0][1]
    for label, sec, kernels in rows:
        print(f"  {label:34s} {sec * 1e3:10.2f} {kernels:13d} {sec / base:7.2f}")


def run_w3(seq_len, repeats, torch, cp):
    rng = np.random.default_rng(0)
    batch, layers, hidden = 50, 2, 128
    x = rng.uniform(0, 1, (seq_len, batch, 2)).astype("float32")
    x[:, :, 1] = 0
    x[rng.integers(0, seq_len // 2, batch), np.arange(batch), 1] = 1
    x[rng.integers(seq_len // 2, seq_len, batch), np.arange(batch), 1] = 1
    target = (x[:, :, 0] * x[:, :, 1]).sum(axis=0).astype("float32")
    step, init = symrnn_indrnn(rng, seq_len, batch, 2, hidden, layers)
    xd, td = cp.asarray(x), cp.asarray(target)
    first = float(step(xd, td))
    sync = cp.cuda.Device().synchronize
    rows = [("symrnn CUPY (fused scans)", timed(lambda: step(xd, td), sync, repeats),
             kernels_per_step(torch, lambda: step(xd, td), lambda: host_operations(step)))]
    if torch is not None:
        tstep = torch_indrnn(torch, init, layers)
        xt, tt = torch.tensor(x, device="cuda"), torch.tensor(target, device="cuda")
        tfirst = float(tstep(xt, tt))
        if not np.isclose(first, tfirst, rtol=1e-3):
            print(f"  warning: first losses differ: symrnn {first:.6f}, torch {tfirst:.6f}")
        rows.append(("PyTorch CUDA, per-step loop", timed(lambda: tstep(xt, tt),
                                                          torch.cuda.synchronize, repeats),
                     kernels_per_step(torch, lambda: tstep(xt, tt), lambda: 0)))
    report(f"W3 IndRNN adding problem, T={seq_len}, batch {batch}, {layers} x {hidden}", rows)


def run_w4(repeats, torch, cp):
    rng = np.random.default_rng(0)
    seq_len, batch, hidden = 784, 40, 100
    x = rng.uniform(0, 1, (seq_len, batch, 1)).astype("float32")
    labels = rng.integers(0, 10, batch)
    step, init = symrnn_irnn(rng, batch, hidden)
    xd, ld = cp.asarray(x), cp.asarray(labels)
    first = float(step(xd, ld))
    rows = [("symrnn CUPY (host loop)", timed(lambda: step(xd, ld),
                                              cp.cuda.Device().synchronize, repeats),
             kernels_per_step(torch, lambda: step(xd, ld), lambda: host_operations(step)))]
    if torch is not None:
        tstep = torch_irnn(torch, init)
        xt, lt = torch.tensor(x, device="cuda"), torch.tensor(labels, device="cuda")
        tfirst = float(tstep(xt, lt))
        if not np.isclose(first, tfirst, rtol=1e-3):
            print(f"  warning: first losses differ: symrnn {first:.6f}, torch {tfirst:.6f}")
        rows.append(("PyTorch nn.RNN (cuDNN)", timed(lambda: tstep(xt, lt),
                                                     torch.cuda.synchronize, repeats),
                     kernels_per_step(torch, lambda: tstep(xt, lt), lambda: 0)))
    report(f"W4 IRNN pixel-MNIST shapes, T={seq_len}, batch {batch}, hidden {hidden}", rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", choices=["W3", "W4", "all"], default="all")
    parser.add_argument("--seq-len", type=int, nargs="+", default=[1000, 5000],
                        help="sequence lengths for W3")
    parser.add_argument("--repeats", type=int, default=10, help="timed steps per measurement")
    args = parser.parse_args(argv)
    require_gpu()
    import cupy as cp
    torch = torch_cuda()
    if torch is None:
        print("PyTorch with CUDA not found: timing symrnn only")
    print(f"GPU: {cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}")
    if args.workload in ("W3", "all"):
        for seq_len in args.seq_len:
            run_w3(seq_len, args.repeats, torch, cp)
    if args.workload in ("W4", "all"):
        run_w4(args.repeats, torch, cp)


if __name__ == "__main__":
    main()
