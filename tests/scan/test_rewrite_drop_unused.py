"""Dropping unused scan outputs: same outputs and gradients, fewer per-step outputs."""
import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T
from helpers import MODES, assert_close, rewrites_set_to
from symrnn.ops.scan import Scan


def _train(mode, off):
    with rewrites_set_to(off):
        w0 = np.random.default_rng(1).normal(size=(3, 4)) * 0.3
        x, w = T.tensor3("x"), theano.shared(w0, name="w")
        u = theano.shared(np.eye(4) * 0.5, name="u")
        h0 = T.zeros((x.shape[1], 4))
        hs, _ = theano.scan(lambda xt, h, w, u: T.tanh(T.dot(xt, w) + T.dot(h, u)),
                            sequences=x, outputs_info=h0, non_sequences=[w, u])
        cost = (hs[-1] ** 2).sum()
        f = theano.function([x], [cost] + theano.grad(cost, [w, u]), mode=mode)
        return f(np.random.default_rng(2).normal(size=(5, 2, 3))), f.maker.fgraph


def _mapped_outputs(fgraph):
    return sum(n.op.n_nit for n in fgraph.toposort() if isinstance(n.op, Scan))


@pytest.mark.parametrize("mode", MODES)
def test_same_results_with_and_without(mode):
    got, fg = _train(mode, "-scan_hoist")  # hoisting adds mapped outputs of its own
    ref, fg_ref = _train(mode, "-scan_hoist,-scan_drop_unused_outputs")
    for a, b in zip(got, ref):
        assert_close(a, b, mode)
    assert _mapped_outputs(fg) < _mapped_outputs(fg_ref)
