"""Random streams: the MRG31k3p generator against L'Ecuyer's reference, the moments of each
distribution, seeding and state handling, default updates, draws inside scan (Gibbs sampling
against a NumPy loop on the same generator), NUMPY == NUMBA streams, dropout."""
import os
import warnings

import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T
from symrnn import layers
from symrnn.ops import random as R
from symrnn.sandbox.rng_mrg import MRG_RandomStreams
from symrnn.tensor.shared_randomstreams import RandomStreams
from helpers import COMPILED_MODES

HERE = os.path.dirname(__file__)
NUMBA = pytest.mark.skipif("NUMBA" not in COMPILED_MODES, reason="numba is not installed")


# ---- the generator ----

def test_mrg31k3p_equals_lecuyer_java_reference():
    # Theano's test_consistency_randomstreams: 12 draws of 7 streams, 5 calls each
    java = np.loadtxt(os.path.join(HERE, "data", "mrg31k3p_12_7_5.txt"))
    rng = MRG_RandomStreams(seed=12345)
    samples = []
    for _ in range(12):
        f = theano.function([], rng.uniform(size=(7,), nstreams=7, dtype="float64"),
                            mode="NUMPY")
        samples.append(np.array([f() for _ in range(5)]).T.ravel())
    np.testing.assert_array_equal(np.ravel(samples), java)


def test_substreams_are_the_sequential_jumps():
    start = R.check_seed([1, 2, 3, 4, 5, 6])
    rows = R.substreams(start, 37)
    ref = [start]
    for _ in range(36):
        ref.append(R.jump(ref[-1], R.A1P72, R.A2P72))
    np.testing.assert_array_equal(rows, np.array(ref))


def test_bad_seeds_and_sizes_are_refused():
    with pytest.raises(ValueError, match="seed"):
        MRG_RandomStreams(seed=0)
    with pytest.raises(ValueError, match="first 3"):
        MRG_RandomStreams(seed=[0, 0, 0, 1, 1, 1])
    with pytest.raises(TypeError, match="6 ints"):
        MRG_RandomStreams(seed=[1, 2])
    with pytest.raises(ValueError, match="negative"):
        RandomStreams(1).uniform((3, -1))
    n = T.lscalar("n")
    f = theano.function([n], RandomStreams(1).uniform((n, 2)), mode="NUMPY")
    rng = f.shared_inputs[0]
    before = rng.get_value()
    with pytest.raises(ValueError, match="negative"):
        f(-2)
    np.testing.assert_array_equal(rng.get_value(), before)  # a failed call changes nothing


# ---- moments of each distribution ----

N = 200_000


def _draw(out, mode="NUMPY", inputs=(), args=()):
    return theano.function(list(inputs), out, mode=mode)(*args)


