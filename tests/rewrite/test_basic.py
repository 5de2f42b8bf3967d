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
