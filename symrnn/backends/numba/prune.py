"""Lines a generated source does not need (shape checks earlier lines already prove), and
calls numba need not compile again (``cached_calls``).

Each ``if not (A == B): raise ...`` costs numba about 15-20 ms of compile time, and a
translator checks its inputs' lengths without knowing what earlier translators checked
(a training step's source repeats the same equality many times). ``prune`` walks the
finished source once and drops a check whose two sides are already known equal:

- ``n = E`` makes ``n`` and ``E`` equal; an allocation ``a = np.empty((E0, E1), dt)``
  (or np.zeros/np.full) makes ``a.shape[k]`` equal to ``Ek``;
- a view (``v = x[t]``, ``x[a:b]``, ``x[None, :, :]``, ``x.T``) has its lengths from
  ``x``'s: ``v.shape[k]`` is read as the matching ``x.shape[j]``;
- a check that stays makes its two sides equal for the lines after it.

Only names bound once in the whole source take part (a scan's carries, rebound every
step, never do), and only expressions built from such names, constants, lengths and
arithmetic. What a loop or ``if`` body learns is forgotten after it (the body may not
run). So a dropped check is one that the same run has just passed.
"""
import ast
import re
from collections import Counter

_ALLOC = {"empty", "zeros", "full"}
_PURE_CALLS = {"np.int64", "np.intp", "min", "max", "len"}
_NAME = re.compile(r"[A-Za-z_]\w*")


def prune(lines, ndims, params=()):
    """``lines`` (a generated function's body) without the shape checks earlier lines prove.

    ``ndims``: local name -> number of dimensions, for the names whose views (``.T``,
    negative axes) need it; ``params``: the function's parameters (bound on entry)."""
    text = "\n".join(lines)
    if "\n" in "".join(lines) or ":=" in text or "lambda" in text:
        return lines  # names bound inside expressions: not followed here
    try:
        body = ast.parse("def f():\n" + text).body[0].body
    except SyntaxError:
        return lines
    drop = _Walk(body, lines, ndims, params).drop
    return [line for k, line in enumerate(lines, start=2) if k not in drop]


_CALLS = [(re.compile(r"\bnp\.(empty|zeros|full)\("), r"rt.\1("),
          (re.compile(r"(?<![\w.\])])([A-Za-z_]\w*)\.astype\("), r"rt.astype(\1, "),
          (re.compile(r"\bnp\.ascontiguousarray\(([A-Za-z_]\w*)\)\.reshape\("),
           r"rt.reshaped(\1, "),
          (re.compile(r"\bnp\.ascontiguousarray\(([A-Za-z_]\w*)\)\.copy\(\)"), r"rt.copied(\1)")]


def cached_calls(lines):
    """``lines`` with NumPy's allocations (np.empty, np.zeros, np.full, astype, a reshaped
    copy) called through runtime.py's helpers, which numba loads from its cache instead of
    compiling their implementations in every process. Lines holding a string (a printed
    message) are left as they are."""
    return [line if "'" in line or '"' in line else _rewritten(line) for line in lines]


_CHECK = re.compile(r"(\s*)if not \((.*)\):$")
_RAISE = re.compile(r"(\s*)raise (ValueError|IndexError)\((\d+)\)$")  # (ctx.check's, no args)


def merged_checks(lines):
    """``lines`` with each run of consecutive checks (``if not (c): raise E(k)``, the same
    ``E``) made one: ``if not ((c1) & (c2) ...): raise E(k1, k2, ...)``. Each ``if`` cost
    numba ~15 ms (a block, a raise site); the conditions (comparisons of lengths and
    indices, read before them) are all evaluated, which is safe since no condition reads
    what the check before it guards (a line between them would). W3's backward piece
    compiled in 0.64-0.78 s instead of 0.79-0.90 s (12 checks in 3 runs). The error
    then names the first check's node when NumPy's run does not say more (``_explain``)."""
    out, run, k = [], [], 0
    while k < len(lines):
        c = _CHECK.fullmatch(lines[k])
        r = c and k + 1 < len(lines) and _RAISE.fullmatch(lines[k + 1])
        if r and r.group(1) == c.group(1) + "    ":
            if run and run[0][:2] != (c.group(1), r.group(2)):
                _flush(out, run)
            run.append((c.group(1), r.group(2), c.group(2), r.group(3)))
            k += 2
        else:
            _flush(out, run)
            out.append(lines[k])
            k += 1
    _flush(out, run)
    return out


