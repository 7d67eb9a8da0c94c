"""Hostile arguments to the Tokenizer API (issue #14, items 11–13 and their kin).

Wrong types raise TypeError and wrong values ValueError, each naming the
argument, the same way in every entry point; no numba or numpy message leaks.
"""

from __future__ import annotations

import inspect
import math
import pickle
from fractions import Fraction

import numpy as np
import pytest

from piecelab import Tokenizer
from piecelab.engine import TextEncodingError

from ._workers import tiny_counts

TEXT = "abcab cab 你好\nca b"


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer(tiny_counts(), seed=1)


def alpha_calls(tok: Tokenizer, alpha) -> dict:
    """Every entry point that takes α, called with ``alpha``."""
    seg = tok.segment(TEXT)
    return {
        "tokenize": lambda: tok.tokenize(TEXT, alpha=alpha),
        "tokenize iter": lambda: list(tok.tokenize(TEXT, alpha, True)),
        "encode": lambda: tok.encode(TEXT, alpha=alpha),
        "segment": lambda: tok.segment(TEXT, alpha=alpha),
        "tokenize_batch": lambda: tok.tokenize_batch([TEXT, TEXT], alpha=alpha),
        "encode_batch": lambda: tok.encode_batch([TEXT], alpha=alpha),
        "log_partition": lambda: tok.log_partition(TEXT, alpha),
        "log_prob": lambda: tok.log_prob(seg, alpha),
        "top_k": lambda: tok.top_k("abcab", 3, alpha),
        "weights": lambda: tok.weights(alpha),
    }


# ----------------------------------------------------------------- item 11: α
@pytest.mark.parametrize("alpha", [math.nan, math.inf, -math.inf, np.float64("nan"), 1e400])
def test_non_finite_alpha_is_a_value_error_everywhere(tok, alpha):
    for name, call in alpha_calls(tok, alpha).items():
        with pytest.raises(ValueError, match="alpha must be a finite number") as info:
            call()
        assert "alpha" in str(info.value), name


@pytest.mark.parametrize("alpha", ["0.1", b"1", None, [0.5], 1j, np.array([0.5, 1.0])])
def test_alpha_of_the_wrong_type_is_a_type_error_everywhere(tok, alpha):
    for name, call in alpha_calls(tok, alpha).items():
        with pytest.raises(TypeError, match="alpha must be a real number"):
            call()
        assert name


@pytest.mark.parametrize("alpha", [-1, -0.5, -1e300, np.float64(-2), Fraction(-1, 3)])
def test_negative_alpha_is_viterbi_where_bytepiece_takes_it(tok, alpha):
    viterbi = tok.tokenize(TEXT)
    assert tok.tokenize(TEXT, alpha=alpha) == viterbi
    assert tok.encode(TEXT, alpha=alpha) == tok.encode(TEXT)
    assert tok.segment(TEXT, alpha=alpha).pieces == viterbi
    assert tok.tokenize_batch([TEXT], alpha=alpha) == [viterbi]
    assert tok.encode_batch([TEXT], alpha=alpha) == [tok.encode(TEXT)]
    assert all(math.isnan(p) for _, p in tok.top_k("abcab", 2, alpha))
    with pytest.raises(ValueError, match="alpha must be ≥ 0"):
        tok.log_partition(TEXT, alpha)
    with pytest.raises(ValueError, match="alpha must be ≥ 0"):
        tok.log_prob(tok.segment(TEXT), alpha)


def test_alpha_may_be_any_real_number_type(tok):
    base = tok.tokenize(TEXT * 3, alpha=0.5, seed=4)
    for alpha in (np.float64(0.5), np.float32(0.5), Fraction(1, 2)):
        assert tok.tokenize(TEXT * 3, alpha=alpha, seed=4) == base
        assert tok.tokenize_batch([TEXT * 3], alpha=alpha, seed=4) == [base]


def test_alpha_zero_and_huge_finite_alpha_work(tok):
    assert b"".join(tok.tokenize(TEXT, alpha=0, seed=3)) == TEXT.encode()
    assert b"".join(tok.tokenize(TEXT, alpha=-0.0, seed=3)) == TEXT.encode()
    viterbi = tok.tokenize(TEXT)
    for alpha in (1e6, 1e300, 1.7e308):
        assert tok.tokenize(TEXT, alpha=alpha, seed=3) == viterbi
        assert tok.segment(TEXT, alpha=alpha, seed=3).pieces == viterbi
    assert tok.log_partition(TEXT, 1e6) == pytest.approx(1e6 * tok.segment(TEXT).score)


