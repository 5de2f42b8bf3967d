"""scan, feature by feature: each section builds a loop, runs it and prints what it shows.

``theano.scan(fn, sequences, outputs_info, non_sequences, n_steps)`` calls
``fn`` once on symbolic arguments to build the body of a loop. At step t,
``fn`` receives, in this order: the slices of the sequences (x[t], or
x[t + tap] for each tap), the previous values of the outputs that are fed
back (h[t-1], or h[t + tap]), then the non-sequences, unchanged every step.
It returns the new outputs (and optionally updates and a stop condition).

Each section checks its result against the plain NumPy loop it stands for.
Part 1 covers the arguments of scan; part 2 the type rule and the tools that
show a loop (explain, debugprint, Print, fn.source(), a picture); part 3
gradients (truncate_gradient, checkpoint) and speed (unroll); part 4 the
examples of Theano's "Looping with scan"; part 5 maps JAX's ``lax.scan`` onto
scan; the last section trains a loop's parameter by gradient descent.

    python tutorials/scan_basics.py            # every section, then 100 training epochs
    python tutorials/scan_basics.py --quick    # the same sections, 40 training epochs
"""
import importlib.util
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import symrnn as theano  # noqa: E402
import symrnn.tensor as T  # noqa: E402
from symrnn.printing import Print  # noqa: E402
from symrnn.scan_module import explain, until  # noqa: E402

SECTIONS = []


def section(fn):
    """Register a section: it takes the mode (and the output folder) and prints as it goes."""
    SECTIONS.append(fn)
    return fn


def title(text):
    print(f"\n== {text}")


def show(**values):
    for name, v in values.items():
        v = np.asarray(v)
        print(f"{name} {v.shape} {v.dtype}:\n{np.array2string(v, precision=4)}")


def check(got, expected, rtol=1e-6):
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-8)


def error_of(thunk):
    """Run ``thunk``, which must fail; return the first line of its error message."""
    try:
        thunk()
    except (TypeError, ValueError, IndexError) as e:
        return f"{type(e).__name__}: {str(e).splitlines()[0]}"
    raise AssertionError("expected an error")


# ======================= part 1: the arguments of scan =======================

@section
def sequences_only(mode, out_dir):
    title("sequences: y[t] = x[t] ** 2 (a map: nothing is fed back)")
    x = T.dvector("x")
    y, _ = theano.scan(lambda x_t: x_t ** 2, sequences=x)
    xv = np.arange(5.0)
    out = theano.function([x], y, mode=mode)(xv)
    show(x=xv, y=out)
    check(out, [v ** 2 for v in xv])


@section
def outputs_info_feedback(mode, out_dir):
    title("outputs_info + non_sequences: h[t] = w * h[t-1] + x[t]")
    # outputs_info gives the initial value; fn gets the previous value back
    x, h0, w = T.dvector("x"), T.dscalar("h0"), T.dscalar("w")
    h, _ = theano.scan(lambda x_t, h_prev, w: w * h_prev + x_t,
                       sequences=x, outputs_info=h0, non_sequences=w)
    xv = np.array([1.0, 0.0, 2.0, 0.0])
    out = theano.function([x, h0, w], h, mode=mode)(xv, 1.0, 0.5)
    show(h=out)
    expected, prev = [], 1.0
    for x_t in xv:  # the plain Python loop this scan stands for
        prev = 0.5 * prev + x_t
        expected.append(prev)
    check(out, expected)


@section
def outputs_without_feedback(mode, out_dir):
    title("outputs_info=[s0, None]: a running sum (fed back) and a mapped output (not)")
    x = T.dvector("x")
    (total, double), _ = theano.scan(lambda x_t, s_prev: (s_prev + x_t, 2 * x_t),
                                     sequences=x, outputs_info=[T.zeros_like(x[0]), None])
    xv = np.arange(1.0, 5.0)
    t_out, d_out = theano.function([x], [total, double], mode=mode)(xv)
    show(total=t_out, double=d_out)
    check(t_out, np.cumsum(xv))
    check(d_out, 2 * xv)


@section
def n_steps_only(mode, out_dir):
    title("n_steps without sequences: prior * 2, three times from 5")
    a, n = T.lscalar("a"), T.lscalar("n")
    result, _ = theano.scan(lambda prior: prior * 2, outputs_info=a, n_steps=n)
    out = theano.function([a, n], result, mode=mode)(5, 3)
    show(result=out)
    check(out, [10, 20, 40])


