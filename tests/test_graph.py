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


def _networkx_order(outputs, blockers=()):
    """The order toposort promises: networkx's topological sort of the DiGraph built
    depth-first from the outputs (what toposort used before it stopped importing networkx)."""
    import networkx as nx
    stop, g, seen = set(map(id, blockers)), nx.DiGraph(), set()
    stack = [v.owner for v in reversed(outputs) if v.owner is not None and id(v) not in stop]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            g.add_node(node)
            for i in node.inputs:
                if i.owner is not None and id(i) not in stop:
                    g.add_edge(i.owner, node)
                    stack.append(i.owner)
    return list(nx.topological_sort(g))


def test_toposort_keeps_networkx_order_on_random_and_scan_graphs():
    """The order names the generated code and its cache entries: it must not change."""
    rng = np.random.default_rng(3)
    for trial in range(30):
        vs = [T.dvector(f"x{k}") for k in range(3)]
        for _ in range(int(rng.integers(5, 40))):
            a, b = (vs[int(k)] for k in rng.integers(0, len(vs), 2))
            vs.append([T.add, T.mul, T.maximum][int(rng.integers(3))](a, b)
                      if rng.random() < 0.8 else T.tanh(a))
        outs = [vs[int(k)] for k in rng.integers(3, len(vs), int(rng.integers(1, 4)))]
        blockers = [vs[int(k)] for k in rng.integers(3, len(vs), int(rng.integers(0, 2)))]
        assert [id(n) for n in toposort(outs, blockers)] == \
            [id(n) for n in _networkx_order(outs, blockers)]
    x, w = T.dmatrix("x"), T.dmatrix("w")
    h, _ = symrnn.scan(lambda xt, h: T.tanh(T.dot(h, w) + xt), sequences=x,
                       outputs_info=T.zeros_like(x[0]))
    cost = h.sum()
    outs = [cost] + symrnn.grad(cost, [x, w])
    assert [id(n) for n in toposort(outs)] == [id(n) for n in _networkx_order(outs)]


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
