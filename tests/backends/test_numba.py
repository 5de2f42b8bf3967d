"""The numba backend: one generated function, scan as a for loop, errors naming the user's line."""
import re
import warnings

import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T
from helpers import assert_close, compare_backends
from symrnn.scan_module import until as until_

nb = pytest.importorskip("symrnn.backends.numba")
R = np.random.default_rng(0)


def _rnn(x, h0, w, until=None):
    def step(xt, h, w):
        new = T.tanh(xt + w * h)
        if until is None:
            return new
        return new, until_(T.gt(new.sum(), until))
    hs, _ = theano.scan(step, sequences=x, outputs_info=h0, non_sequences=w)
    return hs


def test_scan_training_function_is_one_function_with_for_loops():
    x, h0, w = T.matrix("x"), T.vector("h0"), T.scalar("w")
    cost = (_rnn(x, h0, w)[-1] ** 2).sum()
    f = theano.function([x, h0, w], [cost] + theano.grad(cost, [w, h0]), mode="NUMBA")
    src = f.source()
    assert src.count("\ndef ") == 1 and "while" not in src
    assert src.count("for t") == 2  # the forward and the backward scan
    compare_backends([x, h0, w], [cost] + theano.grad(cost, [w, x, h0]),
                     [R.normal(size=(6, 3)), R.normal(size=3), 0.7])


def test_until_stops_early_like_numpy():
    x, h0 = T.matrix("x"), T.vector("h0")
    hs = _rnn(x, h0, T.constant(0.9), until=1.0)
    out = compare_backends([x, h0], hs, [np.full((8, 2), 0.3), np.zeros(2)])
    assert out.shape[0] < 8


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_elementwise_chain_and_reductions(dtype):
    a, b = T.matrix("a", dtype=dtype), T.row("b", dtype=dtype)
    outs = [T.tanh(a * b + 1).sum(axis=0), T.nnet.sigmoid(a).max(axis=1), T.argmax(a, axis=1),
            T.nnet.softmax(a), T.exp(a).mean()]
    compare_backends([a, b], outs, [R.normal(size=(4, 5)).astype(dtype),
                                    R.normal(size=(1, 5)).astype(dtype)])


def test_float32_tanh_is_accurate():
    x = T.vector("x", dtype="float32")
    v = np.linspace(-12, 12, 2001).astype("float32")
    got = theano.function([x], T.tanh(x), mode="NUMBA")(v)
    np.testing.assert_allclose(got, np.tanh(v), rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dot_on_transposed_and_sliced_views(dtype):
    a, b = T.matrix("a", dtype=dtype), T.matrix("b", dtype=dtype)
    outs = [T.dot(a.T, b), T.dot(a, b.T), T.dot(a[:, ::2], b[:, ::2].T), T.dot(a[0], b.T)]
    compare_backends([a, b], outs, [R.normal(size=(4, 6)).astype(dtype),
                                    R.normal(size=(4, 6)).astype(dtype)])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_large_thin_products_agree_with_blas(dtype):
    """A large product with few terms (k <= 4) or few rows (m <= 4) runs as loops (rt.thin),
    the long sums of the few-rows case in float64: closer to the exact product than float32
    BLAS (5e-7 here, a float32 loop 9e-6)."""
    a, b = T.matrix("a", dtype=dtype), T.matrix("b", dtype=dtype)
    outs = [T.dot(a, b[:3]), T.dot(a.T, b), T.dot(a[:, :1], b[:1]), T.dot(a.T[::2], b)]
    va, vb = R.uniform(size=(40000, 3)).astype(dtype), R.uniform(size=(40000, 128)).astype(dtype)
    compare_backends([a, b], outs, [va, vb])
    got = theano.function([a, b], T.dot(a.T, b), mode="NUMBA")(va, vb)
    exact = va.astype(np.float64).T @ vb.astype(np.float64)
    np.testing.assert_allclose(got, exact, rtol=1e-7 if dtype == "float32" else 1e-12)


def test_dot_shape_error_names_the_op_and_line():
    a, b = T.matrix("a"), T.matrix("b")
    f = theano.function([a, b], T.dot(a, b) * 2, mode="NUMBA")
    with pytest.raises(ValueError, match=r"(?s)Dot.*test_numba.py"):
        f(np.ones((2, 3)), np.ones((4, 2)))


def test_index_out_of_range_is_an_index_error():
    x, i = T.vector("x"), T.lscalar("i")
    f = theano.function([x, i], x[i] + 1, mode="NUMBA")
    assert f(np.arange(3.0), -1) == 3.0
    with pytest.raises(IndexError, match="test_numba.py"):
        f(np.arange(3.0), 3)


def test_a_loop_of_zero_steps_is_a_value_error():
    n, h0 = T.lscalar("n"), T.vector("h0")
    hs, _ = theano.scan(lambda h: h * 2, outputs_info=h0, n_steps=n)
    f = theano.function([n, h0], hs, mode="NUMBA")
    assert_close(f(2, np.ones(2)), np.array([[2.0, 2.0], [4.0, 4.0]]))
    with pytest.raises(ValueError, match="test_numba.py"):
        f(0, np.zeros(2))


def test_untranslatable_op_runs_in_python_between_segments():
    from symrnn.graph import Apply, Op

    class Twice(Op):
        def make_node(self, x):
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs):
            return [inputs[0] * 2]
    x = T.vector("x")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f = theano.function([x], T.exp(Twice()(T.exp(x))).sum(), mode="NUMBA")
    assert any("Twice" in str(m.message) for m in w)
    v = np.array([0.1, 0.2])
    assert_close(f(v), np.exp(2 * np.exp(v)).sum())


