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
    """splitmix64 step on a one-element uint64 array; returns a double in [0, 1)."""
    x = state[0] + np.uint64(0x9E3779B97F4A7C15)
    state[0] = x
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True)
def _doc_seed(seed, doc):
    return np.uint64(seed) ^ (np.uint64(doc) * np.uint64(0xD1B54A32D192ED03))


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
    """
    for i in range(c0 + 1, c1 + 1):
        dp[i] = NEG_INF
        rid[i] = -1
    dp[c0] = 0.0
    for s in range(c0, c1):
        d = dp[s]
        if d == NEG_INF:
            # no piece reaches s: step over one byte with a large penalty
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
def _sample_chunk(
    text, c0, c1, base, check, value, max_depth, scores, alpha, dp, wsum, route, rid, rng
):
    """An exact draw over one chunk with P(seg) ∝ Π p(piece)^α, in one forward pass.

    Each end keeps a running log-sum-exp of α·(path score) as a reference ``dp``
    (the largest candidate so far) and a scaled sum ``wsum``; a new candidate
    replaces the back-pointer with probability w / W, which leaves every
    candidate chosen in proportion to its weight.  One exp per candidate.
    """
    for i in range(c0 + 1, c1 + 1):
        dp[i] = NEG_INF
        wsum[i] = 0.0
        rid[i] = -1
    dp[c0] = 0.0
    wsum[c0] = 1.0
    for s in range(c0, c1):
        if wsum[s] > 0.0:
            d = dp[s] + np.log(wsum[s])
        else:
            d = dp[s - 1] - 1e6 if s > c0 else 0.0
            route[s] = s - 1
            rid[s] = -1
        dp[s] = d
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
                sc = d + alpha * scores[v]
                ref = dp[p]
                if sc <= ref:
                    w = np.exp(sc - ref)
                    total = wsum[p] + w
                else:
                    w = 1.0
                    total = wsum[p] * np.exp(ref - sc) + 1.0
                    dp[p] = sc
                wsum[p] = total
                if _next_random(rng) * total < w:
                    route[p] = s
                    rid[p] = v
    if wsum[c1] > 0.0:
        dp[c1] = dp[c1] + np.log(wsum[c1])
    else:
        dp[c1] = dp[c1 - 1] - 1e6
        route[c1] = c1 - 1
        rid[c1] = -1


@njit(cache=True, nogil=True)
def segment(text, forced, base, check, value, max_depth, scores, alpha, seed, doc0):
    """Segment ``text``: returns (token ends, token ids, per-chunk path score).

    ``forced`` boundaries separate documents; the sampler restarts its random
    stream at each document from (seed, document index), so a batch draws the
    same samples however it is split across threads.  Token ids of -1 mark a
    byte no piece covers (a vocabulary without all 256 single bytes).
    """
    n = text.shape[0]
    ends = chunk_ends(text, forced)
    dp = np.empty(n + 1, np.float64)
    wsum = np.empty(n + 1 if alpha >= 0.0 else 0, np.float64)
    route = np.empty(n + 1, np.int64)
    rid = np.empty(n + 1, np.int32)
    rng = np.empty(1, np.uint64)
    rng[0] = _doc_seed(seed, doc0)
    doc = doc0
    fi = 0
    out_end = np.empty(n, np.int64)
    out_id = np.empty(n, np.int32)
    chunk_score = np.empty(ends.shape[0], np.float64)
    m = 0
    c0 = 0
    for ci in range(ends.shape[0]):
        c1 = ends[ci]
        while fi < forced.shape[0] and forced[fi] <= c0:
            if forced[fi] == c0 and c0 > 0:
                doc += 1
                rng[0] = _doc_seed(seed, doc)
            fi += 1
        if alpha >= 0.0:
            _sample_chunk(
                text,
                c0,
                c1,
                base,
                check,
                value,
                max_depth,
                scores,
                alpha,
                dp,
                wsum,
                route,
                rid,
                rng,
            )
        else:
            _viterbi_chunk(text, c0, c1, base, check, value, max_depth, scores, dp, route, rid)
        chunk_score[ci] = dp[c1]
        k = 0
        e = c1
        while e > c0:
            k += 1
            e = route[e]
        m += k
        e = c1
        j = m - 1
        while e > c0:
            out_end[j] = e
            out_id[j] = rid[e]
            j -= 1
            e = route[e]
        c0 = c1
    return out_end[:m], out_id[:m], chunk_score


@njit(cache=True, nogil=True)
def log_partition(text, forced, base, check, value, max_depth, scores, alpha):
    """Σ over chunks of log Σ_seg exp(α · score(seg)), and the log of the path count."""
    n = text.shape[0]
    ends = chunk_ends(text, forced)
    ref = np.empty(n + 1, np.float64)
    acc = np.empty(n + 1, np.float64)
    cnt = np.empty(n + 1, np.float64)  # path counts, rescaled by 2**-k when they grow
    cexp = np.zeros(n + 1, np.float64)  # log of the count scale
    total = 0.0
    log_count = 0.0
    c0 = 0
    for ci in range(ends.shape[0]):
        c1 = ends[ci]
        for i in range(c0, c1 + 1):
            ref[i] = NEG_INF
            acc[i] = 0.0
            cnt[i] = 0.0
            cexp[i] = 0.0
        ref[c0] = 0.0
        acc[c0] = 1.0
        cnt[c0] = 1.0
        for s in range(c0, c1):
            if acc[s] == 0.0:
                continue
            d = ref[s] + np.log(acc[s])
            ns = cnt[s]
            es = cexp[s]
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
                    sc = d + alpha * scores[v]
                    if sc <= ref[p]:
                        acc[p] += np.exp(sc - ref[p])
                    else:
                        acc[p] = acc[p] * np.exp(ref[p] - sc) + 1.0
                        ref[p] = sc
                    # counts: bring both to the larger scale, then add
                    if cnt[p] == 0.0 or es > cexp[p]:
                        cnt[p] = cnt[p] * np.exp(cexp[p] - es) + ns
                        cexp[p] = es
                    else:
                        cnt[p] += ns * np.exp(es - cexp[p])
                    if cnt[p] > 1e300:
                        cnt[p] *= 1e-300
                        cexp[p] += 690.7755278982137
        if acc[c1] > 0.0:
            total += ref[c1] + np.log(acc[c1])
            log_count += np.log(cnt[c1]) + cexp[c1]
        else:
            total = NEG_INF
        c0 = c1
    return total, log_count


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
    at start, piece id), so that the caller can unroll each path.
    """
    n = text.shape[0]
    ends = chunk_ends(text, forced)
    sc = np.full((n + 1, k), NEG_INF)
    back = np.full((n + 1, k, 3), -1, np.int64)
    sc[0, 0] = 0.0
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
                if v < 0:
                    continue
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
        c0 = c1
    return sc[n].copy(), back
