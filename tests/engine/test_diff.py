"""Vocabulary diff: the keys of each kind, against plain set operations, ranks and jaccard."""

from __future__ import annotations

import base64
import gzip
import json
import time
from types import SimpleNamespace

import numpy as np
import pytest

from piecelab import Model
from piecelab.engine import (
    N_SPECIAL,
    SPECIALS,
    comparison_keys,
    diff_vocabularies,
    hex_bytes,
    load,
)
from piecelab.engine.diff import piece_ranks, piece_scores
from tests.foreign_models import sentencepiece_model

from ..conftest import DATA, tiny_counts


def bytepiece(tmp_path, counts: dict[bytes, int], name: str = "m.model"):
    return load(Model.from_counts(counts).save(tmp_path / name))


def keyset(vocab) -> set[bytes]:
    return {k for k in comparison_keys(vocab) if k is not None}


def check_against_sets(diff, a: set[bytes], b: set[bytes]) -> None:
    """The diff's lists are exactly the set operations, each key once."""
    assert set(diff.common_keys) == a & b and diff.common == len(a & b)
    assert set(diff.only_a_keys) == a - b and diff.only_a == len(a - b)
    assert set(diff.only_b_keys) == b - a and diff.only_b == len(b - a)
    assert diff.jaccard == pytest.approx(len(a & b) / len(a | b))
    assert len(set(diff.common_keys)) == diff.common


def check_ids(diff, va, vb) -> None:
    """Every listed id holds the key it is listed under."""
    ka, kb = comparison_keys(va), comparison_keys(vb)
    for key, i, j in zip(diff.common_keys, diff.common_ids_a, diff.common_ids_b):
        assert ka[i] == key and kb[j] == key
    assert [ka[i] for i in diff.only_a_ids] == diff.only_a_keys
    assert [kb[j] for j in diff.only_b_ids] == diff.only_b_keys


def other_counts() -> dict[bytes, int]:
    counts = tiny_counts()
    for gone in (b"abc", b"cab", "你好".encode()):
        del counts[gone]
    counts.update({b"abcd": 5, b"  ": 9, "好的".encode(): 4, b"a": 3})
    return counts


def test_bytepiece_diff_is_the_set_operations(tmp_path):
    va = bytepiece(tmp_path, tiny_counts(), "a.model")
    vb = bytepiece(tmp_path, other_counts(), "b.model")
    diff = diff_vocabularies(va, vb)
    a, b = set(tiny_counts()), set(other_counts())
    check_against_sets(diff, a, b)
    check_ids(diff, va, vb)
    assert diff.only_a_keys and diff.only_b_keys
    assert diff.a.pieces == len(a) and diff.b.pieces == len(b)
    assert diff.a.size == len(a) + N_SPECIAL and diff.a.folded == 0


def test_identical_vocabularies(tmp_path):
    va = bytepiece(tmp_path, tiny_counts(), "a.model")
    vb = bytepiece(tmp_path, tiny_counts(), "b.model")
    diff = diff_vocabularies(va, vb)
    assert diff.only_a == diff.only_b == 0
    assert diff.common == len(tiny_counts()) and diff.jaccard == 1.0
    assert not diff.rank_change().any()
    assert diff.common_ids_a.tolist() == diff.common_ids_b.tolist()


def test_specials_are_never_compared(tmp_path):
    va = bytepiece(tmp_path, tiny_counts())
    keys = comparison_keys(va)
    assert keys[:N_SPECIAL] == [None] * N_SPECIAL
    diff = diff_vocabularies(va, va)
    listed = set(diff.common_keys)
    assert not listed & {s.encode() for s in SPECIALS}
    assert not set(diff.common_ids_a.tolist()) & set(range(N_SPECIAL))
    assert (piece_ranks(va)[:N_SPECIAL] == 0).all()


def test_ranks_follow_log_p(tmp_path):
    va = bytepiece(tmp_path, tiny_counts(), "a.model")
    vb = bytepiece(tmp_path, other_counts(), "b.model")
    ranks = piece_ranks(va)
    ids = np.flatnonzero(ranks)
    assert sorted(ranks[ids].tolist()) == list(range(1, len(ids) + 1))
    by_rank = ids[np.argsort(ranks[ids])]
    logp = va.native().model.log_probs()
    assert (piece_scores(va) == logp).all()
    assert (logp[by_rank][:-1] >= logp[by_rank][1:]).all()  # descending log p
    assert va.pieces[by_rank[0]] == b" "  # the most frequent piece
    diff = diff_vocabularies(va, vb)
    rows = diff.entries("common")
    assert [r["rank_a"] for r in rows] == sorted(r["rank_a"] for r in rows)
    for row, change in zip(rows, diff.rank_change().tolist()):
        assert row["rank_a"] == ranks[row["id_a"]]
        assert row["rank_b"] == piece_ranks(vb)[row["id_b"]]
        assert row["rank_change"] == change == row["rank_b"] - row["rank_a"]
        assert row["score_a"] == pytest.approx(logp[row["id_a"]])
    only_b = diff.entries("only_b")
    assert [r["rank_b"] for r in only_b] == sorted(r["rank_b"] for r in only_b)
    assert set(only_b[0]) == {"piece", "hex", "id_b", "rank_b", "score_b"}


