"""Compiled segmentation kernels over byte arrays (numba, no Python objects).

All kernels share one picture: the text is a ``uint8`` array cut into *chunks*
(BytePiece's ``.*\\n+|.+``: a line with its run of newlines, plus any extra
boundaries the caller forces, such as document ends).  Pieces never cross a
chunk boundary and every chunk is segmented independently, its score starting
from 0, so results agree bit for bit with a chunk-by-chunk reference.

From each start position ``s`` the double-array trie is walked forward over
``text[s]``, ``text[s+1]``, ...; every node with a value is a piece ``text[s:p]``.
The walk stops at the first missing transition, so the work per byte is the
length of the longest piece starting there, not the vocabulary size.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NEG_INF = -np.inf
_NL = 10


@njit(cache=True, nogil=True, inline="always")
def _next_random(state):
    """xorshift64* step on a one-element uint64 array; returns a double in [0, 1)."""
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return ((x * np.uint64(0x2545F4914F6CDD1D)) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True)
def _doc_seed(seed, doc):
    """A non-zero xorshift state for (seed, document), mixed by splitmix64's finalizer."""
    x = np.uint64(seed) ^ (np.uint64(doc) * np.uint64(0xD1B54A32D192ED03))
    x += np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    return x if x != 0 else np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, nogil=True)
def chunk_ends(text, forced):
    """End offsets of the chunks of ``text``; ``forced`` (sorted) adds boundaries."""
    n = text.shape[0]
    out = np.empty(n + forced.shape[0] + 1, np.int64)
    m = 0
    f = 0
    for i in range(1, n):
        while f < forced.shape[0] and forced[f] <= i:
            if forced[f] > 0 and (m == 0 or out[m - 1] < forced[f]):
                out[m] = forced[f]
                m += 1
            f += 1
        if text[i - 1] == _NL and text[i] != _NL and (m == 0 or out[m - 1] < i):
            out[m] = i
            m += 1
    if n > 0:
        out[m] = n
        m += 1
    return out[:m]


@njit(cache=True, nogil=True)
def _viterbi_chunk(text, c0, c1, base, check, value, max_depth, scores, dp, route, rid):
    """Unigram Viterbi over one chunk, walking the trie forward from each start.

    Candidates for an end arrive in order of increasing start, and a later one
    must be strictly better to win, so exact ties keep the longest piece.
    Path scores are summed left to right from 0, as in the reference.
    """
    for i in range(c0 + 1, c1 + 1):
        dp[i] = NEG_INF
        rid[i] = -1
    dp[c0] = 0.0
    for s in range(c0, c1):
        d = dp[s]
        if d == NEG_INF:
            # no piece reaches s (a byte missing from the vocabulary): step over it
            d = dp[s - 1] - 1e6 if s > c0 else 0.0
            dp[s] = d
            route[s] = s - 1
            rid[s] = -1
        node = 0
        p = s
        lim = min(c1, s + max_depth)
        while p < lim:
            t = base[node] + text[p]
            if check[t] != node:
                break
            node = t
            p += 1
            v = value[t]
            if v >= 0:
                sc = d + scores[v]
                if sc > dp[p]:
                    dp[p] = sc
                    route[p] = s
                    rid[p] = v
    if dp[c1] == NEG_INF:
        dp[c1] = dp[c1 - 1] - 1e6
        route[c1] = c1 - 1
        rid[c1] = -1