def _flush(out, run):
    """Append the checks in ``run`` to ``out`` as one (and empty ``run``)."""
    if run:
        indent, exc, cond, _ = run[0]
        cond = cond if len(run) == 1 else " & ".join(f"({c})" for _, _, c, _ in run)
        ks = ", ".join(k for *_, k in run)
        out += [f"{indent}if not ({cond}):", f"{indent}    raise {exc}({ks})"]
        run.clear()


def _rewritten(line):
    for pattern, repl in _CALLS:
        line = pattern.sub(repl, line)
    return line


def _statements(body):
    """Every statement in ``body``, nested ones included, in source order."""
    for st in body:
        yield st
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(st, field, None)
            if inner:
                yield from _statements(inner)


def _bound(st):
    """The names statement ``st`` binds."""
    if isinstance(st, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.With,
                       ast.Try, ast.Global, ast.Nonlocal, ast.Delete)):
        return None  # not generated: give up on the whole source
    targets = st.targets if isinstance(st, ast.Assign) else [st.target] if isinstance(
        st, (ast.AugAssign, ast.AnnAssign, ast.For)) else []
    return [n.id for t in targets for n in ast.walk(t)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]


def _axis(e):
    """The int constant ``e`` (``-1`` is a minus applied to 1), else None."""
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
        k = _axis(e.operand)
        return None if k is None else -k
    return e.value if isinstance(e, ast.Constant) and type(e.value) is int else None