def test_long_graphs_are_cut_at_their_scans_and_equal_layers_compile_once(monkeypatch):
    monkeypatch.setattr(nb, "SPLIT_NODES", 0)  # the cut applies to graphs this small too
    monkeypatch.setattr(nb, "SPLIT_WEIGHTS", 0)
    monkeypatch.setattr(nb, "TWIN_WEIGHTS", 0)
    x = T.tensor3("x")
    ws = [theano.shared(R.normal(size=(3, 3)) * 0.5, name=f"w{k}") for k in range(3)]
    h = x
    for w in ws:
        h, _ = theano.scan(lambda xt, hp, w: T.tanh(xt + T.dot(hp, w)), sequences=h,
                           outputs_info=T.zeros_like(x[0]), non_sequences=w)
    cost = (h[-1] ** 2).sum()
    grads = theano.grad(cost, ws + [x])
    f = theano.function([x], [cost] + grads, mode="NUMBA")
    sources = [s for s in f.source().split("import numpy as np") if s.strip()]
    assert len(sources) >= 6  # 3 forward + 3 backward scans, each its own function
    # equal Scans are pieces of their own (cut._twins): the layers' forward scans are one
    # source (the first reads x, the others a view of a history's first axis), and so are
    # their backward scans
    looping = [s for s in sources if re.search(r"for t\d+ in range", s)]
    assert len(looping) == 6 and len(set(looping)) == 2
    compare_backends([x], [cost] + grads, [R.normal(size=(5, 2, 3))])


def test_outputs_never_alias_inputs():
    x = T.matrix("x")
    v = np.ones((2, 3))
    a, b = theano.function([x], [x, x.T], mode="NUMBA")(v)
    a[0, 0] = b[0, 0] = 5
    assert v[0, 0] == 1


def test_set_and_inc_subtensor_of_regions_with_broadcasting():
    x, r, m = T.tensor3("x"), T.row("r"), T.matrix("m")
    rng = np.random.default_rng(0)
    xv, rv, mv = rng.random((4, 5, 3)), rng.random((1, 3)), rng.random((4, 3))
    compare_backends([x, r, m], [T.inc_subtensor(x[1:3], r), T.set_subtensor(x[0, 1:], r),
                                 T.inc_subtensor(x[:, 1], m),
                                 T.set_subtensor(x[1, 2:4, 1:], r[:, 1:])],
                     [xv, rv, mv])
    f = theano.function([x, m], T.set_subtensor(x[0], m), mode="NUMBA")
    with pytest.raises(ValueError, match="SetSubtensor"):
        f(xv, mv)  # (4, 3) into a (5, 3) region


