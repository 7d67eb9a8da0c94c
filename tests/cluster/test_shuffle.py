"""``piecelab shuffle``: a permutation of the lines, reproducible, uniform, bounded, clean.

The chi-square checks use fixed seeds, so they pass or fail the same way every run.
"""

from __future__ import annotations

import bz2
import collections
import gzip
import itertools
import lzma
import os
import signal
import subprocess
import sys
import textwrap
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import zstandard

from piecelab.cli import main
from piecelab.engine import (
    Cancelled,
    Progress,
    ShuffleError,
    ShuffleJob,
    parse_memory,
    shuffle_lines,
)
from piecelab.engine import atomic as engine_atomic
from piecelab.engine import shuffle_passes as engine_passes

KINDS = ("", ".gz", ".bz2", ".xz", ".zst")
CHI2_19_999 = 43.820  # the 0.999 quantile of chi-square with 19 degrees of freedom
POSITION_SEEDS = range(2000)


def compress(data: bytes, kind: str) -> bytes:
    if kind == ".gz":
        return gzip.compress(data)
    if kind == ".bz2":
        return bz2.compress(data)
    if kind == ".xz":
        return lzma.compress(data)
    if kind == ".zst":
        return zstandard.ZstdCompressor().compress(data)
    return data


def read_back(path: Path) -> bytes:
    """The output decompressed by its extension, checking the format by its magic."""
    raw = path.read_bytes()
    name = path.name
    if name.endswith(".gz"):
        assert raw[:2] == b"\x1f\x8b"
        return gzip.decompress(raw)
    if name.endswith(".bz2"):
        assert raw[:3] == b"BZh"
        return bz2.decompress(raw)
    if name.endswith(".xz"):
        assert raw[:6] == b"\xfd7zXZ\x00"
        return lzma.decompress(raw)
    if name.endswith((".zst", ".zstd")):
        assert raw[:4] == b"\x28\xb5\x2f\xfd"
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        return reader.read()
    return raw


def sample_lines(n: int = 3000, seed: int = 0) -> list[bytes]:
    """Lines of varied lengths with empty ones, repeats and invalid UTF-8 among them."""
    rng = np.random.default_rng(seed)
    lines = [b"line %d " % i + b"x" * int(rng.integers(0, 120)) + b"\n" for i in range(n)]
    lines[5] = lines[17] = b"\n"
    lines[9] = b"\xff\xfe not utf-8 \xc3\n"
    lines[11] = lines[12]
    return lines


def write_input(folder: Path, name: str, lines: list[bytes], kind: str = "", tail=True) -> Path:
    data = b"".join(lines)
    if not tail:
        data = data[:-1]  # the last line without its newline
    path = folder / f"{name}{kind}"
    path.write_bytes(compress(data, kind))
    return path