class _Walk:
    def __init__(self, body, lines, ndims, params):
        self.ndims, self.views, self.drop, self.ints = dict(ndims), {}, set(), set()
        bound, first_bound = Counter(params), {}
        for st in _statements(body):
            names = _bound(st)
            if names is None:
                return
            bound.update(names)
            for name in names:
                first_bound.setdefault(name, st.lineno)
        # (a name inside a string counts too: that only keeps more checks)
        first_seen = {name: k for k, line in reversed(list(enumerate(lines, start=2)))
                      for name in _NAME.findall(line)}
        read_early = {n for n, k in first_bound.items() if first_seen.get(n, k) < k}
        self.once = {n for n, count in bound.items() if count == 1 and n not in read_early}
        self.rebound = {n for n, count in bound.items() if count > 1 or n in read_early}
        # a scan's carries: rebound every step, but perhaps always to arrays of the lengths
        # of the first value. Assume it, check it where each is rebound, and walk again
        # without those it failed for (an induction over the steps)
        plain = Counter(t.id for st in _statements(body) if isinstance(st, ast.Assign)
                        for t in st.targets if isinstance(t, ast.Name) and
                        isinstance(st.value, ast.Name))
        self.first = first_bound
        self.fixed = {n for n in self.rebound if n not in read_early and n not in params and
                      plain[n] == bound[n]}
        while True:
            self.views, self.drop, self.ints, self.broken = {}, set(), set(), set()
            self.ndims = dict(ndims)
            self.block(body, {})
            if not self.broken:
                break
            self.fixed -= self.broken

    # ---- which expressions take part ----

    def pure(self, e, leaf=None):
        """Built from names bound once (or arguments), int constants, lengths, arithmetic
        (with ``leaf``: from the names it accepts)."""
        leaf = leaf or (lambda name: name not in self.rebound)
        if isinstance(e, ast.Name):
            return leaf(e.id)
        if isinstance(e, ast.Constant):
            return type(e.value) is int
        if isinstance(e, ast.Subscript):  # only lengths: array elements may be written
            return self.is_length(e) and self.known_lengths(e.value.value)
        if isinstance(e, (ast.BinOp, ast.UnaryOp, ast.IfExp)):
            ok = isinstance(getattr(e, "op", None), (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv,
                                                     ast.USub, type(None)))
            parts = [e.body, e.orelse] if isinstance(e, ast.IfExp) else [
                x for x in ast.iter_child_nodes(e) if isinstance(x, ast.expr)]
            return ok and all(self.pure(x, leaf) for x in parts)
        if isinstance(e, ast.Call):
            return ast.unparse(e.func) in _PURE_CALLS and not e.keywords and \
                all(self.pure(a, leaf) for a in e.args)
        return False

    def is_int(self, e):
        """An integer scalar: an index into an array drops that axis."""
        return self.pure(e, self.ints.__contains__)

    def known_lengths(self, name):
        """Are the lengths of the array named by ``name`` (a Name node) the same wherever
        it is read? (bound once, or a carry whose every value has its first one's lengths)"""
        return self.pure(name) or name.id in self.fixed

    def carry(self, st, facts):
        """``car = value`` for a carry: its first binding gives its lengths; every later
        one must be proven to keep them, else the carry is dropped from ``fixed``."""
        name, value = st.targets[0].id, st.value
        n = self.ndims.get(name)
        if not self.known_lengths(value) or n is None:
            self.broken.add(name)
        elif st.lineno == self.first[name]:
            self.same_lengths(name, value.id)
        elif any(self.find(facts, self.length(name, k)) !=
                 self.find(facts, self.length(value.id, k)) for k in range(n)):
            self.broken.add(name)

    @staticmethod
    def is_length(e):
        """``name.shape[k]`` with a constant ``k``."""
        return (isinstance(e, ast.Subscript) and isinstance(e.value, ast.Attribute) and
                e.value.attr == "shape" and isinstance(e.value.value, ast.Name) and
                _axis(e.slice) is not None)

    def key(self, e):
        """A text naming the value of ``e``: lengths of views read through to their base."""
        if self.is_length(e):
            return self.length(e.value.value.id, _axis(e.slice))
        if isinstance(e, ast.Call) and ast.unparse(e.func) in ("np.int64", "np.intp") and \
                len(e.args) == 1 and not e.keywords and self.is_int(e.args[0]):
            return self.key(e.args[0])  # an integer (a length, an index) is an int64 already
        return ast.unparse(e)

    def length(self, name, k):
        """The key of ``name.shape[k]``."""
        n = self.ndims.get(name)
        if k < 0 and n is not None:
            k += n
        rule = self.views.get(name)
        if rule is not None and k >= 0:
            base, axes, rest = rule
            if k < len(axes):
                return axes[k] if isinstance(axes[k], str) else self.length(base, axes[k])
            if rest is not None:
                return self.length(base, rest + k - len(axes))
        return f"{name}.shape[{k}]"

    # ---- facts: a union-find over keys, copied into each block ----

    @staticmethod
    def find(facts, k):
        while k in facts:
            k = facts[k]
        return k

    def union(self, facts, a, b):
        a, b = self.find(facts, a), self.find(facts, b)
        if a != b:
            facts[max(a, b)] = min(a, b)

    def block(self, body, facts):
        for st in body:
            if isinstance(st, ast.If) and self.is_check(st):
                self.check(st, facts)
            elif isinstance(st, ast.Assign) and len(st.targets) == 1 and \
                    isinstance(st.targets[0], ast.Name) and st.targets[0].id in self.fixed:
                self.carry(st, facts)
            elif isinstance(st, ast.Assign):
                if len(st.targets) == 1 and isinstance(st.targets[0], ast.Name) and \
                        st.targets[0].id in self.once:
                    self.learn(st.targets[0].id, st.value, facts)
            elif isinstance(st, ast.For):
                self.loop(st, facts)
            else:
                for field in ("body", "orelse", "finalbody"):
                    inner = getattr(st, field, None)
                    if inner:
                        self.block(inner, dict(facts))

    def check(self, st, facts):
        """``if not (c1 and c2 ...): raise``: drop it when its conditions are equalities
        already proven; learn them (and ``n > 0``) in order."""
        parts = getattr(st.test.operand, "values", [st.test.operand])  # (a BoolOp's)
        keep = []
        for c in parts:
            if not (isinstance(c, ast.Compare) and len(c.ops) == 1 and
                    self.pure(c.left) and self.pure(c.comparators[0])):
                keep.append(c)
                continue
            a, b = self.key(c.left), self.key(c.comparators[0])
            if isinstance(c.ops[0], ast.Gt) and b == "0":  # n > 0: a loop over range(n) runs
                facts[("runs", a)] = True
            if not isinstance(c.ops[0], ast.Eq) or self.find(facts, a) != self.find(facts, b):
                keep.append(c)
            if isinstance(c.ops[0], ast.Eq):
                self.union(facts, a, b)
        if not keep:
            self.drop.update(range(st.lineno, st.end_lineno + 1))

    def loop(self, st, facts):
        """Walk a ``for`` body; when ``range(n)`` surely runs (n > 0 was checked) and nothing
        leaves the body early, what its first lines proved about values from before the
        loop holds after it (the first step checked it)."""
        ranged = isinstance(st.iter, ast.Call) and ast.unparse(st.iter.func) == "range"
        if ranged and isinstance(st.target, ast.Name) and st.target.id in self.once:
            self.ints.add(st.target.id)
        inner = dict(facts)
        self.block(st.body, inner)
        n = st.iter.args[0] if ranged and len(st.iter.args) == 1 else None
        if st.orelse or n is None or not self.pure(n) or not facts.get(("runs", self.key(n))) \
                or any(isinstance(x, (ast.Break, ast.Continue, ast.Return)) for x in
                       _statements(st.body)):
            return
        local = {name for n in _statements([st]) for name in _bound(n) or ()}
        groups = {}
        for k in [k for k in inner if isinstance(k, str)] + list(set(inner.values())):
            if isinstance(k, str) and not local.intersection(_NAME.findall(k)):
                groups.setdefault(self.find(inner, k), []).append(k)
        for keys in groups.values():
            for a, b in zip(keys, keys[1:]):
                self.union(facts, a, b)

    @staticmethod
    def is_check(st):
        t = st.test
        return (len(st.body) == 1 and isinstance(st.body[0], ast.Raise) and not st.orelse and
                isinstance(t, ast.UnaryOp) and isinstance(t.op, ast.Not) and
                (isinstance(t.operand, ast.Compare) or
                 isinstance(t.operand, ast.BoolOp) and isinstance(t.operand.op, ast.And)))

    def learn(self, name, value, facts):
        """What ``name = value`` tells: an equal value, an array's lengths or a view's."""
        if self.is_int(value):
            self.ints.add(name)
        if isinstance(value, ast.Name) and self.pure(value):
            self.same_lengths(name, value.id)  # the same array (or scalar)
        if self.pure(value):
            self.union(facts, name, self.key(value))
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and \
                ast.unparse(value.func.value) == "np" and value.func.attr in _ALLOC and \
                value.args and not any(k.arg == "shape" for k in value.keywords):
            shape = value.args[0]
            if isinstance(shape, ast.Attribute) and shape.attr == "shape" and \
                    isinstance(shape.value, ast.Name) and self.known_lengths(shape.value):
                self.same_lengths(name, shape.value.id)
                return
            dims = shape.elts if isinstance(shape, ast.Tuple) else [shape]
            self.ndims.setdefault(name, len(dims))
            for k, d in enumerate(dims):
                if self.pure(d):
                    self.union(facts, f"{name}.shape[{k}]", self.key(d))
        elif isinstance(value, ast.Subscript):
            self.view(name, value)
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and \
                value.func.attr in ("astype", "copy") and isinstance(value.func.value, ast.Name) \
                and self.pure(value.func.value):
            self.same_lengths(name, value.func.value.id)

    def same_lengths(self, name, src):
        self.views[name] = (src, [], 0)
        self.ndims.setdefault(name, self.ndims.get(src))

    def view(self, name, value):
        """Record how the lengths of ``name = base[...]`` follow from ``base``'s."""
        base, order = value.value, None
        if isinstance(base, ast.Attribute) and base.attr == "T":
            base = base.value
            if not isinstance(base, ast.Name) or self.ndims.get(base.id) is None:
                return
            order = list(range(self.ndims[base.id] - 1, -1, -1))  # .T reverses the axes
        if not isinstance(base, ast.Name) or not self.known_lengths(base):
            return
        entries = value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]
        axes, j = [], 0  # each axis of the view: an axis of base (int) or a key (str)
        for e in entries:
            if isinstance(e, ast.Constant) and e.value is None:
                axes.append("1")
            elif isinstance(e, ast.Slice):
                whole = e.lower is None and e.upper is None and \
                    (e.step is None or _axis(e.step) == -1)
                axes.append(j if whole else f"{name}.shape[{len(axes)}]")
                j += 1
            elif self.is_int(e):
                j += 1  # an integer index drops the axis
            else:
                return  # an array index, an ellipsis: lengths unknown here
        if order is not None:
            if j != len(order):
                return
            axes = [order[a] if isinstance(a, int) else a for a in axes]
        self.views[name] = (base.id, axes, None if order is not None else j)
        n = self.ndims.get(base.id)
        if n is not None and n >= j:
            self.ndims.setdefault(name, len(axes) + n - j)
