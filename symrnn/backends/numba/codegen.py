"""Graph -> Python source: the context the per-op translators write into.

Every tensor Variable becomes a local name in the generated function: a numba
array, or a plain scalar when it has 0 dimensions. A translator (registered on
``emit`` per Op class, one module per op family) writes lines with
``ctx.line``, reads its inputs with ``ctx.name(var)`` (the array) or
``ctx.elem(var, idx)`` (one element), and defines its outputs with
``ctx.define``. Elementwise results read by only one elementwise or reduction
node are left *lazy*: their element expression is inlined into the reader's
loop (loop fusion), and DimShuffles are index maps until something needs the
array.

Run-time checks raise ``ValueError(k)`` / ``IndexError(k)`` where ``k`` numbers
the node in ``ctx.nodes``; the thunk turns that into an error naming the node
and the user's line.
"""
from contextlib import contextmanager
from functools import singledispatch

import numpy as np

from symrnn.graph import Constant


class Untranslatable(Exception):
    """The op (or a dtype it uses) has no numba translation: run its perform instead."""


@singledispatch
def emit(op, node, ctx):
    """Write the lines computing ``node`` (registered per Op class)."""
    raise Untranslatable(type(op).__name__)


SUPPORTED = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
             "float32", "float64"}


def translatable(node):
    """Can ``node`` be translated? (its op has a translator and its dtypes are supported)."""
    if emit.dispatch(type(node.op)) is emit.dispatch(object):
        return False
    ok = getattr(emit.dispatch(type(node.op)), "supports", None)
    if ok is not None and not ok(node):
        return False
    return all(v.type.dtype in SUPPORTED for v in node.inputs + node.outputs
               if hasattr(v.type, "dtype"))


def np_dtype(dtype):
    return "np.bool_" if dtype == "bool" else f"np.{dtype}"


def conv(expr, dtype):
    """``expr`` converted to a scalar of ``dtype``."""
    if dtype == "bool":
        return f"({expr} != 0)"
    head = f"{np_dtype(dtype)}("
    if expr.startswith(head) and expr.endswith(")") and _balanced(expr[len(head):-1]):
        return expr  # already of that dtype
    return f"{head}{expr})"


def _balanced(text):
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


MAX_NESTING = 16  # deeper expressions are named (Python's parser refuses ~200 parentheses)


def nesting(expr):
    """The deepest nesting of brackets in the source text ``expr``."""
    depth = deepest = 0
    for ch in expr:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    return deepest


def bounded(expr, fresh, emit_line):
    """``expr``, or a new local holding it when it nests deeper than MAX_NESTING (a long
    elementwise chain fused into one loop stays a sequence of statements)."""
    if nesting(expr) <= MAX_NESTING:
        return expr
    name = fresh("e")
    emit_line(f"{name} = {expr}")
    return name


def literal(value, dtype):
    """Source text for a scalar constant of ``dtype``."""
    v = np.asarray(value, dtype=dtype).item()
    if dtype == "bool":
        return repr(bool(v))
    if isinstance(v, float):
        if np.isnan(v):
            text = "np.nan"
        elif np.isinf(v):
            text = "np.inf" if v > 0 else "-np.inf"
        else:
            text = repr(v)
        return f"{np_dtype(dtype)}({text})"
    return f"{np_dtype(dtype)}({v})"


class Lazy:
    """A value not yet computed: its element expression, shape and how to materialise it;
    ``chain``: how many lazy values its expression inlines, itself included."""

    def __init__(self, elem, shape, make, depth, chain=1):
        self.elem, self.shape, self.make, self.depth = elem, shape, make, depth
        self.chain = chain


MAX_CHAIN = 64  # a longer chain of lazy values is materialised (bounded recursion)


