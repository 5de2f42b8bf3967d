"""NanGuardMode: raise at the first op that produces a NaN, an Inf or a big value (Theano's).

    from symrnn.compile.nanguardmode import NanGuardMode
    f = theano.function([x], y, mode=NanGuardMode(nan_is_error=True, inf_is_error=True,
                                                  big_is_error=True))

``big_is_error``: an absolute value above 1e10. The error (``NanGuardError``, an
AssertionError as in Theano) names the op, its output, and the user's line that built
it; inside a scan also the step and the loop. The inputs of the function (and shared
values, and constants of the graph) are checked too, and named.

Elementwise chains are not fused (``skip_rewrites``), so each op's own result is
checked. On the NumPy backend every node's outputs are checked as the graph runs (scan
steps included). On numba (and CuPy) the function is compiled with every intermediate
value of the graph as an extra output, all checked after the call; when one holds a bad
value, the call is run again by the NumPy reference, node by node, to find the first op
that produced it (inside a scan step, the op and the step). A bad value made and masked
within one scan step (``switch(isnan(a), 0, a)`` in the step) is found on NumPy only.
"""
import threading

import numpy as np

from symrnn.graph import Constant
from symrnn.types import is_device_array

_STATE = threading.local()  # .check: set while a guarded reference run is in progress
BIG = 1e10


class NanGuardError(AssertionError, FloatingPointError):
    """NanGuardMode found a NaN, an Inf or a big value."""


def step_check():
    """The check to apply after each node of a scan step (None when no guard runs)."""
    return getattr(_STATE, "check", None)


