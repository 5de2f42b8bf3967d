"""Views that change nothing (x[0:], x[:], x[::-1][::-1]) are dropped; other views stay."""
import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T
from helpers import MODES
from symrnn.ops.subtensor import Subtensor


def _subtensors(f):
    return [str(n.op) for n in f.maker.fgraph.toposort() if isinstance(n.op, Subtensor)]


@pytest.mark.parametrize("mode", MODES)
def test_views_that_change_nothing_are_dropped_and_outputs_stay_copies(mode):
    x = T.matrix("x")
    a = np.arange(12.0).reshape(3, 4).astype(theano.config.floatX)
    f = theano.function([x], [x[0:], x[::-1][::-1], x[:, 0:] * 2, x[::-1], x[1:]], mode=mode)
    assert sorted(_subtensors(f)) == ["Subtensor{1:}", "Subtensor{::-1}"]
    outs = f(a)
    for got, want in zip(outs, [a, a, a * 2, a[::-1], a[1:]]):
        np.testing.assert_array_equal(got, want)
    assert not any(np.shares_memory(o, a) for o in outs)  # outputs never alias an input


def test_the_rewrite_keeps_types_and_can_be_switched_off(monkeypatch):
    x = T.TensorType("float64", (True, False))("x")  # the broadcastable axis stays one
    f = theano.function([x], x[0:] + 1, mode="NUMPY")
    assert _subtensors(f) == [] and f.maker.fgraph.outputs[0].type == (x + 1).type
    monkeypatch.setattr(theano.config, "rewrites", "-subtensor_identity")
    y = T.matrix("y")
    assert _subtensors(theano.function([y], y[0:] + 1, mode="NUMPY")) == ["Subtensor{0:}"]


def test_scan_gradients_compile_with_fewer_views_and_the_same_values():
    x, w = T.matrix("x"), theano.shared(np.full((3, 3), 0.3), name="w")
    h, _ = theano.scan(lambda xt, hp, w: T.tanh(xt + T.dot(hp, w)), sequences=x,
                       outputs_info=T.zeros((3,)), non_sequences=w)
    cost = (h ** 2).sum()
    outs = [cost] + theano.grad(cost, [x, w])
    v = np.random.default_rng(1).normal(size=(5, 3))
    old = theano.config.rewrites
    theano.config.rewrites = "-subtensor_identity"
    try:
        g = theano.function([x], outs, mode="NUMPY")
        want = g(v)
    finally:
        theano.config.rewrites = old
    f = theano.function([x], outs, mode="NUMPY")
    assert len(_subtensors(f)) < len(_subtensors(g))
    for got, w_ in zip(f(v), want):
        np.testing.assert_allclose(got, w_, rtol=1e-12)


def _two_layers_hoisted(step):
    """Two IndRNN layers written the Theano way (the input product inside the step, each scan
    named after its layer), a loss on the top layer's state at ``step``; the cost and its
    gradients."""
    rng = np.random.default_rng(3)
    x = T.tensor3("x")
    h, size, params = x, 2, []
    for k in range(2):
        w = theano.shared(rng.normal(size=(size, 4)) * 0.5, name=f"w{k}")
        u = theano.shared(rng.uniform(0.2, 0.9, size=4), name=f"u{k}")
        h, _ = theano.scan(lambda xt, hp, w, u: T.maximum(T.dot(xt, w) + u * hp, 0),
                           sequences=h, non_sequences=[w, u], name=f"layer{k}",
                           outputs_info=T.zeros((x.shape[1], 4)))
        size, params = 4, params + [w, u]
    cost = (h[step] ** 2).sum()
    return x, [cost] + theano.grad(cost, params + [x])


@pytest.mark.parametrize("step", [-1, 0, 2])
def test_a_reversed_gradient_of_one_step_is_mirrored_for_equal_scans(step):
    """The gradient of a loss on one step of the top layer (zeros with that step put in),
    read reversed by its backward scan, becomes the zeros with the mirrored step put in,
    read straight, as the layer below reads its gradient: the same values."""
    x, outs = _two_layers_hoisted(step)
    v = np.random.default_rng(4).normal(size=(5, 3, 2))
    f = theano.function([x], outs, mode="NUMPY")
    old = theano.config.rewrites
    theano.config.rewrites = "-reversed_zeros_region"
    try:
        g = theano.function([x], outs, mode="NUMPY")
    finally:
        theano.config.rewrites = old

    def scans_read_reversed(fn):
        return sum(1 for n in fn.maker.fgraph.toposort() if type(n.op).__name__ == "Scan"
                   for v in n.inputs if v.owner is not None and
                   str(v.owner.op) == "Subtensor{::-1}" and
                   type(v.owner.inputs[0].owner.op).__name__ == "IncSubtensor")
    assert scans_read_reversed(g) == 1 and scans_read_reversed(f) == 0
    for got, want in zip(f(v), g(v)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
