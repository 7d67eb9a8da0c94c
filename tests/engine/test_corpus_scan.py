"""corpus_scan's small reads: lines around a problem, a preview spread over the sources,
and a corpus' identity (the fingerprint of its held-out set)."""

from __future__ import annotations

import gzip
import json
import os

import pytest

from piecelab.engine import (
    Corpus,
    CorpusError,
    CorpusOptions,
    corpus_identity,
    line_context,
    preview_sources,
    scan_corpus,
)


def test_line_context_numbers_lines_like_problems(tmp_path):
    path = tmp_path / "b.txt"
    path.write_bytes(b"\xef\xbb\xbfone\ntwo\nthree\nbad \xff byte\nfive\r\nsix\nseven\n")
    with Corpus([path]) as corpus:
        scan_corpus(corpus)
        [problem] = corpus.problems
    lines = line_context(problem.path, problem.line, context=2)
    assert [n for n, _ in lines] == [2, 3, 4, 5, 6]
    assert dict(lines)[4] == "bad \ufffd byte" and dict(lines)[5] == "five"
    assert line_context(path, 1, context=1) == [(1, "one"), (2, "two")]  # BOM dropped
    assert line_context(path, 100) == []  # past the end: nothing, no error


def test_line_context_reads_compressed_files_and_cuts_long_lines(tmp_path):
    path = tmp_path / "c.jsonl.gz"
    rows = [json.dumps({"text": f"doc {i}"}) for i in range(1000)]
    rows[500] = json.dumps({"text": "x" * 200_000})
    path.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    lines = dict(line_context(path, 501, context=1, max_chars=50))
    assert set(lines) == {500, 501, 502}
    assert lines[500] == rows[499] and lines[502] == rows[501]
    assert len(lines[501]) == 51 and lines[501].endswith("…")


def test_line_context_of_a_damaged_or_missing_file(tmp_path):
    path = tmp_path / "cut.txt.gz"
    data = gzip.compress(b"".join(b"line %d\n" % i for i in range(20_000)))
    path.write_bytes(data[: len(data) // 2])
    lines = line_context(path, 3, context=1)  # before the damage: read
    assert lines == [(2, "line 1"), (3, "line 2"), (4, "line 3")]
    with pytest.raises(CorpusError, match=r"gone\.txt"):
        line_context(tmp_path / "gone.txt", 1)


def test_preview_spreads_over_sources(tmp_path):
    big, small = tmp_path / "big.txt", tmp_path / "small.txt"
    big.write_text("".join(f"big {i}\n" for i in range(500)))
    small.write_text("small one\nsmall two\n")
    with Corpus([big, small]) as corpus:
        assert all(name == str(big) for name, _ in corpus.preview(50))  # the plain preview
        shown = preview_sources(corpus, 50)
    assert (str(small), "small one") in shown and len(shown) <= 50
    assert sum(name == str(big) for name, _ in shown) == 25
    with Corpus([small]) as corpus:
        assert preview_sources(corpus, 1) == [(str(small), "small one")]


def test_corpus_identity_keys_the_heldout_set(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("alpha\n" * 100)
    b.write_text("beta\n")

    def ident(paths, **opts):
        with Corpus(paths, CorpusOptions(**opts)) as corpus:
            return corpus_identity(corpus)

    base = ident([a, b], heldout=0.05)
    assert base == ident([a, b], heldout=0.05)  # the same corpus: the same key
    assert base.name == "a.txt + 1 more" and base.files == 2 and base.bytes == 605
    assert base.describe() == "a.txt + 1 more · 0.00 MB on disk · 2 files"
    assert len(base.key) == 8
    assert ident([a, b], heldout=0.1).key != base.key  # another share
    assert ident([a, b], heldout=0.05, paragraphs=True).key != base.key  # another reading
    assert ident([a], heldout=0.05).key != base.key  # other files
    os.utime(b, ns=(0, 0))
    assert ident([a, b], heldout=0.05).key != base.key  # a file changed
    assert ident([tmp_path], heldout=0.05).name == tmp_path.name