# ----------------------------------------------------------------- item 12: seeds
SEED_CALLS = {
    "tokenize": lambda t, s: t.tokenize(TEXT, alpha=0.5, seed=s),
    "tokenize viterbi": lambda t, s: t.tokenize(TEXT, seed=s),
    "encode": lambda t, s: t.encode(TEXT, alpha=0.5, seed=s),
    "segment": lambda t, s: t.segment(TEXT, alpha=0.5, seed=s),
    "segment viterbi": lambda t, s: t.segment(TEXT, -1, s),
    "tokenize_batch": lambda t, s: t.tokenize_batch([TEXT], alpha=0.5, seed=s),
    "tokenize_batch viterbi": lambda t, s: t.tokenize_batch([TEXT], seed=s),
    "encode_batch": lambda t, s: t.encode_batch([TEXT], alpha=0.5, seed=s),
    "large alpha": lambda t, s: t.tokenize(TEXT, alpha=200, seed=s),
    "set_seed": lambda t, s: t.set_seed(s),
    "constructor": lambda t, s: Tokenizer(tiny_counts(), seed=s),
}


@pytest.mark.parametrize(
    ("seed", "error"),
    [
        ("abc", TypeError),
        (1.0, TypeError),
        (True, TypeError),
        (-1, ValueError),
        (2**64, ValueError),
    ],
)
def test_seeds_outside_the_range_are_refused_everywhere(tok, seed, error):
    for name, call in SEED_CALLS.items():
        with pytest.raises(error, match="seed must be") as info:
            call(tok, seed)
        assert "[0, 2**64)" in str(info.value), name


@pytest.mark.parametrize("seed", [0, 2**63 - 1, 2**63, 2**64 - 1, np.uint64(2**64 - 1)])
def test_every_64_bit_seed_works_everywhere(tok, seed):
    for call in SEED_CALLS.values():
        call(tok, seed)
    one = tok.tokenize(TEXT * 4, alpha=0.5, seed=seed)
    assert tok.tokenize_batch([TEXT * 4], alpha=0.5, seed=seed) == [one]
    assert tok.tokenize(TEXT * 4, alpha=0.5, seed=seed) == one


def test_high_seeds_are_distinct_streams(tok):
    text = TEXT * 20
    draws = {tuple(tok.tokenize(text, alpha=0.5, seed=s)) for s in (2**63, 2**63 + 1, 2**64 - 1, 0)}
    assert len(draws) == 4


# ----------------------------------------------------------------- decode and ids
def test_decode_refuses_non_integer_ids(tok):
    for ids, bad in (([1.0], "1.0"), (["a"], "'a'"), ([5, 2.5], "2.5"), ([None], "None")):
        with pytest.raises(TypeError, match=f"decode: ids must be integers, got {bad}"):
            tok.decode(ids)
    with pytest.raises(TypeError, match="decode: ids must be an iterable"):
        tok.decode(5)
    with pytest.raises(TypeError, match="decode: ids must be integers"):
        tok.decode(np.array([5.0]))


def test_decode_of_an_unknown_id_is_a_key_error_that_reads_well(tok):
    ids = tok.encode(TEXT)
    for bad_ids in ([*ids, 10**6], iter([*ids, 10**6]), np.array([*ids, 10**6])):
        with pytest.raises(KeyError) as info:
            tok.decode(bad_ids)
        assert isinstance(info.value, ValueError)
        assert str(info.value).startswith("decode: id 1000000 at position")
        assert "ids run from 0 to" in str(info.value)


def test_decode_skips_low_ids_as_bytepiece_does(tok):
    ids = tok.encode(TEXT)
    assert tok.decode([0, 1, *ids, 2, -100, -1]) == TEXT
    assert tok.decode(np.array(ids)) == TEXT
    assert tok.decode(iter(ids)) == TEXT


def test_id_and_piece_lookups(tok):
    with pytest.raises(KeyError):
        tok.id_to_piece(-1)
    with pytest.raises(KeyError) as info:
        tok.id_to_piece(tok.vocab_size)
    assert "not in this vocabulary" in str(info.value)
    with pytest.raises(TypeError, match="i must be an int"):
        tok.id_to_piece(1.0)
    with pytest.raises(TypeError, match="i must be an int"):
        tok.id_to_piece("a")
    assert tok.id_to_piece(np.int64(1)) == "<bos>"
    with pytest.raises(KeyError) as info:
        tok.piece_to_id(b"zzz")
    assert str(info.value) == "b'zzz' is not a piece of this vocabulary"
    with pytest.raises(KeyError):
        tok.pieces_to_ids([b"a", b"zzz"])
    with pytest.raises(KeyError):
        tok.piece_to_id("a")  # text, not bytes, as in BytePiece


def test_tokenizer_of_something_that_is_not_a_model():
    for bad in (42, None, [b"a"], b"path.model", 3.5):
        with pytest.raises(TypeError, match="pieces must be a path"):
            Tokenizer(bad)


def test_text_must_be_str(tok):
    for bad in (b"abc", None, 5, ["abc"]):
        with pytest.raises(TypeError, match="text must be a str"):
            tok.tokenize(bad)
        with pytest.raises(TypeError, match="text must be a str"):
            tok.tokenize_batch([TEXT, bad])


# ----------------------------------------------------------------- item 13: BytePiece details
BYTEPIECE_SIGNATURES = {  # bytepiece 0.6.3, Tokenizer
    "__init__": ["self", "pieces", "seed"],
    "set_seed": ["self", "seed"],
    "tokenize": ["self", "text", "alpha", "iter"],
    "piece_to_id": ["self", "p"],
    "id_to_piece": ["self", "i"],
    "pieces_to_ids": ["self", "pieces"],
    "ids_to_pieces": ["self", "ids"],
    "encode": ["self", "text", "add_bos", "add_eos", "alpha", "iter"],
    "decode": ["self", "ids"],
}


