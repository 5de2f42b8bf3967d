"""symrnn: a Theano-style symbolic tensor framework centred on scan.

    import symrnn as theano
    import symrnn.tensor as T
"""
from symrnn.config import config  # noqa: F401
from symrnn import tensor  # noqa: F401
from symrnn.compile.function import function  # noqa: F401
from symrnn.gradient import grad  # noqa: F401
from symrnn.printing import debugprint, dprint, pp, pprint  # noqa: F401
from symrnn import printing  # noqa: F401
from symrnn.shared import SharedVariable, shared  # noqa: F401
from symrnn.graph import Variable, Constant, Apply, Op, clone_replace  # noqa: F401
from symrnn.updates import OrderedUpdates  # noqa: F401
from symrnn import gradient  # noqa: F401

clone = clone_replace
__version__ = "0.1.0"
from symrnn import scan_module  # noqa: F401,E402  (the module; symrnn.scan is the function)
from symrnn.scan_module import foldl, foldr, map, reduce, scan  # noqa: F401,E402
from symrnn.tensor.math import dot  # noqa: F401,E402  (theano.dot)
from symrnn import sandbox  # noqa: F401,E402
from symrnn import rewrite as _rewrite  # noqa: E402

_rewrite.check_names(config.rewrites)  # SYMRNN_FLAGS=rewrites=...: checked once rewrites exist
