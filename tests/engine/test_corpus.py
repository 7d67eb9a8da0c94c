"""Corpus sources: formats, compressions, folders, damaged input, splits, progress, pipes."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import json
import lzma
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from piecelab.engine.corpus import Corpus, CorpusError, CorpusOptions, Problem, is_heldout
from piecelab.engine.corpus_formats import char_classes

from ..conftest import SHARED

COMPRESS = {
    "": lambda b: b,
    ".gz": gzip.compress,
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
    ".zst": lambda b: zstandard.ZstdCompressor().compress(b),
}
DOCS = ["Hello, world", "天地玄黄，宇宙洪荒。", "mixed 中文 and English 123", "ünïcödé ✓ 😀"]


def opts(**kw) -> CorpusOptions:
    kw.setdefault("heldout", 0.0)
    return CorpusOptions(**kw)


def read(paths, **kw) -> list[str]:
    with Corpus([str(p) for p in paths], opts(**kw)) as c:
        return list(c.documents("all"))


def jsonl(docs, field="text") -> bytes:
    return "".join(json.dumps({field: d, "id": i}) + "\n" for i, d in enumerate(docs)).encode()


def kinds(problems: list[Problem]) -> list[tuple[int | None, str]]:
    return [(p.line, p.kind) for p in problems]


# ------------------------------------------------------------------------------ formats
def test_txt_one_document_per_line(tmp_path):
    f = tmp_path / "a.txt"
    f.write_bytes(b"\xef\xbb\xbffirst\n\nsecond line\r\n   \n  indented\nlast")
    assert read([f]) == ["first", "second line", "  indented", "last"]


def test_txt_paragraphs(tmp_path):
    f = tmp_path / "a.txt"
    f.write_bytes(b"\n\none\ntwo\r\n\n \t\n\nthree\n\nfour\nfive")
    assert read([f], paragraphs=True) == ["one\ntwo", "three", "four\nfive"]


@pytest.mark.parametrize("comp", list(COMPRESS))
@pytest.mark.parametrize("kind", ["txt", "jsonl", "ndjson", "json-lines", "json-array"])
def test_every_format_and_compression(tmp_path, kind, comp):
    if kind == "txt":
        name, data = "c.txt", ("\n".join(DOCS) + "\n").encode()
    elif kind == "json-array":
        name = "c.json"
        data = json.dumps([{"text": d} for d in DOCS], indent=2, ensure_ascii=False).encode()
    else:
        name, data = "c." + {"json-lines": "json"}.get(kind, kind), jsonl(DOCS)
    f = tmp_path / (name + comp)
    f.write_bytes(COMPRESS[comp](data))
    assert read([f]) == DOCS
    with Corpus([f], opts()) as c:
        assert c.size_hint == f.stat().st_size
        assert c.scan()[0].documents == len(DOCS) and c.problems == []


def test_json_documents_may_span_lines_and_use_escapes(tmp_path):
    docs = ["line one\nline two", "tab\there", "中文"]
    f = tmp_path / "c.jsonl"
    f.write_bytes("".join(json.dumps({"text": d}) + "\n" for d in docs).encode())  # ASCII escapes
    assert read([f]) == docs


def test_compression_is_detected_by_magic_bytes(tmp_path):
    gz_as_txt = tmp_path / "a.txt"
    gz_as_txt.write_bytes(gzip.compress(b"from gzip\n"))
    zst_as_gz = tmp_path / "b.jsonl.gz"
    zst_as_gz.write_bytes(zstandard.ZstdCompressor().compress(jsonl(["from zstd"])))
    plain_as_bz2 = tmp_path / "c.txt.bz2"
    plain_as_bz2.write_bytes(b"plain text\n")
    assert read([gz_as_txt, zst_as_gz, plain_as_bz2]) == ["from gzip", "from zstd", "plain text"]


def test_unknown_suffix_is_sniffed(tmp_path):
    j = tmp_path / "data.dat"
    j.write_bytes(jsonl(["json doc"]))
    t = tmp_path / "notes.log"
    t.write_bytes(b"{not json} but text\nsecond\n")
    assert read([j, t]) == ["json doc", "{not json} but text", "second"]


def test_json_bare_strings_and_nested_field(tmp_path):
    f = tmp_path / "c.jsonl"
    f.write_text('"bare string"\n{"meta": {"body": "nested"}}\n')
    assert read([f], field="meta.body") == ["bare string", "nested"]


# ------------------------------------------------------------------------------ folders
def test_folders_are_walked_recursively_in_sorted_order_with_globs(tmp_path):
    root = tmp_path / "root"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "drafts").mkdir()
    (root / "b.txt").write_text("b\n")
    (root / "a.jsonl").write_bytes(jsonl(["a"]))
    (root / "sub" / "c.txt.gz").write_bytes(gzip.compress(b"c\n"))
    (root / "sub" / "deeper" / "d.TXT").write_text("d\n")
    (root / "sub" / "skip.log").write_text("never\n")
    (root / "drafts" / "e.txt").write_text("draft\n")
    with Corpus([root], opts(exclude=("drafts",))) as c:
        rel = [p.relative_to(root).as_posix() for p in c.files]
        assert rel == ["a.jsonl", "b.txt", "sub/c.txt.gz", "sub/deeper/d.TXT"]
        assert list(c.documents("all")) == ["a", "b", "c", "d"]
    assert read([root], include=("*.txt",)) == ["b", "draft", "d"]
    assert read([root], include=("sub/*",), exclude=("*.gz",)) == ["never", "d"]
    # an explicit file is read although it does not match include; duplicates are read once
    assert read([root / "sub" / "skip.log", root], include=("a.*",)) == ["never", "a"]


def test_a_single_path_is_one_source(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("one\n")
    with Corpus(str(f), opts()) as c:
        assert c.files == [f] and list(c.documents("all")) == ["one"]


def test_missing_path_is_an_error_naming_it(tmp_path):
    with pytest.raises(CorpusError, match=r"nope\.txt: no such file or folder"):
        Corpus([tmp_path / "nope.txt"])


def test_bad_options_are_errors(tmp_path):
    with pytest.raises(CorpusError, match="errors"):
        Corpus([], CorpusOptions(errors="ignore"))
    with pytest.raises(CorpusError, match="heldout"):
        Corpus([], CorpusOptions(heldout=1.5))
    with pytest.raises(ValueError, match="split"):
        Corpus([], CorpusOptions()).documents("test")


# ---------------------------------------------------------------------- damaged input
def test_invalid_utf8_is_replaced_and_reported(tmp_path):
    f = tmp_path / "a.txt"
    f.write_bytes(b"ok\nbad \xff here\nfine\n")
    with Corpus([f], opts()) as c:
        assert list(c.documents("all")) == ["ok", "bad \ufffd here", "fine"]
        [p] = c.problems
        assert (p.path, p.line, p.kind) == (str(f), 2, "invalid-utf8")
        assert "byte offset 7" in p.message and "ff" in p.message
        assert c.scan()[0].invalid_lines == 1


def test_invalid_utf8_skip_policy_drops_the_document(tmp_path):
    t = tmp_path / "a.txt"
    t.write_bytes(b"ok\nbad \xc3\x28\nfine\n")
    j = tmp_path / "b.jsonl"
    j.write_bytes(b'{"text": "good"}\n{"text": "bad \xe4\xb8"}\n')
    p = tmp_path / "c.txt"
    p.write_bytes(b"para one\nhas \xff\n\npara two\n")
    with Corpus([t, j, p], opts(errors="skip", paragraphs=True)) as c:
        assert list(c.documents("all")) == ["good", "para two"]  # a bad line drops its paragraph
    with Corpus([t, j], opts(errors="skip")) as c:
        assert list(c.documents("all")) == ["ok", "fine", "good"]
        assert [(q.path, q.line, q.kind) for q in c.problems] == [
            (str(t), 2, "invalid-utf8"),
            (str(j), 2, "invalid-utf8"),
        ]


def test_lone_surrogate_escapes_follow_the_policy(tmp_path):
    f = tmp_path / "a.jsonl"
    f.write_text('{"text": "x\\ud800y"}\n{"text": "pair \\ud83d\\ude00"}\n')
    assert read([f]) == ["x\ufffdy", "pair 😀"]
    assert read([f], errors="skip") == ["pair 😀"]


def test_binary_files_are_skipped_with_a_warning(tmp_path):
    png = tmp_path / "image.txt"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"text\x00with nul\n" * 10)
    elf = tmp_path / "prog.txt.gz"
    elf.write_bytes(gzip.compress(b"\x7fELF\x02\x01\x01" + b"\x00" * 50))
    controls = tmp_path / "ctl.txt"
    controls.write_bytes(bytes(range(1, 9)) * 40)
    utf16 = tmp_path / "wide.txt"
    utf16.write_bytes("hello".encode("utf-16"))
    good = tmp_path / "good.txt"
    good.write_text("good\n")
    with Corpus([png, nul, elf, controls, utf16, good], opts()) as c:
        assert list(c.documents("all")) == ["good"]
        assert kinds(c.problems) == [(None, "binary")] * 4 + [(None, "not-text")]
        assert "PNG" in c.problems[0].message and "ELF" in c.problems[2].message
        stats = c.scan()
        assert [s.skipped for s in stats] == [True] * 5 + [False]


def test_other_encodings_are_reported_not_text(tmp_path):
    f = tmp_path / "gbk.txt"
    f.write_bytes("这是一段用GBK编码的中文文本，不是UTF-8。".encode("gbk") * 10)
    with Corpus([f], opts()) as c, pytest.raises(CorpusError, match="GBK"):
        list(c.documents("all"))


def test_no_object_with_the_field_is_an_error_listing_fields(tmp_path):
    f = tmp_path / "corpus.jsonl"
    f.write_bytes(jsonl(["a", "b"], field="content"))
    with pytest.raises(CorpusError) as err:
        read([f])
    assert f"{f}: no document has the field 'text'; fields seen: content, id" in str(err.value)
    with Corpus([f], opts()) as c, pytest.raises(CorpusError, match=r"corpus\.jsonl"):
        c.scan()


def test_objects_missing_the_field_or_not_text_are_problems(tmp_path):
    f = tmp_path / "c.jsonl"
    f.write_text(
        '{"text": "one"}\n{"body": "x"}\n{"text": null}\n{"text": 5}\n[1]\n{"text": "two"}\n'
    )
    with Corpus([f], opts()) as c:
        assert list(c.documents("all")) == ["one", "two"]
        assert kinds(c.problems) == [
            (2, "missing-field"),
            (3, "not-text"),
            (4, "not-text"),
            (5, "bad-json"),
        ]


def test_bad_json_lines_are_skipped(tmp_path):
    f = tmp_path / "c.jsonl"
    f.write_text('{"text": "one"}\n{"text": "unterminated\n\n{"text": "two"} junk\n{"text": "3"}\n')
    with Corpus([f], opts()) as c:
        assert list(c.documents("all")) == ["one", "3"]
        assert kinds(c.problems) == [(2, "bad-json"), (4, "bad-json")]
        assert str(c.problems[0]).startswith(f"{f}:2: not valid JSON")


def test_broken_json_array_keeps_what_came_before(tmp_path):
    f = tmp_path / "c.json"
    f.write_text('[{"text": "one"},\n {"text": "two"},\n {"text": oops}]')
    with Corpus([f], opts()) as c:
        assert list(c.documents("all")) == ["one", "two"]
        assert kinds(c.problems) == [(3, "bad-json")]


def test_json_array_larger_than_a_read_block(tmp_path):
    docs = [f"document {i} " + "词" * (i % 50) for i in range(20000)]
    items = [{"n": 10**12 + i, "text": d} if i % 3 else d for i, d in enumerate(docs)]
    f = tmp_path / "big.json"
    f.write_text(" [\n" + ",\n".join(json.dumps(x) for x in items) + "\n]\n")
    assert f.stat().st_size > 2 << 20
    with Corpus([f], opts()) as c:
        assert list(c.documents("all")) == docs and c.problems == []


@pytest.mark.parametrize(
    ("text", "docs", "problem"),
    [
        ("[]", [], None),
        ('["a", "b",]', ["a", "b"], "Expecting value"),
        ('["a"] ["b"]', ["a"], "found '['"),
        ('["a" "b"]', ["a"], "expected ',' or ']'"),
        ('["a", "b"', ["a", "b"], "not closed"),
        ('[{"text": "bad \xff byte"}]', ["bad \ufffd byte"], "invalid UTF-8"),
    ],
)
def test_json_array_edge_cases(tmp_path, text, docs, problem):
    f = tmp_path / "c.json"
    f.write_bytes(text.encode("latin-1"))
    good = tmp_path / "good.txt"
    good.write_text("good\n")
    with Corpus([f, good], opts()) as c:
        assert list(c.documents("all")) == [*docs, "good"]
        messages = " | ".join(p.message for p in c.problems)
        if problem is None:
            assert c.problems == []
        else:
            assert problem in messages and {p.path for p in c.problems} == {str(f)}


def test_damaged_compressed_file_is_reported_truncated(tmp_path):
    data = gzip.compress(("\n".join(f"line {i}" for i in range(50000)) + "\n").encode())
    cut = tmp_path / "cut.txt.gz"
    cut.write_bytes(data[: len(data) // 2])
    good = tmp_path / "good.txt"
    good.write_text("good\n")
    with Corpus([cut, good], opts()) as c:
        docs = list(c.documents("all"))
        assert docs[0] == "line 0" and docs[-1] == "good" and len(docs) < 50001
        assert [p.kind for p in c.problems] == ["truncated"]


def test_problems_are_capped(tmp_path):
    f = tmp_path / "c.jsonl"
    f.write_text('{"text": "ok"}\n' + "not json\n" * 20)
    with Corpus([f], opts(max_problems=5)) as c:
        assert list(c.documents("all")) == ["ok"]
        assert len(c.problems) == 5 and c.problems_dropped == 15
        list(c.documents("all"))  # problems describe the latest pass only
        assert len(c.problems) == 5


def test_empty_corpus_is_an_error(tmp_path):
    blank = tmp_path / "blank.txt"
    blank.write_text("\n  \n\n")
    with Corpus([blank], opts()) as c:
        with pytest.raises(CorpusError, match=re.escape(f"the corpus is empty: {blank}")):
            list(c.documents("all"))
        with pytest.raises(CorpusError, match="the corpus is empty"):
            c.scan()
    (tmp_path / "folder").mkdir()
    with pytest.raises(CorpusError, match=r"empty.*folder"):
        read([tmp_path / "folder"])
    png = tmp_path / "x.txt"
    png.write_bytes(b"\x89PNG" + bytes(100))
    with pytest.raises(CorpusError, match=r"empty.*PNG"):
        read([png])


# --------------------------------------------------------------------------- long lines
def test_long_txt_line_becomes_pieces_cut_between_characters(tmp_path):
    long = "长行" * 300 + "end"  # 1803 bytes
    f = tmp_path / "a.txt"
    f.write_text(f"short\n{long}\nafter\n")
    with Corpus([f], opts(max_line_bytes=64)) as c:
        docs = list(c.documents("all"))
        assert docs[0] == "short" and docs[-1] == "after"
        pieces = docs[1:-1]
        assert len(pieces) > 20 and "".join(pieces) == long
        assert all(len(p.encode()) <= 64 and "\ufffd" not in p for p in pieces)
        assert kinds(c.problems) == [(2, "long-line")]


def test_long_json_line_is_skipped(tmp_path):
    f = tmp_path / "a.jsonl"
    f.write_bytes(jsonl(["first", "x" * 5000, "third"]))
    with Corpus([f], opts(max_line_bytes=1000)) as c:
        assert list(c.documents("all")) == ["first", "third"]
        assert kinds(c.problems) == [(2, "long-line")]


def test_long_paragraph_is_split_at_lines(tmp_path):
    f = tmp_path / "a.txt"
    lines = [f"line {i:03d}" for i in range(100)]
    f.write_text("\n".join(lines) + "\n\nnext\n")
    docs = read([f], paragraphs=True, max_line_bytes=200)
    assert len(docs) > 3 and docs[-1] == "next"
    assert "\n".join(docs[:-1]) == "\n".join(lines)


def test_giant_line_does_not_fill_memory(tmp_path):
    f = tmp_path / "giant.txt"
    with open(f, "wb") as out:
        for _ in range(24):
            out.write(b"x" * (1 << 20))  # a 24 MiB line without a newline
    tracemalloc.start()
    try:
        with Corpus([f], opts(max_line_bytes=1 << 16)) as c:
            n = sum(len(d) for d in c.documents("all"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert n == 24 << 20
    assert peak < 8 << 20, f"peak {peak / 2**20:.1f} MiB"


# ----------------------------------------------------------------------------- held out
def test_heldout_split_is_deterministic_disjoint_and_complete(tmp_path):
    docs = [f"document number {i}" for i in range(3000)]
    a = tmp_path / "a.txt"
    a.write_text("\n".join(docs[:1500]) + "\n")
    b = tmp_path / "b.jsonl.gz"
    b.write_bytes(gzip.compress(jsonl(docs[1500:])))
    with Corpus([a, b], opts(heldout=0.1)) as c:
        train, held = list(c.documents("train")), list(c.documents("heldout"))
        assert list(c.documents("heldout")) == held  # same on every pass
        assert sorted(train + held) == sorted(docs) and not set(train) & set(held)
        assert 200 < len(held) < 400
    with Corpus([b, a], opts(heldout=0.1)) as c:  # another order, the same split
        assert sorted(c.documents("heldout")) == sorted(held)
    assert [d for d in docs if is_heldout(d, 0.1)] == [d for d in docs if d in set(held)]


def test_heldout_fraction_is_respected():
    docs = [f"synthetic document {i} with some words" for i in range(10000)]
    share = sum(is_heldout(d, 0.05) for d in docs) / len(docs)
    assert abs(share - 0.05) <= 0.005
    small = {d for d in docs if is_heldout(d, 0.01)}
    assert small <= {d for d in docs if is_heldout(d, 0.05)}  # nested


def test_no_heldout_when_disabled(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("\n".join(f"doc {i}" for i in range(500)) + "\n")
    with Corpus([f], opts(heldout=0.0)) as c:
        assert list(c.documents("heldout")) == []
        assert len(list(c.documents("train"))) == 500
        c.scan()
        assert (c.n_train, c.n_heldout) == (500, 0)
    assert not any(is_heldout(f"doc {i}", 0.0) for i in range(500))


# ----------------------------------------------------------------------------- progress
def test_position_advances_to_size_hint(tmp_path):
    lines = [
        f"line {i} of a corpus large enough to be read in several blocks" for i in range(60000)
    ]
    text = ("\n".join(lines) + "\n").encode()
    a = tmp_path / "a.txt"
    a.write_bytes(text)
    b = tmp_path / "b.txt.gz"
    b.write_bytes(gzip.compress(text))
    with Corpus([a, b], opts()) as c:
        assert c.size_hint == a.stat().st_size + b.stat().st_size
        for _ in range(2):  # every pass starts again from zero
            seen = [c.position for _ in c.documents("all")]
            assert seen[0] < c.size_hint // 2
            assert seen == sorted(seen) and any(0 < s < c.size_hint for s in seen)
            assert len(set(seen)) > 3
            assert c.position == c.size_hint
        calls = []
        c.scan(progress=lambda done, total: calls.append((done, total)))
        assert calls[-1] == (c.size_hint, c.size_hint) and len(calls) > 1


def test_scan_statistics(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("中文abc 123\nÉté ١٢ 𠀀!\n")
    with Corpus([f], opts(heldout=0.5)) as c:
        [s] = c.scan()
        assert (s.documents, s.han, s.latin, s.digits, s.other) == (2, 3, 6, 5, 4)
        assert s.bytes == len("中文abc 123Été ١٢ 𠀀!".encode())
        assert s.han_share == pytest.approx(3 / 18) and s.other_share == pytest.approx(4 / 18)
        assert c.n_train + c.n_heldout == 2


def test_char_classes():
    assert char_classes("") == (0, 0, 0, 0)
    assert char_classes("龥㐀丽a ñ ẞ 9 𝟘 😀 \n") == (3, 3, 2, 8)


def test_scan_can_be_stopped(tmp_path):
    for i in range(3):
        (tmp_path / f"{i}.txt").write_text("x" * 100 + "\n")
    with Corpus([tmp_path], opts()) as c:
        stats = c.scan(should_stop=lambda: True)
        assert len(stats) == 1 and stats[0].documents == 1


# ------------------------------------------------------------------- stdin and preview
def test_stdin_is_spooled_so_it_can_be_read_twice(monkeypatch, spool_dir):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"one\ntwo\n")))
    c = Corpus(["-"], opts())
    assert c.files == [Path("-")] and c.size_hint == 0  # nothing read yet
    assert list(c.documents("all")) == ["one", "two"] == list(c.documents("all"))
    assert c.size_hint == 8 == c.position
    assert open_files_in(spool_dir) and os.listdir(spool_dir) == []  # anonymous
    c.close()
    assert open_files_in(spool_dir) == [] and os.listdir(spool_dir) == []
    with pytest.raises(CorpusError, match="closed"):
        c.documents()


def test_stdin_may_be_compressed_json(monkeypatch):
    data = gzip.compress(b'{"text": "bad \xff"}\n')
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    with Corpus(["-"], opts()) as c:
        assert list(c.documents("all")) == ["bad \ufffd"]
        assert c.problems[0].path == "<stdin>"


def test_preview_reads_only_what_it_needs(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text("one\ntwo\n")
    b = tmp_path / "b.jsonl"
    b.write_bytes(jsonl([f"doc {i}" for i in range(1000)]))
    c_ = tmp_path / "c.jsonl"
    c_.write_bytes(jsonl(["never read"], field="other"))  # would raise if read
    with Corpus([a, b, c_], opts()) as c:
        assert c.preview(3) == [(str(a), "one"), (str(a), "two"), (str(b), "doc 0")]
        assert c.position == 0 and c.problems == []
        with pytest.raises(CorpusError, match="fields seen: id, other"):
            c.preview(5000)


# ------------------------------------------------------------------- damaged corpora
def numbered_docs(n: int) -> list[str]:
    return [f"document {i}: " + "数据 and text, " * (i % 7 + 1) + str(i * 7919) for i in range(n)]


@pytest.mark.parametrize("comp", [".gz", ".xz", ".zst", ".bz2"])
def test_truncated_compressed_stream_is_reported_with_the_line(tmp_path, comp):
    docs = numbered_docs(20000)
    data = COMPRESS[comp](jsonl(docs))
    f = tmp_path / f"cut.jsonl{comp}"
    f.write_bytes(data[: len(data) * 3 // 5])
    (tmp_path / "ok.txt").write_text("ok\n")  # a cut first bz2 block yields nothing
    with Corpus([f, tmp_path / "ok.txt"] if comp == ".bz2" else [f], opts()) as c:
        got = list(c.documents("all"))
        if comp == ".bz2":
            assert got.pop() == "ok"
        else:
            assert len(got) > 1000
        assert got == docs[: len(got)]  # what came before the cut is intact
        assert kinds(c.problems) == [(len(got) or None, "truncated")]
        assert c.problems[0].path == str(f) and "ends early" in c.problems[0].message
    with pytest.raises(CorpusError, match=re.escape(str(f)) + r".*\(truncated; strict mode\)"):
        read([f], strict=True)


def test_truncated_zst_in_a_folder_is_not_silent(tmp_path):
    (tmp_path / "ok.txt").write_text("ok\n")
    data = COMPRESS[".zst"](jsonl(["small", "file"]))
    (tmp_path / "cut.jsonl.zst").write_bytes(data[: len(data) // 2])
    with Corpus([tmp_path], opts()) as c:
        assert list(c.documents("all")) == ["ok"]
        assert [(p.path, p.kind) for p in c.problems] == [
            (str(tmp_path / "cut.jsonl.zst"), "truncated")
        ]


def test_complete_zst_streams_are_not_called_truncated(tmp_path):
    big = numbered_docs(5000)  # many blocks, no content size, a checksum
    out = io.BytesIO()
    with zstandard.ZstdCompressor(write_checksum=True).stream_writer(out, closefd=False) as w:
        w.write(jsonl(big))
    skippable = b"\x5a\x2a\x4d\x18" + (3).to_bytes(4, "little") + b"abc"
    one = zstandard.ZstdCompressor(write_content_size=False).compress(jsonl(["last"]))
    f = tmp_path / "frames.jsonl.zst"
    f.write_bytes(out.getvalue() + skippable + one + COMPRESS[".zst"](b""))
    with Corpus([f], opts()) as c:
        assert list(c.documents("all")) == [*big, "last"] and c.problems == []


def test_gzip_crc_error_is_reported_corrupt(tmp_path):
    docs = numbered_docs(300)
    data = bytearray(gzip.compress(jsonl(docs)))
    data[-8] ^= 0xFF  # the CRC-32 in the trailer
    f = tmp_path / "crc.jsonl.gz"
    f.write_bytes(data)
    with Corpus([f], opts()) as c:
        assert list(c.documents("all")) == docs
        assert kinds(c.problems) == [(300, "corrupt")] and "CRC" in c.problems[0].message
    with pytest.raises(CorpusError, match=re.escape(f"{f}:300: ") + ".*CRC.*corrupt"):
        read([f], strict=True)


def test_bad_json_lines_are_counted_past_the_cap_and_strict_stops(tmp_path):
    from piecelab.engine.corpus import problem_summary

    lines, bad = [], []
    for i in range(1, 1185):
        if i >= 7 and i % 6 == 1 and len(bad) < 184:
            lines.append(f'{{"text": "broken {i}"')
            bad.append(i)
        else:
            lines.append(json.dumps({"text": f"doc {i}"}))
    f = tmp_path / "b.jsonl"
    f.write_text("\n".join(lines) + "\n")
    with Corpus([f], opts(max_problems=10)) as c:
        assert len(list(c.documents("all"))) == 1184 - 184
        assert [p.line for p in c.problems] == bad[:10] and c.problems_dropped == 174
        assert c.problem_counts == {(str(f), "bad-json"): 184}
        summary = c.problem_summary()
        assert summary[0] == "184 problems in 1 file:"
        assert summary[1].startswith(f"{f}: 184 bad-json problems, the first at line 7: not valid")
        rough = problem_summary(c.problems, c.problems_dropped)
        assert rough[0] == "184 problems in at least 1 file:"
    with pytest.raises(CorpusError, match=re.escape(f"{f}:7: not valid JSON")):
        read([f], strict=True)


def test_problem_summary_groups_by_file_and_kind(tmp_path):
    from piecelab.engine.corpus import problem_summary

    probs = [
        Problem("a.jsonl.gz", 120, "truncated", "the compressed stream ends early"),
        *(Problem("b.jsonl", n, "bad-json", "not valid JSON; skipped") for n in (7, 9, 30)),
        Problem("b.jsonl", 8, "invalid-utf8", "invalid UTF-8"),
    ]
    assert problem_summary(probs) == [
        "5 problems in 2 files:",
        "a.jsonl.gz:120: truncated: the compressed stream ends early",
        "b.jsonl: 3 bad-json problems, the first at line 7: not valid JSON; skipped",
        "b.jsonl:8: invalid-utf8: invalid UTF-8",
    ]
    assert problem_summary(probs, limit=1)[-1] == "… and 2 more (file, kind) groups"
    assert problem_summary([]) == []


# ------------------------------------------------------------------------------- pipes
@pytest.fixture
def spool_dir(tmp_path, monkeypatch):
    """Temporary files go here, so a test can see that none is left behind."""
    d = tmp_path / "spool"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


def open_files_in(folder: Path) -> list[str]:
    """Files this process holds open inside ``folder`` (Linux; [] elsewhere)."""
    proc = Path("/proc/self/fd")
    if not proc.is_dir():
        return []
    out = []
    for fd in proc.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(folder)):
            out.append(target)
    return out


@pytest.fixture
def fifo(tmp_path):
    """A FIFO; afterwards, any reader or writer left blocked on it by a failure is freed."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    path = tmp_path / "corpus.fifo"
    os.mkfifo(path)
    yield path
    for flags in (os.O_WRONLY, os.O_RDONLY):
        with contextlib.suppress(OSError):
            os.close(os.open(path, flags | os.O_NONBLOCK))


