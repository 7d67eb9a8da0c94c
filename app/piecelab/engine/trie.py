"""Double-array trie over piece bytes, built and walked by numba kernels.

The enumerations walk the forward trie from every start, the Viterbi and
sampling kernels a reversed one back from every end; each node that carries a
value is a piece.  A double array costs one add and one compare per byte.
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
    """``arr`` resized to ``size`` slots, new ones ``fill``.

    Loops, not a slice assignment: that compiles numba's shape checks and their
    messages, which cost seconds of a first start (benchmarks/NOTES.md, "first start").
    """
    out = np.empty(size, arr.dtype)
    n = min(arr.shape[0], size)
    for i in range(n):
        out[i] = arr[i]
    for i in range(n, size):
        out[i] = fill
    return out


@njit(cache=True, nogil=True, inline="always")
def _next_free(skip, i):
    """The first free slot at or after ``i`` (``skip`` chains past taken slots, compressed)."""
    r = i
    while skip[r] != r:
        r = skip[r]
    while skip[i] != r:
        j = skip[i]
        skip[i] = r
        i = j
    return r


@njit(cache=True, nogil=True, inline="always")
def _child_labels(label, first, sibling, node, labels):
    """Write the labels of ``node``'s children to ``labels``; returns how many."""
    nc = 0
    c = first[node]
    while c >= 0:
        labels[nc] = label[c]
        nc += 1
        c = sibling[c]
    return nc


@njit(cache=True, nogil=True, inline="always")
def _fits(check, b, labels, nc):
    """Whether the slots ``b + labels[1:nc]`` are all free (the first one is known free)."""
    i = 1
    while i < nc and check[b + labels[i]] < 0:
        i += 1
    return i == nc


@njit(cache=True, nogil=True, inline="always")
def _first_fit(check, skip, labels, nc):
    """The lowest free slot for the first child where all children fit, −1 past the end.

    Bases start at 1; a slot is tried only if at least 256 slots follow it.
    """
    size = check.shape[0]
    pos = _next_free(skip, labels[0] + 1)
    while pos + 256 < size and not _fits(check, pos - labels[0], labels, nc):
        pos = _next_free(skip, pos + 1)
    return pos if pos + 256 < size else -1


@njit(cache=True, nogil=True)
def _grown(base, check, value, skip):
    """The slot arrays at twice the size, the new slots free."""
    old = base.shape[0]
    size = 2 * old
    grown = np.arange(size + 1, dtype=np.int32)
    for i in range(old):
        grown[i] = skip[i]
    return _grow(base, size, 0), _grow(check, size, -1), _grow(value, size, -1), grown


@njit(cache=True, nogil=True, inline="always")
def _claim_children(first, sibling, node, b, s, labels, check, skip, slot_of):
    """Give ``node``'s children (at slot ``s``, base ``b``) their slots."""
    c = first[node]
    i = 0
    while c >= 0:
        t = b + labels[i]
        check[t] = s
        skip[t] = t + 1
        slot_of[c] = t
        i += 1
        c = sibling[c]


@njit(cache=True, nogil=True)
def _trimmed(base, check, value):
    """The slot arrays cut after the last used slot, but with every base + 256 inside."""
    top = 1
    for t in range(check.shape[0]):
        if check[t] >= 0:
            top = t + 1
    highest = 0
    for t in range(base.shape[0]):
        highest = max(highest, base[t])
    end = max(top, highest + 257)
    return _grow(base, end, 0), _grow(check, end, -1), _grow(value, end, -1)


