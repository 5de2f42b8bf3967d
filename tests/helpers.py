"""Test helpers: one way to compare every backend with the NumPy reference, and op checks."""
import contextlib
import importlib

import numpy as np

import symrnn
from symrnn.gradient import verify_grad
from symrnn.types import TensorType


def available_modes():
    """The backends that can run here: NUMPY always, NUMBA and CUPY when importable/usable."""
    modes = ["NUMPY"]
    for mode, module in (("NUMBA", "symrnn.backends.numba"), ("CUPY", "symrnn.backends.cupy")):
        try:
            m = importlib.import_module(module)
        except ImportError:
            continue
        if getattr(m, "available", lambda: True)():
            modes.append(mode)
    return modes


MODES = available_modes()
COMPILED_MODES = [m for m in MODES if m != "NUMPY"]


def tolerance(dtype):
    """(rtol, atol) for comparing results of ``dtype`` across backends."""
    if str(dtype) in ("float32", "float16"):
        return 1e-4, 1e-5
    return 1e-7, 1e-10


def assert_close(actual, expected, what=""):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    if actual.dtype.kind in "fc":
        rtol, atol = tolerance(actual.dtype)
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=what)


def symbolic_like(values):
    """Symbolic inputs whose types fit the NumPy ``values``."""
    return [TensorType(str(np.asarray(v).dtype), [False] * np.ndim(v))(f"in{i}")
            for i, v in enumerate(values)]


def compare_backends(inputs, outputs, values, modes=None, updates=None, **kw):
    """Compile on every mode, check each against the NUMPY backend; return the NUMPY result."""
    ref = symrnn.function(inputs, outputs, mode="NUMPY", updates=updates, **kw)(*values)
    for mode in modes or COMPILED_MODES:
        got = symrnn.function(inputs, outputs, mode=mode, updates=updates, **kw)(*values)
        if isinstance(ref, list):
            for k, (g, r) in enumerate(zip(got, ref)):
                assert_close(g, r, f"{mode} output {k}")
        else:
            assert_close(got, ref, f"{mode}")
    return ref


def check_op(fn, values, expected=None, grad=True, modes=None, eps=None, tol=None):
    """Check ``fn`` (symbolic tensors -> tensor) on ``values``.

    The NumPy backend must give ``expected`` (a NumPy function of the values,
    or an array); every compiled backend must agree with it; and when ``grad``,
    the gradient must match finite differences (verify_grad, float64).
    """
    values = [np.asarray(v) for v in values]
    inputs = symbolic_like(values)
    out = fn(*inputs)
    result = compare_backends(inputs, out, values, modes=modes, on_unused_input="ignore")
    if expected is not None:
        exp = expected(*values) if callable(expected) else expected
        exp = np.asarray(exp)
        got = np.asarray(result).dtype
        if exp.dtype != got and exp.dtype.kind == got.kind:
            exp = exp.astype(got)
        assert_close(result, exp, "NUMPY vs expected")
    if grad:
        float_idx = [i for i, v in enumerate(values) if v.dtype.kind == "f"]

        def partial(*floats):
            args = list(inputs)
            for i, f in zip(float_idx, floats):
                args[i] = f
            return fn(*args)
        if float_idx and not any(v.dtype.kind != "f" for v in values):
            verify_grad(fn, [values[i] for i in float_idx], eps=eps,
                        abs_tol=tol, rel_tol=tol)
        elif float_idx:
            _verify_grad_with_fixed(fn, values, float_idx, eps, tol)
    return result


def _verify_grad_with_fixed(fn, values, float_idx, eps, tol):
    """verify_grad over the float inputs, the others held at their values as constants."""
    from symrnn.tensor.basic import constant

    def wrapped(*floats):
        args = [constant(v) for v in values]
        for i, f in zip(float_idx, floats):
            args[i] = f
        return fn(*args)
    verify_grad(wrapped, [values[i] for i in float_idx], eps=eps, abs_tol=tol, rel_tol=tol)


# ---- scans nested 1-3 deep ----

def nest(fn, depth):
    """``fn`` (symbolic tensors -> tensor, usually itself a scan) run ``depth - 1`` scans deep.

    Every input gains ``depth - 1`` leading axes. Each added level scans over them and carries
    a state h that scales the slices passed to the level below (so the inner loop's inputs
    are computed inside the outer loop, as in an RNN of RNNs) and adds up the level's
    results: ``h_t = 0.5 * h_{t-1} + tanh(sum(inner(x_t * (1 + 0.1 * h_{t-1}))))``."""
    if depth <= 1:
        return fn
    inner = nest(fn, depth - 1)

    def nested(*xs):
        from symrnn.tensor import math as T
        from symrnn.tensor.basic import constant
        dtype = next((x.type.dtype for x in xs if x.type.dtype.startswith("float")), "float64")

        def step(*args):
            *slices, h = args
            scale = 1 + h * np.asarray(0.1, dtype)
            moved = [s * scale if s.type.dtype == dtype else s for s in slices]
            y = T.cast(T.tanh(T.sum(inner(*moved))), dtype)
            return h * np.asarray(0.5, dtype) + y
        out, _ = symrnn.scan(step, sequences=list(xs), outputs_info=constant(
            np.zeros((), dtype)))
        return out
    return nested


def nested_values(values, depth, n=2):
    """``values`` with ``depth - 1`` leading axes of length ``n`` (slightly varied copies)."""
    out = [np.asarray(v) for v in values]
    for _ in range(depth - 1):
        out = [np.stack([v if v.dtype.kind != "f" else (v * (1 + 0.05 * k)).astype(v.dtype)
                         for k in range(n)]) for v in out]
    return out


def compare_nested_grads(fn, values, depths=(1, 2, 3), wrt_shared=(), modes=None,
                         verify_depths=(), eps=None, tol=None):
    """``fn``'s value and gradients, nested 1-3 scans deep (``nest``), on every mode.

    For each depth: the cost is the sum of the nested result; its value and its gradients
    with respect to every float input and each shared variable in ``wrt_shared`` must be
    the same on every compiled mode as on NUMPY; at the depths in ``verify_depths`` the
    NUMPY gradient is also checked against finite differences (verify_grad)."""
    from symrnn.tensor import math as T
    for depth in depths:
        vals = nested_values(values, depth)
        inputs = symbolic_like(vals)
        g = nest(fn, depth)
        cost = T.sum(g(*inputs))
        wrt = [x for x in inputs if x.type.dtype.startswith("float")] + list(wrt_shared)
        outs = [cost] + symrnn.grad(cost, wrt, disconnected_inputs="ignore")
        try:
            compare_backends(inputs, outs, vals, modes=modes, on_unused_input="ignore")
        except AssertionError as e:
            raise AssertionError(f"nested {depth} deep (output 0: the cost, then gradients "
                                 f"in input order): {e}") from None
        if depth in verify_depths:
            _verify_grad_with_fixed(g, vals, [i for i, v in enumerate(vals)
                                              if v.dtype.kind == "f"], eps, tol)


@contextlib.contextmanager
def rewrites_set_to(setting):
    """``config.rewrites = setting`` (e.g. '-scan_hoist') inside the block, restored after."""
    old = symrnn.config.rewrites
    symrnn.config.rewrites = setting
    try:
        yield
    finally:
        symrnn.config.rewrites = old


def stop_signal(n, stop_at=None):
    """n zeros with a 1 at ``stop_at``: a step returning ``until(s_t > 0.5)`` stops the loop
    after step ``stop_at`` (None: it runs every step)."""
    s = np.zeros(n)
    if stop_at is not None:
        s[stop_at] = 1.0
    return s
