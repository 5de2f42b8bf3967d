"""function(): compile a graph, its givens and shared-variable updates into a callable."""
import copy
import importlib
import os
import types
import warnings

import numpy as np

from symrnn.backends import numba_start
from symrnn.compile import cache, fpmode, update_lock
from symrnn.compile.fgraph import FunctionGraph
from symrnn.config import config
from symrnn.graph import Constant, Variable, clone_replace, graph_inputs, user_trace
from symrnn.rewrite import rewrite_graph
from symrnn.shared import SharedVariable
from symrnn.tensor.basic import as_tensor_variable, constant, patternbroadcast
from symrnn.types import is_device_array

BACKENDS = {"NUMPY": "symrnn.backends.numpy", "NUMBA": "symrnn.backends.numba",
            "CUPY": "symrnn.backends.cupy"}
_ALIASES = {"FAST_RUN": "NUMBA", "FAST_COMPILE": "NUMPY", "DEBUGMODE": "NUMPY"}


_MISSING = object()


class MissingInputError(ValueError):
    """The outputs depend on a variable that is neither an input, a shared variable nor given."""


class UnusedInputError(ValueError):
    """An explicit input is not needed to compute any output or update."""


def _pairs(x, what):
    if x is None:
        return []
    items = list(x.items()) if isinstance(x, dict) else list(x)
    for item in items:
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise TypeError(f"function: {what} must be a dict or a list of (variable, "
                            f"expression) pairs, got {item!r}")
    return [tuple(i) for i in items]


def _fit_type(target, value, what, allow_downcast=None):
    """``value`` as a Variable of exactly ``target``'s type, or TypeError."""
    if not isinstance(value, Variable):
        data = target.type.filter(value, allow_downcast=allow_downcast,
                                  what=f"{what} for {target}")
        return constant(data)
    value = as_tensor_variable(value)
    if value.type == target.type:
        return value
    if value.type.dtype != target.type.dtype or value.type.ndim != target.type.ndim:
        hint = (f"use T.cast(expr, '{target.type.dtype}')"
                if value.type.ndim == target.type.ndim else "reshape or dimshuffle it")
        trace = value.owner.trace if value.owner is not None else ""
        raise TypeError(f"function: {what} for {target} must have type {target.type}, got "
                        f"{value.type} ({value}); {hint}."
                        + (f"\n  The expression was built at {trace}" if trace else ""))
    return patternbroadcast(value, target.type.broadcastable)


def _fit_given(target, value, strict):
    """The replacement of ``target`` in ``givens``. As in Theano 1.0 it must have target's
    type (a value is typed as theano.shared types it: float32 data stays float32), except
    for broadcastable flags it fixes; ``rebuild_strict=False`` lets any type through (the
    graph is then rebuilt around it)."""
    if not isinstance(value, Variable):
        data = np.asarray(value)
        if strict and (data.dtype != target.type.dtype or data.ndim != target.type.ndim):
            raise TypeError(f"function: the given for {target} must have type {target.type}, "
                            f"got a {data.dtype} value with {data.ndim} dimensions (shape "
                            f"{data.shape}); convert it first, e.g. "
                            f"np.asarray(value, dtype='{target.type.dtype}')")
        return _fit_type(target, data, "the given") if strict else constant(data)
    return _fit_type(target, value, "the given") if strict else as_tensor_variable(value)


def resolve_mode(mode):
    """The backend name for ``mode`` (None means config.mode)."""
    mode = mode or config.mode
    if not isinstance(mode, str):
        mode = getattr(mode, "name", str(mode))
    mode = _ALIASES.get(mode.upper(), mode.upper())
    if mode not in BACKENDS:
        raise ValueError(f"function: unknown mode {mode!r}; choose one of {sorted(BACKENDS)}")
    return mode


def get_backend(mode):
    """The backend module for ``mode``; NUMBA falls back to NUMPY when numba is missing."""
    mode = resolve_mode(mode)
    try:
        return importlib.import_module(BACKENDS[mode])
    except ImportError as e:
        if mode == "NUMBA":
            warnings.warn(f"symrnn: numba backend unavailable ({e}); using the NumPy backend")
            return importlib.import_module(BACKENDS["NUMPY"])
        raise


