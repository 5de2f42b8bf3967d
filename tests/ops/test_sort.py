import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from helpers import check_op

pytestmark = pytest.mark.usefixtures("reference_grads")

R = np.random.default_rng(13)


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_sort_and_argsort(axis):
    m = R.permutation(12).reshape(3, 4) + R.normal(scale=0.1, size=(3, 4))
    check_op(lambda x: T.sort(x, axis=axis), [m], lambda x: np.sort(x, axis=axis))
    check_op(lambda x: T.argsort(x, axis=axis), [m], lambda x: np.argsort(x, axis=axis),
             grad=False)


def test_sort_methods_3d_and_ties_are_stable():
    t = R.normal(size=(2, 3, 4))
    check_op(lambda x: x.sort(axis=1), [t], lambda x: np.sort(x, axis=1))
    v = np.array([2.0, 1.0, 2.0, 1.0])
    check_op(lambda x: x.argsort(), [v], np.array([1, 3, 0, 2]), grad=False)


def test_sort_gradient_goes_back_to_the_original_places():
    x = T.dvector("x")
    weights = np.array([1.0, 10.0, 100.0])
    g = T.grad((T.sort(x) * weights).sum(), x)
    f = symrnn.function([x], g, mode="NUMPY")
    np.testing.assert_array_equal(f([3.0, 1.0, 2.0]), [100.0, 1.0, 10.0])


def test_sort_ints_and_bad_axis():
    check_op(T.sort, [np.array([3, -1, 2], dtype="int32")], np.array([-1, 2, 3], "int32"))
    with pytest.raises(ValueError, match="sort"):
        T.sort(T.dmatrix(), axis=2)