def test_entries_show_broken_utf8_as_hex_and_limit(tmp_path):
    va = bytepiece(tmp_path, tiny_counts())
    diff = diff_vocabularies(va, va)
    rows = {r["hex"]: r for r in diff.entries("common")}
    half = "你".encode()[:2]
    assert rows[half.hex()]["piece"] == hex_bytes(half)
    assert rows["e4bda0"]["piece"] == "你"
    assert rows["20"]["piece"] == " "
    assert len(diff.entries("common", 3)) == 3 and diff.entries("only_a", 3) == []
    assert diff.entries("common", 0) == []
    with pytest.raises(ValueError, match="which"):
        diff.entries("both")


def test_a_score_that_is_not_finite_is_null(tmp_path):
    counts = tiny_counts()
    counts[b"zzz"] = 0  # log p = -inf
    va = bytepiece(tmp_path, counts)
    diff = diff_vocabularies(va, va)
    data = diff.as_dict()
    json.dumps(data, allow_nan=False)
    row = next(r for r in data["pieces"]["common"] if r["hex"] == b"zzz".hex())
    assert row["score_a"] is None and row["rank_a"] == diff.common  # ranked last


# --- SentencePiece --------------------------------------------------------------------------


def _docs() -> list[str]:
    with gzip.open(DATA / "trainer_corpus.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


@pytest.fixture(scope="module")
def sp_vocab(tmp_path_factory):
    raw = sentencepiece_model(
        _docs(), model_type="unigram", vocab_size=500, character_coverage=0.98, byte_fallback=True
    )
    path = tmp_path_factory.mktemp("sp") / "uni.model"
    path.write_bytes(raw)
    return load(path)


def test_sentencepiece_keys_are_the_text_with_spaces(sp_vocab):
    from piecelab.engine.formats.sentencepiece import BYTE, NORMAL

    keys = comparison_keys(sp_vocab)
    for i, name in enumerate(sp_vocab.names):
        if sp_vocab.special[i]:
            assert keys[i] is None
        elif sp_vocab.types[i] == BYTE:
            assert keys[i] == bytes([int(name[3:5], 16)])
        else:
            assert sp_vocab.types[i] == NORMAL
            assert keys[i] == name.replace("▁", " ").encode()
    assert any(k is not None and k.startswith(b" ") and len(k) > 1 for k in keys)


def test_sentencepiece_compares_with_bytepiece(tmp_path, sp_vocab):
    """A BytePiece model holding SentencePiece's pieces as bytes shares all of them."""
    sp_keys = keyset(sp_vocab)
    counts = {bytes([i]): 1 for i in range(256)}
    counts.update({k: 10 for k in sp_keys if len(k) > 1})
    counts[b"only in bytepiece"] = 3
    vb = bytepiece(tmp_path, counts)
    diff = diff_vocabularies(sp_vocab, vb)
    check_against_sets(diff, sp_keys, set(counts))
    check_ids(diff, sp_vocab, vb)
    assert diff.only_a == 0 and b"only in bytepiece" in diff.only_b_keys
    # the folded ones: a normal piece and a byte piece for the same byte
    folded = len([k for k in comparison_keys(sp_vocab) if k is not None]) - len(sp_keys)
    assert diff.a.folded == folded > 0
    assert diff.a.pieces == len(sp_keys)


def test_sentencepiece_byte_pieces_rank_last(sp_vocab):
    from piecelab.engine.formats.sentencepiece import BYTE

    ranks = piece_ranks(sp_vocab)
    byte = sp_vocab.types == BYTE
    assert byte.sum() == 256
    assert ranks[byte].min() > ranks[~byte].max()
    normal = np.flatnonzero(~byte & (ranks > 0))
    best = normal[np.argmax(sp_vocab.scores[normal])]
    assert ranks[best] == 1


# --- tiktoken ---------------------------------------------------------------------------------


@pytest.fixture
def tiktoken_vocab(tmp_path):
    pytest.importorskip("tiktoken")
    ranks = {bytes([b]): b for b in range(256)}
    for merged in (b"ab", b"abc", b" a", b"ca", "你".encode(), b"new"):
        ranks[merged] = len(ranks)
    path = tmp_path / "small.tiktoken"
    path.write_bytes(b"".join(base64.b64encode(t) + b" %d\n" % r for t, r in ranks.items()))
    return load(path), ranks


def test_tiktoken_keys_are_the_tokens_and_ranks_follow_rank(tmp_path, tiktoken_vocab):
    vt, ranks = tiktoken_vocab
    vb = bytepiece(tmp_path, tiny_counts())
    diff = diff_vocabularies(vb, vt)
    check_against_sets(diff, set(tiny_counts()), set(ranks))
    check_ids(diff, vb, vt)
    for row in diff.entries("common") + diff.entries("only_b"):
        token = bytes.fromhex(row["hex"])
        assert row["id_b"] == ranks[token]
        assert row["rank_b"] == ranks[token] + 1  # 1-based, in rank order
        assert row["score_b"] == ranks[token]
    assert b"new" in diff.only_b_keys and b"ab" in diff.common_keys


# --- tokenizer.json ---------------------------------------------------------------------------


def test_wordpiece_drops_the_continuation_mark(tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    vocab = {"[UNK]": 0, "the": 1, "##ing": 2, "ing": 3, "##s": 4, "a": 5, "##": 6}
    tok = tokenizers.Tokenizer(tokenizers.models.WordPiece(vocab=vocab, unk_token="[UNK]"))
    tok.add_special_tokens(["[UNK]"])
    path = tmp_path / "wp.json"
    tok.save(str(path))
    vw = load(path)
    assert vw.kind == "hf-wordpiece"
    keys = comparison_keys(vw)
    assert keys == [None, b"the", b"ing", b"ing", b"s", b"a", b"##"]
    vb = bytepiece(tmp_path, {**{bytes([i]): 1 for i in range(256)}, b"the": 3, b"ing": 2})
    diff = diff_vocabularies(vw, vb)
    assert diff.a.folded == 1  # "ing" folds onto the better-ranked "##ing"
    row = next(r for r in diff.entries("common") if r["piece"] == "ing")
    assert row["id_a"] == 2 and row["rank_a"] == 2
    assert set(diff.only_a_keys) == {b"##"}


def _stub(kind: str, pieces: list[bytes], special: list[bool], **extra) -> SimpleNamespace:
    n = len(pieces)
    return SimpleNamespace(
        kind=kind,
        source=f"<{kind}>",
        pieces=pieces,
        special=np.array(special),
        scores=np.arange(n, dtype=np.float64),
        score_name="rank",
        vocab_size=n,
        **extra,
    )


def test_hf_metaspace_and_byte_fallback_keys():
    pieces = [b"<unk>", "▁the".encode(), b"<0x41>", b"the", "▁".encode(), b"A"]
    plain = _stub("hf-bpe", pieces, [True] + [False] * 5, byte_level=False)
    assert comparison_keys(plain) == [None, b" the", b"A", b"the", b" ", b"A"]
    ranks = piece_ranks(plain)
    assert ranks.tolist() == [0, 1, 5, 2, 3, 4]  # the byte-fallback piece last
    diff = diff_vocabularies(plain, plain)
    assert diff.a.folded == 1 and diff.common == 4
    byte_level = _stub("hf-bpe", pieces, [True] + [False] * 5, byte_level=True)
    assert comparison_keys(byte_level)[1:3] == ["▁the".encode(), b"<0x41>"]


def test_large_vocabularies_are_fast():
    rng = np.random.default_rng(0)
    raw = rng.integers(0, 2**63, size=(200_000,), dtype=np.int64)
    pieces_a = [int(x).to_bytes(8, "little") for x in raw]
    pieces_b = pieces_a[50_000:] + [b"b%d" % i for i in range(50_000)]
    va = _stub("tiktoken", pieces_a, [False] * len(pieces_a))
    vb = _stub("tiktoken", pieces_b, [False] * len(pieces_b))
    start = time.perf_counter()
    diff = diff_vocabularies(va, vb)
    took = time.perf_counter() - start
    assert (diff.common, diff.only_a, diff.only_b) == (150_000, 50_000, 50_000)
    assert diff.jaccard == pytest.approx(150_000 / 250_000)
    assert took < 5.0, f"a 200k diff took {took:.2f} s"


def test_a_sentencepiece_model_against_itself(sp_vocab):
    diff = diff_vocabularies(sp_vocab, sp_vocab)
    assert diff.only_a == diff.only_b == 0 and diff.jaccard == 1.0
    assert diff.common == len(keyset(sp_vocab)) and not diff.rank_change().any()
