import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from helpers import check_op

pytestmark = pytest.mark.usefixtures("reference_grads")

R = np.random.default_rng(17)
M = R.normal(size=(3, 4))
X3 = R.normal(size=(2, 3, 4))


def run(inputs, outputs, *values):
    return symrnn.function(inputs, outputs, mode="NUMPY")(*values)


def test_arange_int_float_and_symbolic_bounds():
    n, a, s = T.lscalar("n"), T.dscalar("a"), T.dscalar("s")
    out = run([n, a, s], [T.arange(n), T.arange(2, n), T.arange(a, n, s), T.arange(n, -1, -2)],
              5, 0.5, 0.75)
    want = [np.arange(5), np.arange(2, 5), np.arange(0.5, 5, 0.75), np.arange(5, -1, -2)]
    for got, w in zip(out, want):
        np.testing.assert_allclose(got, w)
    assert [o.dtype for o in out] == ["int64", "int64", "float64", "int64"]
    assert T.arange(T.iscalar()).dtype == "int32"
    assert T.arange(3).dtype == "int64" and T.arange(0.5, 3).dtype == symrnn.config.floatX
    assert T.arange(4, dtype="float32").dtype == "float32"


def test_arange_float32(floatX32):
    assert T.arange(0.0, 1.0, 0.25).dtype == "float32"
    assert T.arange(T.fscalar(), 3).dtype == "float32"


def test_arange_gradient_and_zero_step():
    check_op(lambda a, s: T.arange(a, 3.0, s) ** 2, [np.array(0.2), np.array(0.65)],
             lambda a, s: np.arange(a, 3.0, s) ** 2)
    n = T.lscalar()
    with pytest.raises(ValueError, match=r"(?s)ARange.*step.*test_shape.py"):
        run([n], T.arange(0, 5, n), 0)


def test_eye_and_identity_like():
    n, m, k = T.lscalar(), T.lscalar(), T.lscalar()
    out = run([n, m, k], [T.eye(n), T.eye(n, m, k), T.eye(n, dtype="int32")], 3, 4, -1)
    np.testing.assert_array_equal(out[0], np.eye(3))
    np.testing.assert_array_equal(out[1], np.eye(3, 4, -1))
    assert out[2].dtype == "int32"
    check_op(lambda x: T.identity_like(x) * x, [M], lambda x: np.eye(3, 4) * x)
    with pytest.raises(TypeError, match="Eye"):
        T.eye(T.dscalar())


