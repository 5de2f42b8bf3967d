import numpy as np
import pytest

import symrnn as theano


def test_type_from_value():
    assert theano.shared(np.zeros((2, 3), "float32")).type.dtype == "float32"
    assert theano.shared(np.zeros((1, 3))).broadcastable == (False, False)
    s = theano.shared(np.zeros((1, 3)), broadcastable=(True, False))
    assert s.broadcastable == (True, False)
    assert theano.shared(0.5).ndim == 0


def test_borrow_semantics():
    a = np.zeros(3)
    s = theano.shared(a)
    a[0] = 1
    assert s.get_value()[0] == 0
    b = np.zeros(3)
    t = theano.shared(b, borrow=True)
    b[0] = 1
    assert t.get_value(borrow=True)[0] == 1
    v = t.get_value()
    v[1] = 7
    assert t.get_value()[1] == 0


def test_set_value_checks():
    s = theano.shared(np.zeros(3, "float32"), name="w")
    s.set_value(np.ones(3, "float32"))
    s.set_value([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="w.set_value.*dimensions"):
        s.set_value(np.ones((3, 1), "float32"))
    with pytest.raises(TypeError, match="loss of precision"):
        s.set_value(np.ones(3))
    i = theano.shared(np.zeros(2, "int32"))
    with pytest.raises(TypeError):
        i.set_value(np.ones(2))
