"""``python -m symrnn.info``: print symrnn's configuration and which backends can run."""
import importlib

from symrnn.config import config


def backends():
    """{mode: 'available' or the reason it is not} for each backend."""
    out = {}
    for mode, module in (("NUMPY", "symrnn.backends.numpy"), ("NUMBA", "symrnn.backends.numba"),
                         ("CUPY", "symrnn.backends.cupy")):
        try:
            m = importlib.import_module(module)
            ok = getattr(m, "available", lambda: True)()
            why = m._probe() if not ok and hasattr(m, "_probe") else "not available here"
            out[mode] = "available" if ok else why
        except ImportError as e:
            out[mode] = f"not available ({e})"
    return out


if __name__ == "__main__":
    print(config)
    for mode, state in backends().items():
        print(f"backend {mode}: {state}")
