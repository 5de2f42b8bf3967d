"""scan_hoist: same outputs and gradients with and without it, less work in the loops."""
import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T
from helpers import MODES, assert_close, rewrites_set_to
from symrnn.ops.blas import Dot
from symrnn.ops.scan import Scan

RNG = np.random.default_rng(0)


def _compile(build, mode, off):
    with rewrites_set_to(off):
        ins, outs = build()
        return theano.function(ins, outs, mode=mode)


def _scans(f):
    return [n.op for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]


def _inner_ops(op):
    from symrnn.graph import toposort
    return [n.op for n in toposort(op.inner_outputs, blockers=op.inner_inputs)]


def _indrnn():
    RNG = np.random.default_rng(1)
    x, y = T.tensor3("x"), T.matrix("y")
    params, h = [], x
    for layer, n_in in enumerate((2, 4)):
        W = theano.shared(RNG.normal(size=(n_in, 4)) * 0.5, name=f"W{layer}")
        u = theano.shared(RNG.uniform(0.5, 1.0, size=4), name=f"u{layer}")
        b = theano.shared(RNG.normal(size=4) * 0.1, name=f"b{layer}")
        params += [W, u, b]
        h0 = T.zeros((x.shape[1], 4))
        h, _ = theano.scan(lambda xt, hp, W, u, b: T.maximum(T.dot(xt, W) + u * hp + b, 0),
                           sequences=h if layer == 0 else h[1:], outputs_info=h0,
                           non_sequences=[W, u, b])
    cost = ((h[-1] - y) ** 2).mean()
    return [x, y], [cost] + theano.grad(cost, params)


def _tanh_rnn():
    RNG = np.random.default_rng(2)
    x = T.tensor3("x")
    W = theano.shared(RNG.normal(size=(3, 5)) * 0.4, name="W")
    U = theano.shared(RNG.normal(size=(5, 5)) * 0.4, name="U")
    v = theano.shared(RNG.normal(size=5), name="v")
    h0 = T.zeros((x.shape[1], 5))
    # T.exp(v) * 2 reads only a non-sequence: loop-invariant
    h, _ = theano.scan(lambda xt, hp, W, U, v: T.tanh(T.dot(xt, W) + T.dot(hp, U) * T.exp(v) * 2),
                       sequences=x, outputs_info=h0, non_sequences=[W, U, v])
    cost = (h ** 2).sum()
    return [x], [cost, h] + theano.grad(cost, [W, U, v, x])


def _vector_steps():
    RNG = np.random.default_rng(3)
    x = T.matrix("x")
    W = theano.shared(RNG.normal(size=(3, 2)), name="W")
    s, _ = theano.scan(lambda xt, sp, W: T.dot(xt, W) + 0.5 * sp, sequences=x,
                       outputs_info=T.zeros((2,)), non_sequences=[W])
    cost = (s ** 2).sum()
    return [x], [cost] + theano.grad(cost, [W, x])


def _until_and_output_projection():
    from symrnn.scan_module import until
    RNG = np.random.default_rng(4)
    x = T.tensor3("x")
    W = theano.shared(RNG.normal(size=(3, 4)), name="W")
    V = theano.shared(RNG.normal(size=(4, 2)), name="V")

    def step(xt, h, W, V):  # x_t @ W before the loop, new @ V after it
        new = T.tanh(T.dot(xt, W) + 0.5 * h)
        return [new, T.dot(new, V)], until(T.gt(new.sum(), 3.0))
    (h, y), _ = theano.scan(step, sequences=x, outputs_info=[T.zeros((x.shape[1], 4)), None],
                            non_sequences=[W, V])
    cost = (h ** 2).sum() + y.sum()
    return [x], [cost, h, y] + theano.grad(cost, [W, V, x])


CASES = {
    "indrnn": (_indrnn, lambda: [RNG.normal(size=(6, 3, 2)), RNG.normal(size=(3, 4))]),
    "tanh": (_tanh_rnn, lambda: [RNG.normal(size=(5, 2, 3))]),
    "vector": (_vector_steps, lambda: [RNG.normal(size=(4, 3))]),
    "until": (_until_and_output_projection, lambda: [RNG.normal(size=(6, 2, 3))]),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_same_outputs_and_gradients(case, mode):
    build, data = CASES[case]
    values = data()
    got = _compile(build, mode, "")(*values)
    ref = _compile(build, mode, "-scan_hoist")(*values)
    for k, (a, b) in enumerate(zip(got, ref)):
        assert_close(a, b, f"{case} output {k}")


def test_indrnn_loops_hold_no_matrix_product():
    f = _compile(_indrnn, "NUMPY", "")
    scans = _scans(f)
    assert len(scans) == 4  # two layers, forward and backward
    for op in scans:
        assert not any(isinstance(o, Dot) for o in _inner_ops(op)), op
    ref = _scans(_compile(_indrnn, "NUMPY", "-scan_hoist"))
    assert all(any(isinstance(o, Dot) for o in _inner_ops(op)) for op in ref)


def test_invariant_work_leaves_the_loop():
    f = _compile(_tanh_rnn, "NUMPY", "")
    forward = _scans(f)[0]
    names = [getattr(getattr(o, "scalar_op", None), "name", "") for o in _inner_ops(forward)]
    assert "exp" not in names
    dots = [o for o in _inner_ops(forward) if isinstance(o, Dot)]
    assert len(dots) == 2  # h_{t-1} @ U stays, so x_t @ W stays too (no elementwise loop)


@pytest.mark.parametrize("mode", MODES)
def test_unused_carries_dropped(mode):
    values = CASES["indrnn"][1]()
    f = _compile(_indrnn, mode, "")
    ref = _compile(_indrnn, mode, "-scan_drop_unused_carries")
    for k, (a, b) in enumerate(zip(f(*values), ref(*values))):
        assert_close(a, b, f"output {k}")
    carries = sum(op.n_shared for op in _scans(f))
    assert carries < sum(op.n_shared for op in _scans(ref))
