"""Where scan lives: ``symrnn.scan`` the function, ``symrnn.scan_module`` the module (Theano's
layout), its files importing each other without a cycle."""
import ast
import pathlib
import pkgutil
import types

import networkx as nx

import symrnn
import symrnn.scan_module


def test_scan_is_the_function_and_scan_module_the_module():
    assert isinstance(symrnn.scan_module, types.ModuleType)
    assert callable(symrnn.scan) and not isinstance(symrnn.scan, types.ModuleType)
    sm = symrnn.scan_module
    assert sm.scan is symrnn.scan and sm.map is symrnn.map and sm.reduce is symrnn.reduce
    assert sm.foldl is symrnn.foldl and sm.foldr is symrnn.foldr
    assert callable(sm.until) and callable(sm.explain)
    # no file of the package is named after a name it exports (an import would shadow it)
    files = {m.name for m in pkgutil.iter_modules(sm.__path__)}
    assert files and not files & set(sm.__all__) and not files & set(dir(symrnn)) - {
        "scan_module"}


def test_the_package_files_import_each_other_without_a_cycle_and_at_the_top():
    folder = pathlib.Path(symrnn.scan_module.__file__).parent
    graph = nx.DiGraph()
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text())
        top = set(map(id, tree.body))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "symrnn.scan_module"):
                assert id(node) in top, f"{path.name}:{node.lineno} imports inside a function"
                name = node.module.rsplit(".", 1)[-1]
                graph.add_edge(path.stem, "__init__" if name == "scan_module" else name)
    assert graph.number_of_edges() and nx.is_directed_acyclic_graph(graph), list(graph.edges)
