"""Configuration: floatX, the default mode, the compile cache directory.

Values come from defaults, then from the environment variable ``SYMRNN_FLAGS``
(``SYMRNN_FLAGS="floatX=float32,mode=NUMPY"``, like Theano's ``THEANO_FLAGS``),
and may be changed at run time (``symrnn.config.floatX = 'float32'``).
Run ``python -m symrnn.info`` to print the values in force.
``device='cuda'`` makes mode='CUPY' the default while no mode is set (compiling
then needs CuPy and a GPU, and says so when either is missing).
``flush_subnormals`` (default True) makes compiled functions run with flush-to-zero and
denormals-are-zero, as XLA does (symrnn/compile/fpmode.py); False keeps IEEE gradual underflow.
It is read when a function is compiled.
``compile='foreground'`` makes function() wait for numba's compile instead of running
the first calls on NumPy while numba compiles in another process.
"""
import os

_CHOICES = {
    "floatX": ("float64", "float32"),
    "mode": ("NUMBA", "NUMPY", "CUPY", "FAST_RUN", "FAST_COMPILE", "DebugMode"),
    "device": ("cpu", "cuda"),
    "compile": ("background", "foreground"),
}


_BOOLS = ("flush_subnormals",)


def _as_bool(name, value):
    """A boolean setting from True/False or its spelling in SYMRNN_FLAGS ("False", "0")."""
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off"):
        return False
    if isinstance(value, (bool, int)) and value in (0, 1):
        return bool(value)
    raise ValueError(f"symrnn.config.{name} must be True or False, got {value!r}")


def _default_compiledir():
    return os.path.join(os.path.expanduser("~"), ".cache", "symrnn")


def _compiledir(value):
    """An absolute path; empty means the default (never the current directory)."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"symrnn.config.compiledir must be a path, got {type(value).__name__}")
    value = os.fspath(value).strip()
    return os.path.abspath(os.path.expanduser(value)) if value else _default_compiledir()


def _rewrites(value):
    """Comma-separated rewrite names (a leading '-' allowed); checked once rewrites exist."""
    if not isinstance(value, str):
        raise TypeError(f"symrnn.config.rewrites must be a string of comma-separated rewrite "
                        f"names, got {type(value).__name__}")
    import sys
    if "symrnn.rewrite" in sys.modules:  # else checked on first use (rewrite.disabled)
        sys.modules["symrnn.rewrite"].check_names(value)
    return value


_CHECKS = {"compiledir": _compiledir, "rewrites": _rewrites}


def _default_mode():
    import importlib.util  # (found, not imported: numba's import waits until it is needed)
    return "NUMBA" if importlib.util.find_spec("numba") is not None else "NUMPY"


class Config:
    """Holds symrnn's settings; attribute writes are checked against the allowed values."""

    __slots__ = ("_values",)  # no __dict__: monkeypatch.setattr/undo restores values properly

    def __init__(self):
        object.__setattr__(self, "_values", {})
        self._values.update(
            floatX="float64",
            mode=None,  # resolved lazily: NUMBA when numba imports, else NUMPY
            device="cpu",
            compiledir=_default_compiledir(),
            rewrites="",  # comma-separated rewrite names to switch off, e.g. "fusion,merge"
            flush_subnormals=True,  # FTZ+DAZ during each call (symrnn/compile/fpmode.py)
            # background: a function numba has not cached runs on NumPy while numba compiles
            # it in another process; foreground: function() waits for the compile
            compile="background",
        )
        flags = os.environ.get("SYMRNN_FLAGS", "")
        items = [s.strip() for s in flags.split(",")]
        for k, item in enumerate(items):
            if not item:
                continue
            if "=" not in item:
                if any(x.startswith("rewrites=") for x in items[:k]):  # rewrites=a,b
                    name, value = "rewrites", f"{self._values['rewrites']},{item}"
                else:
                    raise ValueError(f"SYMRNN_FLAGS: expected name=value, got {item!r}")
            else:
                name, value = (x.strip() for x in item.split("=", 1))
            try:
                setattr(self, name, value)
            except (AttributeError, TypeError, ValueError) as e:
                raise type(e)(f"SYMRNN_FLAGS={flags!r}: {e}") from None

    def __getattr__(self, name):
        values = object.__getattribute__(self, "_values")
        if name not in values:
            raise AttributeError(f"symrnn.config has no setting {name!r}")
        if name == "mode" and values["mode"] is None:  # follows config.device until set
            return "CUPY" if values["device"] == "cuda" else _default_mode()
        return values[name]

    def __setattr__(self, name, value):
        if name not in self._values:
            raise AttributeError(
                f"symrnn.config has no setting {name!r}; known: {sorted(self._values)}")
        if name in _BOOLS:
            value = _as_bool(name, value)
        if name == "mode" and isinstance(value, str):
            value = value.upper() if value.upper() in _CHOICES["mode"] else value
        if name in _CHOICES and value not in _CHOICES[name]:
            raise ValueError(f"symrnn.config.{name} must be one of {_CHOICES[name]}, got {value!r}")
        if name in _CHECKS:
            value = _CHECKS[name](value)
        self._values[name] = value

    def __repr__(self):
        return "\n".join(f"{k} = {getattr(self, k)!r}" for k in sorted(self._values))


config = Config()
