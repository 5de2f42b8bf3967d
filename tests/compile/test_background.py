"""numba compiles in a worker process while NumPy runs the calls; the switch keeps the state."""
import glob
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T

pytest.importorskip("symrnn.backends.numba")
# numba imported: a function() settles at once, its thunk the Switch these tests look into
# (with numba not imported yet it loads in a thread first: test_numba_loading.py)
pytest.importorskip("numba")
from symrnn.backends.numba import background  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def cold(tmp_path, monkeypatch):
    """Background compile into an empty compile cache."""
    if theano.config.mode != "NUMBA":  # (--cupy-on-cpu): the background compile is numba's
        monkeypatch.setattr(theano.config, "mode", "NUMBA")
    monkeypatch.setattr(theano.config, "compile", "background")
    monkeypatch.setattr(theano.config, "compiledir", str(tmp_path))
    return tmp_path


def _train(mode=None, seed=0, name=None, lr=0.1):
    """A small RNN training step: scan, its gradient, updates of float, integer and random
    state.

    Each test uses its own ``lr``: a source compiled once is ready in the whole process."""
    r = np.random.default_rng(seed)
    w = theano.shared(r.normal(0, 0.5, (3, 3)), name="w")
    b = theano.shared(np.zeros(3), name="b")
    k = theano.shared(np.int64(0), name="k")  # state that is not a weight (a stream's counter)
    x = T.matrix("x")
    h, _ = theano.scan(lambda xt, hm, w, b: T.tanh(T.dot(hm, w) + xt + b), sequences=x,
                       outputs_info=T.zeros((3,)), non_sequences=[w, b])
    # a random stream: its state is a shared variable that continues across the switch
    from symrnn.tensor.shared_randomstreams import RandomStreams
    keep = RandomStreams(seed=seed + 7).binomial(size=h[-1].shape, p=0.7)
    loss = (((h[-1] - 0.5) * keep) ** 2).sum() + 0.01 * k
    gw, gb = theano.grad(loss, [w, b])
    f = theano.function([x], [loss, h], mode=mode, name=name,
                        updates=[(w, w - lr * gw), (b, b - lr * gb), (k, k + 1)])
    return f, (w, b, k)


def _wait_compiled(fns, xs, timeout=240):
    """Call each of ``fns`` until none compiles any more; (calls made while compiling)."""
    t, n = time.time(), 0
    while any(f.compiling for f in fns):
        assert time.time() - t < timeout, "the background compile never finished"
        for f, x in zip(fns, xs):
            f(x)
        n += 1
        time.sleep(0.02)
    return n


