"""A long graph cut into compiled pieces at its Scans (backends/numba/cut.py): the same
answers as NUMPY and as one piece, identical layers as identical sources, and nothing
copied between the pieces."""
import re

import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T
from helpers import assert_close
from symrnn.graph import ancestors

nb = pytest.importorskip("symrnn.backends.numba")
cut = pytest.importorskip("symrnn.backends.numba.cut")
background = pytest.importorskip("symrnn.backends.numba.background")
# numba imported: a background-mode function() settles at once, its thunk the Switch these
# tests take apart (with numba not imported yet it loads in a thread: test_numba_loading.py)
pytest.importorskip("numba")
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
    monkeypatch.setattr(nb, "TWIN_WEIGHTS", 0)
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
    # 3 Scans and their gradients; the equal gradient scans apart, with what runs between
    assert len(_pieces(f)) >= 6
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


def _two_layers(lr=0.05):
    """Two Scans, a cost and updates of their weights (what no Scan reads: a tail)."""
    x = T.matrix("x")
    u = theano.shared(np.array([0.5, -0.3, 0.2]), name="u")
    w = theano.shared(np.array([0.1, 0.4, -0.6]), name="w")
    h1, _ = theano.scan(lambda xt, h, u: T.tanh(xt + h * u), sequences=x,
                        outputs_info=T.zeros_like(x[0]), non_sequences=u)
    h2, _ = theano.scan(lambda at, h, w: T.tanh(at + h * w), sequences=h1[::-1],
                        outputs_info=T.zeros_like(x[0]), non_sequences=w)
    cost = (h2 ** 2).sum() + ((h1[-1] - 1) ** 2).mean()
    gu, gw = theano.grad(cost, [u, w])
    return x, cost, [(u, u - lr * gu), (w, w - lr * gw)], [u, w]


def test_tails_put_what_no_scan_reads_in_pieces_of_their_own(monkeypatch):
    """With ``tails`` (background compile), a piece holding a Scan holds only what a Scan
    reads (and views); the gradients, updates and cost go to pieces after it."""
    x, cost, updates, params = _two_layers()
    fg = theano.function([x], cost, updates=updates, mode="NUMPY").maker.fgraph
    nodes, readers = fg.toposort(), fg.clients()
    monkeypatch.setattr(cut, "APART", 0)
    plain, tailed = cut.at_scans(nodes, readers, tails=False), cut.at_scans(nodes, readers)
    assert len(tailed) > len(plain)
    assert sorted(map(id, nodes)) == sorted({id(n) for p in tailed for n in p})
    for p in tailed:
        scans = [n for n in p if isinstance(n.op, cut.Scan)]
        if scans:
            made = {id(v.owner) for v in ancestors([o for n in scans for o in n.outputs])
                    if v.owner is not None}
            assert all(id(n) in made or cut._is_view(n) for n in p)


def _loaded(groups, timeout=120):
    """Wait for the loader threads to set each of ``groups``' segments' machine code."""
    import time
    t = time.time()
    while not all(s.fn is not None for g in groups for s in g):
        assert time.time() - t < timeout, "a compiled piece was never loaded"
        time.sleep(0.01)


