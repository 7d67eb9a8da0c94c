"""``piecelab train --curve N``: held-out bytes/token at a ladder of sizes, as JSON."""

from __future__ import annotations

import json

from piecelab.cli import main

from ..conftest import DATA


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_curve_json(capsys, tmp_path):
    corpus = tmp_path / "c.jsonl.gz"
    corpus.write_bytes((DATA / "trainer_corpus.jsonl.gz").read_bytes())
    out = tmp_path / "m.model"
    argv = ["train", str(corpus), "-o", str(out), "--vocab-size", "600", "--heldout", "10"]
    code, stdout, err = run(capsys, *argv, "--curve", "4", "--json", "-q")
    assert code == 0, err
    data = json.loads(stdout)
    assert data["models"] == [str(out)] and out.exists()
    curve = data["curve"]
    assert [p["size"] for p in curve] == [600, 300, 259]  # 150 is below 256 bytes + 3 ids
    for p in curve:
        assert set(p) == {"size", "vocab_size", "bytes_per_token"}
        assert p["vocab_size"] <= p["size"] and p["bytes_per_token"] >= 1
    assert curve[0]["bytes_per_token"] == data["heldout"][0]["bytes_per_token"]
    assert curve[0]["bytes_per_token"] >= curve[-1]["bytes_per_token"]


def test_bad_curve_is_one_line(capsys, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("some text\n" * 50)
    base = ["train", str(corpus), "-o", str(tmp_path / "m"), "--vocab-size", "300", "-q"]
    for extra in (["--curve", "1"], ["--curve", "65"], ["--curve", "4", "--heldout", "0"]):
        code, stdout, err = run(capsys, *base, *extra)
        assert code == 2 and "curve" in err and len(err.strip().splitlines()) == 1, err
        assert not stdout and not (tmp_path / "m").exists()
