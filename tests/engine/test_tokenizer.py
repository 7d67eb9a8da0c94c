"""Tokenizer: BytePiece API, exact Viterbi, exact sampling, spans, scores and batches."""

from __future__ import annotations

import json
import math
import unicodedata
from collections import Counter
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piecelab import Tokenizer
from piecelab.engine import TextEncodingError, kernels
from piecelab.engine.normalize import chunks

from ..conftest import tiny_counts

COUNTS = tiny_counts()
TOTAL = sum(COUNTS.values())
LOGP = {p: math.log(c) - math.log(TOTAL) for p, c in COUNTS.items()}


def all_segmentations(data: bytes) -> list[tuple[bytes, ...]]:
    """Every way to cut ``data`` (one chunk) into vocabulary pieces."""

    @cache
    def rec(i: int) -> list[tuple[bytes, ...]]:
        if i == len(data):
            return [()]
        out = []
        for j in range(i + 1, len(data) + 1):
            if data[i:j] in COUNTS:
                out.extend((data[i:j], *rest) for rest in rec(j))
        return out

    return rec(0)


def seg_score(seg) -> float:
    return sum(LOGP[p] for p in seg)


# ----------------------------------------------------------------- chunking
@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab \n\r你", max_size=40))
def test_kernel_chunks_equal_bytepiece_regex(text):
    data = text.encode()
    ends = kernels.chunk_ends(np.frombuffer(data, np.uint8), np.zeros(0, np.int64)).tolist()
    expected = np.cumsum([len(c.encode()) for c in chunks(text)]).tolist()
    assert ends == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab \n你", max_size=40), st.lists(st.integers(0, 45), max_size=6))
def test_forced_boundaries_join_the_line_chunks(text, forced):
    data = text.encode()
    cuts = np.array(sorted(forced), np.int64)
    ends = kernels.chunk_ends(np.frombuffer(data, np.uint8), cuts).tolist()
    lines = np.cumsum([len(c.encode()) for c in chunks(text)]).tolist()
    assert ends == sorted(set(lines) | {f for f in forced if 0 < f < len(data)})


# ----------------------------------------------------------------- Viterbi
@pytest.mark.parametrize("text", ["abcab", "cabcabc", "abc abca", "你好你", "ab\n\nca\nb"])
def test_viterbi_finds_the_best_segmentation(tiny_tokenizer, text):
    pieces = tiny_tokenizer.tokenize(text)
    assert b"".join(pieces) == text.encode()
    best = 0.0
    for chunk in chunks(text):
        best += max(seg_score(s) for s in all_segmentations(chunk.encode()))
    assert seg_score(pieces) == pytest.approx(best, abs=1e-12)


def test_ties_keep_the_longest_piece():
    # x|xx and xx|x score exactly the same (the same two floats added from 0);
    # BytePiece keeps the candidate with the longer last piece, so x|xx
    counts = {bytes([i]): 1 for i in range(256)}
    counts.update({b"x": 10, b"xx": 100})
    tok = Tokenizer(counts)
    assert tok.tokenize("xxx") == [b"x", b"xx"]
    assert tok.tokenize("\n\n\n") == [b"\n", b"\n", b"\n"]


def test_pieces_never_cross_lines(tiny_tokenizer):
    counts = dict(COUNTS)
    counts[b"\nab"] = 10_000
    tok = Tokenizer(counts)
    assert b"\nab" not in tok.tokenize("x\nab")
    assert tok.tokenize("x\nab")[:2] == [b"x", b"\n"]


def test_normalizes_to_nfc(tiny_tokenizer):
    nfd = unicodedata.normalize("NFD", "é")
    assert b"".join(tiny_tokenizer.tokenize(nfd)) == "é".encode()


# ----------------------------------------------------------------- API
def test_bytepiece_api(tiny_tokenizer):
    tok = tiny_tokenizer
    assert tok.vocab_size == len(COUNTS) + 3
    ids = tok.encode("abc ab")
    assert tok.encode("abc ab", add_bos=True, add_eos=True) == [1, *ids, 2]
    assert tok.decode([1, *ids, 2, 0]) == "abc ab"
    assert tok.ids_to_pieces(ids) == tok.tokenize("abc ab")
    assert tok.pieces_to_ids(tok.tokenize("abc ab")) == ids
    assert tok.piece_to_id("<bos>") == 1 and tok.id_to_piece(2) == "<eos>"
    assert tok.id_to_piece(tok.piece_to_id(b"abc")) == b"abc"
    assert list(tok.tokenize("abc", iter=True)) == tok.tokenize("abc")
    assert list(tok.encode("abc", iter=True, add_eos=True)) == [*tok.encode("abc"), 2]
    with pytest.raises(KeyError):
        tok.id_to_piece(tok.vocab_size)
    with pytest.raises(KeyError):
        tok.piece_to_id(b"not a piece")
    assert tok.tokenize("") == [] and tok.encode("") == [] and tok.decode([]) == ""


