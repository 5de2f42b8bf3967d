"""pydotprint draws a graph (graphviz dot, or networkx + matplotlib without it), with each
scan's step as a cluster and inputs, shared variables and updates marked; explain lists
nested scans."""
import importlib.util
import shutil

import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T
from symrnn.graph_picture import build, to_dot
from symrnn.scan_module import explain


def training_function():
    x = T.matrix("x")
    w = theano.shared(np.float64(0.5), name="w")
    h, _ = theano.scan(lambda x_t, h, w: T.tanh(w * h + x_t), sequences=x,
                       outputs_info=T.zeros_like(x[0]), non_sequences=w, name="rnn")
    cost = (h[-1] ** 2).sum()
    return theano.function([x], cost, updates=[(w, w - 0.1 * theano.grad(cost, w))],
                           mode="NUMPY"), h


def test_the_dot_text_marks_inputs_shared_updates_and_the_step_cluster(tmp_path):
    f, _ = training_function()
    path = theano.printing.pydotprint(f, str(tmp_path / "g.dot"), format="dot",
                                      print_output_file=False)
    text = open(path).read()
    assert 'subgraph cluster0 { label="step of Scan{rnn}"' in text
    assert '[label="x\\nfloat64 matrix", shape=ellipse, style=filled, fillcolor="palegreen"]' \
        in text
    assert '[label="w\\nfloat64 scalar", shape=ellipse, style=filled, ' \
        'fillcolor="lightskyblue"]' in text
    assert 'fillcolor="plum"' in text and '[label="update", style=dashed]' in text
    assert 'label="x[t]\\n(sequences[0])"' in text and '[label="step", style=dashed]' in text
    assert text.count("subgraph cluster") == 2  # the forward scan and its gradient's scan


def test_color_codes_color_ops_by_class(tmp_path):
    f, _ = training_function()
    path = theano.printing.pydotprint(f, str(tmp_path / "g.dot"), format="dot",
                                      colorCodes={"Scan": "red"}, print_output_file=False)
    text = open(path).read()
    assert '[label="Scan{rnn}", shape=box, style=filled, fillcolor="red"]' in text


def test_names_are_quoted_data_in_the_dot_text():
    x = T.vector('x"; evil -> [')
    text = to_dot(build(x * 2))
    assert 'label="x\\"; evil -> [\\nfloat64 vector"' in text


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="no matplotlib")
def test_without_graphviz_matplotlib_draws_it(tmp_path):
    f, h = training_function()
    for obj in (f, h):
        out = theano.printing.pydotprint(obj, str(tmp_path / "g.png"), engine="matplotlib",
                                         print_output_file=False)
        assert open(out, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")
def test_with_graphviz_dot_draws_it(tmp_path):
    f, _ = training_function()
    png = theano.printing.pydotprint(f, str(tmp_path / "g.png"), return_image=True)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_pydotprint_rejects_what_is_not_a_graph():
    with pytest.raises(TypeError, match="pydotprint"):
        theano.printing.pydotprint(3, "/dev/null")


def test_explain_lists_a_nested_scan_under_its_outer_scan():
    X = T.matrix("X")

    def row_fn(row):
        prods, _ = theano.scan(lambda v, p: p * v, sequences=row,
                               outputs_info=T.ones_like(row[0]), name="inner")
        return prods[-1]
    prods, _ = theano.scan(row_fn, sequences=X, name="outer")
    text = explain(prods, file="str").splitlines()
    assert text[0].startswith("Scan{outer} (1 sequence inputs")
    assert text[2] == "  its step runs:"
    assert text[3].startswith("    Scan{inner} (1 sequence inputs, 1 recurrent")
    assert text[5].startswith("      arg 1: out0[t-1]") and "outputs_info[0]" in text[5]
    f = theano.function([X], prods, mode="NUMPY")
    assert "Scan{inner}" in explain(f, file="str")
