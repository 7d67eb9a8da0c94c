"""Corpus shards: byte ranges that tile a file line by line, read as the whole file is."""

from __future__ import annotations

import gzip
import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from piecelab.engine import Corpus, CorpusOptions
from piecelab.engine.corpus_formats import LineRange
from piecelab.engine.corpus_shards import open_shard, plan_shards, shard_bytes

LINES = st.lists(
    st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")), min_size=0, max_size=30
)


def _read_all(path, start, end) -> bytes:
    with LineRange(path, start, end) as raw:
        out = bytearray()
        while chunk := raw.read(5):  # tiny reads cross every boundary case
            out += chunk
        return bytes(out)


@settings(max_examples=200, deadline=None)
@given(lines=LINES, tail=st.booleans(), cuts=st.lists(st.integers(0, 400), max_size=6))
def test_ranges_tile_a_file_line_by_line(tmp_path_factory, lines, tail, cuts):
    data = b"\n".join(lines) + (b"\n" if tail and lines else b"")
    path = tmp_path_factory.mktemp("ranges") / "f.txt"
    path.write_bytes(data)
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    parts = [_read_all(path, a, b) for a, b in itertools.pairwise(bounds)]
    assert b"".join(parts) == data
    done = 0
    for part in parts:  # each range ends with a whole line (or the end of the file)
        done += len(part)
        assert part == b"" or part.endswith(b"\n") or done == len(data)


def _corpus_file(tmp_path, n=400):
    path = tmp_path / "docs.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"text": f"document {i} 文档 {'x' * (i % 37)}"}) + "\n")
        fh.write('{"text": "a lone \\ud800 surrogate"}\n')
    return path


def test_shards_hold_every_document_once_with_the_files_problems(tmp_path):
    _corpus_file(tmp_path)
    gz = tmp_path / "more.txt.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        fh.write("one line\nanother line\n")
    opts = CorpusOptions(heldout=0)
    whole = Corpus([tmp_path], opts)
    expected = list(whole.documents("all"))
    shards = plan_shards(whole, 1000)
    assert len(shards) > 5
    assert sum(s.end < 0 for s in shards) == 1  # the compressed file is read whole
    got: list[str] = []
    kinds = {}
    for shard in shards:
        part = open_shard(shard, opts)
        got += list(part.documents("all"))
        for (name, kind), n in part.problem_counts.items():
            kinds[name, kind] = kinds.get((name, kind), 0) + n
    assert got == expected
    assert kinds == whole.problem_counts  # the same file names, the same counts


def test_a_problem_inside_a_shard_names_the_file_and_where(tmp_path):
    path = _corpus_file(tmp_path)
    opts = CorpusOptions(heldout=0)
    shards = plan_shards(Corpus([path], opts), 2000)
    last = open_shard(shards[-1], opts)
    list(last.documents("all"))
    (problem,) = last.problems
    assert problem.path == str(path)
    assert f"from byte {shards[-1].start:,}" in problem.message


def test_json_arrays_paragraphs_and_small_files_stay_whole(tmp_path):
    arr = tmp_path / "a.json"
    arr.write_text(json.dumps([{"text": f"doc {i}"} for i in range(500)]))
    para = tmp_path / "p.txt"
    para.write_text("\n\n".join(f"paragraph {i}\nstill it" for i in range(500)))
    for path, opts in ((arr, CorpusOptions()), (para, CorpusOptions(paragraphs=True))):
        (shard,) = plan_shards(Corpus([path], opts), 100)
        assert shard.end == -1


def test_shard_size_gives_every_worker_several_shards():
    assert shard_bytes(1 << 30, 2) == 64 << 20
    assert shard_bytes(40 << 20, 2) == 5 << 20
    assert shard_bytes(10, 8) == 1 << 20


def test_file_list_and_parts(tmp_path):
    """The public hooks shard planning uses: the listed files, and a corpus narrowed to a
    part that names problems by the planned name and may hold no document."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.jsonl").write_text('{"text": "one"}\n{"text": "two"}\n')
    (folder / "b.txt").write_text("three\n")
    listed = Corpus([folder]).file_list()
    assert [f.path.name for f in listed] == ["a.jsonl", "b.txt"]
    assert all(f.name.endswith(f.path.name) for f in listed)
    assert all(f.size > 0 and f.mtime > 0 and not f.is_pipe for f in listed)
    part = Corpus([folder / "a.jsonl"])
    size = listed[0].size
    part.as_part("docs/a.jsonl", (size - 5, size, "jsonl", listed[0].mtime))
    assert list(part.documents("all")) == []  # no line starts in the last 5 bytes
    assert part.names == ["docs/a.jsonl"]
    whole = Corpus([folder / "a.jsonl"])
    whole.as_part("elsewhere/a.jsonl")
    assert list(whole.documents("all")) == ["one", "two"] and whole.names == ["elsewhere/a.jsonl"]