def test_switch_keeps_shared_state_over_many_calls(cold, monkeypatch, capsys):
    monkeypatch.setattr(background, "NOTICE_S", 0.0)
    f, state = _train(name="train_step")
    ref, ref_state = _train("NUMPY")
    assert f.compiling  # an empty cache: the first calls run on NumPy
    assert "def fn(" in f.source()  # the source is there at once
    xs = np.random.default_rng(1).normal(size=(40, 5, 3)).tolist()
    on_numpy = 0
    for i in range(400):
        x = np.array(xs[i % 40])
        on_numpy += f.compiling
        loss, h = f(x)
        rloss, rh = ref(x)
        np.testing.assert_allclose(loss, rloss, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(h, rh, rtol=1e-9, atol=1e-12)
        for s, r in zip(state, ref_state):
            np.testing.assert_allclose(s.get_value(), r.get_value(), rtol=1e-9, atol=1e-12)
        assert type(loss) is type(rloss) and loss.dtype == rloss.dtype and h.flags.writeable
        if i > 20 and not f.compiling:
            if i > on_numpy + 20:
                break
        elif i > 20:
            time.sleep(0.05)
    assert 0 < on_numpy < i, "both backends ran calls"
    assert state[2].get_value() == i + 1
    err = capsys.readouterr().err  # what is happening is said (at once here: NOTICE_S = 0)
    assert "numba compiles 'train_step' in the background" in err
    assert "'train_step' runs numba's compiled code from now on" in err


def test_a_killed_compiler_means_a_foreground_compile_with_one_warning(cold):
    f, state = _train(lr=0.2)
    ref, ref_state = _train("NUMPY", lr=0.2)
    x = np.ones((4, 3))
    t = time.time()
    while not background.worker_pids():
        assert time.time() - t < 30
        time.sleep(0.01)
    assert f.compiling
    for pid in background.worker_pids():
        os.kill(pid, signal.SIGKILL)
    t = time.time()
    while f.thunk.job.state == "running":
        assert time.time() - t < 30
        time.sleep(0.01)
    with pytest.warns(UserWarning, match="background compile .* failed .*compiler process"):
        out = f(x)
    assert not f.compiling
    np.testing.assert_allclose(out[0], ref(x)[0])
    np.testing.assert_allclose(f(x)[0], ref(x)[0])
    for s, r in zip(state, ref_state):
        np.testing.assert_allclose(s.get_value(), r.get_value())


def test_two_functions_compile_at_once(cold, monkeypatch):
    monkeypatch.setattr(background, "WORKERS", 2)
    f1, s1 = _train(seed=1, lr=0.3)
    f2, s2 = _train(seed=2, name="second", lr=0.4)
    r1, rs1 = _train("NUMPY", seed=1, lr=0.3)
    r2, rs2 = _train("NUMPY", seed=2, lr=0.4)
    x = np.ones((6, 3))
    assert f1.compiling and f2.compiling
    _wait_compiled([f1, f2, r1, r2], [x] * 4)
    for _ in range(3):
        np.testing.assert_allclose(f1(x)[0], r1(x)[0])
        np.testing.assert_allclose(f2(x)[0], r2(x)[0])
    for s, r in zip(s1 + s2, rs1 + rs2):
        np.testing.assert_allclose(s.get_value(), r.get_value())


def test_foreground_setting_compiles_before_function_returns(cold, monkeypatch):
    monkeypatch.setattr(theano.config, "compile", "foreground")
    x = T.vector("x")
    f = theano.function([x], T.exp(x) * 3.25)
    assert not f.compiling
    np.testing.assert_allclose(f(np.ones(2)), np.exp(1) * 3.25)


EXITING = """
import numpy as np, symrnn as theano, symrnn.tensor as T
from symrnn.backends.numba import background
x = T.vector('x')
w = theano.shared(np.float64(0.5), name='w')
s, _ = theano.scan(lambda xt, h, w: T.tanh(xt + h * w), sequences=x,
                   outputs_info=T.constant(0.0), non_sequences=w)
f = theano.function([x], theano.grad(s[-1], w))
print(f.compiling, float(f(np.ones(3))))
# then wait for the worker to start, and exit
import time
while not background.worker_pids():
    time.sleep(0.01)
print(*background.worker_pids())
"""


def _run(code, compiledir, mode="background"):
    env = dict(os.environ, SYMRNN_FLAGS=f"compiledir={compiledir},compile={mode}",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout.split("\n")


def _alive(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return "\nState:\tZ" not in f.read()
    except OSError:
        return False


def test_a_program_exiting_while_its_compiler_runs_leaves_a_whole_cache_entry(tmp_path):
    lines = _run(EXITING, tmp_path)
    compiling, grad = lines[0].split()
    assert compiling == "True"
    t = time.time()
    while any(_alive(int(p)) for p in lines[1].split()):  # it finishes the task it is on
        assert time.time() - t < 240
        time.sleep(0.1)
    cached = tmp_path / "numba" / "__pycache__"
    assert glob.glob(str(cached / "*.nbi")) and not glob.glob(str(cached / "*.tmp.*"))
    # the next program finds it compiled: its loading (numba's import, in a thread) settles
    # on the cached machine code, with nothing left to compile
    settled = "print(getattr(f.thunk.wait(60), 'compiling', False))"
    lines = _run(EXITING.split("# then")[0] + settled, tmp_path)
    grad2, compiling = lines[0].split()[1], lines[1]
    assert compiling == "False"
    assert float(grad2) == pytest.approx(float(grad), rel=1e-12)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: the pieces compile here")
def test_foreground_compiles_the_pieces_of_a_cut_graph_in_parallel(cold, monkeypatch):
    import symrnn.backends.numba as nb
    monkeypatch.setattr(theano.config, "compile", "foreground")
    monkeypatch.setattr(nb, "SPLIT_NODES", 1)  # cut at every Scan
    monkeypatch.setattr(nb, "SPLIT_WEIGHTS", 0)
    monkeypatch.setattr(background, "WORKERS", 2)
    x = T.vector("x")
    w = theano.shared(0.75, name="w")
    a, _ = theano.scan(lambda xt, h, w: T.tanh(xt + h * w), sequences=x,
                       outputs_info=T.constant(0.0), non_sequences=w)
    b, _ = theano.scan(lambda at, h: at * 0.25 + h, sequences=a, outputs_info=T.constant(1.0))
    outs = [b[-1], theano.grad(b[-1], w)]
    f, ref = theano.function([x], outs), theano.function([x], outs, mode="NUMPY")
    assert not f.compiling and f.source().count("def fn(") >= 2
    assert background.worker_pids()  # a piece went to a worker, beside this process
    v = np.linspace(-1, 1, 7)
    for got, want in zip(f(v), ref(v)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


# ---- the compiler process starts early and warms up ----

def _cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _stop_workers():
    """End the running compiler processes (a later one starts afresh)."""
    for pid in background.worker_pids():
        os.kill(pid, signal.SIGKILL)
    t = time.time()
    while background.worker_pids():
        assert time.time() - t < 30
        time.sleep(0.01)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads /proc")
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: no early start")
def test_function_starts_its_compiler_before_the_tasks_and_it_answers_after_its_warm_up(
        cold, monkeypatch):
    _stop_workers()
    seen = []
    submit = background.submit

    def late_submit(tasks, workers=None, on_done=None):  # they arrive once the worker idles
        seen.append(background.worker_pids())
        t, ticks = time.time(), []
        while seen[0] and time.time() - t < 120:
            ticks.append(_cpu_ticks(seen[0][0]))
            if ticks[-3:] == ticks[-1:] * 3:  # warmed up: it waits for its first task
                break
            time.sleep(0.5)
        return submit(tasks, workers, on_done)
    monkeypatch.setattr(background, "submit", late_submit)
    x = T.vector("x")
    w = theano.shared(np.float64(0.625), name="w")
    s, _ = theano.scan(lambda xt, h, w: T.tanh(xt + h * w), sequences=x,
                       outputs_info=T.constant(0.0), non_sequences=w)
    f = theano.function([x], [s, theano.grad(s[-1], w)])
    ref = theano.function([x], [s, theano.grad(s[-1], w)], mode="NUMPY")
    assert seen and seen[0], "a worker was running when the tasks came"
    v = np.linspace(-1, 1, 5)
    _wait_compiled([f], [v])
    assert seen[0][0] in background.worker_pids()  # the same process compiled it
    for got, want in zip(f(v), ref(v)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_the_warm_up_compiles_and_stops_when_a_task_waits(monkeypatch):
    from symrnn.backends.numba import warm
    compiled = []
    real = warm.njit
    monkeypatch.setattr(warm, "njit", lambda **kw: lambda fn: (compiled.append(fn), real(
        **kw)(fn))[1])
    warm.warm_up(lambda: True)
    assert compiled == []
    warm.warm_up(lambda: len(compiled) == 1)
    assert compiled == [warm.PIECES[0][0]]
    compiled.clear()
    warm.warm_up()  # every piece compiles with this numba (a worker would hide a failure)
    assert compiled == [fn for fn, _ in warm.PIECES]


STARTS = """
import sys, numpy as np, symrnn as theano, symrnn.tensor as T
from symrnn.backends import numba_start
spawned = []
spawn = numba_start.spawn
numba_start.spawn = lambda: (spawned.append('numba' in sys.modules), spawn())[1]
x = T.vector('x')
f = theano.function([x], x, mode='NUMBA')
print(len(spawned), any(spawned), *numba_start.pids())
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: no early start")
def test_a_compiler_starts_before_numba_is_imported_and_an_unused_one_ends_with_its_program(
        tmp_path):
    lines = _run(STARTS, tmp_path)
    n, after_numba, *pids = lines[0].split()
    assert int(n) >= 1 and after_numba == "False", lines
    assert len(pids) == int(n)
    t = time.time()
    while any(_alive(int(p)) for p in pids):  # its input closed: it ends
        assert time.time() - t < 120
        time.sleep(0.1)


@pytest.mark.parametrize("compile", ["background", "foreground"])
def test_numpy_no_cache_directory_and_one_core_start_no_compiler(cold, monkeypatch, compile):
    """(the foreground compile of a cut graph uses the compilers too: they start early)"""
    _stop_workers()
    spawned = []

    def spawn():
        spawned.append(1)
        raise ZeroDivisionError
    monkeypatch.setattr(background.numba_start, "spawn", spawn)
    monkeypatch.setattr(theano.config, "compile", compile)
    x = T.vector("x")
    theano.function([x], x, mode="NUMPY")
    (cold / "file").write_text("")
    monkeypatch.setattr(theano.config, "compiledir", str(cold / "file"))
    with pytest.warns(RuntimeWarning, match="not using the compile cache directory"):
        theano.function([x], x, mode="NUMBA")
    monkeypatch.setattr(theano.config, "compiledir", str(cold))
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    theano.function([x], x, mode="NUMBA")  # one core: a process would only compete
    assert spawned == []
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with pytest.raises(ZeroDivisionError):  # (the spy works)
        theano.function([x], x, mode="NUMBA")
    assert spawned == [1]


def test_a_warm_cache_function_does_not_wait_for_its_compiler(cold, monkeypatch):
    x = T.vector("x")
    out = T.exp(x) * 1.875
    monkeypatch.setattr(theano.config, "compile", "foreground")
    theano.function([x], out)  # fills the cache
    monkeypatch.setattr(theano.config, "compile", "background")
    _stop_workers()
    stuck = []

    def never_ready():  # a compiler that never reads its input
        stuck.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        return stuck[-1]
    monkeypatch.setattr(background.numba_start, "spawn", never_ready)
    try:
        t = time.time()
        f = theano.function([x], out)
        assert time.time() - t < 30 and stuck  # started, and not waited for
        assert not f.compiling
        np.testing.assert_allclose(f(np.ones(2)), np.exp(1) * 1.875)
    finally:
        for p in stuck:
            p.kill()
            p.wait()


class _Piece:
    """A stand-in for a compiled piece (a Segment): ``ready()`` takes ``seconds``."""

    def __init__(self, seconds=0.05):
        self.seconds, self.compiled_here = seconds, False

    def ready(self):
        time.sleep(self.seconds)
        self.compiled_here = True


def _slow_switch(monkeypatch, job, pieces=(), numpy_s=0.3):
    """A Switch over ``job`` whose NumPy calls take ``numpy_s``, with no worker busy;
    (switch, the backends that ran each call)."""
    monkeypatch.setattr(background, "_slots", [])
    ran = []
    compiled = lambda v: ran.append("numba") or [v[0] * 2]  # noqa: E731
    compiled.source = ""
    switch = background.Switch(compiled, lambda: None, job, "f", list(pieces))

    def slow(values):
        time.sleep(numpy_s)
        ran.append("numpy")
        return [values[0] * 2]
    monkeypatch.setattr(switch, "_run_while_compiling", slow)
    return switch, ran


def test_a_waiting_call_compiles_the_pieces_no_worker_has_started(monkeypatch):
    """After the first call (on NumPy at once), a call whose compile is due within a few
    NumPy calls compiles the pieces no worker has taken here (numba is loaded: no start-up
    to pay) and then runs the compiled code."""
    piece = _Piece()
    switch, ran = _slow_switch(monkeypatch, background.Job([dict(cost=0.6)]), [piece])
    switch([np.arange(3.0)])
    assert ran == ["numpy"] and not piece.compiled_here
    np.testing.assert_allclose(switch([np.arange(3.0)])[0], [0, 2, 4])
    assert ran == ["numpy", "numba"] and piece.compiled_here


def test_no_call_waits_for_pieces_that_do_not_loop(monkeypatch):
    """A piece that does not loop runs about as fast on NumPy: a call neither waits for it
    nor compiles it here (a worker does), while it does for a looping one."""
    flat, looping = _Piece(), _Piece()
    job = background.Job([dict(cost=0.1, urgent=True), dict(cost=0.1, urgent=False)])
    switch, ran = _slow_switch(monkeypatch, job, [looping, flat], numpy_s=0.2)
    switch([np.arange(3.0)])
    switch([np.arange(3.0)])
    assert looping.compiled_here and not flat.compiled_here
    assert ran == ["numpy", "numpy"] and job.urgent_ended.is_set() and job.state == "running"
    assert background.take(job, urgent=True) is None and background.take(job)[0] == 1
    job.finish_task(cost=0.1, index=1)
    switch([np.arange(3.0)])
    assert ran == ["numpy", "numpy", "numba"] and not switch.compiling


def test_a_call_waits_for_a_worker_due_before_a_numpy_call_would_end(monkeypatch):
    job = background.Job([dict(cost=0.2)])
    assert background.take(job)[0] == 0  # a worker has it
    switch, ran = _slow_switch(monkeypatch, job)
    switch([np.arange(3.0)])
    threading.Timer(0.1, job.finish_task, kwargs={"cost": 0.2, "index": 0}).start()
    t = time.time()
    switch([np.arange(3.0)])
    assert ran == ["numpy", "numba"] and time.time() - t < 1.0


def test_a_call_runs_on_numpy_when_the_compile_is_far(monkeypatch):
    """A compile due long after a few NumPy calls (or, all of it in workers' hands, after
    the NumPy call would end): the call runs on NumPy without waiting."""
    taken = background.Job([dict(cost=2.0)])
    background.take(taken)
    for job in (background.Job([dict(cost=100.0)]), taken):
        switch, ran = _slow_switch(monkeypatch, job, [_Piece()])
        switch([np.arange(3.0)])
        t = time.time()
        switch([np.arange(3.0)])
        assert ran == ["numpy", "numpy"] and time.time() - t < 0.6
        switch.timer.cancel()


def test_a_late_compile_is_waited_for_one_numpy_call_at_most(monkeypatch):
    """The estimate was wrong (the compile is due but not done): each call waits at most one
    NumPy call's time, then runs on NumPy, and the program goes on (W5's calls of 12 ms
    took 200 ms each while its compile was late, when they waited WAIT_CALLS calls)."""
    job = background.Job([dict(cost=0.1)])
    background.take(job)  # a worker has it, and never ends
    switch, ran = _slow_switch(monkeypatch, job, numpy_s=0.1)
    switch([np.arange(3.0)])
    for _ in range(3):
        t = time.time()
        switch([np.arange(3.0)])
        assert 0.2 <= time.time() - t < 0.2 + 0.5
    assert ran == ["numpy"] * 4
    switch.timer.cancel()


def test_a_call_does_not_wait_for_a_piece_no_one_can_compile_by_then(monkeypatch):
    """Due soon by the estimate, but the looping piece left waits for a compiler and is
    longer than this call would wait: the call runs at once (it waited for nothing)."""
    job = background.Job([dict(cost=0.1), dict(cost=1.0)])
    background.take(job)  # a worker has the first
    long_piece = _Piece()
    switch, ran = _slow_switch(monkeypatch, job, [_Piece(), long_piece], numpy_s=0.05)

    class Busy:
        lock = type("Locked", (), {"locked": lambda self: True})()
    monkeypatch.setattr(background, "_slots", [Busy()])
    switch([np.arange(3.0)])
    assert switch._patience(job) >= 0.05 * background.WAIT_CALLS  # due within it
    t = time.time()
    switch([np.arange(3.0)])
    assert time.time() - t < 0.05 * background.WAIT_CALLS / 2
    assert ran == ["numpy", "numpy"] and not long_piece.compiled_here
    switch.timer.cancel()


def test_compiling_here_takes_only_pieces_due_in_time_and_a_failure_fails_the_job(
        monkeypatch):
    monkeypatch.setattr(background, "_tasks", __import__("queue").Queue())  # (no worker)
    big, small = _Piece(), _Piece()
    job = background.Job([dict(cost=50.0), dict(cost=0.2)])
    background.compile_here(job, [big, small], time.perf_counter() + 1.0)
    assert small.compiled_here and not big.compiled_here and job.state == "running"

    class Interrupted:
        def ready(self):
            raise KeyboardInterrupt  # Ctrl-C in a notebook, caught there: the piece goes back
    with pytest.raises(KeyboardInterrupt):
        background.compile_here(job, [Interrupted(), small])
    assert [i for i, _ in job.pending] == [0] and job.state == "running"
    assert background._tasks.get_nowait() is job  # a worker may take it

    class Broken:
        def ready(self):
            raise RuntimeError("numba failed")
    background.compile_here(job, [Broken(), small])
    assert job.state == "failed" and "numba failed" in job.error


def test_calls_from_several_threads_while_it_compiles_and_switches(cold):
    """A function without updates called from 4 threads at once while numba compiles it:
    every call answers right, before, during and after the switch."""
    x = T.vector("x")
    h, _ = theano.scan(lambda xt, hp: T.tanh(hp * 0.6125 + xt), sequences=x,
                       outputs_info=T.constant(0.0))
    f = theano.function([x], [h[-1], T.grad(h[-1], x)])
    v = np.linspace(-1, 1, 9)
    want = theano.function([x], [h[-1], T.grad(h[-1], x)], mode="NUMPY")(v)
    errors, t = [], time.time()

    def calls():
        try:
            while time.time() - t < 240 and (f.compiling or time.time() - t < 1):
                for got, w in zip(f(v), want):
                    np.testing.assert_allclose(got, w, rtol=1e-10)
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(e)
    threads = [threading.Thread(target=calls) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and not f.compiling


def test_numpy_calls_use_one_blas_thread_while_compilers_have_the_other_cores(monkeypatch):
    """OpenBLAS's threads fighting a compiler for a core made W3's first call 4x slower."""
    from contextlib import nullcontext
    asked = []
    monkeypatch.setattr(background.openblas, "one_thread_if_small",
                        lambda n: asked.append(n) or nullcontext())
    compiled = lambda v: [v[0] * 2]  # noqa: E731
    compiled.source = ""
    switch = background.Switch(compiled, lambda: None, background.Job([dict(cost=100.0)]), "f")

    class Busy:
        lock = type("Locked", (), {"locked": lambda self: True})()
    for cores, busy, one_thread in ((2, 1, True), (4, 1, False), (4, 3, True)):
        monkeypatch.setattr(os, "cpu_count", lambda: cores)
        monkeypatch.setattr(background, "_slots", [Busy()] * busy)
        switch._run_while_compiling([np.arange(3.0)])
        assert (asked[-1] == 0) == one_thread
    switch.timer.cancel()