@section
def taps(mode, out_dir):
    title("taps: Fibonacci from output taps [-2, -1]; a central difference from sequence "
          "taps [-1, 1]")
    # output taps: the initial value holds the 2 values before step 0, oldest first
    f0 = T.dvector("f0")
    fib, _ = theano.scan(lambda f2, f1: f2 + f1, outputs_info=dict(initial=f0, taps=[-2, -1]),
                         n_steps=8)
    out = theano.function([f0], fib, mode=mode)(np.array([0.0, 1.0]))
    # sequence taps: fn gets x[t-1] and x[t+1]; the loop runs where both exist (3 steps of 5)
    x = T.dvector("x")
    diff, _ = theano.scan(lambda x_prev, x_next: x_next - x_prev,
                          sequences=dict(input=x, taps=[-1, 1]))
    xv = np.array([1.0, 4.0, 9.0, 16.0, 25.0])
    d_out = theano.function([x], diff, mode=mode)(xv)
    show(fib=out, central_diff=d_out)
    check(out, [1, 2, 3, 5, 8, 13, 21, 34])
    check(d_out, xv[2:] - xv[:-2])


@section
def go_backwards(mode, out_dir):
    title("go_backwards: a running sum from the end (outputs in iteration order)")
    x = T.dvector("x")
    s, _ = theano.scan(lambda x_t, s_prev: s_prev + x_t, sequences=x,
                       outputs_info=T.zeros_like(x[0]), go_backwards=True)
    xv = np.array([1.0, 2.0, 3.0, 4.0])
    out = theano.function([x], s, mode=mode)(xv)
    show(s=out)
    check(out, np.cumsum(xv[::-1]))


@section
def stop_with_until(mode, out_dir):
    title("until: double until above 100 (n_steps=50 is only the maximum)")
    # the step that makes the condition true is the last one done
    h0 = T.dscalar("h0")
    h, _ = theano.scan(lambda h_prev: (2 * h_prev, until(2 * h_prev > 100)),
                       outputs_info=h0, n_steps=50)
    out = theano.function([h0], h, mode=mode)(3.0)
    show(h=out)
    check(out, [6, 12, 24, 48, 96, 192])


@section
def updates_inside(mode, out_dir):
    title("updates from inside scan: a shared counter bumped every step")
    # fn may return {shared: new value}; pass scan's updates to function
    count = theano.shared(np.asarray(0, dtype="int64"), name="count")
    x = T.dvector("x")
    y, updates = theano.scan(lambda x_t: (x_t + 1, {count: count + 1}), sequences=x)
    f = theano.function([x], y, updates=updates, mode=mode)
    f(np.zeros(3))
    f(np.zeros(4))
    show(count=count.get_value())
    assert count.get_value() == 7


@section
def strict_non_sequences(mode, out_dir):
    title("strict=True: fn may use only what it is given")
    # by default W is found and passed as a hidden non-sequence; strict makes that an error
    x, W = T.dmatrix("x"), T.dmatrix("W")
    print(error_of(lambda: theano.scan(lambda x_t: T.dot(x_t, W), sequences=x, strict=True)))
    y, _ = theano.scan(lambda x_t, W: T.dot(x_t, W), sequences=x, non_sequences=W, strict=True)
    xv, Wv = np.eye(2), np.array([[1.0, 2.0], [3.0, 4.0]])
    out = theano.function([x, W], y, mode=mode)(xv, Wv)
    show(y=out)
    check(out, xv @ Wv)


@section
def map_reduce_fold(mode, out_dir):
    title("map, reduce, foldl, foldr: scan with fixed roles")
    x = T.dvector("x")
    squares, _ = theano.map(lambda v: v ** 2, sequences=x)  # no fed-back output
    total, _ = theano.reduce(lambda v, acc: acc + v, sequences=x,
                             outputs_info=T.zeros_like(x[0]))  # only the last value
    left, _ = theano.foldl(lambda v, acc: acc * 10 + v, sequences=x,
                           outputs_info=T.zeros_like(x[0]))
    right, _ = theano.foldr(lambda v, acc: acc * 10 + v, sequences=x,
                            outputs_info=T.zeros_like(x[0]))
    xv = np.array([1.0, 2.0, 3.0])
    outs = theano.function([x], [squares, total, left, right], mode=mode)(xv)
    show(map=outs[0], reduce=outs[1], foldl=outs[2], foldr=outs[3])
    check(outs[0], xv ** 2)
    check(outs[1:], [6.0, 123.0, 321.0])


