"""Byte n-gram counting and the n-gram Viterbi that proposes pieces (numba kernels).

An n-gram of length L ≤ 7 is packed into one uint64: ``L << 56 | bytes``
(big-endian), so 0 never occurs and marks an empty slot.  Counting uses open
addressing with linear probing; lengths 1 and 2 are counted in a dense array.
Each worker thread counts its own batches into its own table; the tables are
merged once at the end.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

MAX_ORDER = 7
_MULT = np.uint64(0x9E3779B97F4A7C15)
_SHIFT56 = np.uint64(56)
LOAD_LIMIT = 0.7


@njit(cache=True, nogil=True, inline="always")
def _hash(key):
    return key * _MULT


@njit(cache=True, nogil=True)
def count_ngrams(text, ends, start_chunk, order, small, keys, counts, used):
    """Count the n-grams (1..order bytes, inside chunks) of ``text``.

    Lengths 1 and 2 go to the dense array ``small`` (index ``b`` and
    ``256 + (b1 << 8 | b2)``); longer ones to the hash table.  Stops early when
    the table passes its load limit and returns the index of the first chunk not
    counted (the caller grows the table and calls again); returns ``len(ends)``
    when done.  ``used`` is a one-element array with the occupied slots.
    """
    cap = keys.shape[0]
    bits = np.uint64(64 - int(np.log2(cap)))
    limit = int(cap * LOAD_LIMIT)
    c0 = ends[start_chunk - 1] if start_chunk > 0 else 0
    for ci in range(start_chunk, ends.shape[0]):
        c1 = ends[ci]
        if used[0] + (c1 - c0) * max(order - 2, 0) > limit:
            return ci
        for i in range(c0, c1):
            b0 = np.int64(text[i])
            small[b0] += 1
            if i + 1 >= c1 or order < 2:
                continue
            b1 = np.int64(text[i + 1])
            small[256 + (b0 << 8 | b1)] += 1
            packed = np.uint64(b0 << 8 | b1)
            top = min(order, c1 - i)
            for j in range(2, top):
                packed = (packed << np.uint64(8)) | np.uint64(text[i + j])
                key = (np.uint64(j + 1) << _SHIFT56) | packed
                slot = _hash(key) >> bits
                while True:
                    k = keys[slot]
                    if k == key:
                        counts[slot] += 1
                        break
                    if k == 0:
                        keys[slot] = key
                        counts[slot] = 1
                        used[0] += 1
                        break
                    slot = (slot + np.uint64(1)) & np.uint64(cap - 1)
        c0 = c1
    return ends.shape[0]


@njit(cache=True, nogil=True)
def merge_counts(keys, counts, used, other_keys, other_counts, start):
    """Add another table's entries into this one; returns where it stopped (full)."""
    cap = keys.shape[0]
    bits = np.uint64(64 - int(np.log2(cap)))
    limit = int(cap * LOAD_LIMIT)
    for s in range(start, other_keys.shape[0]):
        key = other_keys[s]
        if key == 0:
            continue
        if used[0] + 1 > limit:
            return s
        slot = _hash(key) >> bits
        while True:
            k = keys[slot]
            if k == key:
                counts[slot] += other_counts[s]
                break
            if k == 0:
                keys[slot] = key
                counts[slot] = other_counts[s]
                used[0] += 1
                break
            slot = (slot + np.uint64(1)) & np.uint64(cap - 1)
    return other_keys.shape[0]


@njit(cache=True, nogil=True)
def rehash(keys, counts, new_cap):
    """A table with capacity ``new_cap`` (a power of two) holding the same entries."""
    nk = np.zeros(new_cap, np.uint64)
    nc = np.zeros(new_cap, counts.dtype)
    bits = np.uint64(64 - int(np.log2(new_cap)))
    for s in range(keys.shape[0]):
        key = keys[s]
        if key == 0:
            continue
        slot = _hash(key) >> bits
        while nk[slot] != 0:
            slot = (slot + np.uint64(1)) & np.uint64(new_cap - 1)
        nk[slot] = key
        nc[slot] = counts[s]
    return nk, nc