def function(inputs, outputs=None, mode=None, updates=None, givens=None,
             no_default_updates=False, name=None, allow_input_downcast=None,
             on_unused_input="raise", rebuild_strict=True, profile=None, accept_inplace=False,
             return_internal_type=False):
    """Compile ``outputs`` as a function of ``inputs``, as Theano's theano.function.

    ``updates`` (dict or pairs: shared variable -> new value expression) are
    applied after every output is computed, all together; a call that raises
    changes no shared variable. ``givens`` (dict or pairs) replace variables of
    the graph by other expressions or values before compiling.
    A shared variable with a ``default_update`` (a random stream's state) that the
    graph reads is updated with it, unless ``updates`` updates it or
    ``no_default_updates`` is True or a list holding it.
    With ``return_internal_type=True`` outputs stay in the backend's own arrays
    (CuPy arrays on the GPU in mode='CUPY') instead of coming back as NumPy.
    """
    _start_compiler(mode)
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"function: inputs must be a list of variables, got {type(inputs)}")
    inputs = list(inputs)
    for i, v in enumerate(inputs):
        if not isinstance(v, Variable):
            raise TypeError(f"function: input {i} is {type(v).__name__}, not a symbolic variable")
        if isinstance(v, SharedVariable):
            raise TypeError(f"function: input {i} ({v}) is a shared variable; shared variables "
                            "are implicit inputs (use givens to replace one)")
        if isinstance(v, Constant):
            raise TypeError(f"function: input {i} ({v}) is a constant, not an input")
    if len(set(map(id, inputs))) != len(inputs):
        raise ValueError("function: the same variable is given twice as an input")
    if on_unused_input not in ("raise", "warn", "ignore"):
        raise ValueError("function: on_unused_input must be 'raise', 'warn' or 'ignore'")

    single = outputs is not None and not isinstance(outputs, (list, tuple))
    out_list = [] if outputs is None else ([outputs] if single else list(outputs))
    out_list = [as_tensor_variable(o) for o in out_list]

    update_pairs = []
    for target, value in _pairs(updates, "updates"):
        if not isinstance(target, SharedVariable):
            raise TypeError(f"function: an update target must be a shared variable, got "
                            f"{target!r}")
        if any(t is target for t, _ in update_pairs):
            raise ValueError(f"function: {target} is updated twice")
        update_pairs.append((target, _fit_type(target, value, "the update")))
    given_pairs = []
    for k, v in _pairs(givens, "givens"):
        if not isinstance(k, Variable):
            raise TypeError(f"function: a givens key must be a symbolic variable, got {k!r}")
        given_pairs.append((k, _fit_given(k, v, rebuild_strict)))
    retyped = any(v.type != k.type for k, v in given_pairs)

    # a private copy of the graph: rewrites may edit it, the user's graph stays as it is
    exprs = out_list + [v for _, v in update_pairs]
    if not isinstance(no_default_updates, (bool, list, tuple)):
        raise TypeError("function: no_default_updates must be a bool or a list of shared "
                        f"variables, got {type(no_default_updates).__name__}")
    if no_default_updates is not True:
        skip = set() if no_default_updates is False else set(map(id, no_default_updates))
        skip |= {id(k) for k, _ in given_pairs}
        exprs, update_pairs = _add_default_updates(exprs, update_pairs, skip)
    # cloned together, a draw and its default update stay one node
    exprs = clone_replace(exprs, dict(given_pairs), copy_inputs=True, rebuild=retyped)
    roots = graph_inputs(exprs, blockers=inputs)
    root_ids = set(map(id, roots))
    input_ids = set(map(id, inputs))
    for v in roots:
        if id(v) in input_ids or isinstance(v, (Constant, SharedVariable)):
            continue
        raise MissingInputError(
            f"function: the outputs depend on {v} ({v.type}), which is not among the inputs "
            f"{inputs} and is not a shared variable; add it to the inputs or to givens.")
    for i, v in enumerate(inputs):
        if id(v) not in root_ids and on_unused_input != "ignore":
            msg = (f"function: input {i} ({v}) is not used to compute the outputs; pass "
                   "on_unused_input='warn' or 'ignore' to allow it")
            if on_unused_input == "raise":
                raise UnusedInputError(msg)
            warnings.warn(msg)
    shared_in = [v for v in roots if isinstance(v, SharedVariable)]
    fgraph = FunctionGraph(inputs + shared_in, exprs)
    mode_name = resolve_mode(mode)
    guard = mode if hasattr(mode, "compile_guarded") else None  # NanGuardMode
    rewrite_graph(fgraph, mode_name, skip=guard.skip_rewrites if guard else ())
    backend = get_backend(mode_name)
    fgraph.label = _label(name)  # progress lines say which function compiles
    thunk = None if guard else backend.compile_graph(fgraph)  # (the guard compiles its own)
    f = Function(inputs, shared_in, [t for t, _ in update_pairs], len(out_list), single,
                 thunk, fgraph, allow_input_downcast, name, mode_name, backend, guard=guard)
    f.return_internal_type = return_internal_type
    f.return_none = outputs is None  # Theano: function(ins, None, updates=...)() is None
    return f