def within(fn, timeout: float = 60.0):
    """``fn()`` run in a thread: its result, or a failure instead of a hung test."""
    out: dict = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # handed to the test
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), f"still blocked after {timeout} s"
    if "error" in out:
        raise out["error"]
    return out["value"]


def feed(path: Path, data: bytes, delay: float = 0.0) -> threading.Thread:
    """Write ``data`` into a FIFO from another thread (after ``delay``), then close it."""

    def write() -> None:
        with open(path, "wb") as f:
            time.sleep(delay)
            f.write(data)

    t = threading.Thread(target=write, daemon=True)
    t.start()
    return t


def two_passes(source: str, **kw) -> tuple[list[str], list[str]]:
    with Corpus([source], opts(**kw)) as c:
        return list(c.documents("all")), list(c.documents("all"))


def test_fifo_is_read_once_and_every_document_is_kept(fifo, spool_dir):
    docs = numbered_docs(300)  # about 60 KB: more than one pipe buffer
    feed(fifo, jsonl(docs))
    c = Corpus([fifo], opts())
    first = within(lambda: list(c.documents("all")))
    assert first == docs and c.size_hint == len(jsonl(docs)) == c.position
    assert list(c.documents("all")) == docs  # the second pass reads the copy
    assert open_files_in(spool_dir) and os.listdir(spool_dir) == []
    c.close()
    assert open_files_in(spool_dir) == [] and os.listdir(spool_dir) == []


