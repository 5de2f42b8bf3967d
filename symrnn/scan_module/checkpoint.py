"""scan(..., checkpoint=k): checkpointed BPTT as an outer scan over chunks of k steps.

Each step of the outer scan runs the user's loop (a Scan op) for one chunk. The
outer scan stores only each chunk's first state (the last ``lag`` rows of the
previous chunk); its gradient, a backward Scan like any other, recomputes a
chunk's steps from that state and runs their backward loop. Per-step outputs are
padded to k rows per chunk and cut to the steps done at the end.

- ``until``: the chunk's loop stops at the condition, the outer scan stops after
  that chunk (the chunk also returns its condition per step and its step count);
  the gradient runs over the steps actually taken.
- shared-variable updates: the chunk's loop updates them, the outer scan carries
  them from chunk to chunk (scan's own updates mechanism).
- ``truncate_gradient=m``: the chunks are aligned so that a chunk starts where the
  gradient is cut (step ``n - m``; the first chunk is shorter), and the outer scan
  truncates to the ``ceil(m / k)`` chunks after the cut. With ``until`` too, the
  cut is only known after the loop: the loop then runs twice forward, first (with
  ``until``) to count the steps taken, then that many steps, checkpointed.
"""
import numbers
from collections import OrderedDict

import numpy as np

from symrnn.graph import op_error
from symrnn.scan_module.step import until as until_
from symrnn.tensor import math as T
from symrnn.tensor.basic import constant, unbroadcast


def checkpointed(k, make_op, n, seqs, bufs, shared, nonseqs, truncate_gradient, has_until,
                 scan):
    """(per-step outputs: recurrent then mapped, updates) of the loop, checkpointed every k.

    ``make_op(until, cond_output)`` builds the user's loop as a Scan without gradient
    truncation, with or without its ``until`` and with its condition as an extra mapped
    output after the others when ``cond_output``. ``scan`` builds the outer loop: it is
    scan() itself, which calls this function (passed in, so no import cycle).
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise op_error("scan", f"checkpoint must be a positive int, got {k!r}", ValueError)
    k = int(k)
    if has_until and truncate_gradient >= 0:
        _, _, n = _chunked(make_op(True, True), k, n, seqs, bufs, shared, nonseqs, -1, True,
                           scan)
        has_until = False
    outs, updates, _ = _chunked(make_op(has_until, has_until), k, n, seqs, bufs, shared,
                                nonseqs, truncate_gradient, has_until, scan)
    return outs, updates


def _chunked(op, k, n, seqs, bufs, shared, nonseqs, tg, until, scan):
    """(per-step outputs, updates, steps done) of ``op`` run as an outer scan over chunks."""
    nr, n_seq, n_user = op.n_rec, len(seqs), op.n_nit - until
    if tg >= 0:  # chunks start at the cut: the first one holds (-cut) % k steps fewer
        cut = T.maximum(n - tg, 0)
        front = ((cut + k - 1) // k) * k - cut
        tg_chunks = -(-tg // k)
    else:
        front, tg_chunks = None, -1
    span = n if front is None else n + front
    n_chunks = (span + k - 1) // k

    def zeros(rows, like):  # ``rows`` rows shaped like those of ``like``
        tail = [like.shape[i] for i in range(1, like.type.ndim)]
        return T.zeros([rows] + tail, dtype=like.type.dtype)
    chunked = []
    for x in seqs:
        parts = [x[:n], zeros(n_chunks * k - span, x)]
        if front is not None:
            parts.insert(0, zeros(front, x))
        tail = [x.shape[i] for i in range(1, x.type.ndim)]
        chunked.append(T.concatenate(parts).reshape([n_chunks, k] + tail))
    # the sizes enter as non-sequences: traced inside chunk(), their graph (with until and
    # truncation: a whole first loop) would be rebuilt inside the outer loop
    sizes = [span] + ([] if front is None else [front])

    def chunk(*args):  # chunked sequences, previous states, chunk index, sizes, non-sequences
        seq_args, prev, c = args[:n_seq], args[n_seq:n_seq + nr], args[n_seq + nr]
        span_, *front_ = args[n_seq + nr + 1:n_seq + nr + 1 + len(sizes)]
        lo = T.switch(T.eq(c, 0), front_[0], 0) if front_ else 0
        steps = T.minimum(k, span_ - c * k) - lo
        chunk_seqs = [s[lo:] if front_ else s for s in seq_args]
        outs = op.make_node(steps, *chunk_seqs, *prev, *shared,
                            *args[n_seq + nr + 1 + len(sizes):]).outputs
        per_step = [o[lag:] for o, lag in zip(outs, op.lags)] + outs[nr:nr + n_user]
        padded = []
        for o in per_step:
            parts = [o, zeros(k - lo - o.shape[0], o)]
            if front_:
                parts.insert(0, zeros(lo, o))
            padded.append(T.concatenate(parts))
        result = [o[-lag:] for o, lag in zip(outs, op.lags)] + [c + 1] + padded
        new_shared = OrderedDict(zip(shared, outs[nr + op.n_nit:]))
        if not until:
            return result, new_shared
        cond = outs[nr + n_user]  # the condition at each step done
        return result + [cond.shape[0]], new_shared, until_(cond[-1])
    out, updates = scan(chunk, sequences=chunked, n_steps=n_chunks,
                        outputs_info=[unbroadcast(b, 0) for b in bufs] + [constant(np.int64(0))]
                        + [None] * (nr + n_user + until),
                        non_sequences=sizes + nonseqs, truncate_gradient=tg_chunks,
                        return_list=True, name=f"{op.name}_chunks")
    done = out[-1].sum() if until else n
    start = 0 if front is None else front
    full = []
    for o in out[nr + 1:nr + 1 + nr + n_user]:
        shape = [o.shape[0] * k] + [o.shape[i] for i in range(2, o.type.ndim)]
        full.append(o.reshape(shape)[start:start + done])
    return full, updates, done
