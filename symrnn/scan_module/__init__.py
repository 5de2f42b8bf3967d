"""Theano's ``theano.scan_module``: scan, its helpers, ``until``, checkpointing, ``explain``.

``symrnn.scan`` is the function (as ``theano.scan``); this package is the module, and
none of its files is named after a function it exports (so no import shadows one):

    build.py       scan(): calls fn once on symbolic stand-ins and builds the Scan op
                   (symrnn/ops/scan.py); map, reduce, foldl, foldr
    step.py        what fn may return: outputs, updates, until(condition)
    checkpoint.py  scan(..., checkpoint=k): checkpointed BPTT, an outer scan over chunks
    __init__.py    explain(): a table of every scan's step arguments

    def step(x, acc):
        new = acc + x
        return new, until(new > 10)      # stop after the first step where new > 10
"""
import sys

from symrnn.graph import ancestors
from symrnn.ops.scan import Scan
from symrnn.scan_module.build import foldl, foldr, map, reduce, scan  # noqa: F401
from symrnn.scan_module.step import until  # noqa: F401

__all__ = ["scan", "map", "reduce", "foldl", "foldr", "until", "explain"]


def explain(outputs, file=None):
    """A table of every scan in the graph of ``outputs`` (variables or a compiled function):
    each step argument, where it comes from, and its type. A scan inside a step is listed
    under it, indented. Returns the text; prints it too unless ``file='str'``."""
    if hasattr(outputs, "maker"):
        outputs = outputs.maker.fgraph.outputs
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    lines = _explain_scans(list(outputs), "")
    text = "\n".join(lines) if lines else "no scan in this graph"
    if file != "str":
        print(text, file=file or sys.stdout)
    return text


def _explain_scans(outputs, indent):
    nodes, seen = [], set()
    for v in ancestors(outputs):
        if v.owner is not None and isinstance(v.owner.op, Scan) and id(v.owner) not in seen:
            seen.add(id(v.owner))
            nodes.append(v.owner)
    lines = []
    for node in reversed(nodes):
        op = node.op
        lines.append(f"{indent}{op} ({op.n_seqs} sequence inputs, {op.n_rec} recurrent, "
                     f"{op.n_nit} mapped, {op.n_shared} carried, {op.n_nonseqs} non-sequence "
                     "inputs):")
        info = [(label or str(v), source) for (label, source), v in
                zip(op.arg_info or [(None, "")] * len(op.inner_inputs), op.inner_inputs)]
        width = max(len(a) for a, _ in info) if info else 0
        for k, ((label, source), v) in enumerate(zip(info, op.inner_inputs)):
            lines.append(f"{indent}  arg {k}: {label:<{width}}  from {source:<28} {v.type}")
        inner = _explain_scans(list(op.inner_outputs), indent + "    ")
        if inner:
            lines.append(f"{indent}  its step runs:")
            lines.extend(inner)
    return lines