def test_lone_surrogate_is_a_clear_error(tiny_tokenizer):
    with pytest.raises(TextEncodingError, match="surrogate"):
        tiny_tokenizer.encode("ab\ud800c")
    assert issubclass(TextEncodingError, ValueError)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_decode_encode_round_trip(text):
    tok = _tiny()
    assert tok.decode(tok.encode(text)) == unicodedata.normalize("NFC", text)
    assert tok.decode(tok.encode(text, alpha=0.5, seed=1)) == unicodedata.normalize("NFC", text)


@cache
def _tiny() -> Tokenizer:
    return Tokenizer(COUNTS)


def test_missing_single_bytes_are_reported():
    tok = Tokenizer({b"a": 3, b"b": 1})
    assert tok.tokenize("ab") == [b"a", b"b"]
    with pytest.raises(ValueError, match="0x63 at offset 2 has no piece"):
        tok.tokenize("abc")


# ----------------------------------------------------------------- sampling
def chi2_critical(df: int, p: float = 1e-5) -> float:
    """Wilson–Hilferty upper quantile of chi-square (z for p = 1e-5 is 4.265)."""
    z = {1e-5: 4.2649}[p]
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def chi2_stat(observed: Counter, expected: dict, n: int) -> tuple[float, int]:
    stat = 0.0
    for seg, p in expected.items():
        e = n * p
        stat += (observed.get(seg, 0) - e) ** 2 / e
    extra = sum(v for k, v in observed.items() if k not in expected)
    assert extra == 0, "the sampler produced a segmentation that does not exist"
    return stat, len(expected) - 1


def exact_distribution(text: str, alpha: float) -> dict:
    segs = all_segmentations(text.encode())
    w = np.array([alpha * seg_score(s) for s in segs])
    p = np.exp(w - w.max())
    p /= p.sum()
    return dict(zip(segs, p.tolist()))


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0, 2.0])
@pytest.mark.parametrize("text", ["abcab", "cabc a你好"])
def test_sampler_is_exact(tiny_tokenizer, alpha, text):
    n = 30_000
    draws = tiny_tokenizer.tokenize_batch([text] * n, alpha=alpha, seed=1234)
    observed = Counter(tuple(d) for d in draws)
    expected = exact_distribution(text, alpha)
    stat, df = chi2_stat(observed, expected, n)
    assert stat < chi2_critical(df), f"chi2={stat:.1f} df={df}"
    # the same test rejects a sampler with the wrong temperature: it can fail
    wrong = exact_distribution(text, alpha + 0.5)
    stat_wrong, _ = chi2_stat(observed, wrong, n)
    assert stat_wrong > chi2_critical(df)


def test_sampling_is_reproducible(tiny_tokenizer):
    text = "abcabcab cab 你好你好"
    a = tiny_tokenizer.tokenize(text, alpha=0.5, seed=7)
    b = tiny_tokenizer.tokenize(text, alpha=0.5, seed=7)
    assert a == b
    draws = {tuple(tiny_tokenizer.tokenize(text, alpha=0.5, seed=s)) for s in range(30)}
    assert len(draws) > 5
    t1, t2 = Tokenizer(COUNTS, seed=3), Tokenizer(COUNTS, seed=3)
    seq1 = [t1.tokenize(text, alpha=0.5) for _ in range(5)]
    seq2 = [t2.tokenize(text, alpha=0.5) for _ in range(5)]
    assert seq1 == seq2
    assert len({tuple(s) for s in seq1}) > 1
    t1.set_seed(3)
    assert [t1.tokenize(text, alpha=0.5) for _ in range(5)] == seq1


def test_batch_sampling_does_not_depend_on_workers(tiny_tokenizer):
    texts = ["abcab cab " * 50, "你好 abc\n" * 40] * 20
    one = tiny_tokenizer.tokenize_batch(texts, alpha=0.4, workers=1, seed=5)
    two = tiny_tokenizer.tokenize_batch(texts, alpha=0.4, workers=2, seed=5)
    assert one == two
    assert one[0] != one[2]  # documents draw independent samples


