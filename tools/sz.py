"""Count code lines per module of symrnn (docstrings, comments and blank lines excluded).

    python tools/sz.py          # table of modules, then the totals and the budgets

The budgets keep the core small enough to read in an afternoon (tinygrad's sz.py idea);
tests/test_line_budget.py fails when one is exceeded.
"""
import ast
import io
import os
import sys
import tokenize

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "symrnn")
# budgets on code lines: the core (everything but the backends), single modules; the
# backends' grew from 4000 to 4100 with each compiled piece running on NumPy until it is
# compiled (issue 11: numba/background.py, numba/cut.py's tails), and to 4130 with the
# checks made one (prune.merged_checks) and the compiler processes' start and end, and to
# 4140 with host_memory.py (a first call's huge pages: 0.7 s of W3's first step), and to
# 4240 with numba's import and loading beside function() (numba/loading.py: function()
# 0.23-0.46 s -> 0.02-0.10 s), and to 4260 with equal Scans in pieces of their own (numba/
# cut.py's twins: a 2-layer IndRNN's step compiles 7 sources where it compiled 5, in 15-20%
# less time)
BUDGETS = {"core": 6000, "ops/scan.py": 700, "backends": 4260}


def code_lines(path):
    """Number of lines holding code: no blank lines, comments or docstrings."""
    with open(path, encoding="utf-8") as f:
        src = f.read()
    doc_lines = set()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(
                    getattr(body[0], "value", None), ast.Constant) and isinstance(
                    body[0].value.value, str):
                doc_lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    lines = set()
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                        tokenize.DEDENT, tokenize.ENDMARKER):
            continue
        lines.update(range(tok.start[0], tok.end[0] + 1))
    return len(lines - doc_lines)


def table():
    """{relative module path: code lines} for every .py file under symrnn/."""
    out = {}
    for dirpath, _, files in os.walk(ROOT):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(dirpath, name)
                out[os.path.relpath(path, ROOT).replace(os.sep, "/")] = code_lines(path)
    return out


def totals(t):
    backends = sum(n for p, n in t.items() if p.startswith("backends/"))
    return {"core": sum(t.values()) - backends, "backends": backends,
            "ops/scan.py": t.get("ops/scan.py", 0)}


if __name__ == "__main__":
    t = table()
    for path, n in sorted(t.items(), key=lambda kv: -kv[1]):
        print(f"{n:6d}  {path}")
    tot = totals(t)
    bad = False
    for k, n in tot.items():
        flag = "" if n <= BUDGETS[k] else "   OVER BUDGET"
        bad |= bool(flag)
        print(f"{k}: {n} lines (budget {BUDGETS[k]}){flag}")
    sys.exit(1 if bad else 0)