def _start_compiler(mode):
    """Mode NUMBA: start numba's compiler processes now (no waiting), so that their
    start-up overlaps numba's import, the rewrites and code generation here (they compile
    in the background, and a cut graph's pieces in the foreground too)."""
    try:
        if resolve_mode(mode) != "NUMBA":
            return
    except ValueError:  # (function() says why)
        return
    if cache.directory("numba") is not None:  # a worker hands its code over through it
        numba_start.start()


def _label(name):
    """How progress lines name a function: its name, else where function() was called."""
    if name:
        return repr(name)
    where = user_trace().split(": ", 1)[0]
    return f"the function built at {os.path.basename(where)}" if where else "a function"


def _add_default_updates(exprs, update_pairs, skip):
    """Append the ``default_update`` of shared variables used in the graph (random streams),
    except those in ``updates`` and the ids in ``skip`` (no_default_updates)."""
    seen = {id(t) for t, _ in update_pairs} | skip
    extra = []
    for v in graph_inputs(exprs):
        if isinstance(v, SharedVariable) and v.default_update is not None and id(v) not in seen:
            extra.append((v, _fit_type(v, v.default_update, "the default update")))
            seen.add(id(v))
    if not extra:
        return exprs, update_pairs
    return exprs + [u for _, u in extra], update_pairs + extra


