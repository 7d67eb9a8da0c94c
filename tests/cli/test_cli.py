"""The command line: version, tokenize (formats, sources, errors), train and eval."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from piecelab import Model, Tokenizer, __version__
from piecelab.cli import main
from piecelab.engine import piece_label

from ..conftest import DATA, tiny_counts


@pytest.fixture
def model_path(tmp_path):
    return Model.from_counts(tiny_counts()).save(tmp_path / "tiny.model")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"piecelab {__version__}"


def test_console_script_runs():
    exe = subprocess.run(
        [sys.executable, "-m", "piecelab", "--version"], capture_output=True, text=True
    )
    assert exe.returncode == 0 and __version__ in exe.stdout


def test_tokenize_formats(capsys, model_path):
    tok = Tokenizer(str(model_path))
    code, out, _ = run(capsys, "tokenize", "-m", str(model_path), "--ids", "abc ab")
    assert code == 0
    assert [int(x) for x in out.split()] == tok.encode("abc ab")
    code, out, _ = run(capsys, "tokenize", "-m", str(model_path), "abc ab")
    assert out.strip() == "abc · ab"
    code, out, _ = run(capsys, "tokenize", "-m", str(model_path), "--json", "你好 a")
    obj = json.loads(out)
    assert obj["ids"] == tok.encode("你好 a")
    assert obj["pieces"] == ["你好", " a"]
    assert obj["spans"] == [[0, 6], [6, 8]]


def test_tokenize_reads_files_and_stdin(capsys, model_path, tmp_path, monkeypatch):
    f = tmp_path / "in.txt"
    f.write_text("abc\nab\n")
    code, out, _ = run(capsys, "tokenize", "-m", str(model_path), "--ids", "-f", str(f))
    assert code == 0 and len(out.strip().splitlines()) == 1
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("abc\nca b\n"))
    code, out, _ = run(capsys, "tokenize", "-m", str(model_path), "--pieces")
    tok = Tokenizer(str(model_path))
    expected = [" ".join(piece_label(p) for p in tok.tokenize(t)) for t in ("abc", "ca b")]
    assert out.splitlines() == expected


def test_tokenize_sampling_uses_alpha_and_seed(capsys, model_path):
    text = "abcabcabc abc cab bca " * 4
    tok = Tokenizer(str(model_path))
    viterbi = " ".join(map(str, tok.encode(text)))

    def sampled(seed: int, alpha: str = "0.3") -> str:
        args = ["tokenize", "-m", str(model_path), "--alpha", alpha, "--seed", str(seed)]
        code, out, _ = run(capsys, *args, "--ids", text)
        assert code == 0
        return out.strip()

    draws = {seed: sampled(seed) for seed in range(6)}
    assert sampled(4) == draws[4]  # the same seed gives the same sample
    assert len(set(draws.values())) > 1  # a seed that were ignored would give one sample
    assert any(d != viterbi for d in draws.values())  # an ignored α would give Viterbi
    expected = Tokenizer(str(model_path), seed=4).segment(text, alpha=0.3).ids.tolist()
    assert draws[4] == " ".join(map(str, expected))  # the API's draw for that seed
    assert sampled(4, "-1") == viterbi


def test_tokenize_errors_are_one_line(capsys, tmp_path, model_path):
    bad = tmp_path / "bad.model"
    bad.write_text("{not json")
    code, _, err = run(capsys, "tokenize", "-m", str(bad), "x")
    assert code == 2
    assert str(bad) in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"\xff\xfe\x00")
    code, _, err = run(capsys, "tokenize", "-m", str(model_path), "-f", str(binary))
    assert code == 2 and "not UTF-8" in err and str(binary) in err


def _write_corpus(path):
    path.write_bytes((DATA / "trainer_corpus.jsonl.gz").read_bytes())


def test_train_then_eval(capsys, tmp_path):
    corpus = tmp_path / "c.jsonl.gz"
    _write_corpus(corpus)
    out = tmp_path / "m.model"
    code, stdout, err = run(
        capsys, "train", str(corpus), "-o", str(out), "--vocab-size", "300,400", "-q"
    )
    assert code == 0, err
    written = sorted(p.name for p in tmp_path.glob("m.model.*"))
    assert written == ["m.model.300", "m.model.400"]
    assert Tokenizer(str(tmp_path / "m.model.400")).vocab_size <= 400
    code, stdout, err = run(
        capsys, "eval", "-m", str(tmp_path / "m.model.400"), str(corpus), "--json"
    )
    assert code == 0, err
    figures = json.loads(stdout)
    assert figures["documents"] == 2500 and figures["bytes_per_token"] > 1.2


def test_train_errors(capsys, tmp_path):
    code, _, err = run(
        capsys,
        "train",
        str(tmp_path / "none.txt"),
        "-o",
        str(tmp_path / "x"),
        "--vocab-size",
        "300",
    )
    assert code == 2 and "none.txt" in err
    (tmp_path / "empty.txt").write_text("")
    code, _, err = run(
        capsys,
        "train",
        str(tmp_path / "empty.txt"),
        "-o",
        str(tmp_path / "x"),
        "--vocab-size",
        "300",
        "-q",
    )
    assert code == 2 and "empty" in err
    assert not (tmp_path / "x").exists()
    code, _, err = run(
        capsys,
        "train",
        str(tmp_path / "empty.txt"),
        "-o",
        str(tmp_path / "x"),
        "--vocab-size",
        "abc",
    )
    assert code == 2 and "--vocab-size" in err
