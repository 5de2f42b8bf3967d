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


def test_an_op_with_only_grad_and_an_op_with_L_op():
    """grad calls Op.L_op, whose default is Theano's documented ``grad``; an op that
    overrides L_op is handed the node's own outputs."""
    from symrnn.graph import Apply, Op

    class Twice(Op):  # only grad: Theano's contract for user ops
        def make_node(self, x):
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs):
            return [2 * inputs[0]]

        def grad(self, inputs, gs):
            return [2 * gs[0]]

    seen = []

    class Exp(Op):  # L_op: d exp(x) = exp(x), read from the node's output
        def make_node(self, x):
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs):
            return [np.exp(inputs[0])]

        def L_op(self, inputs, outputs, gs):
            seen.append(outputs[0])
            return [gs[0] * outputs[0]]

    x = T.dvector("x")
    y = Exp()(Twice()(x))
    g = T.grad(y.sum(), x)
    assert seen == [y]
    xv = np.array([0.1, -0.4])
    assert np.allclose(theano.function([x], g, mode="NUMPY")(xv), 2 * np.exp(2 * xv))
    verify_grad(lambda v: Exp()(Twice()(v)), [xv], mode="NUMPY")


def test_elemwise_and_scan_gradients_reuse_the_forward_node():
    """The gradient reads the forward outputs it is given; it builds no second forward node."""
    from symrnn.graph import toposort
    x = T.dvector("x")
    y = T.tanh(x)
    nodes = toposort([T.grad(y.sum(), x)])
    assert [n for n in nodes if n.op == y.owner.op] == [y.owner]
    w = T.dscalar("w")
    h, _ = theano.scan(lambda xt, hp: T.tanh(xt * w + hp), sequences=x,
                       outputs_info=T.zeros_like(w))
    nodes = toposort([T.grad(h[-1], w)])
    assert [n for n in nodes if n.op == h.owner.inputs[0].owner.op] == \
        [h.owner.inputs[0].owner]
