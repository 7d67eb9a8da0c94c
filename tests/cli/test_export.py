"""``piecelab export``: the field's formats from a BytePiece model, with piecelab's ids."""

from __future__ import annotations

import gzip
import json

import pytest

from piecelab import Tokenizer
from piecelab.cli import main

from ..conftest import DATA


@pytest.fixture(scope="module")
def docs() -> list[str]:
    with gzip.open(DATA / "trainer_corpus.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_sentencepiece_export_segments_as_piecelab(capsys, tmp_path, bundled_model_path, docs):
    spm = pytest.importorskip("sentencepiece")
    out = tmp_path / "sample.sp.model"
    code, said, _ = run(
        capsys, "export", "-m", bundled_model_path, "--to", "sentencepiece", "-o", out
    )
    assert code == 0 and str(out) in said
    sp = spm.SentencePieceProcessor(model_file=str(out))
    tok = Tokenizer(str(bundled_model_path))
    texts = [*docs, "tab\tand\nnewlines\n\n\r\n", "back\\slash"]
    same = sum(sp.encode(t) == tok.encode(t) for t in texts)
    assert same >= 0.999 * len(texts)


def test_bytepiece_layout_is_convert_to_sentencepiece(capsys, tmp_path, bundled_model_path):
    pytest.importorskip("sentencepiece")
    out = tmp_path / "layout.model"
    code, _, _ = run(
        capsys, "export", "-m", bundled_model_path, "--to", "sentencepiece", "-o", out,
        "--bytepiece-layout",
    )  # fmt: skip
    assert code == 0
    ours = tmp_path / "converted.model"
    Tokenizer(str(bundled_model_path)).convert_to_sentencepiece(ours)
    assert out.read_bytes() == ours.read_bytes()


def test_hf_export_segments_as_piecelab(capsys, tmp_path, bundled_model_path, docs):
    tokenizers = pytest.importorskip("tokenizers")
    out = tmp_path / "tokenizer.json"
    code, _, _ = run(capsys, "export", "-m", bundled_model_path, "--to", "hf", "-o", out)
    assert code == 0
    hf = tokenizers.Tokenizer.from_file(str(out))
    tok = Tokenizer(str(bundled_model_path))
    for text in docs[:300]:
        assert hf.encode(text, add_special_tokens=False).ids == tok.encode(text)


def test_another_kind_or_a_bad_output_is_one_clear_line(capsys, tmp_path, bundled_model_path):
    pytest.importorskip("sentencepiece")
    sp_file = tmp_path / "sp.model"
    assert (
        run(capsys, "export", "-m", bundled_model_path, "--to", "sentencepiece", "-o", sp_file)[0]
        == 0
    )
    code, _, err = run(capsys, "export", "-m", sp_file, "--to", "hf", "-o", tmp_path / "x.json")
    assert code == 2 and "sp.model" in err and "sentencepiece-unigram" in err
    assert "Traceback" not in err
    code, _, err = run(capsys, "export", "-m", bundled_model_path, "--to", "hf", "-o", tmp_path)
    assert code == 2 and str(tmp_path) in err and "Traceback" not in err
