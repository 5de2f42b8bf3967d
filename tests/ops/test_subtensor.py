import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from helpers import check_op

pytestmark = pytest.mark.usefixtures("reference_grads")

R = np.random.default_rng(5)
X = R.normal(size=(4, 5, 3))

BASIC = [
    ("int", lambda x: x[1]), ("neg_int", lambda x: x[-1, -2]), ("slice", lambda x: x[1:3]),
    ("neg_step", lambda x: x[::-1, 1:-1:2]), ("ellipsis", lambda x: x[..., 0]),
    ("newaxis", lambda x: x[None, :, None, 2]), ("empty_slice", lambda x: x[3:1]),
    ("scalar", lambda x: x[0, 0, 0]), ("whole", lambda x: x[0:, :]),
    ("reversed", lambda x: x[::-1, :, ::-1]),
]


def test_gradient_of_the_whole_array_is_the_output_gradient_itself():
    x = T.tensor3("x")
    for g in symrnn.grad((x[0:, ::1] * x).sum() + (x[::-1, :, ::-1] ** 2).sum(), [x]):
        kinds = {type(n.op).__name__ for n in symrnn.graph.toposort([g])}
        assert "IncSubtensor" not in kinds  # no zeros to add the gradient into
    g1 = symrnn.grad((x[1:] * 2).sum(), x)  # a part of x still is
    assert "IncSubtensor" in {type(n.op).__name__ for n in symrnn.graph.toposort([g1])}


@pytest.mark.parametrize("name,idx", BASIC, ids=[b[0] for b in BASIC])
def test_basic_indexing(name, idx):
    check_op(idx, [X], idx)


def test_symbolic_scalar_indices_and_bounds():
    i, j = T.lscalar("i"), T.lscalar("j")
    x = T.dtensor3("x")
    f = symrnn.function([x, i, j], x[i, j:, -j], mode="NUMPY")
    np.testing.assert_array_equal(f(X, -1, 2), X[-1, 2:, -2])


ADVANCED = [
    ("list", lambda x: x[[0, 2, 2]]),
    ("neg_list", lambda x: x[:, [1, -1]]),
    ("array_2d", lambda x: x[np.array([[0, 1], [3, 3]]), 1:3]),
    ("split_by_slice", lambda x: x[0, :, [1, 2]]),
    ("split_by_newaxis", lambda x: x[[0, 1], None, [0, 1]]),
    ("all_axes", lambda x: x[[3, 2], [1, 1], [0, -1]]),
    ("broadcast_arrays", lambda x: x[np.array([[0], [2]]), np.array([1, 4])]),
    ("ellipsis", lambda x: x[..., [0, 0, 2]]),
    ("empty", lambda x: x[np.array([], dtype=int)]),
    ("mask", lambda x: x[x > 0]),
    ("mask_2d_after_slice", lambda x: x[:, x[0] > 0.3]),
    ("mask_1d", lambda x: x[:, np.array([True, False, True, False, True])]),
]


@pytest.mark.parametrize("name,idx", ADVANCED, ids=[a[0] for a in ADVANCED])
def test_advanced_indexing_forward_and_grad(name, idx):
    check_op(idx, [X], idx)


def test_advanced_indexing_with_symbolic_int_tensors():
    x, i, j = T.dmatrix("x"), T.lvector("i"), T.imatrix("j")
    m = X[:, :, 0]
    f = symrnn.function([x, i, j], [x[i], x[j, i[0]], x[1:, j]], mode="NUMPY")
    iv, jv = np.array([3, -1, 0]), np.array([[0, 1], [2, -2]], dtype="int32")
    for got, want in zip(f(m, iv, jv), [m[iv], m[jv, iv[0]], m[1:, jv]]):
        np.testing.assert_array_equal(got, want)