def test_in_the_background_each_piece_runs_compiled_as_soon_as_it_is_ready(
        monkeypatch, tmp_path):
    """The looping pieces compile first; until a piece is compiled it runs on NumPy, and a
    call may mix both: the answers and the shared state are NUMPY's all along."""
    monkeypatch.setattr(theano.config, "compile", "background")
    monkeypatch.setattr(theano.config, "compiledir", str(tmp_path))
    monkeypatch.setattr(nb, "SPLIT_NODES", 0)
    monkeypatch.setattr(nb, "SPLIT_WEIGHTS", 0)
    monkeypatch.setattr(cut, "APART", 0)
    jobs = []  # (no worker: this test compiles the pieces when it wants them)
    monkeypatch.setattr(background, "submit", lambda tasks, workers=None, on_done=None: (
        jobs.append(background.Job(tasks, on_done)), jobs[-1])[1])
    x, cost, updates, params = _two_layers()
    f = theano.function([x], cost, updates=updates, mode="NUMBA")
    x2, cost2, updates2, params2 = _two_layers()
    ref = theano.function([x2], cost2, updates=updates2, mode="NUMPY")
    switch, job = f.thunk, jobs[0]
    assert True in job.urgent and False in job.urgent
    assert job.urgent == sorted(job.urgent, reverse=True)  # what loops first
    looping = [[s] for s, u in zip(switch.pieces, job.urgent) if u]
    rest = [[s] for s, u in zip(switch.pieces, job.urgent) if not u]
    xv = R.normal(size=(5, 3))

    def same():
        assert_close(f(xv), ref(xv), "a call while compiling vs NUMPY")
        for p, q in zip(params, params2):
            assert_close(p.get_value(), q.get_value(), "the shared state vs NUMPY")
    same()  # all on NumPy
    background.compile_here(job, switch.pieces, urgent=True)
    assert job.urgent_ended.is_set() and job.state == "running"
    _loaded(looping)
    assert all(s.fn is None for g in rest for s in g)
    same()  # the looping pieces compiled, the others on NumPy
    assert f.compiling
    background.compile_here(job, switch.pieces)
    assert job.state == "done"
    same()  # (switched: every piece compiled)
    assert not f.compiling and all(s.fn is not None for g in rest for s in g)
    same()


def _stacked(layers=3, width=4):
    """IndRNN layers, each reading the layer below through a product (``h[1:]``'s, after the
    rewrites: a view of the first axis of the history's product), and their SGD updates."""
    x = T.tensor3("x")
    h, size, params = x, 2, []
    for k in range(layers):
        w = theano.shared(R.normal(size=(size, width)) * 0.5, name=f"w{k}")
        u = theano.shared(R.uniform(0.2, 0.9, size=width), name=f"u{k}")
        h, _ = theano.scan(lambda pt, hp, u: T.maximum(pt + u * hp, 0),
                           sequences=T.dot(h, w), non_sequences=u,
                           outputs_info=T.zeros((x.shape[1], width)))
        size, params = width, params + [w, u]
    cost = (h[-1] ** 2).sum()
    return x, cost, [(p, p - 0.01 * g) for p, g in zip(params, theano.grad(cost, params))], params


def _and_on_numpy(build):
    """(``build()``'s training function, the same on NUMPY with copies of its shared values,
    the shared variables of each)."""
    x, cost, updates, params = build()
    f = theano.function([x], cost, updates=updates, mode="NUMBA")
    x2, cost2, updates2, params2 = build()
    for p, q in zip(params, params2):
        q.set_value(p.get_value())
    return f, theano.function([x2], cost2, updates=updates2, mode="NUMPY"), params, params2


def test_stacked_layers_are_the_same_pieces_and_compile_once(monkeypatch, tmp_path):
    """A view of a value's first axis (``p[1:]`` of a layer's input product) is handed on like
    a buffer, so every layer's forward scan is one piece, and so is every layer's backward
    scan here: 2 sources compile for 6 looping pieces (3 before: the first layer's forward
    scan read a product where the others read a view of one); the answers and the shared
    state are NUMPY's, call after call, compiled or not."""
    monkeypatch.setattr(theano.config, "compile", "background")
    monkeypatch.setattr(theano.config, "compiledir", str(tmp_path))
    monkeypatch.setattr(nb, "SPLIT_NODES", 0)
    monkeypatch.setattr(nb, "SPLIT_WEIGHTS", 0)
    monkeypatch.setattr(cut, "APART", 0)
    monkeypatch.setattr(nb, "TWIN_WEIGHTS", 0)  # (equal Scans apart: the same 2 sources)
    jobs, segments = [], []
    monkeypatch.setattr(background, "submit", lambda tasks, workers=None, on_done=None: (
        jobs.append(background.Job(tasks, on_done)), jobs[-1])[1])
    when = nb._when_compiled
    monkeypatch.setattr(nb, "_when_compiled", lambda fgraph, thunk, segs: (
        segments.extend(segs), when(fgraph, thunk, segs))[1])
    f, ref, params, params2 = _and_on_numpy(_stacked)
    looping = [s for s in segments if s.loops]
    assert len(looping) == 6
    assert len({(s.source, tuple(s.types)) for s in looping}) == 2  # forward; backward
    xv = R.normal(size=(7, 2, 2))

    def same():
        assert_close(f(xv), ref(xv), "stacked layers vs NUMPY")
        for p, q in zip(params, params2):
            assert_close(p.get_value(), q.get_value(), "the shared state vs NUMPY")
    same()  # on NumPy
    background.compile_here(jobs[0], f.thunk.pieces)
    same()
    same()  # compiled
    assert not f.compiling


