"""The ops: one family per file, type rule (``make_node``), NumPy meaning (``perform``)
and gradient (``grad``, or ``L_op`` when it reads the node's outputs) side by side.

Ops import only symrnn.graph, symrnn.types, symrnn.tensor.basic and each other at
module top. ``symrnn.tensor.math`` and ``symrnn.gradient`` are built on the ops, so
the gradient methods that call them import them where they run. No op imports a
backend or the compiler: the backends register their translations per op class.
"""
