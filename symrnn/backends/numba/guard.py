"""What a generated source may contain, checked before it is compiled or executed.

Generated code must never carry user text (a variable's or a scan's name, an op's
label) except as escaped data. The translators write only fresh local names and
numbers; this check is the second line: it parses the source and refuses anything
that would run at import time besides the fixed header imports and the definition
of njit functions (no other statement, no default values, no annotations, no
decorator but ``njit`` with constant options), and, inside the functions, imports,
nested definitions, strings (but a few option values and the messages ``print`` is
given, written with ``repr``), private attributes and names that are neither local
nor one of the few globals the translators use. A failed check is an error in
symrnn, never something to run.
"""
import ast

HEADER = ("import numpy as np\nfrom numba import njit\n"
          "from symrnn.backends.numba import runtime as rt\n"
          "from symrnn.backends.numba import rng as rnd\n\n\n")
_HEADER_DUMP = [ast.dump(s) for s in ast.parse(HEADER).body]
_GLOBALS = {"np", "rt", "rnd", "print", "range", "len", "min", "max", "abs", "int", "float", "bool",
            "ValueError", "IndexError", "ZeroDivisionError", "True", "False", "None"}
_STRINGS = {"mergesort"}  # the only string constants a translator writes
_FORBIDDEN = (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal, ast.ClassDef,
              ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.With, ast.AsyncWith,
              ast.Await, ast.Yield, ast.YieldFrom, ast.Try, ast.Delete, ast.JoinedStr,
              ast.NamedExpr)


class UnsafeSource(RuntimeError):
    """A generated source holds something other than the code symrnn writes (a bug)."""


def _refuse(node, why):
    raise UnsafeSource(f"symrnn numba backend: refusing generated source ({why} at line "
                       f"{getattr(node, 'lineno', '?')}); please report this as a bug")


def _check_decorator(fn):
    ok = (len(fn.decorator_list) == 1 and isinstance(fn.decorator_list[0], ast.Call)
          and isinstance(fn.decorator_list[0].func, ast.Name)
          and fn.decorator_list[0].func.id == "njit" and not fn.decorator_list[0].args
          and all(isinstance(k.value, ast.Constant) and k.arg is not None
                  for k in fn.decorator_list[0].keywords))
    if not ok:
        _refuse(fn, "a decorator other than njit(...) with constant options")
    a = fn.args
    if a.defaults or a.kw_defaults or a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs \
            or fn.returns or any(x.annotation for x in a.args):
        _refuse(fn, "defaults, annotations or special arguments")


def _check_body(fn):
    nodes = [n for stmt in fn.body for n in ast.walk(stmt)]
    local = {x.arg for x in fn.args.args}
    local.update(n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    printed = {id(a) for n in nodes if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
               and n.func.id == "print" for a in n.args}  # a Print's message: escaped data
    for node in nodes:
        if isinstance(node, _FORBIDDEN):
            _refuse(node, type(node).__name__)
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)) \
                and node.value not in _STRINGS and id(node) not in printed:
            _refuse(node, f"the string {node.value!r}")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            _refuse(node, f"the private attribute {node.attr!r}")
        if isinstance(node, ast.Name) and node.id not in local and node.id not in _GLOBALS:
            _refuse(node, f"the global name {node.id!r}")


def checked_code(source, filename, cache=True):
    """The code object of ``source`` once checked; ``cache=False`` turns off njit(cache=...)."""
    if not source.startswith(HEADER):
        raise UnsafeSource("symrnn numba backend: a generated source without its header")
    tree = ast.parse(source, filename)
    body = tree.body
    if [ast.dump(s) for s in body[:len(_HEADER_DUMP)]] != _HEADER_DUMP:
        _refuse(body[0] if body else tree, "an unexpected import")
    for fn in body[len(_HEADER_DUMP):]:
        if not isinstance(fn, ast.FunctionDef):
            _refuse(fn, f"a top-level {type(fn).__name__}")
        _check_decorator(fn)
        _check_body(fn)
        if not cache:
            for k in fn.decorator_list[0].keywords:
                if k.arg == "cache":
                    k.value = ast.copy_location(ast.Constant(False), k.value)
    return compile(tree, filename, "exec", dont_inherit=True)
