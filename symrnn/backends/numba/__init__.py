"""The numba backend: a whole graph becomes one generated Python source, compiled by njit.

``compile_graph`` writes one function whose body computes every node in
topological order (translations per op family in the sibling modules, scan
loops included), stores the source in the disk cache (symrnn.compile.cache) and
compiles it for the argument types (numba is imported then, not with this
module: in the background mode a thread imports it and loads the code,
loading.py). An op with no translation runs its NumPy ``perform``; the graph is
then cut into compiled segments joined by those Python calls, with a warning
naming the op. A long graph with several Scans (a deep model's training step) is
also cut, one function per Scan, because LLVM's time grows faster than a
function's length (``_cut_at_scans``).

Run-time checks in the generated code raise ``ValueError(k)`` /
``IndexError(k)`` (k numbers the failing node; checks in a row are one, raising
``ValueError(k1, k2, ...)``: prune.merged_checks); the thunk re-raises them as
errors naming the node and the user's line, with the NumPy backend's message
when it gives one (else the first node of the ones named).
"""
import hashlib
import importlib.util
import os
import re
import threading
import warnings

import numpy as np

if importlib.util.find_spec("numba") is None:  # (numba itself is imported when first needed)
    raise ImportError("No module named 'numba'")
from symrnn.backends import numpy as reference
from symrnn.backends.numba import blas, elemwise, reduction, shape, subtensor  # noqa: F401
from symrnn.backends.numba import background, debug, loading, mrg, nnet, sort  # noqa: F401
from symrnn.backends.numba import cut, guard  # noqa: F401
from symrnn.backends.numba.codegen import Ctx, emit, translatable, tuple_text
from symrnn.backends.numba import prune
from symrnn.backends.numba.scan import nested_nodes
from symrnn.compile import cache
from symrnn.config import config
from symrnn.graph import Constant, clients, op_error
from symrnn.ops import random as R
from symrnn.ops.scan import Scan
from symrnn.shared import SharedVariable

_WARNED = set()
_HEADER = guard.HEADER
_SALT = None


def _salt():
    """Versions the cached machine code depends on (numba, the runtime helpers)."""
    global _SALT
    if _SALT is None:
        digest = hashlib.sha1()
        here = os.path.dirname(os.path.abspath(__file__))
        # the generated sources call into these (read, not imported: numba is not imported
        # yet); prune shapes them; numba's version (its own index checks it too)
        numba_dir = os.path.dirname(importlib.util.find_spec("numba").origin)
        for path in (os.path.join(here, "runtime.py"), os.path.join(here, "rng.py"),
                     R.__file__, prune.__file__, os.path.join(numba_dir, "_version.py")):
            try:
                with open(path, "rb") as f:
                    digest.update(f.read())
            except OSError:  # (a numba without the file: its place stands for it)
                digest.update(path.encode())
        # "sealed-1": the format of the cache files (sealed.py), so that an older
        # symrnn sharing the directory never reads them (nor we its files)
        _SALT = f"sealed-1:{digest.hexdigest()}"
    return _SALT


def to_host(value):
    return value


def fresh(value, given_ids):
    """Compiled outputs never alias the arguments (the source copies those): hand out as is."""
    if id(value) in given_ids:
        return np.array(value)
    return value


# ---- source generation ----

