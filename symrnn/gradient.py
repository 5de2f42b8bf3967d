"""Reverse-mode differentiation of graphs (grad), finite-difference checks (verify_grad),
jacobian and hessian."""
import warnings

import numpy as np

import symrnn  # symrnn.function, symrnn.scan: later stages, complete when they are called
from symrnn.graph import Variable, op_error, toposort
from symrnn.ops.elemwise import sum_to_broadcastable
from symrnn.ops.gradient_ops import GradientOp
from symrnn.tensor import math as T
from symrnn.tensor.basic import as_tensor_variable
from symrnn.types import TensorType


class DisconnectedInputError(ValueError):
    """grad was asked for an input the cost does not depend on."""


class GradientError(AssertionError):
    """verify_grad found a symbolic gradient that disagrees with finite differences."""


def _connected(cost_vars, wrt, consider_constant):
    """ids of the variables that lie on some path from a ``wrt`` to a cost variable."""
    blockers = set(map(id, consider_constant))
    wrt_ids = set(map(id, wrt))
    depends = {}  # id(var) -> does it depend on some wrt?

    def visit(v):
        stack = [(v, False)]
        while stack:
            var, expanded = stack.pop()
            if id(var) in depends:
                continue
            if id(var) in wrt_ids:
                depends[id(var)] = True
                continue
            if var.owner is None or id(var) in blockers or getattr(
                    var.owner.op, "disconnects", False):
                depends[id(var)] = False
                continue
            if not expanded:
                stack.append((var, True))
                stack.extend((i, False) for i in var.owner.inputs if id(i) not in depends)
            else:
                depends[id(var)] = any(depends[id(i)] for i in var.owner.inputs)
    for c in cost_vars:
        visit(c)
    return depends


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise",
         known_grads=None, return_disconnected="zero", null_gradients="raise"):
    """Symbolic gradient of the scalar ``cost`` with respect to ``wrt``.

    ``wrt`` is a Variable or a list of them (the result has the same form).
    ``consider_constant`` lists variables through which no gradient flows.
    ``known_grads`` maps variables to gradients already known (then ``cost``
    may be None). A ``wrt`` the cost does not depend on raises
    DisconnectedInputError unless ``disconnected_inputs`` is 'warn' or 'ignore'
    (then its gradient is zeros).
    """
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    for w in wrt_list:
        if not isinstance(w, Variable):
            raise TypeError(f"grad: wrt must be symbolic variables, got {type(w).__name__}")
    if disconnected_inputs not in ("raise", "warn", "ignore"):
        raise ValueError("grad: disconnected_inputs must be 'raise', 'warn' or 'ignore'")
    seeds = {}
    if cost is not None:
        cost = as_tensor_variable(cost)
        if cost.type.ndim != 0:
            raise op_error("grad", f"the cost must be a scalar, got {cost.type}; take its sum "
                           "or mean, or pass known_grads", TypeError)
        if not cost.type.dtype.startswith("float"):
            raise op_error("grad", f"the cost must be a float scalar, got {cost.type}")
        seeds[cost] = T.ones_like(cost)
    for v, g in (known_grads or {}).items():
        seeds[v] = as_tensor_variable(g)
    if not seeds:
        raise TypeError("grad: give a cost or known_grads")

    consider_constant = list(consider_constant or [])
    depends = _connected(list(seeds), wrt_list, consider_constant)
    blockers = set(map(id, consider_constant))
    contributions = {id(v): [g] for v, g in seeds.items()}

    def total(v):
        parts = [g for g in contributions.get(id(v), []) if g is not None]
        if not parts:
            return None
        out = parts[0]
        for p in parts[1:]:
            out = out + p
        return out

    nodes = toposort(list(seeds), blockers=consider_constant)
    for node in reversed(nodes):
        if not any(depends.get(id(i), False) for i in node.inputs):
            continue
        if any(id(o) in blockers for o in node.outputs):
            continue
        out_grads = [total(o) for o in node.outputs]
        if all(g is None for g in out_grads):
            continue
        if len(node.outputs) == 1:
            out_grads = [g if g is not None else T.zeros_like(o)
                         for g, o in zip(out_grads, node.outputs)]
        in_grads = node.op.L_op(node.inputs, node.outputs, out_grads)
        if len(in_grads) != len(node.inputs):
            raise op_error(str(node.op), f"grad returned {len(in_grads)} gradients for "
                           f"{len(node.inputs)} inputs", ValueError, node.trace)
        for inp, g in zip(node.inputs, in_grads):
            if g is None or not depends.get(id(inp), False):
                continue
            g = as_tensor_variable(g)
            if g.type.dtype != inp.type.dtype and inp.type.dtype.startswith("float"):
                g = T.cast(g, inp.type.dtype)
            if g.type.ndim != inp.type.ndim:
                raise op_error(str(node.op), f"gradient {g.type} does not match input "
                               f"{inp.type}", ValueError, node.trace)
            contributions.setdefault(id(inp), []).append(g)

    results = []
    for w in wrt_list:
        g = total(w)
        if g is None:
            if not depends.get(id(w), False) and disconnected_inputs == "raise":
                raise DisconnectedInputError(
                    f"grad: the cost does not depend on {w} ({w.type}). Pass "
                    "disconnected_inputs='ignore' (or 'warn') to get zeros instead.")
            if disconnected_inputs == "warn" and not depends.get(id(w), False):
                warnings.warn(f"grad: the cost does not depend on {w}; its gradient is zero")
            dtype = w.type.dtype if w.type.dtype.startswith("float") else None
            g = T.zeros_like(w, dtype=dtype or "float64")
        elif g.type.broadcastable != w.type.broadcastable:
            g = sum_to_broadcastable(g, w.type.broadcastable)
        results.append(g)
    return results[0] if single else results