@section
def nested(mode, out_dir):
    title("nested scan: the product of each row, an inner loop per outer step")
    X = T.dmatrix("X")

    def row_fn(row):
        prods, _ = theano.scan(lambda v, p: p * v, sequences=row,
                               outputs_info=T.ones_like(row[0]))
        return prods[-1]
    prods, _ = theano.scan(row_fn, sequences=X)
    Xv = np.arange(1.0, 7.0).reshape(2, 3)
    out = theano.function([X], prods, mode=mode)(Xv)
    show(X=Xv, prods=out)
    check(out, Xv.prod(axis=1))


# ============ part 2: the type rule, and seeing what a loop does ============

@section
def type_rule(mode, out_dir):
    title("the type rule: an output fed back keeps its initial value's type")
    # fn must return h[t] with the dtype and dimensions of outputs_info's value
    v = T.lvector("v")
    print("initial 0 (int64), step returns acc + 0.5 (float64):")
    print("  " + error_of(lambda: theano.scan(lambda x, acc: acc + 0.5 * x, sequences=v,
                                              outputs_info=0)))
    # the pitfall: under floatX=float32, np.zeros(3) is float64, so h silently becomes float64
    old = theano.config.floatX
    theano.config.floatX = "float32"
    try:
        x = T.matrix("x")  # float32
        h64, _ = theano.scan(lambda x_t, h: x_t + h, sequences=x, outputs_info=np.zeros(3))
        h32, _ = theano.scan(lambda x_t, h: x_t + h, sequences=x,
                             outputs_info=np.zeros(3, dtype=theano.config.floatX))
        hz, _ = theano.scan(lambda x_t, h: x_t + h, sequences=x,
                            outputs_info=T.zeros_like(x[0]))
    finally:
        theano.config.floatX = old
    print(f"x is {x.dtype}; outputs_info=np.zeros(3) gives h {h64.dtype} (the whole loop in "
          f"float64); np.zeros(3, dtype=floatX) gives {h32.dtype}; T.zeros_like(x[0]) gives "
          f"{hz.dtype}")
    assert (h64.dtype, h32.dtype, hz.dtype) == ("float64", "float32", "float32")


@section
def explain_and_debugprint(mode, out_dir):
    title("explain (each step argument, where it comes from) and debugprint (the graph)")
    x, W = T.dmatrix("x"), T.dmatrix("W")
    h, _ = theano.scan(lambda x_t, h_prev, W: T.tanh(T.dot(h_prev, W) + x_t), sequences=x,
                       outputs_info=T.zeros_like(x[0]), non_sequences=W, name="rnn")
    text = explain(h)
    theano.printing.debugprint(h[-1])
    assert "x[t]" in text and "non_sequences[0]" in text


@section
def print_inside_a_step(mode, out_dir):
    title("Print: a value printed at every step when the function runs (numba compiles it)")
    x = T.dvector("x")
    s, _ = theano.scan(lambda v, acc: Print("running sum")(acc + v), sequences=x,
                       outputs_info=T.zeros_like(x[0]))
    out = theano.function([x], s, mode=mode)(np.array([1.0, 2.0, 3.0]))
    check(out, [1.0, 3.0, 6.0])


@section
def generated_source(mode, out_dir):
    title("fn.source(): the loop numba compiles, as Python source")
    x = T.dvector("x")
    s, _ = theano.scan(lambda v, acc: 0.5 * acc + v, sequences=x,
                       outputs_info=T.zeros_like(x[0]))
    if importlib.util.find_spec("numba") is None:
        print("numba is not installed: no generated source")
        return
    f = theano.function([x], s, mode="NUMBA")
    print(f.source())
    check(f(np.ones(3)), [1.0, 1.5, 1.75])