def generate(nodes, inputs, outputs, name="fn", handed_on=()):
    """(source, node table, array constants, positions of the ``inputs`` it takes) of one
    function computing ``outputs``; those in ``handed_on`` (ids: read only by later pieces
    of a cut graph) may share memory with the arguments, the others are copies where they
    would. What the code never reads is not an argument (numba's wrapper would unbox it)."""
    table = []
    ctx = Ctx(table, clients(outputs, inputs))  # (``nodes`` are all that lies between)
    args = []
    for k, v in enumerate(inputs):
        arg = f"x_{k}"  # fresh names (prefix + number) never contain "_"
        args.append(arg)
        if v.type.ndim == 0:
            ctx.line(f"s_x_{k} = {arg}[()]")
            ctx.define(v, f"s_x_{k}")
        else:
            ctx.define(v, arg, alias=True)
    consts, seen = [], set()
    for v in [v for node in nested_nodes(nodes) for v in node.inputs] + list(outputs):
        if isinstance(v, Constant) and np.ndim(v.data) > 0 and id(v) not in seen:
            seen.add(id(v))
            consts.append(v)
            args.append(f"c_{len(consts) - 1}")
            ctx.define(v, args[-1], alias=True)
    for node in nodes:
        emit(node.op, node, ctx)
    rets = []
    for v in outputs:
        ref = ctx.name(v)
        if v.type.ndim == 0:
            ref = f"rt.as0d({ref}, np.{'bool_' if v.type.dtype == 'bool' else v.type.dtype})"
        elif id(v) in ctx.alias and id(v) not in handed_on:
            ref = f"{ref}.copy()"
        rets.append(ref)
    ctx.line(f"return {tuple_text(rets)}")
    # pruning parses the source (~10-40 ms for a training step): a later process reads
    # the result back, so that a warm function() stays fast
    body = cache.remembered(
        "\n".join(ctx.lines) + f"\0{args}\0{sorted(ctx.ndims.items())}",
        lambda _: "\n".join(prune.merged_checks(prune.cached_calls(
            prune.prune(ctx.lines, ctx.ndims, args)))),
        "numba", _salt())
    # no_cfunc_wrapper: Python calls it through its CPython wrapper; the C one was 7% of its code
    used = set(re.findall(r"\b[xc]_\d+\b", body))  # the parameters (x_<k>, c_<k>) it reads
    read, n = [k for k, a in enumerate(args) if a in used], len(inputs)
    head = (f"@njit(cache=True, nogil=True, error_model='numpy', no_cfunc_wrapper=True)\n"
            f"def {name}({', '.join(args[k] for k in read)}):\n")
    return (_HEADER + head + body + "\n", table, [consts[k - n] for k in read if k >= n],
            [k for k in read if k < n])


def signature(arg_types):
    """numba's types of the arguments (dtype, ndim) of a generated ``fn`` (C-contiguous
    arrays). numba is imported here, when first needed, not with this module: a warm
    function() in the background mode returns before it is imported (loading.py)."""
    import numba
    return tuple(numba.types.Array(numba.from_dtype(np.dtype(d)), n, "C") for d, n in arg_types)


def _compile(source, sig):
    """The njit dispatcher of ``source``'s ``fn``, compiled for ``sig`` (disk-cached)."""
    from numba.core.errors import NumbaError

    from symrnn.backends.numba import warm
    warm.prepare()
    fn = _module(source).fn
    try:
        fn.compile(sig)
    except Exception as e:  # noqa: BLE001  (anything but a compile error: a bad cache entry)
        if isinstance(e, NumbaError):
            raise
        cache.forget(source, "numba", _salt())  # a damaged cache entry: rebuild it
        fn = _module(source, fresh=True).fn
        fn.compile(sig)
    return fn


def _module(source, fresh=False):
    """The module of a generated source, its ``fn``'s disk cache sealed (sealed.py)."""
    from symrnn.backends.numba import sealed
    # (its code runs once guard.py found nothing in it but generated code)
    mod = cache.load_module(source, "numba", _salt(), fresh, _checked_code)
    sealed.seal(mod.fn)
    return mod


def _checked_code(source, filename, on_disk):
    """guard.checked_code, its verdict on this very source kept sealed in the compile cache
    (the seal that vouches for the cached machine code vouches for it too): a warm
    function() reads it back in place of checking again (~5 ms a piece)."""
    if on_disk and cache.remembered(source, _verdict, "numba", _salt() + "guard") == "checked":
        return compile(source, filename, "exec", dont_inherit=True)
    return guard.checked_code(source, filename, on_disk)


def _verdict(source):
    guard.checked_code(source, "<generated>")  # (raises UnsafeSource: nothing remembered)
    return "checked"


def load_task(task):
    """The module of a background compile ``task`` (a worker's side; see background.py): the
    stored source is run only if it is what its cache key promises."""
    config.compiledir = os.path.dirname(os.path.dirname(task["path"]))
    source = cache.read_entry(task["path"], _salt())
    if source is None:
        raise RuntimeError(f"the cache entry {task['path']} is damaged")
    return _module(source)


def _load_cached(source, sig):
    """``source``'s ``fn`` for ``sig`` when numba's disk cache has it (or this process
    compiled it), else None; nothing is compiled (numba's Dispatcher.compile, first half)."""
    try:
        path, name = cache.store(source, "numba", _salt())
        if path is None:
            return None  # no usable disk cache: compiled in memory
        fn = _module(source).fn
        if sig in fn.overloads:
            return fn
        from symrnn.backends.numba import runtime
        from symrnn.compile import numba_load
        for name in ("sgemm", "dgemm"):  # their C function's symbol, which the code calls
            if f"rt.{name}(" in source:
                getattr(runtime, name)
        if not os.path.exists(fn._cache._cache_file._index_path):
            return None  # a miss known without starting numba's compiler (about a second)
        return fn if numba_load.load(fn, sig, leaf=True) is not None else None
    except Exception:  # noqa: BLE001  (a damaged entry: the compile rebuilds it)
        return None


