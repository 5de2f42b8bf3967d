"""The real CuPy's API, for checking the calls the cupy backend makes on the CPU stand-in.

Where the real CuPy imports (it does without a GPU), each function, method and
kernel the backend calls on the stand-in (cupy_on_cpu.py) must exist in it and
take the same arguments: a call the real CuPy would refuse raises TypeError here,
naming both. Signatures come from ``inspect.signature`` or, for CuPy's compiled
(Cython) functions, from the signature line that starts their docstrings.
Where CuPy is absent nothing is checked.
"""
import ast
import importlib.machinery
import inspect
import re
import sys

_REAL = []  # [module or None], filled once by real_cupy()


def real_cupy():
    """The real ``cupy`` module, imported beside the stand-in, or None where it is absent."""
    if not _REAL:
        _REAL.append(_import_real())
    return _REAL[0]


def _import_real():
    present = sys.modules.get("cupy")
    if present is not None and not getattr(present, "STAND_IN", False):
        return present
    if importlib.machinery.PathFinder.find_spec("cupy") is None:
        return None
    sys.modules.pop("cupy", None)
    try:
        import cupy
        return cupy
    except Exception:  # a CuPy that cannot load (missing CUDA libraries): nothing to check
        return None
    finally:
        if present is not None:
            sys.modules["cupy"] = present


def _params(text):
    """Parameter text of a Cython docstring signature as Python: types dropped."""
    parts, depth, cur = [], 0, ""
    for ch in text.replace("\\*", "*"):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    out = []
    for p in filter(None, (p.strip() for p in parts)):
        m = re.match(r"^[A-Za-z_][\w.]*\s+(\**[A-Za-z_]\w*.*)$", p)  # 'str code' -> 'code'
        out.append(m.group(1) if m else p)
    return ", ".join(out)


def doc_signature(obj):
    """The signature in the first line of ``obj``'s docstring, or None (defaults as None)."""
    line = (getattr(obj, "__doc__", None) or "").strip().split("\n")[0]
    m = re.match(r"^[\w.]+\((.*)\)(\s*->.*)?$", line)
    if not m:
        return None
    try:
        tree = ast.parse(f"def _f({_params(m.group(1))}): pass")
    except SyntaxError:
        return None
    args = tree.body[0].args  # defaults are never evaluated: each becomes None
    args.defaults = [ast.Constant(None) for _ in args.defaults]
    args.kw_defaults = [None if d is None else ast.Constant(None) for d in args.kw_defaults]
    space = {}
    exec(compile(ast.fix_missing_locations(tree), "<cupy docstring signature>", "exec"), space)
    return inspect.signature(space["_f"])


_SIGNATURES = {}


def signature(obj):
    """``obj``'s signature from inspect or its docstring; None when neither says."""
    key = id(obj)
    if key not in _SIGNATURES:
        try:
            sig = inspect.signature(obj)
        except (TypeError, ValueError):
            sig = doc_signature(obj)
        _SIGNATURES[key] = (obj, sig)
    return _SIGNATURES[key][1]


def _where(path):
    real = real_cupy()
    obj = real
    for part in path.split(".")[1:]:
        if not hasattr(obj, part):
            raise AttributeError(f"the stand-in offers {path}, but the real CuPy "
                                 f"{real.__version__} has no such attribute")
        obj = getattr(obj, part)
    return obj


def check_exists(path):
    """AttributeError unless the real CuPy has ``path`` ('cupy.ndarray.astype');
    nothing is checked without it."""
    if real_cupy() is not None:
        _where(path)


def check_call(path, args, kwargs, method=False):
    """TypeError if the real CuPy's ``path`` would refuse these arguments (None: not checked)."""
    if real_cupy() is None:
        return
    sig = signature(_where(path))
    if sig is None:
        return
    try:
        sig.bind(*((None,) if method else ()), *args, **kwargs)
    except TypeError as e:
        shown = ", ".join([type(a).__name__ for a in args] + [f"{k}=" for k in kwargs])
        raise TypeError(f"{path}({shown}): the real CuPy {real_cupy().__version__} would "
                        f"refuse this call: {e} (its signature: {sig})") from None


def construct(path, args, kwargs):
    """Build the real CuPy's ``path`` object (a kernel: its parameters are parsed then)."""
    if real_cupy() is None:
        return None
    try:
        return _where(path)(*args, **kwargs)
    except Exception as e:
        raise TypeError(f"{path}: the real CuPy {real_cupy().__version__} refuses these "
                        f"arguments: {type(e).__name__}: {e}") from None


def nvrtc():
    """CuPy's NVRTC binding, loaded with the real CuPy in place; None where it cannot load."""
    real = real_cupy()
    if real is None:
        return None
    present = sys.modules.get("cupy")
    sys.modules["cupy"] = real  # its loader reads cupy._environment
    try:
        from cupy_backends.cuda.libs import nvrtc as binding
        binding.getVersion()
        return binding
    except Exception:  # CuPy without its NVRTC library
        return None
    finally:
        if present is not None:
            sys.modules["cupy"] = present
