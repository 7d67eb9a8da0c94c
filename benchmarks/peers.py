"""Benchmark worker: one measurement per process, one JSON line on stdout.

Runs in the benchmark interpreter (``benchmarks/.benchenv`` or ``--env``), with
piecelab taken from the source tree through ``PYTHONPATH``.  Every call is a
fresh process, so ``ru_maxrss`` is the peak of that one tokenizer and run.

    peers.py versions
    peers.py warmup --corpus F
    peers.py train  --tok NAME --corpus F [--max-bytes N] --sizes 8000,16000 --out DIR
    peers.py eval   --tok NAME --model PATH --test F --modes encode,batch,sample [--check]
    peers.py memory --tok NAME --model PATH --test F
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import threading
import time
from pathlib import Path

from adapters import ADAPTERS, peer_versions
from bench_data import read_docs, utf8_size

ALPHA = 0.1
WORKERS = 2


def rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(who).ru_maxrss / 1024.0


def current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


class TreeRss:
    """Samples the summed RSS of this process and its descendants (BytePiece trains
    in a multiprocessing pool, whose memory ``RUSAGE_SELF`` does not see)."""

    def __init__(self, period: float = 0.05) -> None:
        self.period = period
        self.peak = 0.0
        self.peak_pss = 0.0  # proportional set size: pages shared after fork counted once
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _tree_kib() -> tuple[int, int]:
        """(summed RSS, summed PSS) in KiB of this process and its descendants."""
        me = os.getpid()
        parent: dict[int, int] = {}
        rss: dict[int, int] = {}
        page_kib = os.sysconf("SC_PAGE_SIZE") // 1024
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rfind(b")") + 2 :].split()
            parent[int(d)] = int(fields[1])
            rss[int(d)] = int(fields[21]) * page_kib
        total = pss = 0
        for pid in rss:
            p, hops = pid, 0
            while p and p != me and hops < 64:
                p, hops = parent.get(p, 0), hops + 1
            if p == me:
                total += rss[pid]
                pss += _pss_kib(pid, rss[pid])
        return total, pss

    def _sample(self) -> None:
        rss, pss = self._tree_kib()
        self.peak = max(self.peak, rss / 1024.0)
        self.peak_pss = max(self.peak_pss, pss / 1024.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.period)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def _pss_kib(pid: int, fallback: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return fallback


# ------------------------------------------------------------------ commands
def cmd_versions(args) -> dict:
    import numpy

    out = {
        "python": platform.python_version(),
        "executable": sys.executable,
        "numpy": numpy.__version__,
        "peers": peer_versions(),
    }
    try:
        import numba

        out["numba"] = numba.__version__
    except ImportError as exc:
        out["numba"] = f"missing ({exc})"
    return out


def cmd_train(args) -> dict:
    docs = read_docs(args.corpus, args.max_bytes)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    adapter = ADAPTERS[args.tok]
    trainer = adapter.trainer(sizes, WORKERS, reestimate=args.reestimate)
    trainer.prepare(docs, out_dir)
    rss_before = rss_mb()
    with TreeRss() as tree:
        t0 = time.perf_counter()
        trainer.train(docs)
        seconds = time.perf_counter() - t0
    models = trainer.save(out_dir)
    return {
        "tok": args.tok,
        "seconds": seconds,
        "corpus_docs": len(docs),
        "corpus_bytes": utf8_size(docs),
        "workers": WORKERS,
        "sizes": sizes,
        "models": {str(k): v for k, v in models.items()},
        "rss_mb": rss_mb(),
        "rss_before_train_mb": rss_before,
        "rss_children_mb": rss_mb(resource.RUSAGE_CHILDREN),
        "rss_tree_peak_mb": tree.peak,
        "pss_tree_peak_mb": tree.peak_pss,
    }


def throughput(fn, docs: list[str], nbytes: int, min_time: float) -> dict:
    """Whole passes over ``docs`` until ``min_time`` has passed; MB/s of UTF-8."""
    passes, elapsed = 0, 0.0
    while passes == 0 or elapsed < min_time:
        t0 = time.perf_counter()
        fn(docs)
        elapsed += time.perf_counter() - t0
        passes += 1
    return {"mb_s": nbytes * passes / elapsed / 1e6, "passes": passes, "seconds": elapsed}


def cmd_eval(args) -> dict:
    docs = read_docs(args.test)
    nbytes = utf8_size(docs)
    adapter = ADAPTERS[args.tok]
    t0 = time.perf_counter()
    tok = adapter.load(args.model)
    load_s = time.perf_counter() - t0
    out: dict = {"tok": args.tok, "load_seconds": load_s, "test_bytes": nbytes, "docs": len(docs)}
    out["vocab_size"] = tok.vocab_size()
    if args.check:
        n_tokens, bad, first_bad = 0, 0, None
        for i, d in enumerate(docs):
            ids = tok.encode(d)
            n_tokens += len(ids)
            if tok.decode(ids) != d:
                bad += 1
                first_bad = i if first_bad is None else first_bad
        out.update(tokens=n_tokens, bytes_per_token=nbytes / max(n_tokens, 1))
        out.update(roundtrip_failures=bad, first_failure=first_bad)
    warm = docs[:200]
    for mode in args.modes.split(","):
        fn = tok.mode(mode, ALPHA, WORKERS)
        if fn is None:
            out[mode] = None
            continue
        fn(warm)  # compile / warm caches outside the timing
        out[mode] = throughput(fn, docs, nbytes, args.min_time)
    out["rss_mb"] = rss_mb()
    return out


def cmd_warmup(args) -> dict:
    """Compile (and cache) piecelab's numba kernels: a tiny training and every mode."""
    import tempfile

    docs = read_docs(args.corpus, 300_000)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        trainer = ADAPTERS["piecelab"].trainer([2000, 1000], WORKERS)
        trainer.train(docs)
        models = trainer.save(Path(tmp))
        tok = ADAPTERS["piecelab"].load(models[1000]["path"])
        for mode in ("encode", "tokenize", "sample", "tokenize_sample", "batch", "batch1"):
            tok.mode(mode, ALPHA, WORKERS)(docs[:300])
    return {"seconds": time.perf_counter() - t0}