def test_pipe_from_a_process_by_dev_fd(tmp_path, spool_dir):
    if not Path("/dev/fd").is_dir():
        pytest.skip("no /dev/fd")
    docs = numbered_docs(300)
    f = tmp_path / "docs.txt"
    f.write_text("\n".join(docs) + "\n")
    with subprocess.Popen(["cat", str(f)], stdout=subprocess.PIPE) as cat:
        first, second = within(lambda: two_passes(f"/dev/fd/{cat.stdout.fileno()}"))
    assert first == docs == second


@pytest.mark.parametrize("source", ["/dev/stdin", "-"])
def test_stdin_pipe_of_a_real_process(tmp_path, source):
    docs = numbered_docs(300)
    code = (
        "import sys; from piecelab.engine.corpus import Corpus, CorpusOptions\n"
        "with Corpus([sys.argv[1]], CorpusOptions(heldout=0)) as c:\n"
        "    a, b = list(c.documents('all')), list(c.documents('all'))\n"
        "print(len(a), a == b, a[0])\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-c", code, source],
        input=gzip.compress(jsonl(docs)),
        capture_output=True,
        timeout=120,
        env=env,
    )
    assert run.returncode == 0, run.stderr.decode()
    assert run.stdout.decode().split() == ["300", "True", "document", "0:", *docs[0].split()[2:]]
    assert os.listdir(tmp_path) == []