@pytest.mark.parametrize(("name", "params"), BYTEPIECE_SIGNATURES.items())
def test_signatures_take_bytepiece_keywords(name, params):
    got = inspect.signature(getattr(Tokenizer, name)).parameters
    positional = [p for p, v in got.items() if v.kind is v.POSITIONAL_OR_KEYWORD]
    assert positional == params


def test_bytepiece_keywords_work(tok):
    assert tok.piece_to_id(p=b"abc") == tok.piece_to_id(b"abc")
    assert tok.id_to_piece(i=1) == "<bos>"
    assert tok.pieces_to_ids(pieces=[b"a"]) == [tok.piece_to_id(b"a")]
    assert tok.ids_to_pieces(ids=[1]) == ["<bos>"]
    assert tok.encode(text="ab", add_bos=True, add_eos=True, alpha=-1, iter=False)[0] == 1


def test_lone_surrogates_are_unicode_errors(tok):
    for call in (
        lambda: tok.tokenize("ab\ud800c"),
        lambda: tok.encode("\udfff", alpha=0.5),
        lambda: tok.tokenize_batch(["ok", "\ud800"]),
        lambda: tok.segment("x\ud800"),
    ):
        with pytest.raises(UnicodeEncodeError) as info:
            call()
        assert isinstance(info.value, (TextEncodingError, UnicodeError, ValueError))
        assert "lone surrogates are not text" in str(info.value)
        assert "'\\ud" in str(info.value)
    err = pickle.loads(pickle.dumps(info.value))
    assert str(err) == str(info.value)


def test_private_piece_to_id_mapping_tells_the_truth(tok):
    mapping = tok._piece2id
    expected = dict(zip(tok.model.pieces, range(3, tok.vocab_size)))
    expected.update({"<pad>": 0, "<bos>": 1, "<eos>": 2})
    assert len(mapping) == tok.vocab_size
    assert dict(mapping.items()) == expected
    assert sorted(mapping, key=expected.get) == sorted(expected, key=expected.get)
    assert mapping.get(b"abc") == expected[b"abc"] and mapping.get(b"zzz", -7) == -7
    assert mapping.get("<eos>") == 2
    assert b"abc" in mapping and "<pad>" in mapping and b"zzz" not in mapping
    with pytest.raises(TypeError):
        mapping[b"zzz"] = 1  # read-only


# ----------------------------------------------------------------- kin: other arguments
def test_top_k_with_huge_k_returns_what_exists(tok):
    n = tok.count_segmentations("abcab")
    got = tok.top_k("abcab", k=10**9, alpha=1.0)
    assert len(got) == n
    assert sum(p for _, p in got) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="ask for fewer"):
        tok.top_k("abcab" * 400, k=10**9)


@pytest.mark.parametrize(
    ("k", "error"),
    [(0, ValueError), (-3, ValueError), ("3", TypeError), (2.0, TypeError), (None, TypeError)],
)
def test_top_k_checks_k(tok, k, error):
    with pytest.raises(error, match="k must be"):
        tok.top_k("abc", k=k)


def test_top_k_accepts_numpy_k(tok):
    assert len(tok.top_k("abcab", k=np.int64(2))) == 2


def test_from_pieces_misuse(tok):
    with pytest.raises(TypeError, match=r"pieces must be bytes, got 'a' \(str\) at position 0"):
        tok.from_pieces("ab", ["a", "b"])
    with pytest.raises(TypeError, match="not one string"):
        tok.from_pieces("ab", b"ab")
    with pytest.raises(ValueError, match="do not spell"):
        tok.from_pieces("ab", [b"a"])
    with pytest.raises(KeyError, match=r"b'zzzz' at position 0 is not a piece"):
        tok.from_pieces("zzzz", [b"zzzz"])
    with pytest.raises(KeyError, match="is not a piece"):
        tok.from_pieces("ab", [b"a", b"", b"b"])
    assert tok.from_pieces("", []).pieces == []
    seg = tok.from_pieces("abc", (p for p in [b"ab", b"c"]))
    assert seg.pieces == [b"ab", b"c"]


def test_batches_check_their_arguments(tok):
    with pytest.raises(TypeError, match="texts must be a sequence of str, not a single str"):
        tok.tokenize_batch("abc")
    with pytest.raises(TypeError, match="workers must be an int"):
        tok.tokenize_batch([TEXT], workers="2")
    with pytest.raises(ValueError, match="workers must be ≥ 1"):
        tok.encode_batch([TEXT], workers=-1)
    with pytest.raises(TypeError, match="workers must be an int"):
        tok.count_tokens([TEXT], workers=1.5)
    assert tok.tokenize_batch((t for t in [TEXT, "ab"]), workers=0) == [
        tok.tokenize(TEXT),
        tok.tokenize("ab"),
    ]
