"""Piece tables: a table that fills up grows or is merged without losing a piece or a count.

The golden trainer runs never fill a table (they start large), so these reach
the growth paths on purpose, with tables of a few slots.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from piecelab.engine import ngrams as ng
from piecelab.engine.counting import merge_piece_tables

pieces_lists = st.lists(st.binary(min_size=1, max_size=12), min_size=1, max_size=200)


def contents(table: ng.PieceTable) -> Counter:
    offs, lens, cnts = ng.table_entries(table)
    pool = table.pool.tobytes()
    return Counter(
        {pool[o : o + n]: c for o, n, c in zip(offs.tolist(), lens.tolist(), cnts.tolist())}
    )


def fill(pieces: list[bytes], table: ng.PieceTable) -> ng.PieceTable:
    """Add every piece once, growing the table whenever a new one does not fit."""
    text = np.frombuffer(b"".join(pieces), np.uint8)
    pos = 0
    for p in pieces:
        while not ng.add_piece(text, pos, pos + len(p), 1, table):
            table = ng.grow_piece_table(table, 1, len(p))
        pos += len(p)
    return table


@settings(max_examples=60, deadline=None)
@given(pieces_lists)
def test_a_full_table_grows_and_keeps_every_count(pieces):
    table = fill(pieces, ng.new_piece_table(4, 8))
    assert contents(table) == Counter(pieces)
    assert int(table.fill[0]) == len(set(pieces))


@settings(max_examples=60, deadline=None)
@given(pieces_lists, pieces_lists)
def test_merging_into_a_small_table_keeps_every_count(first, second):
    small = fill(first, ng.new_piece_table(4, 8))
    big = fill(second, ng.new_piece_table(1 << 10, 1 << 12))
    vocab, counts = merge_piece_tables([small, big])
    assert Counter(dict(zip(vocab, counts.tolist()))) == Counter(first) + Counter(second)


def test_the_ngram_viterbi_resumes_after_its_table_grows():
    words = [b"piece", b"table", b"grows", "\u5206\u8bcd".encode(), b"resumes", b"\n"]
    rng = np.random.default_rng(7)
    chunks = [b" ".join(rng.choice(words, rng.integers(1, 6)).tolist()) + b"\n" for _ in range(300)]
    text = np.frombuffer(b"".join(chunks), np.uint8)
    ends = np.cumsum([len(c) for c in chunks])
    small = np.zeros(256 + 65536, np.int64)
    keys = np.zeros(1 << 14, np.uint64)
    counts = np.zeros(1 << 14, np.int64)
    assert ng.count_ngrams(text, ends, 0, 4, small, keys, counts, np.zeros(1, np.int64)) == len(
        ends
    )
    model = ng.build_logp_table(small, keys, counts, 2, len(text))

    def segment(table: ng.PieceTable) -> tuple[Counter, list[int], int]:
        stats = np.zeros(2, np.int64)
        start = calls = 0
        while True:
            calls += 1
            start = ng.ngram_viterbi_count(text, ends, start, *model, 4, True, table, stats)
            if start >= len(ends):
                return contents(table), stats.tolist(), calls
            table = ng.grow_piece_table(table, int(np.diff(ends, prepend=0).max()))

    whole, whole_stats, one_call = segment(ng.new_piece_table(1 << 12, 1 << 16))
    grown, grown_stats, calls = segment(ng.new_piece_table(4, 64))
    assert one_call == 1 and calls > 1  # the small table filled up and grew
    assert grown == whole and grown_stats == whole_stats == [len(text), sum(whole.values())]
