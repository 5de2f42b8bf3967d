"""The core stays small enough to read in an afternoon (tools/sz.py)."""
import importlib.util
import os

spec = importlib.util.spec_from_file_location(
    "sz", os.path.join(os.path.dirname(__file__), "..", "tools", "sz.py"))
sz = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sz)


def test_code_lines_counts_code_only(tmp_path):
    p = tmp_path / "m.py"
    p.write_text('"""doc\nstring"""\n# comment\n\nx = 1\n\ndef f():\n    """doc"""\n    return x\n')
    assert sz.code_lines(str(p)) == 3


def test_line_budgets():
    totals = sz.totals(sz.table())
    for key, limit in sz.BUDGETS.items():
        assert totals[key] <= limit, f"{key}: {totals[key]} code lines > budget {limit}"
