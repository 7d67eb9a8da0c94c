"""The continuation check: a cut's Viterbi boundary, its probability, the pieces over it."""

from __future__ import annotations

import pytest

from piecelab import Tokenizer

TEXTS = ["Natural language processing", "分词器不同。tokens", "aaaa bbbb\n\ncc"]


@pytest.fixture(scope="module")
def tok(bundled_model_path):
    return Tokenizer(str(bundled_model_path))


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_every_cut_agrees_with_the_segmentation_marginals_and_matches(tok, text, alpha):
    data = text.encode()
    seg = tok.segment(text)
    cuts = {0, *seg.ends.tolist()}
    marg = tok.boundary_marginals(text, alpha)
    matches = tok.matches(text)
    for k in range(len(data) + 1):
        c = tok.continuation(text, k, alpha)
        assert c.viterbi_boundary == (k in cuts)
        assert c.probability == pytest.approx(float(marg[k]), abs=1e-12)
        assert sorted(c.straddling) == sorted(m for m in matches if m[0] < k < m[1])
        if c.viterbi_token is None:
            assert k in cuts
        else:
            s, e, i = c.viterbi_token
            assert s < k < e and data[s:e] == tok.id_to_piece(i)
            assert c.viterbi_token in c.straddling


def test_bad_offsets_say_the_range(tok):
    with pytest.raises(ValueError, match=r"0\.\.5"):
        tok.continuation("hello", 6)
    with pytest.raises(ValueError):
        tok.continuation("hello", -1)
    with pytest.raises(TypeError):
        tok.continuation("hello", 1.5)
    with pytest.raises(ValueError):
        tok.continuation("hello", 2, alpha=-1)
