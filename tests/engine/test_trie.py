"""The double-array builder: every placement order gives the same dictionary."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from piecelab.engine.trie import build_packed, build_trie

keys = st.binary(min_size=1, max_size=6)
dictionaries = st.dictionaries(keys, st.integers(0, 10**6), min_size=1, max_size=60)


def lookup(base: np.ndarray, check: np.ndarray, value: np.ndarray, key: bytes) -> int:
    s = 0
    for byte in key:
        t = int(base[s]) + byte
        if t >= len(check) or check[t] != s:
            return -1
        s = t
    return int(value[s])


@settings(max_examples=150, deadline=None)
@given(dictionaries, st.binary(min_size=1, max_size=6))
def test_weighted_and_breadth_first_tries_hold_the_same_pieces(counts, probe):
    pieces = list(counts)
    ids = np.arange(3, 3 + len(pieces), dtype=np.int32)
    weights = np.array([0, 0, 0, *counts.values()], dtype=np.float64)
    for reverse in (False, True):
        plain = build_trie(pieces, ids, reverse=reverse)
        weighted = build_trie(pieces, ids, reverse=reverse, weights=weights)
        for trie in (plain, weighted):
            for piece, i in zip(pieces, ids.tolist()):
                key = piece[::-1] if reverse else piece
                assert lookup(trie.base, trie.check, trie.value, key) == i
            key = probe[::-1] if reverse else probe
            want = int(ids[pieces.index(probe)]) if probe in counts else -1
            assert lookup(trie.base, trie.check, trie.value, key) == want
    packed = build_packed(pieces, ids, weights=weights)
    base = packed.packed[:-1:2]
    assert int(base.max()) + 255 < len(base)  # the kernels' unchecked steps stay inside


def test_the_heaviest_subtree_is_placed_first():
    pieces = [b"xa", b"xb", b"ya", b"yb"]
    ids = np.arange(3, 7, dtype=np.int32)
    light_x = build_trie(pieces, ids, weights=np.array([0, 0, 0, 1, 1, 50, 50.0]))
    light_y = build_trie(pieces, ids, weights=np.array([0, 0, 0, 50, 50, 1, 1.0]))
    for trie, heavy, light in ((light_x, b"y", b"x"), (light_y, b"x", b"y")):
        root_base = int(trie.base[0])
        heavy_slot, light_slot = root_base + heavy[0], root_base + light[0]
        assert trie.base[heavy_slot] < trie.base[light_slot]  # its children come first
