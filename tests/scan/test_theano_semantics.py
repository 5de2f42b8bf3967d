"""scan against a NumPy loop written from Theano 1.0's documented scan semantics (not from
symrnn's code): sequence taps cut first and then walked from the end by go_backwards,
output taps passed to the step in the order given, n_steps longer than a sequence refused,
until, truncate_gradient; on every backend, gradients included."""
import itertools

import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from symrnn.gradient import numeric_grad
from symrnn.scan_module import until
from helpers import COMPILED_MODES, MODES, assert_close, compare_backends

# ---- the examples of issue 13 ----


@pytest.mark.parametrize("mode", MODES)
def test_go_backwards_cuts_the_taps_then_walks_from_the_end(mode):
    x = T.dvector("x")
    r, _ = symrnn.scan(lambda a, b: a * 10 + b, sequences=dict(input=x, taps=[-1, 0]),
                       go_backwards=True)
    got = symrnn.function([x], r, mode=mode)(np.arange(5.0))
    np.testing.assert_array_equal(got, [34, 23, 12, 1])


@pytest.mark.parametrize("mode", MODES)
def test_output_taps_reach_the_step_in_the_order_given(mode):
    h0 = T.dvector("h0")
    seen = []

    def step(a, b):
        seen.append((a.name, b.name))
        return a * 2 - b * 3
    r, _ = symrnn.scan(step, outputs_info=dict(initial=h0, taps=[-1, -2]), n_steps=3)
    assert seen == [("h0[t-1]", "h0[t-2]")]
    # h[-2] = 1, h[-1] = 2: h[t] = 2 h[t-1] - 3 h[t-2]
    got = symrnn.function([h0], r, mode=mode)(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(got, [1.0, -4.0, -11.0])


@pytest.mark.parametrize("mode", MODES)
def test_n_steps_longer_than_a_sequence_is_refused(mode):
    x, n = T.dvector("x"), T.lscalar("n")
    r, _ = symrnn.scan(lambda a: a * 2, sequences=x, n_steps=5)
    with pytest.raises(ValueError, match="shorter than the required number of steps"):
        symrnn.function([x], r, mode=mode)(np.arange(3.0))
    r, _ = symrnn.scan(lambda a, b: a * b, sequences=[x, dict(input=x, taps=[1])], n_steps=n)
    f = symrnn.function([x, n], r, mode=mode)
    np.testing.assert_array_equal(f(np.arange(5.0), 4), [0, 2, 6, 12])
    with pytest.raises(ValueError, match="shorter than the required number of steps"):
        f(np.arange(5.0), 5)  # the tap-1 slice has 4 entries
    r, _ = symrnn.scan(lambda a, b: a * b, sequences=[x, x[:3]])  # no n_steps: the shortest
    np.testing.assert_array_equal(symrnn.function([x], r, mode=mode)(np.arange(5.0)),
                                  [0, 1, 4])


# ---- the reference: Theano's documented semantics as a NumPy loop ----

def reference(x, h0, w, seq_taps, out_taps, go_backwards, n_steps, stop, frozen=None,
              full=False):
    """Outputs of Theano's scan of ``step`` (below) over x, as Theano documents it.

    Each sequence tap k gets the slice of x that step t reads as x[t + k] (the taps are
    cut first); go_backwards then walks each slice from its end; n_steps (when given)
    must not exceed the slices' length. Output taps are read from the history, oldest
    initial row first, and passed in the order given. ``stop``: the loop ends after the
    first step where ``until_np`` holds. ``frozen`` (t0, rows): the history rows before
    step t0 are taken from ``rows`` (a truncated gradient treats them as constants).
    ``full``: the history with its initial rows."""
    lo, hi = min(min(seq_taps), 0), max(max(seq_taps), 0)
    length = len(x) - (hi - lo)
    slices = [x[k - lo:len(x) - (hi - k)] for k in seq_taps]
    if go_backwards:
        slices = [s[::-1] for s in slices]
    n = length if n_steps is None else n_steps
    assert n <= length
    lag = -min(out_taps)
    hist = [h0] if out_taps == [-1] else list(h0)
    for t in range(n):
        if frozen is not None and t == frozen[0]:
            hist = list(frozen[1][:lag + t])
        args = [s[t] for s in slices] + [hist[lag + t + k] for k in out_taps]
        hist.append(step_np(args, w))
        if stop and until_np(args):
            break
    return np.array(hist if full else hist[lag:])


def until_np(args):  # true at one row of X only (its sum is 0.6; the others are 0.8 away)
    return abs(args[0].sum() - 0.6) < 0.3


def step_np(args, w):
    return np.tanh(sum((i + 1) * a for i, a in enumerate(args)) * w * 0.3)


def step_sym(*args):
    *args, w = args
    return T.tanh(sum((i + 1) * a for i, a in enumerate(args)) * w * 0.3)


SEQ_TAPS = [[0], [-1, 0], [1, -2]]
OUT_TAPS = [[-1], [-1, -3]]
X = np.linspace(-1.0, 2.0, 16).reshape(8, 2)
H0 = {1: np.array([0.2, -0.1]), 3: np.array([[0.3, 0.1], [-0.2, 0.4], [0.1, -0.3]])}
W = np.array([0.9, -0.7])
STOP = True


def build(seq_taps, out_taps, go_backwards, n_steps, stop, tg):
    """(inputs, output) of one scan of the grid; n_steps 'sym' is a symbolic input."""
    x, w, n = T.dmatrix("x"), T.dvector("w"), T.lscalar("n")
    h0 = T.dvector("h0") if out_taps == [-1] else T.dmatrix("h0")  # taps [-1]: the state
    if not stop:
        step = step_sym
    else:
        def step(*args):
            return step_sym(*args), until(abs(T.sum(args[0]) - 0.6) < 0.3)
    out, _ = symrnn.scan(step, sequences=dict(input=x, taps=seq_taps),
                         outputs_info=dict(initial=h0, taps=out_taps), non_sequences=w,
                         go_backwards=go_backwards, truncate_gradient=tg,
                         n_steps=n if n_steps == "sym" else n_steps)
    return ([x, h0, w] + ([n] if n_steps == "sym" else [])), out


def _values(seq_taps, out_taps, n_steps):
    vals = [X, H0[-min(out_taps)], W]
    return vals + ([np.int64(5)] if n_steps == "sym" else [])


def _n(n_steps):
    return 5 if n_steps == "sym" else n_steps


@pytest.mark.parametrize("go_backwards,n_steps,stop", list(itertools.product(
    [False, True], [None, 4, "sym"], [None, STOP])))
def test_forward_matches_the_reference_on_numpy(go_backwards, n_steps, stop):
    for s, o in itertools.product(range(len(SEQ_TAPS)), range(len(OUT_TAPS))):
        seq_taps, out_taps = SEQ_TAPS[s], OUT_TAPS[o]
        inputs, out = build(seq_taps, out_taps, go_backwards, n_steps, stop, -1)
        got = symrnn.function(inputs, out, mode="NUMPY")(*_values(seq_taps, out_taps, n_steps))
        want = reference(X, H0[-min(out_taps)], W, seq_taps, out_taps, go_backwards,
                         _n(n_steps), stop)
        assert_close(got, want, f"taps {seq_taps} / {out_taps}")


# ---- gradients: Theano's BPTT, truncated to the last k steps taken ----

def reference_grads(proj, seq_taps, out_taps, go_backwards, n_steps, stop, tg):
    """Finite differences of sum(proj * outputs) by the reference loop. With
    truncate_gradient=k the history before the last k steps taken is held constant (no
    gradient reaches earlier steps, their inputs or the initial rows)."""
    h0 = H0[-min(out_taps)]
    args = (seq_taps, out_taps, go_backwards, n_steps, stop)
    base = reference(X, h0, W, *args, full=True)
    lag = -min(out_taps)
    done = len(base) - lag
    frozen = (done - tg, base) if 0 < tg < done else None
    return numeric_grad(lambda x, h, w: float((proj * reference(x, h, w, *args, frozen=frozen))
                                              .sum()), [X.copy(), h0.copy(), W.copy()], 1e-6)


SETTINGS = list(itertools.product([False, True], [None, 4, "sym"], [None, STOP], [-1, 2]))
# these also run on the compiled backends (each value of each setting in one of them; a
# cold numba compile of two scans and their gradients costs seconds)
ON_EVERY_BACKEND = [(True, None, STOP, 2), (False, 4, None, 2), (True, "sym", STOP, -1)]
TAPS = list(itertools.product(range(len(SEQ_TAPS)), range(len(OUT_TAPS))))


@pytest.mark.parametrize("k,setting", list(enumerate(SETTINGS)))
def test_gradients_match_the_reference(k, setting):
    """Two tap layouts per setting (all six over the grid), summed into one cost."""
    go_backwards, n_steps, stop, tg = setting
    rng = np.random.default_rng(k)
    inputs, values, cost, expected = None, None, 0, []
    for s, o in (TAPS[k % len(TAPS)], TAPS[(k + 3) % len(TAPS)]):
        seq_taps, out_taps = SEQ_TAPS[s], OUT_TAPS[o]
        ins, out = build(seq_taps, out_taps, go_backwards, n_steps, stop, tg)
        want = reference(X, H0[-min(out_taps)], W, seq_taps, out_taps, go_backwards,
                         _n(n_steps), stop)
        proj = rng.uniform(0.5, 1.5, want.shape)
        if inputs is None:
            inputs, values = ins, _values(seq_taps, out_taps, n_steps)
        else:  # share x, w (and n) with the first scan; a second h0
            out = symrnn.clone([out], {ins[0]: inputs[0], ins[2]: inputs[2], **(
                {ins[3]: inputs[3]} if n_steps == "sym" else {})})[0]
            inputs, values = inputs + [ins[1]], values + [H0[-min(out_taps)]]
        cost = cost + (out * proj).sum()
        expected.append(reference_grads(proj, seq_taps, out_taps, go_backwards,
                                        _n(n_steps), stop, tg))
    wrt = [inputs[0], inputs[1], inputs[2], inputs[-1]]
    modes = [m for m in COMPILED_MODES] if setting in ON_EVERY_BACKEND else []
    got = compare_backends(inputs, symrnn.grad(cost, wrt), values, modes=modes)
    g_x, g_h0a, g_w, g_h0b = got
    (x1, h1, w1), (x2, h2, w2) = expected
    for name, a, b in (("x", g_x, x1 + x2), ("w", g_w, w1 + w2), ("h0 of scan 1", g_h0a, h1),
                       ("h0 of scan 2", g_h0b, h2)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7, err_msg=name)
