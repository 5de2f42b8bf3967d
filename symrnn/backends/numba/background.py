"""Compiling beside the running program: numba compiles in worker processes.

While a function's generated sources (one per piece of a cut graph, numba/cut.py) compile
in a worker, each piece runs on the NumPy backend (``Switch``, Segment); as soon as a
worker is done with a piece, a loader thread loads its machine code from numba's disk
cache and the next calls run it. Pieces hand each other whole values, and a call reads
and writes the shared variables' values whole, so a piece may switch between any two
calls (or pieces) and the state continues as if one backend had run them all. The pieces
that loop (Scans) compile first: they run 3-15x faster compiled, while the others (a
loss, its gradient, the updates) run their array operations about as fast on NumPy.
After the first call, a call waits for the looping pieces instead when they are due within
a few calls' time (``Switch._patience``), and compiles meanwhile, in this process,
those no worker has started (``compile_here``): on a small machine NumPy's calls slowed
the compile more than they gained, and this process, numba loaded, is a compiler with no
start-up to pay. The other pieces compile in the workers while the calls go on.

A worker (``python -m symrnn.backends.numba.background``) reads one task per line on
stdin (a generated source's path in the compile cache, its module name, the argument
types), compiles that source's ``fn``, which writes its machine code into numba's
cache beside the source, and answers one line. numba writes each cache file under a
temporary name and renames it into place, so a killed worker leaves nothing
half-written. When the parent exits, a worker finishes the task it is on (the cache
gains it) and ends with its input.

function() starts the workers (numba_start.py) before it rewrites the graph, so that a
worker's start-up overlaps that, code generation and numba's import here (in a thread:
loading.py); a worker still idle then does numba's once-per-process set-up (warm.py) before
its first task arrives. This module imports no numba in the program (a worker's ``_main``
does).
"""
import collections
import json
import os
import queue
import select
import subprocess
import sys
import threading
import time
import warnings
import weakref

import numpy as np

from symrnn.backends import numba_start, openblas

WORKERS = numba_start.WORKERS  # processes compiling at once
NOTICE_S = 2.0  # a compile longer than this prints one line
WAIT_CALLS = 16  # a call waits for a compile due within this many NumPy calls' time
BIG = openblas.SMALL_GEMM  # (one_thread_if_small: leaves the BLAS threads as they are)
_tasks = queue.Queue()
_slots = []  # one _Slot per worker thread
_pid = os.getpid()  # the process the threads serving _slots run in
_lock = threading.Lock()
_switches = weakref.WeakSet()  # the thunks that may still run on NumPy (watch)


def say(text):
    """One progress line on stderr."""
    print(f"symrnn: {text}", file=sys.stderr, flush=True)


def notice(text, seconds=None):
    """A timer printing ``text`` after ``seconds`` (NOTICE_S); ``.cancel()`` it when done."""
    timer = threading.Timer(NOTICE_S if seconds is None else seconds, say, (text,))
    timer.daemon = True
    timer.start()
    return timer