def test_stdin_pipe_is_read_once(monkeypatch, spool_dir):
    docs = numbered_docs(300)
    r, w = os.pipe()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.FileIO(r, "rb")))
    threading.Thread(target=lambda: os.fdopen(w, "wb").write(jsonl(docs)), daemon=True).start()
    try:
        assert within(lambda: two_passes("-")) == (docs, docs)
    finally:
        sys.stdin.close()
    assert open_files_in(spool_dir) == [] and os.listdir(spool_dir) == []


def test_empty_fifo_is_an_empty_corpus(fifo):
    feed(fifo, b"")
    with pytest.raises(CorpusError, match=re.escape(f"the corpus is empty: {fifo}")):
        within(lambda: two_passes(str(fifo)))


def test_fifo_without_a_writer_waits_like_cat(fifo):
    start = time.monotonic()
    c = Corpus([fifo], opts())  # opening is left to the first pass
    assert time.monotonic() - start < 5
    docs: list[str] = []
    reader = threading.Thread(target=lambda: docs.extend(c.documents("all")), daemon=True)
    reader.start()
    reader.join(0.3)
    assert reader.is_alive() and docs == []  # waiting for a writer, not failing
    feed(fifo, b"late\n", delay=0.2)  # a writer that is slow to write
    reader.join(60)
    assert not reader.is_alive() and docs == ["late"]
    c.close()


