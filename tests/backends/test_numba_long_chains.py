"""Long elementwise chains on the numba backend: the generated source never nests without
bound (Python's parser refuses ~200 nested parentheses); deep expressions get named
temporaries, and chains of values left lazy are cut into arrays."""
import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from symrnn.backends.numba.codegen import MAX_NESTING, nesting
from symrnn.compile.fgraph import FunctionGraph
from symrnn.graph import clone_replace
from symrnn.rewrite import rewrite_graph
from helpers import COMPILED_MODES, compare_backends

pytestmark = pytest.mark.skipif("NUMBA" not in COMPILED_MODES, reason="numba is not installed")


def chain(x, n):
    y = x
    for _ in range(n):
        y = y * 1.0001 + 0.001
    return y


def numba_source(inputs, outputs):
    """The source the numba backend generates for ``outputs`` (no numba compile)."""
    from symrnn.backends.numba import generate
    fg = FunctionGraph(inputs, clone_replace(outputs, copy_inputs=True, rebuild=False))
    rewrite_graph(fg, "NUMBA")
    return generate(fg.toposort(), fg.inputs, fg.outputs)[0]


def test_a_chain_of_50_compiles_and_equals_numpy_with_its_gradient():
    x = T.dvector("x")
    y = chain(x, 50)
    xv = np.linspace(-1, 1, 5)
    value, grad = compare_backends([x], [y, symrnn.grad(y.sum(), x)], [xv])
    np.testing.assert_allclose(value, (xv + 10) * 1.0001 ** 50 - 10, rtol=1e-12)
    np.testing.assert_allclose(grad, np.full(5, 1.0001 ** 50), rtol=1e-12)


@pytest.mark.parametrize("n,grad", [(5000, False), (400, True)])
def test_long_chains_generate_source_of_bounded_nesting(n, grad):
    x = T.dvector("x")
    y = chain(x, n)
    outs = [y, symrnn.grad(y.sum(), x)] if grad else [y]
    src = numba_source([x], outs)
    compile(src, "<generated>", "exec")  # the parser accepts it
    deepest = max(nesting(line) for line in src.splitlines())
    assert deepest <= MAX_NESTING + 8, deepest


def test_a_chain_inside_a_scan_step():
    x = T.dmatrix("x")
    h, _ = symrnn.scan(lambda xt, hp: chain(xt + hp * 0.5, 60), sequences=x,
                       outputs_info=T.zeros_like(x[0]))
    xv = np.linspace(-0.5, 0.5, 6).reshape(3, 2)
    compare_backends([x], [h, symrnn.grad(h.sum(), x)], [xv])
