"""Elementwise scans as one fused loop in the numba backend: NumPy's answers, no per-step arrays."""
import re

import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T
from helpers import compare_backends, rewrites_set_to
from symrnn.ops.scan import Scan
from symrnn.ops.subtensor import IncSubtensor

nb = pytest.importorskip("symrnn.backends.numba")
from symrnn.backends.numba.elementwise_scan import plan_for  # noqa: E402

R = np.random.default_rng(0)


def _loop_bodies(src):
    """The lines of each ``for t`` loop of the generated source."""
    lines, out = src.split("\n"), []
    for k, line in enumerate(lines):
        if line.lstrip().startswith("for t"):
            indent = len(line) - len(line.lstrip())
            body = []
            for nxt in lines[k + 1:]:
                if len(nxt) - len(nxt.lstrip()) <= indent:
                    break
                body.append(nxt)
            out.append("\n".join(body))
    return out


def _fused(f):
    return [plan_for(n.op) is not None for n in f.maker.fgraph.toposort()
            if isinstance(n.op, Scan)]


def _indrnn(go_backwards=False):
    x, y = T.tensor3("x"), T.matrix("y")
    W = theano.shared(R.normal(size=(2, 3)), name="W")
    u = theano.shared(R.uniform(0.5, 1, size=3), name="u")
    b = theano.shared(R.normal(size=3) * 0.1, name="b")
    h0 = T.zeros((x.shape[1], 3))
    h, _ = theano.scan(lambda xt, hp, W, u, b: T.maximum(T.dot(xt, W) + u * hp + b, 0),
                       sequences=x, outputs_info=h0, non_sequences=[W, u, b],
                       go_backwards=go_backwards)
    cost = ((h[-1] - y) ** 2).mean() + (h ** 2).mean()
    return [x, y], [cost] + theano.grad(cost, [W, u, b, x])


def test_indrnn_forward_and_backward_fuse():
    ins, outs = _indrnn()
    f = theano.function(ins, outs, mode="NUMBA")
    assert _fused(f) == [True, True]
    bodies = _loop_bodies(f.source())
    assert len(bodies) == 2 and not any("np.empty" in b or "gemm" in b for b in bodies)
    compare_backends(ins, outs, [R.normal(size=(5, 4, 2)), R.normal(size=(4, 3))])


@pytest.mark.parametrize("go_backwards", [False, True])
def test_backward_loop_reads_its_sequences_where_they_are(go_backwards):
    """The backward loop reads each reversed sequence x[::-1] as x[last - t] (a reversed view
    is strided at run time and its loop does not vectorise), and the gradients of the
    sequence and of the steps' rows are the loops' own: no (T, B, H) array is zeroed and
    added into (IncSubtensor over a slice)."""
    ins, outs = _indrnn(go_backwards)
    f = theano.function(ins, outs, mode="NUMBA")
    assert _fused(f) == [True, True]
    fwd, back = _loop_bodies(f.source())
    assert re.search(r"\[L\d+ - t\d+, ", back)
    assert bool(re.search(r"\[L\d+ - t\d+, ", fwd)) == go_backwards  # x[::-1] itself
    slices = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, IncSubtensor)
              and any(isinstance(e, tuple) for e in n.op.idx_list)]
    assert not slices
    compare_backends(ins, outs, [R.normal(size=(5, 4, 2)), R.normal(size=(4, 3))])


def test_counting_rnn_fuses_in_float32():
    x, target = T.fmatrix("x"), T.fvector("target")
    wx = theano.shared(np.float32(0.5), name="wx")
    wr = theano.shared(np.float32(0.9), name="wr")
    s, _ = theano.scan(lambda xt, sp, wx, wr: xt * wx + sp * wr, sequences=x,
                       outputs_info=T.zeros_like(x[0]), non_sequences=[wx, wr])
    cost = T.mean((s[-1] - target) ** 2)
    outs = [cost] + theano.grad(cost, [wx, wr])
    f = theano.function([x, target], outs, mode="NUMBA")
    assert _fused(f) == [True, True]
    compare_backends([x, target], outs, [R.normal(size=(10, 7)).astype("float32"),
                                         R.normal(size=7).astype("float32")])


def test_state_with_two_taps_and_a_mapped_output():
    x = T.matrix("x")
    h, _ = theano.scan(lambda xt, h2, h1: (T.tanh(xt + 0.5 * h1 - 0.25 * h2), h1 * xt),
                       sequences=x, outputs_info=[dict(initial=T.zeros((2, 3)), taps=[-2, -1]),
                                                  None])
    cost = (h[0] ** 2).sum() + h[1].sum()
    outs = [cost, h[0], h[1]] + theano.grad(cost, [x])
    f = theano.function([x], outs, mode="NUMBA")
    assert _fused(f)[0]
    compare_backends([x], outs, [R.normal(size=(6, 3))])


def test_wrong_shapes_raise_like_numpy():
    x, h0 = T.matrix("x"), T.matrix("h0")
    h, _ = theano.scan(lambda xt, hp: T.tanh(xt + hp), sequences=x, outputs_info=h0)
    f = theano.function([x, h0], h, mode="NUMBA")
    assert _fused(f) == [True]
    with pytest.raises(ValueError, match="Scan|shape"):
        f(np.ones((4, 3)), np.ones((1, 2)))


def test_switched_off_it_runs_the_step_loop_with_the_same_results():
    x = T.matrix("x")
    s, _ = theano.scan(lambda xt, sp: xt * 0.5 + sp * 0.9, sequences=x,
                       outputs_info=T.zeros_like(x[0]))
    cost = (s ** 2).sum()
    outs = [cost] + theano.grad(cost, [x])
    values = [R.normal(size=(4, 3))]
    fused = theano.function([x], outs, mode="NUMBA")
    with rewrites_set_to("-elementwise_scan"):
        plain = theano.function([x], outs, mode="NUMBA")
    assert "one loop with no per-step array" in fused.source()
    assert "one loop with no per-step array" not in plain.source()
    for a, b in zip(fused(*values), plain(*values)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_a_gradient_accumulator_starts_from_its_zero_fill_without_adding_it():
    """A gradient's accumulated carry starts from a fill of zeros: its final value is the
    sum of its terms, with no loop adding the zeros (each loop costs numba ~50 ms)."""
    from symrnn.backends.numba.elementwise_scan import _zeros
    v = T.vector("v")
    assert _zeros(T.zeros_like(v)) and _zeros(T.constant(0.0))
    assert not _zeros(T.ones_like(v)) and not _zeros(v) and not _zeros(v * 0)
    ins, outs = _indrnn()
    f = theano.function(ins, outs, mode="NUMBA")
    backward = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)][-1]
    assert plan_for(backward.op).acc
    assert all(_zeros(backward.inputs[1 + backward.op.n_seqs + backward.op.n_rec + c])
               for c in plan_for(backward.op).acc)
    compare_backends(ins, outs, [R.normal(size=(5, 4, 2)), R.normal(size=(4, 3))])