def _prep(v, dtype):
    """``v`` as the compiled code's argument type: a writeable C-contiguous ``dtype`` array.

    Called per argument per call: ``flags.carray`` (C-contiguous, aligned, writeable) is one
    flags object where two lookups made two, and a dtype is checked by identity first."""
    if type(v) is np.ndarray and (v.dtype is dtype or v.dtype == dtype) and v.flags.carray:
        return v
    return np.array(v, dtype=dtype, order="C")


class Segment:
    """One compiled function: a run of translatable nodes. Until its machine code is ready
    (``ready()``) a call runs the nodes on NumPy, with the same answers (background.py)."""

    def __init__(self, nodes, inputs, outputs, handed_on=()):
        self.nodes, self.inputs, self.outputs, self.handed_on = nodes, inputs, outputs, handed_on
        self.source, self.table, consts, read = generate(nodes, inputs, outputs, "fn", handed_on)
        self.consts = [np.ascontiguousarray(c.data) for c in consts]
        args = [inputs[k] for k in read] + consts
        self.types = [(v.type.dtype, v.type.ndim) for v in args]
        self.sig = None  # numba's types of them (``ready``: numba is imported then)
        self.dtypes = [(k, np.dtype(inputs[k].type.dtype)) for k in read]  # what fn takes
        # a piece that loops in Python on NumPy (a Scan's steps) runs several times faster
        # compiled; one that does not runs its array operations about as fast either way
        self.loops = any(isinstance(n.op, Scan) for n in nodes)
        self.fn, self._numpy, self._lock = None, None, threading.Lock()

    def ready(self, compile=True):
        """Load the machine code from the disk cache, else compile it (if ``compile``)."""
        with self._lock:  # (a loader thread and a call may both get here)
            if self.fn is None:
                self.sig = self.sig or signature(self.types)
                fn = _load_cached(self.source, self.sig)
                if fn is None and compile:
                    fn = _compile(self.source, self.sig)
                if fn is not None:
                    # the compiled entry point itself: no type dispatch per call
                    self.fn = fn.overloads[self.sig].entry_point
        return self.fn is not None

    def task(self):
        """What a background worker needs to compile this segment."""
        path, name = cache.store(self.source, "numba", _salt())
        # cost: its compile in seconds on one core, roughly (numba 0.68, 2-core AMD EPYC:
        # 0.6 s for 64 lines, 1.4 s for 113, 2.4 s for 187); urgent: worth waiting for
        return dict(path=path, name=name, sig=[list(t) for t in self.types],
                    cost=0.2 + 0.012 * self.source.count("\n"), urgent=self.loops)

    def __call__(self, values):
        fn = self.fn  # (a loader thread may set it meanwhile)
        if fn is None:
            return self._on_numpy(values)
        return fn(*[_prep(values[k], d) for k, d in self.dtypes], *self.consts)

    def _on_numpy(self, values):
        """The outputs computed by NumPy, as the compiled code hands them out: copies, but
        for the values only later pieces read (they never write into them)."""
        if self._numpy is None:
            self._numpy = reference.compile_nodes(self.nodes, self.inputs, self.outputs)
        given = set(map(id, values))
        return [np.asarray(o) if id(v) in self.handed_on else np.array(o) if isinstance(
                    v, Constant) else reference.fresh_array(np.asarray(o), given)
                for v, o in zip(self.outputs, self._numpy(values))]


def _explain(err, fgraph, values, tables):
    """The error to raise for ``err`` out of compiled code."""
    if getattr(err, "symrnn_reported", False):
        return err
    try:
        reference.compile_graph(fgraph)(values)
    except (ValueError, IndexError, TypeError, ZeroDivisionError) as e:
        if getattr(e, "symrnn_reported", False) or type(e) is type(err):
            return e
    k = err.args[0] if err.args and isinstance(err.args[0], int) else None
    for table in tables:
        if k is not None and k < len(table):
            node = table[k]
            return op_error(str(node.op), f"run-time check failed ({type(err).__name__}): "
                            "shapes or indices do not fit", type(err), node.trace)
    return err


