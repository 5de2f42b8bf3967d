"""Learning scan: debugprint shows inner graphs, explain lists the step arguments, Print
prints at every step, and scan's docstring shows the loop it is equivalent to."""
import numpy as np

import symrnn
import symrnn.tensor as T
from symrnn.printing import Print
from symrnn.scan_module import explain


def rnn():
    x, h0, W = T.matrix("x"), T.vector("h"), T.matrix("W")
    b = symrnn.shared(np.zeros(3), name="b")
    h, _ = symrnn.scan(lambda xt, h, W: T.tanh(T.dot(h, W) + xt + b), sequences=x,
                       outputs_info=h0, non_sequences=W, name="rnn")
    return (x, h0, W), h


def test_debugprint_shows_the_inner_graph_of_every_scan():
    (x, h0, W), h = rnn()
    text = symrnn.printing.debugprint(symrnn.grad(h.sum(), W), file="str")
    assert "Inner graphs of Scan{rnn}" in text
    assert "Inner graphs of Scan{grad_of_rnn}" in text
    assert "Elemwise{tanh}" in text and "x[t]" in text and "h[t-1]" in text


def test_explain_lists_each_step_argument_its_source_and_type(capsys):
    (x, h0, W), h = rnn()
    text = explain(h)
    assert text == capsys.readouterr().out.rstrip("\n")
    lines = text.splitlines()
    assert "Scan{rnn}" in lines[0]
    assert "x[t]" in lines[1] and "sequences[0]" in lines[1] and "float64, Vector" in lines[1]
    assert "h[t-1]" in lines[2] and "outputs_info[0]" in lines[2]
    assert "W" in lines[3] and "non_sequences[0]" in lines[3] and "Matrix" in lines[3]
    assert "b" in lines[4] and "implicit: shared variable" in lines[4]
    assert explain(h0, file="str") == "no scan in this graph"


def test_the_backward_scan_reads_stored_outputs_and_not_what_it_can_skip():
    (x, h0, W), h = rnn()
    text = explain(symrnn.grad(h.sum(), W), file="str")
    back = text.split("Scan{grad_of_rnn}")[1]
    assert "x[t]" not in back  # tanh's gradient uses the stored h[t], not a recomputation
    assert "stored output 0" in back and "pending gradient" in back


def test_print_inside_fn_prints_at_every_step(capsys):
    x = T.vector("x")
    out, _ = symrnn.scan(lambda v, acc: Print("acc")(acc + v), sequences=x,
                         outputs_info=T.constant(0.0, dtype="float64"))
    got = symrnn.function([x], out, mode="NUMPY")([1., 2., 3.])
    np.testing.assert_allclose(got, [1., 3., 6.])
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["acc 1.0", "acc 3.0", "acc 6.0"]


def test_scan_docstring_shows_the_equivalent_loop():
    doc = symrnn.scan.__doc__
    assert "for t in range(n):" in doc and "fn(*args, *non_sequences)" in doc


def test_the_docstring_loop_runs_and_agrees_with_scan():
    import textwrap
    block = symrnn.scan.__doc__.split("::\n\n")[1].split("\n\n")[0]
    namespace = {"np": np}
    exec(textwrap.dedent(block), namespace)
    loop = namespace["scan"]
    rng = np.random.default_rng(0)
    xv, hv, Wv = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=(3, 3))
    expected = loop(lambda x, h, W: [np.tanh(h @ W + x), (h ** 2).sum()], [xv], [hv, None],
                    [Wv], 4)
    x, h0, W = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("W")
    outs, _ = symrnn.scan(lambda x, h, W: [T.tanh(T.dot(h, W) + x), (h ** 2).sum()],
                          sequences=[x], outputs_info=[h0, None], non_sequences=[W],
                          n_steps=4)
    got = symrnn.function([x, h0, W], outs, mode="NUMPY")(xv, hv, Wv)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e)