def debris(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


@pytest.mark.parametrize("kind", KINDS)
def test_output_is_a_permutation_of_the_input(tmp_path, kind):
    lines = sample_lines()
    src = write_input(tmp_path, "in.txt", lines, kind, tail=False)
    out_kind = KINDS[(KINDS.index(kind) + 2) % len(KINDS)]  # every output kind once too
    out = tmp_path / f"out.txt{out_kind}"
    result = shuffle_lines([src], out, memory="64K", seed=1, buckets=7)
    got = read_back(out)
    assert got.endswith(b"\n")
    assert sorted(got.splitlines(keepends=True)) == sorted(lines)
    assert got != b"".join(lines)
    assert (result.lines, result.bytes, result.buckets) == (len(lines), len(got), 7)
    assert debris(tmp_path, {src.name, out.name}) == []


def test_inputs_are_concatenated_line_by_line(tmp_path):
    a = write_input(tmp_path, "a.txt", [b"a1\n", b"a2\n", b"\n", b"a3\n"], tail=False)
    b = write_input(tmp_path, "b.txt.gz", [b"b1\n", b"\n"], ".gz")
    empty = write_input(tmp_path, "c.txt", [])
    out = tmp_path / "out.txt"
    shuffle_lines([a, empty, b, a], out, memory="64K", seed=3, buckets=3)
    got = collections.Counter(out.read_bytes().splitlines(keepends=True))
    assert got == collections.Counter({b"a1\n": 2, b"a2\n": 2, b"a3\n": 2, b"\n": 3, b"b1\n": 1})


def test_no_lines_give_an_empty_but_valid_file(tmp_path):
    src = write_input(tmp_path, "empty.txt", [])
    for kind in (*KINDS, ".zstd"):
        out = tmp_path / f"out.txt{kind}"
        assert shuffle_lines([src], out, memory="64K").lines == 0
        assert read_back(out) == b""


def test_same_seed_same_bytes_other_seed_other_order(tmp_path):
    src = write_input(tmp_path, "in.txt", sample_lines())
    outs = [tmp_path / f"out{i}.txt.gz" for i in range(3)]
    for out, seed in zip(outs, (5, 5, 6)):
        shuffle_lines([src], out, memory="64K", seed=seed)
    assert outs[0].read_bytes() == outs[1].read_bytes()
    assert read_back(outs[0]) != read_back(outs[2])


def test_plain_files_split_into_ranges_lose_and_repeat_no_line(tmp_path):
    """Ranges cut anywhere (inside lines, on newlines) tile the file into its lines."""
    long = [b"a" * 1000 + b"\n", b"\n", b"b\n", b"c" * 500 + b"\n", b"\n"]
    rng = np.random.default_rng(0)
    for lines in (sample_lines(400), long):
        data = b"".join(lines)
        src = write_input(tmp_path, "in.txt", lines)
        for trial in range(200):
            many = rng.integers(0, len(data), int(rng.integers(1, 30)))
            cuts = sorted({0, len(data), *many, *([1000, 1001, 1002] if trial % 2 else [])})
            got = []
            with open(src, "rb") as f:
                for start, end in itertools.pairwise(cuts):
                    size = int(rng.integers(1, 300))
                    got += [c for c, _ in engine_passes._range_chunks(f, start, end, size)]
            assert b"".join(got) == data, cuts


def test_shards_change_nothing_but_the_random_streams(tmp_path):
    lines = sample_lines()
    src = write_input(tmp_path, "in.txt", lines, tail=False)
    out = tmp_path / "out.txt"
    job = ShuffleJob([src], out, memory="64K", seed=2, shard_bytes=10_000)
    for _ in job.run():
        pass
    assert sorted(out.read_bytes().splitlines(keepends=True)) == sorted(lines)
    assert job.result.lines == len(lines)


def positions(tmp_path, seeds, n=20, buckets=4) -> np.ndarray:
    """``counts[line, position]`` over shuffles of ``n`` lines with the given seeds."""
    src = write_input(tmp_path, "in.txt", [b"%d\n" % i for i in range(n)])
    out = tmp_path / "out.txt"
    counts = np.zeros((n, n), np.int64)
    for seed in seeds:
        shuffle_lines([src], out, memory="64K", seed=seed, buckets=buckets)
        order = np.array(out.read_bytes().split(), np.int64)
        counts[order, np.arange(n)] += 1
    return counts


def chi2_rows(counts: np.ndarray) -> np.ndarray:
    expected = counts.sum(axis=1, keepdims=True) / counts.shape[1]
    return (((counts - expected) ** 2) / expected).sum(axis=1)


@pytest.mark.slow
def test_every_line_is_equally_likely_at_every_position(tmp_path):
    counts = positions(tmp_path, POSITION_SEEDS)
    assert (counts.sum(axis=0) == len(POSITION_SEEDS)).all()  # permutations, each run
    stats = chi2_rows(counts)
    assert stats.max() < CHI2_19_999, stats.round(1)
    assert chi2_rows(counts.T).max() < CHI2_19_999  # and each position gets every line


def test_the_chi_square_check_catches_an_unshuffled_bucket(tmp_path, monkeypatch):
    """Without the in-bucket permutation each bucket keeps input order: caught."""

    class NoPermutation:
        def __init__(self, rng):
            self.random = rng.random

        def shuffle(self, x):
            pass

    real = engine_passes._rng
    monkeypatch.setattr(engine_passes, "_rng", lambda *key: NoPermutation(real(*key)))
    counts = positions(tmp_path, range(200))
    assert chi2_rows(counts).max() > CHI2_19_999


def test_an_oversized_bucket_is_split_and_still_shuffled(tmp_path):
    lines = sample_lines(6000)  # about 400 kB in one bucket, with room for 40 kB
    src = write_input(tmp_path, "in.txt", lines)
    outs = [tmp_path / "a.txt", tmp_path / "b.txt"]
    for out in outs:
        result = shuffle_lines([src], out, memory="64K", seed=4, buckets=1)
        assert result.split == 1
    got = outs[0].read_bytes()
    assert got == outs[1].read_bytes()
    assert sorted(got.splitlines(keepends=True)) == sorted(lines)
    first = [int(x.split()[1]) for x in got.splitlines()[:300] if x.startswith(b"line")]
    assert np.mean(first) > 1000  # not just the input's beginning
    assert debris(tmp_path, {src.name, "a.txt", "b.txt"}) == []


def test_memory_stays_within_the_budget(tmp_path):
    """Python and numpy allocations, traced, stay under ``memory`` plus a little."""
    src = write_input(tmp_path, "in.txt", sample_lines(30000, seed=1))  # ~2 MB
    memory = 1 << 20
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = shuffle_lines([src], tmp_path / "out.txt", memory=memory, seed=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.buckets > 5
    assert peak < memory, peak


def test_a_line_longer_than_the_budget_is_named(tmp_path):
    src = write_input(tmp_path, "long.txt", [b"short\n", b"y" * 20_000 + b"\n"])
    with pytest.raises(ShuffleError, match=r"long\.txt: a line after byte 6 is longer"):
        shuffle_lines([src], tmp_path / "out.txt", memory="64K")
    assert debris(tmp_path, {src.name}) == []


@pytest.mark.parametrize("stage", ["scatter lines", "shuffle buckets"])
def test_cancel_leaves_no_debris(tmp_path, stage):
    src = write_input(tmp_path, "in.txt", sample_lines(6000))
    out = tmp_path / "out.txt"
    out.write_bytes(b"old\n")
    cancel = threading.Event()
    seen = []
    with pytest.raises(Cancelled):
        for ev in ShuffleJob([src], out, memory="64K", buckets=3).run(cancel):
            if isinstance(ev, Progress) and ev.stage == stage:
                seen.append(ev)
                if len(seen) == 2:  # mid-stage, bucket files written
                    assert any(p.name.startswith(".piecelab-shuffle") for p in tmp_path.iterdir())
                    cancel.set()
    assert out.read_bytes() == b"old\n"
    assert debris(tmp_path, {src.name, out.name}) == []


def test_closing_the_job_leaves_no_debris(tmp_path):
    """What Ctrl-C in the command line does: close the generator mid-way."""
    src = write_input(tmp_path, "in.txt", sample_lines(6000))
    job = ShuffleJob([src], tmp_path / "out.txt", memory="64K", buckets=3).run()
    for ev in job:
        if isinstance(ev, Progress) and ev.stage == "shuffle buckets" and ev.done:
            break
    job.close()
    assert debris(tmp_path, {src.name}) == []


def stalled_shuffle(src: Path, out: Path, hold: float) -> subprocess.Popen:
    """A child running ``piecelab shuffle`` that stalls ``hold`` s between its passes
    (bucket files written, the output's temporary file open)."""
    code = textwrap.dedent(
        f"""
        import sys, time
        from piecelab.cli import main
        from piecelab.engine import shuffle
        real = shuffle.ShuffleJob._shuffle
        def stall(self, *args):
            print("between passes", flush=True)
            time.sleep({hold})
            return (yield from real(self, *args))
        shuffle.ShuffleJob._shuffle = stall
        sys.exit(main(["shuffle", {str(src)!r}, "-o", {str(out)!r}, "--memory", "64K"]))
        """
    )
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=root, stdout=subprocess.PIPE, text=True
    )


def test_a_killed_shuffles_files_go_with_the_next_run(tmp_path, monkeypatch):
    """SIGKILL between the passes leaves the bucket folder and the output's temporary
    file; the next shuffle into that folder removes both (their locks died with it)."""
    monkeypatch.setattr(engine_atomic, "MIN_AGE_SECONDS", 0.0)
    src = write_input(tmp_path, "in.txt", sample_lines(6000))
    child = stalled_shuffle(src, tmp_path / "out.txt", hold=120)
    assert child.stdout.readline().strip() == "between passes"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    left = debris(tmp_path, {src.name})
    assert any(n.startswith(".piecelab-shuffle-") for n in left), left
    assert any(n.endswith(".tmp") for n in left), left
    shuffle_lines([src], tmp_path / "again.txt", memory="64K")
    assert debris(tmp_path, {src.name, "again.txt"}) == []


def test_a_shuffle_running_elsewhere_keeps_its_files(tmp_path, monkeypatch):
    monkeypatch.setattr(engine_atomic, "MIN_AGE_SECONDS", 0.0)
    src = write_input(tmp_path, "in.txt", sample_lines(6000))
    child = stalled_shuffle(src, tmp_path / "out.txt", hold=3)
    assert child.stdout.readline().strip() == "between passes"
    before = debris(tmp_path, {src.name})
    shuffle_lines([src], tmp_path / "mine.txt", memory="64K")
    assert debris(tmp_path, {src.name, "mine.txt"}) == before  # its locks are held
    assert child.wait(timeout=120) == 0
    assert sorted(read_back(tmp_path / "out.txt").splitlines()) == sorted(
        read_back(src).splitlines()
    )
    assert debris(tmp_path, {src.name, "mine.txt", "out.txt"}) == []


def test_a_failure_in_the_second_pass_leaves_no_debris(tmp_path, monkeypatch):
    src = write_input(tmp_path, "in.txt", sample_lines(3000))
    out = tmp_path / "out.txt.gz"
    out.write_bytes(b"old")
    calls = []

    def failing(*args):
        calls.append(args)
        if len(calls) == 2:  # the first bucket is already in the output
            raise OSError(28, "No space left on device")
        return real(*args)

    real = engine_passes._newlines
    monkeypatch.setattr(engine_passes, "_newlines", failing)
    with pytest.raises(OSError, match="No space"):
        shuffle_lines([src], out, memory="64K", buckets=3)
    assert out.read_bytes() == b"old"
    assert debris(tmp_path, {src.name, out.name}) == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.txt", r"missing\.txt: cannot read it \(no such file\)"),
        (lambda d: d, "is a folder"),
        (lambda d: truncated_gz(d), r"cut\.txt\.gz: cannot read it"),
    ],
)
def test_bad_inputs_are_named(tmp_path, make, message):
    work = tmp_path / "work"
    work.mkdir()
    good = write_input(work, "good.txt", sample_lines(100))
    bad = make(work)
    with pytest.raises(ShuffleError, match=message):
        shuffle_lines([good, bad], work / "out.txt", memory="64K")
    assert debris(work, {"good.txt", "cut.txt.gz"}) == []