def test_one_call_draws_what_a_batch_of_one_draws(tiny_tokenizer):
    # tokenize() hands the kernel bytes, batches hand it an array view: same draw
    text = "abcab cab\n你好 abc " * 30
    for seed in range(20):
        assert (
            tiny_tokenizer.tokenize(text, alpha=0.7, seed=seed)
            == (tiny_tokenizer.tokenize_batch([text], alpha=0.7, seed=seed)[0])
        )


def log_partition_reference(data: bytes, alpha: float) -> float:
    """log Σ_seg exp(α · score) of one chunk, summed in log space (no rescaling)."""
    lz = [0.0] + [-math.inf] * len(data)
    for p in range(1, len(data) + 1):
        terms = [lz[s] + alpha * LOGP[data[s:p]] for s in range(p) if data[s:p] in COUNTS]
        m = max(terms)
        lz[p] = m + math.log(sum(math.exp(t - m) for t in terms))
    return lz[-1]


@pytest.mark.parametrize("alpha", [0.0, 1.0, 3.0])
def test_log_partition_is_exact_across_rescaling(tiny_tokenizer, alpha):
    # long enough that the running partition leaves [1e-100, 1e100] many times
    text = "abcab" * 300
    expected = log_partition_reference(text.encode(), alpha)
    assert abs(expected) > 2 * math.log(1e100) or alpha == 0.0
    assert tiny_tokenizer.log_partition(text, alpha) == pytest.approx(expected, rel=1e-9)


def test_batch_viterbi_equals_one_by_one(tiny_tokenizer):
    texts = ["abc", "", "cab\n\nab", "你好 a", "x" * 1000]
    assert tiny_tokenizer.tokenize_batch(texts, workers=2) == [
        tiny_tokenizer.tokenize(t) for t in texts
    ]
    assert tiny_tokenizer.encode_batch(texts) == [tiny_tokenizer.encode(t) for t in texts]
    assert tiny_tokenizer.count_tokens(texts) == sum(len(tiny_tokenizer.encode(t)) for t in texts)
    assert tiny_tokenizer.tokenize_batch([]) == []


def test_batches_cut_into_parts_equal_one_by_one(tiny_tokenizer):
    # 630 KB: two workers cut the buffer into 8 parts at document ends, and the
    # lists of early parts are built while later parts are still segmented
    texts = []
    for i in range(2000):
        texts += ["abcab cab 你好\n" * (i % 37), "", "ca" * (i % 11)]
    assert len("".join(texts).encode()) > 8 * 65536
    tok = tiny_tokenizer
    assert tok.tokenize_batch(texts, workers=2) == [tok.tokenize(t) for t in texts]
    assert tok.encode_batch(texts, workers=2) == [tok.encode(t) for t in texts]
    assert tok.count_tokens(texts, workers=2) == sum(len(tok.encode(t)) for t in texts)
    one = tok.tokenize_batch(texts, alpha=0.4, workers=1, seed=9)
    two = tok.tokenize_batch(texts, alpha=0.4, workers=2, seed=9)
    assert one == two
    assert [b"".join(d) for d in two] == [t.encode() for t in texts]
    assert tok.tokenize_batch(["", ""], workers=2) == [[], []]


# ----------------------------------------------------------------- richer API
def test_probabilities_counts_and_top_k(tiny_tokenizer):
    text = "abcab"
    segs = all_segmentations(text.encode())
    assert tiny_tokenizer.count_segmentations(text) == len(segs)
    assert math.exp(tiny_tokenizer.log_count_segmentations(text)) == pytest.approx(len(segs))
    for alpha in (0.0, 0.5, 1.0):
        total = sum(
            math.exp(tiny_tokenizer.log_prob(tiny_tokenizer.from_pieces(text, s), alpha))
            for s in segs
        )
        assert total == pytest.approx(1.0)
    top = tiny_tokenizer.top_k(text, k=5, alpha=1.0)
    expected = sorted(segs, key=seg_score, reverse=True)[:5]
    assert [seg_score(s.pieces) for s, _ in top] == pytest.approx([seg_score(s) for s in expected])
    assert tuple(top[0][0].pieces) == tuple(tiny_tokenizer.tokenize(text))
    exact = exact_distribution(text, 1.0)
    for seg, prob in top:
        assert prob == pytest.approx(exact[tuple(seg.pieces)])


