"""The GUI's enumerations over the forward trie: every match, the k best paths.

Unlike Viterbi and sampling (:mod:`~piecelab.engine.kernels`), these list
pieces by start position, walking the forward double array
(:class:`~piecelab.engine.trie.DoubleArrayTrie`) from every byte; they run on
one sentence at a time, so they favour plain code over speed.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .kernels import NEG_INF, chunk_ends


@njit(cache=True, nogil=True)
def all_matches(text, forced, base, check, value, max_depth):
    """Every vocabulary piece occurring inside a chunk: (starts, ends, ids) by start."""
    n = len(text)
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
    n = len(text)
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
