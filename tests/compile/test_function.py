import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T
from symrnn.compile.function import MissingInputError, UnusedInputError
from helpers import MODES


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


def test_outputs_forms(mode):
    x = T.dvector("x")
    assert isinstance(theano.function([x], x * 2, mode=mode)([1.0]), np.ndarray)
    out = theano.function([x], [x * 2, x + 1], mode=mode)([1.0])
    assert isinstance(out, list) and len(out) == 2
    assert theano.function([x], [], mode=mode, on_unused_input="ignore")([1.0]) == []
    assert theano.function([x], None, mode=mode, on_unused_input="ignore")([1.0]) is None


def test_updates_apply_after_outputs_together(mode):
    a = theano.shared(np.float64(1.0), name="a")
    b = theano.shared(np.float64(10.0), name="b")
    f = theano.function([], [a, b], updates=[(a, b), (b, a)], mode=mode)
    assert [float(v) for v in f()] == [1.0, 10.0]
    assert (a.get_value(), b.get_value()) == (10.0, 1.0)
    f()
    assert (a.get_value(), b.get_value()) == (1.0, 10.0)


def test_updates_dict_and_counter(mode):
    c = theano.shared(np.int64(0))
    f = theano.function([], c, updates={c: c + 1}, mode=mode)
    for _ in range(3):
        f()
    assert c.get_value() == 3


def test_failed_call_changes_no_shared_variable(mode):
    w = theano.shared(np.ones(3), name="w")
    k = theano.shared(np.int64(0), name="k")
    x = T.dmatrix("x")
    out = T.dot(x, w)
    f = theano.function([x], out, updates=[(k, k + 1), (w, w * 2)], mode=mode)
    with pytest.raises(ValueError):
        f(np.ones((2, 4)))  # dot shape mismatch
    assert k.get_value() == 0 and np.all(w.get_value() == 1)
    f(np.ones((2, 3)))
    assert k.get_value() == 1


def test_givens(mode):
    x = T.dvector("x")
    y = T.dvector("y")
    s = theano.shared(np.arange(3.0))
    f = theano.function([y], (x * y).sum(), givens={x: s}, mode=mode)
    assert f([1.0, 1.0, 1.0]) == 3.0
    g = theano.function([], (x * 2).sum(), givens=[(x, np.array([1.0, 2.0]))], mode=mode)
    assert g() == 6.0


def test_given_with_wrong_type_is_type_error():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="given for x must have type.*float64"):
        theano.function([], x.sum(), givens={x: T.ivector()})
    with pytest.raises(TypeError, match="must have type"):
        theano.function([], x.sum(), givens={x: T.dmatrix()})


def test_update_type_mismatch():
    w = theano.shared(np.zeros(3, dtype="float32"), name="w")
    with pytest.raises(TypeError, match="T.cast"):
        theano.function([], [], updates=[(w, w * np.float64(2) + T.dvector().sum())],
                        on_unused_input="ignore")
    with pytest.raises(TypeError, match="shared variable"):
        theano.function([], [], updates=[(T.dvector(), T.dvector())])


def test_input_checks():
    x = T.fvector("x")
    f = theano.function([x], x * 2)
    with pytest.raises(TypeError, match="expected 1 inputs"):
        f([1.0], [2.0])
    with pytest.raises(TypeError, match="missing"):
        f()
    with pytest.raises(TypeError, match="wrong number of dimensions"):
        f([[1.0]])
    with pytest.raises(TypeError, match="loss of precision"):
        f(np.ones(2, dtype="float64"))
    assert f(np.ones(2, dtype="float64").astype("float32")).dtype == np.float32
    assert f([1.0, 2.0]).dtype == np.float32  # Python floats go into float32
    g = theano.function([x], x * 2, allow_input_downcast=True)
    assert g(np.ones(2)).dtype == np.float32
    i = T.ivector("i")
    h = theano.function([i], i + 1)
    with pytest.raises(TypeError):
        h([1.5])
    assert list(h([1, 2])) == [2, 3]
    assert list(f(x=[1.0])) == [2.0]


def test_missing_and_unused_inputs():
    x, y = T.dvector("x"), T.dvector("y")
    with pytest.raises(MissingInputError, match="y"):
        theano.function([x], x + y)
    with pytest.raises(UnusedInputError, match="y"):
        theano.function([x, y], x * 2)
    with pytest.warns(UserWarning):
        theano.function([x, y], x * 2, on_unused_input="warn")
    theano.function([x, y], x * 2, on_unused_input="ignore")
    with pytest.raises(TypeError, match="shared"):
        theano.function([theano.shared(1.0)], [])


def test_outputs_do_not_alias_inputs_or_shared(mode):
    s = theano.shared(np.zeros(2))
    x = T.dvector("x")
    f = theano.function([x], [x, s], mode=mode)
    a = np.ones(2)
    out_x, out_s = f(a)
    out_x[0] = 5
    out_s[0] = 5
    assert a[0] == 1 and s.get_value()[0] == 0


def test_givens_that_change_the_type_are_a_type_error_as_in_theano():
    x = T.dmatrix("x")
    for value in (np.zeros((2, 2), dtype="float32"), np.zeros(3), T.fmatrix("f"), T.dvector()):
        with pytest.raises(TypeError, match="the given for x must have type"):
            theano.function([], (x * 2).sum(), givens={x: value}, on_unused_input="ignore")
    f = theano.function([], (x * 2).sum(), givens={x: np.ones((2, 2))}, mode="NUMPY")
    assert f() == 8.0
    # rebuild_strict=False lets another type through: the graph is rebuilt around it
    g = theano.function([], (x * 2).sum(), givens={x: np.ones((2, 2), "float32")},
                        rebuild_strict=False, mode="NUMPY")
    assert g() == 8.0


@pytest.mark.parametrize("mode", MODES)
def test_function_with_outputs_none_returns_none(mode):
    s = theano.shared(np.float64(0.0), name="s")
    f = theano.function([], None, updates=[(s, s + 1)], mode=mode)
    assert f() is None and s.get_value() == 1.0
    assert theano.function([], [], updates=[(s, s + 1)], mode=mode)() == []


@pytest.mark.parametrize("mode", ["NUMPY", "NUMBA"])
def test_a_constant_output_is_the_callers_own_copy(mode):
    """An output that constant folding made a constant comes back as a copy: writing into
    it changes neither the next call's answer nor the graph (nor an updated variable)."""
    x = T.dvector("x")
    s = theano.shared(np.zeros(2))
    k = T.constant(np.array([1.0, 2.0])) * 3
    f = theano.function([x], [x + 1, k], updates=[(s, k)], mode=mode)
    a, b = f([0.0, 0.0])
    b[0] = 99.0
    s.get_value(borrow=True)[1] = -5.0
    assert list(f([0.0, 0.0])[1]) == [3.0, 6.0] and list(s.get_value()) == [3.0, 6.0]
