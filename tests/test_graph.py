import numpy as np

import symrnn
import symrnn.tensor as T
from symrnn.graph import ancestors, clients, clone_replace, graph_inputs, toposort
from symrnn.ops.reduction import Reduce
from symrnn.ops.subtensor import AdvancedSubtensor


def test_ops_are_values():
    assert Reduce("sum", (0,)) == Reduce("sum", (0,))
    assert hash(Reduce("sum", (0,))) == hash(Reduce("sum", (0,)))
    assert Reduce("sum", (0,)) != Reduce("sum", (1,))
    assert AdvancedSubtensor(("v", None)) == AdvancedSubtensor(("v", None))
    assert str(Reduce("max", (0, 1))) == "Max{axis=[0, 1]}"


def test_nodes_record_the_user_line():
    x = T.dvector("x")
    y = T.exp(x)
    assert "test_graph.py" in y.owner.trace and "T.exp(x)" in y.owner.trace


def test_toposort_ancestors_and_inputs():
    x, w = T.dvector("x"), T.dvector("w")
    h = T.tanh(x * w)
    out = h + h.sum()
    order = toposort([out])
    assert order[-1] is out.owner
    pos = {id(n): k for k, n in enumerate(order)}
    for node in order:
        for i in node.inputs:
            if i.owner is not None:
                assert pos[id(i.owner)] < pos[id(node)]
    names = {v.name for v in graph_inputs([out]) if v.name}
    assert names == {"x", "w"}
    assert h in ancestors([out])


def test_clone_replace_rebuilds_types():
    x, y = T.dvector("x"), T.fvector("y")
    out = T.exp(x) * 2
    (new,) = clone_replace([out], {x: T.cast(y, "float64")})
    assert new.type == out.type and new is not out
    f = symrnn.function([y], new, mode="NUMPY")
    np.testing.assert_allclose(f(np.zeros(2, "float32")), [2.0, 2.0])
    (same,) = clone_replace([out], {})
    assert same is out


def test_constants_merge_by_value():
    a, b = T.constant(np.arange(3)), T.constant(np.arange(3))
    assert a.signature() == b.signature()
    assert T.constant(np.arange(3.0)).signature() != a.signature()


def test_clients_lists_each_reader_with_its_position():
    x, w = T.dvector("x"), T.dvector("w")
    h = T.tanh(x * w)
    out = h * h + w
    readers = clients([out, h])
    mul = out.owner.inputs[0].owner
    assert readers[id(h)] == [(mul, 0), (mul, 1), ("output", 1)]
    assert readers[id(out)] == [("output", 0)]
    expected = {(id(h.owner.inputs[0].owner), 1), (id(out.owner), 1)}
    assert {(id(r), i) for r, i in readers[id(w)]} == expected
    # a blocker is read but not looked through: nothing reads what computes it
    assert id(x) not in clients([out], blockers=[h]) and id(h) in clients([out], blockers=[h])