def truncated_gz(folder: Path) -> Path:
    path = folder / "cut.txt.gz"
    data = gzip.compress(b"".join(sample_lines(2000)))
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize("kind", ["folder", "device", "fifo", "input", "input link"])
def test_refused_outputs_are_named(tmp_path, kind):
    src = write_input(tmp_path, "in.txt", sample_lines(100))
    out = {"device": Path(os.devnull), "input": src}.get(kind, tmp_path / "out")
    if kind == "folder":
        out.mkdir()
    elif kind == "fifo":
        os.mkfifo(out)
    elif kind == "input link":
        out.symlink_to(src)
    expect = {"folder": "is a folder", "device": "is a character device",
              "fifo": "is a FIFO", "input": "is one of the inputs",
              "input link": "is one of the inputs"}[kind]  # fmt: skip
    with pytest.raises(ShuffleError, match=f"{out}: {expect}"):
        shuffle_lines([src], out, memory="64K")
    assert src.read_bytes() == b"".join(sample_lines(100))


@pytest.mark.parametrize(
    ("text", "value"),
    [("1G", 1 << 30), ("512M", 512 << 20), ("8m", 8 << 20), ("100K", 102_400),
     ("1.5G", 3 << 29), ("65536", 65536), ("2MiB", 2 << 20), ("70000b", 70000)],
)  # fmt: skip
def test_memory_sizes_parse(text, value):
    assert parse_memory(text) == value


