"""Kernel properties against plain-Python references on random small vocabularies.

The kernels take their first walk steps without a branch (after a failed
transition they step on through other nodes' slots, masked) and keep scratch
per chunk, growing it for a long line; these tests reach both paths on
purpose: vocabularies that lack single bytes, pieces as deep as the walk, and
a line longer than the scratch.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piecelab import Tokenizer
from piecelab.engine import kernels, token_lists
from piecelab.engine.trie import build_packed

ALPHABET = "abc"


def reference_viterbi(data: bytes, logp: dict[bytes, float]) -> list[bytes]:
    """BytePiece's choice in plain Python: best score, ties to the longest last piece."""
    n = len(data)
    dp = [-math.inf] * (n + 1)
    back = [0] * (n + 1)
    dp[0] = 0.0
    for e in range(1, n + 1):
        for s in range(e):  # increasing start: a strictly better later start wins
            piece = data[s:e]
            if piece in logp and dp[s] > -math.inf:
                x = dp[s] + logp[piece]
                if x > dp[e] or (x == dp[e] and s < back[e]):
                    dp[e] = x
                    back[e] = s
    out = []
    e = n
    while e > 0:
        out.append(data[back[e] : e])
        e = back[e]
    return out[::-1]


def reference_log_z(data: bytes, logp: dict[bytes, float], alpha: float) -> float:
    """log Σ over segmentations of exp(α · score), summed exactly in log space."""
    n = len(data)
    z = [-math.inf] * (n + 1)
    z[0] = 0.0
    for e in range(1, n + 1):
        terms = [z[s] + alpha * logp[data[s:e]] for s in range(e) if data[s:e] in logp]
        terms = [t for t in terms if t > -math.inf]
        if terms:
            m = max(terms)
            z[e] = m + math.log(sum(math.exp(t - m) for t in terms))
    return z[n]


vocabularies = st.dictionaries(
    st.text(alphabet=ALPHABET, min_size=2, max_size=6).map(str.encode),
    st.integers(min_value=1, max_value=1000),
    min_size=0,
    max_size=25,
)


def _tokenizer(extra: dict[bytes, int], singles: dict[bytes, int]) -> tuple[Tokenizer, dict]:
    counts = {**singles, **extra}
    total = sum(counts.values())
    logp = {p: math.log(c) - math.log(total) for p, c in counts.items()}
    return Tokenizer(counts), logp


@settings(max_examples=300, deadline=None)
@given(
    extra=vocabularies,
    single_counts=st.lists(st.integers(min_value=1, max_value=50), min_size=3, max_size=3),
    text=st.text(alphabet=ALPHABET, max_size=30),
)
def test_viterbi_equals_the_reference_without_the_other_bytes(extra, single_counts, text):
    # only a, b and c are pieces: from every other byte the first step fails
    singles = {ch.encode(): c for ch, c in zip(ALPHABET, single_counts)}
    tok, logp = _tokenizer(extra, singles)
    data = text.encode()
    assert tok.tokenize(text) == reference_viterbi(data, logp)
    seg = tok.segment(text)
    assert seg.score == pytest.approx(sum(logp[p] for p in reference_viterbi(data, logp)))


@settings(max_examples=150, deadline=None)
@given(
    extra=vocabularies,
    text=st.text(alphabet=ALPHABET, min_size=1, max_size=24),
    alpha=st.sampled_from([0.0, 0.5, 1.0, 3.0]),
)
def test_log_partition_equals_the_reference(extra, text, alpha):
    singles = {ch.encode(): 7 for ch in ALPHABET}
    tok, logp = _tokenizer(extra, singles)
    got = tok.log_partition(text, alpha)
    assert got == pytest.approx(reference_log_z(text.encode(), logp, alpha), rel=1e-9, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(extra=vocabularies, text=st.text(alphabet=ALPHABET, min_size=1, max_size=24))
def test_every_draw_is_a_segmentation(extra, text):
    singles = {ch.encode(): 7 for ch in ALPHABET}
    tok, logp = _tokenizer(extra, singles)
    for seed in range(5):
        pieces = tok.tokenize(text, alpha=0.5, seed=seed)
        assert b"".join(pieces) == text.encode()
        assert all(p in logp for p in pieces)


def test_a_byte_outside_the_vocabulary_is_reported_deep_in_a_text():
    tok = Tokenizer({b"a": 3, b"b": 1, b"ab": 2, b"aba": 1})
    assert tok.tokenize("abababab") == [b"ab"] * 4
    with pytest.raises(ValueError, match="0x63 at offset 6 has no piece"):
        tok.tokenize("ababab" + "c" + "abab")
    with pytest.raises(ValueError, match="0x63 at offset 6 has no piece"):
        tok.tokenize("ababab" + "c" + "abab", alpha=0.5)


def test_a_line_longer_than_the_scratch_is_segmented_like_on_its_own(tiny_tokenizer):
    # scratch starts at 64 KiB of positions and grows for a longer line
    short = "abc ab\n"
    long = ("cab abca你好 " * 9000) + "\n"
    assert len(long.encode()) > 1 << 16
    text = short + long + short
    expected = tiny_tokenizer.tokenize(short) + tiny_tokenizer.tokenize(long)
    expected += tiny_tokenizer.tokenize(short)
    assert tiny_tokenizer.tokenize(text) == expected
    seg = tiny_tokenizer.segment(text)
    assert seg.ends[-1] == len(text.encode())
    assert [text.encode()[a:b] for a, b in zip([0, *seg.ends[:-1]], seg.ends)] == expected
    z = tiny_tokenizer.log_partition(text, 1.0)
    parts = sum(tiny_tokenizer.log_partition(t, 1.0) for t in (short, long, short))
    assert z == pytest.approx(parts, rel=1e-12)


def test_every_step_stays_inside_the_trie():
    """The kernels step on without checking: any base plus any byte must be a slot."""
    pieces = [b"ab", b"b", b"a", b"\xff\x00", b"\x00"]
    trie = build_packed(pieces, np.arange(3, 8, dtype=np.int32))
    assert int(trie.packed[-1]) == trie.max_depth == 2
    base, check = trie.packed[:-1].reshape(-1, 2).T
    assert len(base) == len(trie.ids)
    assert int(base.min()) >= 0
    assert int(base.max()) + 255 < len(base)
    free = check < 0
    assert (check[free] == -1).all()  # a free slot is no node's child
    assert (trie.ids[free] == -1).all()
    assert (~free).sum() == 1 + 5  # the root and a node per piece (no other prefixes)


def test_values_sit_at_the_piece_slots():
    trie = build_packed([b"ab", b"b", b"a"], np.array([3, 4, 5], np.int32))
    per_id = np.array([0, 0, 0, -1.5, -2.5, -3.5])
    values = trie.values(per_id, -np.inf)
    hit = trie.ids >= 0
    assert dict(zip(trie.ids[hit].tolist(), values[hit].tolist())) == {3: -1.5, 4: -2.5, 5: -3.5}
    assert np.isneginf(values[~hit]).all()
    objects = ["0", "1", "2", "ab", "b", "a"]  # alive while the table is used
    table = token_lists.address_table(objects)
    assert kernels.viterbi_list(b"abab", trie.packed, values, trie.ids, table) == ["ab", "ab"]
