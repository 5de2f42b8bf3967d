"""Graphs, shared variables and compiled functions pickle and deep-copy, as in Theano.

A compiled function is saved as its (rewritten) graph, shared variables and settings;
unpickling compiles it again (numba reloads the machine code from the disk cache).
Shared variables keep their identity within one pickle; ``copy.deepcopy`` of an object
holding compiled functions (the Theano RNN tutorial's ``best = copy.deepcopy(rnn)``)
snapshots the parameters with the functions that use them.
"""
import copy
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from helpers import MODES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class ElmanRNN:
    """The shape of rnnslu.py's model: parameters, a training and a predicting function."""

    def __init__(self, mode, n_in=3, n_h=4):
        r = np.random.default_rng(0)
        self.wx = symrnn.shared(r.normal(0, 0.5, (n_in, n_h)), name="wx")
        self.wh = symrnn.shared(r.normal(0, 0.5, (n_h, n_h)), name="wh")
        self.params = [self.wx, self.wh]
        x, y = T.matrix("x"), T.vector("y")

        def step(x_t, h):
            return T.tanh(T.dot(x_t, self.wx) + T.dot(h, self.wh))
        h, _ = symrnn.scan(step, sequences=x, outputs_info=T.zeros((n_h,)), name="elman")
        self.out = h.sum(axis=1)
        cost = ((self.out - y) ** 2).mean()
        grads = symrnn.grad(cost, self.params)
        self.train = symrnn.function([x, y], cost, mode=mode, updates=[
            (p, p - 0.1 * g) for p, g in zip(self.params, grads)])
        self.predict = symrnn.function([x], self.out, mode=mode)


DATA = (np.linspace(-1, 1, 15).reshape(5, 3), np.linspace(0, 1, 5))


def _values(params):
    return [p.get_value() for p in params]


def test_graphs_with_scan_pickle_and_deepcopy():
    rnn = ElmanRNN("NUMPY")
    x = symrnn.graph.graph_inputs([rnn.out])
    x = [v for v in x if getattr(v, "name", None) == "x"][0]
    expected = symrnn.function([x], rnn.out, mode="NUMPY")(DATA[0])
    for clone in (pickle.loads(pickle.dumps((x, rnn.out, rnn.wx))), copy.deepcopy(
            (x, rnn.out, rnn.wx))):
        x2, out2, wx2 = clone
        assert wx2 is not rnn.wx
        np.testing.assert_allclose(symrnn.function([x2], out2, mode="NUMPY")(DATA[0]),
                                   expected)
        wx2.set_value(np.zeros((3, 4)))  # the copy's shared variable is the one it reads
        np.testing.assert_allclose(symrnn.function([x2], out2, mode="NUMPY")(DATA[0]), 0)


@pytest.mark.parametrize("mode", MODES)
def test_compiled_functions_pickle_with_their_shared_variables(mode):
    rnn = ElmanRNN(mode)
    rnn.train(*DATA)
    blob = pickle.dumps((rnn.params, rnn.train, rnn.predict))
    params2, train2, predict2 = pickle.loads(blob)
    assert train2.shared_inputs[0] is params2[0] or train2.shared_inputs[0] is params2[1]
    assert {id(p) for p in train2.shared_inputs} == {id(p) for p in params2} == \
        {id(p) for p in predict2.shared_inputs}
    assert train2.mode == mode and predict2.name == rnn.predict.name
    np.testing.assert_allclose(predict2(DATA[0]), rnn.predict(DATA[0]))
    before = _values(rnn.params)
    c1, c2 = rnn.train(*DATA), train2(*DATA)  # each trains its own parameters
    assert c1 == pytest.approx(float(c2))
    for a, b in zip(_values(rnn.params), _values(params2)):
        np.testing.assert_allclose(a, b)
    assert not all(np.allclose(a, b) for a, b in zip(before, _values(params2)))
    np.testing.assert_allclose(predict2(DATA[0]), rnn.predict(DATA[0]))


@pytest.mark.parametrize("mode", MODES)
def test_deepcopy_of_a_model_holding_functions_is_a_snapshot(mode):
    rnn = ElmanRNN(mode)
    rnn.train(*DATA)
    best = copy.deepcopy(rnn)  # rnnslu.py keeps its best model so
    snapshot = _values(best.params)
    pred = best.predict(DATA[0])
    for _ in range(3):
        rnn.train(*DATA)
    for a, b in zip(_values(best.params), snapshot):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(best.predict(DATA[0]), pred)
    assert not np.allclose(rnn.predict(DATA[0]), pred)
    best.train(*DATA)  # the copy's training function updates the copy's parameters
    assert not np.allclose(best.wx.get_value(), snapshot[0])
    assert best.train.shared_inputs[0] in (best.wx, best.wh)


def test_a_function_unpickles_in_another_process(tmp_path):
    pytest.importorskip("symrnn.backends.numba")
    rnn = ElmanRNN("NUMBA")
    path = tmp_path / "model.pkl"
    with open(path, "wb") as f:
        pickle.dump((rnn.params, rnn.train, rnn.predict), f)
    code = (f"import json, pickle, numpy as np\n"
            f"params, train, predict = pickle.load(open({str(path)!r}, 'rb'))\n"
            f"x = np.linspace(-1, 1, 15).reshape(5, 3)\n"
            f"train(x, np.linspace(0, 1, 5))\n"
            f"print(json.dumps([predict(x).tolist(), params[0].get_value().tolist()]))\n")
    env = dict(os.environ, SYMRNN_FLAGS="compile=foreground",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    import json
    pred, wx = json.loads(run.stdout.strip().splitlines()[-1])
    rnn.train(*DATA)
    np.testing.assert_allclose(pred, rnn.predict(DATA[0]))
    np.testing.assert_allclose(wx, rnn.wx.get_value())


@pytest.mark.parametrize("mode", MODES)
def test_function_copy_shares_or_swaps_shared_variables(mode):
    rnn = ElmanRNN(mode)
    twin = rnn.train.copy()
    assert {id(p) for p in twin.shared_inputs} == {id(p) for p in rnn.params}
    twin(*DATA)
    after_twin = _values(rnn.params)
    wx2 = symrnn.shared(rnn.wx.get_value(), name="wx2")
    swapped = rnn.train.copy(swap={rnn.wx: wx2}, name="swapped")
    swapped(*DATA)
    assert not np.allclose(wx2.get_value(), after_twin[0])  # it trained wx2...
    np.testing.assert_array_equal(rnn.wx.get_value(), after_twin[0])  # ...not wx
    frozen = rnn.train.copy(delete_updates=True)
    before = _values(rnn.params)
    frozen(*DATA)
    for a, b in zip(before, _values(rnn.params)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="swap"):
        rnn.train.copy(swap={rnn.wx: symrnn.shared(np.zeros(3))})
