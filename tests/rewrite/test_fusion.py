"""fusion: elementwise chains become one Composite; same outputs and gradients without it."""
import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T
from helpers import MODES, assert_close
from symrnn.ops.elemwise import Composite, Elemwise


def _compile(inputs, outputs, mode, off):
    old = theano.config.rewrites
    theano.config.rewrites = off
    try:
        return theano.function(inputs, outputs, mode=mode)
    finally:
        theano.config.rewrites = old


def _graph():
    x, y = T.matrix("x"), T.vector("y")
    z = x * y + 1.5  # row y broadcast over x's rows
    h = T.maximum(z, 0) * T.exp(-z) + T.tanh(z) * T.cast(T.gt(z, 0.2), "float64")
    cost = (h ** 2).sum() + T.sqrt(T.abs(y) + 1).sum()
    return [x, y], [cost, h] + theano.grad(cost, [x, y])


@pytest.mark.parametrize("mode", MODES)
def test_same_outputs_and_gradients(mode):
    rng = np.random.default_rng(0)
    values = [rng.normal(size=(4, 3)), rng.normal(size=3)]
    f = _compile(*_graph(), mode, "")
    ref = _compile(*_graph(), mode, "-fusion")
    for k, (a, b) in enumerate(zip(f(*values), ref(*values))):
        assert_close(a, b, f"output {k}")
    if mode == "NUMPY":
        for k, (a, b) in enumerate(zip(f(*values), ref(*values))):
            np.testing.assert_array_equal(a, b, err_msg=f"NUMPY output {k}: not bit for bit")
    ops = [n.op for n in f.maker.fgraph.toposort()]
    ref_ops = [n.op for n in ref.maker.fgraph.toposort()]
    if mode == "CUPY":
        # the rewrite is off there: the backend fuses each chain into one ElementwiseKernel
        assert not any(isinstance(o, Composite) for o in ops)
        elemwise_steps = [s for s in f.thunk.steps if isinstance(s[3].op, Elemwise)]
        assert len(elemwise_steps) < sum(isinstance(o, Elemwise) for o in ops)
        sources = [getattr(s[0], "source", "") for s in elemwise_steps]
        assert max(src.count("const ") for src in sources) >= 3  # 3+ ops in one kernel
        return
    assert any(isinstance(o, Composite) for o in ops)
    assert sum(isinstance(o, Elemwise) for o in ops) < sum(isinstance(o, Elemwise)
                                                           for o in ref_ops)


def test_one_group_per_broadcast_pattern():
    # exp(y) is computed on the row only, not once per element of x
    x, y = T.matrix("x"), T.vector("y")
    f = _compile([x, y], T.log(x + T.exp(y) * 2) * 3, "NUMPY", "")
    comps = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Composite)]
    names = [[m.op.scalar_op.name for m in c.op.scalar_op.nodes] for c in comps]
    assert ["exp", "mul"] in names and ["add", "log", "mul"] in names, names


def test_composite_gradient_is_the_chain_gradient():
    from symrnn.gradient import verify_grad
    from symrnn.rewrite.fusion import composite, groups

    def fused(x):
        out = T.tanh(x * 2.0) * x
        from symrnn.compile.fgraph import FunctionGraph
        fg = FunctionGraph([x], [out])
        (nodes,) = groups(fg.toposort(), fg.clients())
        return composite(nodes).outputs[0]
    verify_grad(fused, [np.random.default_rng(1).normal(size=(3, 2))], mode="NUMPY")
