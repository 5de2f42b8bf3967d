"""Graph rewrites: small, named, switchable passes over a FunctionGraph.

Each rewrite is registered with a name and tags; ``rewrite_graph`` runs the
ones for a mode in registration order. Switch one off with
``SYMRNN_FLAGS=rewrites=-name`` / ``config.rewrites = "-fusion,-merge"``
(a comma-separated list of names to skip).

A rewrite receives the FunctionGraph and edits it only with its ``replace`` /
``replace_all``; rewrites import the graph and the ops, never a backend or the compiler.
"""
REWRITES = []  # (name, function(fgraph), modes)


def register(name, modes=("NUMPY", "NUMBA", "CUPY")):
    """Decorator registering ``fn(fgraph)`` as the rewrite ``name`` for ``modes``."""
    def deco(fn):
        REWRITES.append((name, fn, tuple(modes)))
        return fn
    return deco


OPTIONS = {"elementwise_scan"}  # switches a backend reads with disabled(), not rewrites


def check_names(text):
    """The names in ``text`` (a config.rewrites value); ValueError for an unknown one."""
    names = {n.strip().lstrip("-") for n in text.split(",") if n.strip()}
    known = {name for name, _, _ in REWRITES} | OPTIONS
    unknown = sorted(names - known)
    if unknown:
        raise ValueError(f"symrnn.config.rewrites: unknown rewrite {unknown[0]!r} in "
                         f"{text!r}; known: {', '.join(sorted(known))}")
    return names


def disabled():
    """The names switched off by config.rewrites (ValueError naming an unknown one)."""
    from symrnn.config import config
    return check_names(config.rewrites)


def rewrite_graph(fgraph, mode, skip=()):
    """Run every enabled rewrite for ``mode`` on ``fgraph`` (in place), but those in ``skip``."""
    off = disabled() | set(skip)
    for name, fn, modes in REWRITES:
        if mode in modes and name not in off:
            fn(fgraph)
    return fgraph


from symrnn.rewrite import basic, scan, scan_hoist, fusion, subtensor  # noqa: E402,F401  (in order)
