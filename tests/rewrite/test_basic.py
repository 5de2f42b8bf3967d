"""Constant folding and merge: outputs and gradients equal with and without each rewrite."""
import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T
from helpers import MODES, assert_close
from symrnn.ops.elemwise import Elemwise

R = np.random.default_rng(0)


def _graph():
    x, w = T.matrix("x"), T.vector("w")
    k = T.constant(np.arange(3.0)) * 2 + T.exp(T.constant(0.5))  # foldable
    a = T.tanh(T.dot(x, w)) + T.tanh(T.dot(x, w))  # duplicates
    cost = (a * k.sum()).sum() + (x * k).sum()
    return [x, w], [cost] + theano.grad(cost, [x, w])


def _run(mode, off, values):
    old = theano.config.rewrites
    theano.config.rewrites = off
    try:
        inputs, outputs = _graph()
        f = theano.function(inputs, outputs, mode=mode)
        return f(*values), f.maker.fgraph.toposort()
    finally:
        theano.config.rewrites = old


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["constant_folding", "merge"])
def test_outputs_and_gradients_equal_without_the_rewrite(mode, name):
    values = [R.normal(size=(4, 3)), R.normal(size=3)]
    with_it, nodes_with = _run(mode, "", values)
    without, nodes_without = _run(mode, f"-{name}", values)
    for a, b in zip(with_it, without):
        assert_close(a, b, name)
    assert len(nodes_with) < len(nodes_without)


def test_merge_makes_one_node_of_duplicates():
    _, nodes = _run("NUMPY", "-constant_folding", [R.normal(size=(4, 3)), R.normal(size=3)])
    tanhs = [n for n in nodes if isinstance(n.op, Elemwise) and n.op.scalar_op.name == "tanh"]
    assert len(tanhs) == 1


def test_folding_leaves_no_node_with_only_constant_inputs():
    from symrnn.graph import Constant
    _, nodes = _run("NUMPY", "", [R.normal(size=(4, 3)), R.normal(size=3)])
    assert not [n for n in nodes if n.inputs and all(isinstance(v, Constant) for v in n.inputs)]


def test_folding_runs_the_ops_own_perform():
    """A user op known to no backend folds too: folding calls ``op.perform``."""
    from symrnn.graph import Apply, Constant, Op

    class Twice(Op):
        def make_node(self, x):
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs):
            return [2 * inputs[0]]

    x = T.dvector("x")
    f = theano.function([x], x + Twice()(T.constant(np.array([1.0, 3.0]))), mode="NUMPY")
    assert not [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Twice)]
    assert any(isinstance(v, Constant) and list(v.data) == [2.0, 6.0]
               for n in f.maker.fgraph.toposort() for v in n.inputs)
    assert list(f([1.0, 1.0])) == [3.0, 7.0]


def _mse(off=""):
    """A mean squared error and its gradients, compiled NUMPY with ``off`` rewrites off."""
    y, t = T.matrix("y"), T.matrix("t")
    cost = T.mean((y - t) ** 2)
    old = theano.config.rewrites
    theano.config.rewrites = off
    try:
        return theano.function([y, t], [cost] + theano.grad(cost, [y, t]), mode="NUMPY")
    finally:
        theano.config.rewrites = old


def _read_for_shape_only(f):
    """The elementwise results also read for their shape alone (``x.shape``, ``fill(x, c)``)."""
    readers = f.maker.fgraph.clients()
    out = []
    for n in f.maker.fgraph.toposort():
        v = n.inputs[0] if n.inputs else None
        if v is None or v.owner is None or not isinstance(v.owner.op, Elemwise):
            continue
        if type(n.op).__name__ == "Shape" or (
                isinstance(n.op, Elemwise) and n.op.scalar_op.name == "second"):
            if len(readers[id(v)]) > 1:
                out.append(v)
    return out


def test_an_elementwise_results_shape_is_read_from_its_input():
    """The mean's count and its gradient's fill read the shape of ``y - t``, not of its
    square, which then has the reduction as its only reader (one loop with it); the values
    are those with the rewrite off."""
    f, g = _mse(), _mse("-shape_of_elemwise")
    assert _read_for_shape_only(g) and not _read_for_shape_only(f)
    yv, tv = R.normal(size=(4, 3)), R.normal(size=(4, 3))
    for got, want in zip(f(yv, tv), g(yv, tv)):
        assert_close(got, want, "shape_of_elemwise")


@pytest.mark.parametrize("mode", MODES)
def test_the_shape_of_a_result_nothing_else_reads_still_checks_its_inputs(mode):
    a, b = T.matrix("a"), T.matrix("b")
    f = theano.function([a, b], (a + b).shape, mode=mode)
    assert list(f(np.ones((2, 3)), np.ones((2, 3)))) == [2, 3]
    with pytest.raises(ValueError):
        f(np.ones((2, 3)), np.ones((4, 3)))  # (not a's shape: a + b fails)
