"""Messages that teach: the common scan mistakes name the fix and the user's line; and the
Python loop in scan's docstring gives scan's answer in every case it describes."""
import textwrap

import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T

HERE = __file__.rstrip("c")


def test_a_step_that_forgets_return_is_told_so():
    x = T.vector("x")

    def step(x_t, h):
        h + x_t  # noqa: B018 (the mistake under test)
    with pytest.raises(ValueError) as e:
        theano.scan(step, sequences=x, outputs_info=T.zeros_like(x[0]))
    msg = str(e.value)
    assert "forget `return`" in msg and "returned None" in msg
    assert f"{HERE}:{step.__code__.co_firstlineno}" in msg  # where fn is defined
    assert HERE in msg.split("built at")[1]  # and the scan line


@pytest.mark.parametrize("use", ["add", "mul", "method", "tanh", "function", "index"])
def test_scan_result_used_as_a_tensor_says_to_unpack(use):
    x = T.vector("x")
    h = theano.scan(lambda x_t: x_t * 2, sequences=x)  # forgot ", _"
    with pytest.raises(TypeError) as e:
        if use == "add":
            h + 1
        elif use == "mul":
            h * 2  # a tuple would silently repeat itself
        elif use == "method":
            h.sum()
        elif use == "tanh":
            T.tanh(h)
        elif use == "function":
            theano.function([x], h)
        else:
            T.tanh(h[-1])  # the updates dict
    msg = str(e.value)
    assert "h, updates = theano.scan(...)" in msg and HERE in msg


def test_scan_result_still_unpacks_and_indexes():
    x = T.vector("x")
    res = theano.scan(lambda x_t: x_t * 2, sequences=x)
    h, updates = res
    assert res[0] is h and not updates and len(res) == 2


def test_numpy_ufuncs_build_the_symbolic_op():
    x = T.dvector("x")
    s = theano.shared(np.array([1.0, -2.0, 3.0]), name="s")
    outs = [np.tanh(x), np.exp(x) + np.ones(3), np.ones(3) * s, np.maximum(x, 0),
            np.eye(3) @ x, np.ones(3) < x]
    f = theano.function([x], outs, mode="NUMPY")
    xv = np.array([0.5, -1.0, 2.0])
    got = f(xv)
    expected = [np.tanh(xv), np.exp(xv) + 1, np.ones(3) * s.get_value(), np.maximum(xv, 0),
                xv, 1 < xv]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e)


@pytest.mark.parametrize("call,fix", [(lambda x: np.arcsin(x), "symrnn.tensor"),
                                      (lambda x: np.tanh(x, out=np.zeros(3)), "T.tanh"),
                                      (lambda x: np.add.reduce(x), "T.add")])
def test_numpy_ufuncs_without_a_symbolic_version_name_the_fix(call, fix):
    x = T.dvector("x")
    with pytest.raises(TypeError) as e:
        call(x)
    assert fix in str(e.value) and HERE in str(e.value)


@pytest.mark.parametrize("mode", ["NUMPY", "NUMBA"])
def test_a_hoisted_projection_reports_the_scan_line_and_per_step_shapes(mode):
    X, W = T.tensor3("X"), T.matrix("W")
    h, _ = theano.scan(lambda x_t, h, W: T.tanh(T.dot(x_t, W) + h), sequences=X,
                       outputs_info=T.zeros((2, 4)), non_sequences=W)
    f = theano.function([X, W], h, mode=mode)
    with pytest.raises(ValueError) as e:
        f(np.ones((5, 2, 3)), np.ones((4, 4)))
    msg = str(e.value)
    assert "Per step: dot(X[t], W) with X[t] (batch, 3) and W (4, 4)" in msg
    assert f"{HERE}:" in msg and "h, _ = theano.scan(lambda x_t, h, W" in msg
    assert "theano.function" not in msg


# ---- the docstring's reference loop ----

def _docstring_loop():
    block = theano.scan.__doc__.split("::\n\n")[1].split("\n\n")[0]
    namespace = {"np": np}
    exec(textwrap.dedent(block), namespace)
    return namespace["scan"]


CASES = {
    "map": (lambda x: x ** 2, dict(sequences=["x"])),
    "map of two outputs": (lambda x: (x + 1, x * 2), dict(sequences=["x"])),
    "feedback": (lambda x, h: 0.5 * h + x, dict(sequences=["x"], outputs_info=["h0"])),
    "mapped and fed back": (lambda x, h: (h + x, h * x),
                            dict(sequences=["x"], outputs_info=["h0", None])),
    "sequence taps": (lambda a, b, c: a - 2 * b + c,
                      dict(sequences=[("x", [-2, 0, 1])])),
    "output taps": (lambda f2, f1: f2 + f1,
                    dict(outputs_info=[("f0", [-2, -1])], n_steps=6)),
    "go_backwards": (lambda x, h: h * 0.9 + x,
                     dict(sequences=["x"], outputs_info=["h0"], go_backwards=True)),
    "n_steps shorter": (lambda x, y, h, w: h * w + x * y,
                        dict(sequences=["x", "y"], outputs_info=["h0"], non_sequences=["w"],
                             n_steps=3)),
    "shortest sequence": (lambda x, y: x * y, dict(sequences=["x", ("y", [-1])])),
    "go_backwards with taps": (lambda a, b, h: h * 0.5 + a * 10 + b,
                               dict(sequences=[("x", [-1, 1])], outputs_info=["h0"],
                                    go_backwards=True)),
    "output taps out of order": (lambda f1, f2: f1 * 2 - f2 * 3,
                                 dict(outputs_info=[("f0", [-1, -2])], n_steps=4)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_docstring_loop_agrees_with_scan_in_every_case(case):
    fn, spec = CASES[case]
    rng = np.random.default_rng(1)
    values = {"x": rng.normal(size=(7, 2)), "y": rng.normal(size=(5, 2)),
              "h0": rng.normal(size=2), "f0": rng.normal(size=(2, 2)), "w": 0.7}
    sym = {"x": T.dmatrix("x"), "y": T.dmatrix("y"), "h0": T.dvector("h0"),
           "f0": T.dmatrix("f0"), "w": T.dscalar("w")}

    def convert(entry, table, kind):
        if entry is None:
            return None
        if isinstance(entry, tuple):
            name, taps = entry
            if table is values:
                return (table[name], taps)
            return dict({kind: table[name]}, taps=taps)
        return table[entry]
    kinds = {"sequences": "input", "outputs_info": "initial", "non_sequences": None}
    args_v = {k: [convert(e, values, kinds.get(k)) for e in v] if isinstance(v, list) else v
              for k, v in spec.items()}
    args_s = {k: [convert(e, sym, kinds.get(k)) for e in v] if isinstance(v, list) else v
              for k, v in spec.items()}
    expected = _docstring_loop()(fn, **args_v)
    outs, _ = theano.scan(fn, return_list=True, **args_s)
    used = [sym[k] for k in sorted(sym) if any(
        k == (e[0] if isinstance(e, tuple) else e) for v in spec.values() if isinstance(v, list)
        for e in v)]
    got = theano.function(used, outs, mode="NUMPY")(*[values[v.name] for v in used])
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12)
