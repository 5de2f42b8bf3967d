"""Backends: each turns a FunctionGraph into a callable (``compile_graph``).

A backend module provides ``compile_graph(fgraph) -> thunk``, where
``thunk(values)`` takes the input values (explicit inputs, then shared
variables) and returns the output values; ``fresh(value, given_ids)`` (a value
safe to hand out, not aliasing an input) and ``to_host(value)``.
"""
