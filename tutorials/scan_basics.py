"""scan, feature by feature: each section builds a loop, runs it and prints shapes and values.

``theano.scan(fn, sequences, outputs_info, non_sequences, n_steps)`` calls
``fn`` once on symbolic arguments to build the body of a loop. At step t,
``fn`` receives, in this order: the slices of the sequences (x[t], or
x[t + tap] for each tap), the previous values of the outputs that are fed
back (h[t-1], or h[t + tap]), then the non-sequences, unchanged every step.
It returns the new outputs (and optionally updates and a stop condition).
Each section checks its result against the plain Python loop it stands for,
and the last one trains a loop's parameter by gradient descent through time.

    python tutorials/scan_basics.py
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import symrnn as theano  # noqa: E402
import symrnn.tensor as T  # noqa: E402


def show(title, **values):
    print(f"\n== {title}")
    for name, v in values.items():
        v = np.asarray(v)
        print(f"{name} {v.shape} {v.dtype}:\n{np.array2string(v, precision=4)}")


def check(got, expected):
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


def sequences_only(mode):
    # a map: fn sees x[t] and returns y[t]; nothing is fed back
    x = T.vector("x")
    y, _ = theano.scan(lambda x_t: x_t ** 2, sequences=x)
    xv = np.arange(5.0)
    out = theano.function([x], y, mode=mode)(xv)
    show("sequences: y[t] = x[t] ** 2", x=xv, y=out)
    check(out, [v ** 2 for v in xv])


def outputs_info_feedback(mode):
    # outputs_info gives the initial value; fn gets the previous value back
    x, h0, w = T.vector("x"), T.scalar("h0"), T.scalar("w")
    h, _ = theano.scan(lambda x_t, h_prev, w: w * h_prev + x_t,
                       sequences=x, outputs_info=h0, non_sequences=w)
    xv = np.array([1.0, 0.0, 2.0, 0.0])
    out = theano.function([x, h0, w], h, mode=mode)(xv, 1.0, 0.5)
    show("outputs_info + non_sequences: h[t] = w * h[t-1] + x[t]", h=out)
    expected, prev = [], 1.0
    for x_t in xv:  # the plain Python loop this scan stands for
        prev = 0.5 * prev + x_t
        expected.append(prev)
    check(out, expected)


def outputs_without_feedback(mode):
    # None in outputs_info: an output that is computed each step but not fed back
    x = T.vector("x")
    (total, double), _ = theano.scan(lambda x_t, s_prev: (s_prev + x_t, 2 * x_t),
                                     sequences=x, outputs_info=[T.zeros_like(x[0]), None])
    xv = np.arange(1.0, 5.0)
    t_out, d_out = theano.function([x], [total, double], mode=mode)(xv)
    show("outputs_info=[s0, None]: a running sum and a mapped output", total=t_out,
         double=d_out)
    check(t_out, np.cumsum(xv))
    check(d_out, 2 * xv)


def n_steps_only(mode):
    # no sequence at all: n_steps says how often to iterate (the seed's "a * 2" example)
    a, n = T.iscalar("a"), T.iscalar("n")
    result, updates = theano.scan(fn=lambda prior, nonseq: prior * 2, sequences=None,
                                  outputs_info=a, non_sequences=a, n_steps=n)
    out = theano.function([a, n], result, updates=updates, mode=mode)(5, 3)
    show("n_steps: prior * 2, three times from 5", result=out)
    check(out, [10, 20, 40])


def taps(mode):
    # taps reach further back: Fibonacci needs h[t-2] and h[t-1]
    f0 = T.vector("f0")
    fib, _ = theano.scan(lambda f2, f1: f2 + f1, outputs_info=dict(initial=f0, taps=[-2, -1]),
                         n_steps=8)
    out = theano.function([f0], fib, mode=mode)(np.array([0.0, 1.0]))
    # sequence taps: fn gets x[t-1] and x[t+1] (the loop runs where both exist)
    x = T.vector("x")
    diff, _ = theano.scan(lambda x_prev, x_next: x_next - x_prev,
                          sequences=dict(input=x, taps=[-1, 1]))
    xv = np.array([1.0, 4.0, 9.0, 16.0, 25.0])
    d_out = theano.function([x], diff, mode=mode)(xv)
    show("taps: Fibonacci from outputs taps [-2, -1]; central difference from sequence "
         "taps [-1, 1]", fib=out, central_diff=d_out)
    check(out, [1, 2, 3, 5, 8, 13, 21, 34])
    check(d_out, xv[2:] - xv[:-2])


def go_backwards(mode):
    # go_backwards reads the sequence from its end; outputs stay in iteration order
    x = T.vector("x")
    s, _ = theano.scan(lambda x_t, s_prev: s_prev + x_t, sequences=x,
                       outputs_info=T.zeros_like(x[0]), go_backwards=True)
    xv = np.array([1.0, 2.0, 3.0, 4.0])
    out = theano.function([x], s, mode=mode)(xv)
    show("go_backwards: running sum from the end", s=out)
    check(out, np.cumsum(xv[::-1]))


def until(mode):
    # until(cond) stops the loop after the step where cond is true; n_steps is the maximum
    h0 = T.scalar("h0")
    h, _ = theano.scan(lambda h_prev: (2 * h_prev, theano.scan_module.until(2 * h_prev > 100)),
                       outputs_info=h0, n_steps=50)
    out = theano.function([h0], h, mode=mode)(3.0)
    show("until: double until above 100", h=out)
    check(out, [6, 12, 24, 48, 96, 192])


def updates_inside(mode):
    # fn may return updates of shared variables; pass scan's updates to function
    count = theano.shared(np.asarray(0, dtype="int64"), name="count")
    x = T.vector("x")
    y, updates = theano.scan(lambda x_t: (x_t + 1, {count: count + 1}), sequences=x)
    f = theano.function([x], y, updates=updates, mode=mode)
    f(np.zeros(3))
    f(np.zeros(4))
    show("updates from inside scan: a shared counter bumped every step",
         count=count.get_value())
    assert count.get_value() == 7


def nested(mode):
    # a scan inside fn: for each row, an inner loop over its elements (a running product)
    X = T.matrix("X")

    def row_fn(row):
        prods, _ = theano.scan(lambda v, p: p * v, sequences=row,
                               outputs_info=T.ones_like(row[0]))
        return prods[-1]
    prods, _ = theano.scan(row_fn, sequences=X)
    Xv = np.arange(1.0, 7.0).reshape(2, 3)
    out = theano.function([X], prods, mode=mode)(Xv)
    show("nested scan: product of each row", X=Xv, prods=out)
    check(out, Xv.prod(axis=1))


def gradient(mode):
    # T.grad through scan: backpropagation through time, itself a scan running backwards
    x, w = T.vector("x"), T.scalar("w")
    h, _ = theano.scan(lambda x_t, h_prev, w: T.tanh(w * h_prev + x_t), sequences=x,
                       outputs_info=T.zeros_like(w), non_sequences=w)
    cost = T.sum(h ** 2)
    g_w, g_x = T.grad(cost, [w, x])
    xv = np.array([0.5, -0.2, 0.8])
    gw, gx = theano.function([x, w], [g_w, g_x], mode=mode)(xv, 0.7)

    def loop_cost(xs, wv):  # the Python loop, differentiated by finite differences
        hv, c = 0.0, 0.0
        for x_t in xs:
            hv = np.tanh(wv * hv + x_t)
            c += hv ** 2
        return c
    eps = 1e-6
    num_w = (loop_cost(xv, 0.7 + eps) - loop_cost(xv, 0.7 - eps)) / (2 * eps)
    show("grad through scan: d cost / d w and d cost / d x", grad_w=gw, numeric_w=num_w,
         grad_x=gx)
    check(gw, num_w)


def training(args):
    # learn the decay a of h[t] = a * h[t-1] + x[t] from data generated with a = 0.9
    rng = np.random.RandomState(args.seed)
    a = theano.shared(np.asarray(0.1), name="a")
    X = T.dmatrix("X")  # (time, batch)
    h, _ = theano.scan(lambda x_t, h_prev, a: a * h_prev + x_t, sequences=X,
                       outputs_info=T.zeros_like(X[0]), non_sequences=a)
    target = T.dmatrix("target")
    cost = T.mean((h - target) ** 2)
    step = theano.function([X, target], cost, updates=[(a, a - 0.01 * T.grad(cost, a))],
                           mode=args.mode)
    ckpt = common.Checkpoint(args.out_dir, [a])
    start, history = ckpt.load() if args.resume else (0, {"cost": []})
    n_epochs = 40 if args.quick else args.epochs
    print("\n== training through scan: learn a = 0.9")
    bar = common.Progress(n_epochs - start, "train", not args.no_progress)
    for epoch in range(start, n_epochs):
        Xv = rng.normal(size=(20, 8))
        tv = np.zeros_like(Xv)
        for t in range(20):
            tv[t] = (0.9 * tv[t - 1] if t else 0) + Xv[t]
        history["cost"].append(float(step(Xv, tv)))
        bar.update(cost=history["cost"][-1])
        ckpt.save(epoch + 1, history)
    bar.close()
    print(f"a = {float(a.get_value()):.4f} after {n_epochs} epochs, cost "
          f"{history['cost'][0]:.4f} -> {history['cost'][-1]:.6f}")
    common.save_plot(os.path.join(args.out_dir, "scan_basics_training.png"),
                     {"cost": (np.arange(1, len(history["cost"]) + 1), history["cost"])},
                     "epoch", "mean squared error", "Training through scan", logy=True)
    return history


def main(argv=None):
    p = common.parser("scan_basics", __doc__.split("\n\n")[0], epochs=100)
    args = common.parse(p, argv)
    for section in (sequences_only, outputs_info_feedback, outputs_without_feedback,
                    n_steps_only, taps, go_backwards, until, updates_inside, nested, gradient):
        section(args.mode)
    return training(args)


if __name__ == "__main__":
    main()
