"""scan(..., unroll=k): the compiled loop runs k steps per iteration, with the same results."""
import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from symrnn.scan_module import until
from helpers import MODES, stop_signal


def build(unroll, go_backwards=False, stop=False):
    """A scalar tanh RNN with taps -2 and -1 and a mapped output: its outputs and gradients
    (a scalar state keeps numba's compile short: each unrolled copy is more code)."""
    x, h0, w, s = T.dvector("x"), T.dvector("h0"), T.dscalar("w"), T.dvector("s")

    def step(xt, st, h2, h1, w):
        h = T.tanh(h1 * w + 0.5 * h2 + xt)
        return ([h, h ** 2], until(st > 0.5)) if stop else [h, h ** 2]
    (h, y), _ = symrnn.scan(step, sequences=[x, s], non_sequences=w, unroll=unroll,
                            outputs_info=[dict(initial=h0, taps=[-2, -1]), None],
                            go_backwards=go_backwards)
    cost = (h * h).sum() + (y * y).sum()
    return [x, h0, w, s], [h, y] + symrnn.grad(cost, [x, h0, w])


def values(n, stop_at=None, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=n), rng.normal(size=2), np.float64(0.8), stop_signal(n, stop_at)]


@pytest.mark.parametrize("mode", MODES)
def test_outputs_and_gradients_do_not_depend_on_unroll(mode):
    combos = [(u, gb) for u in (1, 2, 3) for gb in (False, True)]
    if mode != "NUMPY":  # each compile costs seconds: a few combinations
        combos = [(1, True), (2, False), (3, True)]
    refs = {gb: symrnn.function(*build(1, gb), mode="NUMPY") for gb in (False, True)}
    for u, go_backwards in combos:
        fn = symrnn.function(*build(u, go_backwards), mode=mode)
        for n in (6, 7, 1, 2):  # multiples of 2 and 3, neither, and shorter than u
            vals = values(n, seed=n)
            for k, (g, r) in enumerate(zip(fn(*vals), refs[go_backwards](*vals))):
                np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-12, err_msg=(
                    f"unroll={u} go_backwards={go_backwards} n={n} output {k}"))


@pytest.mark.parametrize("mode", MODES)
def test_until_stops_inside_the_unrolled_body_and_in_the_remainder(mode):
    ref_fn = symrnn.function(*build(1, stop=True), mode="NUMPY")
    fn = symrnn.function(*build(3, stop=True), mode=mode)
    for stop_at in (0, 1, 2, 4, 5, 6, None):  # n = 7: step 6 runs in the remainder loop
        vals = values(7, stop_at)
        got, ref = fn(*vals), ref_fn(*vals)
        assert len(got[1]) == (7 if stop_at is None else stop_at + 1)
        for k, (g, r) in enumerate(zip(got, ref)):
            np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-12,
                                       err_msg=f"stop at {stop_at}, output {k}")


@pytest.mark.skipif("NUMBA" not in MODES, reason="numba is not installed")
def test_the_generated_loop_repeats_the_step_body():
    src = symrnn.function(*build(3, stop=True), mode="NUMBA").source()
    # the forward step has one tanh (the backward step reads the stored outputs instead):
    # three copies in the unrolled loop, one in the loop over the last n % 3 steps
    assert src.count("np.tanh(") == 4
    assert src.count("% 3, ") == 2  # the remainder loops, forward and backward
    # the forward loop and the backward Scan of the gradient both hold three copies
    for i in (1, 2, 3):
        assert src.count(f"# unrolled step {i} of 3") == 2


def test_unroll_must_be_a_positive_int():
    x = T.dvector("x")
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="unroll"):
            symrnn.scan(lambda v: 2 * v, sequences=x, unroll=bad)
    op = symrnn.scan(lambda v: 2 * v, sequences=x, unroll=np.int64(4))[0].owner.op
    assert op.unroll == 4 and type(op.unroll) is int