RESHAPES = [((12,), lambda x: x.reshape((12,))), ((4, 3), lambda x: x.reshape((4, -1))),
            ((2, 1, 6), lambda x: T.reshape(x, (2, 1, 6))),
            ((12,), lambda x: x.flatten()), ((3, 4), lambda x: T.flatten(x, 2)),
            ((2, 6), lambda x: x.reshape((x.shape[1] // 2, 6)))]


@pytest.mark.parametrize("shape,fn", RESHAPES, ids=[str(r[0]) for r in RESHAPES])
def test_reshape_and_flatten(shape, fn):
    check_op(fn, [M], lambda x: x.reshape(shape))


def test_reshape_broadcastable_from_constant_shape():
    assert T.dvector().reshape((1, -1)).broadcastable == (True, False)


def test_reshape_size_mismatch_names_shapes_and_line():
    x = T.dmatrix("x")
    with pytest.raises(ValueError, match=r"(?s)Reshape.*\(3, 4\).*\(5, 2\).*test_shape.py"):
        run([x], x.reshape((5, 2)), M)


@pytest.mark.parametrize("mode", ["NUMPY", "NUMBA"])
def test_reshape_to_shapes_known_only_when_called(mode):
    """A shape given at call time: one -1 is the rest, as in NumPy; anything else that does
    not hold the elements is refused (each backend resolves the sizes its own way)."""
    x, s = T.dmatrix("x"), T.lvector("s")
    f = symrnn.function([x, s], x.reshape(s, ndim=3) * 2, mode=mode)
    a = np.arange(24.0).reshape(4, 6)
    for shp in ([2, 3, 4], [-1, 3, 4], [2, -1, 4], [2, 3, -1], [1, 24, 1]):
        np.testing.assert_array_equal(f(a, shp), 2 * a.reshape(shp))
    np.testing.assert_array_equal(f(np.zeros((0, 6)), [-1, 3, 2]).shape, (0, 3, 2))
    for bad in ([-2, 0, 3], [0, -3, -1]):  # a negative size, however many elements
        with pytest.raises(ValueError, match=r"Reshape.*\(0, 6\)"):
            f(np.zeros((0, 6)), bad)
    for bad in ([5, 3, 4], [-1, -1, 4], [-2, -3, 4], [0, -1, 4], [2, 3, 5], [-24, -1, 1]):
        with pytest.raises(ValueError, match=r"Reshape.*\(4, 6\)"):
            f(a, bad)


def test_transpose_dimshuffle_and_T():
    check_op(lambda x: x.T, [M], lambda x: x.T)
    check_op(lambda x: T.transpose(x, (1, 2, 0)), [X3], lambda x: np.transpose(x, (1, 2, 0)))
    check_op(lambda x: x.dimshuffle(2, "x", 0, 1), [X3],
             lambda x: np.transpose(x, (2, 0, 1))[:, None])
    check_op(lambda x: x.transpose(), [X3], lambda x: x.T)


def test_shape_pad_and_broadcast_marks():
    v = R.normal(size=4)
    check_op(lambda x: T.shape_padleft(x) + M, [v], lambda x: x[None] + M)
    check_op(lambda x: T.shape_padright(x, 2), [v], lambda x: x[:, None, None])
    r = R.normal(size=(1, 4))
    check_op(lambda x: T.addbroadcast(x, 0) * M, [r], lambda x: x * M)
    assert T.unbroadcast(T.row(), 0).broadcastable == (False, False)
    x = T.dmatrix()
    with pytest.raises(ValueError, match=r"(?s)Rebroadcast.*axis 0.*length 3"):
        run([x], T.addbroadcast(x, 0), M)


def test_join_concatenate_stack():
    a, b = R.normal(size=(2, 4)), R.normal(size=(3, 4))
    check_op(lambda x, y: T.concatenate([x, y]), [a, b], lambda x, y: np.concatenate([x, y]))
    check_op(lambda x, y: T.join(-1, x.T, y.T), [a, b], lambda x, y: np.concatenate([x.T, y.T], -1))
    check_op(lambda x, y: T.stack([x, y[:2]], axis=1), [a, b],
             lambda x, y: np.stack([x, y[:2]], axis=1))
    s, t = np.array(1.5), np.array(-2.0)
    check_op(lambda x, y: T.stack([x, y, x]), [s, t], lambda x, y: np.array([x, y, x]))


def test_join_mismatched_shapes_is_a_clear_error():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    with pytest.raises(ValueError, match=r"(?s)Join.*\(2, 4\).*\(3, 5\).*test_shape.py"):
        run([x, y], T.concatenate([x, y]), np.zeros((2, 4)), np.zeros((3, 5)))
    with pytest.raises(TypeError, match="Join"):
        T.concatenate([x, T.dvector()])


def test_alloc_zeros_ones_fill_like():
    n = T.lscalar("n")
    out = run([n], [T.zeros((n, 2)), T.ones(n, dtype="int32"), T.alloc(1.5, 2, n)], 3)
    np.testing.assert_array_equal(out[0], np.zeros((3, 2)))
    np.testing.assert_array_equal(out[1], np.ones(3, dtype="int32"))
    assert out[1].dtype == "int32"
    np.testing.assert_array_equal(out[2], np.full((2, 3), 1.5))
    check_op(lambda x: T.alloc(x, 2, 3, 4), [R.normal(size=4)],
             lambda x: np.broadcast_to(x, (2, 3, 4)))
    check_op(lambda x: T.fill(x, 2.0) + T.zeros_like(x) + T.ones_like(x) * x, [M],
             lambda x: 2.0 + x)
    assert T.zeros_like(T.ivector(), dtype="float32").dtype == "float32"


def test_shape_and_ndim_dtype():
    x = T.ftensor3()
    assert x.ndim == 3 and x.dtype == "float32"
    np.testing.assert_array_equal(run([x], x.shape, X3.astype("float32")), [2, 3, 4])
    check_op(lambda x: x.shape[1] * x, [M], lambda x: 4 * x)
