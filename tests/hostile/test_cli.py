"""The command line under hostile use: outputs it must not write, broken standard output,
bad models and arguments.  Every case ends with one line on stderr, never a traceback."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from piecelab import Model

from ..conftest import DATA, tiny_counts

CORPUS = DATA / "trainer_corpus.jsonl.gz"


@pytest.fixture
def model_path(tmp_path) -> Path:
    return Model.from_counts(tiny_counts()).save(tmp_path / "tiny.model")


def piecelab(*args: str, stdin=None, stdout=subprocess.PIPE, timeout=120, **kw):
    """Run the real command in a child process (stdout and stderr as a test sees them)."""
    return subprocess.run(
        [sys.executable, "-m", "piecelab", *args],
        stdin=stdin,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
        **kw,
    )


def one_line_error(proc: subprocess.CompletedProcess, *words: str) -> str:
    err = proc.stderr.strip()
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert len(err.splitlines()) == 1, err
    for w in words:
        assert w in err, err
    return err


# ---------------------------------------------------------------- outputs
def _device(tmp_path: Path, name: str, minor: int) -> str:
    """A private copy of /dev/null or /dev/zero (major 1) where we may make one (root),
    so a regression replaces the copy, never the machine's; else the real node, which
    a user who may not make nodes cannot replace either."""
    node = tmp_path / name
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except (PermissionError, OSError):
        return f"/dev/{name}"
    return str(node)


@pytest.mark.parametrize(("name", "minor"), [("null", 3), ("zero", 5)])
def test_train_refuses_a_device_as_output(tmp_path, name, minor):
    device = _device(tmp_path, name, minor)
    proc = piecelab("train", str(CORPUS), "-o", device, "--vocab-size", "300", "-q")
    assert proc.returncode == 2
    one_line_error(proc, device, "device")
    assert stat.S_ISCHR(os.stat(device).st_mode)


def test_train_refuses_to_overwrite_its_corpus(tmp_path):
    corpus = tmp_path / "c.jsonl.gz"
    corpus.write_bytes(CORPUS.read_bytes())
    proc = piecelab("train", str(corpus), "-o", str(corpus), "--vocab-size", "300", "-q")
    assert proc.returncode == 2
    one_line_error(proc, str(corpus), "input corpus")
    assert corpus.read_bytes() == CORPUS.read_bytes()
    # the same file under another name (a symlink) is the same corpus
    link = tmp_path / "link.model"
    link.symlink_to(corpus)
    proc = piecelab("train", str(corpus), "-o", str(link), "--vocab-size", "300", "-q")
    assert proc.returncode == 2 and corpus.read_bytes() == CORPUS.read_bytes()


@pytest.mark.parametrize(
    ("output", "words"),
    [
        ("{tmp}", ["folder"]),
        ("", ["empty"]),
        ("{tmp}/no/such/dir/m.model", ["no such folder"]),
        ("/sys/piecelab-test.model", ["cannot write"]),  # read-only, even for root
    ],
)
def test_train_refuses_bad_outputs_before_training(tmp_path, output, words):
    target = output.format(tmp=tmp_path)
    t0 = time.monotonic()
    proc = piecelab("train", str(CORPUS), "-o", target, "--vocab-size", "300")
    assert proc.returncode == 2
    one_line_error(proc, *words)
    assert "count n-grams" not in proc.stderr  # refused before any work
    assert time.monotonic() - t0 < 30


def test_several_sizes_check_each_output(tmp_path):
    (tmp_path / "m.model.400").mkdir()  # where the 400 model would go
    proc = piecelab(
        "train", str(CORPUS), "-o", str(tmp_path / "m.model"), "--vocab-size", "300,400"
    )
    assert proc.returncode == 2
    one_line_error(proc, "m.model.400", "folder")


# ---------------------------------------------------------------- standard output
def test_a_full_disk_on_stdout_is_one_line(model_path):
    with open("/dev/full", "w") as full:
        proc = piecelab("tokenize", "-m", str(model_path), "abc " * 1000, stdout=full)
    assert proc.returncode == 1
    one_line_error(proc, "cannot write the output")


def test_closed_stdout_is_one_line(model_path):
    argv = [sys.executable, "-m", "piecelab", "tokenize", "-m", str(model_path), "abc"]
    code = (
        "import os, sys, subprocess;"
        f"p = subprocess.run({argv!r}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,"
        " text=True, preexec_fn=lambda: os.close(1));"
        "print(p.returncode); print(p.stderr, end='')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    returncode, _, err = out.stdout.partition("\n")
    assert int(returncode) == 2
    assert "standard output is closed" in err and "Traceback" not in err


def test_a_reader_that_goes_away_stops_it_quietly(model_path):
    text = "abc cab bca " * 2000
    reader = subprocess.Popen(["head", "-c", "10"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    proc = piecelab(
        "tokenize", "-m", str(model_path), *([text] * 50), stdout=reader.stdin, timeout=120
    )
    reader.stdin.close()
    reader.wait()
    assert proc.returncode in (0, 141)
    assert proc.stderr.strip() == ""


# ---------------------------------------------------------------- bad models and arguments
def test_deeply_nested_json_model(tmp_path):
    bad = tmp_path / "nested.model"
    bad.write_text("[" * 200_000 + "]" * 200_000)
    proc = piecelab("tokenize", "-m", str(bad), "abc")
    assert proc.returncode == 2
    one_line_error(proc)


def test_a_model_without_the_bytes_the_text_uses(tmp_path):
    model = Model.from_counts({b"a": 5, b"b": 3, b"ab": 2})
    path = model.save(tmp_path / "small.model")
    proc = piecelab("tokenize", "-m", str(path), "abc")
    assert proc.returncode == 2
    one_line_error(proc, "0x63")


def test_huge_counts_do_not_crash(tmp_path):
    obj = Model.from_counts(tiny_counts()).to_bytepiece()
    for key in list(obj)[:3]:
        obj[key][2] = 10**30
    path = tmp_path / "huge.model"
    path.write_text(json.dumps(obj))
    proc = piecelab("tokenize", "-m", str(path), "abc")
    assert proc.returncode in (0, 2)
    if proc.returncode == 2:
        one_line_error(proc, str(path))


@pytest.mark.parametrize("alpha", ["nan", "inf", "-inf"])
def test_non_finite_alpha_is_refused(model_path, alpha):
    proc = piecelab("tokenize", "-m", str(model_path), f"--alpha={alpha}", "abc")
    assert proc.returncode == 2
    one_line_error(proc, "alpha")


@pytest.mark.parametrize("seed", ["-1", str(2**70)])
def test_any_seed_works_or_is_refused_in_one_line(model_path, seed):
    args = ["--alpha", "0.1", "--seed", seed, "abc"]
    proc = piecelab("tokenize", "-m", str(model_path), *args)
    if proc.returncode != 0:
        assert proc.returncode == 2
        one_line_error(proc)
    else:
        assert proc.stderr.strip() == "" and proc.stdout.strip()


# ---------------------------------------------------------------- damaged and piped corpora
def _damaged_corpus(tmp_path: Path) -> Path:
    lines = [json.dumps({"text": f"document {i} 文档"}) for i in range(300)]
    lines[7] = lines[7][:-3]  # bad JSON
    lines[40] = "{not json"
    path = tmp_path / "damaged.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_eval_reports_damaged_lines_and_strict_stops(tmp_path, model_path):
    corpus = _damaged_corpus(tmp_path)
    proc = piecelab("eval", "-m", str(model_path), str(corpus), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["documents"] == 298
    assert "Traceback" not in proc.stderr
    assert "2 problems" in proc.stderr and "damaged.jsonl" in proc.stderr
    assert "line 8" in proc.stderr  # the first bad line, 1-based
    strict = piecelab("eval", "-m", str(model_path), str(corpus), "--strict")
    assert strict.returncode == 2
    one_line_error(strict, "damaged.jsonl", "8", "strict")


def test_train_reports_damaged_lines(tmp_path):
    corpus = tmp_path / "c.jsonl"
    good = [json.dumps({"text": f"文档 {i} some text here"}) for i in range(400)]
    corpus.write_text("\n".join([*good[:200], "{broken", *good[200:]]) + "\n")
    out = tmp_path / "m.model"
    proc = piecelab("train", str(corpus), "-o", str(out), "--vocab-size", "300", "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.is_file() and "c.jsonl" in proc.stderr and "bad-json" in proc.stderr


def test_eval_reads_every_document_from_a_pipe(tmp_path, model_path):
    lines = [json.dumps({"text": f"document {i} 文档"}) for i in range(300)]
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("\n".join(lines) + "\n")
    with open(corpus, "rb") as fh:  # /dev/stdin: a pipe the command cannot rewind
        cat = subprocess.Popen(["cat"], stdin=fh, stdout=subprocess.PIPE)
        proc = piecelab("eval", "-m", str(model_path), "/dev/stdin", "--json", stdin=cat.stdout)
        cat.wait()
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["documents"] == 300


def test_train_reads_a_pipe_twice(tmp_path):
    with open(CORPUS, "rb") as fh:
        out = tmp_path / "m.model"
        proc = piecelab(
            "train", "-", "-o", str(out), "--vocab-size", "300", "-q", stdin=fh, timeout=300
        )
    assert proc.returncode == 0, proc.stderr
    assert Model.load(out).vocab_size <= 300