class Function:
    """A compiled function: checks and converts inputs, runs, then applies all updates.

    Threads: a function may be called from several threads at once. A call of a function
    that updates shared variables holds a lock from reading the shared values to writing
    the updates, one lock for all the functions that update any of the same variables
    (symrnn/compile/update_lock.py), so no update is lost (1200 increments from 8 threads
    give 1200); calls of functions without updates run concurrently (numba's code releases
    the GIL). ``set_value`` from another thread during a call is not serialised.

    Pickling and ``copy.deepcopy``: the graph (after rewrites), the shared variables (their
    identity kept within one pickle, as Theano does) and the settings are saved; unpickling
    compiles the graph again, which reloads the machine code from the disk cache.
    """

    # rebuilt by _link() after unpickling (functions, modules, locks do not pickle)
    _TRANSIENT = ("thunk", "backend", "_convert", "_prepare", "_run", "_cell", "_constants")

    def __init__(self, inputs, shared_inputs, update_targets, n_outputs, single, thunk, fgraph,
                 allow_input_downcast, name, mode, backend, guard=None):
        self.inputs = inputs
        self.shared_inputs = shared_inputs
        self.update_targets = update_targets
        self.n_outputs, self.single = n_outputs, single
        self.allow_input_downcast = allow_input_downcast
        self.name, self.mode = name or "function", mode
        self.maker = types.SimpleNamespace(fgraph=fgraph, mode=mode, inputs=inputs)
        self._by_name = {v.name: i for i, v in enumerate(inputs) if v.name}
        self.output_storage = None
        self.return_internal_type = False  # True: outputs stay on the backend's device
        self.return_none = False
        # per-call work kept small: messages and backend hooks are looked up once
        self._what = [f"{self.name}: input {i} ({v})" for i, v in enumerate(inputs)]
        # flush-to-zero for the call on the CPU (read now; CuPy's kernels carry -ftz instead)
        self.flush_subnormals = bool(config.flush_subnormals) and mode != "CUPY"
        self.guard = guard  # a NanGuardMode: checks every value the thunk computes
        self._link(thunk, backend)

    def _link(self, thunk=None, backend=None):
        """Set what does not pickle: the backend, the compiled thunk (compiled here if None)."""
        self.backend = backend or get_backend(self.mode)
        if self.guard is not None:
            self.thunk = self.guard.compile_guarded(self.backend, self.maker.fgraph, self.mode,
                                                    len(self.inputs))
        else:
            self.thunk = thunk or self.backend.compile_graph(self.maker.fgraph)
        self._convert = getattr(self.backend, "filter_input", None)  # a GPU backend keeps
        self._prepare = getattr(self.backend, "prepare_shared", _host_value)  # GPU arrays
        self._run = fpmode.scoped(self.thunk) if self.flush_subnormals else self.thunk
        self._cell = update_lock.cell_for(self.update_targets)  # None: no lock needed
        # a constant's array is returned as it is: the caller gets a copy of it
        self._constants = [k for k, v in enumerate(self.maker.fgraph.outputs)
                           if isinstance(v, Constant)]

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k not in self._TRANSIENT}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._link()

    def copy(self, share_memory=False, swap=None, delete_updates=False, name=None,
             profile=None):
        """A separate Function computing the same, as Theano's ``Function.copy``.

        It reads and updates the same shared variables, except those ``swap`` maps (old ->
        new shared variable of the same type); ``delete_updates=True`` drops the updates.
        ``share_memory`` and ``profile`` are accepted for Theano's signature.
        """
        memo = {id(s): s for s in self.shared_inputs + self.update_targets}  # the same...
        for old, new in (swap or {}).items():  # ...but those swapped
            if not isinstance(new, SharedVariable) or new.type != old.type:
                raise TypeError(f"{self.name}.copy: swap maps {old} ({old.type}) to {new!r}, "
                                f"which is not a shared variable of that type")
            memo[id(old)] = new
        state = copy.deepcopy(self.__getstate__(), memo)
        if delete_updates:
            state["update_targets"] = []
            state["maker"].fgraph.outputs = state["maker"].fgraph.outputs[:self.n_outputs]
        state["name"] = name or self.name
        f = Function.__new__(Function)
        f.__setstate__(state)
        return f

    def _convert_inputs(self, args, kwargs):
        n = len(self.inputs)
        if not kwargs and len(args) == n:
            if self._convert is not None:
                return [self._convert(v.type, a, self.allow_input_downcast, w)
                        for v, a, w in zip(self.inputs, args, self._what)]
            return [v.type.filter(a, allow_downcast=self.allow_input_downcast, what=w)
                    for v, a, w in zip(self.inputs, args, self._what)]
        if len(args) > n:
            raise TypeError(f"{self.name}: expected {n} inputs "
                            f"({', '.join(map(str, self.inputs))}), got {len(args)}")
        args = list(args) + [_MISSING] * (n - len(args))
        for key, value in kwargs.items():
            if key not in self._by_name:
                raise TypeError(f"{self.name}: unknown input name {key!r}; inputs are "
                                f"{[str(v) for v in self.inputs]}")
            if args[self._by_name[key]] is not _MISSING:
                raise TypeError(f"{self.name}: input {key!r} given twice")
            args[self._by_name[key]] = value
        missing = [str(v) for v, a in zip(self.inputs, args) if a is _MISSING]
        if missing:
            raise TypeError(f"{self.name}: expected {n} inputs "
                            f"({', '.join(map(str, self.inputs))}), missing {missing}")
        values = []
        convert = getattr(self.backend, "filter_input", None)  # a GPU backend keeps GPU arrays
        for i, (v, a) in enumerate(zip(self.inputs, args)):
            what = f"{self.name}: input {i} ({v})"
            if convert is not None:
                values.append(convert(v.type, a, self.allow_input_downcast, what))
            else:
                values.append(v.type.filter(a, allow_downcast=self.allow_input_downcast,
                                            what=what))
        return values

    def __call__(self, *args, **kwargs):
        """Run on ``args`` (positional, or by input name); thread-safe (see the class)."""
        values = self._convert_inputs(args, kwargs)
        lock = self._cell  # None without updates: those calls need no lock
        if lock is not None:
            while lock.parent is not None:  # merged into another function's cell
                lock = lock.parent
            lock = lock.lock
            lock.acquire()
        try:
            values += [self._prepare(s) for s in self.shared_inputs]
            results = self._run(values)
            if self._constants:  # (a Python number needs no copy)
                results = [r.copy() if k in self._constants and hasattr(r, "copy") else r
                           for k, r in enumerate(results)]
            outs, new_values = results[:self.n_outputs], results[self.n_outputs:]
            given = {id(v) for v in values}
            # all outputs are ready: now apply every update at once
            for target, value in zip(self.update_targets, new_values):
                target.container["value"] = self.backend.fresh(value, given)
        finally:
            if lock is not None:
                lock.release()
        outs = [self.backend.fresh(o, given) for o in outs]
        if not self.return_internal_type:
            outs = [self.backend.to_host(o) for o in outs]
        if self.single:
            return outs[0]
        return None if self.return_none else outs

    @property
    def compiling(self):
        """True while numba compiles this function in the background (calls run on NumPy)."""
        return bool(getattr(self.thunk, "compiling", False))

    def source(self):
        """The generated source of the compiled function, as text.

        Mode NUMBA: the Python source numba compiles (scan loops included); mode CUPY:
        the CUDA kernels; mode NUMPY interprets the graph node by node and generates
        nothing: the text then says so (``symrnn.printing.debugprint(fn)`` shows the graph).
        """
        src = getattr(self.thunk, "source", None)
        if src is None:
            return (f"# mode {self.mode} generates no source: it runs the graph node by node "
                    "with NumPy.\n# See symrnn.printing.debugprint(fn) for the graph, or "
                    "compile with mode='NUMBA' to read generated code.\n")
        return src

    def __repr__(self):
        return f"<symrnn.Function {self.name} ({self.mode}): {len(self.inputs)} inputs>"


def _host_value(shared_variable):
    """A shared variable's value for a CPU backend (a GPU array is copied to the host)."""
    value = shared_variable.container["value"]
    if is_device_array(value):
        return value.get()
    return value
