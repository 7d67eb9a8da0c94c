"""Boundary marginals: exact against enumeration, against draws, the preview, bad arguments."""

from __future__ import annotations

import itertools
import math
import unicodedata

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from piecelab import Model, Tokenizer
from piecelab.engine.normalize import chunks
from piecelab.engine.preview import PreviewTokenizer

from ..conftest import tiny_counts

ALPHAS = (0.0, 0.1, 1.0, 2.5, 10.0)
ALPHABET = "abc a\n你好"
SHORT = [
    "a",
    "ab",
    "abc",
    "cab",
    "abcab",
    " ab ca",
    "a\n\nb",
    "ab\nc\n\n\nab",
    "你",
    "你好",
    "a你好b",
    "\n",
    "\n\na",
    "cabcabc",
]


def enumerate_segmentations(model: Model, data: bytes) -> list[tuple[float, list[int]]]:
    """Every segmentation of ``data`` the vocabulary allows, pieces kept inside the line
    chunks: (Σ log p, the inner cut offsets); pieces of zero count are left out."""
    index, scores = model.index, model.log_probs()
    longest = max(map(len, model.pieces))
    text = data.decode("utf-8")
    edges = np.cumsum([0, *(len(c.encode()) for c in chunks(text))]).tolist()
    out: list[tuple[float, list[int]]] = []

    def walk(pos: int, stop: int, score: float, cuts: list[int], rest: list[int]) -> None:
        if pos == stop:
            if not rest:
                out.append((score, cuts[:-1]))
                return
            walk(pos, rest[0], score, cuts, rest[1:])
            return
        for end in range(pos + 1, min(stop, pos + longest) + 1):
            pid = index.get(data[pos:end])
            if pid is not None and scores[pid] > -math.inf:
                walk(end, stop, score + scores[pid], [*cuts, end], rest)

    if not data:
        return [(0.0, [])]  # the one empty segmentation
    walk(0, edges[1], 0.0, [], edges[2:])
    return out


def brute_marginals(model: Model, text: str, alpha: float) -> np.ndarray:
    """P(boundary at byte i) by summing exp(α · Σ log p) over every segmentation."""
    data = unicodedata.normalize("NFC", text).encode()
    segs = enumerate_segmentations(model, data)
    logw = np.array([alpha * s for s, _ in segs])
    w = np.exp(logw - logw.max())
    hit = np.zeros(len(data) + 1)
    for weight, (_, cuts) in zip(w, segs):
        hit[cuts] += weight
    hit /= w.sum()
    hit[0] = hit[-1] = 1.0
    return hit


@pytest.fixture(scope="module")
def bundled(bundled_model_path):
    tok = Tokenizer(str(bundled_model_path))
    tok.wait_ready()
    return tok


# ---------------------------------------------------------------- exactness
@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("text", SHORT)
def test_tiny_model_matches_enumeration(tiny_tokenizer, text, alpha):
    got = tiny_tokenizer.boundary_marginals(text, alpha)
    want = brute_marginals(tiny_tokenizer.model, text, alpha)
    assert got.dtype == np.float64 and got.shape == (len(text.encode()) + 1,)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("text", ["the cat", "of the", "Hello, 世界", "it was\n\nthe", "床前明"])
def test_bundled_model_matches_enumeration(bundled, text, alpha):
    want = brute_marginals(bundled.model, text, alpha)
    np.testing.assert_allclose(bundled.boundary_marginals(text, alpha), want, atol=1e-12, rtol=1e-9)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=12), st.sampled_from(ALPHAS))
def test_random_short_strings_match_enumeration(tiny_tokenizer, text, alpha):
    assume(tiny_tokenizer.count_segmentations(text) <= 4000)
    got = tiny_tokenizer.boundary_marginals(text, alpha)
    want = brute_marginals(tiny_tokenizer.model, text, alpha)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- properties