@pytest.mark.parametrize("streams", [RandomStreams, MRG_RandomStreams])
def test_uniform_and_normal_moments(streams):
    srng = streams(7)
    u = _draw(srng.uniform((N,), low=-1.0, high=3.0, dtype="float64"))
    assert u.dtype == np.float64 and u.shape == (N,)
    assert -1 < u.min() and u.max() < 3
    assert abs(u.mean() - 1.0) < 0.02 and abs(u.var() - 16 / 12) < 0.02
    z = _draw(srng.normal((N // 2, 2), avg=2.0, std=3.0, dtype="float64"))
    assert z.shape == (N // 2, 2)
    assert abs(z.mean() - 2.0) < 0.03 and abs(z.std() - 3.0) < 0.03
    assert abs(np.mean(((z - 2) / 3) ** 4) - 3.0) < 0.1  # kurtosis of a normal
    odd = _draw(srng.normal((3, 5)))
    assert odd.shape == (3, 5) and odd.dtype == theano.config.floatX


def test_uniform_float32_dtype_and_range(floatX32):
    u = _draw(MRG_RandomStreams(3).uniform((1000,)))
    assert u.dtype == np.float32 and 0 < u.min() and u.max() <= 1


def test_binomial_with_symbolic_n_and_p():
    srng = RandomStreams(3)
    b1 = _draw(srng.binomial((N,), p=0.3))
    assert b1.dtype == np.int64 and set(np.unique(b1)) == {0, 1}
    assert abs(b1.mean() - 0.3) < 0.01
    n, p = T.lvector("n"), T.vector("p")
    out = srng.binomial(size=(N // 4, 3), n=n, p=p)
    b = _draw(out, inputs=[n, p], args=[[1, 5, 20], [0.9, 0.5, 0.25]])
    assert b.shape == (N // 4, 3) and b.max(axis=0).tolist() <= [1, 5, 20]
    np.testing.assert_allclose(b.mean(0), [0.9, 2.5, 5.0], atol=0.05)
    np.testing.assert_allclose(b.var(0), [0.09, 1.25, 3.75], rtol=0.05)
    shaped = _draw(srng.binomial(n=n, p=p), inputs=[n, p], args=[[4, 4], [0.5, 0.5]])
    assert shaped.shape == (2,)  # size None: the broadcast shape of n and p


def test_random_integers_choice_permutation_multinomial():
    srng = RandomStreams(11)
    r = _draw(srng.random_integers((N,), low=-2, high=3))
    assert r.min() == -2 and r.max() == 3
    np.testing.assert_allclose(np.bincount(r + 2) / N, np.full(6, 1 / 6), atol=0.01)
    c = _draw(srng.choice((N,), a=4, p=[0.1, 0.2, 0.3, 0.4]))
    np.testing.assert_allclose(np.bincount(c, minlength=4) / N, [0.1, 0.2, 0.3, 0.4], atol=0.01)
    v = _draw(srng.choice((5,), a=np.arange(10, 20), replace=False))
    assert len(set(v.tolist())) == 5 and set(v.tolist()) <= set(range(10, 20))
    assert _draw(srng.choice(a=3)).shape == ()
    perms = _draw(srng.permutation((20_000,), n=5))
    assert perms.shape == (20_000, 5)
    assert (np.sort(perms, axis=1) == np.arange(5)).all()
    np.testing.assert_allclose(np.bincount(perms[:, 0]) / 20_000, np.full(5, 0.2), atol=0.015)
    m = _draw(srng.multinomial((20_000,), n=10, pvals=[0.2, 0.5, 0.3]))
    assert m.shape == (20_000, 3) and (m.sum(1) == 10).all()
    np.testing.assert_allclose(m.mean(0), [2.0, 5.0, 3.0], atol=0.05)
    lam = T.vector("lam")
    pois = _draw(srng.poisson((N // 4, 3), lam=lam), inputs=[lam], args=[[0.5, 4.0, 30.0]])
    np.testing.assert_allclose(pois.mean(0), [0.5, 4.0, 30.0], rtol=0.02)
    np.testing.assert_allclose(pois.var(0), [0.5, 4.0, 30.0], rtol=0.04)
    x = np.arange(12.0).reshape(3, 4)
    s = _draw(srng.shuffle_row_elements(T.constant(x)))
    assert (np.sort(s, axis=1) == x).all()


def test_mrg_multinomial_and_choice_per_row_of_pvals():
    srng = MRG_RandomStreams(5)
    pvals = np.array([[0.98, 0.01, 0.01], [0.01, 0.49, 0.50]])
    m = _draw(srng.multinomial(pvals=pvals, n=4))
    assert m.shape == (2, 3) and (m.sum(1) == 4).all()
    idx = _draw(srng.choice(size=2, p=pvals, replace=False))
    assert idx.shape == (2, 2) and (idx[:, 0] != idx[:, 1]).all()
    t = _draw(srng.truncated_normal((N,), std=2.0, dtype="float64"))
    assert abs(t).max() <= 2 * 2 / 0.87962566103423978 and abs(t.std() - 2.0) < 0.03


# ---- seeds, state, default updates ----

def test_same_seed_same_numbers_and_seed_resets():
    a, b, c = RandomStreams(42), RandomStreams(42), RandomStreams(43)
    fa = theano.function([], [a.uniform((4,)), a.normal((3,))], mode="NUMPY")
    fb = theano.function([], [b.uniform((4,)), b.normal((3,))], mode="NUMPY")
    fc = theano.function([], c.uniform((4,)), mode="NUMPY")
    first = fa()
    for x, y in zip(first, fb()):
        np.testing.assert_array_equal(x, y)
    assert not np.allclose(fa()[0], first[0])  # the stream moved on
    assert not np.allclose(fc(), first[0])
    a.seed(42)
    for x, y in zip(fa(), first):
        np.testing.assert_array_equal(x, y)


def test_get_value_set_value_restore_a_stream():
    srng = RandomStreams(234)
    rv = srng.uniform((2, 2))
    f = theano.function([], rv, mode="NUMPY")
    saved = rv.rng.get_value()
    v1 = f()
    rv.rng.set_value(saved)
    np.testing.assert_array_equal(f(), v1)
    state = rv.rng.get_value().get_state()  # Theano's idiom, verbatim
    v2 = f()
    r = rv.rng.get_value(borrow=True)
    r.set_state(state)
    rv.rng.set_value(r, borrow=True)
    np.testing.assert_array_equal(f(), v2)
    r.seed(89234)
    rv.rng.set_value(r, borrow=True)
    assert not np.allclose(f(), v2)
    srng[rv.rng] = np.random.RandomState(5)  # Theano code hands a RandomState: it seeds one
    a = f()
    srng[rv.rng] = np.random.RandomState(5)
    np.testing.assert_array_equal(f(), a)
    assert srng[rv.rng].shape == (4, 6)  # one stream per number for 4 numbers (Theano)


def test_no_default_updates_true_and_list():
    srng = RandomStreams(1)
    u, n = srng.uniform((3,)), srng.normal((3,))
    f = theano.function([], [u, n], mode="NUMPY", no_default_updates=True)
    np.testing.assert_array_equal(f()[0], f()[0])
    g = theano.function([], [u, n], mode="NUMPY", no_default_updates=[n.rng])
    (u1, n1), (u2, n2) = g(), g()
    assert not np.allclose(u1, u2)
    np.testing.assert_array_equal(n1, n2)
    nearly_zero = theano.function([], u + u - 2 * u, mode="NUMPY")()
    np.testing.assert_array_equal(nearly_zero, 0)  # one draw per call, however often used
    with pytest.raises(TypeError, match="no_default_updates"):
        theano.function([], u, no_default_updates="yes")


def test_explicit_update_wins_over_default_update():
    srng = RandomStreams(2)
    u = srng.uniform((3,))
    f = theano.function([], u, updates=[(u.rng, u.rng)], mode="NUMPY")
    np.testing.assert_array_equal(f(), f())


# ---- scan ----

def _gibbs_graph(W, bvis, bhid, trng):
    def OneStep(vsample):  # Theano's scan documentation, imports changed
        hmean = T.nnet.sigmoid(theano.dot(vsample, W) + bhid)
        hsample = trng.binomial(size=hmean.shape, n=1, p=hmean)
        vmean = T.nnet.sigmoid(theano.dot(hsample, W.T) + bvis)
        return trng.binomial(size=vsample.shape, n=1, p=vmean, dtype=theano.config.floatX)
    sample = theano.tensor.vector()
    values, updates = theano.scan(OneStep, outputs_info=sample, n_steps=10)
    return sample, values, updates


@pytest.mark.parametrize("mode", ["NUMPY", pytest.param("NUMBA", marks=NUMBA)])
def test_gibbs_sampling_in_scan_equals_a_numpy_loop(mode):
    r = np.random.RandomState(0)
    Wv, bv, bh = r.randn(6, 4), r.randn(6), r.randn(4)
    W, bvis, bhid = theano.shared(Wv), theano.shared(bv), theano.shared(bh)
    trng = T.shared_randomstreams.RandomStreams(1234)
    sample, values, updates = _gibbs_graph(W, bvis, bhid, trng)
    assert len(updates) == 2 and all(k in updates for k, _ in trng.state_updates)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no op runs in Python between compiled pieces
        gibbs10 = theano.function([sample], values[-1], updates=updates, mode=mode)
    if mode == "NUMBA":
        assert "rnd.mrg_uniform" in gibbs10.source()  # drawn inside the compiled loop
    (s_h, _), (s_v, _) = trng.state_updates
    states = [s_h.get_value(), s_v.get_value()]
    fx = theano.config.floatX
    for _ in range(2):  # the second call continues the streams
        v = np.zeros(6, dtype=fx)
        for _ in range(10):
            hmean = 1 / (1 + np.exp(-(v @ Wv + bh)))
            states[0], u = R.mrg_fill(states[0], 4, fx)
            h = (u < hmean).astype("int64")
            vmean = 1 / (1 + np.exp(-(h @ Wv.T + bv)))
            states[1], u = R.mrg_fill(states[1], 6, fx)
            v = (u < vmean).astype(fx)
        np.testing.assert_array_equal(gibbs10(np.zeros(6, dtype=fx)), v)
        np.testing.assert_array_equal(s_h.get_value(), states[0])
        np.testing.assert_array_equal(s_v.get_value(), states[1])


def test_nested_scan_and_forgotten_updates_still_move_the_stream():
    srng = RandomStreams(3)

    def outer(i):
        inner, _ = theano.scan(lambda: srng.uniform((2,)), n_steps=3)  # updates not returned
        return inner.sum(0)
    out, updates = theano.scan(outer, sequences=T.arange(4))
    assert len(updates) == 1  # the inner draw's state, carried by the outer loop
    f = theano.function([], out, mode="NUMPY")
    a, b = f(), f()
    assert len({tuple(r) for r in a}) == 4 and not np.allclose(a, b)
    u, up = theano.scan(lambda: srng.uniform((2,)), n_steps=3)
    state = srng.state_updates[-1][0]
    start = state.get_value()
    without = theano.function([], u, mode="NUMPY")()  # scan's updates not passed
    after = state.get_value()
    state.set_value(start)
    np.testing.assert_array_equal(theano.function([], u, updates=up, mode="NUMPY")(), without)
    np.testing.assert_array_equal(state.get_value(), after)


def test_draw_made_before_scan_is_one_mask_for_all_steps():
    srng = RandomStreams(5)
    x = T.matrix("x")
    mask = srng.binomial(size=(3,), p=0.5, dtype=x.dtype)
    out, updates = theano.scan(lambda x_t: x_t * mask, sequences=x)
    assert len(updates) == 0
    y = theano.function([x], out, mode="NUMPY")(np.ones((4, 3)))
    assert (y == y[0]).all()


@pytest.mark.parametrize("mode", ["NUMPY", pytest.param("NUMBA", marks=NUMBA)])
def test_grad_through_scan_with_a_draw_per_step(mode):
    # the per-step masks are constants for grad: d/dW sum_t (x_t * W * m_t) = sum_t x_t * m_t
    srng = RandomStreams(8)
    x, W = T.matrix("x"), theano.shared(np.ones(3))

    def step(x_t):
        m = srng.binomial(size=x_t.shape, p=0.5, dtype=x_t.dtype)
        return x_t * W * m, m
    (out, masks), updates = theano.scan(step, sequences=x)
    g = T.grad(out.sum(), W)
    f = theano.function([x], [g, masks], updates=updates, mode=mode)
    xv = np.arange(12.0).reshape(4, 3)
    for _ in range(2):  # new masks at each call
        gv, mv = f(xv)
        assert 0 < mv.sum() < mv.size
        np.testing.assert_allclose(gv, (xv * mv).sum(0))


# ---- backends ----

@NUMBA
def test_numpy_and_numba_streams_are_identical():
    n = T.lscalar("n")
    outs_by_mode = []
    for mode in ["NUMPY", "NUMBA"]:
        srng, mrg = RandomStreams(99), MRG_RandomStreams(99)
        outs = [srng.uniform((n, 3), dtype="float32"), srng.normal((5,), dtype="float64"),
                srng.binomial((7,), n=3, p=0.4), srng.permutation(n=6),
                mrg.uniform((n,), dtype="float64"), mrg.normal((3, 2), dtype="float32")]
        f = theano.function([n], outs, mode=mode)
        calls = [f(4), f(2)]  # the second call continues every stream
        states = [s.get_value() for s, *_ in srng.state_updates + mrg.state_updates]
        outs_by_mode.append((calls, states))
    (c1, s1), (c2, s2) = outs_by_mode
    for k, (a, b) in enumerate(zip(c1[0] + c1[1] + s1, c2[0] + c2[1] + s2)):
        assert a.dtype == b.dtype
        if k % 6 == 5:  # float32 log/cos/sin (Box-Muller): NumPy's SIMD and libm may differ
            np.testing.assert_array_max_ulp(a, b, maxulp=2)  # in the last bit
        else:  # the generator's numbers, integers and states: bit for bit
            np.testing.assert_array_equal(a, b)


# ---- dropout ----

def test_dropout_train_and_test():
    x = T.matrix("x")
    d = layers.Dropout(0.25, seed=1)
    y = theano.function([x], d(x), mode="NUMPY")(np.ones((200, 100)))
    assert set(np.unique(y)) == {0.0, 1 / 0.75}
    assert abs((y == 0).mean() - 0.25) < 0.01
    assert d(x, train=False) is x
    seq = T.tensor3("seq")
    z = theano.function([seq], layers.TimeDropout(0.5, seed=2)(seq), mode="NUMPY")(
        np.ones((6, 4, 5)))
    assert (z == z[0]).all() and 0 < (z[0] == 0).sum() < z[0].size  # one mask over time


def test_dropout_gradient_with_a_fixed_mask():
    from symrnn.gradient import verify_grad
    d = layers.TimeDropout(0.5, seed=4)
    draw = d.mask

    def fixed_mask(x):
        m = draw(x)
        m.rng.default_update = None  # the state stays: every evaluation draws the same mask
        return m
    d.mask = fixed_mask
    r = np.random.RandomState(0)
    verify_grad(lambda x, w: T.tanh(d(x) * w), [r.randn(3, 2, 4), r.randn(4)], mode="NUMPY")
    x = T.tensor3("x")
    y = d(x)
    y_val, g_val = theano.function([x], [y, T.grad(y.sum(), x)], mode="NUMPY")(
        np.ones((3, 2, 4)))
    np.testing.assert_array_equal(g_val, y_val)  # the gradient is the mask itself
    assert 0 < (y_val == 0).sum() < y_val.size


def test_cupy_streams_equal_numpy_streams():
    import shutil
    from tests.backends.cupy_on_cpu import on_cpu
    if shutil.which("g++") is None:
        pytest.skip("g++ is required to run generated kernels on the CPU")
    results = {}
    with on_cpu():
        for mode in ["NUMPY", "CUPY"]:
            srng, mrg = RandomStreams(5), MRG_RandomStreams(5)
            outs = [srng.uniform((3, 700), dtype="float32"), srng.binomial((9,), p=0.3),
                    mrg.uniform((5,), dtype="float64", nstreams=2)]
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # no host fallback for the generator
                f = theano.function([], outs, mode=mode)
                results[mode] = [f(), f()] + [
                    [s.get_value() for s, *_ in srng.state_updates + mrg.state_updates]]
            r = np.random.RandomState(0)
            W, bvis, bhid = (theano.shared(r.randn(*s)) for s in [(6, 4), (6,), (4,)])
            sample, values, updates = _gibbs_graph(W, bvis, bhid, RandomStreams(1234))
            gibbs = theano.function([sample], values, updates=updates, mode=mode)
            results[mode].append([gibbs(np.zeros(6, theano.config.floatX)) for _ in range(2)])
    for a_list, b_list in zip(results["NUMPY"], results["CUPY"]):
        for a, b in zip(a_list, b_list):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
