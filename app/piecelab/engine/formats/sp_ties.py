"""SentencePiece's float32 choice among runs of one repeated character, compiled.

Pieces that repeat one character (``--``, ``****``) tie in every order; the
native SentencePiece engine settles each stretch of them as SentencePiece's
float32 Viterbi does (see ``NativeSentencePiece._float32_ties``).  A Python loop
here was half of the native engine's time.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def settle_runs(
    ids: np.ndarray,
    acc: np.float32,
    run_char: np.ndarray,
    run_row: np.ndarray,
    run_len: np.ndarray,
    f32: np.ndarray,
    row_start: np.ndarray,
    row_end: np.ndarray,
    tab_len: np.ndarray,
    tab_score: np.ndarray,
    tab_id: np.ndarray,
) -> tuple[np.ndarray, np.float32]:
    """(ids with every stretch of one character's run pieces re-solved in float32,
    the float32 score after them, starting from ``acc``).

    ``run_char[i]``: the character piece ``i`` repeats (−1: none); ``run_row[i]``:
    its row of pieces (``tab_*[row_start[r]:row_end[r]]``, shortest first), −1 when
    that character has no single-character piece; ``run_len[i]``: its length.
    """
    n = ids.shape[0]
    cap = n
    for t in range(n):
        if run_char[ids[t]] >= 0:
            cap += run_len[ids[t]]
    out = np.empty(cap, np.int64)
    m = 0
    total = np.float32(acc)
    i = 0
    while i < n:
        c = run_char[ids[i]]
        j = i
        while c >= 0 and j + 1 < n and run_char[ids[j + 1]] == c:
            j += 1
        first = m
        r = run_row[ids[i]]
        if j > i and r >= 0:
            length = 0
            for t in range(i, j + 1):
                length += run_len[ids[t]]
            m = _run_viterbi(
                out, m, total, length, row_start[r], row_end[r], tab_len, tab_score, tab_id
            )
        else:
            for t in range(i, j + 1):
                out[m] = ids[t]
                m += 1
        for t in range(first, m):
            total = np.float32(total + f32[out[t]])
        i = j + 1
    return out[:m], total


@njit(cache=True, nogil=True)
def _run_viterbi(out, m, start, length, lo, hi, tab_len, tab_score, tab_id):
    """SentencePiece's Viterbi over ``length`` copies of one character, in float32
    (first of equal sums kept, pieces tried shortest first); writes at ``out[m:]``."""
    best = np.empty(length + 1, np.float32)
    seen = np.zeros(length + 1, np.bool_)
    back_pos = np.zeros(length + 1, np.int64)
    back_id = np.zeros(length + 1, np.int64)
    best[0] = start
    seen[0] = True
    for s in range(length):
        if not seen[s]:
            continue
        b = best[s]
        for q in range(lo, hi):
            e = s + tab_len[q]
            if e > length:
                break
            cand = np.float32(b + tab_score[q])
            if not seen[e] or cand > best[e]:
                best[e] = cand
                seen[e] = True
                back_pos[e] = s
                back_id[e] = tab_id[q]
    first = m
    e = length
    while e > 0:
        out[m] = back_id[e]
        m += 1
        e = back_pos[e]
    out[first:m] = out[first:m][::-1].copy()
    return m