def cmd_memory(args) -> dict:
    docs = read_docs(args.test)
    adapter = ADAPTERS[args.tok] if args.tok != "none" else None
    adapter_import = adapter.import_module() if adapter else None
    del adapter_import
    base = current_rss_mb()
    t0 = time.perf_counter()
    if adapter is not None:
        tok = adapter.load(args.model)
        load_s = time.perf_counter() - t0
        after_load = current_rss_mb()
        tok.mode("tokenize", ALPHA, WORKERS)(docs)
    else:
        load_s, after_load = 0.0, base
    return {
        "tok": args.tok,
        "rss_after_import_mb": base,
        "rss_after_load_mb": after_load,
        "rss_mb": rss_mb(),
        "load_seconds": load_s,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("versions")
    sub.add_parser("warmup").add_argument("--corpus", required=True)
    tr = sub.add_parser("train")
    tr.add_argument("--tok", required=True, choices=sorted(ADAPTERS))
    tr.add_argument("--corpus", required=True)
    tr.add_argument("--max-bytes", type=int, default=0)
    tr.add_argument("--sizes", required=True)
    tr.add_argument("--out", required=True)
    tr.add_argument("--reestimate", action="store_true")
    ev = sub.add_parser("eval")
    ev.add_argument("--tok", required=True, choices=sorted(ADAPTERS))
    ev.add_argument("--model", required=True)
    ev.add_argument("--test", required=True)
    ev.add_argument("--modes", default="encode")
    ev.add_argument("--min-time", type=float, default=1.0)
    ev.add_argument("--check", action="store_true")
    me = sub.add_parser("memory")
    me.add_argument("--tok", required=True, choices=[*sorted(ADAPTERS), "none"])
    me.add_argument("--model", default="")
    me.add_argument("--test", required=True)
    args = ap.parse_args(argv)
    fn = {
        "versions": cmd_versions,
        "warmup": cmd_warmup,
        "train": cmd_train,
        "eval": cmd_eval,
        "memory": cmd_memory,
    }
    result = fn[args.cmd](args)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
