"""The machinery of run.py: the worker process launcher and the measurement cache.

:class:`Worker` runs ``peers.py`` in the benchmark interpreter, one process per
measurement; :class:`Bench` schedules trainings and evaluations (interleaved
repeats, every result kept by key so the sections can share runs) and sums them up.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import bench_data as data

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEERS = ["piecelab", "bytepiece", "sp-unigram", "sp-bpe", "hf-bpe"]
LIST_TRAINERS = {"piecelab", "bytepiece"}  # train every size in one run
WORKERS = 2
# timed modes per tokenizer in the main grid (a mode a library lacks is n/a anyway)
GRID_MODES = {
    "piecelab": "encode,tokenize,sample,tokenize_sample,batch,batch1",
    "bytepiece": "encode,tokenize",
    "sp-unigram": "encode,tokenize,sample,tokenize_sample,batch,batch1",
    "sp-bpe": "encode,batch",
    "hf-bpe": "encode,batch",
}
T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


class Worker:
    """Runs ``peers.py`` in the benchmark interpreter, one process per measurement."""

    def __init__(self, python: str, workdir: Path) -> None:
        self.python = python
        self.workdir = workdir
        # the workers' stderr outlives the temporary workdir, for post-mortems
        self.log_path = HERE / ".cache" / "workers.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.stderr = open(self.log_path, "w", encoding="utf-8")  # noqa: SIM115
        key = hashlib.sha1(os.path.realpath(python).encode()).hexdigest()[:10]
        self.loads: list[float] = []  # 1-min load average before each measurement
        self.env = dict(os.environ)
        self.env.update(
            PYTHONPATH=str(REPO / "app"),
            PYTHONHASHSEED="0",
            TQDM_DISABLE="1",
            RAYON_NUM_THREADS=str(WORKERS),
            TOKENIZERS_PARALLELISM="true",
            NUMBA_CACHE_DIR=str(HERE / ".cache" / f"numba-{key}"),
        )

    def __call__(self, *args: str) -> dict:
        self.loads.append(os.getloadavg()[0])
        cmd = [self.python, str(HERE / "peers.py"), *args]
        self.stderr.write(f"$ {shlex.join(cmd)}\n")
        self.stderr.flush()
        proc = subprocess.run(
            cmd, env=self.env, stdout=subprocess.PIPE, stderr=self.stderr, text=True, check=False
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            return {"error": f"exit {proc.returncode}; see {self.log_path}"}
        return json.loads(lines[-1])


class Bench:
    def __init__(self, args, worker: Worker, peers: list[str]) -> None:
        self.args, self.worker, self.peers = args, worker, peers
        self.trains: dict[tuple, dict] = {}  # key -> {"runs": [...], "models": {...}}
        self.evals: dict[tuple, list[dict]] = {}
        self.failed: dict[str, str] = {}
        self.skipped: dict[str, str] = {}

    # ---------------------------------------------------------------- training
    def train(self, toks, max_bytes, targets, reps, reestimate=False) -> dict[str, dict]:
        """Train each tokenizer ``reps`` times, interleaved; returns tok -> {target: model}."""
        out: dict[str, dict] = {}
        for rep in range(reps):
            for tok in toks:
                if tok in self.failed:
                    continue
                if tok in LIST_TRAINERS:
                    jobs = [(tuple(targets), None)]
                else:  # the peer gets piecelab's final vocab_size for each target
                    pl = out.get("piecelab") or {}
                    jobs = [((pl[t]["vocab_size"],), t) for t in targets if t in pl]
                for sizes, target in jobs:
                    key = (tok, max_bytes, sizes, reestimate)
                    entry = self.trains.setdefault(key, {"runs": [], "models": None})
                    long = entry["runs"] and entry["runs"][0]["seconds"] > self.args.long_train
                    if len(entry["runs"]) <= rep and not (rep > 0 and long):
                        self._train_once(tok, key, entry, rep, reps)
                    if entry["models"] is None:
                        continue
                    models = out.setdefault(tok, {})
                    for size, m in entry["models"].items():
                        models[target if target is not None else int(size)] = dict(
                            m, train_key=list(key)
                        )
        return out

    def _train_once(self, tok, key, entry, rep, reps) -> None:
        _, max_bytes, sizes, reestimate = key
        name = f"{tok}-{max_bytes or 'all'}-{'_'.join(map(str, sizes))}" + (
            "-re" if reestimate else ""
        )
        keep = entry["models"] is None
        out = self.worker.workdir / ("models" if keep else "scratch") / name
        args = ["train", "--tok", tok, "--corpus", str(data.TRAIN_FILE), "--out", str(out)]
        args += ["--max-bytes", str(max_bytes), "--sizes", ",".join(map(str, sizes))]
        res = self.worker(*args, *(["--reestimate"] if reestimate else []))
        if not keep:
            shutil.rmtree(out, ignore_errors=True)
        if "error" in res:
            log(f"train {name} FAILED: {res['error']}")
            if keep:
                self.failed[tok] = f"training failed ({res['error']})"
            return
        entry["runs"].append(res)
        if keep:
            entry["models"] = res["models"]
        rss = res["rss_tree_peak_mb"]
        log(f"train {name} run {rep + 1}/{reps}: {res['seconds']:.1f} s, peak {rss:.0f} MB")

    # ---------------------------------------------------------------- evaluation
    def evaluate(self, jobs, reps) -> None:
        """``jobs``: (tok, model path, modes); run ``reps`` times, interleaved."""
        for rep in range(reps):
            for tok, path, modes in jobs:
                key = (tok, path, modes)
                runs = self.evals.setdefault(key, [])
                if len(runs) > rep:
                    continue
                args = ["eval", "--tok", tok, "--model", path, "--test", str(data.TEST_FILE)]
                args += ["--modes", modes, "--min-time", str(self.args.min_time)]
                res = self.worker(*args, *(["--check"] if rep == 0 else []))
                if "error" in res:
                    log(f"eval {tok} {Path(path).name} FAILED: {res['error']}")
                    res = {"error": res["error"]}
                runs.append(res)
                log(f"eval {tok} {Path(path).name} run {rep + 1}/{reps}{_eval_brief(res)}")

    def raw(self) -> dict:
        """Every run's own record (the tables show medians of these)."""
        return {
            "train": [
                {"key": list(k), "runs": v["runs"], "models": v["models"]}
                for k, v in self.trains.items()
            ],
            "eval": [
                {"tok": t, "model": p, "modes": m, "runs": runs}
                for (t, p, m), runs in self.evals.items()
            ],
        }

    def modes_evaluated(self, tok, path) -> str | None:
        """The modes of an evaluation already run on this model, to reuse it."""
        for t, p, modes in self.evals:
            if (t, p) == (tok, path):
                return modes
        return None

    def eval_summary(self, tok, path, modes) -> dict:
        runs = self.evals.get((tok, path, modes), [])
        ok = [r for r in runs if "error" not in r]
        if not ok:
            return {"error": runs[0]["error"] if runs else "not run"}
        first = ok[0]
        keys = ("vocab_size", "tokens", "bytes_per_token", "docs", "test_bytes")
        out = {k: first.get(k) for k in keys}
        out["roundtrip_failures"] = first.get("roundtrip_failures")
        out["eval_rss_mb"] = max(r["rss_mb"] for r in ok)
        for mode in modes.split(","):
            vals = [r[mode]["mb_s"] for r in ok if r.get(mode)]
            out[f"{mode}_mb_s"] = median(vals)
            out[f"{mode}_runs"] = vals
        return out

    def train_summary(self, key) -> dict:
        runs = self.trains.get(tuple(key), {}).get("runs", [])
        if not runs:
            return {}
        return {
            "train_seconds": median(r["seconds"] for r in runs),
            "train_runs": [r["seconds"] for r in runs],
            "train_rss_mb": max(r["rss_tree_peak_mb"] for r in runs),
            "train_rss_self_mb": max(r["rss_mb"] for r in runs),
            "train_rss_children_mb": max(r["rss_children_mb"] for r in runs),
            "train_pss_mb": max((r.get("pss_tree_peak_mb") or 0 for r in runs), default=0) or None,
            "train_sizes_in_run": list(key[2]),
            "corpus_bytes": runs[0]["corpus_bytes"],
            "corpus_docs": runs[0]["corpus_docs"],
        }


def _eval_brief(res: dict) -> str:
    if "error" in res:
        return ""
    parts = [f"{m} {res[m]['mb_s']:.2f} MB/s" for m in ("encode", "tokenize") if res.get(m)]
    if "bytes_per_token" in res:
        parts.insert(0, f"{res['bytes_per_token']:.3f} B/tok")
    return ": " + ", ".join(parts) if parts else ""