def test_generated_source_has_no_array_to_array_assignment():
    # numba's broadcasting assignment costs seconds of cold compile: loops are emitted instead
    x = T.matrix("x")
    h, _ = theano.scan(lambda x_t, h: T.tanh(x_t + h), sequences=x, outputs_info=T.zeros_like(x[0]))
    f = theano.function([x], T.inc_subtensor(h[1:], h[0]), mode="NUMBA")
    whole_array_stores = re.findall(r"\] \+?= (?:a|v|c|g|h|x|buf|map|car)\d+$", f.thunk.source,
                                    re.M)
    assert "for t" in f.thunk.source and not whole_array_stores


def test_integer_array_lookup_and_its_gradient_are_compiled():
    W, ids, y = T.matrix("W"), T.imatrix("ids"), T.tensor3("y")
    rng = np.random.default_rng(1)
    Wv, idv = rng.random((5, 3)), np.array([[0, 4, -1], [2, 2, 0]], dtype="int32")
    yv = rng.random((2, 3, 3))
    emb = W[ids]
    cost = (emb * y).sum()
    outs = [emb, T.grad(cost, W), T.set_subtensor(W[ids], y), T.inc_subtensor(W[ids[0]], 1.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no op falls back to Python
        compare_backends([W, ids, y], outs, [Wv, idv, yv])
        f = theano.function([W, ids], W[ids], mode="NUMBA")
    assert "AdvancedSubtensor" not in f.source()
    with pytest.raises(IndexError, match="AdvancedSubtensor"):
        f(Wv, np.array([[5]], dtype="int32"))


def test_arange_eye_and_cumulative_ops_are_compiled():
    n, k, x = T.lscalar("n"), T.lscalar("k"), T.matrix("x")
    xv = np.random.default_rng(2).random((3, 4))
    outs = [T.arange(n), T.arange(1, n, 2), T.arange(n, 0, -3), T.eye(n, n + 1, k),
            T.cumsum(x, axis=0), T.cumsum(x, axis=1), T.cumprod(x, axis=1),
            T.grad(T.cumsum(x, axis=1).sum(), x)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of these falls back to Python
        for nv, kv in ((5, 0), (7, -2), (1, 3)):
            compare_backends([n, k, x], outs, [nv, kv, xv], on_unused_input="ignore")
    f = theano.function([n, k], T.arange(0, n, k), mode="NUMBA")
    with pytest.raises(ValueError, match="ARange"):
        f(3, 0)


def test_set_subtensor_writes_in_place_only_into_arrays_nothing_else_reads():
    x = T.matrix("x")
    rng = np.random.default_rng(3)
    xv = rng.random((4, 3))
    # a gradient through a slice, a chain of sets on a fresh buffer: private, no copy
    for g in (T.grad((x[1:] ** 2).sum(), x),
              T.set_subtensor(T.set_subtensor(T.zeros_like(x)[0], x[1])[2:], x[0] * 2)):
        f = theano.function([x], g, mode="NUMBA")
        assert ".copy()" not in f.source()
        assert_close(f(xv), theano.function([x], g, mode="NUMPY")(xv))
    # an input, or a value read again later, is copied first
    y = x * 2
    outs = [T.set_subtensor(x[0], 5.0), T.set_subtensor(y[1], 7.0), y.sum()]
    f = theano.function([x], outs, mode="NUMBA")
    assert f.source().count(".copy()") == 2
    compare_backends([x], outs, [xv])
    assert_close(f(xv)[2], 2 * xv.sum())


def test_sort_and_argsort_are_compiled_stable_with_nan_last():
    x = T.matrix("x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "runs in Python" warning
        f = theano.function([x], [T.sort(x, axis=0), T.argsort(x, axis=1)], mode="NUMBA")
    assert "np.argsort" in f.source()
    v = np.array([[2.0, np.nan, 1.0, 2.0], [np.nan, 0.5, 2.0, 1.0], [1.0, 1.0, -3.0, 2.0]])
    s, a = f(v)
    assert_close(s, np.sort(v, axis=0, kind="stable"))
    assert (a == np.argsort(v, axis=1, kind="stable")).all()


def test_boolean_mask_indexing_and_its_gradient_are_compiled():
    x, m = T.matrix("x"), T.bvector("m")
    picked = x[m > 0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = theano.function([x, m], [picked, T.grad((picked ** 2).sum(), x),
                                     T.set_subtensor(x[x < 0], 0.0)], mode="NUMBA")
    assert "count_nonzero" in f.source()
    xv, mv = R.normal(size=(4, 3)), np.array([1, 0, 1, 1], dtype="int8")
    rows, g, relu = f(xv, mv)
    assert_close(rows, xv[mv > 0])
    assert_close(g, 2 * xv * (mv > 0)[:, None])
    assert_close(relu, np.maximum(xv, 0))
    with pytest.raises(IndexError, match=r"(?s)AdvancedSubtensor.*test_numba.py"):
        f(xv, np.ones(5, dtype="int8"))


def test_integer_array_indexing_after_full_slices_is_compiled():
    p, y, i = T.matrix("p"), T.lvector("y"), T.lmatrix("i")
    nll = -T.mean(T.log(p)[T.arange(y.shape[0]), y])  # the Theano tutorials' idiom
    picked = p[:, i]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = theano.function([p, y, i], [nll, T.grad(nll, p), picked], mode="NUMBA")
    assert "rt.empty" in f.source() and "min(b" in f.source()
    pv, yv = R.random((4, 3)) + 0.1, np.array([2, 0, -1, 1])
    iv = np.array([[0, 2], [1, 1]])
    loss, g, got = f(pv, yv, iv)
    assert_close(loss, -np.mean(np.log(pv)[np.arange(4), yv]))
    want = np.zeros_like(pv)
    np.add.at(want, (np.arange(4), yv), -0.25 / pv[np.arange(4), yv])
    assert_close(g, want)
    assert_close(got, pv[:, iv])
    with pytest.raises(IndexError, match=r"(?s)AdvancedSubtensor.*test_numba.py"):
        f(pv, np.array([0, 1, 2, 3]), iv)  # 3 is out of range for 3 columns


def test_a_named_variable_is_held_so_no_later_one_takes_its_name():
    """The code context names variables by id: one that died while the source was written
    (a fused scan's temporary graph) gave its name to a later variable with the same id, and
    CI's generated code read a constant where it meant an accumulator (a typing error)."""
    from symrnn.backends.numba.codegen import Ctx
    ctx = Ctx([], {})
    ctx.define(T.vector(), "gone")
    ctx.define(T.matrix(), "gone_too", alias=True)
    later = [T.vector() for _ in range(200)] + [T.matrix() for _ in range(200)]
    assert not any(id(v) in ctx.names for v in later)


def test_a_compiled_function_takes_only_the_arguments_its_code_reads():
    """An input no node reads is not an argument of the generated function (numba would
    unbox it in every call); the call hands the others over in their places."""
    x, y, z = T.matrix("x"), T.vector("y"), T.vector("z")
    f = theano.function([x, y, z], [T.reshape(x, (3, 2)) * 2, z + 1], mode="NUMBA",
                        on_unused_input="ignore")
    assert "def fn(x_0, x_2, c_0):" in f.source()  # (y is x_1; c_0: the reshape's sizes)
    a, b = f(np.arange(6.0).reshape(2, 3), np.zeros(4), np.arange(5.0))
    assert np.array_equal(a, 2 * np.arange(6.0).reshape(3, 2))
    assert np.array_equal(b, np.arange(5.0) + 1)