@njit(cache=True, nogil=True)
def _sample_chunk(text, c0, c1, base, check, value, max_depth, weights, z, route, rid, rng):
    """An exact draw over one chunk with P(seg) ∝ Π w(piece), w = p^α, in one pass.

    ``z[p]`` accumulates the (scaled) partition of all paths ending at p; each
    new candidate w replaces the back-pointer with probability w / z[p], which
    leaves every candidate chosen in proportion to its weight (a running
    reservoir draw).  Weights are linear, so no exp or log per candidate; when
    the partition at the frontier leaves [1e-100, 1e100] every pending value is
    rescaled by the same factor, kept in the returned log scale.  Returns
    log Z of the chunk.
    """
    for i in range(c0 + 1, c1 + 1):
        z[i] = 0.0
        rid[i] = -1
    z[c0] = 1.0
    log_scale = 0.0
    for s in range(c0, c1):
        zs = z[s]
        if zs == 0.0:
            zs = z[s - 1] if s > c0 else 1.0
            z[s] = zs
            route[s] = s - 1
            rid[s] = -1
        lim = min(c1, s + max_depth)
        if zs < 1e-100 or zs > 1e100:
            f = 1.0 / zs
            for q in range(s, lim + 1):
                z[q] *= f
            log_scale += np.log(zs)
            zs = 1.0
        node = 0
        p = s
        while p < lim:
            t = base[node] + text[p]
            if check[t] != node:
                break
            node = t
            p += 1
            v = value[t]
            if v >= 0:
                w = zs * weights[v]
                total = z[p] + w
                z[p] = total
                take = _next_random(rng) * total < w  # a select, not a branch
                route[p] = s if take else route[p]
                rid[p] = v if take else rid[p]
    if z[c1] == 0.0:
        z[c1] = z[c1 - 1]
        route[c1] = c1 - 1
        rid[c1] = -1
    return log_scale + np.log(z[c1])


@njit(cache=True, nogil=True, inline="always")
def _next_end(text, c0, forced, fi):
    """End of the chunk starting at c0 (and the advanced forced-boundary index)."""
    n = text.shape[0]
    while fi < forced.shape[0] and forced[fi] <= c0:
        fi += 1
    stop = forced[fi] if fi < forced.shape[0] else n
    i = c0 + 1
    while i < stop and not (text[i - 1] == _NL and text[i] != _NL):
        i += 1
    return i, fi


@njit(cache=True, nogil=True)
def _forward(text, forced, base, check, value, max_depth, scores, weights, alpha, seed, doc0):
    """Run every chunk; returns (route, rid, total score or total log Z)."""
    n = text.shape[0]
    dp = np.empty(n + 1, np.float64)
    route = np.empty(n + 1, np.int32)
    rid = np.empty(n + 1, np.int32)
    rng = np.empty(1, np.uint64)
    rng[0] = _doc_seed(seed, doc0)
    doc = doc0
    fd = 0
    fi = 0
    total = 0.0
    c0 = 0
    while c0 < n:
        c1, fi = _next_end(text, c0, forced, fi)
        while fd < forced.shape[0] and forced[fd] <= c0:
            if forced[fd] == c0 and c0 > 0:
                doc += 1
                rng[0] = _doc_seed(seed, doc)
            fd += 1
        if alpha >= 0.0:
            total += _sample_chunk(
                text, c0, c1, base, check, value, max_depth, weights, dp, route, rid, rng
            )
        else:
            _viterbi_chunk(text, c0, c1, base, check, value, max_depth, scores, dp, route, rid)
            total += dp[c1]
        c0 = c1
    return route, rid, total


@njit(cache=True, nogil=True)
def _unroll(route, rid, n):
    """Token (ends, ids) by following back-pointers from the end of the text."""
    k = 0
    e = n
    while e > 0:
        k += 1
        e = route[e]
    out_end = np.empty(k, np.int64)
    out_id = np.empty(k, np.int32)
    e = n
    while e > 0:
        k -= 1
        out_end[k] = e
        out_id[k] = rid[e]
        e = route[e]
    return out_end, out_id


@njit(cache=True, nogil=True)
def segment(text, forced, base, check, value, max_depth, scores, weights, alpha, seed, doc0):
    """Segment ``text``: returns (token ends, token ids, total score).

    ``alpha < 0`` is Viterbi (the score is the path's log-probability); otherwise
    an exact draw with piece weights ``weights`` (= p^α; the score is log Z(α)).
    ``forced`` boundaries separate documents; the sampler restarts its random
    stream at each document from (seed, document index), so a batch draws the
    same samples however it is split across threads.  Token ids of -1 mark a
    byte no piece covers (a vocabulary without all 256 single bytes).
    """
    route, rid, total = _forward(
        text, forced, base, check, value, max_depth, scores, weights, alpha, seed, doc0
    )
    out_end, out_id = _unroll(route, rid, text.shape[0])
    return out_end, out_id, total