def _plan(order, readers, weights=0):
    """Cut ``order`` into runs of translatable nodes and single Python nodes (``readers``:
    the graph's clients map; ``weights``: the size of its largest shared array)."""
    runs = []
    for node in order:
        kind = "jit" if translatable(node) else "py"
        if kind == "jit" and runs and runs[-1][0] == "jit":
            runs[-1][1].append(node)
        else:
            runs.append((kind, [node]))
    return [piece for kind, nodes in runs for piece in
            (_cut_at_scans(nodes, readers, weights) if kind == "jit" else [(kind, nodes)])]


# measured (benchmarks W1-W5, 2-core AMD EPYC, numba 0.68, foreground compile, cold cache):
# a training step of more than 64 nodes with 2 Scans or more compiles in about half the time
# cut (W3 15 -> 9 s, W4 10 -> 6 s, W5 5.6 -> 3.3 s; W1's 52 nodes: 1.7 -> 2.3 s, slower),
# at the same step speed, except for a model with tiny weights (W2, 3 units): its steps of
# ~0.1 ms grow by each piece's call (~15 us, +30%)
SPLIT_NODES = 64  # a run of more nodes than this (inner graphs counted) is cut at its Scans
SPLIT_WEIGHTS = 1024  # ... if the graph has a shared array of this many elements
# equal Scans are pieces of their own (cut._twins) in a graph with a shared array of this many
# elements (a layer of 128 units): each more piece costs a call (~15 us) per run, which a
# 2-layer model of 32 units (indrnn_charlm --quick: 0.45 ms a step) feels, and it compiles
# no faster for it
TWIN_WEIGHTS = 16384


def _cut_at_scans(nodes, readers, weights=0):
    """A long run as several compiled functions, one per Scan (cut.py says which nodes go
    where); a short one (at most SPLIT_NODES nodes, inner graphs counted) stays whole, and
    so does the graph of a model whose largest shared array (``weights``) is small.

    numba's time grows faster than the length of the function it compiles (a 6-layer
    IndRNN's training step as one function of 4,618 lines was still compiling after 16
    minutes), pieces compile in parallel, and pieces with the same source (a deep model's
    layers) compile once. Nothing is copied between pieces, but each costs a Python call
    per run (~15 us), so short graphs and tiny models stay one function."""
    scans = [n for n in nodes if isinstance(n.op, Scan)]
    if len(scans) < 2 or weights < SPLIT_WEIGHTS or len(nested_nodes(nodes)) <= SPLIT_NODES:
        return [("jit", nodes)]
    pieces = cut.at_scans(nodes, readers, _in_background(), weights >= TWIN_WEIGHTS)
    return [("jit", p) for p in pieces]


def _in_background():
    """Whether a missing compile runs in worker processes (config.compile, and a disk cache
    to hand the machine code over through) rather than in function()."""
    return config.compile == "background" and cache.directory("numba") is not None


def compile_graph(fgraph):
    """A thunk running ``fgraph`` as compiled code (segments around untranslatable ops)."""
    order = fgraph.toposort()
    inputs, outputs = list(fgraph.inputs), list(fgraph.outputs)
    weights = max((np.size(v.get_value(borrow=True)) for v in inputs
                   if isinstance(v, SharedVariable)), default=0)
    runs = _plan(order, fgraph.clients(), weights)
    for kind, nodes in runs:
        if kind == "py" and type(nodes[0].op).__name__ not in _WARNED:
            _WARNED.add(type(nodes[0].op).__name__)
            warnings.warn(f"symrnn numba backend: no translation for {nodes[0].op} "
                          f"({type(nodes[0].op).__name__}); it runs in Python between "
                          "compiled segments", stacklevel=3)
    if not order:
        def thunk(values):
            by_id = dict(zip(map(id, inputs), values))
            return [by_id[id(v)] if id(v) in by_id else np.array(v.data) for v in outputs]
        thunk.source = ""
        return thunk
    if len(runs) == 1 and runs[0][0] == "jit":
        seg = Segment(order, inputs, outputs)
        segments, tables = [seg], [seg.table]

        def thunk(values):
            try:
                return list(seg(values))
            except (ValueError, IndexError, ZeroDivisionError) as e:
                raise _explain(e, fgraph, values, tables) from None
        thunk.source = seg.source
    else:
        thunk, segments = _segmented(fgraph, runs, inputs, outputs)
    return _when_compiled(fgraph, thunk, segments)


