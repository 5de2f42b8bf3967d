"""Compiling beside the running program: numba compiles in worker processes.

While a function's generated sources compile in a worker, its calls run on the NumPy
backend (``Switch``); the first call after the worker is done loads the machine code
from numba's disk cache and runs it from then on. The calls share nothing but the
shared variables' values, which every call reads and writes whole, so the switch
happens between two calls and the state continues as if one backend had run them all.
After the first call, a call waits for the compile instead when it is due within a few
NumPy calls' time (``Switch._worth_waiting``), and compiles meanwhile, in this process,
the pieces no worker has started (``compile_here``): numba's code is typically 5-15x
faster than NumPy's, so on a small machine NumPy's calls slowed the compile more than
they gained, and this process, numba loaded, is a compiler with no start-up to pay.

A worker (``python -m symrnn.backends.numba.background``) reads one task per line on
stdin (a generated source's path in the compile cache, its module name, the argument
types), compiles that source's ``fn``, which writes its machine code into numba's
cache beside the source, and answers one line. numba writes each cache file under a
temporary name and renames it into place, so a killed worker leaves nothing
half-written. When the parent exits, a worker finishes the task it is on (the cache
gains it) and ends with its input.

function() starts the workers (numba_start.py) before it imports numba and rewrites the
graph, so that a worker's start-up overlaps them; a worker still idle then does numba's
once-per-process set-up (warm.py) before its first task arrives.
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

import numba
import numpy as np
from numba import types

from symrnn.backends import numba_start, openblas
from symrnn.backends import numpy as reference

WORKERS = numba_start.WORKERS  # processes compiling at once
NOTICE_S = 2.0  # a compile longer than this prints one line
WAIT_CALLS = 16  # a call waits for a compile due within this many NumPy calls' time
BIG = openblas.SMALL_GEMM  # (one_thread_if_small: leaves the BLAS threads as they are)
_tasks = queue.Queue()
_slots = []  # one _Slot per worker thread
_pid = os.getpid()  # the process the threads serving _slots run in
_lock = threading.Lock()
_switches = weakref.WeakSet()  # the functions that may still run on NumPy


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
    """The compile of one function's sources; ``state``: 'running', 'done' or 'failed'."""

    def __init__(self, tasks):
        self.left, self.state, self.error = len(tasks), "running", None
        self.pending = collections.deque(enumerate(tasks))  # (index, task) no one has started
        self.cost = sum(t.get("cost", 0.0) for t in tasks)  # compile seconds left, roughly,
        self.progress = self.started = time.perf_counter()  # from the last task's end
        self.cancelled = False  # the function is gone: its tasks not yet started are skipped
        self.ended, self._lock = threading.Event(), threading.Lock()

    def finish_task(self, error=None, cost=0.0):
        with self._lock:
            self.cost, self.progress = self.cost - cost, time.perf_counter()
            if self.state == "running":
                self.left -= 1
                self.state, self.error = ("failed", error) if error is not None else (
                    "running" if self.left else "done", None)
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


def submit(tasks, workers=None):
    """A Job compiling ``tasks`` (dicts: path, name, sig as [[dtype, ndim], ...]) in up to
    ``workers`` (WORKERS) processes at once."""
    job = Job(tasks)
    with _lock:
        _ensure_slots(workers or WORKERS)
    for _ in tasks:
        _tasks.put(job)  # (a worker thread takes the job's next pending task)
    return job


def take(job, within=float("inf")):
    """(index, task) of the first of ``job``'s tasks that no worker has started and that
    compiles ``within`` seconds (its estimate), now the caller's, who compiles it and calls
    ``job.finish_task``; None if there is none."""
    with job._lock:
        for k, (index, task) in enumerate(job.pending if job.state == "running" else ()):
            if task.get("cost", 0.0) <= within:
                del job.pending[k]
                return index, task


def compile_here(job, pieces, until=float("inf")):
    """Compile in this process the ``pieces`` (a Segment per task of ``job``) that no worker
    has started, each estimated to end by ``until`` (perf_counter); a failed piece fails the
    job (its foreground compile, later, says why)."""
    while (got := take(job, until - time.perf_counter())) is not None:
        try:
            pieces[got[0]].ready()
        except Exception as e:  # noqa: BLE001  (the job fails: the finish below is a no-op)
            job.finish_task(f"{type(e).__name__}: {e}"[:2000])
        except BaseException:  # (Ctrl-C: the piece goes back, to whoever is free)
            with job._lock:
                job.pending.appendleft(got)
            _tasks.put(job)
            raise
        job.finish_task(cost=got[1]["cost"])


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


