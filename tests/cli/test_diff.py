"""``piecelab diff``: the JSON shape, the text summary, --limit, and files it cannot open."""

from __future__ import annotations

import json

import pytest

from piecelab import Model
from piecelab.cli import main

from ..conftest import tiny_counts


@pytest.fixture
def paths(tmp_path):
    a = Model.from_counts(tiny_counts()).save(tmp_path / "a.model")
    counts = tiny_counts()
    del counts[b"abc"], counts[b"cab"]
    counts.update({b"abcd": 5, "好的".encode(): 4})
    b = Model.from_counts(counts).save(tmp_path / "b.model")
    return a, b


def run(capsys, *argv):
    code = main([str(x) for x in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_shape(capsys, paths):
    a, b = paths
    code, out, err = run(capsys, "diff", a, b, "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert set(data) == {"a", "b", "common", "only_a", "only_b", "jaccard", "pieces"}
    for tag, path in (("a", a), ("b", b)):
        assert data[tag]["path"] == str(path) and data[tag]["kind"] == "bytepiece"
    assert data["a"]["size"] == len(tiny_counts()) + 3
    n = len(tiny_counts())
    assert (data["common"], data["only_a"], data["only_b"]) == (n - 2, 2, 2)
    assert data["jaccard"] == pytest.approx((n - 2) / (n + 2))
    pieces = data["pieces"]
    assert [len(pieces[k]) for k in ("common", "only_a", "only_b")] == [n - 2, 2, 2]
    common = pieces["common"][0]
    assert set(common) == {
        "piece", "hex", "id_a", "id_b", "rank_a", "rank_b", "score_a", "score_b", "rank_change"
    }  # fmt: skip
    assert common["rank_a"] == 1 and common["piece"] == " " and common["hex"] == "20"
    assert {r["piece"] for r in pieces["only_a"]} == {"abc", "cab"}
    assert set(pieces["only_b"][0]) == {"piece", "hex", "id_b", "rank_b", "score_b"}
    assert {r["piece"] for r in pieces["only_b"]} == {"abcd", "好的"}


def test_json_limit(capsys, paths):
    a, b = paths
    code, out, _ = run(capsys, "diff", a, b, "--json", "--limit", "1")
    data = json.loads(out)
    assert code == 0 and data["common"] > 1
    assert [len(data["pieces"][k]) for k in ("common", "only_a", "only_b")] == [1, 1, 1]
    code, out, _ = run(capsys, "diff", a, b, "--json", "--limit", "0")
    assert json.loads(out)["pieces"] == {"common": [], "only_a": [], "only_b": []}


def test_text_summary_and_limit(capsys, paths):
    a, b = paths
    code, out, err = run(capsys, "diff", a, b)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith(f"A: {a} (bytepiece")
    assert "only in A 2" in out and "only in B 2" in out and "jaccard" in out
    assert f"in both (top 20 of {len(tiny_counts()) - 2}, by rank):" in out
    assert "only in A (all 2, by rank):" in out
    code, out, _ = run(capsys, "diff", a, b, "--limit", "3")
    block = out.split("in both (top 3")[1].split("\n\n")[0].splitlines()
    assert len(block) == 1 + 1 + 3  # title's end, header, three rows
    assert block[2].split()[0] == "1" and block[2].endswith("  ·")  # rank 1 in A: the space


def test_a_piece_that_is_not_utf8_shows_as_hex(capsys, paths):
    a, _ = paths
    code, out, _ = run(capsys, "diff", a, a, "--limit", "1000")
    assert code == 0 and "⟨E4 BD⟩" in out


@pytest.mark.parametrize("which", [0, 1])
def test_a_missing_file_is_one_line_naming_it(capsys, paths, tmp_path, which):
    missing = tmp_path / "nope.model"
    args = [paths[0], missing] if which else [missing, paths[0]]
    code, out, err = run(capsys, "diff", *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(missing) in err and "Traceback" not in err


def test_a_corrupt_file_is_one_line_naming_it(capsys, paths, tmp_path):
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"\x08\x96\x01 this is not a model \xff\xfe")
    code, out, err = run(capsys, "diff", paths[0], bad, "--json")
    assert code == 2 and out == ""
    assert err.startswith(f"piecelab diff: error: {bad}:") and err.count("\n") == 1
    truncated = tmp_path / "cut.model"
    truncated.write_text(paths[0].read_text()[:100])
    code, _, err = run(capsys, "diff", truncated, paths[0])
    assert code == 2 and str(truncated) in err and "Traceback" not in err


def test_a_negative_limit_is_refused(capsys, paths):
    with pytest.raises(SystemExit) as info:
        main(["diff", str(paths[0]), str(paths[1]), "--limit", "-1"])
    assert info.value.code == 2
    assert "--limit" in capsys.readouterr().err


def test_closed_stdout_is_an_error(capsys, paths, monkeypatch):
    monkeypatch.setattr("sys.stdout", None)
    code = main(["diff", str(paths[0]), str(paths[1])])
    assert code == 2
    assert "standard output is closed" in capsys.readouterr().err
