"""Double-array trie over piece bytes, built and walked by numba kernels.

The kernels walk the trie forward from every start position; each node that
carries a value is a piece.  A double array gives one add and one compare per
byte, which is what keeps the Viterbi kernel near memory speed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit


@dataclass(frozen=True)
class DoubleArrayTrie:
    """Transition ``t = base[s] + byte`` is valid when ``check[t] == s``; the root is slot 0."""

    base: np.ndarray  # int32
    check: np.ndarray  # int32
    value: np.ndarray  # int32, piece id at a slot or -1
    max_depth: int

    @property
    def nbytes(self) -> int:
        return self.base.nbytes + self.check.nbytes + self.value.nbytes


@njit(cache=True, nogil=True)
def _pointer_trie(pool, offsets, order, values):
    """Insert sorted keys into a first-child/next-sibling trie; returns node arrays."""
    n_keys = order.shape[0]
    cap = pool.shape[0] + 1
    label = np.zeros(cap, np.int32)
    first = np.full(cap, -1, np.int32)
    last = np.full(cap, -1, np.int32)
    sibling = np.full(cap, -1, np.int32)
    value = np.full(cap, -1, np.int32)
    n_nodes = 1
    for k in range(n_keys):
        key = order[k]
        node = 0
        for p in range(offsets[key], offsets[key + 1]):
            b = pool[p]
            child = last[node]
            if child >= 0 and label[child] == b:
                node = child
                continue
            new = n_nodes
            n_nodes += 1
            label[new] = b
            if child >= 0:
                sibling[child] = new
            else:
                first[node] = new
            last[node] = new
            node = new
        value[node] = values[key]
    return label[:n_nodes], first[:n_nodes], sibling[:n_nodes], value[:n_nodes]


@njit(cache=True, nogil=True)
def _grow(arr, size, fill):
    out = np.full(size, fill, arr.dtype)
    out[: arr.shape[0]] = arr
    return out


@njit(cache=True, nogil=True)
def _place(label, first, sibling, node_value):
    """Lay the pointer trie out as a double array (breadth first, first-fit bases)."""
    n_nodes = label.shape[0]
    size = 2 * n_nodes + 512
    base = np.zeros(size, np.int32)
    check = np.full(size, -1, np.int32)
    value = np.full(size, -1, np.int32)
    check[0] = 0  # the root owns slot 0
    slot_of = np.zeros(n_nodes, np.int32)
    queue = np.zeros(n_nodes, np.int32)
    head, tail = 0, 1
    queue[0] = 0
    labels = np.zeros(256, np.int32)
    first_free = 1
    while head < tail:
        node = queue[head]
        head += 1
        s = slot_of[node]
        value[s] = node_value[node]
        nc = 0
        c = first[node]
        while c >= 0:
            labels[nc] = label[c]
            nc += 1
            c = sibling[c]
        if nc == 0:
            continue
        while first_free < size and check[first_free] >= 0:
            first_free += 1
        pos = first_free
        while True:
            b = pos - labels[0]
            if b >= 1:
                if b + 256 >= size:
                    size = 2 * size
                    base = _grow(base, size, 0)
                    check = _grow(check, size, -1)
                    value = _grow(value, size, -1)
                ok = True
                for i in range(nc):
                    if check[b + labels[i]] >= 0:
                        ok = False
                        break
                if ok:
                    break
            pos += 1
            while pos < size and check[pos] >= 0:
                pos += 1
        base[s] = b
        c = first[node]
        i = 0
        while c >= 0:
            t = b + labels[i]
            check[t] = s
            slot_of[c] = t
            queue[tail] = c
            tail += 1
            i += 1
            c = sibling[c]
    top = 1
    for t in range(size):
        if check[t] >= 0:
            top = t + 1
    end = max(top, int(base.max()) + 257)
    if end > size:
        base = _grow(base, end, 0)
        check = _grow(check, end, -1)
        value = _grow(value, end, -1)
    return base[:end].copy(), check[:end].copy(), value[:end].copy()


def build_trie(pieces: list[bytes], ids: np.ndarray, reverse: bool = False) -> DoubleArrayTrie:
    """Build a trie of ``pieces`` (reversed when ``reverse``) mapping each to its id."""
    keys = [p[::-1] for p in pieces] if reverse else list(pieces)
    order = np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)
    lengths = np.fromiter((len(k) for k in keys), dtype=np.int64, count=len(keys))
    offsets = np.zeros(len(keys) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    pool = np.frombuffer(b"".join(keys), dtype=np.uint8)
    label, first, sibling, node_value = _pointer_trie(
        pool, offsets, order, np.asarray(ids, dtype=np.int32)
    )
    base, check, value = _place(label, first, sibling, node_value)
    max_depth = int(lengths.max()) if len(keys) else 0
    return DoubleArrayTrie(base, check, value, max_depth)


@dataclass(frozen=True)
class PackedTrie:
    """A reversed double array laid out for the Viterbi and sampling kernels.

    ``packed`` is int32, two per slot: ``[2t]`` base, ``[2t+1]`` check, so
    the check of a transition and the base of the next one arrive together,
    and a slot is 8 bytes: the walk's chain of dependent loads, which is where
    the kernels spend their time, touches as little cache as the double array
    allows.  What a slot is worth depends on the use (log-probabilities for
    Viterbi, p^α for sampling, 1 for counting), so :meth:`values` makes a
    float64 array beside it, read off that chain; ``ids`` maps a slot to its
    piece id (−1: no piece), needed only for the tokens a walk settles on.

    Measured per document on the 20k benchmark model (kernel MB/s): values in
    a separate array, slots of 16 bytes (base, check, id, spare) 33; values
    inside 16-byte slots (base, check, value) 37; 8-byte slots with the values
    beside them 39.5 (whole file: 44.6 → 47.6).

    Every base, plus any byte, stays inside the slots (free slots have base
    0 and a check of −1, which matches no node), and one trailing entry holds
    the longest piece.  So a walk may take a step without looking whether the
    last one existed: it reads slots that are not its own, which the kernels
    mask, but never past the array; that lets them take their first steps
    without a branch.
    """

    packed: np.ndarray  # int32, 2 per slot, then the longest piece
    ids: np.ndarray  # int32 per slot

    @property
    def max_depth(self) -> int:
        """The longest piece, in bytes (at least 1): no walk goes deeper."""
        return int(self.packed[-1])

    @property
    def nbytes(self) -> int:
        return self.packed.nbytes + self.ids.nbytes

    def values(self, per_id: np.ndarray, fill: float) -> np.ndarray:
        """``per_id[id]`` at every slot holding a piece, ``fill`` elsewhere.

        Kernels add a slot's score (or multiply its weight) at every step of a
        walk, pieces or not, which removes a data-dependent branch from the loop.
        """
        out = np.full(self.ids.shape[0], fill, dtype=np.float64)
        hit = self.ids >= 0
        out[hit] = np.asarray(per_id, dtype=np.float64)[self.ids[hit]]
        return out


def build_packed(pieces: list[bytes], ids: np.ndarray, reverse: bool = True) -> PackedTrie:
    """The packed trie of ``pieces`` (reversed by default: the kernels walk backwards)."""
    t = build_trie(pieces, ids, reverse=reverse)
    m = t.base.shape[0]
    size = max(m, int(t.base.max()) + 256 if m else 256)  # any base + any byte fits
    packed = np.zeros(2 * size + 1, dtype=np.int32)
    packed[1 : 2 * size : 2] = -1  # free slots: no node's child
    packed[0 : 2 * m : 2] = t.base
    packed[1 : 2 * m : 2] = t.check
    packed[-1] = max(t.max_depth, 1)
    slot_ids = np.full(size, -1, dtype=np.int32)
    slot_ids[:m] = t.value
    return PackedTrie(packed, slot_ids)
