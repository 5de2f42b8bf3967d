"""The documentation site builds with warnings as errors (skipped when sphinx is absent).

One build (about 40 s on two cores: it runs the data-free tutorials in --quick mode on
the NumPy backend) checks the API reference, the scan guide, the page for Theano users
and the tutorials gallery with its plots.
"""
import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.skipif(importlib.util.find_spec("sphinx") is None
                    or importlib.util.find_spec("matplotlib") is None,
                    reason="sphinx or matplotlib is not installed (pip install -e '.[docs]')")
def test_the_docs_build_without_warnings(tmp_path):
    out = tmp_path / "html"
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                           "html", "-d", str(tmp_path / "doctrees"), "docs", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    for page in ("index", "api", "scan_guide", "theano_users", "tutorials/index",
                 "tutorials/scan_basics", "tutorials/indrnn_mnist"):
        assert (out / f"{page}.html").exists(), page
    api = (out / "api.html").read_text()
    assert "symrnn.scan" in api and "pydotprint" in api
    basics = (out / "tutorials" / "scan_basics.html").read_text()
    assert "lax.scan" in basics and "truncate_gradient" in basics
    assert "scan_basics_training.png" in basics  # the plots are on the pages
    assert (out / "_images" / "scan_basics_graph.png").exists()