class Job:
    """The compile of one function's sources; ``state``: 'running', 'done' or 'failed'.

    A task marked ``urgent`` (the default: a piece that loops) is worth waiting for;
    ``urgent_ended`` is set once none is left. ``on_done(index)`` runs, in a thread of its
    own, after each task that compiled."""

    def __init__(self, tasks, on_done=None):
        self.state, self.error = "running", None
        self.pending = collections.deque(enumerate(tasks))  # (index, task) no one has started
        self.urgent = [t.get("urgent", True) for t in tasks]
        self.left, self.urgent_left = len(tasks), sum(self.urgent)
        # the urgent tasks' compile seconds left, roughly, from the last task's end:
        self.cost = sum(t.get("cost", 0.0) for t, u in zip(tasks, self.urgent) if u)
        self.progress = self.started = time.perf_counter()
        self.urgent_ended = threading.Event()
        self.cancelled = False  # the function is gone: its tasks not yet started are skipped
        self.ended, self._lock, self.on_done = threading.Event(), threading.Lock(), on_done
        self._check_ends()

    def finish_task(self, error=None, cost=0.0, index=None):
        """Task ``index`` ended (``error``: why it failed); ``cost``: its estimate."""
        with self._lock:
            urgent = index is None or self.urgent[index]
            self.progress = time.perf_counter()
            if self.state == "running":
                self.left -= 1
                self.cost -= cost if urgent else 0.0
                self.urgent_left -= urgent
                if error is not None:
                    self.state, self.error = "failed", error
            self._check_ends()
        if error is None and index is not None and self.on_done is not None:
            threading.Thread(target=self.on_done, args=(index,), daemon=True,
                             name="symrnn-numba-loader").start()

    def urgent_pending(self):
        """Whether an urgent task waits for a compiler."""
        return any(self.urgent[i] for i, _ in list(self.pending))

    def _check_ends(self):  # (with the lock held)
        if self.state == "running" and self.left <= 0:
            self.state = "done"
        if self.state != "running" or self.urgent_left <= 0:
            self.urgent_ended.set()
        if self.state != "running":
            self.ended.set()


def start(workers=None):
    """Start up to ``workers`` (WORKERS) compiler processes now if they are not running, and
    return at once: their start-up (Python, numpy, numba, then a warm-up: warm.py) overlaps
    what the caller does before it submits (function(): the rewrites, code generation)."""
    with _lock:
        _ensure_slots(workers or WORKERS)
        for slot in _slots:
            if slot.lock.acquire(blocking=False):  # (a busy slot has its process)
                try:
                    slot.process()
                except OSError:  # it could not start: the task that needs it says so
                    pass
                finally:
                    slot.lock.release()


def submit(tasks, workers=None, on_done=None):
    """A Job compiling ``tasks`` (dicts: path, name, sig as [[dtype, ndim], ...], cost,
    urgent) in up to ``workers`` (WORKERS) processes at once, in their order."""
    job = Job(tasks, on_done)
    with _lock:
        _ensure_slots(workers or WORKERS)
    for _ in tasks:
        _tasks.put(job)  # (a worker thread takes the job's next pending task)
    return job


def take(job, within=float("inf"), urgent=False):
    """(index, task) of the first of ``job``'s tasks that no worker has started and that
    compiles ``within`` seconds (its estimate), an urgent one if ``urgent``, now the
    caller's, who compiles it and calls ``job.finish_task``; None if there is none."""
    with job._lock:
        for k, (index, task) in enumerate(job.pending if job.state == "running" else ()):
            if task.get("cost", 0.0) <= within and (job.urgent[index] or not urgent):
                del job.pending[k]
                return index, task


def compile_here(job, pieces, until=float("inf"), urgent=False):
    """Compile in this process the ``pieces`` (a Segment per task of ``job``) that no worker
    has started (only urgent ones if ``urgent``), each estimated to end by ``until``
    (perf_counter); a failed piece fails the job (its foreground compile, later, says why)."""
    while (got := take(job, until - time.perf_counter(), urgent)) is not None:
        try:
            pieces[got[0]].ready()
        except Exception as e:  # noqa: BLE001  (the job fails)
            job.finish_task(f"{type(e).__name__}: {e}"[:2000], index=got[0])
        except BaseException:  # (Ctrl-C: the piece goes back, to whoever is free)
            with job._lock:
                job.pending.appendleft(got)
            _tasks.put(job)
            raise
        else:
            job.finish_task(cost=got[1]["cost"], index=got[0])


def _ensure_slots(n):
    global _tasks, _pid
    if _pid != os.getpid():  # a forked child has its parent's list but not its threads
        _slots.clear()
        _tasks, _pid = queue.Queue(), os.getpid()
    while len(_slots) < n:
        slot = _Slot()
        _slots.append(slot)
        threading.Thread(target=_serve, args=(slot,), daemon=True,
                         name="symrnn-numba-compiler").start()


