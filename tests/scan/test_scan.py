"""symrnn.scan against plain NumPy loops: forward results and gradients, on every mode."""
import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from symrnn.gradient import verify_grad
from symrnn.scan_module import until
from helpers import MODES, assert_close, compare_backends


def fn_of(inputs, outputs, mode, **kw):
    return symrnn.function(inputs, outputs, mode=mode, **kw)


# ---- forward ----

@pytest.mark.parametrize("mode", MODES)
def test_theano_examples_from_the_seed(mode):
    a, n = T.iscalar("a"), T.iscalar("n")
    result, updates = symrnn.scan(fn=lambda prior, nonseq: prior * 2, sequences=None,
                                  outputs_info=a, non_sequences=a, n_steps=n)
    out = fn_of([a, n], result, mode, updates=updates)(5, 3)
    np.testing.assert_array_equal(out, [10, 20, 40])
    assert out.dtype == np.int32
    v, s0 = T.matrix("v"), T.vector("s0")
    result, _ = symrnn.scan(fn=lambda seq, prior: seq + prior * 2, sequences=v, outputs_info=s0)
    got = fn_of([v, s0], result, mode)([[1., 0.], [0., 1.], [1., 1.]], [0.5, 0.5])
    np.testing.assert_allclose(got, [[2., 1.], [4., 3.], [9., 7.]])


def sequence_taps_reference(x, taps):
    lo, hi = min(min(taps), 0), max(max(taps), 0)
    n = len(x) - (hi - lo)
    return np.stack([sum((k + 1) * x[t + k - lo] for k in taps) for t in range(n)])


@pytest.mark.parametrize("taps", [[0], [-1], [2], [-2, 0, 1], [1, 3], [-3, -1]])
@pytest.mark.parametrize("mode", MODES)
def test_sequence_taps_follow_theano(mode, taps):
    x = T.matrix("x")

    def step(*args):
        return sum((k + 1) * a for k, a in zip(taps, args))
    out, _ = symrnn.scan(step, sequences=dict(input=x, taps=taps))
    xv = np.arange(14.).reshape(7, 2)
    got = compare_backends([x], out, [xv], modes=[mode] if mode != "NUMPY" else [])
    assert_close(got, sequence_taps_reference(xv, taps))


def test_sequence_taps_gradient():
    def f(x):
        out, _ = symrnn.scan(lambda a, b, c: a * b + T.sin(c),
                             sequences=dict(input=x, taps=[-2, 0, 1]))
        return out
    verify_grad(f, [np.random.default_rng(0).normal(size=(6, 3))], mode="NUMPY")


@pytest.mark.parametrize("mode", MODES)
def test_shortest_sequence_and_n_steps_cut(mode):
    x, y, n = T.vector("x"), T.vector("y"), T.lscalar("n")
    out, _ = symrnn.scan(lambda a, b: a * b, sequences=[x, y])
    f = fn_of([x, y], out, mode)
    np.testing.assert_allclose(f(np.arange(5.), np.arange(3.) + 1), [0., 2., 6.])
    out, _ = symrnn.scan(lambda a, b: a * b, sequences=[x, y], n_steps=n)
    f = fn_of([x, y, n], out, mode)
    np.testing.assert_allclose(f(np.arange(5.), np.arange(3.) + 1, 2), [0., 2.])


@pytest.mark.parametrize("mode", MODES)
def test_several_taps_on_an_output(mode):
    x0 = T.vector("x0")
    fib, _ = symrnn.scan(lambda a, b: a + b, outputs_info=dict(initial=x0, taps=[-2, -1]),
                         n_steps=6)
    np.testing.assert_allclose(fn_of([x0], fib, mode)([1., 1.]), [2, 3, 5, 8, 13, 21])
    lag3, _ = symrnn.scan(lambda a: a * 2, outputs_info=dict(initial=x0, taps=[-3]),
                          n_steps=4)
    np.testing.assert_allclose(fn_of([x0], lag3, mode)([1., 2., 3.]), [2, 4, 6, 4])


def test_several_taps_gradient():
    def f(x0, w):
        out, _ = symrnn.scan(lambda a, b, w: T.tanh(a * w + b), n_steps=5, non_sequences=w,
                             outputs_info=dict(initial=x0, taps=[-3, -1]))
        return out
    rng = np.random.default_rng(1)
    verify_grad(f, [rng.normal(size=(3, 2)), rng.normal(size=2)], mode="NUMPY")


