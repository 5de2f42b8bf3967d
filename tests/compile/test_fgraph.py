"""FunctionGraph.replace / replace_all: the one way rewrites edit a graph."""
import pytest

import symrnn.tensor as T
from symrnn.compile.fgraph import FunctionGraph


def test_replace_all_rewires_every_reader_and_output_at_once():
    x, y = T.dvector("x"), T.dvector("y")
    a, b = x + 1, x * 2
    c = a + b
    fg = FunctionGraph([x, y], [c, a])
    fg.replace_all({a: y - 1, b: y})
    assert c.owner.inputs[1] is y and c.owner.inputs[0].owner.inputs[0] is y
    assert fg.outputs[0] is c and fg.outputs[1] is c.owner.inputs[0]
    assert not fg.clients().get(id(a)) and not fg.clients().get(id(b))


def test_replace_refuses_another_type():
    x = T.dvector("x")
    fg = FunctionGraph([x], [x + 1])
    with pytest.raises(TypeError, match="cannot be replaced"):
        fg.replace(fg.outputs[0], T.dmatrix("m"))
    with pytest.raises(TypeError, match="cannot be replaced"):
        fg.replace(fg.outputs[0], T.fvector("f"))