@section
def picture(mode, out_dir):
    title("pydotprint: a picture of the training function (the scan's step in a box)")
    x = T.dmatrix("x")
    w = theano.shared(0.5, name="w")
    h, _ = theano.scan(lambda x_t, h_prev, w: T.tanh(w * h_prev + x_t), sequences=x,
                       outputs_info=T.zeros_like(x[0]), non_sequences=w, name="rnn")
    cost = (h[-1] ** 2).sum()
    f = theano.function([x], cost, updates=[(w, w - 0.1 * T.grad(cost, w))], mode=mode)
    has_drawing = (importlib.util.find_spec("matplotlib") is not None
                   or __import__("shutil").which("dot"))
    fmt = "png" if has_drawing else "dot"  # without graphviz or matplotlib: the DOT text
    theano.printing.pydotprint(f, os.path.join(out_dir, f"scan_basics_graph.{fmt}"),
                               format=fmt)
    print("green: inputs, blue: shared variables, grey: constants, orange: outputs, violet: "
          "updates (a dashed edge back to the shared variable), yellow boxes: each scan's "
          "step arguments")


# ============ part 3: gradients through scan, and the speed knobs ============

@section
def gradient(mode, out_dir):
    title("T.grad through scan: backpropagation through time (itself a backward scan)")
    x, w = T.dvector("x"), T.dscalar("w")
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
    show(grad_w=gw, numeric_w=num_w, grad_x=gx)
    check(gw, num_w)


def linear_scan(**kw):
    x, w = T.dvector("x"), T.dscalar("w")
    h, _ = theano.scan(lambda x_t, h_prev, w: w * h_prev + x_t, sequences=x,
                       outputs_info=T.zeros_like(w), non_sequences=w, **kw)
    return x, w, h


@section
def truncate_gradient(mode, out_dir):
    title("truncate_gradient=k: the gradient goes back only k steps")
    # h[t] = w h[t-1] + x[t], cost = h[-1]: d cost / d x[t] = w ** (T-1-t), cut after k steps
    x, w, h = linear_scan(truncate_gradient=2)
    g = theano.function([x, w], T.grad(h[-1], x), mode=mode)(np.ones(6), 0.5)
    show(grad_x=g)
    check(g, [0, 0, 0, 0, 0.5, 1.0])


@section
def checkpoint(mode, out_dir):
    title("checkpoint=k: the gradient stores every k-th state and recomputes the rest")
    x, w, h = linear_scan(checkpoint=3)
    x2, w2, h2 = linear_scan()
    xv = np.linspace(-1, 1, 7)
    g = theano.function([x, w], T.grad((h ** 2).sum(), [x, w]), mode=mode)(xv, 0.9)
    g_full = theano.function([x2, w2], T.grad((h2 ** 2).sum(), [x2, w2]), mode=mode)(xv, 0.9)
    show(grad_w_checkpointed=g[1], grad_w_every_state_stored=g_full[1])
    check(g[0], g_full[0])
    check(g[1], g_full[1])


@section
def unroll(mode, out_dir):
    title("unroll=k: the compiled loop does k steps per iteration (same result)")
    x, w, h = linear_scan(unroll=4)
    out = theano.function([x, w], h, mode=mode)(np.ones(6), 0.5)
    show(h=out)
    check(out, [1, 1.5, 1.75, 1.875, 1.9375, 1.96875])


# ============ part 4: Theano's "Looping with scan", example by example ============