def chunk_edges(text: str) -> list[int]:
    return np.cumsum([0, *(len(c.encode()) for c in chunks(text))]).tolist()


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=ALPHABET + "é\t", max_size=80), st.sampled_from(ALPHAS))
def test_ends_and_chunk_edges_are_certain_and_values_are_probabilities(tiny_tokenizer, text, alpha):
    m = tiny_tokenizer.boundary_marginals(text, alpha)
    assert m.shape == (len(text.encode()) + 1,)
    assert m[0] == 1.0 and m[-1] == 1.0
    assert np.all((m >= 0.0) & (m <= 1.0))
    for edge in chunk_edges(text):
        assert m[edge] == 1.0


def test_empty_text(tiny_tokenizer):
    m = tiny_tokenizer.boundary_marginals("", 1.0)
    assert m.dtype == np.float64 and m.tolist() == [1.0]


def test_newline_runs_end_chunks(tiny_tokenizer):
    text = "ab\n\n\nca\nb"
    m = tiny_tokenizer.boundary_marginals(text, 1.0)
    assert m[5] == 1.0 and m[8] == 1.0  # after "ab\n\n\n" and after "ca\n"
    assert 0.0 < m[4] < 1.0  # inside the run: "\n\n" is a piece, so not certain


def test_offsets_are_those_of_the_nfc_text(tiny_tokenizer):
    decomposed = "e\u0301a"  # NFC: "éa", 3 bytes
    m = tiny_tokenizer.boundary_marginals(decomposed, 1.0)
    assert m.shape == (len(unicodedata.normalize("NFC", decomposed).encode()) + 1,)
    np.testing.assert_allclose(m, tiny_tokenizer.boundary_marginals("éa", 1.0))
    assert m.shape == (4,) and len(decomposed.encode()) == 4  # not 5 entries


def test_multibyte_characters_can_be_cut_inside(tiny_tokenizer):
    m = tiny_tokenizer.boundary_marginals("你好", 1.0)
    assert m.shape == (7,)
    assert 0.0 < m[2] < 1.0  # the piece "你"[:2] cuts inside the character
    assert 0.0 < m[3] < 1.0  # "你好" is one piece, so 3 is no certain cut
    np.testing.assert_allclose(m, brute_marginals(tiny_tokenizer.model, "你好", 1.0), rtol=1e-12)


def test_large_alpha_gives_the_viterbi_boundaries(bundled):
    text = "It was the best of times, it was the worst of times.\n床前明月光，疑是地上霜。"
    ends = bundled.segment(text).ends.tolist()
    m = bundled.boundary_marginals(text, 1e6)
    assert np.all(np.isfinite(m))
    want = np.zeros(len(text.encode()) + 1)
    want[[0, *ends]] = 1.0
    np.testing.assert_allclose(m, want, atol=1e-9)


def test_zero_count_pieces_weigh_nothing():
    counts = tiny_counts()
    with_zero = Tokenizer({**counts, b"abca": 0, b"bcab": 0})
    text = "abcabcab"
    np.testing.assert_allclose(
        with_zero.boundary_marginals(text, 1.0),
        brute_marginals(Model.from_counts(counts), text, 1.0),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        with_zero.boundary_marginals(text, 0.0),
        brute_marginals(Model.from_counts(counts), text, 0.0),
        rtol=1e-12,
    )


def test_uniform_alpha_counts_segmentations(tiny_tokenizer):
    """At α = 0 the marginal at i is (ways to cut text[:i]) · (ways for text[i:]) / ways."""
    text = "abcab"
    total = tiny_tokenizer.count_segmentations(text)
    m = tiny_tokenizer.boundary_marginals(text, 0)
    for i in range(1, len(text)):
        left = tiny_tokenizer.count_segmentations(text[:i])
        right = tiny_tokenizer.count_segmentations(text[i:])
        assert m[i] == pytest.approx(left * right / total, rel=1e-12)


