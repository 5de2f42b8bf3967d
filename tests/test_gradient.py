import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T
from symrnn.gradient import DisconnectedInputError, GradientError, verify_grad


def test_grad_list_and_single():
    x, y = T.dscalar("x"), T.dscalar("y")
    c = x * x * y
    gx = T.grad(c, x)
    gx2, gy = theano.grad(c, [x, y])
    f = theano.function([x, y], [gx, gx2, gy])
    assert [float(v) for v in f(3.0, 2.0)] == [12.0, 12.0, 9.0]


def test_non_scalar_cost_is_type_error():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="scalar"):
        T.grad(x * 2, x)


def test_disconnected_inputs():
    x, y = T.dvector("x"), T.dvector("y")
    with pytest.raises(DisconnectedInputError, match="y"):
        T.grad(x.sum(), y)
    g = T.grad(x.sum(), y, disconnected_inputs="ignore")
    assert list(theano.function([y], g)([1.0, 2.0])) == [0.0, 0.0]


def test_consider_constant_and_known_grads():
    x = T.dvector("x")
    y = x * x
    g = T.grad((y * x).sum(), x, consider_constant=[y])
    assert list(theano.function([x], g)([2.0])) == [4.0]
    g2 = theano.grad(None, x, known_grads={y: T.ones_like(y)})
    assert list(theano.function([x], g2)([3.0])) == [6.0]


def test_shared_gradient_and_reuse():
    w = theano.shared(np.array([1.0, 2.0]))
    x = T.dvector("x")
    c = T.dot(x, w) ** 2
    g = T.grad(c, w)
    assert np.allclose(theano.function([x], g)([1.0, 1.0]), [6.0, 6.0])


def test_verify_grad_catches_a_wrong_gradient():
    from symrnn.graph import Apply, Op

    class BadSquare(Op):
        def make_node(self, x):
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs):
            return [inputs[0] ** 2]

        def grad(self, inputs, gs):
            return [gs[0] * inputs[0]]  # should be 2 * x

    with pytest.raises(GradientError):
        verify_grad(lambda x: BadSquare()(x), [np.array([1.0, 2.0])])
    verify_grad(lambda x: x ** 2, [np.array([1.0, 2.0])])


def test_float32_gradients_stay_float32():
    x = T.fvector("x")
    g = T.grad((x * 0.5).sum() + T.exp(x).sum(), x)
    assert g.dtype == "float32"