def compiling():
    """True while some live function runs on NumPy because numba compiles it (progress)."""
    return any(s.job is not None for s in list(_switches))


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
        if job.cancelled or (task := (take(job) or (0, None))[1]) is None:
            continue
        with slot.lock:
            line = ""
            try:
                proc = slot.process()
                proc.stdin.write(json.dumps(task) + "\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
            except OSError:  # it could not start, or died before reading the task
                pass
            if not line:
                proc, slot.proc = slot.proc, None
                status = None
                if proc is not None:
                    try:
                        status = proc.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                job.finish_task(f"the compiler process ended (exit status {status})")
                continue
        try:
            job.finish_task(json.loads(line).get("error"), task.get("cost", 0.0))
        except ValueError:
            job.finish_task(f"the compiler process answered {line[:200]!r}")


class Switch:
    """A thunk running NumPy's meaning of ``fgraph`` until ``job`` is done, then ``compiled``.

    ``load()`` makes the compiled pieces ready from the disk cache (compiling the ones
    missing there); on a failed job it is called at once and a warning says why.
    """

    def __init__(self, fgraph, compiled, load, job, label, pieces=()):
        self.reference = reference.compile_graph(fgraph)
        self.compiled, self.load, self.job, self.label = compiled, load, job, label
        self.pieces = pieces  # the job's tasks' Segments: a waiting call compiles some
        self.numpy_s = None  # how long the last call on NumPy took
        self.source = compiled.source
        self.timer = notice(f"numba compiles {label} in the background; until it is ready "
                            "its calls run on NumPy")
        _switches.add(self)

    @property
    def compiling(self):
        """True while calls run on NumPy because numba has not finished."""
        return self.job is not None

    def __call__(self, values):
        if (job := self.job) is not None:  # (a local: another thread may switch meanwhile)
            if job.state == "running" and self._worth_waiting(job):
                until = time.perf_counter() + WAIT_CALLS * self.numpy_s
                compile_here(job, self.pieces, until)  # (with numba loaded, no start-up)
                job.ended.wait(max(0.0, until - time.perf_counter()))
            if job.state == "running":
                t = time.perf_counter()
                try:
                    return self._run_reference(values)
                finally:
                    self.numpy_s = time.perf_counter() - t
            self._switch(job)
        return self.compiled(values)

    def _worth_waiting(self, job):
        """Whether this call should wait for the compile rather than run on NumPy: when the
        compile is due within WAIT_CALLS NumPy calls' time and some piece waits for a
        compiler (this process then compiles it), or before a NumPy call would end. The
        first call runs on NumPy at once. Measured (2-core AMD EPYC, busy, A/B runs): W3
        (NumPy calls of ~1 s, numba's ~11x faster) at full speed after 5.1-5.2 s instead of
        6.0-6.6 s, W4 (~0.15 s, ~4x) after 3.3-4.2 s instead of 4.2-4.4 s; the tutorials'
        --quick runs, which end before their compile, as long as before within noise."""
        if self.numpy_s is None:
            return False
        helping = bool(job.pending)  # this process would compile too
        busy = sum(s.lock.locked() for s in list(_slots)) + helping  # (the seconds left:)
        left = job.cost / max(busy, 1) - (time.perf_counter() - job.progress)
        return left <= (WAIT_CALLS if helping else 1) * self.numpy_s

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

    def _run_reference(self, values):
        # as the compiled code: no floating-point warnings; and products on one BLAS thread
        # where the compilers have the other cores (OpenBLAS's threads fighting a compiler
        # for a core took W3's first call from 0.6 s to 2.4 s on 2 cores)
        crowded = sum(s.lock.locked() for s in list(_slots)) >= (os.cpu_count() or 1) - 1
        with np.errstate(all="ignore"), openblas.one_thread_if_small(0 if crowded else BIG):
            outs = self.reference(values)
        given = set(map(id, values))
        return [reference.fresh_array(np.asarray(o), given) for o in outs]

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
    # the package that imports this module (a cycle at import time): loaded by now
    import symrnn.backends.numba  # noqa: F401  (the helpers the sources call)
    from symrnn.backends.numba import warm
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
            mod.fn.compile(tuple(types.Array(numba.from_dtype(np.dtype(d)), n, "C")
                                 for d, n in task["sig"]))
            reply = {}
        except Exception as e:  # noqa: BLE001  (the parent compiles it again and reports)
            reply = {"error": f"{type(e).__name__}: {e}"[:2000]}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    _main()