def test_count_multiplies_over_chunks(tiny_tokenizer):
    a, b = "abc\n", "cab"
    assert tiny_tokenizer.count_segmentations(a + b) == (
        tiny_tokenizer.count_segmentations(a) * tiny_tokenizer.count_segmentations(b)
    )


def test_huge_counts_stay_finite(tiny_tokenizer):
    text = "abcab" * 2000
    log_count = tiny_tokenizer.log_count_segmentations(text)
    assert math.isfinite(log_count) and log_count > 1000
    assert math.isfinite(tiny_tokenizer.log_partition(text, 1.0))


def test_token_spans_and_partial_characters():
    counts = dict(COUNTS)
    tok = Tokenizer(counts)
    # force a split inside 你 (E4 BD A0): only E4 BD and A0 are available for it
    del counts["你".encode()], counts["你好".encode()]
    tok = Tokenizer(counts)
    seg = tok.segment("a你b")
    pieces = seg.pieces
    assert pieces[1] == b"\xe4\xbd" and pieces[2] == b"\xa0"
    t = seg.tokens
    assert (t[1].start, t[1].end, t[1].char_start, t[1].char_end) == (1, 3, 1, 2)
    assert (t[2].start, t[2].end, t[2].char_start, t[2].char_end) == (3, 4, 1, 2)
    assert not t[1].complete and not t[2].complete and t[0].complete and t[3].complete
    assert t[0].logp == pytest.approx(tok.model.log_probs()[tok.piece_to_id(b"a")])
    assert seg.score == pytest.approx(sum(x.logp for x in t))
    assert seg.bytes_per_token == 5 / 4 and seg.chars_per_token == 3 / 4


def test_matches_lists_every_piece_occurrence(tiny_tokenizer):
    found = {(s, e) for s, e, _ in tiny_tokenizer.matches("abc")}
    assert found == {(0, 1), (1, 2), (2, 3), (0, 2), (1, 3), (0, 3)}


# ----------------------------------------------------------------- large α (issue #14, item 11)
def enumerate_segmentations(data: bytes, vocab) -> list[tuple[bytes, ...]]:
    """Every way to cut ``data`` (one chunk) into pieces of ``vocab``."""

    @cache
    def rec(i: int) -> list[tuple[bytes, ...]]:
        if i == len(data):
            return [()]
        return [
            (data[i:j], *rest)
            for j in range(i + 1, len(data) + 1)
            if data[i:j] in vocab
            for rest in rec(j)
        ]

    return rec(0)


def model_distribution(tok: Tokenizer, text: str, alpha: float) -> dict:
    """P(seg) ∝ exp(α · Σ log p) over every segmentation, from the model's own log p."""
    lp = tok.model.log_probs()
    segs = enumerate_segmentations(text.encode(), tok.model.index)
    w = np.array([alpha * sum(lp[tok.model.index[p]] for p in s) for s in segs])
    p = np.exp(w - w.max())
    return dict(zip(segs, (p / p.sum()).tolist()))


def pooled_chi2(observed: Counter, expected: dict, n: int) -> tuple[float, int]:
    """Chi-square with the cells expecting fewer than 5 draws pooled into one."""
    assert set(observed) <= set(expected), "the sampler produced a segmentation that does not exist"
    stat, cells, rest_e, rest_o = 0.0, 0, 0.0, 0
    for seg, p in expected.items():
        if n * p < 5:
            rest_e += n * p
            rest_o += observed.get(seg, 0)
        else:
            stat += (observed.get(seg, 0) - n * p) ** 2 / (n * p)
            cells += 1
    if rest_e > 0:
        stat += (rest_o - rest_e) ** 2 / rest_e
        cells += 1
    return stat, cells - 1


@cache
def near_tie_tokenizer() -> Tokenizer:
    """Pieces whose segmentations of "abab…" score within a few thousandths of a nat.

    The other bytes are a trillion times rarer, so p^α of a byte underflows
    for α ≳ 25: only the log-domain sampler can draw at α = 36 or 100.
    """
    total = 10**13
    la, lb = math.log(0.3), math.log(0.25)
    logp = {b"a": la, b"b": lb, b"ab": la + lb + 0.004, b"ba": la + lb - 0.006}
    logp[b"aba"] = logp[b"ab"] + la + 0.003
    counts = {bytes([i]): 1 for i in range(256)}
    counts.update({p: round(total * math.exp(v)) for p, v in logp.items()})
    counts[b"z"] = total - sum(counts.values()) + counts[b"z"]
    return Tokenizer(counts)


