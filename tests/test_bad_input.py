"""Every misuse is a TypeError / ValueError / IndexError naming the op, the types or
shapes involved, and the user's line (this file) that built the node."""
import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from symrnn.ops.blas import batched_dot, dot
from helpers import MODES

x, v, t3 = T.dmatrix("x"), T.dvector("v"), T.dtensor3("t")
HERE = r"test_bad_input\.py"

BUILD = [
    ("dot_3d", lambda: dot(t3, x), TypeError, r"Dot.*float64, \(\?, \?, \?\).*Matrix"),
    ("batched_dot_2d", lambda: batched_dot(x, x), TypeError, r"BatchedDot.*3-d.*Matrix"),
    ("dot_bool", lambda: T.dot(x > 0, x), TypeError, r"Dot.*bool.*TensorType\(bool, Matrix\)"),
    ("bitwise_float", lambda: x & x, TypeError, r"Elemwise\{and_\}.*float64"),
    ("invert_float", lambda: ~v, TypeError, r"Elemwise\{invert\}.*float64"),
    ("dimshuffle_range", lambda: x.dimshuffle(2, 0), ValueError, r"DimShuffle.*\(2, 0\).*2 dims"),
    ("dimshuffle_drop", lambda: x.dimshuffle(0), ValueError, r"DimShuffle.*drop axis 1"),
    ("reshape_float", lambda: x.reshape(T.dvector()), TypeError, r"Reshape.*float64"),
    ("join_ndim", lambda: T.concatenate([x, v]), TypeError, r"Join.*Matrix.*Vector"),
    ("inc_dims", lambda: T.inc_subtensor(v[1:], x), TypeError, r"IncSubtensor\{1:\}.*2 dims"),
    ("eye_float", lambda: T.eye(2.5), TypeError, r"Eye.*integer.*float64"),
    ("alloc_float", lambda: T.alloc(1.0, 2.5), TypeError, r"Alloc.*integer.*float64"),
    ("softmax_0d", lambda: T.nnet.softmax(T.dscalar()), TypeError, r"Softmax.*Scalar"),
    ("arange_vector", lambda: T.arange(v), TypeError, r"ARange.*Vector"),
    ("index_float", lambda: x[1.5], TypeError, r"Subtensor.*float64"),
    ("index_float_array", lambda: x[v], IndexError, r"AdvancedSubtensor.*float64"),
    ("too_many_indices", lambda: v[0, 1], IndexError, r"Subtensor.*too many.*Vector"),
    ("reduce_axis", lambda: x.max(axis=3), ValueError, r"max.*axis 3.*2 dims"),
    ("cumsum_axis", lambda: T.cumsum(v, axis=-2), ValueError, r"cumsum.*axis -2.*1 dims"),
    ("sort_axis", lambda: T.sort(x, axis=5), ValueError, r"sort.*axis 5.*2 dims"),
    ("tensordot_axes", lambda: T.tensordot(x, x, [[0], [0, 1]]), ValueError,
     r"tensordot.*\[\[0\], \[0, 1\]\]"),
    ("flatten_ndim", lambda: x.flatten(3), ValueError, r"flatten.*ndim=3.*Matrix"),
    ("grad_vector_cost", lambda: T.grad(x.sum(axis=0), x), TypeError, r"grad.*scalar.*Vector"),
    ("grad_int_cost", lambda: T.grad(T.iscalar() * 2, x), TypeError, r"grad.*float.*int32"),
    ("crossentropy_labels", lambda: T.nnet.categorical_crossentropy(x, v), TypeError,
     r"categorical_crossentropy.*Matrix.*float64, Vector"),
    ("set_subtensor_plain", lambda: T.set_subtensor(x, 0.0), TypeError, r"set_subtensor.*x"),
    ("as_tensor_ndim", lambda: T.as_tensor_variable(v, ndim=2), TypeError,
     r"as_tensor_variable.*2 dims.*Vector"),
    ("addbroadcast_axis", lambda: T.addbroadcast(v, 1), ValueError,
     r"addbroadcast.*axis 1.*Vector"),
]


@pytest.mark.parametrize("name,build,exc,pattern", BUILD, ids=[b[0] for b in BUILD])
def test_bad_graph_construction(name, build, exc, pattern):
    with pytest.raises(exc, match=rf"(?s){pattern}.*{HERE}"):
        build()


