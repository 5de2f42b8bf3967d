"""backends/host_memory.py: large arrays in small pages, freed memory kept (in a fresh
process each: the settings are process-wide and made once)."""
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORE = np._core if hasattr(np, "_core") else np.core
pytestmark = pytest.mark.skipif(not hasattr(CORE.multiarray, "_set_madvise_hugepage"),
                                reason="this NumPy has no huge-page advice to switch")

PROBE = """
import numpy as np
core = np._core if hasattr(np, "_core") else np.core
before = core.multiarray._set_madvise_hugepage(True)
core.multiarray._set_madvise_hugepage(before)
import symrnn.backends.numpy
print(before, core.multiarray._set_madvise_hugepage(True))
"""


def _advice(env_value=None):
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("NUMPY_MADVISE_HUGEPAGE", None)
    if env_value is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = env_value
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    return out  # NumPy's advice before symrnn's CPU backend, and after


def test_a_cpu_backend_stops_numpys_huge_page_advice():
    assert _advice() == ["True", "False"]


def test_the_users_own_choice_is_kept():
    assert _advice("1") == ["True", "True"]
