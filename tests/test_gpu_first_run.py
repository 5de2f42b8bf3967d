"""tools/gpu_first_run.sh, the script for the first lent GPU, passes its dry run on the CPU."""
import os
import shutil
import subprocess
import sys

import pytest

from tests.backends.cupy_on_cpu import installed

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SCRIPT = os.path.join(ROOT, "tools", "gpu_first_run.sh")
STEPS = ["env", "smoke", "gpu_tests", "bench", "suite"]
# the script runs in its own processes: the --cupy-on-cpu pass would repeat the same runs
pytestmark = pytest.mark.skipif(installed(), reason="the same as in the run without "
                                "--cupy-on-cpu (the script starts its own processes)")


@pytest.mark.skipif(shutil.which("g++") is None or shutil.which("timeout") is None,
                    reason="the dry run needs g++ (the CuPy stand-in) and timeout")
def test_dry_run_passes_every_step_and_leaves_its_logs(tmp_path):
    env = dict(os.environ, OUT=str(tmp_path), PYTHON=sys.executable)
    env.pop("SYMRNN_FLAGS", None)
    run = subprocess.run(["bash", SCRIPT, "--dry-run"], env=env, capture_output=True,
                         text=True, timeout=900)
    summary = (tmp_path / "summary.txt").read_text()
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert [line.split()[0] for line in summary.splitlines()] == STEPS
    assert all(" passed " in line for line in summary.splitlines()), summary
    for step in STEPS:
        assert (tmp_path / f"{step}.log").stat().st_size > 0
    assert "smoke test: passed" in (tmp_path / "smoke.log").read_text()
    assert "W3 IndRNN adding problem, T=16" in (tmp_path / "bench.log").read_text()
    assert "cupy backend: usable" in (tmp_path / "env.log").read_text()


def test_a_failing_step_fails_the_run_and_the_time_budget_is_kept(tmp_path):
    for budget, expected in (("400", "FAILED (exit 1)"), ("15", "NOT RUN (time budget spent)")):
        env = dict(os.environ, OUT=str(tmp_path), PYTHON="false", GPU_RUN_SECONDS=budget)
        run = subprocess.run(["bash", SCRIPT, "--dry-run"], env=env, capture_output=True,
                             text=True, timeout=120)
        lines = (tmp_path / "summary.txt").read_text().splitlines()
        assert run.returncode == 1
        assert [line.split()[0] for line in lines] == STEPS
        assert all(expected in line for line in lines[1:]), lines


def test_the_gpu_runs_test_selections_are_not_empty():
    # the real run's two pytest steps select by -k; a renamed test must not empty them
    for expr, least in (("gpu or nvrtc or real_cupy", 30),
                        ("not gpu and not nvrtc and not real_cupy", 50)):
        run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                              "-p", "no:cacheprovider", os.path.join(ROOT, "tests", "backends"),
                              "-k", expr], capture_output=True, text=True, cwd=ROOT)
        selected = [line for line in run.stdout.splitlines() if "::" in line]
        assert len(selected) >= least, (expr, run.stdout[-2000:])
