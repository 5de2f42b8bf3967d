"""The cupy backend against the NumPy reference: ops, fused kernels, scans, shared values.

Each test runs twice: on a CPU stand-in for CuPy (tests/backends/cupy_on_cpu.py:
the generated CUDA C is compiled with g++ and run thread by thread), and on
the real CuPy with a GPU, which is skipped (visibly) where there is none.
"""
import shutil
import warnings

import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from tests.backends.cupy_on_cpu import GPU_REQUIRED, on_cpu, real_gpu
from helpers import assert_close, compare_backends

REAL_GPU = real_gpu()


@pytest.fixture(scope="module", params=["cpu-stand-in", "gpu"])
def cp(request):
    """The cupy module the backend runs on."""
    if request.param == "gpu":
        if not REAL_GPU:
            pytest.skip(GPU_REQUIRED)
        import cupy
        yield cupy
        return
    if shutil.which("g++") is None:
        pytest.skip("g++ is required to run generated kernels on the CPU")
    with on_cpu() as fake:
        yield fake


R = np.random.default_rng(7)


def rand(*shape, dtype="float64", low=-2.0, high=2.0):
    return R.uniform(low, high, shape).astype(dtype)


def cupy_steps(f):
    return [type(step[0]).__name__ for step in f.thunk.steps]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_elementwise_ops(cp, dtype):
    x, y = T.matrix("x", dtype=dtype), T.matrix("y", dtype=dtype)
    p = T.matrix("p", dtype=dtype)  # positive
    outs = [-x, abs(x), T.exp(x), T.log(p), T.log1p(p), T.expm1(x), T.sqrt(p), T.sqr(x),
            T.tanh(x), T.sin(x), T.cos(x), T.arctan(x), T.nnet.sigmoid(x * 30),
            T.nnet.softplus(x * 30), T.nnet.relu(x), T.floor(x), T.ceil(x), T.round(x * 3),
            T.sgn(x), x + y, x - y, x * y, x / p, x // p, x % p, p ** y, T.maximum(x, y),
            T.minimum(x, y), T.switch(T.lt(x, y), x, 2 * y), T.clip(x, -0.5, 0.5),
            T.eq(x, y), T.neq(x, y), T.lt(x, y), T.le(x, y), T.gt(x, y), T.ge(x, y),
            T.isnan(T.log(x)), T.isinf(T.log(abs(x) - abs(x))), T.cast(x * 10, "int32"),
            T.cast(x, "bool"), x.astype("float32" if dtype == "float64" else "float64")]
    values = [rand(3, 5, dtype=dtype), rand(3, 5, dtype=dtype),
              rand(3, 5, dtype=dtype, low=0.5, high=2.0)]
    compare_backends([x, y, p], outs, values, modes=["CUPY"])


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
def test_integer_elementwise_ops(cp, dtype):
    a, b = T.vector("a", dtype=dtype), T.vector("b", dtype=dtype)
    outs = [a + b, a * b, a // b, a % b, a & b, a | b, a ^ b, ~a, T.maximum(a, b), abs(a),
            a ** 2, T.lt(a, b), a / b, a * 0.5]
    if dtype != "uint8":  # (NumPy computes exp of uint8 in float16: not a meaning to copy)
        outs += [-a, T.sgn(a), a - b, T.exp(a)]
    lo = 0 if dtype == "uint8" else -9
    values = [R.integers(lo, 10, 7).astype(dtype), R.integers(1, 5, 7).astype(dtype)]
    compare_backends([a, b], outs, values, modes=["CUPY"])


def test_bool_elementwise_ops(cp):
    a, b = T.bvector("a") > 0, T.bvector("b") > 0
    av, bv = T.bvector("a"), T.bvector("b")
    a, b = T.gt(av, 0), T.gt(bv, 0)
    outs = [a & b, a | b, a ^ b, ~a, a + b, a * b, T.switch(a, av, bv)]
    values = [R.integers(-3, 3, 8).astype("int8"), R.integers(-3, 3, 8).astype("int8")]
    compare_backends([av, bv], outs, values, modes=["CUPY"])