@section
def power_of_a(mode, out_dir):
    title("A ** k: multiply k times, keep the last value (result[-1])")
    k, A = T.iscalar("k"), T.dvector("A")
    result, _ = theano.scan(lambda prior_result, A: prior_result * A,
                            outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    final = result[-1]  # scan keeps every step; Theano then drops all but the last
    out = theano.function([A, k], final, mode=mode)(np.arange(10.0), 2)
    show(A_to_the_2=out)
    check(out, np.arange(10.0) ** 2)


@section
def polynomial(mode, out_dir):
    title("a polynomial: coefficients and T.arange(10000) (the loop runs over the shortest)")
    coefficients, x = T.dvector("coefficients"), T.dscalar("x")
    components, _ = theano.scan(lambda coeff, power, free_var: coeff * (free_var ** power),
                                sequences=[coefficients, T.arange(10000)], non_sequences=x)
    polynomial = components.sum()
    out = theano.function([coefficients, x], polynomial, mode=mode)(
        np.array([1.0, 0.0, 2.0]), 3.0)
    show(value_at_3=out)
    check(out, 1.0 * 3 ** 0 + 0.0 * 3 ** 1 + 2.0 * 3 ** 2)


@section
def scalar_accumulation(mode, out_dir):
    title("accumulating into a scalar: give the initial value the sequence's dtype")
    up_to = T.iscalar("up_to")
    seq = T.arange(up_to)  # int32 here (up_to is int32)
    # the accumulator's dtype is the initial value's, not the sequence's: 0 is int64
    wide, _ = theano.scan(lambda v, sum_to_date: sum_to_date + v, sequences=seq,
                          outputs_info=0)
    initial = T.as_tensor_variable(np.asarray(0, seq.dtype))
    scan_result, _ = theano.scan(lambda v, sum_to_date: sum_to_date + v, sequences=seq,
                                 outputs_info=initial)
    out = theano.function([up_to], scan_result, mode=mode)(5)
    print(f"steps {seq.dtype}: outputs_info=0 sums in {wide.dtype}; "
          f"np.asarray(0, seq.dtype) sums in {scan_result.dtype}")
    show(running_sum=out)
    check(out, np.cumsum(np.arange(5)))
    assert (wide.dtype, out.dtype) == ("int64", np.int32)


@section
def set_subtensor_per_step(mode, out_dir):
    title("set_subtensor per step: a matrix of zeros with one value set, per (position, value)")
    location, values, model = T.imatrix("location"), T.dvector("values"), T.dmatrix("model")

    def set_value_at_position(a_location, a_value, output_model):
        zeros = T.zeros_like(output_model)
        return T.set_subtensor(zeros[a_location[0], a_location[1]], a_value)
    result, _ = theano.scan(set_value_at_position, sequences=[location, values],
                            non_sequences=model)
    loc = np.array([[1, 1], [2, 3]], dtype="int32")
    out = theano.function([location, values, model], result, mode=mode)(
        loc, np.array([42.0, 50.0]), np.zeros((5, 5)))
    show(step_1=out[1])
    expected = np.zeros((2, 5, 5))
    expected[0, 1, 1], expected[1, 2, 3] = 42.0, 50.0
    check(out, expected)


@section
def one_step_rnn_with_taps(mode, out_dir):
    title("an RNN step with mixed taps: u[t-4], u[t], x[t-3], x[t-1], y[t-1] (strict)")
    W, W_in_1, W_in_2, W_feedback, W_out = (T.dmatrix(n) for n in (
        "W", "W_in_1", "W_in_2", "W_feedback", "W_out"))
    u, x0, y0 = T.dmatrix("u"), T.dmatrix("x0"), T.dvector("y0")

    def one_step(u_tm4, u_t, x_tm3, x_tm1, y_tm1, W, W_in_1, W_in_2, W_feedback, W_out):
        x_t = T.tanh(T.dot(x_tm1, W) + T.dot(u_t, W_in_1) + T.dot(u_tm4, W_in_2)
                     + T.dot(y_tm1, W_feedback))
        y_t = T.dot(x_tm3, W_out)
        return [x_t, y_t]
    weights = [W, W_in_1, W_in_2, W_feedback, W_out]
    (x_vals, y_vals), _ = theano.scan(
        one_step, sequences=dict(input=u, taps=[-4, 0]),
        outputs_info=[dict(initial=x0, taps=[-3, -1]), y0], non_sequences=weights, strict=True)
    rng = np.random.RandomState(0)
    nx, nu, ny = 3, 2, 2
    wv = [rng.normal(0, 0.5, s) for s in ((nx, nx), (nu, nx), (nu, nx), (ny, nx), (nx, ny))]
    uv, x0v, y0v = rng.normal(size=(8, nu)), rng.normal(size=(3, nx)), np.zeros(ny)
    xs, ys = theano.function([u, x0, y0] + weights, [x_vals, y_vals], mode=mode)(
        uv, x0v, y0v, *wv)
    hist_x, y_prev, exp_x, exp_y = list(x0v), y0v, [], []
    for t in range(4, 8):  # the plain loop: step t reads u[t-4] and u[t]
        x_t = np.tanh(hist_x[-1] @ wv[0] + uv[t] @ wv[1] + uv[t - 4] @ wv[2]
                      + y_prev @ wv[3])
        y_prev = hist_x[-3] @ wv[4]
        hist_x.append(x_t)
        exp_x.append(x_t)
        exp_y.append(y_prev)
    show(y=ys)
    check(xs, exp_x)
    check(ys, exp_y)


@section
def updates_of_a_shared(mode, out_dir):
    title("updates[a]: the value a shared variable will have after the loop")
    a = theano.shared(1, name="a")
    values, updates = theano.scan(lambda: {a: a + 1}, n_steps=10)
    b = a + 1  # a before the call
    c = updates[a] + 1  # a after the ten steps
    f = theano.function([], [b, c], updates=updates, mode=mode)
    bv, cv = f()
    show(b=bv, c=cv, a=a.get_value())
    assert (int(bv), int(cv), int(a.get_value())) == (2, 12, 11)


@section
def reverse(mode, out_dir):
    title("P[::-1] or go_backwards=True: the same loop, the same outputs")
    P = T.dvector("P")
    step = lambda p, acc: acc * 2 + p  # noqa: E731
    fwd_rev, _ = theano.scan(step, sequences=P[::-1], outputs_info=T.zeros_like(P[0]))
    back, _ = theano.scan(step, sequences=P, outputs_info=T.zeros_like(P[0]),
                          go_backwards=True)
    a, b = theano.function([P], [fwd_rev, back], mode=mode)(np.array([1.0, 0.0, 1.0, 1.0]))
    show(scan_of_reversed=a, go_backwards=b)
    check(a, b)


@section
def norms(mode, out_dir):
    title("norms of the rows of X, and of its columns (scan over X.T)")
    X = T.dmatrix("X")
    rows, _ = theano.scan(lambda x_i: T.sqrt((x_i ** 2).sum()), sequences=[X])
    cols, _ = theano.scan(lambda x_i: T.sqrt((x_i ** 2).sum()), sequences=[X.T])
    Xv = np.diag(np.arange(1.0, 4.0))
    r, c = theano.function([X], [rows, cols], mode=mode)(Xv)
    show(row_norms=r, column_norms=c)
    check(r, np.linalg.norm(Xv, axis=1))
    check(c, np.linalg.norm(Xv, axis=0))


@section
def trace(mode, out_dir):
    title("the trace: scan over two index sequences, accumulating X[i, i]")
    X = T.dmatrix("X")
    results, _ = theano.scan(lambda i, j, t_f: X[i, j] + t_f,
                             sequences=[T.arange(X.shape[0]), T.arange(X.shape[1])],
                             outputs_info=np.asarray(0.0))
    Xv = np.arange(1.0, 10.0).reshape(3, 3)
    out = theano.function([X], results[-1], mode=mode)(Xv)
    show(trace=out)
    check(out, np.trace(Xv))


@section
def jacobian(mode, out_dir):
    title("a Jacobian: scan over the indices of y, one T.grad(y[i], x) per step")
    x = T.dvector("x")
    y = x ** 2
    J, _ = theano.scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]),
                       non_sequences=[y, x])
    out = theano.function([x], J, mode=mode)(np.array([4.0, 4.0]))
    show(J=out)
    check(out, np.diag([8.0, 8.0]))