@pytest.mark.parametrize("text", ["", "1X", "-1G", "G", "1 G B", "12K", "0"])
def test_memory_nonsense_is_refused(text):
    with pytest.raises(ValueError, match=r"size|too little"):
        parse_memory(text)


def test_cli_end_to_end(tmp_path, capsys):
    lines = sample_lines()
    src = write_input(tmp_path, "in.txt", lines, ".zst")
    out = tmp_path / "out.txt.xz"
    args = ["shuffle", str(src), "-o", str(out), "--memory", "64K", "--seed", "9"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out)
    assert "scatter lines" in captured.err and "shuffle buckets" in captured.err
    assert sorted(read_back(out).splitlines(keepends=True)) == sorted(lines)
    again = tmp_path / "again.txt.xz"
    assert main([*args[:3], str(again), *args[4:], "-q"]) == 0
    assert again.read_bytes() == out.read_bytes()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--memory", "lots"], "--memory: 'lots' is not a size"),
        (["--seed", "-1"], "the seed must be 0 or more"),
        (["-o", os.devnull], f"{os.devnull}: is a character device"),
        (["--tmp", "/no/such/folder"], "/no/such/folder: no such folder"),
        (["--workers", "4"], "--workers: only with --ray"),
    ],
)
def test_cli_errors(tmp_path, capsys, extra, message):
    src = write_input(tmp_path, "in.txt", sample_lines(100))
    assert main(["shuffle", str(src), "-o", str(tmp_path / "out.txt"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("piecelab shuffle: error: ") and message in err, err
    assert debris(tmp_path, {src.name}) == []


# ------------------------------------------------------------ Ray (conftest's ray_cluster:
# one local Ray with 2 CPUs for this module, skipped when Ray is not installed)
@pytest.mark.slow
def test_ray_writes_the_same_bytes_as_the_local_run(tmp_path, ray_cluster):
    lines = sample_lines(6000)
    plain = write_input(tmp_path, "a.txt", lines[:4000], tail=False)
    packed = write_input(tmp_path, "b.txt.gz", lines[4000:], ".gz")
    for out_kind, buckets in ((".gz", None), ("", 1)):  # several buckets; one, split
        outs = {}
        for mode in (None, "local"):
            out = tmp_path / f"out-{mode}.txt{out_kind}"
            job = ShuffleJob([plain, packed], out, memory="64K", seed=7, ray=mode,
                             buckets=buckets, shard_bytes=50_000)  # fmt: skip
            for _ in job.run():
                pass
            outs[mode] = out.read_bytes()
        assert outs[None] == outs["local"]
        got = read_back(out).splitlines(keepends=True)
        assert sorted(got) == sorted(lines)
        assert job.result.split == (buckets == 1)
    cli_outs = [tmp_path / "cli.txt.gz", tmp_path / "cli-ray.txt.gz"]
    args = ["shuffle", str(plain), str(packed), "--memory", "64K", "--seed", "7", "-q"]
    assert main([*args, "-o", str(cli_outs[0])]) == 0
    assert main([*args, "-o", str(cli_outs[1]), "--ray", "--workers", "2"]) == 0
    assert cli_outs[0].read_bytes() == cli_outs[1].read_bytes()
    outputs = {p.name for p in [*tmp_path.glob("out-*"), *cli_outs]}
    assert debris(tmp_path, {plain.name, packed.name, *outputs}) == []


@pytest.mark.slow
def test_ray_task_errors_name_the_file(tmp_path, ray_cluster):
    good = write_input(tmp_path, "good.txt", sample_lines(100))
    bad = truncated_gz(tmp_path)
    with pytest.raises(ShuffleError, match=r"cut\.txt\.gz: cannot read it"):
        shuffle_lines([good, bad], tmp_path / "out.txt", memory="64K", ray="local")
    assert debris(tmp_path, {good.name, bad.name}) == []


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["scatter lines", "shuffle buckets"])
def test_ray_cancel_leaves_no_debris(tmp_path, ray_cluster, stage):
    src = write_input(tmp_path, "in.txt", sample_lines(6000))
    cancel = threading.Event()
    job = ShuffleJob([src], tmp_path / "out.txt", memory="64K", ray="local", shard_bytes=20_000)
    with pytest.raises(Cancelled):
        for ev in job.run(cancel):
            if isinstance(ev, Progress) and ev.stage == stage:
                cancel.set()
    assert debris(tmp_path, {src.name}) == []
