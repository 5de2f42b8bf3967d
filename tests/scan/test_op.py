"""The Scan op itself, built directly from the layout in symrnn/ops/scan.py's docstring."""
import dataclasses

import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from symrnn.ops.scan import Scan, ScanInfo
from helpers import MODES, assert_close


def layout_op(as_while=False):
    """seq x[t]; rec h with taps (-2, -1); mapped y; carry c; non-sequence w."""
    xs, hm2, hm1 = T.dscalar("x[t]"), T.dscalar("h[t-2]"), T.dscalar("h[t-1]")
    c, w = T.lscalar("c"), T.dscalar("w")
    outs = [hm2 + hm1 * w + xs, hm1 * 2, c + 1]
    if as_while:
        outs.append(T.gt(hm2 + hm1 * w + xs, 10.0))
    return Scan([xs, hm2, hm1, c, w], outs, ScanInfo(n_seqs=1, rec_taps=[(-2, -1)], n_nit=1,
                                                     n_shared=1, as_while=as_while))


def reference(x, h_init, c, w, n, stop=None):
    buf, ys = list(h_init), []
    for t in range(n):
        new = buf[t] + buf[t + 1] * w + x[t]
        ys.append(buf[t + 1] * 2)
        buf.append(new)
        c += 1
        if stop is not None and new > stop:
            break
    return np.array(buf), np.array(ys), np.int64(c)


@pytest.mark.parametrize("mode", MODES)
def test_outer_layout_and_values(mode):
    op = layout_op()
    n, x, h0, c, w = T.lscalar("n"), T.dvector("x"), T.dvector("h0"), T.lscalar("c0"), \
        T.dscalar("w")
    buf, y, c_final = op(n, x, h0, c, w)
    assert buf.type == T.dvector().type and y.type == T.dvector().type
    assert c_final.type == T.lscalar().type
    vals = [4, np.arange(6.), np.array([1., 2.]), 7, 0.5]
    got = symrnn.function([n, x, h0, c, w], [buf, y, c_final], mode=mode)(*vals)
    exp = reference(vals[1], vals[2], 7, 0.5, 4)
    assert got[0].shape == (2 + 4,) and got[1].shape == (4,)
    for g, e in zip(got, exp):
        assert_close(g, e)


@pytest.mark.parametrize("mode", MODES)
def test_as_while_cuts_every_output_to_the_steps_done(mode):
    op = layout_op(as_while=True)
    n, x, h0, c, w = T.lscalar("n"), T.dvector("x"), T.dvector("h0"), T.lscalar("c0"), \
        T.dscalar("w")
    outs = op(n, x, h0, c, w)
    vals = [50, np.arange(50.), np.array([1., 2.]), 0, 1.0]
    got = symrnn.function([n, x, h0, c, w], outs, mode=mode)(*vals)
    exp = reference(vals[1], vals[2], 0, 1.0, 50, stop=10.0)
    assert len(got[1]) < 50
    for g, e in zip(got, exp):
        assert_close(g, e)


def test_make_node_checks_outer_types():
    op = layout_op()
    with pytest.raises(TypeError, match="outer input 0"):
        op(T.lscalar(), T.fvector(), T.dvector(), T.lscalar(), T.dscalar())
    with pytest.raises(TypeError, match="n_steps"):
        op(T.dscalar(), T.dvector(), T.dvector(), T.lscalar(), T.dscalar())
    with pytest.raises(TypeError, match="outer inputs"):
        op(T.lscalar(), T.dvector(), T.dvector())
    with pytest.raises(ValueError, match="does not fit the counts"):
        Scan([T.dscalar()], [T.dscalar(), T.dscalar()], ScanInfo(1, (), 1, 0))
    with pytest.raises(TypeError, match="ScanInfo"):  # counts are named, not positional
        Scan([T.dscalar()], [T.dscalar()], 1, (), 1, 0)


def test_perform_refuses_a_short_sequence():
    op = layout_op()
    n, x, h0 = T.lscalar("n"), T.dvector("x"), T.dvector("h0")
    outs = op(n, x, h0, T.constant(np.int64(0)), T.constant(1.0))
    f = symrnn.function([n, x, h0], outs, mode="NUMPY")
    with pytest.raises(ValueError, match="sequence 0 has 2 entries, fewer than the 3 steps"):
        f(3, np.ones(2), np.ones(2))


def test_op_identity_and_inner_graph_attributes():
    op = layout_op()
    assert op == op and hash(op) == hash(op)
    assert op == layout_op() and hash(op) == hash(layout_op())  # same structure
    assert op != layout_op(as_while=True)
    seqs, taps, carries, nonseqs = op.split_inner()
    assert [len(seqs), [len(t) for t in taps], len(carries), len(nonseqs)] == [1, [2], 1, 1]
    assert op.lags == [2] and op.n_nonseqs == 1 and len(op.inner_outputs) == 3
    assert op.info == ScanInfo(n_seqs=1, rec_taps=((-2, -1),), n_nit=1, n_shared=1)
    assert (op.n_seqs, op.rec_taps, op.n_nit, op.n_shared) == (1, ((-2, -1),), 1, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):  # a Scan's slots never change
        op.info.n_nit = 2
    assert op.info.replace(n_nit=2).n_nit == 2 and op.n_nit == 1


def test_the_gradient_is_a_backward_scan_of_the_same_layout():
    x, h0, w = T.dvector("x"), T.dvector("h0"), T.dscalar("w")
    buf, y, _ = layout_op()(T.constant(np.int64(4)), x, h0, T.constant(np.int64(0)), w)
    cost = (buf ** 2).sum() + y.sum()
    gx, gh0, gw = symrnn.grad(cost, [x, h0, w])
    back = [v.owner.op for v in symrnn.graph.ancestors([gw])
            if v.owner is not None and isinstance(v.owner.op, Scan)
            and v.owner.op.name.startswith("grad_of")]
    assert back and back[0].n_rec == 0 and back[0].n_shared == 2  # S_h and the sum for w
    f = symrnn.function([x, h0, w], [gx, gh0, gw], mode="NUMPY")

    def cost_np(xv, hv, wv):
        b, ys, _ = reference(xv, hv, 0, wv, 4)
        return (b ** 2).sum() + ys.sum()
    xv, hv, wv = np.arange(5.) * .1, np.array([.3, -.2]), 0.7
    got = f(xv, hv, wv)
    eps = 1e-6
    for k, v in enumerate([xv, hv, np.array(wv)]):
        num = np.zeros_like(v)
        for i in range(v.size):
            args = [xv.copy(), hv.copy(), np.array(wv)]
            args[k].flat[i] += eps
            up = cost_np(*args)
            args[k].flat[i] -= 2 * eps
            num.flat[i] = (up - cost_np(*args)) / (2 * eps)
        np.testing.assert_allclose(got[k], num, rtol=1e-6, atol=1e-7)