class NanGuardMode:
    """A compilation mode that checks every computed value (Theano's ``NanGuardMode``).

    ``nan_is_error``, ``inf_is_error``, ``big_is_error`` (None: True) choose what is an
    error; ``linker`` (or ``mode``) names the backend that runs ('NUMPY', 'NUMBA',
    'CUPY'; None: config.mode). ``optimizer`` is accepted for Theano's signature.
    """

    def __init__(self, nan_is_error=None, inf_is_error=None, big_is_error=None,
                 optimizer="default", linker=None, mode=None):
        self.nan_is_error = True if nan_is_error is None else bool(nan_is_error)
        self.inf_is_error = True if inf_is_error is None else bool(inf_is_error)
        self.big_is_error = True if big_is_error is None else bool(big_is_error)
        if not (self.nan_is_error or self.inf_is_error or self.big_is_error):
            raise ValueError("NanGuardMode: at least one of nan_is_error, inf_is_error and "
                             "big_is_error must be True")
        self.optimizer = optimizer
        backend = mode if mode is not None else linker
        if backend is not None:
            from symrnn.compile.function import resolve_mode
            backend = resolve_mode(backend)
        self.backend = backend

    @property
    def name(self):
        """The backend this mode runs on (what function() compiles for)."""
        from symrnn.config import config
        return self.backend or config.mode

    def __repr__(self):
        return (f"NanGuardMode(nan_is_error={self.nan_is_error}, inf_is_error="
                f"{self.inf_is_error}, big_is_error={self.big_is_error}, linker={self.backend!r})")

    # ---- what is an error ----

    def problem(self, value):
        """'NaN', 'Inf' or 'a big value' if ``value`` holds one that is an error, else None."""
        if not hasattr(value, "dtype"):
            if value is None or isinstance(value, (str, bytes)):
                return None
            value = np.asarray(value)
        if is_device_array(value):
            value = value.get()
        if value.size == 0 or value.dtype.kind not in "iufc":
            return None
        if value.dtype.kind in "fc":
            finite = np.isfinite(value)
            if not finite.all():
                bad = value[~finite]
                if self.nan_is_error and np.isnan(bad).any():
                    return "NaN"
                if self.inf_is_error and np.isinf(bad).any():
                    return "Inf"
                value = value[finite]
                if value.size == 0:
                    return None
        if self.big_is_error and np.abs(value).max() > BIG:
            return "a big value (absolute value above 1e10)"
        return None

    def _raise(self, what, where, trace=""):
        err = NanGuardError(f"NanGuardMode: {what} in {where}"
                            + (f"\n  The node was built at {trace}" if trace else ""))
        err.symrnn_reported = True
        raise err

    def check_node(self, node, outputs, inputs=None):
        """Raise naming ``node`` if one of its ``outputs`` is an error (a fused chain: the
        op of the chain that made it, when its ``inputs`` are given)."""
        for k, value in enumerate(outputs):
            what = self.problem(value)
            if what is not None:
                if inputs is not None and getattr(node.op, "origin", None):
                    self._unfused(node, inputs)
                shape = tuple(np.shape(value))
                self._raise(what, f"output {k} of {node.op} (shape {shape}, "
                            f"{node.outputs[k].type.dtype})", node.trace)

    def _unfused(self, node, inputs):
        """Run the nodes a Composite fused one by one, checking each."""
        values = dict(zip(map(id, node.inputs), inputs))
        for n in node.op.origin:
            args = [values[id(v)] if id(v) in values else np.asarray(v.data) for v in n.inputs]
            outs = n.op.perform(n, args)
            self.check_node(n, outs)
            values[id(n.outputs[0])] = outs[0]

    def check_inputs(self, fgraph, values, n_explicit):
        """Raise naming the function's input (or shared variable) that holds an error."""
        for k, (v, value) in enumerate(zip(fgraph.inputs, values)):
            what = self.problem(value)
            if what is not None:
                where = (f"input {k} ({v}) of the function" if k < n_explicit
                         else f"the value of the shared variable {v}")
                self._raise(what, where)

    # ---- running ----

    def reference_run(self, fgraph, values):
        """Run ``fgraph`` node by node with NumPy, checking every value (scan steps too)."""
        from symrnn.backends.numpy import run_node
        storage = {}
        for node in fgraph.toposort():
            for v in node.inputs:
                if isinstance(v, Constant) and id(v) not in storage:
                    storage[id(v)] = v.data
                    what = self.problem(v.data)
                    if what is not None:
                        self._raise(what, f"a constant read by {node.op}", node.trace)
        storage.update(zip(map(id, fgraph.inputs), values))
        saved = getattr(_STATE, "check", None)
        _STATE.check = self.check_node
        try:
            for node in fgraph.toposort():
                args = [storage[id(v)] for v in node.inputs]
                outs = run_node(node, args)
                self.check_node(node, outs, args)
                storage.update(zip(map(id, node.outputs), outs))
        finally:
            _STATE.check = saved
        return [storage[id(o)] if id(o) in storage else np.array(o.data) for o in fgraph.outputs]

    skip_rewrites = ("fusion",)  # each op's result is checked, not a fused chain's

    def compile_guarded(self, backend, fgraph, mode, n_explicit):
        """A thunk running ``fgraph`` on ``backend`` (``mode``) with every value checked."""
        if mode == "NUMPY":
            def guarded(values):
                self.check_inputs(fgraph, values, n_explicit)
                return self.reference_run(fgraph, values)
            guarded.source = None
            return guarded
        from symrnn.compile.fgraph import FunctionGraph
        outs = list(fgraph.outputs)
        seen = set(map(id, outs)) | set(map(id, fgraph.inputs))
        for node in fgraph.toposort():  # every intermediate value, as an extra output
            for v in node.outputs:
                if id(v) not in seen and getattr(v.type, "dtype", "bool") != "bool":
                    seen.add(id(v))
                    outs.append(v)
        thunk = backend.compile_graph(FunctionGraph(fgraph.inputs, outs))
        n_out = len(fgraph.outputs)

        def guarded(values):
            self.check_inputs(fgraph, values, n_explicit)
            results = thunk(values)
            for k, r in enumerate(results):
                what = self.problem(r)
                if what is not None:  # find the op that made it, on the reference
                    host = [v.get() if is_device_array(v) else v for v in values]
                    self.reference_run(fgraph, host)
                    self._raise(what, f"value {k} of the compiled function ({mode}); "
                                "the NumPy reference found none")
            return list(results[:n_out])
        guarded.source = getattr(thunk, "source", None)
        return guarded
