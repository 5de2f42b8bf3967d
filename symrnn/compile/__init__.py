"""Compilation: function(), the compiled Function, the function graph."""
from symrnn.compile.function import Function, MissingInputError, function  # noqa: F401