@pytest.mark.parametrize("mode", MODES)
def test_recurrent_and_mapped_outputs_with_go_backwards(mode):
    x, h0 = T.matrix("x"), T.vector("h0")
    (h, y), _ = symrnn.scan(lambda xt, h: [h + xt, (h * xt).sum()], sequences=x,
                            outputs_info=[h0, None], go_backwards=True)
    xv, hv = np.arange(6.).reshape(3, 2), np.ones(2)
    got_h, got_y = fn_of([x, h0], [h, y], mode)(xv, hv)
    hs, ys, prev = [], [], hv
    for t in range(2, -1, -1):
        ys.append((prev * xv[t]).sum())
        prev = prev + xv[t]
        hs.append(prev)
    np.testing.assert_allclose(got_h, hs)
    np.testing.assert_allclose(got_y, ys)


def test_go_backwards_gradient():
    def f(x, h0):
        h, _ = symrnn.scan(lambda xt, h: T.tanh(h * xt + xt), sequences=x, outputs_info=h0,
                           go_backwards=True)
        return h
    rng = np.random.default_rng(2)
    verify_grad(f, [rng.normal(size=(4, 3)), rng.normal(size=3)], mode="NUMPY")


@pytest.mark.parametrize("mode", MODES)
def test_free_variables_and_shared_variables_become_inputs(mode):
    x = T.vector("x")
    W = symrnn.shared(np.float64(3.0), name="W")
    b = T.scalar("b")
    out, _ = symrnn.scan(lambda xt: xt * W + b, sequences=x)
    f = fn_of([x, b], out, mode)
    np.testing.assert_allclose(f([1., 2.], 0.5), [3.5, 6.5])
    gW, gb = symrnn.grad(out.sum(), [W, b])
    np.testing.assert_allclose(fn_of([x, b], [gW, gb], mode)([1., 2.], 0.5), [3., 2.])


@pytest.mark.parametrize("mode", MODES)
def test_updates_from_fn_work_in_function(mode):
    counter = symrnn.shared(np.int64(0), name="counter")
    x = T.vector("x")

    def step(xt):
        return xt * 2, {counter: counter + 1}
    out, updates = symrnn.scan(step, sequences=x)
    assert list(updates) == [counter]
    f = fn_of([x], out, mode, updates=updates)
    np.testing.assert_allclose(f([1., 2., 3.]), [2., 4., 6.])
    assert counter.get_value() == 3
    f([1., 2.])
    assert counter.get_value() == 5


@pytest.mark.parametrize("mode", MODES)
def test_until_stops_after_the_step_where_it_holds(mode):
    x0 = T.scalar("x0")
    out, _ = symrnn.scan(lambda v: (v * 2, until(v * 2 > 40)), outputs_info=x0, n_steps=100)
    np.testing.assert_allclose(fn_of([x0], out, mode)(3.0), [6., 12., 24., 48.])
    # (outputs, until) given as a list, and a different order: until first
    out2, _ = symrnn.scan(lambda v: [until(v > 5), v + 1], outputs_info=x0, n_steps=100)
    np.testing.assert_allclose(fn_of([x0], out2, mode)(3.0), [4., 5., 6., 7.])


def test_until_gradient_runs_over_the_steps_taken():
    def f(x0, w):
        out, _ = symrnn.scan(lambda v, w: (v * w, until(v > 4.0)), outputs_info=x0,
                             non_sequences=w, n_steps=50)
        return out
    verify_grad(f, [np.array(1.3), np.array(1.7)], mode="NUMPY")
    x0, w = T.dscalar("x0"), T.dscalar("w")
    out = f(x0, w)
    g = symrnn.grad(out[-1], w)
    gv, outv = symrnn.function([x0, w], [g, out], mode="NUMPY")(1.3, 1.7)
    k = len(outv)  # out[-1] = x0 * w ** k
    np.testing.assert_allclose(gv, k * 1.3 * 1.7 ** (k - 1))


