"""A long graph cut into compiled pieces at its Scans (backends/numba/cut.py): the same
answers as NUMPY and as one piece, identical layers as identical sources, and nothing
copied between the pieces."""
import re

import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T
from helpers import assert_close

nb = pytest.importorskip("symrnn.backends.numba")
cut = pytest.importorskip("symrnn.backends.numba.cut")
background = pytest.importorskip("symrnn.backends.numba.background")
R = np.random.default_rng(7)


@pytest.fixture
def foreground(monkeypatch):
    monkeypatch.setattr(theano.config, "compile", "foreground")


def _pieces(f):
    return [s for s in f.source().split("import numpy as np") if s.strip()]


def _returned(source):
    """The items of a generated function's final return tuple."""
    text = re.findall(r"^    return \((.*)\)$", source, re.M)[-1]
    items, depth, start = [], 0, 0
    for k, ch in enumerate(text + ","):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            items.append(text[start:k].strip())
            start = k + 1
    return [i for i in items if i]


def _graph(nested):
    """Scans: h1 over x; h2 over h1 read reversed and sliced; if ``nested``, a scan over h2
    whose steps run an inner scan; a cost reading them sliced, and its gradients."""
    x = T.tensor3("x")
    u = theano.shared(R.normal(size=3) * 0.5, name="u")
    w = theano.shared(R.normal(size=3) * 0.5, name="w")
    v = theano.shared(R.normal(size=3) * 0.5, name="v")
    h1, _ = theano.scan(lambda xt, h, u: T.tanh(xt + h * u), sequences=x,
                        outputs_info=T.zeros_like(x[0]), non_sequences=u)
    h2, _ = theano.scan(lambda at, h, w: T.tanh(at + h * w), sequences=h1[::-1][1:],
                        outputs_info=T.zeros_like(x[0]), non_sequences=w)

    def outer(ht, acc, v):
        inner, _ = theano.scan(lambda g: T.tanh(g * v + ht), outputs_info=acc, n_steps=2)
        return inner[-1]
    cost = (h2[1:] * h1[2:]).sum() + h1[::-1][0].sum()
    params = [u, w]
    if nested:
        h3, _ = theano.scan(outer, sequences=h2, outputs_info=T.zeros_like(x[0]),
                            non_sequences=v)
        cost, params = cost + (h3[-1] ** 2).sum(), params + [v]
    return x, cost, theano.grad(cost, params + [x]), params


def _cut_and_recorded(monkeypatch, inputs, outputs):
    """(the function compiled cut at every Scan, its pieces' calls: (piece, args, results))."""
    monkeypatch.setattr(nb, "SPLIT_NODES", 0)
    monkeypatch.setattr(nb, "SPLIT_WEIGHTS", 0)
    calls = []
    run = nb.Segment.__call__

    def recorded(seg, values):
        res = run(seg, values)
        calls.append((seg, list(values), list(res)))
        return res
    monkeypatch.setattr(nb.Segment, "__call__", recorded)
    return theano.function(inputs, outputs, mode="NUMBA"), calls


def _check_nothing_copied(f, calls):
    """What a piece reads from an earlier one is the very array that one returned (not
    converted when called), no piece copies what it hands on, and a scan's history read
    reversed or sliced by a later piece crosses as the scan's buffer."""
    assert len(_pieces(f)) >= 4
    handed, final = {}, set(map(id, f.maker.fgraph.outputs))
    for seg, values, res in calls:
        for var, val in zip(seg.inputs, values):
            if var.owner is not None and np.ndim(val) > 0:
                assert val is handed[id(var)], f"{var} was copied between pieces"
        copied = [v for v, r in zip(seg.outputs, _returned(seg.source)) if ".copy()" in r]
        assert all(id(v) in final for v in copied), "a piece copies what it hands on"
        handed.update(zip(map(id, seg.outputs), res))
        assert all(np.asarray(v).flags.c_contiguous for v in res)  # no conversion needed
    first = calls[0][2][-1]  # h1's buffer
    assert first.ndim == 3 and any(v is first for _, values, _ in calls[1:] for v in values)


def test_cut_pieces_equal_numpy_and_one_piece_and_copy_nothing(monkeypatch, foreground):
    x, cost, grads, _ = _graph(nested=False)
    xv = R.normal(size=(6, 2, 3))
    outs = [cost] + grads
    ref = theano.function([x], outs, mode="NUMPY")(xv)
    monkeypatch.setattr(nb, "SPLIT_NODES", 10 ** 9)
    whole = theano.function([x], outs, mode="NUMBA")
    monkeypatch.setattr(cut, "PREPARED", 0)  # what prepares a Scan: a piece of its own
    f, calls = _cut_and_recorded(monkeypatch, [x], outs)
    assert len(_pieces(whole)) == 1 and len(_pieces(f)) > 4
    for got, one, want in zip(f(xv), whole(xv), ref):
        assert_close(got, want, "cut vs NUMPY")
        assert_close(got, one, "cut vs one piece")
    _check_nothing_copied(f, calls)


def test_cut_around_a_nested_scan_and_its_gradient(monkeypatch, foreground):
    x, cost, grads, params = _graph(nested=True)
    xv = R.normal(size=(5, 2, 3))
    outs = [cost] + grads
    ref = theano.function([x], outs, mode="NUMPY")(xv)
    f, calls = _cut_and_recorded(monkeypatch, [x], outs)
    assert len(_pieces(f)) == 6  # 3 Scans and their gradients
    for got, want in zip(f(xv), ref):
        assert_close(got, want, "cut vs NUMPY")
    _check_nothing_copied(f, calls)


def test_the_pieces_are_taken_one_by_one_by_whoever_is_free():
    """Foreground, this process compiles a cut graph's largest piece, and the others are
    taken one at a time, the largest first, by this process and the worker threads alike
    (background.take): nothing is compiled twice and no one idles while pieces wait."""
    tasks = [dict(name=n, cost=c) for n, c in (("big", 3.0), ("mid", 1.0), ("small", 0.5))]
    job = background.Job(tasks)
    assert [background.take(job)[1]["name"] for _ in range(2)] == ["big", "mid"]
    job.finish_task("a worker failed")
    assert background.take(job) is None  # a failed job: the rest compiles in the foreground