def test_expected_token_count_of_top_k(tiny_tokenizer):
    """Σ of the marginals past 0 is the expected number of tokens (all segmentations)."""
    text = "cabca abc"
    alpha = 0.7
    top = tiny_tokenizer.top_k(text, 10_000, alpha)
    assert sum(p for _, p in top) == pytest.approx(1.0)
    expected = sum(p * len(seg.ids) for seg, p in top)
    assert tiny_tokenizer.boundary_marginals(text, alpha)[1:].sum() == pytest.approx(expected)


def test_long_text_is_finite_and_agrees_with_the_preview(bundled, bundled_model_path):
    text = ("It was the best of times, it was the worst of times. 床前明月光，疑是地上霜。\n") * 60
    preview = PreviewTokenizer(Model.load(bundled_model_path))
    for alpha in (0.0, 1.0, 50.0):
        m = bundled.boundary_marginals(text, alpha)
        assert np.all(np.isfinite(m)) and np.all((m >= 0) & (m <= 1))
        np.testing.assert_allclose(m, preview.boundary_marginals(text, alpha), atol=1e-9)


@pytest.fixture(scope="module")
def tiny_preview():
    return PreviewTokenizer(Model.from_counts(tiny_counts()))


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=40), st.sampled_from(ALPHAS))
def test_preview_matches_the_kernel(tiny_tokenizer, tiny_preview, text, alpha):
    got = tiny_preview.boundary_marginals(text, alpha)
    want = tiny_tokenizer.boundary_marginals(text, alpha)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- against draws
@pytest.mark.parametrize("alpha", [0.0, 1.0, 2.5])
def test_empirical_boundary_frequencies(tiny_tokenizer, alpha):
    """Boundaries of 4,000 seeded draws land within 5 standard errors of the marginals."""
    text = "abcab cab\n\nabc你好"
    draws = 4000
    hits = np.zeros(len(text.encode()) + 1)
    for seed in range(draws):
        seg = tiny_tokenizer.segment(text, alpha=alpha, seed=seed)
        hits[seg.ends] += 1
    hits[0] = draws
    freq = hits / draws
    exact = tiny_tokenizer.boundary_marginals(text, alpha)
    bound = 5 * np.sqrt(exact * (1 - exact) / draws) + 2e-3
    assert np.all(np.abs(freq - exact) <= bound), (freq, exact)


# ---------------------------------------------------------------- bad arguments
def test_bad_arguments(tiny_tokenizer):
    with pytest.raises(ValueError, match="alpha must be ≥ 0 for boundary marginals"):
        tiny_tokenizer.boundary_marginals("ab", -1)
    with pytest.raises(ValueError, match="finite"):
        tiny_tokenizer.boundary_marginals("ab", math.nan)
    with pytest.raises(ValueError, match="finite"):
        tiny_tokenizer.boundary_marginals("ab", math.inf)
    with pytest.raises(TypeError, match="alpha must be a real number"):
        tiny_tokenizer.boundary_marginals("ab", "1")
    with pytest.raises(TypeError, match="text must be a str"):
        tiny_tokenizer.boundary_marginals(b"ab", 1.0)
    with pytest.raises(TypeError, match="text must be a str"):
        tiny_tokenizer.boundary_marginals(None, 1.0)


def test_preview_bad_arguments(tiny_preview):
    with pytest.raises(ValueError, match="alpha must be ≥ 0"):
        tiny_preview.boundary_marginals("ab", -0.5)
    with pytest.raises(TypeError, match="text must be a str"):
        tiny_preview.boundary_marginals(3, 1.0)


def test_missing_single_bytes_are_reported():
    counts = {b"a": 3, b"b": 1}
    with pytest.raises(ValueError, match="0x63 at offset 2 has no piece"):
        Tokenizer(counts).boundary_marginals("abc", 1.0)
    with pytest.raises(ValueError, match="0x63 at offset 2 has no piece"):
        PreviewTokenizer(Model.from_counts(counts)).boundary_marginals("abc", 1.0)
    np.testing.assert_allclose(Tokenizer(counts).boundary_marginals("ab", 1.0), [1, 1, 1])


