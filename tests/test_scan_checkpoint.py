"""checkpoint=k (checkpointed BPTT) and unroll=k give the results of the plain loop."""
import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from symrnn.gradient import verify_grad
from symrnn.scan_module import explain
from helpers import COMPILED_MODES, MODES, compare_backends


def build(checkpoint=None, go_backwards=False, unroll=1):
    x, h0, W = T.dmatrix("x"), T.dmatrix("h0"), T.dmatrix("W")

    def step(xt, h2, h1, W):  # taps -2 and -1, plus a mapped output
        h = T.tanh(T.dot(h1, W) + 0.5 * h2 + xt)
        return h, (h ** 2).sum()
    (h, y), _ = symrnn.scan(step, sequences=x, non_sequences=W,
                            outputs_info=[dict(initial=h0, taps=[-2, -1]), None],
                            checkpoint=checkpoint, go_backwards=go_backwards, unroll=unroll)
    cost = (h * h).sum() + y[-1]
    return [x, h0, W], [h, y] + symrnn.grad(cost, [x, h0, W])


@pytest.mark.parametrize("k", [1, 2, 3, 7, 11])
def test_checkpoint_gives_the_plain_results_and_gradients(k):
    rng = np.random.default_rng(k)
    vals = [rng.normal(size=(7, 3)), rng.normal(size=(2, 3)), rng.normal(size=(3, 3)) * .5]
    for go_backwards in (False, True):
        ins, outs = build(go_backwards=go_backwards)
        ref = symrnn.function(ins, outs, mode="NUMPY")(*vals)
        ins, outs = build(checkpoint=k, go_backwards=go_backwards)
        got = symrnn.function(ins, outs, mode="NUMPY")(*vals)
        for g, r in zip(got, ref):
            np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", COMPILED_MODES)
def test_checkpointed_forward_on_compiled_modes(mode):
    rng = np.random.default_rng(0)
    vals = [rng.normal(size=(7, 3)), rng.normal(size=(2, 3)), rng.normal(size=(3, 3)) * .5]
    ins, outs = build(checkpoint=3)
    compare_backends(ins, outs[:2], vals, modes=[mode])


def test_checkpoint_gradient_against_finite_differences():
    def f(x, w):
        h, _ = symrnn.scan(lambda xt, h, w: T.sin(h * w + xt), sequences=x, outputs_info=x[0],
                           non_sequences=w, checkpoint=3)
        return h
    rng = np.random.default_rng(0)
    verify_grad(f, [rng.normal(size=(8, 2)), rng.normal(size=2)], mode="NUMPY")


def test_the_gradient_stores_only_the_chunk_states():
    ins, outs = build(checkpoint=4)
    text = explain(outs[2:], file="str")
    back = text.split("Scan{grad_of_scan_chunks}")[1].split("Scan{")[0]
    # the backward loop over chunks reads the stored chunk states (output 0) and the
    # chunked sequence, never the per-step outputs of the forward pass
    stored = [line for line in back.splitlines() if "stored output" in line]
    assert stored and all("stored output 0" in line for line in stored)


def test_checkpoint_refuses_until_and_updates():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="checkpoint"):
        symrnn.scan(lambda v: (v, symrnn.scan_module.until(v > 1)), sequences=x, checkpoint=2)


@pytest.mark.parametrize("mode", MODES)
def test_unroll_gives_the_same_results(mode):
    rng = np.random.default_rng(3)
    vals = [rng.normal(size=(7, 3)), rng.normal(size=(2, 3)), rng.normal(size=(3, 3)) * .5]
    ins, outs = build()
    ref = symrnn.function(ins, outs[:2], mode="NUMPY")(*vals)
    ins, outs = build(unroll=3)
    outs = outs[:2]
    assert any(getattr(v.owner.op, "unroll", 1) == 3 for v in symrnn.graph.ancestors(outs)
               if v.owner is not None)
    for g, r in zip(symrnn.function(ins, outs, mode=mode)(*vals), ref):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-12)
