"""The benchmark runner's quick mode, on piecelab alone, checked for structure (not speed).

It uses the product interpreter (``--env sys.executable``) and ``--peers piecelab``,
so it downloads nothing; the other tokenizers must then show as "skipped" rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PIECELAB_SHARED", REPO.parent / "shared"))
CORPORA = SHARED / "corpora"
PEERS = ["piecelab", "bytepiece", "sp-unigram", "sp-bpe", "hf-bpe"]

pytestmark = [pytest.mark.shared, pytest.mark.slow]


def _run(out: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--out", str(out)]
    return subprocess.run(
        [*cmd, *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env=env or dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    if not (CORPORA / "zh-en-docs.train.jsonl.gz").is_file():
        pytest.skip("../shared is absent (benchmark corpora)")
    out = tmp_path_factory.mktemp("bench")
    proc = _run(out, "--env", sys.executable, "--peers", "piecelab", "--repeats", "1")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc.stdout


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and x > 0


def test_json_structure(quick):
    out, _ = quick
    res = json.loads((out / "quick.json").read_text())
    for key in ("mode", "date", "command", "machine", "versions", "peers", "config", "grid"):
        assert key in res, key
    assert res["mode"] == "quick"
    assert res["machine"]["nproc"] >= 1 and res["machine"]["cpu"]
    assert res["config"]["plan"]["grid"][1] == [8000]
    rows = res["grid"]
    assert [r["tok"] for r in rows] == PEERS  # one row per tokenizer
    pl = rows[0]
    for key in ("vocab_size", "train_seconds", "train_rss_mb", "bytes_per_token", "encode_mb_s"):
        assert _positive(pl[key]), (key, pl.get(key))
    for key in ("batch_mb_s", "sample_mb_s", "tokenize_mb_s", "batch1_mb_s"):
        assert _positive(pl[key]), (key, pl.get(key))
    assert pl["roundtrip_failures"] == 0
    assert 7000 < pl["vocab_size"] <= 8000
    for r in rows[1:]:
        assert "skipped" in r["skipped"], r
    tok = res["tokenize"]["rows"]["piecelab"]
    assert _positive(tok["tokenize_mb_s"]) and _positive(tok["tokenize_sample_mb_s"])
    mem = res["tokenize"]["memory"]
    assert _positive(mem["piecelab"]["rss_mb"]) and _positive(mem["none"]["rss_mb"])
    train = res["train"]["rows"]
    assert _positive(train["piecelab"]["train_seconds"])
    assert _positive(train["piecelab (reestimate)"]["bytes_per_token"])
    assert "skipped" in train["bytepiece"]["skipped"]


def test_markdown_table(quick):
    out, stdout = quick
    md = (out / "quick.md").read_text()
    assert "| size | tokenizer | vocab |" in md and "× encode" in md
    assert "| 8,000 | piecelab |" in md
    assert md.count("skipped") >= 4
    assert "| 8,000 | SentencePiece Unigram | skipped" in md
    assert "| size | tokenizer |" in stdout
    results = (out / "RESULTS.md").read_text()
    assert "quick run" in results
    pngs = sorted(p.name for p in out.glob("quick_*.png"))
    assert pngs == ["quick_bytes_per_token.png", "quick_throughput.png"]


KINDS = [
    "bytepiece",
    "sentencepiece-unigram",
    "sentencepiece-unigram, native",
    "sentencepiece-bpe",
    "hf-bpe",
    "hf-unigram",
    "hf-wordpiece",
    "tiktoken",
    "export → sentencepiece",
    "export → tokenizer.json",
]


def test_formats_section(quick):
    """One row per kind against its own library; the adapters give the library's ids."""
    out, stdout = quick
    res = json.loads((out / "quick.json").read_text())
    formats = res["formats"]
    rows = {r["kind"]: r for r in formats["rows"]}
    assert [r["kind"] for r in formats["rows"]] == KINDS
    assert "not requested" in rows["bytepiece"]["skipped"]  # BytePiece is a skipped peer here
    for kind in KINDS[1:]:
        r = rows[kind]
        assert _positive(r["piecelab_mb_s"]) and _positive(r["library_mb_s"]), r
        assert r["docs"] == formats["test_docs"] > 0
    for kind in [k for k in KINDS[1:8] if "native" not in k]:  # the library itself runs
        assert rows[kind]["equal"] == rows[kind]["docs"], (kind, rows[kind].get("differ"))
    native = rows["sentencepiece-unigram, native"]  # piecelab's engine, SentencePiece's ids
    assert native["equal"] >= 0.999 * native["docs"], native.get("first_difference")
    assert rows["export → tokenizer.json"]["equal"] == formats["test_docs"]
    assert "| **sentencepiece-unigram, native** |" in (out / "quick.md").read_text()
    assert "### Formats" in stdout


def test_skips_cleanly_without_shared(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PIECELAB_SHARED=str(tmp_path / "none"))
    proc = _run(tmp_path / "out", "--env", sys.executable, env=env)
    assert proc.returncode == 0
    assert "skipped" in proc.stdout
    assert not (tmp_path / "out").exists()


def test_one_section_is_written_beside_the_whole_run(quick):
    out, _ = quick
    before = (out / "quick.json").read_text()
    proc = _run(
        out,
        "--env",
        sys.executable,
        "--peers",
        "piecelab",
        "--repeats",
        "1",
        "--sections",
        "tokenize",
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    res = json.loads((out / "quick-tokenize.json").read_text())
    assert res["mode"] == "quick-tokenize" and res["config"]["sections"] == ["tokenize"]
    assert res["grid"] == [] and res["train"] == {}
    assert _positive(res["tokenize"]["rows"]["piecelab"]["tokenize_mb_s"])
    md = (out / "quick-tokenize.md").read_text()
    assert "### Tokenize" in md and "### Train, compress" not in md
    assert (out / "quick.json").read_text() == before  # the whole run is left alone


def test_unknown_section_is_refused(tmp_path):
    proc = _run(tmp_path, "--sections", "tokenize,speed")
    assert proc.returncode == 2 and "--sections" in proc.stderr
