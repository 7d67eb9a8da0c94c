"""The teaching lattice: every value checked against brute-force enumeration."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from piecelab import Tokenizer
from piecelab.engine import MAX_LATTICE_BYTES, Lattice
from piecelab.engine.normalize import chunks, to_utf8

TEXTS = ["abcab", "cabca b", " abc你好", "ab\n\ncab", "好你好a", "a"]
ALPHAS = [0.0, 0.3, 1.0, 2.5]


def chunk_ends(text: str) -> set[int]:
    data = to_utf8(text)
    ends, pos = set(), 0
    for c in chunks(data.decode()):
        pos += len(c.encode())
        ends.add(pos)
    return ends


def enumerate_paths(tok: Tokenizer, text: str, end: int) -> list[list[bytes]]:
    """Every segmentation of bytes [0, end) into pieces that stay inside the text's chunks."""
    data = to_utf8(text)
    cuts = sorted(chunk_ends(text))
    logps = tok.model.log_probs()

    def chunk_of(pos: int) -> int:
        return next(c for c in cuts if c > pos)

    def rec(pos: int) -> list[list[bytes]]:
        if pos == end:
            return [[]]
        out = []
        for e in range(pos + 1, min(end, chunk_of(pos)) + 1):
            piece = data[pos:e]
            i = tok.model.index.get(piece)
            if i is not None and math.isfinite(logps[i]):
                out.extend([piece, *rest] for rest in rec(e))
        return out

    return rec(0)


def log_sum(tok: Tokenizer, paths: list[list[bytes]], alpha: float) -> float:
    if not paths:
        return -math.inf
    scores = [alpha * sum(score(tok, p) for p in path) for path in paths]
    return float(np.logaddexp.reduce(scores))


def score(tok: Tokenizer, piece: bytes) -> float:
    return float(tok.model.log_probs()[tok.piece_to_id(piece)])


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("alpha", ALPHAS)
def test_forward_values_are_brute_force_sums(tiny_tokenizer, text, alpha):
    lat = tiny_tokenizer.lattice(text, alpha)
    assert isinstance(lat, Lattice)
    for i in range(lat.n + 1):
        expected = log_sum(tiny_tokenizer, enumerate_paths(tiny_tokenizer, text, i), alpha)
        if math.isinf(expected):
            assert lat.forward[i] == -math.inf
        else:
            assert lat.forward[i] == pytest.approx(expected, abs=1e-9)
    assert lat.log_partition == pytest.approx(tiny_tokenizer.log_partition(text, alpha), abs=1e-9)


@pytest.mark.parametrize("text", TEXTS)
def test_arcs_are_the_matches_and_viterbi_is_segment(tiny_tokenizer, text):
    lat = tiny_tokenizer.lattice(text)
    assert sorted((a.start, a.end, a.id) for a in lat.arcs) == sorted(tiny_tokenizer.matches(text))
    for a in lat.arcs:
        assert a.piece == lat.data[a.start : a.end]
        assert a.logp == score(tiny_tokenizer, a.piece)
    seg = tiny_tokenizer.segment(text)
    assert lat.pieces(lat.viterbi) == seg.pieces
    assert [lat.arcs[k].id for k in lat.viterbi] == seg.ids.tolist()
    paths = enumerate_paths(tiny_tokenizer, text, lat.n)
    best = max(sum(score(tiny_tokenizer, p) for p in path) for path in paths)
    assert lat.best[-1] == pytest.approx(best)
    assert sum(lat.arcs[k].logp for k in lat.viterbi) == pytest.approx(best)


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_steps_are_normalized_and_multiply_to_the_path_probability(tiny_tokenizer, text, alpha):
    lat = tiny_tokenizer.lattice(text, alpha)
    for seed in range(5):
        steps = lat.sampler_steps(seed)
        pos = lat.n
        for st in steps:
            assert st.end == pos
            assert sum(st.probs) == pytest.approx(1.0)
            assert set(st.arcs) == set(lat.ending_at(pos))
            assert st.chosen in st.arcs
            pos = lat.arcs[st.chosen].start
        assert pos == 0
        draw = [st.chosen for st in reversed(steps)]
        seg = tiny_tokenizer.from_pieces(text, lat.pieces(draw))
        product = math.prod(st.prob for st in steps)
        assert product == pytest.approx(math.exp(tiny_tokenizer.log_prob(seg, alpha)), rel=1e-9)
        assert lat.path_log_prob(draw) == pytest.approx(tiny_tokenizer.log_prob(seg, alpha))
        assert lat.steps(draw) == steps


def test_seeded_draws_follow_the_exact_distribution(tiny_tokenizer):
    text, alpha, n = "abcab", 0.8, 4000
    lat = tiny_tokenizer.lattice(text, alpha)
    counts = Counter(tuple(lat.draw(seed)) for seed in range(n))
    assert lat.draw(7) == lat.draw(7)
    total_p = 0.0
    for path in enumerate_paths(tiny_tokenizer, text, lat.n):
        seg = tiny_tokenizer.from_pieces(text, path)
        p = math.exp(tiny_tokenizer.log_prob(seg, alpha))
        total_p += p
        by_span = {(a.start, a.end): k for k, a in enumerate(lat.arcs)}
        ends = np.cumsum([len(x) for x in path]).tolist()
        key = tuple(by_span[(s, e)] for s, e in zip([0, *ends[:-1]], ends))
        observed = counts[key] / n
        assert abs(observed - p) < 4 * math.sqrt(p * (1 - p) / n) + 0.005
    assert total_p == pytest.approx(1.0)


def test_a_bundled_model_lattice_matches_its_tokenizer(bundled_model_path):
    tok = Tokenizer(str(bundled_model_path))
    text = "自然语言处理 is fun"
    lat = tok.lattice(text, 0.5)
    assert lat.log_partition == pytest.approx(tok.log_partition(text, 0.5), rel=1e-9)
    assert lat.pieces(lat.viterbi) == tok.segment(text).pieces
    for st in lat.sampler_steps(1):
        assert sum(st.probs) == pytest.approx(1.0)


def test_limits_and_errors(tiny_tokenizer):
    tiny_tokenizer.lattice("a" * MAX_LATTICE_BYTES)
    with pytest.raises(ValueError, match=f"at most {MAX_LATTICE_BYTES} bytes"):
        tiny_tokenizer.lattice("a" * (MAX_LATTICE_BYTES + 1))
    with pytest.raises(ValueError, match="at most"):
        tiny_tokenizer.lattice("你" * 22)  # 66 bytes
    with pytest.raises(ValueError, match="alpha"):
        tiny_tokenizer.lattice("abc", -1)
    lat = tiny_tokenizer.lattice("abc")
    first_a = next(k for k, a in enumerate(lat.arcs) if a.piece == b"a")
    with pytest.raises(ValueError, match="not a path"):
        lat.steps([first_a])
    last_c = next(k for k, a in enumerate(lat.arcs) if a.piece == b"c")
    with pytest.raises(ValueError, match="not the whole text"):
        lat.steps([last_c])
    with pytest.raises(ValueError, match="end must be"):
        lat.candidates(0)


def test_empty_text(tiny_tokenizer):
    lat = tiny_tokenizer.lattice("")
    assert lat.n == 0 and lat.arcs == () and lat.viterbi == ()
    assert lat.log_partition == 0.0
    assert lat.sampler_steps(0) == []
