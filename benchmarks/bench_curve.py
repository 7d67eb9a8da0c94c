"""The cost of a compression curve: a ``--curve 12`` run's wall time against a
single-size run's (issue 17 item 5: at most 1.5×).

``.venv/bin/python benchmarks/bench_curve.py [--mb 20] [--size 32000]``: trains on the
first MB of the shared training corpus, 1% held out (the CLI's default), once
without and once with the curve, after a warm-up run on a 2 MB slice (numba
kernels compiled, tables grown once), and prints both times, the stages' times and
their ratio; ``--json`` prints them as one JSON object.  Timings on a shared
machine are noisy: ``--repeats R`` alternates the order and keeps each one's best.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_data as data

from piecelab.engine import TrainSettings

LIMIT = 1.5  # the bound on the ratio


def timed_run(docs: list[str], settings: TrainSettings, heldout: float):
    """(seconds, trainer, {stage: seconds}) of one run; the stages also hold the CPU
    seconds of all threads ("cpu"), which other work on the machine disturbs less."""
    from piecelab.engine import StageDone

    trainer = settings.trainer()
    stages: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    for ev in trainer.run(docs, workers=settings.workers, heldout=heldout):
        if isinstance(ev, StageDone):
            stages[ev.stage] = round(ev.elapsed, 2)
    stages["cpu"] = round(time.process_time() - c0, 2)
    return time.perf_counter() - t0, trainer, stages


def best_of(docs, plain: TrainSettings, curve: TrainSettings, heldout: float, repeats: int):
    """The best time of each (order alternating), their trainers and stage times."""
    best: dict[str, tuple] = {}
    for rep in range(repeats):
        pair = [("single", plain), ("curve", curve)]
        for name, settings in pair if rep % 2 == 0 else pair[::-1]:
            run = timed_run(docs, settings, heldout)
            if name not in best or run[0] < best[name][0]:
                best[name] = run
    return best["single"], best["curve"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=20.0, help="training megabytes (default 20)")
    ap.add_argument("--size", type=int, default=32000, help="vocabulary size (default 32000)")
    ap.add_argument("--curve", type=int, default=12, help="curve points (default 12)")
    ap.add_argument("--heldout", type=float, default=0.01, help="held-out share (default 0.01)")
    ap.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    ap.add_argument("--repeats", type=int, default=1, help="runs of each (default 1)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    if not data.TRAIN_FILE.is_file():
        print(f"missing {data.TRAIN_FILE}", file=sys.stderr)
        return 2
    docs = data.read_docs(data.TRAIN_FILE, int(args.mb * 1e6))
    single = TrainSettings(vocab_sizes=(args.size,), workers=args.workers)
    warm = data.read_docs(data.TRAIN_FILE, 2_000_000)
    timed_run(warm, single.replace(vocab_sizes=(8000,), curve=3), args.heldout)
    curved = single.replace(curve=args.curve)
    (plain_s, plain, plain_stages), (curve_s, curve, curve_stages) = best_of(
        docs, single, curved, args.heldout, max(1, args.repeats)
    )
    same = dict(curve.curve)[args.size] == plain.result.heldout_bytes_per_token[args.size]
    out = {
        "corpus_bytes": data.utf8_size(docs),
        "size": args.size,
        "workers": args.workers,
        "single_seconds": round(plain_s, 2),
        "curve_seconds": round(curve_s, 2),
        "ratio": round(curve_s / plain_s, 3),
        "cpu_ratio": round(curve_stages["cpu"] / plain_stages["cpu"], 3),
        "single_stages": plain_stages,
        "curve_stages": curve_stages,
        "limit": LIMIT,
        "same_figure_at_size": same,
        "curve": [{"size": s, "bytes_per_token": round(b, 4)} for s, b in curve.curve],
    }
    if args.json:
        print(json.dumps(out))
    else:
        print(
            f"{out['corpus_bytes'] / 1e6:.1f} MB, size {args.size:,}, {args.workers} workers: "
            f"single {plain_s:.1f} s, --curve {args.curve} {curve_s:.1f} s, "
            f"ratio {out['ratio']:.2f} (limit {LIMIT}; CPU time {out['cpu_ratio']:.2f}); "
            f"same figure at {args.size:,}: {same}"
        )
        print(f"  stages, single: {plain_stages}\n  stages, curve:  {curve_stages}")
        for p in out["curve"]:
            print(f"  {p['size']:>7,}  {p['bytes_per_token']:.4f}")
    return 0 if out["ratio"] <= LIMIT and same else 1


if __name__ == "__main__":
    sys.exit(main())