@njit(cache=True, nogil=True)
def _lookup(keys, key, bits, mask):
    slot = _hash(key) >> bits
    while True:
        k = keys[slot]
        if k == key:
            return np.int64(slot)
        if k == 0:
            return np.int64(-1)
        slot = (slot + np.uint64(1)) & mask


@njit(cache=True, nogil=True)
def _collect_kept(small, keys, counts, min_count):
    """A table of the n-grams with count ≥ min_count (and every single byte,
    unseen ones with count 1); returns (keys, counts as float, unseen bytes)."""
    missing = 0
    for b in range(256):
        if small[b] == 0:
            missing += 1
    kept = 256
    for b in range(65536):
        if small[256 + b] >= min_count:
            kept += 1
    for s in range(keys.shape[0]):
        if keys[s] != 0 and counts[s] >= min_count:
            kept += 1
    cap = 1024
    while cap * 0.5 < kept:
        cap *= 2
    bits = np.uint64(64 - int(np.log2(cap)))
    mask = np.uint64(cap - 1)
    out_keys = np.zeros(cap, np.uint64)
    out_counts = np.zeros(cap, np.float64)
    for idx in range(256 + 65536 + keys.shape[0]):
        if idx < 256:
            key = (np.uint64(1) << _SHIFT56) | np.uint64(idx)
            c = max(small[idx], 1)
        elif idx < 256 + 65536:
            c = small[idx]
            if c < min_count or c == 0:
                continue
            key = (np.uint64(2) << _SHIFT56) | np.uint64(idx - 256)
        else:
            key = keys[idx - 256 - 65536]
            c = counts[idx - 256 - 65536]
            if key == 0 or c < min_count:
                continue
        slot = _hash(key) >> bits
        while out_keys[slot] != 0:
            slot = (slot + np.uint64(1)) & mask
        out_keys[slot] = key
        out_counts[slot] = c
    return out_keys, out_counts, missing


@njit(cache=True, nogil=True)
def _conditional(keys, logc, log_total):
    cap = keys.shape[0]
    bits = np.uint64(64 - int(np.log2(cap)))
    mask = np.uint64(cap - 1)
    logp = np.full(cap, -np.inf)
    for s in range(cap):
        key = keys[s]
        if key == 0:
            continue
        length = key >> _SHIFT56
        if length == 1:
            logp[s] = logc[s] - log_total
        else:
            body = key & ((np.uint64(1) << _SHIFT56) - np.uint64(1))
            prefix = ((length - np.uint64(1)) << _SHIFT56) | (body >> np.uint64(8))
            logp[s] = logc[s] - logc[_lookup(keys, prefix, bits, mask)]
    return logp


def build_logp_table(
    small: np.ndarray, keys: np.ndarray, counts: np.ndarray, min_count: int, total: int
) -> tuple[np.ndarray, np.ndarray]:
    """Keep n-grams with count ≥ min_count (all single bytes) and turn counts into
    conditional log-probabilities log c(k) − log c(k minus its last byte).

    The logs are numpy's, as in the reference trainer, so that near-ties in the
    n-gram Viterbi resolve the same way.  Returns (keys, logp) of a new table.
    """
    out_keys, out_counts, missing = _collect_kept(small, keys, counts, max(min_count, 1))
    with np.errstate(divide="ignore"):
        logc = np.log(out_counts)
    return out_keys, _conditional(out_keys, logc, np.log(float(total + missing)))


@njit(cache=True, nogil=True)
def _piece_hash(text, a, b):
    h = np.uint64(0xCBF29CE484222325)
    for i in range(a, b):
        h = (h ^ np.uint64(text[i])) * np.uint64(0x100000001B3)
    return h ^ (np.uint64(b - a) * _MULT)


class PieceTable(NamedTuple):
    """Pieces with counts: open addressing over piece hashes, the bytes in one pool.

    Kernels take it as one argument (numba types a namedtuple's fields) and add
    pieces in place; only growing makes a new one (:func:`grow_piece_table`).
    """

    hashes: np.ndarray  # uint64 per slot, 0 = empty
    offsets: np.ndarray  # int64 per slot: where the piece starts in ``pool``
    lengths: np.ndarray  # int32 per slot
    counts: np.ndarray  # int64 per slot
    pool: np.ndarray  # uint8: the pieces' bytes, appended
    fill: np.ndarray  # int64 [occupied slots, bytes used in pool]