def test_single_pass_without_a_copy(fifo, spool_dir):
    feed(fifo, b"one\ntwo\n")
    with Corpus([fifo], opts(spool=False)) as c:
        assert within(lambda: list(c.documents("all"))) == ["one", "two"]
        assert open_files_in(spool_dir) == []
        with pytest.raises(CorpusError, match=re.escape(f"{fifo}: can be read only once")):
            list(c.documents("all"))


def test_abandoned_pass_then_close_leaves_nothing(fifo, spool_dir):
    docs = numbered_docs(3000)
    feed(fifo, jsonl(docs))
    c = Corpus([fifo], opts())
    it = c.documents("all")
    assert within(lambda: [next(it) for _ in range(10)]) == docs[:10]
    assert c.preview(3) == [(str(fifo), d) for d in docs[:3]]
    it.close()
    assert within(lambda: list(c.documents("all"))) == docs  # the rest is still there
    c.close()
    assert open_files_in(spool_dir) == [] and os.listdir(spool_dir) == []


def test_devices(tmp_path):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    with pytest.raises(CorpusError, match=r"^/dev/zero: a device that never ends"):
        Corpus(["/dev/zero"], opts())
    with pytest.raises(CorpusError, match=r"^the corpus is empty: /dev/null"):
        within(lambda: two_passes("/dev/null"))