# pairs where floor(a / b) is not NumPy's a // b (1.0 / 0.1 rounds to 10.000000000000002),
# signs, zeros, infinities and nan
FLOAT_DIVMOD = [(1.0, 0.1), (-1.0, 0.1), (1.0, -0.1), (-1.0, -0.1), (0.7, 0.1), (7.0, 2.0),
                (-7.0, 2.0), (7.0, -2.0), (-7.0, -2.0), (-4.0, 2.0), (4.0, -2.0), (0.0, 3.0),
                (-0.0, 3.0), (0.0, -3.0), (1.0, 0.0), (-1.0, 0.0), (0.0, 0.0), (np.inf, 1.0),
                (-np.inf, 1.0), (1.0, np.inf), (-1.0, np.inf), (1.0, -np.inf), (np.nan, 1.0),
                (1.0, np.nan), (1e300, 1e-300), (5e-324, 3.0), (2.5, 0.5), (-2.5, 0.5)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_floor_division_and_modulo_are_numpys(cp, dtype):
    x, y = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype)
    with np.errstate(over="ignore"):  # 1e300 is inf in float32
        a, b = (np.array(v, dtype=dtype) for v in zip(*FLOAT_DIVMOD))
    a = np.concatenate([a, rand(200, dtype=dtype, low=-50, high=50)])
    b = np.concatenate([b, rand(200, dtype=dtype, low=-3, high=3)])
    with np.errstate(all="ignore"):  # the reference warns on x // 0 as NumPy does
        ref = symrnn.function([x, y], [x // y, x % y], mode="NUMPY")(a, b)
        assert_close(ref[0], np.floor_divide(a, b)) and assert_close(ref[1], np.mod(a, b))
    got = symrnn.function([x, y], [x // y, x % y], mode="CUPY")(a, b)
    for g, r, what in zip(got, ref, ("//", "%")):
        np.testing.assert_array_equal(g, r, err_msg=what)  # bit for bit, nan where nan
        np.testing.assert_array_equal(np.signbit(g), np.signbit(r), err_msg=f"{what} zeros")
    assert got[0][0] == 9.0 and got[0][1] == -10.0
    finite = np.isfinite(a) & np.isfinite(b) & (b != 0) & (abs(a) < 1e10)
    q, r = (v[finite].astype("float64") for v in got)
    np.testing.assert_allclose(q * b[finite] + r, a[finite], atol=1e-4)  # a == (a//b)*b + a%b


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int32", "uint32", "int64"])
def test_integer_floor_division_and_modulo_at_the_limits(cp, dtype):
    info = np.iinfo(dtype)
    signed = info.min < 0
    a = np.array([info.min, info.max, info.min, 7, 0, info.max, info.min + 1] +
                 ([-7, 7, -7, info.min] if signed else [5, 9, 1, 3]), dtype=dtype)
    b = np.array([1, -1 if signed else 1, info.max, 3, 5, 2, 2] +
                 ([2, -2, -2, -1] if signed else [7, 3, 9, info.max]), dtype=dtype)
    x, y = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype)
    with np.errstate(all="ignore"):  # NumPy warns on MIN // -1
        ref = compare_backends([x, y], [x // y, x % y], [a, b], modes=["CUPY"])
        assert_close(ref[0], a // b) and assert_close(ref[1], a % b)


def test_a_chain_is_one_kernel_and_its_source_is_readable(cp):
    x, b = T.fmatrix("x"), T.fvector("b")
    y = T.nnet.sigmoid(x * 2 + b) * T.tanh(x) - T.nnet.softplus(x) / 3
    f = symrnn.function([x, b], y, mode="CUPY")
    assert len(f.thunk.steps) == 2  # the DimShuffle of b, then one kernel for the chain
    assert "expf" in f.source() and "tanhf" in f.source()
    values = [rand(4, 3, dtype="float32"), rand(3, dtype="float32")]
    assert_close(f(*values), symrnn.function([x, b], y, mode="NUMPY")(*values))


def test_adam_updates_match_numpy(cp):
    from symrnn.optimizers import adam
    x = T.dmatrix("x")
    results = {}
    for mode in ("NUMPY", "CUPY"):
        w = symrnn.shared(np.linspace(-1, 1, 6).reshape(3, 2), "w")
        cost = (T.tanh(T.dot(x, w)) ** 2).mean()
        f = symrnn.function([x], cost, updates=adam(cost, [w], 0.1), mode=mode)
        results[mode] = [f(np.ones((4, 3)) * k) for k in range(3)] + [w.get_value()]
        if mode == "CUPY":
            merged = [len(s[2]) for s in f.thunk.steps if len(s[2]) > 1]
            assert merged and max(merged) >= 3  # m, v and w updated by one kernel
    for a, b in zip(results["CUPY"], results["NUMPY"]):
        assert_close(a, b)


def test_runtime_broadcast_mismatch_is_the_reference_error(cp):
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = symrnn.function([x, y], T.exp(x) + y, mode="CUPY")
    with pytest.raises(ValueError, match=r"(?s)axis 0.*test_cupy_runtime.py"):
        f(np.ones((3, 4)), np.ones((1, 4)))
    assert_close(f(np.ones((3, 4)), np.ones((3, 4))), np.full((3, 4), np.e + 1))


def test_core_ops(cp):
    x, y, v = T.dmatrix("x"), T.dmatrix("y"), T.dvector("v")
    t3, i = T.dtensor3("t3"), T.lscalar("i")
    outs = [T.dot(x, y.T), T.dot(x, v[:4]), T.dot(v[:3], x), T.dot(v, v),
            T.batched_dot(t3, t3.dimshuffle(0, 2, 1)), x.sum(), x.sum(axis=0),
            x.max(axis=1), x.argmax(axis=1), x.argmin(), x.mean(axis=1, keepdims=True),
            T.prod(x, axis=0), T.all(T.gt(x, 0), axis=1), T.any(T.gt(x, 1)), x.std(),
            x.reshape((4, 3)), x.flatten(), x.T, x.dimshuffle(1, "x", 0),
            T.concatenate([x, y], axis=1), T.stack([v, v]), T.zeros((2, i)), T.ones_like(x),
            T.alloc(v[0], 2, 3), x[1], x[i, 1:3], x[::-1, ::2], x[-1, -1],
            T.set_subtensor(x[1:, 0], v[:2]), T.inc_subtensor(x[i], 1.5), T.shape(x),
            T.nnet.softmax(x), T.nnet.log_softmax(x), T.cumsum(x, axis=1),
            T.nnet.softmax(v), T.nnet.log_softmax(v), T.grad(T.nnet.softmax(v)[0, 1], v),
            T.sort(v), T.argsort(v), T.arange(i, dtype="float64"), x.shape[0] * 2 + i]
    values = [rand(3, 4), rand(3, 4), rand(4), rand(2, 3, 4), np.int64(2)]
    compare_backends([x, y, v, t3, i], outs, values, modes=["CUPY"])


def test_gradients_of_a_small_network(cp):
    x, labels = T.dmatrix("x"), T.lvector("labels")
    w1, w2 = T.dmatrix("w1"), T.dmatrix("w2")
    h = T.tanh(T.dot(x, w1))
    p = T.nnet.softmax(T.dot(h, w2))
    cost = -T.mean(T.log(p)[T.arange(labels.shape[0]), labels]) + 0.01 * (w1 ** 2).sum()
    grads = T.grad(cost, [w1, w2])
    values = [rand(5, 3), np.array([0, 2, 1, 1, 0]), rand(3, 4), rand(4, 3)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every op here has a GPU translation
        compare_backends([x, labels, w1, w2], [cost] + grads, values, modes=["CUPY"])


def test_advanced_indexing(cp):
    x, i, m = T.dmatrix("x"), T.lvector("i"), T.dmatrix("m")
    outs = [x[i], x[i, 1:], x[:, i], x[i, i], x[T.gt(x, 0)], x[None, i],
            T.inc_subtensor(x[i], 1.0), T.set_subtensor(x[i, 0], -1.0),
            T.inc_subtensor(x[T.lt(x, 0)], 2.0), T.grad((x[i] * m).sum(), x)]
    values = [rand(4, 3), np.array([0, 2, 2, -1]), rand(4, 3)]
    compare_backends([x, i, m], outs, values, modes=["CUPY"])
    f = symrnn.function([x, i], x[i], mode="CUPY")
    with pytest.raises(IndexError, match="out of bounds"):
        f(values[0], np.array([0, 4]))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "uint8", "int16", "uint16",
                                   "int32", "uint32", "int64", "uint64", "bool"])
def test_increments_at_repeated_indices_in_every_dtype(cp, dtype):
    # CuPy's scatter add refuses small integers and bools (and int64 before CuPy 14)
    x, y, i = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype), T.lvector("i")
    m = T.matrix("m", dtype=dtype)
    if dtype == "bool":
        xv, yv = np.array([0, 1, 0, 0, 1], bool), np.array([1, 0, 1, 1, 0, 1], bool)
        mv = np.eye(4, 3, dtype=bool)
    else:
        info = np.iinfo(dtype) if dtype[0] in "iu" else None
        big = 100 if info is None else min(info.max // 2 + 3, 10**6)  # sums wrap for small ints
        xv, yv = np.array([1, 2, 3, 4, 5], dtype), np.full(6, big, dtype)
        mv = np.arange(12, dtype=dtype).reshape(4, 3)
    iv = np.array([0, 2, 2, -1, 2, 0])
    outs = [T.inc_subtensor(x[i], y), T.inc_subtensor(m[i[:4], 1:], m[:4, :2]),
            T.inc_subtensor(m[i[:3], i[3:]], y[:3])]
    ref = compare_backends([x, y, i, m], outs, [xv, yv, iv, mv], modes=["CUPY"])
    expected = xv.copy()
    np.add.at(expected, iv, yv)
    assert_close(ref[0], expected)


def test_shared_variables_live_on_the_gpu(cp):
    w_np = symrnn.shared(np.ones(3), name="w")
    w_gpu = symrnn.shared(np.ones(3), name="w")
    x = T.dvector("x")
    fs = {m: symrnn.function([x], (w * x).sum(), updates=[(w, w - 0.1 * x)], mode=m)
          for m, w in (("NUMPY", w_np), ("CUPY", w_gpu))}
    for _ in range(3):
        xv = rand(3)
        assert_close(fs["CUPY"](xv), fs["NUMPY"](xv))
    assert isinstance(w_gpu.container["value"], cp.ndarray)
    assert isinstance(w_gpu.get_value(), np.ndarray)
    assert isinstance(w_gpu.get_value(return_internal_type=True), cp.ndarray)
    assert_close(w_gpu.get_value(), w_np.get_value())
    w_gpu.set_value(np.zeros(3))
    assert fs["CUPY"](np.ones(3)) == 0
    w_gpu.set_value(cp.asarray(np.full(3, 2.0)))
    assert fs["CUPY"](np.ones(3)) == 6
    with pytest.raises(TypeError, match="does not fit"):
        w_gpu.set_value(cp.asarray(np.ones(3, "float32")))
    # a CPU function reading the same shared variable gets it on the host
    assert symrnn.function([], w_gpu * 1, mode="NUMPY")().tolist() == [1.9, 1.9, 1.9]


def test_device_inputs_and_device_outputs(cp):
    x = T.fvector("x")
    f = symrnn.function([x], x * 2, mode="CUPY")
    g = symrnn.function([x], [x * 2, x], mode="CUPY", return_internal_type=True)
    xd = cp.asarray(np.arange(3, dtype="float32"))
    assert isinstance(f(xd), np.ndarray) and f(xd).tolist() == [0, 2, 4]
    out, same = g(xd)
    assert isinstance(out, cp.ndarray) and out.get().tolist() == [0, 2, 4]
    assert same is not xd  # an output never aliases an input
    with pytest.raises(TypeError, match="loss of precision"):
        f(cp.asarray(np.ones(3)))
    with pytest.raises(TypeError, match="dimensions"):
        f(cp.asarray(np.ones((1, 3), "float32")))


class Twice(symrnn.Op):
    """An op that no backend translates: only its NumPy perform exists."""

    def make_node(self, x):
        return symrnn.Apply(self, [x], [x.type()])

    def perform(self, node, inputs):
        return [inputs[0] * 2]


def test_ops_without_translation_run_on_the_host_with_one_warning(cp):
    from symrnn.backends.cupy import runtime
    runtime._WARNED.discard("Twice")
    x = T.dvector("x")
    with pytest.warns(UserWarning, match="Twice has no GPU translation"):
        f = symrnn.function([x], Twice()(T.exp(x)) + 1, mode="CUPY")
    assert_close(f(np.zeros(3)), np.full(3, 3.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        symrnn.function([x], Twice()(x), mode="CUPY")  # warned once already


def test_eye(cp):
    n = T.lscalar("n")
    compare_backends([n], [T.eye(n) * 2, T.eye(n, n + 1, 1)], [3], modes=["CUPY"])


# ---- scan ----

def fused_scans(f):
    return cupy_steps(f).count("FusedScan")


def indrnn_graph():
    xw, u, b, h0 = T.ftensor3("xw"), T.fvector("u"), T.fvector("b"), T.fmatrix("h0")
    h, _ = symrnn.scan(lambda x, hp: T.nnet.relu(x + u * hp + b), sequences=xw,
                       outputs_info=h0)
    cost = (h[-1] ** 2).sum() + h.mean()
    return [xw, u, b, h0], [cost] + T.grad(cost, [xw, u, b, h0])


def test_indrnn_scan_and_its_gradient_are_one_kernel_each(cp):
    inputs, outputs = indrnn_graph()
    f = symrnn.function(inputs, outputs, mode="CUPY")
    assert fused_scans(f) == 2
    assert f.source().count("for (long long t = 0; t < n_steps; ++t)") == 2
    values = [rand(6, 3, 4, dtype="float32"), rand(4, dtype="float32", low=0.5, high=1.0),
              rand(4, dtype="float32"), rand(3, 4, dtype="float32")]
    compare_backends(inputs, outputs, values, modes=["CUPY"])


def test_indrnn_with_its_input_projection_in_the_step_fuses_after_hoisting(cp):
    # the user writes dot(x_t, W) inside the step; scan_hoist moves it before the loop
    x, W = T.ftensor3("x"), T.fmatrix("W")
    u, b, h0 = T.fvector("u"), T.fvector("b"), T.fmatrix("h0")
    h, _ = symrnn.scan(lambda x_t, hp: T.nnet.relu(T.dot(x_t, W) + u * hp + b),
                       sequences=x, outputs_info=h0)
    cost = (h[-1] ** 2).sum()
    inputs, outputs = [x, W, u, b, h0], [cost] + T.grad(cost, [x, W, u, b, h0])
    assert fused_scans(symrnn.function(inputs, outputs, mode="CUPY")) == 2
    values = [rand(6, 3, 2, dtype="float32"), rand(2, 4, dtype="float32"),
              rand(4, dtype="float32", low=0.5, high=1.0), rand(4, dtype="float32"),
              rand(3, 4, dtype="float32")]
    compare_backends(inputs, outputs, values, modes=["CUPY"])


def test_counting_rnn_trains_as_on_numpy(cp):
    # seed 004: s_t = x_t * w_x + s_{t-1} * w_rec with shared scalar weights
    x = T.matrix("x", dtype="float64")
    data = [np.round(rand(5, 10, low=0, high=1)) for _ in range(3)]
    results = {}
    for mode in ("NUMPY", "CUPY"):
        w_x, w_rec = symrnn.shared(0.5, "w_x"), symrnn.shared(0.8, "w_rec")
        s, _ = symrnn.scan(lambda x_t, s_prev: x_t * w_x + s_prev * w_rec, sequences=x.T,
                           outputs_info=T.zeros_like(x[:, 0]))
        cost = ((s[-1] - x.sum(axis=1)) ** 2).mean()
        gx, grec = T.grad(cost, [w_x, w_rec])
        f = symrnn.function([x], cost, mode=mode,
                            updates=[(w_x, w_x - 0.01 * gx), (w_rec, w_rec - 0.01 * grec)])
        if mode == "CUPY":
            assert fused_scans(f) == 2
        costs = [f(d) for d in data]
        results[mode] = costs + [w_x.get_value(), w_rec.get_value()]
    for a, b in zip(results["CUPY"], results["NUMPY"]):
        assert_close(a, b)


def test_taps_go_backwards_and_several_outputs(cp):
    x, a0, w = T.dmatrix("x"), T.dmatrix("a0"), T.dvector("w")

    def step(x_t, a2, a1, m1):
        new = a1 * w + 0.5 * a2 - x_t
        return new, T.tanh(new) + m1
    (a, m), _ = symrnn.scan(step, sequences=x, go_backwards=True,
                            outputs_info=[dict(initial=a0, taps=[-2, -1]), x[0]])
    cost = a.sum() + (m ** 2).sum()
    outputs = [a, m, cost] + T.grad(cost, [x, a0, w])
    f = symrnn.function([x, a0, w], outputs, mode="CUPY")
    assert fused_scans(f) >= 1
    compare_backends([x, a0, w], outputs, [rand(5, 3), rand(2, 3), rand(3)], modes=["CUPY"])


def test_scans_that_do_not_fuse_run_as_host_loops(cp):
    x, W, h0 = T.dmatrix("x"), T.dmatrix("W"), T.dvector("h0")
    h, _ = symrnn.scan(lambda x_t, hp: T.tanh(x_t + T.dot(hp, W)), sequences=x,
                       outputs_info=h0)
    from symrnn.scan_module import until
    total, _ = symrnn.scan(lambda x_t, acc: (acc + x_t.sum(), until(acc > 1.0)),
                           sequences=x, outputs_info=T.constant(0.0, dtype="float64"))
    cost = h.sum()
    outputs = [h, total, cost] + T.grad(cost, [x, W, h0])
    f = symrnn.function([x, W, h0], outputs, mode="CUPY")
    assert fused_scans(f) == 0
    compare_backends([x, W, h0], outputs, [rand(6, 3, low=0, high=1), rand(3, 3) * 0.5,
                                           rand(3)], modes=["CUPY"])


def test_fused_scan_with_unfit_shapes_gives_the_reference_error(cp):
    x, u, h0 = T.dtensor3("x"), T.dmatrix("u"), T.dmatrix("h0")
    h, _ = symrnn.scan(lambda x_t, hp: x_t + u * hp, sequences=x, outputs_info=h0)
    f = symrnn.function([x, u, h0], h, mode="CUPY")
    assert fused_scans(f) == 1
    values = [rand(4, 3, 2), rand(1, 2), rand(3, 2)]  # u (1, 2) is not broadcastable
    with pytest.raises(ValueError, match="axis 0"):
        symrnn.function([x, u, h0], h, mode="NUMPY")(*values)
    with pytest.raises(ValueError, match="axis 0"):
        f(*values)
    values[1] = rand(3, 2)
    assert_close(f(*values), symrnn.function([x, u, h0], h, mode="NUMPY")(*values))


def test_gpu_benchmark_models_fuse_and_train(cp):
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "gpu_indrnn.py")
    spec = importlib.util.spec_from_file_location("gpu_indrnn", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rng = np.random.default_rng(0)
    step, _ = bench.symrnn_indrnn(rng, seq_len=6, batch=3, n_in=2, hidden=4, layers=2)
    assert fused_scans(step) == 4  # two layers, forward and backward
    x, target = rand(6, 3, 2, dtype="float32", low=0, high=1), rand(3, dtype="float32")
    losses = [float(step(x, target)) for _ in range(3)]
    assert losses[2] < losses[0]


def test_fused_scan_carries_a_shared_counter(cp):
    # the counter's update (count + 1) is an accumulator with a constant increment
    x, h0 = T.dvector("x"), T.dscalar("h0")
    results = {}
    for mode in ("NUMPY", "CUPY"):
        count = symrnn.shared(np.int64(3), "count")
        h, updates = symrnn.scan(lambda x_t, h: (h * 0.5 + x_t, {count: count + 1}),
                                 sequences=x, outputs_info=h0)
        f = symrnn.function([x, h0], h, updates=updates, mode=mode)
        if mode == "CUPY":
            assert fused_scans(f) == 1
        results[mode] = [f(np.arange(4.0), 1.0), f(np.ones(2), 0.0), count.get_value()]
    for a, b in zip(results["CUPY"], results["NUMPY"]):
        assert_close(a, b)
    assert results["CUPY"][2] == 9


@pytest.mark.parametrize("flush", [True, False])
def test_kernels_flush_subnormals(cp, flush):
    """Kernels compile with --ftz=true while config.flush_subnormals is on (the stand-in runs
    them with flush-to-zero), as the CPU backends run each call; off: subnormals are kept."""
    old = symrnn.config.flush_subnormals
    symrnn.config.flush_subnormals = flush
    try:
        x, y = T.fvector("x"), T.fvector("y")
        tiny = np.full(1, 1e-20, "float32")  # tiny * tiny = 1e-40: subnormal in float32
        got = symrnn.function([x, y], T.exp(x * y) * (x * y), mode="CUPY")(tiny, tiny)
        ref = symrnn.function([x, y], T.exp(x * y) * (x * y), mode="NUMPY")(tiny, tiny)
    finally:
        symrnn.config.flush_subnormals = old
    np.testing.assert_array_equal(got, ref)
    assert bool((got == 0).all()) is flush


def test_nvrtc_compiles_every_kernel_these_tests_ran(cp):
    """Last in this file: each kernel the stand-in ran above, compiled by the real NVRTC."""
    from symrnn.backends.cupy.scalar_c import PREAMBLE
    from tests.backends import cupy_on_cpu
    from tests.backends.test_cupy_codegen import compile_with_nvrtc
    if not getattr(cp, "STAND_IN", False):
        pytest.skip("on a GPU the kernels above were compiled and run by CuPy itself")
    from tests.backends.cupy_api import nvrtc
    nvrtc = nvrtc()
    if nvrtc is None:
        pytest.skip("CuPy's NVRTC is required to compile the kernels with it")
    sources = {k: v.replace(PREAMBLE, "") for k, v in cupy_on_cpu.CUDA_SOURCES.items()}
    if len(sources) < 20:  # run alone (or on an xdist worker that ran few of the above)
        pytest.skip(f"only {len(sources)} kernels ran in this process: run the whole file")
    compile_with_nvrtc(nvrtc, sources, "all.cu")
    print(f"NVRTC compiled the {len(sources)} kernels these tests ran")
