"""Edits and ids: retiring keeps every id, deleting renumbers (and says how); counts typed
by hand; whole characters vs stray bytes in the vocabulary columns."""

from __future__ import annotations

import numpy as np
import pytest

from piecelab import Model, Tokenizer
from piecelab.engine import (
    EditError,
    VocabColumns,
    compact_count,
    delete_pieces,
    id_shift,
    parse_count,
    retire_pieces,
)

from ..conftest import tiny_counts


@pytest.fixture
def model() -> Model:
    return Model.from_counts(tiny_counts())


def test_retire_keeps_ids_and_resplits_like_delete(model):
    retired = retire_pieces(model, [b"abc"])
    deleted = delete_pieces(model, [b"abc"])
    assert retired.pieces == model.pieces  # every id kept
    assert retired.counts[model.index[b"abc"] - 3] == 0
    by_piece = dict(zip(retired.pieces, retired.counts.tolist()))
    for p, c in zip(deleted.pieces, deleted.counts.tolist()):
        assert by_piece[p] == c  # the same re-split as delete
    assert retired.total == deleted.total
    tok = Tokenizer(retired)
    assert tok.tokenize("abc") == [b"a", b"bc"]
    ids = tok.encode("abcabc abc")
    assert model.index[b"abc"] not in ids
    assert model.counts[model.index[b"abc"] - 3] == 8  # the original is untouched


def test_retire_refuses_bytes_pinned_and_already_retired(model):
    with pytest.raises(EditError, match="single bytes"):
        retire_pieces(model, [b"a"])
    with pytest.raises(EditError, match="pinned"):
        retire_pieces(model, [b"ab"], pinned=[b"ab"])
    once = retire_pieces(model, [b"abc"])
    with pytest.raises(EditError, match="already retired"):
        retire_pieces(once, [b"abc"])
    twice = retire_pieces(once, [b"abc", b"cab"])  # the zero-count one is skipped
    assert twice.counts[model.index[b"cab"] - 3] == 0


def test_id_shift_describes_the_renumbering(model):
    n = len(model)
    i = model.index[b"abc"]
    shift = id_shift(model, [b"abc"])
    assert (shift.first, shift.removed, shift.moved) == (i, 1, n + 2 - i)
    assert shift.describe() == f"ids above {i} move down by 1 ({n + 2 - i:,} pieces)"
    after = delete_pieces(model, [b"abc"])
    later = [p for p in model.pieces if model.index[p] > i]
    assert all(after.index[p] == model.index[p] - 1 for p in later)
    two = id_shift(model, [b"ab", "你好".encode()])
    assert two.first == model.index[b"ab"] and two.removed == 2
    assert "down by 1 to 2" in two.describe("moved")
    last = id_shift(model, [model.pieces[-1]])
    assert last.moved == 0 and last.describe() == "no other id changes"


def test_parse_count_accepts_big_grouped_numbers_and_explains_bad_ones():
    assert parse_count(" 1,234_567 ") == 1_234_567
    assert parse_count(str(2**62)) == 2**62
    assert parse_count(str(2**63 - 1)) == 2**63 - 1
    for text, message in (
        ("", "type a count"),
        ("-3", "≥ 0"),
        ("12x", "not a whole number"),
        ("1.5", "not a whole number"),
        ("٣", "not a whole number"),  # a non-ASCII digit
        (str(2**63), "at most"),
    ):
        with pytest.raises(EditError, match=message):
            parse_count(text)


def test_partial_bytes_are_not_characters(model):
    cols = VocabColumns.from_model(model)
    at = {p: k for k, p in enumerate(model.pieces)}
    partial = "你".encode()[:2]
    assert cols.nchars[at[partial]] == 0 and cols.stray[at[partial]] == 2
    assert cols.nchars[at[b"\xff"]] == 0 and cols.stray[at[b"\xff"]] == 1
    assert cols.nchars[at["你好".encode()]] == 2 and cols.stray[at["你好".encode()]] == 0
    assert cols.nchars[at[b"abc"]] == 3
    mixed = Model.from_counts({**tiny_counts(), b"a\xe4\xbd": 2})
    mcols = VocabColumns.from_model(mixed)
    k = mixed.index[b"a\xe4\xbd"] - 3
    assert (mcols.nchars[k], mcols.stray[k]) == (1, 2)
    assert np.all(mcols.nchars + mcols.stray <= mcols.nbytes)


def test_compact_count_for_log_axis_ticks():
    values = [1, 10, 100, 1000, 10_000, 1e6, 2.5e9, 0.01]
    assert [compact_count(v) for v in values] == [
        "1",
        "10",
        "100",
        "1k",
        "10k",
        "1M",
        "2.5G",
        "0.01",
    ]


def test_adding_a_piece_keeps_every_id():
    from piecelab.engine import add_piece

    model = Model.from_counts(tiny_counts())
    before = dict(model.index)
    after = add_piece(model, b"zzz", 7)
    assert {p: after.index[p] for p in before} == before  # nothing moved
    assert after.index[b"zzz"] == model.vocab_size  # the next id
    assert Tokenizer(after).tokenize("zzz") == [b"zzz"]