@section
def gibbs_sampling(mode, out_dir):
    title("Gibbs sampling: random draws inside the step (random streams advance every step)")
    streams = getattr(T, "shared_randomstreams", None)
    if streams is None:
        print("this symrnn has no random streams: section skipped")
        return
    n = 4000  # many independent units, so the sample's mean is close to its probability
    W = theano.shared(np.zeros((n, 3)), name="W")  # W = 0: every unit v_i ~ Bernoulli(p_i)
    bvis = theano.shared(np.where(np.arange(n) < n // 2, -1.0, 2.0), name="bvis")
    bhid = theano.shared(np.zeros(3), name="bhid")
    trng = streams.RandomStreams(1234)

    def one_step(vsample):
        hmean = T.nnet.sigmoid(T.dot(vsample, W) + bhid)
        hsample = trng.binomial(size=hmean.shape, n=1, p=hmean)
        vmean = T.nnet.sigmoid(T.dot(hsample, W.T) + bvis)
        return trng.binomial(size=vsample.shape, n=1, p=vmean, dtype="float64")
    sample = T.dvector("sample")
    values, updates = theano.scan(one_step, outputs_info=sample, n_steps=10)
    gibbs10 = theano.function([sample], values[-1], updates=updates, mode=mode)
    first, second = gibbs10(np.zeros(n)), gibbs10(np.zeros(n))
    p = 1 / (1 + np.exp(-bvis.get_value()))
    show(mean_of_each_half=[first[:n // 2].mean(), first[n // 2:].mean()],
         their_probabilities=p[[0, -1]])
    assert set(np.unique(first)) <= {0.0, 1.0} and not np.array_equal(first, second)
    for half in (slice(0, n // 2), slice(n // 2, n)):  # 5 standard deviations
        assert abs(first[half].mean() - p[half][0]) < 5 * np.sqrt(0.25 / (n // 2))


# ============ part 5: coming from JAX's lax.scan ============

@section
def from_jax(mode, out_dir):
    title("coming from JAX: lax.scan(f, init, xs) -> (carry, ys)")
    # JAX's f(carry, x) returns (new_carry, y); Theano's fn(x, carry) returns new values.
    # The carry is an output fed back (outputs_info); scan stacks it over all steps, so
    # JAX's final carry is h[-1]; JAX's ys are outputs that are not fed back (None).
    xs, init = T.dvector("xs"), T.dscalar("init")
    (carry, ys), _ = theano.scan(lambda x, c: (c + x, c * x), sequences=xs,
                                 outputs_info=[init, None])
    # reverse=True in JAX runs from the end but keeps ys aligned with xs (ys[t] from xs[t]);
    # go_backwards keeps outputs in iteration order: reverse them to align
    (carry_b, ys_b), _ = theano.scan(lambda x, c: (c + x, c * x), sequences=xs,
                                     outputs_info=[init, None], go_backwards=True)
    f = theano.function([xs, init], [carry[-1], ys, ys_b[::-1]], mode=mode)
    xv = np.array([1.0, 2.0, 3.0])
    final, y, y_rev = f(xv, 0.0)
    show(final_carry=final, ys=y, ys_like_jax_reverse=y_rev)
    c, exp_y = 0.0, []
    for x in xv:  # what jax.lax.scan(lambda c, x: (c + x, c * x), 0.0, xv) computes
        exp_y.append(c * x)
        c = c + x
    check(final, c)
    check(y, exp_y)
    c, exp_rev = 0.0, np.zeros(3)
    for t in reversed(range(3)):
        exp_rev[t] = c * xv[t]
        c = c + xv[t]
    check(y_rev, exp_rev)
    # a JAX scan of length 0 returns init and empty ys; scan (like Theano's) refuses 0 steps
    print("length 0: " + error_of(lambda: f(np.zeros(0), 0.0)))


# ============ training ============

def training(args):
    """Learn the decay a of h[t] = a * h[t-1] + x[t] from data generated with a = 0.9."""
    rng = np.random.RandomState(args.seed)
    a = theano.shared(np.asarray(0.1), name="a")
    X = T.dmatrix("X")  # (time, batch)
    h, _ = theano.scan(lambda x_t, h_prev, a: a * h_prev + x_t, sequences=X,
                       outputs_info=T.zeros_like(X[0]), non_sequences=a)
    target = T.dmatrix("target")
    cost = T.mean((h - target) ** 2)
    step = theano.function([X, target], cost, updates=[(a, a - 0.01 * T.grad(cost, a))],
                           mode=args.mode)
    ckpt = common.Checkpoint(args.out_dir, [a], rngs=[rng])  # rng: each epoch's new data
    start, history = ckpt.load() if args.resume else (0, {"cost": []})
    n_epochs = 40 if args.quick else args.epochs
    title(f"training through scan: learn a = 0.9 ({n_epochs} epochs)")
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
    history["a"] = [float(a.get_value())]
    common.save_plot(os.path.join(args.out_dir, "scan_basics_training.png"),
                     {"cost": (np.arange(1, len(history["cost"]) + 1), history["cost"])},
                     "epoch", "mean squared error", "Training through scan", logy=True)
    return history


def main(argv=None):
    p = common.parser("scan_basics", __doc__.split("\n\n")[0], epochs=100)
    p.add_argument("--train-only", action="store_true",
                   help="skip the feature sections and only train (e.g. with --resume)")
    args = common.parse(p, argv)
    if not args.train_only:
        for fn in SECTIONS:
            fn(args.mode, args.out_dir)
        print(f"\nall {len(SECTIONS)} sections agree with their NumPy loops "
              f"(backend {args.backend})")
    history = training(args)
    common.quick_note(args, "40 training epochs instead of --epochs; every section above "
                      "ran and was checked as in a full run")
    return history


if __name__ == "__main__":
    main()