@pytest.mark.parametrize("mode", MODES)
def test_map_reduce_foldl_foldr(mode):
    x = T.vector("x")
    sq, _ = symrnn.map(lambda v: v ** 2, x)
    s, _ = symrnn.reduce(lambda v, acc: acc + v, x, T.constant(0.0))
    l, _ = symrnn.foldl(lambda v, acc: acc * 10 + v, x, T.constant(0.0))
    r, _ = symrnn.foldr(lambda v, acc: acc * 10 + v, x, T.constant(0.0))
    got = fn_of([x], [sq, s, l, r], mode)([1., 2., 3.])
    for g, e in zip(got, [[1., 4., 9.], 6., 123., 321.]):
        np.testing.assert_allclose(g, e)


def test_return_list_and_bare_output():
    x = T.vector("x")
    out, _ = symrnn.scan(lambda v: v + 1, sequences=x)
    assert isinstance(out, symrnn.Variable)
    out, _ = symrnn.scan(lambda v: v + 1, sequences=x, return_list=True)
    assert isinstance(out, list) and len(out) == 1


# ---- nesting ----

@pytest.mark.parametrize("mode", MODES)
def test_nested_scan_and_scan_over_scan_outputs(mode):
    X = T.matrix("X")

    def row_cumsum(row):
        out, _ = symrnn.scan(lambda v, acc: acc + v, sequences=row,
                             outputs_info=T.constant(0.0))
        return out
    inner, _ = symrnn.scan(row_cumsum, sequences=X)
    outer, _ = symrnn.scan(lambda r, acc: acc + r, sequences=inner,
                           outputs_info=T.zeros((X.shape[1],)))
    xv = np.arange(6.).reshape(2, 3)
    a, b = fn_of([X], [inner, outer], mode)(xv)
    np.testing.assert_allclose(a, np.cumsum(xv, axis=1))
    np.testing.assert_allclose(b, np.cumsum(np.cumsum(xv, axis=1), axis=0))


def test_nested_scan_gradient():
    def f(X, w):
        def row(r, w):
            out, _ = symrnn.scan(lambda v, acc, w: T.tanh(acc * w + v), sequences=r,
                                 outputs_info=T.constant(0.0, dtype="float64"),
                                 non_sequences=w)
            return out[-1]
        out, _ = symrnn.scan(row, sequences=X, non_sequences=w)
        return out
    rng = np.random.default_rng(3)
    verify_grad(f, [rng.normal(size=(3, 4)), np.array(0.7)], mode="NUMPY")


def test_jacobian_and_hessian_use_scan():
    x = T.dvector("x")
    y = x ** 2 * x[0]
    J = symrnn.function([x], T.jacobian(y, x), mode="NUMPY")([1., 2., 3.])
    xv = np.array([1., 2., 3.])
    expected = np.diag(2 * xv * xv[0])
    expected[:, 0] += xv ** 2
    np.testing.assert_allclose(J, expected)
    H = symrnn.function([x], T.hessian((x ** 3).sum(), x), mode="NUMPY")(xv)
    np.testing.assert_allclose(H, np.diag(6 * xv))


def test_scan_inside_a_gradient_inside_a_scan():
    x, w = T.dvector("x"), T.dscalar("w")

    def step(xt, w):
        return T.grad(T.sin(xt * w), w)
    out, _ = symrnn.scan(step, sequences=x, non_sequences=w)
    got = symrnn.function([x, w], out, mode="NUMPY")([1., 2.], 0.5)
    np.testing.assert_allclose(got, [np.cos(0.5), 2 * np.cos(1.0)])


# ---- more gradients ----

def test_gradient_of_several_outputs_used_together():
    def f(x, a0, b0, w):
        def step(xt, a, b, w):
            return T.tanh(a * w + xt), T.sin(b + a), (a * b).sum()
        (a, b, y), _ = symrnn.scan(step, sequences=x, outputs_info=[a0, b0, None],
                                   non_sequences=w)
        return a.sum() * 0.3 + (b ** 2).sum() + y.sum()
    rng = np.random.default_rng(8)
    verify_grad(f, [rng.normal(size=(5, 2)), rng.normal(size=2), rng.normal(size=2),
                    rng.normal(size=2)], mode="NUMPY")


