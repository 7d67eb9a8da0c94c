"""Hand-tuning operations and the concordance."""

from __future__ import annotations

import numpy as np
import pytest

from piecelab import Model, Tokenizer
from piecelab.engine.edit import (
    EditError,
    add_piece,
    delete_pieces,
    estimate_count,
    set_count,
    unreachable,
)
from piecelab.engine.search import concordance, mark_emitted

from ..conftest import tiny_counts


@pytest.fixture
def model():
    return Model.from_counts(tiny_counts())


def test_delete_resplits_counts(model):
    before = model.total
    out = delete_pieces(model, [b"abc"])
    assert b"abc" not in out.index
    c = dict(zip(out.pieces, out.counts.tolist()))
    old = dict(zip(model.pieces, model.counts.tolist()))
    # abc (8) is cut into a + bc by the remaining vocabulary (50·15 > 20·30)
    assert c[b"a"] == old[b"a"] + 8 and c[b"bc"] == old[b"bc"] + 8
    assert c[b"ab"] == old[b"ab"]
    assert out.total == before + 8  # one piece became two tokens
    assert Tokenizer(out).tokenize("abc") == [b"a", b"bc"]


def test_delete_refuses_bytes_and_pinned(model):
    with pytest.raises(EditError, match="single bytes"):
        delete_pieces(model, [b"a"])
    with pytest.raises(EditError, match="pinned"):
        delete_pieces(model, [b"ab"], pinned=[b"ab"])
    with pytest.raises(EditError, match="not in the vocabulary"):
        delete_pieces(model, [b"zzz"])


def test_add_and_set_count(model):
    out = add_piece(model, b"abca", 100)
    assert Tokenizer(out).tokenize("abca") == [b"abca"]
    assert out.index[b"abca"] > 0 and len(out) == len(model) + 1
    with pytest.raises(EditError, match="already"):
        add_piece(out, b"abca", 1)
    heavier = set_count(model, b"bc", 10_000)
    assert Tokenizer(heavier).tokenize("abc") == [b"a", b"bc"]
    assert model.counts[model.index[b"bc"] - 3] == 15  # the original is untouched
    with pytest.raises(EditError):
        set_count(model, b"a", 0)


def test_unreachable_pieces():
    counts = tiny_counts()
    counts[b"xy"] = 1  # x and y (count 1 each) beat? no: make xy lose to x + y
    counts[b"x"] = 10_000
    counts[b"y"] = 10_000
    m = Model.from_counts(counts)
    flags = unreachable(m)
    assert flags[m.index[b"xy"] - 3]
    assert not flags[m.index[b"abc"] - 3]
    tok = Tokenizer(m)
    for i in np.flatnonzero(flags).tolist():
        p = m.pieces[i]
        assert tok.encode_buffer(np.frombuffer(p, np.uint8), np.array([len(p)])).tolist() != [i + 3]


def test_estimate_count():
    assert estimate_count(b"ab", ["abab", "xab", "a b"]) == 3


def test_concordance_and_emitted(model):
    docs = ["abc cab", "no match", "ab ab"]
    hits = concordance(["ab"], docs, context=3)
    assert [(h.doc, h.start, h.end) for h in hits] == [(0, 0, 2), (0, 5, 7), (2, 0, 2), (2, 3, 5)]
    assert hits[1].left == "c c" and hits[1].match == "ab" and hits[1].right == ""
    marked = mark_emitted(hits, docs, Tokenizer(model))
    tok = Tokenizer(model)
    assert tok.tokenize("abc cab") == [b"abc", b" ", b"cab"]
    assert [h.emitted for h in marked] == [False, False, True, True]
