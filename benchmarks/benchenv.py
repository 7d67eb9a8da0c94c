"""The benchmark interpreter: a venv of its own, never the product's.

The peers (BytePiece, SentencePiece, HF tokenizers) and their build tools go into
``benchmarks/.benchenv``; the product venv stays exactly as ``make env`` left it.
piecelab itself runs there from the source tree (``PYTHONPATH=<repo>/app``) and
needs only numpy and numba.  A step that fails is recorded and its peer skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENV_DIR = HERE / ".benchenv"
STAMP = ENV_DIR / ".bench-env.json"
LOG = ENV_DIR / "install.log"

# (name, pip arguments, extra environment); each is one pip call, tried once
STEPS: list[tuple[str, list[str], dict[str, str]]] = [
    ("base", ["numpy", "numba", "zstandard", "tqdm", "Cython", "setuptools", "wheel"], {}),
    (
        "pyahocorasick",
        ["--no-binary", "pyahocorasick", "pyahocorasick"],
        {"AHOCORASICK_BYTES": "1"},
    ),
    ("bytepiece", ["--no-build-isolation", "bytepiece==0.6.3"], {}),
    ("sentencepiece", ["sentencepiece>=0.2,<0.3"], {}),
    ("tokenizers", ["tokenizers>=0.23,<0.24"], {}),
]
# if the pinned series is not available, take whatever pip resolves (and record it)
FALLBACK = {"sentencepiece": ["sentencepiece"], "tokenizers": ["tokenizers"]}


def python_of(env_dir: Path) -> Path:
    return env_dir / "bin" / "python"


def _pip(py: Path, args: list[str], extra_env: dict[str, str], log) -> bool:
    env = dict(os.environ, **extra_env)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    cmd = [str(py), "-m", "pip", "install", "--quiet", *args]
    log.write(f"$ {' '.join(f'{k}={v}' for k, v in extra_env.items())} {' '.join(cmd)}\n")
    log.flush()
    proc = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    return proc.returncode == 0


def ensure_env(rebuild: bool = False, echo=print) -> dict:
    """Create (or reuse) ``benchmarks/.benchenv``; returns its stamp (python, steps, seconds)."""
    if STAMP.is_file() and not rebuild:
        stamp = json.loads(STAMP.read_text())
        if python_of(ENV_DIR).exists():
            stamp["reused"] = True
            return stamp
    t0 = time.monotonic()
    echo(f"creating the benchmark environment in {ENV_DIR} (first use; a few minutes)...")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--clear", str(ENV_DIR)], check=True)
    py = python_of(ENV_DIR)
    steps: dict[str, dict] = {}
    with open(LOG, "w", encoding="utf-8") as log:
        for name, args, extra in STEPS:
            t = time.monotonic()
            ok = _pip(py, args, extra, log)
            if not ok and name in FALLBACK:
                ok = _pip(py, FALLBACK[name], extra, log)
            steps[name] = {"ok": ok, "seconds": round(time.monotonic() - t, 1)}
            echo(f"  {name:14s} {'ok' if ok else 'FAILED (see ' + str(LOG) + ')'}")
            if name == "base" and not ok:
                raise RuntimeError(f"could not install numpy/numba into {ENV_DIR}; see {LOG}")
    stamp = {
        "python": str(py),
        "steps": steps,
        "created_seconds": round(time.monotonic() - t0, 1),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    STAMP.write_text(json.dumps(stamp, indent=2))
    stamp["reused"] = False
    echo(f"benchmark environment ready in {stamp['created_seconds']:.0f} s")
    return stamp


if __name__ == "__main__":
    print(json.dumps(ensure_env(rebuild="--rebuild" in sys.argv), indent=2))