def hand_over(deadline):
    """Wait (until ``deadline``, time.monotonic()) until each compiler process has been handed
    a task or none is left to hand: at exit, each then finishes the one it is on."""
    while time.monotonic() < deadline:
        with _tasks.mutex:
            waiting = len(_tasks.queue)
            handed = _tasks.unfinished_tasks == waiting  # (none half-way between get and write)
        if handed and (not waiting or all(s.lock.locked() for s in list(_slots))):
            return
        time.sleep(0.01)


def compiling():
    """True while some live function runs on NumPy because numba compiles (or loads) it
    (progress)."""
    return any(s.compiling for s in list(_switches))


def watch(thunk):
    """Count ``thunk`` (with a ``compiling`` property) in ``compiling()`` while it lives."""
    _switches.add(thunk)


def worker_pids():
    """The process ids of the running workers (for tests and tools)."""
    return [s.proc.pid for s in list(_slots) if s.proc is not None and s.proc.poll() is None] \
        + numba_start.pids()


class _Slot:
    """One worker process and the thread serving it (``lock`` held while it has a task)."""

    def __init__(self):
        self.proc, self.lock = None, threading.Lock()

    def process(self):
        """The running process, started anew if there is none (call with ``lock`` held)."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = numba_start.take() or numba_start.spawn()
        return self.proc


def _serve(slot):
    while True:
        job = _tasks.get()  # (one of its tasks, unless this process took them all)
        if job.cancelled or (got := take(job)) is None:
            _tasks.task_done()
            continue
        index, task = got
        with slot.lock:
            line, handed = "", False
            try:
                proc = slot.process()
                proc.stdin.write(json.dumps(task) + "\n")
                proc.stdin.flush()
                _tasks.task_done()  # (handed over: see hand_over)
                handed = True
                line = proc.stdout.readline()
            except OSError:  # it could not start, or died before reading the task
                pass
            finally:
                if not handed:
                    _tasks.task_done()
            if not line:
                proc, slot.proc = slot.proc, None
                status = None
                if proc is not None:
                    try:
                        status = proc.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                job.finish_task(f"the compiler process ended (exit status {status})",
                                index=index)
                continue
        try:
            error = json.loads(line).get("error")
        except ValueError:
            error = f"the compiler process answered {line[:200]!r}"
        job.finish_task(error, task.get("cost", 0.0), index)


def on_numpy(thunk, values, busy=0):
    """``thunk(values)`` while some of its pieces run on NumPy: as the compiled code, with no
    floating-point warnings; and its products on one BLAS thread where the compilers (and
    ``busy`` threads of this process) have the other cores (OpenBLAS's threads fighting a
    compiler for a core took W3's first call from 0.6 s to 2.4 s on 2 cores)."""
    crowded = busy + sum(s.lock.locked() for s in list(_slots)) >= (os.cpu_count() or 1) - 1
    with np.errstate(all="ignore"), openblas.one_thread_if_small(0 if crowded else BIG):
        return thunk(values)


class Switch:
    """A thunk whose compiled pieces run on NumPy until ``job`` has compiled them.

    ``compiled`` runs each piece whose machine code is not loaded yet on NumPy (Segment);
    a worker's piece is loaded as soon as it is done (``job.on_done``). ``load()`` makes
    every piece ready from the disk cache (compiling the ones missing there); on a failed
    job it is called at once and a warning says why.
    """

    def __init__(self, compiled, load, job, label, pieces=()):
        self.compiled, self.load, self.label = compiled, load, label
        self.pieces = pieces  # the job's tasks' Segments: a waiting call compiles some
        self.numpy_s = None  # how long the last call with pieces on NumPy took
        self.source = compiled.source
        self.timer = notice(f"numba compiles {label} in the background; until it is ready "
                            "its calls run on NumPy")
        self.job = job  # (last: __del__ cancels the timer)
        watch(self)

    @property
    def compiling(self):
        """True while some of the calls' pieces run on NumPy because numba has not finished."""
        return self.job is not None

    def __call__(self, values):
        if (job := self.job) is not None:  # (a local: another thread may switch meanwhile)
            if job.state == "running" and (patience := self._patience(job)):
                until = time.perf_counter() + patience
                compile_here(job, self.pieces, until, urgent=True)  # (numba loaded: no start-up)
                if not job.urgent_pending():  # (else it cannot end by then)
                    job.urgent_ended.wait(max(0.0, until - time.perf_counter()))
            if job.state == "running":
                t = time.perf_counter()
                try:
                    return self._run_while_compiling(values)
                finally:
                    self.numpy_s = time.perf_counter() - t
            self._switch(job)
        return self.compiled(values)

    def _patience(self, job):
        """How long this call should wait for the urgent pieces' compile rather than run
        them on NumPy (0: not at all): WAIT_CALLS such calls' time when the compile is due
        by then and some urgent piece waits for a compiler (this process then compiles it),
        else one call's time when it is due before such a call would end (a compile later
        than its estimate costs a call twice its time at most, not WAIT_CALLS times: W5's
        calls of 12 ms took 200 ms for a second). The first call runs at once, and no call
        waits for the pieces that do not loop (their NumPy runs about as fast: W4's loss and
        gradient, 1.6 ms against 0.6 ms, take 40% of its compile). Measured (2-core AMD EPYC,
        busy, A/B runs): W3 (NumPy calls of ~1 s, numba's ~11x faster) at full speed after
        5.1-5.2 s instead of 6.0-6.6 s, W4 (~0.15 s, ~4x) after 3.3-4.2 s instead of
        4.2-4.4 s, by waiting; the tutorials' --quick runs, which end before their compile,
        as long as before within noise."""
        if self.numpy_s is None or job.urgent_left <= 0:
            return 0.0
        helping = job.urgent_pending()  # this process would compile too
        busy = sum(s.lock.locked() for s in list(_slots)) + helping  # (the seconds left:)
        left = job.cost / max(busy, 1) - (time.perf_counter() - job.progress)
        patience = (WAIT_CALLS if helping else 1) * self.numpy_s
        return patience if left <= patience else 0.0

    def _switch(self, job):
        self.job = None
        self.timer.cancel()
        if job.state == "failed":
            warnings.warn(f"symrnn: the background compile of {self.label} failed "
                          f"({job.error}); compiling it now, in the foreground", stacklevel=4)
        self.load()
        if time.perf_counter() - job.started > NOTICE_S:
            say(f"{self.label} runs numba's compiled code from now on (compiled in "
                f"{time.perf_counter() - job.started:.1f} s)")

    def _run_while_compiling(self, values):
        return on_numpy(self.compiled, values)

    def __del__(self):
        job = getattr(self, "job", None)
        if job is not None:
            job.cancelled = True
            self.timer.cancel()


# ---- the worker process ----

def _main():
    warnings.simplefilter("ignore")
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything else printed goes where stderr goes, not into the replies
    import symrnn.backends.numba  # (the package that imports this module: loaded by now)
    from symrnn.backends.numba import runtime, warm  # noqa: F401  (the helpers the sources call)
    try:  # until the first task arrives (or the parent is gone: the input ends)
        warm.warm_up(lambda: bool(select.select([sys.stdin], [], [], 0)[0]))
    except Exception:  # noqa: BLE001  (a warm-up saves time only; the tasks still compile)
        pass
    modules = {}
    for line in sys.stdin:
        try:
            task = json.loads(line)
            mod = modules.get(task["name"])
            if mod is None:  # the stored source, checked as the parent's own compile checks it
                mod = modules[task["name"]] = symrnn.backends.numba.load_task(task)
            mod.fn.compile(symrnn.backends.numba.signature(task["sig"]))
            reply = {}
        except Exception as e:  # noqa: BLE001  (the parent compiles it again and reports)
            reply = {"error": f"{type(e).__name__}: {e}"[:2000]}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    _main()
