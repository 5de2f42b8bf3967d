"""The Theano 1.0 names classic code imports, each checked against Theano's documented
behaviour: theano.dot, theano.OrderedUpdates, theano.compile.*, theano.gradient's
gradient-changing identities, more of T.nnet."""
import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T
from helpers import MODES, check_op

R = np.random.default_rng(13)


def test_top_level_dot_is_tensor_dot():
    x, y = R.normal(size=(3, 4)), R.normal(size=(4, 2))
    check_op(theano.dot, [x, y], x @ y)
    check_op(theano.dot, [x[0], y], x[0] @ y)


def test_compile_namespace():
    from symrnn.compile import SharedVariable, function, shared
    s = shared(np.float64(2.0))
    assert isinstance(s, SharedVariable) and function is theano.function
    assert function([], s * 3, mode="NUMPY")() == 6.0


def test_ordered_updates():
    s, t = theano.shared(1.0, name="s"), theano.shared(2.0, name="t")
    u = theano.OrderedUpdates()
    u[s] = s + 1
    with pytest.raises(TypeError, match="shared variables"):
        u[T.dscalar()] = 1.0
    both = u + theano.OrderedUpdates([(t, t * 2)])
    assert list(both) == [s, t]
    with pytest.raises(KeyError, match="updated twice"):
        u.update({s: s - 1})
    theano.function([], None, updates=both, mode="NUMPY")()
    assert (s.get_value(), t.get_value()) == (2.0, 4.0)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_identities_follow_theano(mode):
    from symrnn.gradient import (DisconnectedInputError, consider_constant,
                                 disconnected_grad, grad_clip, grad_scale, zero_grad)
    x = T.dscalar("x")
    outs = [theano.grad(grad_clip(x, -1, 1) ** 2, x),  # Theano's docstring: [1.0, 4.0]
            theano.grad(x ** 2, x),
            theano.grad(zero_grad(x) * x, x), theano.grad(consider_constant(x) ** 2, x),
            theano.grad(grad_scale(x, 3) ** 2, x), theano.grad(disconnected_grad(x) * x, x),
            grad_clip(x, -1, 1) * zero_grad(x)]  # forward: the identity
    got = theano.function([x], outs, mode=mode)(2.0)
    np.testing.assert_allclose(got, [1.0, 4.0, 2.0, 0.0, 12.0, 2.0, 4.0])
    with pytest.raises(DisconnectedInputError):
        theano.grad(disconnected_grad(x) * 2, x)


def test_more_nnet_functions():
    x = R.normal(size=(3, 4)) * 3
    t = R.uniform(size=(3, 4))
    sig = 1 / (1 + np.exp(-x))
    nn = T.nnet
    check_op(lambda x, t: T.stack([nn.hard_sigmoid(x), nn.elu(x), nn.selu(x), nn.softsign(x),
                                   nn.sigmoid_binary_crossentropy(x, t)]), [x, t],
             np.stack([np.clip(0.2 * x + 0.5, 0, 1), np.where(x > 0, x, np.expm1(x)),
                       1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
                       x / (1 + abs(x)), -(t * np.log(sig) + (1 - t) * np.log(1 - sig))]))
    p, labels = R.uniform(0.1, 1, size=(3, 4)), np.array([0, 3, 1])
    check_op(T.nnet.crossentropy_categorical_1hot, [p, labels], -np.log(p[[0, 1, 2], labels]))
    assert T.nnet.logsoftmax is T.nnet.log_softmax


def test_scan_returns_ordered_updates_as_theano_does():
    """Theano's scan gives an OrderedUpdates: `upd1 + upd2` merges, a clash is an error."""
    import numpy as np
    import symrnn as theano
    import symrnn.tensor as T
    c = theano.shared(np.float64(0.0), name="c")
    _, upd = theano.scan(lambda a: {c: c + a}, sequences=T.vector("x"))
    assert isinstance(upd, theano.OrderedUpdates)
    d = theano.shared(np.float64(0.0), name="d")
    assert list((upd + {d: d + 1}).keys()) == [c, d]
    import pytest
    with pytest.raises(KeyError):
        upd + {c: c * 2}