# ---------------------------------------------------------------- piece marginals
def brute_piece_marginals(model: Model, text: str, alpha: float) -> dict[tuple[int, int], float]:
    """P(piece (start, end) is in the segmentation) by summing over every segmentation."""
    data = unicodedata.normalize("NFC", text).encode()
    segs = enumerate_segmentations(model, data)
    logw = np.array([alpha * s for s, _ in segs])
    w = np.exp(logw - logw.max())
    out: dict[tuple[int, int], float] = {}
    for weight, (_, cuts) in zip(w, segs):
        edges = [0, *cuts, len(data)] if data else []
        for piece in itertools.pairwise(edges):
            out[piece] = out.get(piece, 0.0) + weight / w.sum()
    return out


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("text", SHORT)
def test_piece_marginals_match_enumeration(tiny_tokenizer, text, alpha):
    s, e, ids, p = tiny_tokenizer.piece_marginals(text, alpha)
    data = unicodedata.normalize("NFC", text).encode()
    assert all(tiny_tokenizer.model.pieces[i - 3] == data[a:b] for a, b, i in zip(s, e, ids))
    got: dict[tuple[int, int], float] = {}
    for a, b, q in zip(s.tolist(), e.tolist(), p.tolist()):
        got[(a, b)] = got.get((a, b), 0.0) + q
    want = brute_piece_marginals(tiny_tokenizer.model, text, alpha)
    for key in set(got) | set(want):
        assert math.isclose(got.get(key, 0.0), want.get(key, 0.0), abs_tol=1e-12), key


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="the cat sat, 世界\n é", max_size=60), st.sampled_from(ALPHAS))
def test_piece_marginals_cover_every_byte_once(bundled, text, alpha):
    """Each byte lies in exactly one token, and a token starts where a boundary is."""
    s, e, _, p = bundled.piece_marginals(text, alpha)
    n = len(unicodedata.normalize("NFC", text).encode())
    covered = np.zeros(n + 1)
    np.add.at(covered, s, p)
    np.add.at(covered, e, -p)
    np.testing.assert_allclose(np.cumsum(covered)[:n], 1.0, atol=1e-9)
    starts = np.zeros(n + 1)
    np.add.at(starts, s, p)
    starts[n] = 1.0
    np.testing.assert_allclose(starts, bundled.boundary_marginals(text, alpha), atol=1e-9)


def test_piece_marginals_refuse_viterbi_alpha(tiny_tokenizer):
    with pytest.raises(ValueError, match="alpha must be ≥ 0"):
        tiny_tokenizer.piece_marginals("abc", -1)


@settings(max_examples=40, deadline=None)
@given(
    st.text(alphabet="the cat sat, 世界\n é", max_size=60),
    st.lists(st.tuples(st.integers(-5, 70), st.integers(-5, 70)), max_size=4),
)
def test_piece_marginals_within_ranges_list_just_those(bundled, text, ranges):
    """Asked for byte ranges, the occurrences fully inside them, with the same
    probabilities as when every occurrence is listed."""
    s, e, i, p = bundled.piece_marginals(text, 0.5)
    every = {(a, b, c): q for a, b, c, q in zip(s.tolist(), e.tolist(), i.tolist(), p.tolist())}
    s, e, i, p = bundled.piece_marginals(text, 0.5, within=ranges)
    got = list(zip(s.tolist(), e.tolist(), i.tolist()))
    assert len(got) == len(set(got))  # overlapping ranges list an occurrence once
    want = {k for k in every if any(lo <= k[0] and k[1] <= hi for lo, hi in ranges)}
    assert set(got) == want
    for key, q in zip(got, p.tolist()):
        assert q == every[key]
