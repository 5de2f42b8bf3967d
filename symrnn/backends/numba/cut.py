"""Cutting a long graph into compiled pieces, about one per Scan, so that nothing is copied
between them (their compile is shared with the workers by background.py: ``compile_here``).

What crosses a cut is C-contiguous: a buffer a piece allocated (a Scan's history, a
product), its reshape, or a view of its first axis (``h[1:]``, ``x[t]``), never another
view: a reversal, a transpose, a slice of other axes is re-made, for free, in each piece
that reads it, so the next piece's argument needs no conversion when it is called, and a
piece's outputs that no user sees are not copied (``handed_on``).

Equal Scans reading alike (``_twins``: a deep model's layers, their backward scans) are
pieces holding the Scan alone, with what runs before and after them in pieces of their own:
such pieces have the same source and compile once (a 2-layer IndRNN's training step: 9
pieces of 7 sources where it was 5 of 5, numba's CPU time 4.0-4.4 s instead of 4.8-5.6 s;
the foreground compile 2.85 s instead of 3.37 s).
"""
from symrnn.ops.elemwise import DimShuffle
from symrnn.ops.scan import Scan
from symrnn.ops.shape import Rebroadcast, Reshape
from symrnn.ops.subtensor import WHOLE, Subtensor

# ops whose output is a view of their first input in the generated code; a Reshape is one
# when its input is contiguous (else it copies), C-contiguous either way (rt.reshaped)
VIEWS = (Subtensor, DimShuffle, Rebroadcast)


def at_scans(nodes, readers, tails=True, twins=True):
    """``nodes`` (a run of translatable nodes in topological order) as lists of nodes, up to
    three per Scan: the nodes that prepare a Scan's inputs go with the first Scan that reads
    them (in a piece of their own before it when they are many), those that no Scan reads
    (gradients of weights, updates, the loss) as soon as their inputs exist (in a piece of
    their own after the Scan's when they are many and ``tails``), and a view goes with each
    piece that reads it (a node may be in several pieces). If ``twins``, a twin Scan's piece
    holds the Scan alone: what reads it goes with what prepares the next Scan."""
    scans = [n for n in nodes if isinstance(n.op, Scan)]
    piece = {id(n): k for k, n in enumerate(scans)}
    for n in reversed(nodes):  # what a later Scan reads: with the first Scan that needs it
        if id(n) not in piece:
            later = [piece[id(r)] for o in n.outputs for r, _ in readers.get(id(o), [])
                     if id(r) in piece]
            if later:
                piece[id(n)] = min(later)
    needed = set(piece)  # (each Scan and what it reads, and so on)
    made = {id(o): piece[id(n)] for n in nodes if id(n) in piece for o in n.outputs}
    for n in nodes:  # what no Scan reads: as early as it can
        if id(n) not in piece:
            piece[id(n)] = max((made.get(id(v), 0) for v in n.inputs), default=0)
            made.update((id(o), piece[id(n)]) for o in n.outputs)
    _split_pieces(nodes, needed, piece, tails, _twins(scans, readers) if twins else ())
    places = _sink_views(nodes, readers, piece)
    pieces = [[] for _ in range(3 * len(scans) + 1)]
    for n in nodes:
        for k in sorted(places[id(n)]):
            pieces[k].append(n)
    return [p for p in pieces if p]


PREPARED = 40  # a Scan's preparation of more nodes than this is a piece of its own
APART = 8  # in the background: a preparation, or what no Scan reads, of more than this


def _twins(scans, readers):
    """The indices of the Scans that have a twin: an equal Scan (a deep model's layers, their
    backward scans) on inputs of the same types whose outputs are read alike. A twin's piece
    holds the Scan alone (and the views it reads), so that both compile once. (A Scan's
    name is not in its code: layers named apart are twins too.)"""
    keys = [(n.op.loop_key(), tuple(map(_viewed, n.inputs)),
             tuple(bool(readers.get(id(o))) for o in n.outputs)) for n in scans]
    return {k for k, key in enumerate(keys) if keys.count(key) > 1}


def _viewed(v):
    """``v``'s type and the views a piece re-makes to read it (``_sink_views``)."""
    views = []
    while not _contiguous(v):
        views.append((v.owner.op, tuple(i.type for i in v.owner.inputs[1:])))
        v = v.owner.inputs[0]
    return v.type, tuple(views)


