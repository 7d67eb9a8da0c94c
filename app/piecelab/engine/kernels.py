"""Compiled segmentation kernels over byte arrays (numba).

Only the entries at the end (``viterbi_list`` and its kin) make Python objects:
they hand tokenize() and encode() the finished list.

All kernels share one picture: the text is a ``uint8`` array cut into *chunks*
(BytePiece's ``.*\\n+|.+``: a line with its run of newlines, plus any extra
boundaries the caller forces, such as document ends).  Pieces never cross a
chunk boundary and every chunk is segmented independently, its score starting
from 0, so results agree bit for bit with a chunk-by-chunk reference.

Viterbi and sampling *pull*: for each end position ``p`` a trie of the reversed
pieces (:class:`~piecelab.engine.trie.PackedTrie`) is walked backwards over
``text[p-1]``, ``text[p-2]``, ...; every slot on the way that holds a value is a
piece ``text[s:p]``.  The walk stops at the first missing transition, so the
work per byte is the length of the longest piece ending there, not the
vocabulary size, and the best candidate stays in registers until the walk ends
instead of being stored to ``dp`` for every match.  The walk is a chain of
dependent loads, so the hot loops keep it short: unsigned indices (numba adds
wraparound code to signed ones), selects instead of data-dependent branches,
and a step that loads the next base without waiting for the check.  The GUI's
enumerations (all matches, k-best, in :mod:`~piecelab.engine.enumerations`)
walk the forward trie instead.

What each of these choices measured, and the dead ends: benchmarks/NOTES.md, "kernels".
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

NEG_INF = -np.inf
_U = np.uint64  # index type of the hot loops (no negative-index wraparound code)
_ONE, _TWO = _U(1), _U(2)
_NL = 10
_K = 3  # walk steps taken without a branch (most walks end within 2–4 steps)
_UK = _U(_K)
NO_FORCED = np.empty(0, np.int64)  # no boundaries beyond the lines'
_MAX_TEXT = 2**31  # chunk-local positions and token ends are int32


@njit(cache=True, nogil=True)
def _doc_seed(seed, doc):
    """A non-zero xorshift state for (seed, document), mixed by splitmix64's finalizer."""
    x = np.uint64(seed) ^ (np.uint64(doc) * np.uint64(0xD1B54A32D192ED03))
    x += np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    return x if x != 0 else np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, nogil=True, inline="always")
def _next_end(text, c0, forced, fi):
    """End of the chunk starting at c0 (and the advanced forced-boundary index)."""
    n = len(text)
    while fi < forced.shape[0] and forced[fi] <= c0:
        fi += 1
    stop = _U(min(forced[fi], n) if fi < forced.shape[0] else n)
    i = _U(c0 + 1)
    while i < stop and not (text[i - _ONE] == _NL and text[i] != _NL):
        i += _ONE
    return np.int64(i), fi


@njit(cache=True, nogil=True)
def chunk_ends(text, forced):
    """End offsets of the chunks of ``text``; ``forced`` (sorted) adds boundaries."""
    n = len(text)
    out = np.empty(n + 1, np.int64)
    m = 0
    fi = 0
    c0 = 0
    while c0 < n:
        c0, fi = _next_end(text, c0, forced, fi)
        out[m] = c0
        m += 1
    return out[:m]


@njit(cache=True, nogil=True, inline="always")
def _walk_floor(up, max_depth):
    """The lowest (chunk-local) start a piece ending at ``up`` can have."""
    return up - max_depth if up > max_depth else _U(0)


@njit(cache=True, nogil=True, inline="always")
def _step_back(text, o, rt, s, node, b):
    """One step of a reversed walk from ``node`` (base ``b``) to the byte before ``s``.

    ``s`` is chunk-local, the chunk starting at ``text[o]``.  Returns (the new
    position, the slot, whether the transition exists, the next node and base).
    The next base is the slot's whether or not the transition exists, so a
    step waits on one load, not on the check too; a walk that steps on without
    looking stays inside the array (every base + 255 does) and its caller masks
    what it finds.  (A sentinel base on failure measured slower: benchmarks/NOTES.md.)
    """
    s -= _ONE
    t = b + _U(text[o + s])
    q = _TWO * t
    ok = _U(rt[q + _ONE]) == node
    return s, t, ok, t, _U(rt[q])


@njit(cache=True, nogil=True, inline="always")
def _keep_best(take, x, s, t, best, bs, bt):
    """(score, start, slot) of the best candidate so far, by selects, not branches."""
    return (x if take else best), (s if take else bs), (t if take else bt)


@njit(cache=True, nogil=True, inline="always")
def _header(rt):
    """(root base, longest piece) of a packed trie (its first and last entries)."""
    return _U(rt[0]), _U(rt[rt.shape[0] - 1])


