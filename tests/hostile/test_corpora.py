"""Hostile corpora: files that vanish or change between passes, locked files and folders,
link loops, undecodable names, binary data, empty or cut compressed files, pipes in
folders, a full temporary disk.  Each must end as a Problem or a CorpusError naming the
file: never a traceback, a hang, silence, or a leftover temporary file."""

from __future__ import annotations

import contextlib
import errno
import gzip
import os
import re
import socket
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from piecelab.engine import corpus_formats as cf
from piecelab.engine import corpus_spool as sp
from piecelab.engine.corpus import Corpus, CorpusError, CorpusOptions, Problem

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0  # root reads any file: simulate denial


@pytest.fixture(autouse=True)
def no_debris(tmp_path, monkeypatch):
    """Temporary files go to a folder of the test, which must be empty at the end."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    yield
    assert os.listdir(d) == []


def opts(**kw) -> CorpusOptions:
    kw.setdefault("heldout", 0.0)
    return CorpusOptions(**kw)


def where(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.path, p.kind) for p in problems]


def test_file_vanishing_between_passes(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("one\ntwo\n")
    b.write_text("three\n")
    with Corpus([a, b], opts()) as c:
        assert list(c.documents("all")) == ["one", "two", "three"]
        a.unlink()
        assert list(c.documents("all")) == ["three"]
        assert where(c.problems) == [(str(a), "unreadable")]
        assert "disappeared" in c.problems[0].message


def test_file_changing_between_passes(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text("one\n")
    with Corpus([a], opts()) as c:
        assert list(c.documents("all")) == ["one"] and c.problems == []
        a.write_text("one\ntwo\n")
        assert list(c.documents("all")) == ["one", "two"]
        assert where(c.problems) == [(str(a), "changed")]
        assert "4 bytes then, 8 now" in c.problems[0].message
    with Corpus([a], opts(strict=True)) as strict:
        a.write_text("one\ntwo\nsix\n")
        with pytest.raises(CorpusError, match=re.escape(str(a)) + r".*\(changed; strict mode\)"):
            list(strict.documents("all"))


def test_locked_file_in_a_folder(tmp_path, monkeypatch):
    (tmp_path / "ok.txt").write_text("ok\n")
    locked = tmp_path / "locked.txt"
    locked.write_text("secret\n")
    if ROOT:
        real = cf.CountingFile.open

        def deny(path: Path) -> cf.CountingFile:
            if path.name == "locked.txt":
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(cf.CountingFile, "open", staticmethod(deny))
    else:
        locked.chmod(0)
    try:
        with Corpus([tmp_path], opts()) as c:
            assert list(c.documents("all")) == ["ok"]
            assert where(c.problems) == [(str(locked), "unreadable")]
            assert "Permission denied" in c.problems[0].message
    finally:
        locked.chmod(0o644)


def test_locked_subfolder(tmp_path, monkeypatch):
    (tmp_path / "ok.txt").write_text("ok\n")
    sub = tmp_path / "locked"
    sub.mkdir()
    (sub / "secret.txt").write_text("secret\n")
    if ROOT:
        real = os.scandir

        def deny(p=".", *a):
            if Path(p).name == "locked":
                raise PermissionError(errno.EACCES, "Permission denied", str(p))
            return real(p, *a)

        monkeypatch.setattr(os, "scandir", deny)
    else:
        sub.chmod(0)
    try:
        with Corpus([tmp_path], opts()) as c:
            assert list(c.documents("all")) == ["ok"]
            assert where(c.problems) == [(str(sub), "unreadable")]
        with pytest.raises(CorpusError, match=re.escape(str(sub)) + ".*strict"):
            Corpus([tmp_path], opts(strict=True))
    finally:
        sub.chmod(0o755)


def test_symlink_loops_and_broken_links(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "ok.txt").write_text("ok\n")
    os.symlink("loop.txt", folder / "loop.txt")
    os.symlink("missing.txt", folder / "broken.txt")
    os.symlink("..", folder / "up")  # a folder loop: not followed
    with Corpus([folder], opts()) as c:
        assert list(c.documents("all")) == ["ok"]
        assert where(c.problems) == [
            (str(folder / "broken.txt"), "unreadable"),
            (str(folder / "loop.txt"), "unreadable"),
        ]
        assert "broken" in c.problems[0].message and "loop" in c.problems[1].message
    with pytest.raises(
        CorpusError, match=re.escape(f"{folder / 'loop.txt'}: a symbolic link loop")
    ):
        Corpus([folder / "loop.txt"], opts())


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="names must be UTF-8 there")
def test_file_name_that_is_not_utf8(tmp_path):
    name = os.fsdecode(os.fsencode(str(tmp_path)) + b"/bad\xff.jsonl")
    with open(name, "w") as f:
        f.write('{"text": "ok"}\nnot json\n')
    with Corpus([name], opts()) as c:
        assert list(c.documents("all")) == ["ok"]
        shown = c.problems[0].path
        assert shown.encode("utf-8") and shown.endswith("bad\ufffd.jsonl")  # printable
    with Corpus([name], opts(strict=True)) as c, pytest.raises(CorpusError) as err:
        list(c.documents("all"))
    assert str(err.value).encode("utf-8") and "bad\ufffd.jsonl:2" in str(err.value)


def test_gigantic_single_line(tmp_path):
    f = tmp_path / "giant.jsonl"
    f.write_text('{"text": "' + "x" * 5000 + '"}\n{"text": "after"}\n')
    with Corpus([f], opts(max_line_bytes=1024)) as c:
        assert list(c.documents("all")) == ["after"]
        assert [(p.path, p.line, p.kind) for p in c.problems] == [(str(f), 1, "long-line")]


def test_nul_heavy_file_named_txt(tmp_path):
    early = tmp_path / "early.txt"
    early.write_bytes(b"text\n" + bytes(100_000))
    late = tmp_path / "late.txt"
    late.write_bytes(b"line\n" * 3000 + b"\x00" * 5000 + b"\nend\n")
    with Corpus([early, late], opts()) as c:
        docs = list(c.documents("all"))
        assert len(docs) == 3002 and docs[-1] == "end"
        assert [(p.path, p.line, p.kind) for p in c.problems] == [
            (str(early), None, "binary"),
            (str(late), 3001, "binary"),
        ]


@pytest.mark.parametrize("data", [b"", b"\x1f", b"\x28\xb5\x2f"])
def test_empty_or_headless_compressed_file(tmp_path, data):
    (tmp_path / "ok.txt").write_text("ok\n")
    f = tmp_path / "empty.txt.gz"
    f.write_bytes(data)
    with Corpus([tmp_path], opts()) as c:
        assert list(c.documents("all")) == ["ok"]
        assert where(c.problems) == [(str(f), "truncated")]
    f.write_bytes(gzip.compress(b""))  # a complete stream of nothing is fine
    with Corpus([tmp_path], opts()) as c:
        assert list(c.documents("all")) == ["ok"] and c.problems == []


def test_pipe_inside_a_folder_is_skipped(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    (tmp_path / "ok.txt").write_text("ok\n")
    os.mkfifo(tmp_path / "pipe.txt")  # nobody writes: reading it would hang
    result: list = []
    t = threading.Thread(
        target=lambda: result.append(list(Corpus([tmp_path], opts()).documents("all"))),
        daemon=True,
    )
    t.start()
    t.join(60)
    if t.is_alive():  # free the reader, then fail
        with contextlib.suppress(OSError):
            os.close(os.open(tmp_path / "pipe.txt", os.O_WRONLY | os.O_NONBLOCK))
    assert result == [["ok"]]
    with Corpus([tmp_path], opts()) as c:
        assert where(c.problems) == [(str(tmp_path / "pipe.txt"), "skipped")]  # at once
        assert list(c.documents("all")) == ["ok"] and len(c.problems) == 1


def test_socket_named_directly(tmp_path):
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("no Unix sockets")
    path = tmp_path / "s.txt"
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.bind(str(path))
        except OSError:
            pytest.skip("cannot bind a Unix socket here")
        with pytest.raises(CorpusError, match=re.escape(f"{path}: not a file, folder or pipe")):
            Corpus([path], opts())


def test_no_standard_input(monkeypatch):
    monkeypatch.setattr(sys, "stdin", None)
    with pytest.raises(CorpusError, match=r"^-: there is no standard input"):
        Corpus(["-"], opts())


def test_full_temporary_disk_while_keeping_a_pipe(monkeypatch):
    class Full:
        def seek(self, *a):
            return 0

        def write(self, b):
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self):
            pass

    monkeypatch.setattr(sp, "_anonymous_file", Full)
    r, w = os.pipe()
    os.write(w, b"one\ntwo\n")
    os.close(w)
    monkeypatch.setattr(sys, "stdin", open(r, "rb"))  # noqa: SIM115 - closed below
    try:
        c = Corpus(["-"], opts())
        with c, pytest.raises(CorpusError, match=r"^<stdin>: cannot keep a copy.*TMPDIR"):
            list(c.documents("all"))
    finally:
        sys.stdin.close()
