"""checkpoint=k (checkpointed BPTT) gives the results and gradients of the plain loop, with
taps, until, shared-variable updates and truncate_gradient."""
import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from symrnn.gradient import verify_grad
from symrnn.scan_module import explain
from helpers import COMPILED_MODES, compare_backends, stop_signal


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
    # the backward loop over chunks reads the stored chunk states (output 0) and chunk
    # indices (output 1) and the chunked sequence, never the per-step outputs (2 and 3)
    stored = [line for line in back.splitlines() if "stored output" in line]
    assert stored and all("stored output 0" in line or "stored output 1" in line
                          for line in stored)


# ---- checkpoint with until, shared-variable updates and truncate_gradient ----

def rnn(checkpoint=None, truncate_gradient=-1, stop=False, counter=None, go_backwards=False):
    """Outputs, gradients and updates of a tanh RNN (taps -2, -1, a mapped output); with
    ``stop`` it stops after the step where s[t] > 0.5; ``counter`` (a shared variable) is
    read and bumped every step."""
    x, h0, W, s = T.dmatrix("x"), T.dmatrix("h0"), T.dmatrix("W"), T.dvector("s")

    def step(xt, st, h2, h1, W):
        h = T.tanh(T.dot(h1, W) + 0.5 * h2 + xt)
        updates = {}
        if counter is not None:
            h = h + 0.1 * counter
            updates = {counter: counter + 1}
        outs = [h, (h ** 2).sum()]
        return (outs, updates, symrnn.scan_module.until(st > 0.5)) if stop else (outs, updates)
    (h, y), updates = symrnn.scan(step, sequences=[x, s], non_sequences=W,
                                  outputs_info=[dict(initial=h0, taps=[-2, -1]), None],
                                  checkpoint=checkpoint, truncate_gradient=truncate_gradient,
                                  go_backwards=go_backwards)
    cost = (h * h).sum() + 0.3 * y[-1] + (y * y).sum()
    return [x, h0, W, s], [h, y] + symrnn.grad(cost, [x, h0, W]), updates


def rnn_values(n=7, stop_at=None, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, 3)), rng.normal(size=(2, 3)), rng.normal(size=(3, 3)) * .5,
            stop_signal(n, stop_at)]


def same_as_without_checkpoint(k, vals, mode="NUMPY", **kw):
    """Outputs, gradients and updated shared values with checkpoint=k equal those without."""
    results = []
    for checkpoint in (None, k):
        counter = symrnn.shared(np.float64(0.0), name="counter") if kw.get("counter") else None
        ins, outs, updates = rnn(checkpoint, **dict(kw, counter=counter))
        got = symrnn.function(ins, outs, updates=updates, mode=mode)(*vals)
        results.append(got + ([counter.get_value()] if counter is not None else []))
    for i, (g, r) in enumerate(zip(*reversed(results))):
        assert g.shape == r.shape, f"output {i}: shape {g.shape} != {r.shape}"
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-12, err_msg=f"output {i}")
    return results[0]


@pytest.mark.parametrize("k,truncate", [(1, 2), (2, 4), (3, 2), (3, 4), (5, 4), (3, 9), (4, 7)])
def test_checkpoint_with_truncate_gradient(k, truncate):
    # n = 7 steps: the gradient is cut inside a chunk, at a chunk border, or not at all
    for go_backwards in (False, True):
        res = same_as_without_checkpoint(k, rnn_values(), truncate_gradient=truncate,
                                         go_backwards=go_backwards)
        g_x = res[2][::-1] if go_backwards else res[2]  # in the order of the steps
        assert np.all(g_x[:max(7 - truncate, 0)] == 0) and np.all(g_x[-truncate:] != 0)


@pytest.mark.parametrize("k", [2, 3])
def test_checkpoint_with_until_runs_the_gradient_over_the_steps_taken(k):
    # stops inside a chunk, at a chunk's last step, at the first step, or never
    for stop_at in (4, 5, 0, None):
        res = same_as_without_checkpoint(k, rnn_values(stop_at=stop_at), stop=True)
        assert len(res[0]) == (7 if stop_at is None else stop_at + 1)


