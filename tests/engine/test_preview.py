"""The plain-Python preview tokenizer gives the compiled tokenizer's results, bit for bit."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piecelab import Model, Tokenizer
from piecelab.engine.preview import MAX_PREVIEW_BYTES, PreviewTokenizer

from ..conftest import SHARED_MODEL, tiny_counts

ALPHAS = (0.0, 0.1, 0.5, 1.0, 3.0)


@pytest.fixture(scope="module")
def pair():
    model = Model.from_counts(tiny_counts())
    return PreviewTokenizer(model), Tokenizer(model)


def same(a, b) -> bool:
    return a.ids.tolist() == b.ids.tolist() and a.ends.tolist() == b.ends.tolist()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abc a\n你好", max_size=60), st.integers(0, 2**63 - 1))
def test_viterbi_and_samples_match_the_kernels(pair, text, seed):
    preview, tok = pair
    assert same(preview.segment(text), tok.segment(text))
    for alpha in ALPHAS:
        assert same(preview.segment(text, alpha, seed), tok.segment(text, alpha, seed))


def test_partition_and_probabilities_match(pair):
    preview, tok = pair
    rng = random.Random(3)
    for _ in range(50):
        text = "".join(rng.choice("abc a\n你好") for _ in range(rng.randrange(1, 80)))
        for alpha in ALPHAS:
            assert preview.log_partition(text, alpha) == pytest.approx(
                tok.log_partition(text, alpha), rel=1e-12, abs=1e-12
            )
            seg = tok.segment(text, alpha, 7)
            assert preview.log_prob(seg, alpha) == pytest.approx(tok.log_prob(seg, alpha))


def test_the_bundled_model_on_mixed_text(bundled_model_path):
    model = Model.load(bundled_model_path)
    preview, tok = PreviewTokenizer(model), Tokenizer(model)
    text = "床前明月光，疑是地上霜。\nIt was the best of times, it was the worst of times.\n\n" * 3
    assert same(preview.segment(text), tok.segment(text))
    for seed in range(20):
        assert same(preview.segment(text, 0.3, seed), tok.segment(text, 0.3, seed))


def test_the_published_model_on_mixed_text():
    if not SHARED_MODEL.is_file():
        pytest.skip("../shared is absent (the published BytePiece model)")
    model = Model.load(SHARED_MODEL)
    preview, tok = PreviewTokenizer(model), Tokenizer(model)
    text = "今天天气不错，我们去公园散步吧。\nThe weather is nice today; let's take a walk.\n"
    assert same(preview.segment(text), tok.segment(text))
    for seed in range(10):
        assert same(preview.segment(text, 0.1, seed), tok.segment(text, 0.1, seed))


def test_long_texts_wait_for_the_kernels(pair):
    preview, _ = pair
    with pytest.raises(ValueError, match="at most"):
        preview.segment("a" * (MAX_PREVIEW_BYTES + 1))


def test_alpha_and_seed_are_checked_as_the_tokenizer_checks_them(pair):
    preview, tok = pair
    for bad in (float("nan"), float("inf"), "0.1"):
        for t in (preview, tok):
            with pytest.raises((ValueError, TypeError), match="alpha"):
                t.segment("abc", bad, 1)
    with pytest.raises(ValueError, match="seed"):
        preview.segment("abc", 0.5, -1)
    big = 2**64 - 5  # the top of the seed range: the same 64 bits reach both
    assert same(preview.segment("abcabc a", 0.5, big), tok.segment("abcabc a", 0.5, big))
    with pytest.raises(ValueError, match="wait for the kernels"):
        preview.segment("abc", 1e6, 1)  # the tokenizer takes its log-domain sampler there
