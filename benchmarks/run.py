"""Reproduce every performance claim in one command: ``make bench`` (or ``bench-quick``).

piecelab is measured against BytePiece 0.6.3, SentencePiece 0.2 (Unigram, BPE) and
HF tokenizers (byte-level BPE) on the shared zh/en corpora.  Nothing is installed
into the product venv: the peers live in ``benchmarks/.benchenv`` (made on first
use; ``--env PYTHON`` uses another interpreter).  Every training and every
evaluation is its own process (``peers.py``), so peak RSS is per tokenizer and
per run; timings are medians over interleaved repeats.  The ``formats`` section
(``bench_formats.py``, one run) times each vocabulary kind ``piecelab.load`` opens
against its own library, in the product interpreter whose dependencies they are;
on its own (``--sections formats``) it also runs without ``../shared``, on the
sample corpus.  Results go to ``benchmarks/results/`` (``quick.json``/``full.json``,
``RESULTS.md``, PNG charts).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import bench_data as data
import bench_formats
import report
from bench_core import GRID_MODES, HERE, PEERS, WORKERS, Bench, Worker, log

RESULTS = HERE / "results"
SECTIONS = ("grid", "tokenize", "train", "formats")
SHARED_SECTIONS = {"grid", "tokenize", "train"}  # the sections that need ../shared
OPT_IN = ("cluster",)  # run only when named alone: --sections cluster (bench_cluster.py)
FULL = {
    "grid": (0, [8000, 16000, 32000, 64000]),
    "tokenize": (6_000_000, 20000),
    "train": (0, 32000),
    # training bytes, vocabulary, test bytes (0: all), seconds per timing
    "formats": bench_formats.FULL,
}
QUICK = {
    "grid": (2_000_000, [8000]),
    "tokenize": (2_000_000, 8000),
    "train": (2_000_000, 8000),
    "formats": bench_formats.QUICK,
}


# -------------------------------------------------------------------- sections
def run_grid(b: Bench, plan, reps, train_reps) -> list[dict]:
    max_bytes, targets = plan["grid"]
    models = b.train(b.peers, max_bytes, targets, train_reps)
    jobs = [
        (tok, models[tok][t]["path"], GRID_MODES[tok])
        for t in targets
        for tok in b.peers
        if t in models.get(tok, {})
    ]
    b.evaluate(jobs, reps)
    rows = []
    for t in targets:
        for tok in PEERS:
            row = {"target": t, "tok": tok}
            if tok not in b.peers or tok in b.failed or t not in models.get(tok, {}):
                row["skipped"] = b.failed.get(tok) or b.skipped.get(tok, "not run")
            else:
                m = models[tok][t]
                row.update(b.train_summary(m["train_key"]))
                row.update(b.eval_summary(tok, m["path"], GRID_MODES[tok]))
                row["vocab_size"] = row.get("vocab_size") or m["vocab_size"]
            rows.append(row)
    return rows


def run_tokenize(b: Bench, plan, reps, train_reps) -> dict:
    max_bytes, target = plan["tokenize"]
    toks = [t for t in ("piecelab", "sp-unigram") if t in b.peers]
    # what this section times is tokenizing; one training run suffices (cached if shared)
    models = b.train(toks, max_bytes, [target], 1)
    pl = models.get("piecelab", {}).get(target)
    if pl is None:
        return {"error": "piecelab did not train"}
    jobs = [("piecelab", pl["path"], GRID_MODES["piecelab"] + ",whole")]
    sp = models.get("sp-unigram", {}).get(target)
    if sp:
        jobs.append(("sp-unigram", sp["path"], GRID_MODES["sp-unigram"]))
    if "bytepiece" in b.peers:  # BytePiece on piecelab's own model file
        jobs.append(("bytepiece", pl["path"], "tokenize"))
    b.evaluate(jobs, reps)
    out = {"corpus_bytes_max": max_bytes, "target": target, "rows": {}}
    for tok, path, modes in jobs:
        name = "bytepiece (piecelab model)" if tok == "bytepiece" else tok
        row = b.eval_summary(tok, path, modes)
        if tok != "bytepiece":
            key = (pl if tok == "piecelab" else sp)["train_key"]
            row.update(b.train_summary(key))
        out["rows"][name] = row
    out["memory"] = run_memory(b, reps=1)
    return out


def run_memory(b: Bench, reps: int) -> dict:
    """Peak RSS of a process that loads the published 80k model and tokenizes the test file."""
    zpath = data.MODEL_80K
    with zipfile.ZipFile(zpath) as z:
        member = next(n for n in z.namelist() if n.endswith(".model"))
        extracted = b.worker.workdir / "bp80k" / Path(member).name
        if not extracted.exists():
            z.extract(member, extracted.parent)
            (extracted.parent / member).rename(extracted)
    toks = [("none", ""), ("piecelab", str(zpath))]
    if "bytepiece" in b.peers:
        toks.append(("bytepiece", str(extracted)))
    out: dict[str, list] = {}
    for _ in range(reps):
        for tok, path in toks:
            res = b.worker("memory", "--tok", tok, "--model", path, "--test", str(data.TEST_FILE))
            out.setdefault(tok, []).append(res)
            if "error" not in res:
                log(f"memory {tok}: peak {res['rss_mb']:.0f} MB")
    return {tok: runs[0] if len(runs) == 1 else runs for tok, runs in out.items()}


def run_train(b: Bench, plan, train_reps) -> dict:
    max_bytes, target = plan["train"]
    toks = [t for t in ("piecelab", "bytepiece", "sp-unigram") if t in b.peers]
    models = b.train(toks, max_bytes, [target], train_reps)
    re_reps = 1 if b.args.quick else train_reps  # quick: its held-out figure is the point
    re_models = b.train(["piecelab"], max_bytes, [target], re_reps, reestimate=True)
    rows = {}
    jobs = []
    named = [(t, t, models) for t in ("piecelab", "bytepiece", "sp-unigram")]
    for name, tok, ms in [*named, ("piecelab (reestimate)", "piecelab", re_models)]:
        m = ms.get(tok, {}).get(target)
        if m is None:
            rows[name] = {"skipped": b.failed.get(tok) or b.skipped.get(tok, "not run")}
            continue
        modes = b.modes_evaluated(tok, m["path"]) or "encode"
        jobs.append((tok, m["path"], modes))
        rows[name] = (m, tok, modes)
    b.evaluate(jobs, 1)
    for name, val in list(rows.items()):
        if isinstance(val, tuple):
            m, tok, modes = val
            row = {"vocab_size": m["vocab_size"]}
            row.update(b.train_summary(m["train_key"]))
            row.update(b.eval_summary(tok, m["path"], modes))
            rows[name] = row
    return {"corpus_bytes_max": max_bytes, "target": target, "rows": rows}


def run_formats(b: Bench) -> dict:
    """One row per vocabulary kind, by ``bench_formats.py`` in the product interpreter.

    The kinds' libraries (sentencepiece, tokenizers, tiktoken) are the product's
    own dependencies, so it runs where piecelab is installed; BytePiece, which
    only the benchmark interpreter has, is timed in a process of that one.
    """
    out = b.worker.workdir / "formats.json"
    cmd = [sys.executable, str(HERE / "bench_formats.py"), "--json", str(out)]
    if b.args.quick:
        cmd.append("--quick")
    if "bytepiece" in b.peers:
        cmd += ["--bytepiece-python", b.worker.python]
    else:
        cmd += ["--bytepiece-skip", b.skipped.get("bytepiece") or "skipped: not run"]
    log(f"formats: 7 models trained and 10 rows timed (progress in {b.worker.log_path})")
    b.worker.stderr.write(f"$ {shlex.join(cmd)}\n")
    b.worker.stderr.flush()
    env = dict(os.environ, PYTHONHASHSEED="0", TQDM_DISABLE="1")
    proc = subprocess.run(
        cmd, env=env, stdout=subprocess.PIPE, stderr=b.worker.stderr, text=True, check=False
    )
    if proc.returncode != 0 or not out.is_file():
        log(f"formats: failed (exit {proc.returncode}; see {b.worker.log_path})")
        return {"error": f"exit {proc.returncode}; see {b.worker.log_path}"}
    res = json.loads(out.read_text())
    for r in res["rows"]:
        if "skipped" in r:
            log(f"formats {r['kind']}: {r['skipped']}")
        else:
            log(
                f"formats {r['kind']}: piecelab {r['piecelab_mb_s']:.2f} MB/s, library "
                f"{r['library_mb_s']:.2f} MB/s, ids equal {r['equal']:,}/{r['docs']:,}"
            )
    return res


def formats_markdown(res: dict) -> str:
    if "error" in res:
        return f"### Formats\n\nnot measured: {res['error']}\n"
    return bench_formats.markdown(res)


# -------------------------------------------------------------------- main
def machine_info() -> dict:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kib / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory": mem, "platform": sys.platform}


def parse_args(argv):
    ap = argparse.ArgumentParser(description="piecelab benchmarks against its peers")
    ap.add_argument("--quick", action="store_true", help="2 MB slice, 8k only (< 3 min)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per timing (median)")
    ap.add_argument(
        "--train-repeats", type=int, default=None, help="training runs (default: --repeats)"
    )
    ap.add_argument(
        "--long-train",
        type=float,
        default=None,
        metavar="S",
        help="a training whose first run takes longer than S seconds is not repeated "
        "(default: every training runs --train-repeats times, as medians need)",
    )
    ap.add_argument("--min-time", type=float, default=None, help="seconds per throughput timing")
    ap.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"subset of {','.join(SECTIONS)}; a subset writes <mode>-<sections>.json/.md "
        "beside the complete run instead of replacing it; 'cluster' alone (opt-in, about "
        "20 minutes) trains 1 GB locally and on a local Ray (bench_cluster.py)",
    )
    ap.add_argument("--env", metavar="PYTHON", help="use this interpreter for the measurements")
    ap.add_argument("--peers", default=",".join(PEERS), help=f"subset of {','.join(PEERS)}")
    ap.add_argument("--rebuild-env", action="store_true", help="recreate benchmarks/.benchenv")
    ap.add_argument("--out", default=str(RESULTS), help="results folder")
    ap.add_argument(
        "--render",
        action="store_true",
        help="measure nothing: redo the markdown and charts from the existing JSON",
    )
    args = ap.parse_args(argv)
    args.train_repeats = args.train_repeats or args.repeats
    args.sections = [x.strip() for x in args.sections.split(",") if x.strip()]
    if args.sections == ["cluster"]:
        return args
    bad = sorted(set(args.sections) - set(SECTIONS))
    if bad or not args.sections:
        ap.error(f"--sections: choose from {', '.join(SECTIONS)} (got {', '.join(bad) or 'none'})")
    if args.long_train is None:
        args.long_train = float("inf")
    if args.min_time is None:
        args.min_time = 0.0 if args.quick else 1.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.sections == ["cluster"]:  # about 20 minutes: opt-in, its own report
        import bench_cluster

        return bench_cluster.main([])
    command = shlex.join([Path(sys.executable).name, "benchmarks/run.py", *(argv or sys.argv[1:])])
    mode = "quick" if args.quick else "full"
    if args.sections != list(SECTIONS):
        mode += "-" + "+".join(args.sections)
    if args.render:
        return render(Path(args.out), mode)
    missing = data.missing_inputs()
    if missing and SHARED_SECTIONS & set(args.sections):
        print(
            f"skipped: benchmark inputs are absent ({', '.join(map(str, missing))}); "
            "`--sections formats` runs without them, on the sample corpus"
        )
        return 0
    requested = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = sorted(set(requested) - set(PEERS))
    if unknown:
        print(f"unknown peers: {', '.join(unknown)} (choose from {', '.join(PEERS)})")
        return 2
    t_start = time.monotonic()
    env_info: dict = {}
    if args.env:
        python = args.env
        env_info = {"python": python, "created_seconds": None, "reused": True, "given": True}
    else:
        import benchenv

        env_info = benchenv.ensure_env(rebuild=args.rebuild_env, echo=log)
        python = env_info["python"]
        if env_info.get("reused"):
            log(
                f"benchmark environment: {python} (created earlier in "
                f"{env_info.get('created_seconds', 0):.0f} s)"
            )
    t_bench = time.monotonic()
    load_start = os.getloadavg()[0]
    if load_start > 1.0:
        log(
            f"warning: load average {load_start:.2f} on {os.cpu_count()} cores before starting; "
            "other processes are busy and the timings will be noisy"
        )
    workdir = Path(tempfile.mkdtemp(prefix="piecelab-bench-"))
    worker = Worker(python, workdir)
    versions = worker("versions")
    if "error" in versions:
        print(f"the benchmark interpreter {python} does not run the worker: {versions['error']}")
        return 1
    status = versions["peers"]
    peers, skipped = [], {}
    for p in PEERS:
        if p not in requested:
            skipped[p] = "skipped: not requested (--peers)"
        elif not status.get(p, {}).get("ok"):
            skipped[p] = f"skipped: not installed ({status.get(p, {}).get('error', '?')})"
        else:
            peers.append(p)
    if "piecelab" not in peers:
        print(f"piecelab does not import in {python}: {status.get('piecelab')}")
        return 1
    for p, why in skipped.items():
        log(f"{p}: {why}")
    bench = Bench(args, worker, peers)
    bench.skipped = skipped
    plan = QUICK if args.quick else FULL
    want = args.sections
    if SHARED_SECTIONS & set(want):  # the formats section warms its own, untimed
        log("warming piecelab's numba cache (untimed)")
        worker("warmup", "--corpus", str(data.TRAIN_FILE))
    try:
        grid = run_grid(bench, plan, args.repeats, args.train_repeats) if "grid" in want else []
        tokenize = (
            run_tokenize(bench, plan, args.repeats, args.train_repeats)
            if "tokenize" in want
            else {}
        )
        train = run_train(bench, plan, args.train_repeats) if "train" in want else {}
        formats = run_formats(bench) if "formats" in want else {}
    finally:
        shutil.rmtree(workdir / "scratch", ignore_errors=True)
    result = {
        "mode": mode,
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command,
        "machine": machine_info(),
        "versions": {k: v for k, v in versions.items() if k != "peers"},
        "peers": {p: status.get(p) for p in PEERS},
        "skipped": skipped,
        "env": env_info,
        "config": {
            "repeats": args.repeats,
            "train_repeats": args.train_repeats,
            "long_train_seconds": args.long_train if math.isfinite(args.long_train) else None,
            "min_time": args.min_time,
            "workers": WORKERS,
            "alpha": 0.1,
            "plan": plan,
            "sections": args.sections,
            "train_file": str(data.TRAIN_FILE),
            "test_file": str(data.TEST_FILE),
        },
        "load": {
            "start": load_start,
            "end": os.getloadavg()[0],
            "max_before_measurement": max(worker.loads, default=0.0),
        },
        "grid": grid,
        "tokenize": tokenize,
        "train": train,
        "formats": formats,
        "raw": bench.raw(),
        "bench_seconds": round(time.monotonic() - t_bench, 1),
        "total_seconds": round(time.monotonic() - t_start, 1),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{mode}.json").write_text(json.dumps(result, indent=1))
    render(out, mode)
    log(f"done: measurements {result['bench_seconds']:.0f} s; results in {out}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def render(out: Path, mode: str) -> int:
    """Markdown (printed and saved), charts and RESULTS.md from ``<out>/<mode>.json``."""
    src = out / f"{mode}.json"
    if not src.is_file():
        print(f"no {src} to render")
        return 1
    res = json.loads(src.read_text())
    md = report.markdown(res)
    if res.get("formats"):
        md = md.rstrip("\n") + "\n\n" + formats_markdown(res["formats"])
    (out / f"{mode}.md").write_text(md)
    print(md)
    charts(src, out)
    report.combine(out)
    return 0


def charts(json_path: Path, out: Path) -> None:
    """PNG charts with pyqtgraph, in the product interpreter (offscreen Qt)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    cmd = [sys.executable, str(HERE / "charts.py"), str(json_path), str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        print("charts not written: " + " | ".join(tail))
    else:
        print(proc.stdout.strip())


if __name__ == "__main__":
    sys.exit(main())
