"""Training on a local Ray cluster against training on this machine (issue 18 item 5).

``.venv/bin/python benchmarks/bench_cluster.py [--gb 1] [--size 32000] [--workers 2]``
builds a corpus of ``--gb`` GB from the shared training file (repeated, then globally
shuffled by ``piecelab shuffle`` so no shard sees one stretch of it; kept in
``--cache`` for the next run), then trains it twice, each in a process of its own:
with ``--workers`` threads here, and on a local Ray with the same number of worker
CPUs.  It prints wall times, their ratio (the issue's target: Ray ≤ 1.3× local), the
driver's peak RSS, whether both models are byte-identical, and from the Ray run the
per-shard task time and the driver's merge time, which the README's projection for N
machines uses.  Opt-in (it takes about 20 minutes for 1 GB on 2 cores):
``make bench-cluster`` or ``benchmarks/run.py --sections cluster``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_data as data

LIMIT = 1.3  # the bound on Ray's time over local training's
HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


def build_corpus(gb: float, cache: Path) -> Path:
    """The shared train file repeated to ``gb`` GB and shuffled line by line (cached)."""
    out = cache / f"zh-en-train-{gb:g}g.jsonl"
    if out.is_file():
        return out
    cache.mkdir(parents=True, exist_ok=True)
    with gzip.open(data.TRAIN_FILE, "rb") as fh:
        one = fh.read()
    if not one.endswith(b"\n"):
        one += b"\n"
    copies = max(1, round(gb * 1e9 / len(one)))
    repeated = cache / "repeated.tmp.jsonl"
    with repeated.open("wb") as fh:
        for _ in range(copies):
            fh.write(one)
    t0 = time.perf_counter()
    cmd = [PYTHON, "-m", "piecelab", "shuffle", str(repeated), "-o", str(out)]
    subprocess.run([*cmd, "--memory", "2G", "--seed", "18"], check=True)
    repeated.unlink()
    size = out.stat().st_size
    took = time.perf_counter() - t0
    print(f"corpus: {copies} copies, {size / 1e9:.2f} GB, shuffled in {took:.0f} s")
    return out


def child(corpus: str, size: int, workers: int, ray: bool, model: str) -> None:
    """One training run (in its own process); prints one JSON line of figures."""
    from piecelab.engine import Corpus, CorpusOptions, Log, RayExecutor, StageDone, Trainer

    trainer = Trainer(max_vocab_size=size)
    executor = RayExecutor(workers=workers) if ray else None
    stages: dict[str, float] = {}
    logs: list[str] = []
    t0 = time.perf_counter()
    with Corpus([corpus], CorpusOptions(heldout=0.01)) as texts:
        for ev in trainer.run(texts, workers=workers, heldout=0.01, executor=executor):
            if isinstance(ev, StageDone):
                stages[ev.stage] = round(ev.elapsed, 1)
            elif isinstance(ev, Log):
                logs.append(ev.message)
    wall = time.perf_counter() - t0
    trainer.save(model)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    held = {str(k): v for k, v in trainer.result.heldout_bytes_per_token.items()}
    print(json.dumps({"wall": wall, "stages": stages, "rss": rss, "logs": logs, "heldout": held}))


def run_child(corpus: Path, size: int, workers: int, ray: bool, model: Path) -> dict:
    cmd = [PYTHON, __file__, "--child", str(corpus), "--size", str(size)]
    cmd += ["--workers", str(workers), "--model", str(model)] + (["--ray"] if ray else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gb", type=float, default=1.0, help="corpus size in GB (default 1)")
    ap.add_argument("--size", type=int, default=32000, help="vocabulary size")
    ap.add_argument("--workers", type=int, default=2, help="threads here, CPUs of the Ray")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "piecelab-bench")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--ray", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.size, args.workers, args.ray, args.model)
        return 0
    if data.missing_inputs():
        print("bench_cluster: ../shared is absent; nothing to measure")
        return 0
    corpus = build_corpus(args.gb, args.cache)
    gb = corpus.stat().st_size / 1e9
    with tempfile.TemporaryDirectory(prefix="piecelab-bench-cluster-") as tmp:
        # warm-up on a small corpus: numba's kernels compiled (here and in Ray's workers)
        # and cached, so neither timed run pays for compiling
        small = build_corpus(0.02, args.cache)
        for ray in (False, True):
            run_child(small, 2000, args.workers, ray, Path(tmp, "warm.model"))
        local_model, ray_model = Path(tmp, "local.model"), Path(tmp, "ray.model")
        local = run_child(corpus, args.size, args.workers, False, local_model)
        ray = run_child(corpus, args.size, args.workers, True, ray_model)
        same = local_model.read_bytes() == ray_model.read_bytes()
    ratio = ray["wall"] / local["wall"]
    print(f"cluster: {gb:.2f} GB, {args.size} pieces, {args.workers} workers")
    print(f"  {'':<8} {'wall s':>8} {'MB/s':>7} {'driver RSS':>11}  stages")
    for name, r in (("local", local), ("ray", ray)):
        stages = ", ".join(f"{k} {v}" for k, v in r["stages"].items())
        mbs = gb * 1000 / r["wall"]
        print(f"  {name:<8} {r['wall']:8.1f} {mbs:7.2f} {r['rss'] / 2**20:8.0f} MB  {stages}")
    verdict = "within" if ratio <= LIMIT else "OVER"
    print(f"  Ray / local: {ratio:.2f}× ({verdict} the {LIMIT}× target); models identical: {same}")
    print(f"  held-out bytes/token: local {local['heldout']}, ray {ray['heldout']}")
    for line in ray["logs"]:
        if "tasks, median" in line or "shard(s)" in line:
            print(f"  ray: {line}")
    if args.json:
        print(json.dumps({"gb": gb, "local": local, "ray": ray, "ratio": ratio, "same": same}))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