def test_gradient_with_n_steps_shorter_than_the_sequence():
    x, w = T.dvector("x"), T.dscalar("w")
    out, _ = symrnn.scan(lambda v, h, w: h * w + v, sequences=x, outputs_info=T.constant(0.0),
                         non_sequences=w, n_steps=3)
    gx = symrnn.function([x, w], symrnn.grad(out[-1], x), mode="NUMPY")([1., 2., 3., 4.], 2.0)
    np.testing.assert_allclose(gx, [4., 2., 1., 0.])

    def f(x, w):
        o, _ = symrnn.scan(lambda v, h, w: T.tanh(h * w + v), sequences=x,
                           outputs_info=T.constant(0.1, dtype="float64"), non_sequences=w,
                           n_steps=3)
        return o
    verify_grad(f, [np.array([.1, .2, .3, .4, .5]), np.array(.8)], mode="NUMPY")


def test_gradient_next_to_a_shared_counter_updated_by_fn():
    counter = symrnn.shared(np.int64(0), name="counter")
    x, w = T.dvector("x"), T.dscalar("w")
    out, updates = symrnn.scan(lambda v, w: (v * w, {counter: counter + 1}), sequences=x,
                               non_sequences=w)
    g = symrnn.grad(out.sum(), w)
    f = symrnn.function([x, w], [out, g], updates=updates, mode="NUMPY")
    got_out, got_g = f([1., 2.], 3.0)
    np.testing.assert_allclose(got_out, [3., 6.])
    assert got_g == 3.0 and counter.get_value() == 2


@pytest.mark.parametrize("order", ["outs_upd", "upd_outs", "outs_upd_until", "upd_until",
                                   "pairs"])
def test_return_orders_theano_accepts(order):
    c = symrnn.shared(np.int64(0), name="c")
    x0 = T.dscalar("x0")

    def step(v):
        new, upd, stop = v + 1, {c: c + 1}, until(v + 1 >= 3)
        return {"outs_upd": (new, upd), "upd_outs": (upd, new),
                "outs_upd_until": (new, upd, stop), "upd_until": ([new], upd, stop),
                "pairs": (new, [(c, c + 1)])}[order]
    out, updates = symrnn.scan(step, outputs_info=x0, n_steps=5)
    got = symrnn.function([x0], out, updates=updates, mode="NUMPY")(0.0)
    steps = 3 if "until" in order else 5
    np.testing.assert_allclose(got, np.arange(1., steps + 1))
    assert c.get_value() == steps


def test_second_derivatives_through_scan():
    def f(w):
        h, _ = symrnn.scan(lambda hp, w: T.tanh(hp * w), outputs_info=T.ones((2,)),
                           non_sequences=w, n_steps=3)
        return h[-1].sum()
    w = T.dvector("w")
    got = symrnn.function([w], T.hessian(f(w), w), mode="NUMPY")(np.array([.5, .3]))
    verify_grad(lambda w: T.grad(f(w), w), [np.array([.5, .3])], mode="NUMPY")
    assert got[0, 1] == 0 and got[0, 0] > 0


def test_gradient_through_a_shared_variable_read_and_updated_in_fn():
    decay = symrnn.shared(np.float64(1.0), name="decay")
    x, w = T.dvector("x"), T.dscalar("w")

    def step(v, h, w):
        return T.tanh(h * w * decay + v), {decay: decay * 0.5}
    h, updates = symrnn.scan(step, sequences=x, outputs_info=T.constant(0.2), non_sequences=w)
    gw, gd = symrnn.grad(h[-1], [w, decay])
    f = symrnn.function([x, w], [h, gw, gd], updates=updates, mode="NUMPY")

    def ref(xv, wv, d):
        hv = 0.2
        for v in xv:
            hv, d = np.tanh(hv * wv * d + v), d * 0.5
        return hv
    xv, wv, eps = np.array([.1, -.3, .5]), 0.7, 1e-6
    got_h, got_gw, got_gd = f(xv, wv)
    assert decay.get_value() == 0.125
    np.testing.assert_allclose(got_h[-1], ref(xv, wv, 1.0))
    np.testing.assert_allclose(got_gw, (ref(xv, wv + eps, 1.) - ref(xv, wv - eps, 1.)) / 2 / eps,
                               rtol=1e-6)
    np.testing.assert_allclose(got_gd, (ref(xv, wv, 1 + eps) - ref(xv, wv, 1 - eps)) / 2 / eps,
                               rtol=1e-6)