def test_checkpoint_with_until_against_finite_differences():
    s = np.eye(8)[5]  # stop after step 5

    def f(x, w):
        def step(xt, st, h, w):
            h = T.sin(h * w + xt)
            return h, symrnn.scan_module.until(st > 0.5)
        h, _ = symrnn.scan(step, sequences=[x, T.constant(s)], outputs_info=x[0],
                           non_sequences=w, checkpoint=4)
        return h
    rng = np.random.default_rng(1)
    verify_grad(f, [rng.normal(size=(8, 2)), rng.normal(size=2)], mode="NUMPY")


@pytest.mark.parametrize("k", [2, 3])
def test_checkpoint_with_a_shared_variable_read_and_updated(k):
    res = same_as_without_checkpoint(k, rnn_values(), counter=True)
    assert res[-1] == 7  # the counter was bumped once per step


@pytest.mark.parametrize("k", [2, 3])
def test_checkpoint_with_until_updates_and_truncation(k):
    # with until the cut is known only after the loop: the forward runs once to count steps
    for stop_at, truncate in ((4, 2), (5, 3), (2, 4)):
        res = same_as_without_checkpoint(k, rnn_values(stop_at=stop_at), stop=True,
                                         counter=True, truncate_gradient=truncate)
        assert res[-1] == stop_at + 1


@pytest.mark.parametrize("mode", COMPILED_MODES)
def test_checkpoint_with_until_updates_and_truncation_compiled(mode):
    # a scalar RNN: nested loops with gradients take long to compile (~15 s cold on numba)
    def build(checkpoint, counter):
        x, w, s = T.dvector("x"), T.dscalar("w"), T.dvector("s")

        def step(xt, st, h, w):
            h = T.tanh(h * w + xt) + 0.1 * counter
            return h, {counter: counter + 1}, symrnn.scan_module.until(st > 0.5)
        h, updates = symrnn.scan(step, sequences=[x, s], outputs_info=T.constant(0.0),
                                 non_sequences=w, checkpoint=checkpoint, truncate_gradient=3)
        return [x, w, s], [h] + symrnn.grad((h * h).sum(), [x, w]), updates
    vals = [np.linspace(-1, 1, 7), np.float64(0.7), np.eye(7)[5]]
    results = []
    for checkpoint, m in ((None, "NUMPY"), (3, "NUMPY"), (3, mode)):
        counter = symrnn.shared(np.float64(0.0), name="counter")
        ins, outs, updates = build(checkpoint, counter)
        results.append(symrnn.function(ins, outs, updates=updates, mode=m)(*vals)
                       + [counter.get_value()])
    assert results[0][-1] == 6 and np.all(results[0][1][:3] == 0)
    for got in results[1:]:
        for k, (g, r) in enumerate(zip(got, results[0])):
            np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-12, err_msg=f"output {k}")


def test_checkpoint_must_be_a_positive_int():
    x = T.dvector("x")
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="checkpoint"):
            symrnn.scan(lambda v: 2 * v, sequences=x, checkpoint=bad)


def test_checkpoint_with_truncation_and_no_sequences():
    res = []
    for checkpoint in (None, 3):
        h0, w = T.dvector("h0"), T.dscalar("w")
        h, _ = symrnn.scan(lambda h, w: T.sin(h * w) + 0.1, outputs_info=h0, non_sequences=w,
                           n_steps=8, checkpoint=checkpoint, truncate_gradient=5)
        fn = symrnn.function([h0, w], [h] + symrnn.grad(h.sum(), [h0, w]), mode="NUMPY")
        res.append(fn(np.array([0.3, -0.2]), 1.3))
    for g, r in zip(*res):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-12)
    assert np.all(res[0][1] == 0) and res[0][2] != 0  # the cut stops the gradient of h0
