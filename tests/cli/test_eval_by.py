"""``piecelab eval --by script|field:NAME``: cost per script or language, models side by side."""

from __future__ import annotations

import json

import pytest

from piecelab import Model
from piecelab.cli import main

from ..conftest import tiny_counts

GROUP_KEYS = {
    "group", "documents", "bytes", "chars", "tokens", "units", "bytes_per_token",
    "chars_per_token", "fertility", "fertility_unit", "vocab_used", "renyi_efficiency",
    "premium",
}  # fmt: skip

DOCS = [
    {"text": "The tokenizer cuts text into pieces.", "lang": "en"},
    {"text": "分词器把文本切成片段。", "lang": "zh"},
    {"text": "Another English line, with 42 digits.", "lang": "en"},
    {"text": "没有语言字段的文档"},
    {"text": "中文和 English 混在一起", "lang": "zh"},
]


@pytest.fixture
def tiny_path(tmp_path):
    return Model.from_counts(tiny_counts()).save(tmp_path / "tiny.model")


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in DOCS), "utf-8")
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_shape_by_script(capsys, bundled_model_path, corpus):
    code, out, err = run(
        capsys, "eval", "-m", bundled_model_path, corpus, "--by", "script", "--json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc) == ["models"] and len(doc["models"]) == 1
    model = doc["models"][0]
    assert model["model"] == str(bundled_model_path) and model["kind"] == "bytepiece"
    assert model["by"] == "script" and model["reference"] == model["groups"][0]["group"]
    assert set(model["overall"]) == GROUP_KEYS and model["overall"]["group"] == "overall"
    assert model["overall"]["documents"] == len(DOCS)
    names = [g["group"] for g in model["groups"]]
    assert {"Latin", "Han", "whitespace", "punctuation", "digits"} == set(names)
    for g in model["groups"]:
        assert set(g) == GROUP_KEYS
    bytes_ = [g["bytes"] for g in model["groups"]]
    assert bytes_ == sorted(bytes_, reverse=True)
    assert sum(bytes_) == model["overall"]["bytes"]
    assert sum(g["tokens"] for g in model["groups"]) == pytest.approx(model["overall"]["tokens"])


def test_two_models_side_by_side(capsys, bundled_model_path, tiny_path, corpus):
    code, out, err = run(
        capsys, "eval", "-m", bundled_model_path, "-m", tiny_path, corpus, "--by", "script",
        "--reference", "han", "--json",
    )  # fmt: skip
    assert code == 0, err
    a, b = json.loads(out)["models"]
    assert (a["model"], b["model"]) == (str(bundled_model_path), str(tiny_path))
    assert a["reference"] == b["reference"] == "Han"
    han = {m["model"]: next(g for g in m["groups"] if g["group"] == "Han") for m in (a, b)}
    assert all(g["premium"] == pytest.approx(1.0) for g in han.values())
    assert [g["bytes"] for g in a["groups"]] == [g["bytes"] for g in b["groups"]]
    assert a["overall"]["bytes_per_token"] > b["overall"]["bytes_per_token"]


def test_by_field_lang(capsys, bundled_model_path, corpus):
    code, out, err = run(
        capsys, "eval", "-m", bundled_model_path, corpus, "--by", "field:lang", "--json"
    )
    assert code == 0, err
    model = json.loads(out)["models"][0]
    groups = {g["group"]: g for g in model["groups"]}
    assert set(groups) == {"en", "zh", "(none)"}
    assert (groups["en"]["documents"], groups["zh"]["documents"]) == (2, 2)
    assert groups["(none)"]["documents"] == 1
    want_en = sum(len(d["text"].encode()) for d in DOCS if d.get("lang") == "en")
    assert groups["en"]["bytes"] == want_en
    assert model["reference"] == max(groups.values(), key=lambda g: g["bytes"])["group"]
    assert sum(g["tokens"] for g in groups.values()) == model["overall"]["tokens"]


def test_readable_table(capsys, bundled_model_path, tiny_path, corpus):
    code, out, err = run(
        capsys, "eval", "-m", bundled_model_path, "-m", tiny_path, corpus, "--by", "script"
    )
    assert code == 0, err
    blocks = out.strip().split("\n\n")
    assert len(blocks) == 2
    for block, path in zip(blocks, (bundled_model_path, tiny_path)):
        head, columns, *rows = block.splitlines()
        assert head.startswith(f"{path} (bytepiece") and "premium relative to" in head
        assert columns.split()[:3] == ["group", "documents", "bytes"]
        assert rows[-1].startswith("overall")
        assert {r.split()[0] for r in rows} >= {"Latin", "Han", "whitespace"}
        # right-aligned numbers: every row ends where the header does
        assert {len(r) for r in rows} == {len(columns)}


def test_bad_by_is_a_one_line_error(capsys, tiny_path, corpus):
    code, out, err = run(capsys, "eval", "-m", tiny_path, corpus, "--by", "language")
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert err.startswith("piecelab eval: error: --by:") and "field:NAME" in err


def test_unknown_reference_and_reference_without_by(capsys, tiny_path, corpus):
    code, _, err = run(
        capsys, "eval", "-m", tiny_path, corpus, "--by", "script", "--reference", "Elvish"
    )
    assert code == 2 and err.count("\n") == 1 and "'Elvish'" in err and "Latin" in err
    code, _, err = run(
        capsys, "eval", "-m", tiny_path, corpus, "--by", "field:lang", "--reference", "fr"
    )
    assert code == 2 and err.count("\n") == 1 and "'fr'" in err and "en" in err
    code, _, err = run(capsys, "eval", "-m", tiny_path, corpus, "--reference", "Han")
    assert code == 2 and "--reference needs --by" in err


def test_without_by_several_models(capsys, bundled_model_path, tiny_path, corpus):
    code, out, err = run(
        capsys, "eval", "-m", bundled_model_path, "-m", tiny_path, corpus, "--json"
    )
    assert code == 0, err
    models = json.loads(out)["models"]
    assert [m["model"] for m in models] == [str(bundled_model_path), str(tiny_path)]
    assert all(m["documents"] == len(DOCS) for m in models)
    code, out, err = run(capsys, "eval", "-m", tiny_path, corpus, "--json")
    assert code == 0 and json.loads(out)["model"] == str(tiny_path)  # one model: as before


def test_text_files_are_one_group_by_field(capsys, tiny_path, tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("one line\nanother line\n", "utf-8")
    code, out, err = run(capsys, "eval", "-m", tiny_path, path, "--by", "field:lang", "--json")
    assert code == 0, err
    groups = json.loads(out)["models"][0]["groups"]
    assert [(g["group"], g["documents"]) for g in groups] == [("(none)", 2)]
