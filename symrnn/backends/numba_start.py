"""Starting numba's compiler processes early, without importing numba here.

function() in mode NUMBA calls ``start`` first: the worker processes (numba/background.py)
start before the parent imports numba (about 0.2 s) and rewrites the graph, so that a
worker's own start-up (Python, numpy, numba, symrnn, numba's set-up: about 0.65 s)
overlaps them. background.py ``take``s these processes when it needs one: in the
background compile, and in the foreground one for the pieces of a cut graph (a deep
model's training step), which compile here and in the workers at once (W3's foreground
function() took 0.4-0.7 s longer when its worker started only then: 3.8-4.7 s instead of
3.4-3.5 s, 2-core AMD EPYC).
"""
import atexit
import importlib.util
import os
import subprocess
import sys

# worker processes: one core is left to the program itself
WORKERS = max(1, min(4, (os.cpu_count() or 2) - 1))
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_BACKGROUND = "symrnn.backends.numba.background"
_ready = []  # (the pid that started it, its Popen): started, not taken by background.py


def spawn():
    """A new compiler process (OSError if it cannot start)."""
    env = dict(os.environ, PYTHONPATH=_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # a session of its own: a Ctrl-C meant for the program does not cut a cache write short
    return subprocess.Popen([sys.executable, "-m", _BACKGROUND],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env, cwd=_ROOT,
                            start_new_session=True)


def start():
    """Start the compiler processes if none is running; returns at once. Not on one core:
    there a process started early would only compete with the program (a warm-cache
    function() needs none)."""
    if (os.cpu_count() or 1) < 2:
        return
    background = sys.modules.get(_BACKGROUND)
    if background is not None:  # numba is imported: the pool starts its own
        background.start()
        return
    if pids() or importlib.util.find_spec("numba") is None:
        return
    try:
        for _ in range(WORKERS):
            _ready.append((os.getpid(), spawn()))
    except OSError:  # the task that needs a process says why
        pass


def take():
    """One of ``start``'s processes that is still running, or None."""
    while _ready:
        pid, proc = _ready.pop(0)
        if pid == os.getpid() and proc.poll() is None:  # (not a forked child's copy)
            return proc
    return None


def pids():
    """The process ids of the started processes not taken yet."""
    return [p.pid for pid, p in _ready if pid == os.getpid() and p.poll() is None]


@atexit.register
def _end_unused():
    """At exit, the processes no task was given end at once (they hold nothing: no cache
    write is under way), their pipes closed: nothing is left running or open."""
    for pid, proc in _ready:
        if pid == os.getpid():
            proc.kill()
            proc.communicate()  # (waits for it, closes the pipes)