@njit(cache=True, nogil=True)
def encode(text, base, check, value, max_depth, scores, weights, alpha, seed):
    """Token ids only, and how many bytes no piece covers: the lean path of tokenize()."""
    forced = np.empty(0, np.int64)
    route, rid, _ = _forward(
        text, forced, base, check, value, max_depth, scores, weights, alpha, seed, 0
    )
    k = 0
    e = text.shape[0]
    while e > 0:
        k += 1
        e = route[e]
    out_id = np.empty(k, np.int32)
    bad = 0
    e = text.shape[0]
    while e > 0:
        k -= 1
        v = rid[e]
        out_id[k] = v
        if v < 0:
            bad += 1
        e = route[e]
    return out_id, bad


@njit(cache=True, nogil=True)
def log_partition(text, forced, base, check, value, max_depth, weights):
    """Σ over chunks of log Σ_seg Π w(piece): the sampler's log normalizer.

    With ``weights`` = p^α this is log Z(α); with weights of 1 it is the log of
    the number of segmentations.
    """
    n = text.shape[0]
    ends = chunk_ends(text, forced)
    z = np.empty(n + 1, np.float64)
    route = np.empty(n + 1, np.int32)
    rid = np.empty(n + 1, np.int32)
    rng = np.zeros(1, np.uint64)
    total = 0.0
    c0 = 0
    for ci in range(ends.shape[0]):
        c1 = ends[ci]
        total += _sample_chunk(
            text, c0, c1, base, check, value, max_depth, weights, z, route, rid, rng
        )
        c0 = c1
    return total


@njit(cache=True, nogil=True)
def all_matches(text, forced, base, check, value, max_depth):
    """Every vocabulary piece occurring inside a chunk: (starts, ends, ids) by start."""
    n = text.shape[0]
    ends = chunk_ends(text, forced)
    cap = n * 4 + 16
    ms = np.empty(cap, np.int64)
    me = np.empty(cap, np.int64)
    mi = np.empty(cap, np.int32)
    k = 0
    c0 = 0
    for ci in range(ends.shape[0]):
        c1 = ends[ci]
        for s in range(c0, c1):
            node = 0
            p = s
            lim = min(c1, s + max_depth)
            while p < lim:
                t = base[node] + text[p]
                if check[t] != node:
                    break
                node = t
                p += 1
                v = value[t]
                if v >= 0:
                    if k == cap:
                        cap *= 2
                        ms2 = np.empty(cap, np.int64)
                        me2 = np.empty(cap, np.int64)
                        mi2 = np.empty(cap, np.int32)
                        ms2[:k] = ms[:k]
                        me2[:k] = me[:k]
                        mi2[:k] = mi[:k]
                        ms, me, mi = ms2, me2, mi2
                    ms[k] = s
                    me[k] = p
                    mi[k] = v
                    k += 1
        c0 = c1
    return ms[:k], me[:k], mi[:k]


@njit(cache=True, nogil=True)
def k_best(text, forced, base, check, value, max_depth, scores, k):
    """The k highest-scoring segmentations of the whole text (chunks chained).

    Returns (scores at the end, back[n+1, k, 3]) where back holds (start, rank
    at start, piece id), so that the caller can unroll each path.  Matches come
    from :func:`all_matches`, ordered by start, so every start is final when used.
    """
    n = text.shape[0]
    ms, me, mi = all_matches(text, forced, base, check, value, max_depth)
    sc = np.full((n + 1, k), NEG_INF)
    back = np.full((n + 1, k, 3), -1, np.int64)
    sc[0, 0] = 0.0
    for m in range(ms.shape[0]):
        s = ms[m]
        p = me[m]
        v = mi[m]
        for r in range(k):
            cand = sc[s, r]
            if cand == NEG_INF:
                break
            cand += scores[v]
            if cand <= sc[p, k - 1]:
                break
            # insert into the sorted top-k list at p
            j = k - 1
            while j > 0 and sc[p, j - 1] < cand:
                sc[p, j] = sc[p, j - 1]
                back[p, j, 0] = back[p, j - 1, 0]
                back[p, j, 1] = back[p, j - 1, 1]
                back[p, j, 2] = back[p, j - 1, 2]
                j -= 1
            sc[p, j] = cand
            back[p, j, 0] = s
            back[p, j, 1] = r
            back[p, j, 2] = v
    return sc[n].copy(), back
