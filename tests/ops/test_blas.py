import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from helpers import check_op

pytestmark = pytest.mark.usefixtures("reference_grads")

R = np.random.default_rng(3)


def rand(*shape):
    return R.normal(size=shape)


DOT_SHAPES = [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
              ((2, 2, 3), (3, 2)), ((2, 3), (2, 3, 2)), ((2, 2, 3), (3,)), ((3,), (2, 3, 2)),
              ((2, 2, 3), (2, 3, 2)), ((), (2, 3)), ((2, 3), ())]


@pytest.mark.parametrize("sa,sb", DOT_SHAPES, ids=[f"{a}x{b}" for a, b in DOT_SHAPES])
def test_dot_all_ranks(sa, sb):
    check_op(T.dot, [rand(*sa), rand(*sb)], np.dot)


def test_dot_method_and_matmul_operator():
    check_op(lambda a, b: a.dot(b) + (a @ b), [rand(2, 3), rand(3, 2)],
             lambda a, b: 2 * np.dot(a, b))


def test_dot_int_and_mixed_dtypes():
    a = np.arange(6, dtype="int32").reshape(2, 3)
    check_op(T.dot, [a, a.T.copy()], np.dot)
    x, y = T.fmatrix(), T.dmatrix()
    assert T.dot(x, y).dtype == "float64"
    assert T.dot(x, x).dtype == "float32"


TENSORDOT = [((2, 3, 4), (3, 4, 2), 2), ((2, 3), (3, 2), 1), ((2, 3), (2, 3), [[0, 1], [0, 1]]),
             ((2, 3, 4), (4, 2, 3), [[1, 2], [2, 0]]), ((3, 2), (2,), [[-1], [0]]),
             ((2, 3), (4,), 0)]


@pytest.mark.parametrize("sa,sb,axes", TENSORDOT, ids=[str(t[2]) + str(t[0]) for t in TENSORDOT])
def test_tensordot(sa, sb, axes):
    check_op(lambda a, b: T.tensordot(a, b, axes), [rand(*sa), rand(*sb)],
             lambda a, b: np.tensordot(a, b, axes))


BATCHED = [((4, 2, 3), (4, 3, 5), "bij,bjk->bik"), ((4, 3), (4, 3), "bi,bi->b"),
           ((4, 2, 3), (4, 3), "bij,bj->bi"), ((4, 3), (4, 3, 2), "bi,bij->bj")]


@pytest.mark.parametrize("sa,sb,spec", BATCHED, ids=[b[2] for b in BATCHED])
def test_batched_dot(sa, sb, spec):
    check_op(T.batched_dot, [rand(*sa), rand(*sb)], lambda a, b: np.einsum(spec, a, b))


def test_outer():
    check_op(T.outer, [rand(3), rand(4)], np.outer)


def test_dot_of_empty_inner_dimension_is_zeros():
    check_op(T.dot, [np.zeros((2, 0)), np.zeros((0, 3))], np.zeros((2, 3)), grad=False)


def test_dot_shape_mismatch_names_shapes_and_line():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = symrnn.function([x, y], T.dot(x, y), mode="NUMPY")
    with pytest.raises(ValueError, match=r"(?s)Dot.*\(2, 3\).*\(4, 2\).*test_blas.py"):
        f(np.ones((2, 3)), np.ones((4, 2)))


def test_batched_dot_batch_mismatch():
    x, y = T.dtensor3(), T.dtensor3()
    f = symrnn.function([x, y], T.batched_dot(x, y), mode="NUMPY")
    with pytest.raises(ValueError, match=r"(?s)BatchedDot.*\(2, 2, 3\).*\(3, 3, 2\)"):
        f(np.ones((2, 2, 3)), np.ones((3, 3, 2)))


def test_dot_rejects_bool_and_tensordot_bad_axes():
    with pytest.raises(TypeError, match=r"(?s)Dot.*bool.*test_blas.py"):
        T.dot(T.bvector() > 0, T.dmatrix())
    with pytest.raises(ValueError, match="tensordot"):
        T.tensordot(T.dmatrix(), T.dmatrix(), [[0, 1], [0]])