def test_advanced_types_follow_numpy_layout():
    x = T.dtensor3()
    assert x[[0, 1], None, [0, 1]].broadcastable == (False, True, False)
    assert x[[-1], 2:].broadcastable == (True, False, False)
    assert x[T.lmatrix(), 0].ndim == 3
    assert x[T.btensor3() > 0].ndim == 1
    assert x[:, T.bmatrix() > 0].ndim == 2


def test_gradient_of_repeated_indices_accumulates():
    x = T.dvector("x")
    g = T.grad(x[[0, 0, 2, 0]].sum(), x)
    f = symrnn.function([x], g, mode="NUMPY")
    np.testing.assert_array_equal(f(np.zeros(3)), [3.0, 0.0, 1.0])


def test_inc_subtensor_advanced_accumulates_repeats():
    check_op(lambda x, y: T.inc_subtensor(x[[0, 0, 3], 1], y), [X[:, :, 0], R.normal(size=3)],
             lambda x, y: _add_at(x, ([0, 0, 3], 1), y))


def _add_at(x, idx, y):
    out = x.copy()
    np.add.at(out, idx, y)
    return out


def _set(x, idx, y):
    out = x.copy()
    out[idx] = y
    return out


def test_set_subtensor_advanced_and_mask():
    m = X[:, :, 0]
    check_op(lambda x, y: T.set_subtensor(x[[2, 0], -1:], y), [m, R.normal(size=(2, 1))],
             lambda x, y: _set(x, ([2, 0], slice(-1, None)), y))
    check_op(lambda x: T.set_subtensor(x[x < 0], 0.0), [m], lambda x: np.maximum(x, 0))
    check_op(lambda x: T.inc_subtensor(x[T.arange(4), [1, 2, 3, 4]], 10.0), [m],
             lambda x: _add_at(x, (np.arange(4), [1, 2, 3, 4]), 10.0))


def test_set_and_inc_subtensor_basic():
    m = X[:, :, 0]
    check_op(lambda x, y: T.set_subtensor(x[1:3, -1], y), [m, R.normal(size=2)],
             lambda x, y: _set(x, (slice(1, 3), -1), y))
    check_op(lambda x, y: T.inc_subtensor(x[::-2], y), [m, R.normal(size=5)],
             lambda x, y: _add_at(x, slice(None, None, -2), y))


def test_out_of_range_index_is_an_index_error_naming_the_op():
    x = T.dvector("x")
    f = symrnn.function([x], [x[[0, 7]]], mode="NUMPY")
    with pytest.raises(IndexError, match=r"(?s)AdvancedSubtensor.*\(3,\).*test_subtensor.py"):
        f(np.zeros(3))
    g = symrnn.function([x], x[5], mode="NUMPY")
    with pytest.raises(IndexError, match=r"(?s)Subtensor\{5\}.*\(3,\)"):
        g(np.zeros(3))


def test_bad_index_types():
    x = T.dmatrix()
    with pytest.raises(IndexError, match=r"AdvancedSubtensor.*float64"):
        x[T.dvector()]
    with pytest.raises(IndexError, match="too many indices"):
        x[[0], [0], [0]]
    with pytest.raises(TypeError, match="Subtensor"):
        x[T.dscalar()]
    with pytest.raises(TypeError, match="set_subtensor"):
        T.set_subtensor(x, 1.0)


def test_mask_shape_mismatch_is_an_index_error():
    x, m = T.dvector(), T.bvector()
    f = symrnn.function([x, m], x[m > 0], mode="NUMPY")
    with pytest.raises(IndexError, match="AdvancedSubtensor"):
        f(np.zeros(3), np.zeros(4, dtype="int8"))


def test_set_value_shape_mismatch():
    x, y = T.dvector(), T.dvector()
    f = symrnn.function([x, y], T.set_subtensor(x[[0, 1]], y), mode="NUMPY")
    with pytest.raises(ValueError, match=r"(?s)AdvancedSetSubtensor.*\(3,\).*\(2,\)"):
        f(np.zeros(3), np.zeros(3))
