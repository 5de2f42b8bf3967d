"""Backends: each turns a FunctionGraph into a callable (``compile_graph``).

A backend module provides ``compile_graph(fgraph) -> thunk``, where
``thunk(values)`` takes the input values (explicit inputs, then shared
variables) and returns the output values; ``fresh(value, given_ids)`` (a value
safe to hand out, not aliasing an input) and ``to_host(value)``.

``numpy.py`` is the reference (``numpy_scan.py``: its Scan loop); ``numba/`` and
``cupy/`` register a translation per op family in their package. A backend
imports no other backend: what two of them share lives here, beside them
(``scan_plan.py``: which scans are elementwise in their state), or lower down
(the elementwise grouping in ``symrnn/rewrite/fusion.py``, the readers of each
variable in ``symrnn.graph.clients``).
"""
