"""Exact sampling for large α, in the log domain (numba).

The sampler of :mod:`~piecelab.engine.kernels` multiplies linear weights
p^α and rescales its running partition by whole factors, which is exact as long
as every product it forms is a normal double.  The tokenizer checks that per α
(``Tokenizer._sampler``: α times the widest spread of log-probabilities a walk
can meet must stay under 400 nats).  Past it, p^α of a rare byte underflows to
0: the linear sampler then sees no piece at all and reports a missing byte, or
draws from rounded weights (the same improbable sample for every seed), and
its log Z turns NaN.  This kernel takes over there.

It is the same forward-filtering draw, with the partition of each end kept as
a logarithm: for every end position the candidates' log weights are collected
during the walk, their maximum taken, and the draw made in proportion to
exp(α·(x − max)).  A candidate whose weight rounds to 0 there is less likely
than 2^-1074 against the best one, so the draw is exact for every finite
α > 0 and becomes the Viterbi choice (ties drawn uniformly) as α grows.  The
partition is stored divided by α, ``m[p] = log Z[p] / α``, so that the scores
stay those of Viterbi and no α, however large, overflows them.  It costs an
``exp`` per candidate, about three times the linear sampler, and is only used
where that one would fail.

The entry points mirror :func:`~piecelab.engine.kernels.segment`,
:func:`~piecelab.engine.kernels.log_partition` and
:func:`~piecelab.engine.kernels.sample_list`, with the slot log-probabilities
(``val``, −inf where a slot is no piece) and α instead of the weights p^α.
The random stream per document is the linear sampler's, so a batch draws the
same samples however it is split across threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .kernels import (
    _MAX_TEXT,
    _ONE,
    _U,
    NEG_INF,
    NO_FORCED,
    _doc_seed,
    _emit,
    _header,
    _listed,
    _next_document,
    _next_end,
    _pick,
    _random_step,
    _scratch,
    _step_back,
    _walk_floor,
)
from .model import N_SPECIAL, Model

#: The linear sampler is used while α times the widest spread of log p that one
#: walk can meet stays under this (its weights and rescaled sums then stay
#: normal doubles: see :func:`linear_spread`); past it this module's sampler.
LINEAR_NATS = 400.0


def linear_spread(model: Model, scores: np.ndarray) -> float:
    """The widest spread of log p one walk of the linear sampler can meet (nats).

    That sampler keeps the partition of the latest end in [1e-100, 1e100]; a walk
    from end ``q`` reads the partition at a start ``s`` where ``text[s:q]`` is a
    suffix of a piece, which is at most exp(α · the cost of ``text[s:q-1]`` as
    single bytes) times the latest.  So α times the largest single-byte cost of
    a piece without its last byte (or of one byte) bounds every product's
    exponent; under ``LINEAR_NATS`` all stay normal doubles.  A byte with no (or
    a zero-count) single piece is costed as the rarest piece.  ``scores`` are
    ``model.log_probs()``.
    """
    lengths = np.fromiter(map(len, model.pieces), np.int64, len(model.pieces))
    piece_scores = scores[N_SPECIAL:]
    cost = np.full(256, -float(piece_scores[np.isfinite(piece_scores)].min()))
    singles = np.flatnonzero(lengths == 1)
    byte_piece = np.full(256, -1, np.int64)
    byte_piece[[model.pieces[i][0] for i in singles]] = singles
    has = byte_piece >= 0
    cost[has] = -piece_scores[byte_piece[has]]
    per_byte = cost[np.frombuffer(b"".join(model.pieces), np.uint8)]
    ends = np.cumsum(lengths)
    per_byte[ends - 1] = 0.0  # the last byte of a piece is not in the bound
    spread = float(np.add.reduceat(per_byte, ends - lengths).max())
    return max(spread, float(cost.max()))


@njit(cache=True, nogil=True)
def _sample_log_chunk(text, o, n, rt, val, alpha, m, route, rslot, state, xs, xt):
    """An exact draw over the chunk ``text[o:o+n]`` with P(seg) ∝ Π exp(α · log p).

    ``val`` holds log p per slot; ``m[p]`` (chunk-local) is log Z of the paths
    ending at ``p``, divided by α.  Step ``i`` of the walk back from ``p``
    stands for the piece ``text[p-1-i:p]`` (log weight −inf where the slot is
    no piece), as in the linear sampler, so the chosen step gives the start.
    Returns (log Z of the chunk, the random state).
    """
    b0, max_depth = _header(rt)
    uo = _U(o)
    m[0] = 0.0
    for p in range(1, n + 1):
        up = _U(p)
        best = NEG_INF
        k = 0
        node = _U(0)
        b = b0
        s = up
        lim = _walk_floor(up, max_depth)
        while s > lim:
            s, t, ok, node, b = _step_back(text, uo, rt, s, node, b)
            if not ok:
                break
            x = m[s] + val[t]
            xs[k] = x
            xt[k] = t
            k += 1
            best = max(best, x)
        if best == NEG_INF:
            # no piece ends at p (a byte missing from the vocabulary): step over it
            m[up] = m[up - _ONE]
            route[up] = up - _ONE
            rslot[up] = -1
            continue
        total = 0.0
        for j in range(k):
            w = np.exp(alpha * (xs[j] - best))  # exactly 1 for the best, 0 for non-pieces
            xs[j] = w
            total += w
        state, u = _random_step(state)
        i = _pick(xs, _U(k), u * total)
        m[up] = best + np.log(total) / alpha
        route[up] = p - 1 - i
        rslot[up] = xt[i]
    return alpha * m[n], state


@njit(cache=True, nogil=True, inline="always")
def _run_log(text, forced, rt, val, ids, alpha, seed, doc0, out_end, out_id, with_ends):
    """Draw every chunk into ``out_id`` (and ``out_end``); returns (tokens, log Z).

    The chunk loop of :func:`~piecelab.engine.kernels._run`: the same chunks,
    document seeds and scratch, with the log-domain draw.
    """
    n = len(text)
    cap = min(n, 1 << 16)
    depth = np.int64(_header(rt)[1])  # candidates per end
    m, route, rslot, xs, xt = _scratch(cap, depth)
    state = _doc_seed(seed, doc0)
    doc = doc0
    fd = 0
    fi = 0
    k = 0
    total = 0.0
    c0 = 0
    while c0 < n:
        c1, fi = _next_end(text, c0, forced, fi)
        fd, doc, state = _next_document(forced, fd, c0, doc, seed, state)
        size = c1 - c0
        if size > cap:
            cap = max(size, 2 * cap)
            m, route, rslot, xs, xt = _scratch(cap, depth)
        log_z, state = _sample_log_chunk(
            text, c0, size, rt, val, alpha, m, route, rslot, state, xs, xt
        )
        total += log_z
        k = _emit(route, rslot, ids, size, c0, out_end, out_id, k, with_ends)
        c0 = c1
    return k, total


@njit(cache=True, nogil=True)
def segment(text, forced, rt, val, ids, alpha, seed, doc0):
    """One exact draw at ``alpha`` > 0: (token ends, token ids, log Z(α)).

    As :func:`~piecelab.engine.kernels.segment` with ``val`` holding the log-
    probabilities per slot; ids of −1 mark a byte no piece covers.
    """
    if not alpha > 0.0:
        raise ValueError("the log-domain sampler needs alpha > 0")
    n = len(text)
    out_end = np.empty(n, np.int64)
    out_id = np.empty(n, np.int32)
    k, total = _run_log(text, forced, rt, val, ids, alpha, seed, doc0, out_end, out_id, True)
    return out_end[:k].copy(), out_id[:k].copy(), total


@njit(cache=True, nogil=True)
def log_partition(text, forced, rt, val, ids, alpha):
    """Σ over chunks of log Σ_seg Π p^α, for α > 0 (the draw is discarded)."""
    if not alpha > 0.0:
        raise ValueError("the log-domain sampler needs alpha > 0")
    out = np.empty(len(text), np.int32)
    _, total = _run_log(text, forced, rt, val, ids, alpha, 0, 0, out, out, False)
    return total


@njit(cache=True)
def sample_list(text, rt, val, ids, alpha, seed, table):
    """One exact draw (``bytes`` text) as a list of ``table`` objects.

    As :func:`~piecelab.engine.kernels.sample_list`; an empty list for a
    non-empty text means a byte had no piece: the caller reports it.
    """
    if not alpha > 0.0:
        raise ValueError("the log-domain sampler needs alpha > 0")
    n = len(text)
    if n >= _MAX_TEXT:
        raise ValueError("texts of 2 GiB or more must be split before tokenizing")
    out = np.empty(n, np.int32)
    k, _ = _run_log(text, NO_FORCED, rt, val, ids, alpha, seed, 0, out, out, False)
    return _listed(table, out, k)
