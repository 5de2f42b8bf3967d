"""Gradients through scan against hand-written backpropagation through time."""
import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from helpers import MODES


def tanh_rnn_bptt(x, h0, W, U, truncate=-1):
    """h_t = tanh(x_t W + h_{t-1} U); cost = sum_t sum(h_t). Returns grads (x, h0, W, U)."""
    hs = [h0]
    for xt in x:
        hs.append(np.tanh(xt @ W + hs[-1] @ U))
    n = len(x)
    gx, gW, gU = np.zeros_like(x), np.zeros_like(W), np.zeros_like(U)
    gh = np.zeros_like(h0)
    first = 0 if truncate < 0 else max(0, n - truncate)
    for t in range(n - 1, first - 1, -1):
        gh = gh + 1.0  # d cost / d h_t from the sum
        ga = gh * (1 - hs[t + 1] ** 2)
        gx[t] = ga @ W.T
        gW += np.outer(x[t], ga)
        gU += np.outer(hs[t], ga)
        gh = ga @ U.T
    gh0 = gh if first == 0 else np.zeros_like(h0)
    return gx, gh0, gW, gU


def build_tanh_rnn(truncate=-1):
    x, h0, W, U = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("W"), T.dmatrix("U")
    h, _ = symrnn.scan(lambda xt, h, W, U: T.tanh(T.dot(xt, W) + T.dot(h, U)), sequences=x,
                       outputs_info=h0, non_sequences=[W, U], truncate_gradient=truncate)
    return [x, h0, W, U], symrnn.grad(h.sum(), [x, h0, W, U])


@pytest.mark.parametrize("truncate", [-1, 3])
@pytest.mark.parametrize("mode", MODES)
def test_tanh_rnn_matches_hand_written_bptt(mode, truncate):
    rng = np.random.default_rng(5)
    vals = [rng.normal(size=(7, 3)), rng.normal(size=4), rng.normal(size=(3, 4)) * .5,
            rng.normal(size=(4, 4)) * .5]
    ins, grads = build_tanh_rnn(truncate)
    got = symrnn.function(ins, grads, mode=mode)(*vals)
    for g, e in zip(got, tanh_rnn_bptt(*vals, truncate=truncate)):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


def test_truncated_bptt_reaches_only_the_last_k_steps():
    ins, grads = build_tanh_rnn(truncate=2)
    rng = np.random.default_rng(6)
    vals = [rng.normal(size=(6, 3)), rng.normal(size=4), rng.normal(size=(3, 4)),
            rng.normal(size=(4, 4))]
    gx, gh0 = symrnn.function(ins, grads[:2], mode="NUMPY")(*vals)
    assert np.all(gx[:4] == 0) and np.all(gx[4:] != 0) and np.all(gh0 == 0)


def indrnn_bptt(x, h0, W, u, b):
    """IndRNN: h_t = relu(x_t W + u * h_{t-1} + b); cost = sum(h_T ** 2)."""
    hs, pre = [h0], []
    for xt in x:
        pre.append(xt @ W + u * hs[-1] + b)
        hs.append(np.maximum(pre[-1], 0))
    gx, gW = np.zeros_like(x), np.zeros_like(W)
    gu, gb = np.zeros_like(u), np.zeros_like(b)
    gh = 2 * hs[-1]
    for t in range(len(x) - 1, -1, -1):
        ga = gh * (pre[t] > 0)
        gx[t], gW, gu, gb = ga @ W.T, gW + np.outer(x[t], ga), gu + ga * hs[t], gb + ga
        gh = ga * u
    return gx, gh, gW, gu, gb


@pytest.mark.parametrize("mode", MODES)
def test_indrnn_elementwise_recurrent_weight_matches_hand_written_bptt(mode):
    x, h0, W = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("W")
    u, b = T.dvector("u"), T.dvector("b")
    proj = T.dot(x, W)  # the input projection, once for the whole sequence

    def step(p, h, u, b):
        return T.maximum(p + u * h + b, 0)
    h, _ = symrnn.scan(step, sequences=proj, outputs_info=h0, non_sequences=[u, b])
    cost = (h[-1] ** 2).sum()
    ins = [x, h0, W, u, b]
    rng = np.random.default_rng(7)
    vals = [rng.normal(size=(9, 3)), rng.normal(size=5), rng.normal(size=(3, 5)),
            rng.uniform(0.5, 1.0, size=5), rng.normal(size=5) * .1]
    got = symrnn.function(ins, symrnn.grad(cost, ins), mode=mode)(*vals)
    for g, e in zip(got, indrnn_bptt(*vals)):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


def test_sequence_gradient_is_one_buffer_written_per_step():
    """The backward Scan maps the sequence gradient (n rows): no O(T^2) per-step buffers."""
    from symrnn.graph import ancestors
    from symrnn.ops.scan import Scan
    ins, grads = build_tanh_rnn()
    back = [v.owner for v in ancestors([grads[0]]) if v.owner is not None
            and isinstance(v.owner.op, Scan) and v.owner.op.name.startswith("grad_of")]
    op = back[0].op
    assert op.n_nit == 1 and op.n_rec == 0  # x's gradient is a mapped output
    # the per-step gradients of W and U and the pending h gradient are carried, not stored
    assert op.n_shared == 3
