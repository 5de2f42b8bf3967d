"""The Theano-style tensor API: ``import symrnn.tensor as T``."""
from symrnn.tensor.basic import (  # noqa: F401
    CONSTRUCTORS, addbroadcast, as_tensor_variable, col, constant, matrix, patternbroadcast,
    row, scalar, tensor, tensor3, tensor4, tensor5, unbroadcast, vector)
from symrnn.tensor.basic import *  # noqa: F401,F403  (iscalar, fmatrix, ...)
from symrnn.tensor.indexing import inc_subtensor, set_subtensor  # noqa: F401
from symrnn.tensor.math import *  # noqa: F401,F403
from symrnn.tensor.math import abs_, all, any, max, min, pow, round, sum  # noqa: F401
from symrnn.tensor.variable import TensorConstant, TensorVariable  # noqa: F401
from symrnn.types import TensorType  # noqa: F401
from symrnn.tensor import nnet  # noqa: F401,E402
from symrnn.gradient import grad, hessian, jacobian  # noqa: F401,E402

globals().update(CONSTRUCTORS)
from symrnn.tensor import raw_random, shared_randomstreams  # noqa: F401,E402
