"""Boundary probabilities and the continuation check of SentencePiece Unigram text, in
the bytes the user typed: carried back from SentencePiece's normalized text, checked
against SentencePiece's own sampler and against the alignment's invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piecelab.engine.formats import load
from piecelab.engine.formats.sp_cuts import INSIDE_CHARACTER, REWRITTEN, align
from tests.interop.test_sentencepiece import MIXED, _docs, _train

spm = pytest.importorskip("sentencepiece")

DRAWS = 1500


@pytest.fixture(scope="module")
def unigrams(tmp_path_factory):
    """Unigram models trained here with SentencePiece's default normalizer (NFKC, a
    dummy prefix, collapsed spaces): without and with byte fallback."""
    docs = _docs()
    folder = tmp_path_factory.mktemp("spcuts")
    out = {}
    for name, fallback in (("unigram", False), ("unigram-bytes", True)):
        path = folder / f"{name}.model"
        path.write_bytes(
            _train(
                docs,
                model_type="unigram",
                vocab_size=600,
                character_coverage=0.98,
                byte_fallback=fallback,
            )
        )
        out[name] = load(path)
    return out


TEXTS = [
    *[t for t in MIXED if t.strip()],
    "Hello  world, ﬁne café ½ ㎏",
    "  lead and trail  ",
    "x \u2603\u2603 y 中文",
]


@pytest.mark.parametrize("name", ["unigram", "unigram-bytes"])
def test_marginals_are_the_frequencies_of_sentencepieces_own_draws(unigrams, name):
    """P(a token of the sampled, displayed segmentation begins at byte b), against
    the share of SentencePiece's own draws (the library's sampler, its spans) that
    begin a token there."""
    vocab = unigrams[name]
    alpha = 0.1  # flat: many boundaries are neither 0 nor 1
    uncertain = 0
    for text in TEXTS:
        cuts = vocab.cuts(text, alpha)
        n = len(text.encode())
        assert cuts.marginals.shape == (n + 1,)
        seen = np.zeros(n + 1)
        for seed in range(DRAWS):
            ends = vocab.segment(text, alpha, seed).ends
            seen[ends[:-1]] += 1
        seen /= DRAWS
        seen[0] = seen[n] = 1.0
        p = cuts.marginals
        slack = 5 * np.sqrt(p * (1 - p) / DRAWS) + 0.01
        bad = np.flatnonzero(np.abs(seen - p) > slack)
        assert not len(bad), (text, [(int(b), float(p[b]), float(seen[b])) for b in bad[:5]])
        uncertain += int(((p > 0.05) & (p < 0.95)).sum())
    assert uncertain > 20  # the draws do differ: the comparison says something


@pytest.mark.parametrize("name", ["unigram", "unigram-bytes"])
def test_the_check_at_each_byte(unigrams, name):
    vocab = unigrams[name]
    text = "Hello  world, ﬁne 中文 ☃"
    cuts = vocab.cuts(text, 1.0)
    seg = vocab.segment(text)
    data = text.encode()
    ends = set(seg.ends.tolist())
    for offset in range(len(data) + 1):
        c = cuts.at(offset)
        assert c.offset == offset and c.probability == cuts.marginals[offset]
        assert c.viterbi_boundary == (offset == 0 or offset in ends)
        if not c.viterbi_boundary:  # a token the library made crosses the cut
            assert c.viterbi_token[0] < offset < c.viterbi_token[1]
        for start, end, i in c.straddling:
            assert start < offset < end or (start <= offset and c.probability < 1)
            assert 0 <= i < vocab.vocab_size
    # the second of two spaces: SentencePiece collapsed it into the first
    assert cuts.at(6).note == REWRITTEN and cuts.at(6).probability == 0.0
    # inside ﬁ, which the normalizer rewrote as "fi": no place of its own
    inside_fi = len(b"Hello  world, ") + 1
    assert cuts.at(inside_fi).note == INSIDE_CHARACTER and cuts.at(inside_fi).probability == 0
    with pytest.raises(ValueError, match="offset must be in"):
        cuts.at(len(data) + 1)


def test_byte_fallback_cuts_inside_a_character(unigrams):
    """A character no piece covers is spelled by its bytes: a token begins at each."""
    vocab = unigrams["unigram-bytes"]
    text = "x ☃ y"
    cuts = vocab.cuts(text, 1.0)
    inner = [3, 4]  # ☃ is bytes 2..5
    assert (cuts.marginals[inner] == 1.0).all()
    assert set(inner) <= set(vocab.segment(text).ends.tolist())
    plain = unigrams["unigram"]
    cuts = plain.cuts(text, 1.0)
    assert (cuts.marginals[inner] == 0.0).all()  # one unknown token over the character
    assert [i for _, _, i in cuts.at(3).straddling] == [plain.sp.unk_id()]


def test_a_bpe_model_has_no_check(tmp_path):
    path = tmp_path / "bpe.model"
    path.write_bytes(_train(_docs(), model_type="bpe", vocab_size=400))
    assert load(path).cuts("some text") is None


SCRIPTS = "ab ﬁ½㎏ＡＢ　中文🙂é\u0301\n\t"


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=SCRIPTS, max_size=30))
def test_alignment_keeps_order(unigrams, text):
    """Places only move forward: each original byte's run of normalized offsets comes
    after the previous byte's, and normalized offsets map back without going back."""
    vocab = unigrams["unigram"]
    a = align(vocab.sp, text)
    if a is None:  # the normalized text is not NFC (a combining mark SentencePiece kept)
        return
    placed = np.flatnonzero(a.lo >= 0)
    assert (a.lo[placed] <= a.hi[placed]).all()
    assert (a.lo[placed][1:] > a.hi[placed][:-1]).all()
    back = [a.to_original(q) for q in range(len(a.norm.encode()) + 1)]
    assert back == sorted(back) and back[-1] == len(text.encode())
    assert back[0] == 0 or not a.norm  # (all of it dropped: the start is the end)
    cuts = vocab.cuts(text, 0.5)
    assert ((cuts.marginals >= 0) & (cuts.marginals <= 1)).all()
    assert cuts.marginals[0] == 1.0 and cuts.marginals[-1] == 1.0
