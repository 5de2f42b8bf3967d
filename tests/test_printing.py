import io

import symrnn
import symrnn.tensor as T
from symrnn.printing import Print, debugprint, pprint


def test_debugprint_theano_layout_with_nested_bars():
    x, y, w = T.dvector("x"), T.dvector("y"), T.dvector("w")
    z = (x + T.exp(y)) * (w - x)
    z.name = "z"
    assert debugprint(z, file="str", print_type=False).splitlines() == [
        "Elemwise{mul} [id A] 'z'",
        " |Elemwise{add} [id B]",
        " | |x [id C]",
        " | |Elemwise{exp} [id D]",
        " |   |y [id E]",
        " |Elemwise{sub} [id F]",
        "   |w [id G]",
        "   |x [id C]",
    ]


def test_debugprint_shows_types_and_prints_shared_nodes_once():
    x = T.fmatrix("x")
    s = T.exp(x)
    text = debugprint([s + s, s], file="str")
    lines = text.splitlines()
    assert lines[0] == "Elemwise{add} [id A] <TensorType(float32, Matrix)>"
    assert lines[1] == " |Elemwise{exp} [id B] <TensorType(float32, Matrix)>"
    assert lines[2] == " | |x [id C] <TensorType(float32, Matrix)>"
    assert lines[3] == " |Elemwise{exp} [id B] <TensorType(float32, Matrix)>"
    assert lines[4] == "Elemwise{exp} [id B] <TensorType(float32, Matrix)>"
    assert len(lines) == 5


def test_debugprint_unnamed_inputs_constants_depth_and_file():
    x = T.dvector()
    y = x * 2.0
    lines = debugprint(y, file="str").splitlines()
    assert lines[1] == " |<TensorType(float64, Vector)> [id B]"
    assert lines[2] == " |DimShuffle{x} [id C] <TensorType(float64, (1))>"
    assert lines[3] == "   |2.0 [id D] <TensorType(float64, Scalar)>"
    top = debugprint(y, file="str", depth=1)
    assert top == "Elemwise{mul} [id A] <TensorType(float64, Vector)>"
    buf = io.StringIO()
    debugprint(y, file=buf)
    assert buf.getvalue().startswith("Elemwise{mul} [id A]")


def test_debugprint_of_a_compiled_function():
    x = T.dvector("x")
    f = symrnn.function([x], T.tanh(x), mode="NUMPY")
    assert debugprint(f, file="str", print_type=False).splitlines() == [
        "Elemwise{tanh} [id A]", " |x [id B]"]
    assert symrnn.dprint is debugprint


def test_debugprint_advanced_indexing_and_softmax_labels():
    x, i = T.dmatrix("x"), T.lvector("i")
    lines = debugprint(T.nnet.softmax(x)[i, -1:], file="str", print_type=False).splitlines()
    assert lines == ["AdvancedSubtensor{i, -1:} [id A]", " |Softmax [id B]", " | |x [id C]",
                     " |i [id D]"]


def test_pprint_infix():
    x, y, b = T.dvector("x"), T.dvector("y"), T.dscalar("b")
    assert pprint(x * y + b) == "((x * y) + b)"
    assert pprint(-T.exp(x) / 2.0) == "(-exp(x) / 2.0)"
    assert pprint(T.gt(x, y) & T.le(x, b)) == "((x > y) & (x <= b))"
    assert pprint(T.nnet.sigmoid(x).sum()) == "Sum{axis=[0]}(sigmoid(x))"
    assert symrnn.pp is pprint


def test_print_op_passes_value_through(capsys):
    x = T.dvector("x")
    f = symrnn.function([x], Print("x is")(x) * 2, mode="NUMPY")
    assert list(f([1.0, 2.0])) == [2.0, 4.0]
    assert capsys.readouterr().out.strip() == "x is [1. 2.]"
