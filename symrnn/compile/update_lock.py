"""One lock for all the functions that update a shared variable: no update is lost.

A call of a function with updates holds a lock from reading the shared values to writing
the updates. Functions whose update targets overlap share that lock: the shared
variables' container remembers a ``LockCell`` (``container["lock"]``); a function
compiled later that updates variables of several cells merges them (the others forward
to one root), so calls of any of those functions, from any threads, run one at a time.
A call in progress while such a merge happens (at compile time) still holds the old lock.
"""
import threading

_MERGE = threading.Lock()


class LockCell:
    """A lock shared by the functions updating one group of shared variables."""

    __slots__ = ("lock", "parent")

    def __init__(self):
        self.lock, self.parent = threading.Lock(), None

    def root(self):
        """The cell this one was merged into (itself if none)."""
        cell = self
        while cell.parent is not None:
            cell = cell.parent
        return cell

    def __reduce__(self):  # a pickled or deep-copied group gets a lock of its own
        return (LockCell, ())


def cell_for(targets):
    """The lock cell of a function updating the shared variables ``targets`` (None if none)."""
    if not targets:
        return None
    with _MERGE:
        roots = []
        for t in targets:
            cell = t.container.get("lock")
            if cell is not None:
                cell = cell.root()
                if all(cell is not r for r in roots):
                    roots.append(cell)
        cell = roots[0] if roots else LockCell()
        for other in roots[1:]:
            other.parent = cell
        for t in targets:
            t.container["lock"] = cell
        return cell