class Ctx:
    """The source being written for one generated function."""

    def __init__(self, nodes, clients):
        self.lines = []
        self.depth = 1
        self.names = {}  # id(var) -> local name
        self.lazy = {}  # id(var) -> Lazy
        self.nodes = nodes  # node table shared by everything in this source (errors)
        self.clients = clients  # who reads each variable: symrnn.graph.clients' map
        self.alias = set()  # ids of variables that may share memory with an argument
        self.ndims = {}  # local name -> number of dimensions (prune.py reads views with it)
        self.counter = 0
        # every variable keyed above, held while this source is written: a graph built
        # during emission (a fused scan's final sums) could otherwise die, and a later
        # variable reusing its id would be read under the dead one's name
        self.held = []

    # ---- writing ----

    def line(self, text):
        self.lines.append("    " * self.depth + text)

    @contextmanager
    def block(self, head):
        self.line(head)
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    @contextmanager
    def scope(self):
        """Names defined inside are forgotten on leaving: an inner graph's values live only
        in its loop, and the same inner graph may be emitted again elsewhere in the source
        (a nested scan recomputed inside a gradient's loop), where they must be computed anew."""
        saved = dict(self.names), dict(self.lazy), set(self.alias)
        try:
            yield
        finally:
            self.names, self.lazy, self.alias = saved

    def fresh(self, prefix="t"):
        """A new local name: ``prefix`` and a number (arguments are named x_k, c_k: no clash)."""
        self.counter += 1
        return f"{prefix}{self.counter}"

    def node_id(self, node):
        """The number naming ``node`` in run-time errors."""
        self.nodes.append(node)
        return len(self.nodes) - 1

    def check(self, cond, node, exc="ValueError", *args):
        """Raise ``exc(k, *args)`` at run time when ``cond`` is false."""
        k = self.node_id(node)
        extra = "".join(f", {a}" for a in args)
        with self.block(f"if not ({cond}):"):
            self.line(f"raise {exc}({k}{extra})")

    # ---- variables ----

    def define(self, var, name, alias=False):
        self.held.append(var)
        self.names[id(var)] = name
        if getattr(var.type, "ndim", None) is not None:
            self.ndims.setdefault(name, var.type.ndim)
        if alias:
            self.alias.add(id(var))

    def set_lazy(self, var, elem, shape, make, inputs=()):
        """Leave ``var`` uncomputed; its expression will inline those of its lazy ``inputs``."""
        chain = 1 + max((self.lazy[id(v)].chain for v in inputs if self.is_lazy(v)), default=0)
        self.held.append(var)
        self.lazy[id(var)] = Lazy(elem, shape, make, self.depth, chain)
        return chain <= MAX_CHAIN

    def name(self, var):
        """The local name holding ``var`` (materialising a lazy value here)."""
        key = id(var)
        if key in self.names:
            return self.names[key]
        if isinstance(var, Constant):
            return self.constant(var)
        lz = self.lazy[key]
        name = lz.make(self)
        if self.depth == lz.depth:
            self.names[key] = name
        return name

    def constant(self, c):
        data = np.asarray(c.data)
        if data.ndim == 0:
            return literal(data, c.type.dtype)
        raise KeyError(f"array constant {c} was not passed in")

    def elem(self, var, idx):
        """Expression for the element of ``var`` at ``idx`` (one index per dim)."""
        idx = ["0" if b else i for i, b in zip(idx, var.type.broadcastable)]
        lz = self.lazy.get(id(var))
        if lz is not None and id(var) not in self.names:
            return lz.elem(self, idx)
        if isinstance(var, Constant):
            data = np.asarray(var.data)
            if data.ndim == 0 or data.size == 1:
                return literal(data.reshape(()), var.type.dtype)
        name = self.name(var)
        if var.type.ndim == 0:
            return name
        return f"{name}[{', '.join(idx)}]"

    def shape(self, var, d):
        """Expression for the length of axis ``d`` of ``var``."""
        if var.type.broadcastable[d]:
            return "1"
        lz = self.lazy.get(id(var))
        if lz is not None and id(var) not in self.names:
            return lz.shape[d]
        if isinstance(var, Constant):
            return str(np.shape(var.data)[d])
        return f"{self.name(var)}.shape[{d}]"

    def is_lazy(self, var):
        return id(var) in self.lazy and id(var) not in self.names


def loops(ctx, shape, prefix="i"):
    """Open nested ``for`` loops over ``shape``; return (index names, context manager)."""
    idx = [ctx.fresh(prefix) for _ in shape]

    @contextmanager
    def nest():
        depth = ctx.depth
        for i, n in zip(idx, shape):
            ctx.line(f"for {i} in range({n}):")
            ctx.depth += 1
        try:
            yield
        finally:
            ctx.depth = depth
    return idx, nest()


def copy_into(ctx, dst, lead, src, shape):
    """Emit ``dst[lead..., :] = src`` over ``src``'s ``shape`` (the caller checked shapes).

    numba's own array-to-array assignment drags its shape-mismatch message
    formatting (unicode code, ~5 s of cold compile) into every function, and a loop
    nest costs ~60 ms of compile each: a runtime helper (compiled once, cached) copies.
    """
    if 1 <= len(shape) <= 3:
        view = f"{dst}[{', '.join(lead)}]" if lead else dst
        ctx.line(f"rt.assign{len(shape)}({view}, {src})")
        return
    idx, nest = loops(ctx, shape, "j")
    with nest:
        ctx.line(f"{dst}[{', '.join(list(lead) + idx)}] = {src}[{', '.join(idx) or '()'}]")


def tuple_text(items):
    items = list(items)
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