@njit(cache=True, nogil=True)
def add_piece(text, a, b, count, table):
    """Add ``count`` to the piece ``text[a:b]`` in ``table``; False if it has no room."""
    hashes, offs, lens, cnts = table.hashes, table.offsets, table.lengths, table.counts
    pool, fill = table.pool, table.fill
    cap = hashes.shape[0]
    mask = np.uint64(cap - 1)
    h = _piece_hash(text, a, b)
    if h == 0:
        h = np.uint64(1)
    slot = h & mask
    n = b - a
    while True:
        hs = hashes[slot]
        if hs == 0:
            break
        if hs == h and lens[slot] == n:
            o = offs[slot]
            same = True
            for k in range(n):
                if pool[o + k] != text[a + k]:
                    same = False
                    break
            if same:
                cnts[slot] += count
                return True
        slot = (slot + np.uint64(1)) & mask
    # new entry: needs room in the pool and the table (checked by the caller's reserve)
    top = fill[1]
    if top + n > pool.shape[0] or fill[0] + 1 > cap * LOAD_LIMIT:
        return False
    pool[top : top + n] = text[a:b]
    hashes[slot] = h
    offs[slot] = top
    lens[slot] = n
    cnts[slot] = count
    fill[0] += 1
    fill[1] = top + n
    return True


def new_piece_table(cap: int = 1 << 16, pool: int = 1 << 20) -> PieceTable:
    """An empty table with ``cap`` slots (a power of two) and ``pool`` bytes."""
    return PieceTable(
        np.zeros(cap, np.uint64),
        np.zeros(cap, np.int64),
        np.zeros(cap, np.int32),
        np.zeros(cap, np.int64),
        np.zeros(pool, np.uint8),
        np.zeros(2, np.int64),
    )


@njit(cache=True, nogil=True)
def _table_grow(table, new_cap, new_pool):
    hashes, fill = table.hashes, table.fill
    nh = np.zeros(new_cap, np.uint64)
    no = np.zeros(new_cap, np.int64)
    nl = np.zeros(new_cap, np.int32)
    nc = np.zeros(new_cap, np.int64)
    npool = np.zeros(new_pool, np.uint8)
    npool[: fill[1]] = table.pool[: fill[1]]
    mask = np.uint64(new_cap - 1)
    for s in range(hashes.shape[0]):
        h = hashes[s]
        if h == 0:
            continue
        slot = h & mask
        while nh[slot] != 0:
            slot = (slot + np.uint64(1)) & mask
        nh[slot] = h
        no[slot] = table.offsets[s]
        nl[slot] = table.lengths[s]
        nc[slot] = table.counts[s]
    return PieceTable(nh, no, nl, nc, npool, fill.copy())


def grow_piece_table(table: PieceTable, need: int = 0, need_bytes: int | None = None) -> PieceTable:
    """A larger copy with room for ``need`` more pieces and ``need_bytes`` (default
    ``need``) more bytes."""
    need_bytes = need if need_bytes is None else need_bytes
    used, top = int(table.fill[0]), int(table.fill[1])
    cap = table.hashes.shape[0]
    while used + need + 1 > cap * LOAD_LIMIT:
        cap *= 2
    size = table.pool.shape[0]
    while top + need_bytes > size:
        size *= 2
    return _table_grow(table, cap, 2 * size if size == table.pool.shape[0] else size)


@njit(cache=True, nogil=True, inline="always")
def _node_scores(text, at, i, order, keys, logp, bits, mask, ensure_unicode, node):
    """``node[j]`` = log p(byte ``at + i`` | the j bytes before it), −inf when not kept.

    An n-gram whose shorter suffix was not kept was not kept either, so the
    lookups stop at the first miss.  With ``ensure_unicode`` no piece may start
    at a UTF-8 continuation byte (state 0 gets −inf there).
    """
    packed = np.uint64(0)
    found = True
    for j in range(order):
        if j > i or not found:
            node[j] = -np.inf
            continue
        packed = packed | (np.uint64(text[at + i - j]) << np.uint64(8 * j))
        key = (np.uint64(j + 1) << _SHIFT56) | packed
        slot = _lookup(keys, key, bits, mask)
        if slot >= 0:
            node[j] = logp[slot]
        else:
            node[j] = -np.inf
            found = False
    if ensure_unicode and (text[at + i] & 0xC0) == 0x80:
        node[0] = -np.inf