def _when_compiled(fgraph, thunk, segments):
    """``thunk`` once its segments are compiled: at once when numba's disk cache has them,
    else (in the background: ``_in_background``) each segment runs on NumPy until a worker has
    compiled it, the segments that loop (Scans) first. In the background, where numba is not
    imported yet, all that (numba's import included) happens in a thread while the program
    goes on; its first call waits for it (loading.py)."""
    if _in_background() and not loading.numba_ready():
        return loading.Loading(thunk, lambda: _settled(fgraph, thunk, segments))
    return _settled(fgraph, thunk, segments)


def _settled(fgraph, thunk, segments):
    """``_when_compiled``'s thunk, numba imported here."""
    missing = [s for s in segments if not s.ready(compile=False)]
    if not missing:
        return thunk
    label = getattr(fgraph, "label", None) or "a function"
    groups = {}  # equal pieces (a deep model's layers) compile once
    for s in missing:
        groups.setdefault((s.source, tuple(s.types)), []).append(s)
    in_bg = _in_background()  # (there what loops first; each time the largest first)
    groups = sorted(groups.values(), key=lambda g: (
        in_bg and not g[0].loops, -g[0].source.count("\n")))
    unique = [g[0] for g in groups]

    def load(parallel=False):
        timer = background.notice(f"numba compiles {label} in the foreground ("
                                  f"{len(unique)} piece{'s' * (len(unique) > 1)})")
        try:
            if parallel:  # the pieces of a cut graph, here and in worker processes at once,
                # the largest here, then each taken by whoever is free (a worker starts later)
                job = background.submit([s.task() for s in unique[1:]], (os.cpu_count() or 2) - 1)
                unique[0].ready()
                background.compile_here(job, unique[1:])
                job.ended.wait()
            for s in missing:  # from the disk cache, else compiled here
                s.ready()
        finally:
            timer.cancel()
    if not in_bg:  # (a worker hands its machine code over through the disk cache only)
        load(parallel=len(unique) > 1 and (os.cpu_count() or 1) > 1 and
             cache.directory("numba") is not None)
        return thunk

    def loaded(k):  # a worker compiled group k: its segments run its machine code now
        for s in groups[k]:
            s.ready(compile=False)
    job = background.submit([s.task() for s in unique], on_done=loaded)
    return background.Switch(thunk, load, job, label, unique)


def _segmented(fgraph, runs, inputs, outputs):
    plan = cut.liveness([nodes for kind, nodes in runs], outputs)
    final = set(map(id, outputs))
    steps = []
    for (kind, nodes), (needs, handed, _) in zip(runs, plan):
        if kind == "py":
            steps.append(("py", nodes[0]))
            continue
        seg_in = [v for v in needs if not isinstance(v, Constant)]
        # what only later pieces read is handed on as it is: they never write into it
        steps.append(("jit", Segment(nodes, seg_in, handed,
                                     {id(v) for v in handed if id(v) not in final})))
    tables = [s.table for k, s in steps if k == "jit"]
    from_python = {id(o) for k, s in steps if k == "py" for o in s.outputs}
    drops, held = [], set(map(id, inputs))  # after each step: the values no later step reads
    for (kind, step), (_, _, later) in zip(steps, plan):
        held.update(map(id, step.outputs))
        drops.append(held - later)
        held &= later

    def thunk(values):
        store = dict(zip(map(id, inputs), values))
        try:
            for (kind, step), drop in zip(steps, drops):
                if kind == "py":
                    vals = [store[id(v)] if id(v) in store else v.data for v in step.inputs]
                    store.update(zip(map(id, step.outputs), reference.run_node(step, vals)))
                else:
                    res = step([store[id(v)] for v in step.inputs])
                    store.update(zip(map(id, step.outputs), res))
                for k in drop:  # free what is dead (a deep model's per-layer histories)
                    store.pop(k, None)
        except (ValueError, IndexError, ZeroDivisionError) as e:
            raise _explain(e, fgraph, values, tables) from None
        given = set(map(id, values))
        return [np.array(v.data) if id(v) not in store else
                reference.fresh_array(store[id(v)], given) if id(v) in from_python else store[id(v)]
                for v in outputs]
    thunk.source = "\n\n".join(s.source for k, s in steps if k == "jit")
    return thunk, [s for k, s in steps if k == "jit"]


__all__ = ["compile_graph", "fresh", "to_host", "generate"]