@njit(cache=True, nogil=True)
def _place(label, first, sibling, node_value, order):
    """Lay the pointer trie out as a double array: nodes in ``order``, first-fit bases.

    Each node in turn gets the lowest base where all its children fit, so the
    nodes placed first get their children packed together at the front; the
    order must place a parent before its children.  Candidate bases are tried
    only where the first child's slot is free, found through skip pointers
    over the taken slots, as a scan over every base is slow on large vocabularies.
    Growing the arrays stays out of the search loop, where numba would count
    references on every candidate (benchmarks/NOTES.md, "trie").
    """
    n_nodes = label.shape[0]
    size = 2 * n_nodes + 512
    base = np.zeros(size, np.int32)
    check = np.full(size, -1, np.int32)
    value = np.full(size, -1, np.int32)
    skip = np.arange(size + 1, dtype=np.int32)  # skip[i] == i: slot i is free (size: sentinel)
    check[0] = 0  # the root owns slot 0
    skip[0] = 1
    slot_of = np.zeros(n_nodes, np.int32)
    labels = np.zeros(256, np.int32)
    for node in order:
        s = slot_of[node]
        value[s] = node_value[node]
        nc = _child_labels(label, first, sibling, node, labels)
        if nc == 0:
            continue
        pos = _first_fit(check, skip, labels, nc)
        while pos < 0:
            base, check, value, skip = _grown(base, check, value, skip)
            pos = _first_fit(check, skip, labels, nc)
        base[s] = pos - labels[0]
        _claim_children(first, sibling, node, base[s], s, labels, check, skip, slot_of)
    return _trimmed(base, check, value)


@njit(cache=True, nogil=True)
def _breadth_first(first, sibling):
    """Nodes in breadth-first order (the root first)."""
    order = np.zeros(first.shape[0], np.int64)
    head, tail = 0, 1
    while head < tail:
        c = first[order[head]]
        head += 1
        while c >= 0:
            order[tail] = c
            tail += 1
            c = sibling[c]
    return order


@njit(cache=True, nogil=True)
def _subtree_weights(first, sibling, node_value, weights):
    """Per node, the summed weight of the pieces at and below it.

    Nodes are numbered in insertion order, so every child comes after its parent
    and one backward pass adds each subtree into its parent.
    """
    n = first.shape[0]
    parent = np.full(n, -1, np.int64)
    sub = np.zeros(n, np.float64)
    for v in range(n):
        if node_value[v] >= 0:
            sub[v] = weights[node_value[v]]
        c = first[v]
        while c >= 0:
            parent[c] = v
            c = sibling[c]
    for v in range(n - 1, 0, -1):
        sub[parent[v]] += sub[v]
    return sub


def build_trie(
    pieces: list[bytes],
    ids: np.ndarray,
    reverse: bool = False,
    weights: np.ndarray | None = None,
) -> DoubleArrayTrie:
    """Build a trie of ``pieces`` (reversed when ``reverse``) mapping each to its id.

    With ``weights`` (per id, e.g. counts) the nodes are placed heaviest subtree
    first instead of breadth first, so the transitions most walks take share
    cache lines (figures: benchmarks/NOTES.md, "kernels" and "trie").  A
    subtree weighs at least as much as any subtree below it, so sorting by
    weight (ties by node number) still places every parent before its children.
    """
    keys = [p[::-1] for p in pieces] if reverse else list(pieces)
    order = np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    offsets = np.zeros(len(keys) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    pool = np.frombuffer(b"".join(keys), dtype=np.uint8)
    label, first, sibling, node_value = _pointer_trie(
        pool, offsets, order, np.asarray(ids, dtype=np.int32)
    )
    if weights is None:
        order = _breadth_first(first, sibling)
    else:
        w = np.asarray(weights, dtype=np.float64)
        w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
        sub = _subtree_weights(first, sibling, node_value, w)
        order = np.lexsort((np.arange(len(sub)), -sub))
    base, check, value = _place(label, first, sibling, node_value, order)
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
    (The layouts measured against this one: benchmarks/NOTES.md, "kernels".)

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


def build_packed(
    pieces: list[bytes],
    ids: np.ndarray,
    reverse: bool = True,
    weights: np.ndarray | None = None,
) -> PackedTrie:
    """The packed trie of ``pieces`` (reversed by default: the kernels walk backwards).

    ``weights`` (per id) orders the placement, see :func:`build_trie`.
    """
    t = build_trie(pieces, ids, reverse=reverse, weights=weights)
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