# ---- checks ----

def numeric_grad(f, pt, eps):
    """Central finite differences of the scalar function ``f`` at the arrays ``pt``."""
    grads = []
    for i, x in enumerate(pt):
        g = np.zeros_like(x, dtype="float64")
        flat, gflat = x.reshape(-1), g.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            plus = f(*pt)
            flat[j] = old - eps
            minus = f(*pt)
            flat[j] = old
            gflat[j] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


def verify_grad(fun, pt, n_tests=2, rng=None, eps=None, abs_tol=None, rel_tol=None,
                mode=None, out_type=None):
    """Check ``fun``'s symbolic gradient against finite differences, as Theano's verify_grad.

    ``fun`` takes symbolic tensors and returns one symbolic output; ``pt`` is a
    list of NumPy arrays (the point). The output is projected onto a random
    direction so that the check covers every output element. Computation is in
    float64. Raises GradientError when the gradients disagree.
    """
    rng = rng if rng is not None else np.random.default_rng(42)

    def uniform(shape):
        if hasattr(rng, "rand"):  # numpy.random.RandomState
            return rng.rand(*shape) if shape else rng.rand()
        return rng.random(shape)
    pt = [np.array(p, dtype="float64") for p in pt]
    eps = eps or 1e-6
    abs_tol = 1e-4 if abs_tol is None else abs_tol
    rel_tol = 1e-4 if rel_tol is None else rel_tol
    inputs = [TensorType("float64", [False] * p.ndim)(f"input{i}") for i, p in enumerate(pt)]
    out = as_tensor_variable(fun(*inputs))
    if out.type.dtype != "float64":
        out = T.cast(out, "float64")
    f_out = symrnn.function(inputs, out, mode=mode, on_unused_input="ignore")
    shape = np.shape(f_out(*pt))
    for _ in range(n_tests):
        proj = np.asarray(uniform(shape)) + 0.5
        proj_c = as_tensor_variable(proj)
        cost = (out * proj_c).sum()
        g_sym = grad(cost, inputs, disconnected_inputs="ignore")
        f_grad = symrnn.function(inputs, g_sym, mode=mode, on_unused_input="ignore")
        f_cost = symrnn.function(inputs, cost, mode=mode, on_unused_input="ignore")
        analytic = f_grad(*pt)
        numeric = numeric_grad(lambda *a: float(f_cost(*a)), [p.copy() for p in pt], eps)
        for i, (a, n) in enumerate(zip(analytic, numeric)):
            err = np.abs(a - n)
            tol = abs_tol + rel_tol * np.abs(n)
            if np.any(err > tol):
                k = int(np.argmax(err - tol))
                raise GradientError(
                    f"verify_grad: gradient of input {i} (shape {pt[i].shape}) disagrees with "
                    f"finite differences: max abs error {err.max():.3g} at flat index {k} "
                    f"(analytic {a.ravel()[k]:.6g}, numeric {n.ravel()[k]:.6g}); "
                    f"abs_tol={abs_tol}, rel_tol={rel_tol}")


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs="raise"):
    """The Jacobian of a vector ``expression`` with respect to ``wrt``, built with scan."""
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    if expression.type.ndim == 0:
        out = grad(expression, wrt_list, consider_constant, disconnected_inputs)
        return out[0] if single else out
    flat = T.flatten(expression)

    def row(i, *ws):
        return grad(flat[i], wrt_list, consider_constant, disconnected_inputs)

    out, _ = symrnn.scan(row, sequences=T.arange(flat.shape[0]), non_sequences=wrt_list,
                         return_list=True)
    return out[0] if single else out


def hessian(cost, wrt, consider_constant=None, disconnected_inputs="raise"):
    """The Hessian of the scalar ``cost`` with respect to ``wrt`` (vectors), built with scan."""
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    out = [jacobian(grad(cost, w, consider_constant, disconnected_inputs), w,
                    consider_constant, disconnected_inputs) for w in wrt_list]
    return out[0] if single else out


# ---- identities that change the gradient (theano.gradient) ----

def zero_grad(x):
    """x, whose gradient is zero (the cost still counts as depending on x)."""
    return GradientOp("zero")(x)


consider_constant = zero_grad


def disconnected_grad(x):
    """x, through which no gradient flows: a cost depending on an input only through it
    is disconnected from that input (grad raises DisconnectedInputError)."""
    return GradientOp("disconnected")(x)


def grad_clip(x, lower_bound, upper_bound):
    """x, whose gradient is clipped elementwise to [lower_bound, upper_bound]."""
    if not lower_bound <= upper_bound:
        raise ValueError(f"grad_clip: lower_bound {lower_bound} > upper_bound {upper_bound}")
    return GradientOp("clip", float(lower_bound), float(upper_bound))(x)


def grad_scale(x, multiplier):
    """x, whose gradient is multiplied by ``multiplier``."""
    return GradientOp("scale", float(multiplier))(x)