def _split_pieces(nodes, needed, piece, tails, twins=()):
    """Renumber ``piece`` (Scan k's piece: 3k + 1) putting in piece 3k what the piece
    computes before its Scan, when that is long (the loss and its gradient before a
    backward scan: two pieces of half the length compile side by side, and faster even one
    after the other, numba's time growing faster than a function's length), and, if
    ``tails``, in piece 3k + 2 what no Scan reads (not ``needed``: the weights' gradients
    and updates), when that is long too. In the background (``tails``) a part that does not
    loop is a piece of its own from APART nodes: it runs about as fast on NumPy while numba
    compiles, so the looping piece, smaller, runs compiled sooner (one thread, 2-core AMD
    EPYC: W3 at full speed after 2.7-3.3 s instead of 3.6-4.1 s, W4 2.0-2.1 s instead of
    2.4-2.6 s); in the foreground, where every piece is waited for, more pieces take longer
    (W3 in 4.3-5.0 s instead of 3.9-4.5 s), so a graph compiled in one mode finds the other
    mode's pieces missing from the cache."""
    after = {id(o) for n in nodes if isinstance(n.op, Scan) for o in n.outputs}
    before, tail, apart = {}, {}, {}
    for n in nodes:
        k = piece[id(n)]
        reads = isinstance(n.op, Scan) or any(id(v) in after and _made_in(v, piece) == k
                                              for v in n.inputs)
        if reads:
            after.update(id(o) for o in n.outputs)
        if k in twins and not isinstance(n.op, Scan):  # a twin's piece: its Scan alone; what
            apart[id(n)] = 3 * k + 3 * reads  # reads it goes with what prepares the next
        elif tails and id(n) not in needed:
            tail.setdefault(k, []).append(n)
        elif not reads:
            before.setdefault(k, []).append(n)
    for n in nodes:
        piece[id(n)] = apart.get(id(n), 3 * piece[id(n)] + 1)
    for moved, long, shift in ((before, APART if tails else PREPARED, -1), (tail, APART, 1)):
        for part in moved.values():
            if len(part) > long:
                for n in part:
                    piece[id(n)] += shift


def _made_in(v, piece):
    return piece.get(id(v.owner)) if v.owner is not None else None


def _sink_views(nodes, readers, piece):
    """id(node) -> the pieces computing it: a view that may not be C-contiguous is computed
    in the pieces of its readers (in place of handing the view over), and where it was
    placed when something outside this run reads it (a Python node, the graph's outputs)."""
    inside = {id(n) for n in nodes}
    places = {}
    for n in reversed(nodes):
        home = {piece[id(n)]}
        if _contiguous(n.outputs[0]):  # (not a view, or one handed on like a buffer)
            places[id(n)] = home
            continue
        where, outside = set(), False
        for o in n.outputs:
            for r, _ in readers.get(id(o), []):
                if not isinstance(r, str) and id(r) in inside:
                    where |= places[id(r)]
                else:
                    outside = True
        if outside or not where:
            where |= home
        places[id(n)] = where
    return places


def _is_view(node):
    return isinstance(node.op, VIEWS + (Reshape,)) and node.outputs[0].type.ndim > 0


def _contiguous(v):
    """Whether ``v`` is C-contiguous in the generated code whatever the shapes: not a view, a
    reshape (rt.reshaped), or a view of the first axis only (``h[1:]``, ``x[:n]``, ``x[t]``)
    of such a value. Such a view is handed on like a buffer (the next piece's argument
    needs no conversion either), so a deep model's layers, one reading ``h[1:]`` of the
    layer below where the first reads a product, are the same piece and compile once."""
    node = v.owner
    if node is None or not _is_view(node) or isinstance(node.op, Reshape):
        return True
    if not isinstance(node.op, Subtensor):
        return False
    first, *rest = node.op.idx_list or [None]
    step_one = not isinstance(first, tuple) or first[3] in (None, 1)
    return step_one and all(e in WHOLE for e in rest) and _contiguous(node.inputs[0])


def liveness(runs, outputs):
    """For each run (a list of nodes): (its inputs, the values it hands on, the values alive
    after it). A value is handed on by the last run making it before each run reading it
    (runs may compute the same view), and by the last one making it if it is an output."""
    wanted = set(map(id, outputs))
    plan = []
    for nodes in reversed(runs):
        made = {id(o) for n in nodes for o in n.outputs}
        needs = []
        seen = set()
        for n in nodes:
            for v in n.inputs:
                if id(v) not in made and id(v) not in seen:
                    seen.add(id(v))
                    needs.append(v)
        handed = [o for n in nodes for o in n.outputs if id(o) in wanted]
        plan.append((needs, handed, set(wanted)))
        wanted = (wanted - made) | {id(v) for v in needs}
    return plan[::-1]