def _hoisted(layers=2, width=4):
    """IndRNN layers written the Theano way (``T.dot(x_t, w)`` inside the step: the rewrites
    hoist it; each scan named after its layer), a loss on the top layer's last state (its
    gradient: zeros with the last step put in), and SGD updates."""
    x = T.tensor3("x")
    h, size, params = x, 2, []
    for k in range(layers):
        w = theano.shared(R.normal(size=(size, width)) * 0.5, name=f"w{k}")
        u = theano.shared(R.uniform(0.2, 0.9, size=width), name=f"u{k}")
        h, _ = theano.scan(lambda xt, hp, w, u: T.maximum(T.dot(xt, w) + u * hp, 0),
                           sequences=h, non_sequences=[w, u], name=f"layer{k}",
                           outputs_info=T.zeros((x.shape[1], width)))
        size, params = width, params + [w, u]
    cost = (h[-1] ** 2).sum()
    return x, cost, [(p, p - 0.01 * g) for p, g in zip(params, theano.grad(cost, params))], params


def test_equal_scans_are_pieces_of_their_own_and_compile_once(monkeypatch, foreground):
    """Equal Scans reading alike (cut._twins: the layers' forward scans, their backward
    scans) are each a piece holding the Scan alone and the views it reads, so both layers'
    forward scans are one source and so are their backward scans, with what runs between
    them in pieces of its own (in a model with weights of TWIN_WEIGHTS elements: a tiny one
    keeps its pieces whole); the answers and the shared state are NUMPY's."""
    monkeypatch.setattr(nb, "SPLIT_NODES", 0)
    monkeypatch.setattr(nb, "SPLIT_WEIGHTS", 0)
    segments = []
    when = nb._when_compiled
    monkeypatch.setattr(nb, "_when_compiled", lambda fgraph, thunk, segs: (
        segments.extend(segs), when(fgraph, thunk, segs))[1])
    x, cost, updates, params = _hoisted()
    theano.function([x], cost, updates=updates, mode="NUMBA")  # tiny weights: none apart
    assert all(len(s.nodes) > 1 for s in segments if s.loops)
    del segments[:]
    monkeypatch.setattr(nb, "TWIN_WEIGHTS", 0)
    f, ref, params, params2 = _and_on_numpy(_hoisted)
    looping = [s for s in segments if s.loops]
    assert len(looping) == 4
    for s in looping:
        scans = [n for n in s.nodes if isinstance(n.op, cut.Scan)]
        assert len(scans) == 1 and all(n in scans or cut._is_view(n) for n in s.nodes)
    assert len({(s.source, tuple(s.types)) for s in looping}) == 2  # forward; backward
    xv = R.normal(size=(6, 3, 2))
    for _ in range(3):
        assert_close(f(xv), ref(xv), "equal scans apart vs NUMPY")
        for p, q in zip(params, params2):
            assert_close(p.get_value(), q.get_value(), "the shared state vs NUMPY")