@njit(cache=True, nogil=True)
def _viterbi_chunk(text, o, n, rt, val, dp, route, rslot):
    """Unigram Viterbi over the chunk ``text[o:o+n]``, pulling each end's best piece.

    ``rt`` is a packed reversed trie (:class:`~piecelab.engine.trie.PackedTrie`),
    ``val`` its log-probability per slot.  Positions are chunk-local (``dp[0]``
    is the chunk start), so the scratch only needs the longest chunk; scores are
    summed left to right from 0, as in the reference.  ``rslot[p]`` is the
    winning slot (the caller maps slots to ids), −1 where no piece covers.

    Each slot on the walk back from ``p`` is a candidate start ``s`` scored
    ``dp[s]`` + the slot's value (−inf where it is no piece), kept by selects.
    Shorter pieces come first and ``>=`` lets a longer one win a tie: exact ties
    keep the longest piece, as BytePiece does.  The first ``_K`` steps take no
    branch (a walk's length varies from byte to byte, so its exit mispredicts);
    past a failed transition they read other nodes' slots, which ``alive`` masks.
    Kept whole: the walk as a helper measured slower (benchmarks/NOTES.md, "kernels").
    """
    b0, max_depth = _header(rt)
    uo = _U(o)
    dp[0] = 0.0
    for p in range(1, n + 1):
        up = _U(p)
        best = NEG_INF
        bs = up - _ONE
        bt = _U(0)
        node = _U(0)
        b = b0
        s = up
        lim = _walk_floor(up, max_depth)
        alive = True
        if s - lim >= _UK:
            for _ in range(_K):
                s, t, ok, node, b = _step_back(text, uo, rt, s, node, b)
                alive &= ok
                x = dp[s] + val[t]
                best, bs, bt = _keep_best(alive & (x >= best), x, s, t, best, bs, bt)
        if alive:
            while s > lim:
                s, t, ok, node, b = _step_back(text, uo, rt, s, node, b)
                if not ok:
                    break
                x = dp[s] + val[t]
                best, bs, bt = _keep_best(x >= best, x, s, t, best, bs, bt)
        if best == NEG_INF:
            # no piece ends at p (a byte missing from the vocabulary): step over it
            dp[up] = dp[up - _ONE] - 1e6
            route[up] = up - _ONE
            rslot[up] = -1
        else:
            dp[up] = best
            route[up] = bs
            rslot[up] = bt