@njit(cache=True, nogil=True, inline="always")
def _forward_step(node, prev, score, routes, i, order):
    """One byte of the state Viterbi: new ``score`` from ``prev`` + ``node``.

    State 0 (a piece starts) comes from any state, state j from j − 1, and the
    last state also from itself.  The first maximum wins, compared after the
    addition as numpy's argmax does in the reference; a state that is −inf
    from every side routes to 0.  ``routes[i, j]`` gets the winning previous state.
    """
    nd = node[0]
    best = prev[0] + nd
    arg = 0
    for k in range(1, order):
        cand = prev[k] + nd
        if cand > best:
            best = cand
            arg = k
    score[0] = best
    routes[i, 0] = arg if best > -np.inf else 0
    for j in range(1, order):
        nd = node[j]
        best = prev[j - 1] + nd
        arg = j - 1
        if j == order - 1:
            cand = prev[j] + nd
            if cand > best:
                best = cand
                arg = j
        score[j] = best
        routes[i, j] = arg if best > -np.inf else 0


@njit(cache=True, nogil=True, inline="always")
def _backtrack(score, routes, order, n, state_path):
    """The best state at each byte of a chunk into ``state_path`` (the last byte
    takes the first best final state)."""
    best = score[0]
    st = 0
    for k in range(1, order):
        if score[k] > best:
            best = score[k]
            st = k
    for i in range(n - 1, -1, -1):
        state_path[i] = st
        if i > 0:
            st = routes[i, st]


@njit(cache=True, nogil=True)
def ngram_viterbi_count(text, ends, start_chunk, keys, logp, order, ensure_unicode, table, stats):
    """Segment chunks with the byte n-gram model and count the pieces in ``table``.

    States are "position within the current piece" 0..order-1, the last one
    absorbing longer pieces; a piece starts where the state is 0.  Ties go to
    the lowest state, as numpy's argmax does in the reference.  Returns the index
    of the first chunk not processed (the piece table was full) or ``len(ends)``;
    ``stats`` accumulates [bytes, pieces].  The inlined helpers run inside the
    byte loop or make no call, so numba's reference counts on their array
    arguments cancel out (benchmarks/NOTES.md, "trainer").
    """
    bits = np.uint64(64 - int(np.log2(keys.shape[0])))
    mask = np.uint64(keys.shape[0] - 1)
    c0 = ends[start_chunk - 1] if start_chunk > 0 else 0
    max_len = 0
    for ci in range(start_chunk, ends.shape[0]):
        max_len = max(max_len, ends[ci] - (ends[ci - 1] if ci > 0 else 0))
    routes = np.zeros((max_len + 1, order), np.int8)
    score = np.empty(order, np.float64)
    prev = np.empty(order, np.float64)
    node = np.empty(order, np.float64)
    state_path = np.empty(max_len + 1, np.int8)
    fill = table.fill
    for ci in range(start_chunk, ends.shape[0]):
        c1 = ends[ci]
        n = c1 - c0
        if n == 0:
            continue
        # reserve room so that no piece of this chunk can fail to insert
        if fill[0] + n > table.hashes.shape[0] * LOAD_LIMIT or fill[1] + n > table.pool.shape[0]:
            return ci
        for i in range(n):
            _node_scores(text, c0, i, order, keys, logp, bits, mask, ensure_unicode, node)
            for j in range(order):  # 0 before the first byte: its score is its node's
                prev[j] = score[j] if i > 0 else 0.0
            _forward_step(node, prev, score, routes, i, order)
        _backtrack(score, routes, order, n, state_path)
        a = 0
        for i in range(1, n + 1):
            if i == n or state_path[i] == 0:
                add_piece(text, c0 + a, c0 + i, 1, table)
                stats[1] += 1
                a = i
        stats[0] += n
        c0 = c1
    return ends.shape[0]


