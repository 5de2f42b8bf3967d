"""Each stage imports only the stages below it (DESIGN: no stage reaches back)."""
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "symrnn"


def test_ops_and_rewrites_name_no_backend_and_no_compiler():
    found = []
    for folder in ("ops", "rewrite"):
        for path in sorted((PACKAGE / folder).glob("*.py")):
            for k, line in enumerate(path.read_text().splitlines(), 1):
                if "symrnn.backends" in line or "symrnn.compile" in line:
                    found.append(f"{folder}/{path.name}:{k}: {line.strip()}")
    assert not found, "\n".join(found)


def test_the_numpy_backend_does_not_import_the_compiler():
    text = (PACKAGE / "backends" / "numpy.py").read_text()
    assert "from symrnn.compile.function" not in text and "symrnn.compile import function" \
        not in text