@njit(cache=True, nogil=True, inline="always")
def _random_step(x):
    """xorshift64* on a local state: (next state, a double in [0, 1))."""
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    u = ((x * np.uint64(0x2545F4914F6CDD1D)) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
    return x, u


@njit(cache=True, nogil=True, inline="always")
def _pull_weights(text, uo, rt, val, z, up, b0, max_depth, ws, wt):
    """The pieces ending at ``up``: their weights ``z[start] · w`` and slots into
    ``ws``/``wt`` (shortest first); returns (their sum, how many).

    The first ``_K`` steps take no branch, as in :func:`_viterbi_chunk`.  The
    loop has no ``break``: an inlined helper's arrays must die at a single exit,
    or numba counts a reference per array per byte (twice the time).
    """
    total = 0.0
    k = _U(0)
    node = _U(0)
    b = b0
    s = up
    lim = _walk_floor(up, max_depth)
    alive = True
    if s - lim >= _UK:
        for _ in range(_K):
            s, t, ok, node, b = _step_back(text, uo, rt, s, node, b)
            alive &= ok
            w = z[s] * val[t] if alive else 0.0
            total += w
            ws[k] = w
            wt[k] = t
            k += _U(alive)
    while alive and s > lim:
        s, t, alive, node, b = _step_back(text, uo, rt, s, node, b)
        w = z[s] * val[t] if alive else 0.0
        total += w
        ws[k] = w
        wt[k] = t
        k += _U(alive)
    return total, k


@njit(cache=True, nogil=True, inline="always")
def _pick(ws, k, r):
    """The first of the ``k`` (≥ 1) weights whose running sum exceeds ``r``.

    It counts the sums that do not, with no early exit: that branch would be
    as unpredictable as the draw.
    """
    acc = 0.0
    i = np.int64(0)
    for j in range(k - _ONE):
        acc += ws[j]
        i += acc <= r
    while ws[i] == 0.0:  # rounding left r past the last piece: take the last one
        i -= 1
    return i


@njit(cache=True, nogil=True, inline="always")
def _rescale(z, p, max_depth, total):
    """Divide the z values later ends can still reach by ``total``; returns its log."""
    f = 1.0 / total
    for j in range(max(0, p + 1 - np.int64(max_depth)), p + 1):
        z[j] *= f
    return np.log(total)


@njit(cache=True, nogil=True)
def _sample_chunk(text, o, n, rt, val, z, route, rslot, state, ws, wt):
    """An exact draw over the chunk ``text[o:o+n]`` with P(seg) ∝ Π w(piece).

    ``val`` holds the weights w = p^α per slot; ``z[p]`` (chunk-local) is the
    scaled partition of all paths ending at p.  One uniform draw per end picks
    the last piece in proportion to its share of ``z[p]`` (FFBS with the
    backward choice made on the fly), so the back-pointers form an exact
    sample with no exp or log per candidate.  When z leaves [1e-100, 1e100]
    it is rescaled, the factor kept in the log scale.  Returns (log Z, the
    random state).
    """
    b0, max_depth = _header(rt)
    uo = _U(o)
    z[0] = 1.0
    log_scale = 0.0
    for p in range(1, n + 1):
        up = _U(p)
        total, k = _pull_weights(text, uo, rt, val, z, up, b0, max_depth, ws, wt)
        if total == 0.0:
            z[up] = z[up - _ONE]
            route[up] = up - _ONE
            rslot[up] = -1
            continue
        state, u = _random_step(state)
        i = _pick(ws, k, u * total)
        z[up] = total
        route[up] = p - 1 - i
        rslot[up] = wt[i]
        if total < 1e-100 or total > 1e100:
            log_scale += _rescale(z, p, max_depth, total)
    return log_scale + np.log(z[n]), state


@njit(cache=True, nogil=True, inline="always")
def _emit(route, rslot, ids, n, o, out_end, out_id, k, with_ends):
    """Append the chunk's tokens (back-pointers from its end) at ``out[k:]``."""
    c = 0
    e = _U(n)
    while e > _U(0):
        c += 1
        e = _U(route[e])
    j = k + c
    e = _U(n)
    while e > _U(0):
        j -= 1
        t = rslot[e]
        out_id[j] = ids[t] if t >= 0 else -1
        if with_ends:
            out_end[j] = o + np.int64(e)
        e = _U(route[e])
    return k + c


@njit(cache=True, nogil=True, inline="always")
def _scratch(cap, sampler):
    """Chunk scratch in one allocation: (dp, route, slot, sampler weights, sampler slots).

    One allocation instead of five: for a short text the allocator costs as
    much as the segmentation.
    """
    m = cap + 1
    buf = np.empty(2 * m + 2 * sampler, np.float64)
    back = buf[m : 2 * m].view(np.int32)
    return (
        buf[:m],
        back[:m],
        back[m:],
        buf[2 * m : 2 * m + sampler],
        buf[2 * m + sampler :].view(np.int64),
    )


@njit(cache=True, nogil=True, inline="always")
def _next_document(forced, fd, c0, doc, seed, state):
    """Step past the forced boundaries up to ``c0``; a new document restarts the random
    stream from (seed, document), so a batch draws alike however it is split."""
    while fd < forced.shape[0] and forced[fd] <= c0:
        if forced[fd] == c0 and c0 > 0:
            doc += 1
            state = _doc_seed(seed, doc)
        fd += 1
    return fd, doc, state


@njit(cache=True, nogil=True, inline="always")
def _run(text, forced, rt, val, ids, sampling, seed, doc0, out_end, out_id, with_ends):
    """Segment every chunk into ``out_id`` (and ``out_end``); returns (tokens, score).

    ``val`` holds log-probabilities (Viterbi; the score is the path's) or
    weights p^α (``sampling``; the score is log Z) per slot of ``rt``.  Scratch is sized to the
    longest chunk, not the text: a whole file in one call touches a few pages
    per line instead of fresh memory for every byte.  Inlined into each entry
    point: a call between kernels costs a reference count per array argument.
    """
    n = len(text)
    cap = min(n, 1 << 16)
    sampler = np.int64(_header(rt)[1]) if sampling else np.int64(0)  # per-end candidates
    dp, route, rslot, ws, wt = _scratch(cap, sampler)
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
        m = c1 - c0
        if m > cap:
            cap = max(m, 2 * cap)
            dp, route, rslot, ws, wt = _scratch(cap, sampler)
        if sampling:
            log_z, state = _sample_chunk(text, c0, m, rt, val, dp, route, rslot, state, ws, wt)
            total += log_z
        else:
            _viterbi_chunk(text, c0, m, rt, val, dp, route, rslot)
            total += dp[m]
        k = _emit(route, rslot, ids, m, c0, out_end, out_id, k, with_ends)
        c0 = c1
    return k, total


@njit(cache=True, nogil=True)
def segment(text, forced, rt, val, ids, alpha, seed, doc0):
    """Segment ``text``: returns (token ends, token ids, total score).

    ``alpha < 0`` is Viterbi with ``val`` holding log-probabilities per trie
    slot (the score is the path's log-probability); otherwise an exact draw with
    ``val`` holding the weights p^α (the score is log Z(α)).  ``ids`` maps trie
    slots to piece ids.  ``forced`` boundaries separate documents; the sampler restarts its
    random stream at each document from (seed, document index), so a batch
    draws the same samples however it is split across threads.  Token ids of
    -1 mark a byte no piece covers (a vocabulary without all 256 single bytes).
    """
    n = len(text)
    out_end = np.empty(n, np.int64)  # pages past the last token are never touched
    out_id = np.empty(n, np.int32)
    k, total = _run(text, forced, rt, val, ids, alpha >= 0.0, seed, doc0, out_end, out_id, True)
    return out_end[:k].copy(), out_id[:k].copy(), total


@njit(cache=True, nogil=True)
def log_partition(text, forced, rt, val, ids):
    """Σ over chunks of log Σ_seg Π w(piece): the sampler's log normalizer.

    With slot weights p^α this is log Z(α); with weights of 1 at every piece it
    is the log of the number of segmentations.  The sampler's forward pass
    computes it; the draw that comes with it is discarded.
    """
    out = np.empty(len(text), np.int32)
    _, total = _run(text, forced, rt, val, ids, True, 0, 0, out, out, False)
    return total


# ------------------------------------------------------------ list results
# tokenize() and encode() get the Python list itself from these (they hold the
# GIL: they make Python objects).  They live beside the kernel they inline, as
# numba stamps a cache with its own file only (kernel_cache.py covers the rest).


@intrinsic
def _new_list(typingctx, table, idx, k):
    """``[table[idx[0]], ..., table[idx[k-1]]]`` as a new Python list.

    ``table`` holds object addresses (int64), ``idx`` indices into it (all
    valid: the caller checks).  Each item gets a new reference, which the list
    owns; the list is the caller's new reference (numba returns it as it is).
    """
    sig = types.Object(list)(table, idx, k)

    def codegen(context, builder, signature, args):
        pyapi = context.get_python_api(builder)
        tab = context.make_array(signature.args[0])(context, builder, args[0])
        ix = context.make_array(signature.args[1])(context, builder, args[1])
        n = args[2]
        lst = pyapi.list_new(n)  # NULL with MemoryError set: returned as is, raised
        filled = cgutils.is_not_null(builder, lst)
        with builder.if_then(filled, likely=True), cgutils.for_range(builder, n) as loop:
            i = builder.load(builder.gep(ix.data, [loop.index]))
            if i.type.width < 64:
                i = builder.sext(i, ir.IntType(64))
            obj = builder.inttoptr(builder.load(builder.gep(tab.data, [i])), pyapi.pyobj)
            pyapi.incref(obj)
            pyapi.list_setitem(lst, loop.index, obj)  # steals the reference
        return lst

    return sig, codegen


@njit(cache=True, inline="always")
def _listed(table, ids, k):
    """The list of ``table`` objects for ``ids[:k]``; empty if a byte was uncovered (id −1)."""
    for j in range(k):
        if ids[j] < 0:
            return _new_list(table, ids, 0)
    return _new_list(table, ids, k)


@njit(cache=True)
def viterbi_list(text, rt, val, ids, table):
    """The Viterbi tokens of ``text`` (``bytes``) as a list of ``table`` objects.

    ``rt``, ``val``, ``ids`` are the reversed trie, its log-probabilities and
    piece ids per slot (see :mod:`~piecelab.engine.kernels`); ``table`` maps a
    piece id to the address of the object to return for it.  An empty list
    for a non-empty text means a byte had no piece: the caller reports it.
    """
    n = len(text)
    if n >= _MAX_TEXT:
        raise ValueError("texts of 2 GiB or more must be split before tokenizing")
    out = np.empty(n, np.int32)
    k, _ = _run(text, NO_FORCED, rt, val, ids, False, 0, 0, out, out, False)
    return _listed(table, out, k)


@njit(cache=True)
def sample_list(text, rt, val, ids, seed, table):
    """One exact draw (``val`` holding p^α per slot) as :func:`viterbi_list`."""
    n = len(text)
    if n >= _MAX_TEXT:
        raise ValueError("texts of 2 GiB or more must be split before tokenizing")
    out = np.empty(n, np.int32)
    k, _ = _run(text, NO_FORCED, rt, val, ids, True, seed, 0, out, out, False)
    return _listed(table, out, k)


@njit(cache=True)
def list_of(table, ids):
    """The ``table`` objects of ``ids`` (int32, all valid) as a list."""
    return _new_list(table, ids, len(ids))