@njit(cache=True, nogil=True)
def table_entries(table):
    """(offsets, lengths, counts) of the occupied slots of a piece table."""
    hashes = table.hashes
    m = table.fill[0]
    o = np.empty(m, np.int64)
    ln = np.empty(m, np.int64)
    c = np.empty(m, np.int64)
    k = 0
    for s in range(hashes.shape[0]):
        if hashes[s] != 0:
            o[k] = table.offsets[s]
            ln[k] = table.lengths[s]
            c[k] = table.counts[s]
            k += 1
    return o, ln, c


@njit(cache=True, nogil=True)
def merge_into(table, pool, offs, lens, cnts):
    """Add entries (pieces given by pool/offs/lens) to ``table``; returns how many fit."""
    for k in range(offs.shape[0]):
        if not add_piece(pool, offs[k], offs[k] + lens[k], cnts[k], table):
            return k
    return offs.shape[0]


@njit(cache=True, nogil=True)
def sorted_entries(keys, counts):
    """The occupied slots of a table as (keys, counts) sorted by key, for a spill run."""
    m = 0
    for s in range(keys.shape[0]):
        if keys[s] != 0:
            m += 1
    k = np.empty(m, np.uint64)
    c = np.empty(m, np.int64)
    j = 0
    for s in range(keys.shape[0]):
        if keys[s] != 0:
            k[j] = keys[s]
            c[j] = counts[s]
            j += 1
    order = np.argsort(k)
    return k[order], c[order]


@njit(cache=True, nogil=True)
def _sift_down(hk, hr, size, i):
    while True:
        left = 2 * i + 1
        if left >= size:
            return
        small = left
        if left + 1 < size and hk[left + 1] < hk[left]:
            small = left + 1
        if hk[small] >= hk[i]:
            return
        hk[i], hk[small] = hk[small], hk[i]
        hr[i], hr[small] = hr[small], hr[i]
        i = small


@njit(cache=True, nogil=True)
def merge_runs(keys, counts, offsets, min_count):
    """k-way merge of sorted runs (concatenated, delimited by ``offsets``) summing
    equal keys; keeps keys whose total count is ≥ ``min_count``."""
    nruns = offsets.shape[0] - 1
    pos = offsets[:-1].copy()
    hk = np.empty(nruns, np.uint64)
    hr = np.empty(nruns, np.int64)
    size = 0
    for r in range(nruns):
        if pos[r] < offsets[r + 1]:
            hk[size] = keys[pos[r]]
            hr[size] = r
            size += 1
    for i in range(size // 2 - 1, -1, -1):
        _sift_down(hk, hr, size, i)
    ok = np.empty(1 << 16, np.uint64)
    oc = np.empty(1 << 16, np.int64)
    m = 0
    cur = np.uint64(0)
    acc = 0
    while size > 0:
        key = hk[0]
        r = hr[0]
        c = counts[pos[r]]
        pos[r] += 1
        if pos[r] < offsets[r + 1]:
            hk[0] = keys[pos[r]]
        else:
            size -= 1
            hk[0] = hk[size]
            hr[0] = hr[size]
        _sift_down(hk, hr, size, 0)
        if key == cur:
            acc += c
            continue
        if cur != 0 and acc >= min_count:
            ok, oc, m = _append(ok, oc, m, cur, acc)
        cur = key
        acc = c
    if cur != 0 and acc >= min_count:
        ok, oc, m = _append(ok, oc, m, cur, acc)
    return ok[:m].copy(), oc[:m].copy()


@njit(cache=True, nogil=True)
def _append(keys, counts, m, key, count):
    """Append (key, count) at m, doubling the arrays when full."""
    if m == keys.shape[0]:
        k2 = np.empty(2 * m + 1, np.uint64)
        c2 = np.empty(2 * m + 1, np.int64)
        k2[:m] = keys[:m]
        c2[:m] = counts[:m]
        keys, counts = k2, c2
    keys[m] = key
    counts[m] = count
    return keys, counts, m + 1
