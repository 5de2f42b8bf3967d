"""Each stage imports only the stages below it (DESIGN: no stage reaches back)."""
import pathlib
import re

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "symrnn"


def test_ops_and_rewrites_name_no_backend_and_no_compiler():
    """As ``grep -rn "symrnn.backends\\|symrnn.compile" symrnn/ops symrnn/rewrite`` (issue 17):
    not even a docstring points up the stages."""
    found = []
    for folder in ("ops", "rewrite"):
        for path in sorted((PACKAGE / folder).glob("*.py")):
            for k, line in enumerate(path.read_text().splitlines(), 1):
                if re.search(r"symrnn.backends|symrnn.compile", line):
                    found.append(f"{folder}/{path.name}:{k}: {line.strip()}")
    assert not found, "\n".join(found)


def test_the_numpy_backend_does_not_import_the_compiler():
    text = (PACKAGE / "backends" / "numpy.py").read_text()
    assert "from symrnn.compile.function" not in text and "symrnn.compile import function" \
        not in text


def _imported(path):
    """The symrnn modules ``path`` imports (anywhere in it), as dotted names."""
    import ast
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
                base = ".".join(parts[:len(parts) - node.level] + ((base,) if base else ()))
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)
    return {n for n in names if n.startswith("symrnn")}


def test_a_backend_imports_no_other_backend():
    backends = PACKAGE / "backends"
    found = []
    for own, other in (("numba", "cupy"), ("cupy", "numba")):
        for path in sorted((backends / own).glob("*.py")):
            found += [f"{own}/{path.name}: {n}" for n in _imported(path)
                      if n.startswith(f"symrnn.backends.{other}")]
    # what both use (the plan of an elementwise scan) imports neither
    found += [f"scan_plan.py: {n}" for n in _imported(backends / "scan_plan.py")
              if n.startswith(("symrnn.backends.numba", "symrnn.backends.cupy"))]
    assert not found, "\n".join(found)


def test_numba_scan_loops_and_fused_scans_do_not_import_each_other():
    numba = PACKAGE / "backends" / "numba"
    assert not {n for n in _imported(numba / "elementwise_scan.py")
                if n.startswith("symrnn.backends.numba.scan")}


def test_cupy_translations_register_from_the_package_not_from_the_runtime():
    # the runtime is what translations register into: it never imports them; the package
    # face imports them once (on first use: they import CuPy, which is optional)
    cupy = PACKAGE / "backends" / "cupy"
    families = {f"symrnn.backends.cupy.{m}" for m in ("translations", "rng", "scan_runtime")}
    assert not _imported(cupy / "runtime.py") & families
    assert families <= _imported(cupy / "__init__.py")


def test_backends_import_at_module_top():
    import ast
    # deliberate: CuPy is optional and slow to import, so the CuPy package loads it (and its
    # GPU half) on first use; a numba worker's loop names the package importing its module;
    # the numba package imports numba (and its modules that import numba) on first need, so
    # that a background-mode function() returns before numba's import (numba/loading.py)
    allowed = {("cupy/__init__.py", "cupy"), ("cupy/__init__.py", "symrnn.backends.cupy"),
               ("numba/background.py", "symrnn.backends.numba")} | {
        ("numba/__init__.py", m) for m in ("numba", "numba.core.errors", "symrnn.compile",
                                           "symrnn.backends.numba")}
    found = []
    for path in sorted((PACKAGE / "backends").rglob("*.py")):
        rel = path.relative_to(PACKAGE / "backends").as_posix()
        for fn in ast.walk(ast.parse(path.read_text())):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module]
                else:
                    continue
                found += [f"{rel}:{node.lineno}: {n}" for n in names if (rel, n) not in allowed]
    assert not found, "\n".join(found)