def runner(mode):
    """Compile with ``mode`` and call at once."""
    def run(inputs, output, *values):
        return symrnn.function(inputs, output, mode=mode)(*values)
    return run


y = T.dmatrix("y")
RUN = [
    ("dot_shapes", lambda run: run([x, v], T.dot(x, v), np.ones((2, 3)), np.ones(2)), ValueError,
     r"Dot.*\(2, 3\) \(float64\).*\(2,\) \(float64\).*3 != 2"),
    ("batched_dot_shapes", lambda run: run([t3], T.batched_dot(t3, t3), np.ones((2, 3, 4))),
     ValueError, r"BatchedDot.*\(2, 3, 4\).*\(2, 3, 4\)"),
    ("reshape_size", lambda run: run([x], x.reshape((4, 4)), np.ones((2, 3))), ValueError,
     r"Reshape.*\(2, 3\).*size 6.*\(4, 4\)"),
    ("elemwise_shapes", lambda run: run([x, y], x + y, np.ones((2, 3)), np.ones((2, 4))),
     ValueError, r"Elemwise\{add\}.*axis 1.*\(2, 3\) \(float64\), \(2, 4\) \(float64\)"),
    ("no_runtime_broadcast", lambda run: run([x, y], x * y, np.ones((2, 3)), np.ones((1, 3))),
     ValueError, r"Elemwise\{mul\}.*axis 0.*broadcasts only when its type says so"),
    ("alloc_shape", lambda run: run([v], T.alloc(v, 2, 3), np.ones(2)), ValueError,
     r"Alloc.*\(2,\).*\(2, 3\)"),
    ("join_shapes", lambda run: run([x, y], T.concatenate([x, y]), np.ones((2, 3)),
                                    np.ones((2, 4))), ValueError, r"Join.*\(2, 3\).*\(2, 4\)"),
    ("index_range", lambda run: run([v], v[-4], np.ones(3)), IndexError,
     r"Subtensor\{-4\}.*\(3,\)"),
    ("advanced_index_range", lambda run: run([v], v[[0, 3]], np.ones(3)), IndexError,
     r"AdvancedSubtensor.*\(3,\)"),
    ("set_subtensor_shape", lambda run: run([v, x], T.set_subtensor(v[:2], x[0]), np.ones(3),
                                            np.ones((2, 3))), ValueError,
     r"SetSubtensor\{:2\}.*\(3,\).*\(2,\)"),
    ("rebroadcast_length", lambda run: run([x], T.addbroadcast(x, 1), np.ones((2, 3))),
     ValueError, r"Rebroadcast.*axis 1.*length 3"),
    ("arange_zero_step", lambda run: run([v], T.arange(0, 3, v[0].astype("int64")), np.zeros(1)),
     ValueError, r"ARange.*step"),
    ("eye_negative", lambda run: run([v], T.eye(v.shape[0] - 5), np.ones(3)), ValueError,
     r"Eye.*\(-2, -2\)"),
    ("max_of_empty", lambda run: run([v], v.max(), np.ones(0)), ValueError, r"Max.*empty.*\(0,\)"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name,call,exc,pattern", RUN, ids=[r[0] for r in RUN])
def test_bad_values_at_run_time(name, call, exc, pattern, mode):
    with pytest.raises(exc, match=rf"(?s){pattern}.*built at .*{HERE}"):
        call(runner(mode))


def test_symbolic_truth_value_and_iteration():
    with pytest.raises(TypeError, match="no truth value"):
        bool(v > 0)
    with pytest.raises(TypeError, match="cannot be iterated"):
        list(v)
    with pytest.raises(TypeError, match="no len"):
        len(v)


def test_function_inputs_wrong_ndim_and_dtype():
    f = symrnn.function([x], x * 2, mode="NUMPY")
    with pytest.raises(TypeError, match=r"input 0 \(x\).*2.*shape \(3,\)"):
        f(np.ones(3))
    a = T.fvector("a")
    g = symrnn.function([a], a * 2, mode="NUMPY")
    with pytest.raises(TypeError, match="float64.*float32"):
        g(np.ones(3))