@pytest.mark.parametrize("alpha", [36.0, 100.0])
@pytest.mark.parametrize("text", ["ababa", "abab\x01aba"])
def test_sampler_is_exact_at_large_alpha(alpha, text):
    tok = near_tie_tokenizer()
    assert tok._sampler(alpha)[1] is None  # p^α underflows: the log-domain sampler
    n = 30_000
    draws = tok.tokenize_batch([text] * n, alpha=alpha, seed=99)
    observed = Counter(tuple(d) for d in draws)
    expected = model_distribution(tok, text.replace("\x01", ""), alpha)
    if "\x01" in text:  # the rare byte splits nothing: the same draws around it
        left, right = text.split("\x01")
        expected = {
            (*sl, b"\x01", *sr): pl * pr
            for sl, pl in model_distribution(tok, left, alpha).items()
            for sr, pr in model_distribution(tok, right, alpha).items()
        }
    stat, df = pooled_chi2(observed, expected, n)
    assert df >= 3 and stat < chi2_critical(df), f"chi2={stat:.1f} df={df}"
    if "\x01" not in text:  # the same test rejects a sampler with the wrong temperature
        wrong, _ = pooled_chi2(observed, model_distribution(tok, text, 0.7 * alpha), n)
        assert wrong > chi2_critical(df)
    # one call draws what a batch of one draws, at large α too
    for seed in range(10):
        assert (
            tok.tokenize(text, alpha=alpha, seed=seed)
            == (tok.tokenize_batch([text], alpha=alpha, seed=seed)[0])
        )


@pytest.mark.parametrize("alpha", [0.3, 1.0, 2.0])
@pytest.mark.parametrize("text", ["abcab", "cabc a你好"])
def test_log_domain_sampler_is_exact_at_ordinary_alpha(monkeypatch, alpha, text):
    from piecelab.engine import tokenizer as tokenizer_module

    monkeypatch.setattr(tokenizer_module, "LINEAR_NATS", -1.0)
    tok = Tokenizer(COUNTS)
    assert tok._sampler(alpha)[1] is None
    n = 30_000
    observed = Counter(tuple(d) for d in tok.tokenize_batch([text] * n, alpha=alpha, seed=7))
    stat, df = chi2_stat(observed, exact_distribution(text, alpha), n)
    assert stat < chi2_critical(df), f"chi2={stat:.1f} df={df}"
    expected = log_partition_reference((text * 10).encode(), alpha)
    assert tok.log_partition(text * 10, alpha) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("text", ["abcab", "cabc a你好", "abc abca", "你好你", "ab\n\nca\nb"])
def test_large_alpha_approaches_viterbi(tiny_tokenizer, text):
    viterbi = tiny_tokenizer.segment(text)
    (best, p_best), *_ = tiny_tokenizer.top_k(text, 2, 100.0)
    assert best.pieces == viterbi.pieces and p_best > 1 - 1e-9  # no near tie in these
    for seed in range(20):
        assert tiny_tokenizer.tokenize(text, alpha=100, seed=seed) == viterbi.pieces
        assert tiny_tokenizer.segment(text, 100, seed).pieces == viterbi.pieces
        assert tiny_tokenizer.tokenize_batch([text], alpha=100, seed=seed) == [viterbi.pieces]
    log_z = tiny_tokenizer.log_partition(text, 100)
    assert math.isfinite(log_z)
    assert log_z == pytest.approx(100 * viterbi.score, rel=1e-9, abs=1e-6)


@pytest.mark.shared
@pytest.mark.parametrize("alpha", [36.0, 100.0])
def test_large_alpha_approaches_viterbi_on_the_published_model(shared_tokenizer, alpha):
    from ..conftest import DATA

    tok = shared_tokenizer
    cases = json.loads((DATA / "golden" / "bp80k_edge.json").read_text())
    checked = 0
    for case in cases:
        text = case["text"]
        if not 0 < len(text.encode()) < 3000:
            continue
        viterbi = tok.segment(text)
        log_z = tok.log_partition(text, alpha)
        assert math.isfinite(log_z), text[:40]
        assert log_z >= alpha * viterbi.score - 1e-6 * abs(log_z)
        if log_z - alpha * viterbi.score > 1e-9:
            continue  # a near tie: other segmentations keep some probability
        checked += 1
        draws = {tuple(tok.tokenize(text, alpha=alpha, seed=s)) for s in range(10)}
        assert draws == {tuple(viterbi.pieces)}, text[:40]
    assert checked >= 20
