"""``piecelab shuffle`` with a small memory budget against GNU ``shuf``, same lines.

    .venv/bin/python benchmarks/bench_shuffle.py [--memory 8M] [--repeat 3] [--ray]

Shuffles ``../shared/corpora``'s train file (skipped, with a message, when it is absent):
as it is (.gz), and decompressed once to a plain file, which is also what ``shuf``
(if installed) shuffles, whole in memory.  Every run is a child of a small launcher
process that reads the child's peak RSS with ``getrusage(RUSAGE_CHILDREN)`` (a child
forked from this larger process would inherit its RSS high-water mark).  A child that
only imports ``piecelab.engine.shuffle`` gives the interpreter's baseline, so "own" =
peak − baseline is the shuffle's memory, to hold against ``--memory``.
Times are the best of ``--repeat`` runs: the wall time of the whole child (start and
imports included) and, for piecelab, the shuffle alone as the engine measured it.
``--ray`` adds a row on a local Ray (its time only: the work is in Ray's workers).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PIECELAB_SHARED", REPO.parent / "shared"))
TRAIN = SHARED / "corpora" / "zh-en-docs.train.jsonl.gz"

SHUFFLE = """
import json, sys
from piecelab.engine import shuffle_lines
a = json.loads(sys.argv[1])
r = shuffle_lines([a["input"]], a["output"], memory=a["memory"], seed=1, ray=a["ray"])
print(json.dumps({"seconds": r.seconds, "lines": r.lines, "buckets": r.buckets}))
"""
BASELINE = "import piecelab.engine.shuffle"
LAUNCHER = """
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.run(sys.argv[1:], capture_output=True)
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps([p.returncode, wall, peak, p.stdout.decode(), p.stderr.decode()[-2000:]]))
"""


def run_child(cmd: list[str]) -> tuple[float, int, str]:
    """(wall seconds, peak RSS bytes, stdout) of one child process, through the launcher."""
    launched = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, *cmd], capture_output=True)
    code, wall, peak, out, err = json.loads(launched.stdout)
    if code:
        raise SystemExit(f"{cmd[0]} failed ({code}): {err}")
    return wall, peak, out


def best(cmd: list[str], repeat: int) -> tuple[float, int, str]:
    runs = [run_child(cmd) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs), runs[-1][2]


def memory_bytes(text: str) -> int:
    """``--memory`` in bytes, parsed by piecelab in a child (this process stays small)."""
    code = "import sys; from piecelab.engine import parse_memory; print(parse_memory(sys.argv[1]))"
    done = subprocess.run([sys.executable, "-c", code, text], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"--memory: {done.stderr.strip().splitlines()[-1]}")
    return int(done.stdout)


def same_lines(a: Path, b: Path) -> bool:
    return sorted(a.read_bytes().splitlines()) == sorted(b.read_bytes().splitlines())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--memory", default="8M", help="piecelab's budget (default 8M)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (best time)")
    parser.add_argument("--ray", action="store_true", help="add a row on a local Ray")
    args = parser.parse_args()
    if not TRAIN.is_file():
        print(f"bench_shuffle: skipped: {TRAIN} is absent (../shared not checked out)")
        return 0
    budget = memory_bytes(args.memory)
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-shuffle-") as tmp:
        plain = Path(tmp) / "train.jsonl"
        with gzip.open(TRAIN) as src, open(plain, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        _, base_rss, _ = best([py, "-c", BASELINE], args.repeat)
        rows = []
        cases = [("piecelab", TRAIN, None), ("piecelab", plain, None)]
        if args.ray:
            cases.append(("piecelab --ray", plain, "local"))
        for name, source, ray in cases:
            out = Path(tmp) / "out.jsonl"
            spec = {"input": str(source), "output": str(out), "memory": budget, "ray": ray}
            wall, rss, text = best([py, "-c", SHUFFLE, json.dumps(spec)], args.repeat)
            info = json.loads(text)
            assert same_lines(plain, out), "the output is not a permutation of the input"
            own = None if ray else rss - base_rss
            rows.append((name, source.name, wall, info["seconds"], rss, own, info["buckets"]))
        shuf = shutil.which("shuf")
        if shuf:
            out = Path(tmp) / "shuf.jsonl"
            wall, rss, _ = best([shuf, str(plain), "-o", str(out)], args.repeat)
            rows.append(("GNU shuf", plain.name, wall, wall, rss, rss, 0))
        report(rows, plain.stat().st_size, budget, base_rss, shuf)
    return 0


def report(rows, size: int, budget: int, base_rss: int, shuf: str | None) -> None:
    mb = 1 << 20
    print(f"input: {TRAIN.name}, {size / mb:.1f} MiB decompressed; budget --memory "
          f"{budget / mb:g} MiB; import-only baseline RSS {base_rss / mb:.1f} MiB")  # fmt: skip
    print(f"{'tool':<15} {'input':<26} {'wall s':>7} {'shuffle s':>9} {'peak MiB':>9} "
          f"{'own MiB':>8} {'buckets':>7} {'× shuf':>7} {'shuffle × shuf':>14}")  # fmt: skip
    shuf_wall = rows[-1][2] if shuf else None
    for name, source, wall, secs, rss, own, buckets in rows:
        own_text = f"{own / mb:8.1f}" if own is not None else f"{'-':>8}"
        ratio = f"{wall / shuf_wall:7.1f}" if shuf_wall else f"{'-':>7}"
        alone = f"{secs / shuf_wall:14.1f}" if shuf_wall else f"{'-':>14}"
        print(f"{name:<15} {source:<26} {wall:7.2f} {secs:9.2f} {rss / mb:9.1f} "
              f"{own_text} {buckets or '-':>7} {ratio} {alone}")  # fmt: skip
    if not shuf:
        print("GNU shuf is not installed: no comparison row")
    print("own = peak − baseline (shuf: its whole RSS); × shuf = wall time / shuf's;")
    print("shuffle × shuf = the shuffle alone (no start, no imports) / shuf's wall time")


if __name__ == "__main__":
    raise SystemExit(main())