def test_training_from_a_fifo_matches_the_file(tmp_path, fifo):
    from piecelab.engine.trainer import Trainer

    docs = numbered_docs(400)
    f = tmp_path / "docs.jsonl"
    f.write_bytes(jsonl(docs))
    feed(fifo, jsonl(docs))
    models = []
    for source in (fifo, f):
        trainer = Trainer(order=4, max_vocab_size=300, min_count=2)
        with Corpus([source], opts()) as c:
            within(lambda c=c, trainer=trainer: trainer.train(c))
        models.append(trainer.pieces)
    assert models[0] == models[1]


# ---------------------------------------------------------------------------- property
_line_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff"), min_size=1
).filter(lambda s: not s.encode().isspace())


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    docs=st.lists(_line_text, min_size=1, max_size=20),
    comp=st.sampled_from(list(COMPRESS)),
)
def test_round_trip_txt_and_jsonl(tmp_path, docs, comp):
    t = tmp_path / f"p.txt{comp}"
    t.write_bytes(COMPRESS[comp](("\n".join(docs) + "\n").encode()))
    assert read([t]) == docs
    j = tmp_path / f"p.jsonl{comp}"
    j.write_bytes(COMPRESS[comp](jsonl(docs)))
    assert read([j]) == docs


# ------------------------------------------------------------------------------ shared
@pytest.mark.shared
def test_shared_corpus_reads_completely():
    path = SHARED / "corpora" / "zh-en-docs.test.jsonl.gz"
    if not path.is_file():
        pytest.skip("../shared is absent")
    with Corpus([path], CorpusOptions(heldout=0.05)) as c:
        stats = c.scan()
        assert stats[0].documents == 7734 and c.problems == []
        assert c.n_train + c.n_heldout == 7734 and 0.04 < c.n_heldout / 7734 < 0.06
        assert stats[0].han_share > 0.01 and stats[0].latin_share > 0.3
        assert c.position == c.size_hint
