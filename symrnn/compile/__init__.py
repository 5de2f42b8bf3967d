"""Compilation: function(), the compiled Function, the function graph."""
from symrnn.compile.function import Function, MissingInputError, function  # noqa: F401
from symrnn.compile.nanguardmode import NanGuardMode  # noqa: F401,E402
from symrnn.shared import SharedVariable, shared  # noqa: F401,E402
