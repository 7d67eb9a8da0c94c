"""The analysis features against their "feels live" budgets (issue 17), one table.

* the per-script cost report of the shared test file (1.5 MB), budget 1 s;
* boundary marginals of a 5 KB paragraph (the playground's strip), budget 16 ms,
  next to ``log_partition`` (the forward pass alone) as the peer in the same run;
* the continuation check at one cut of that paragraph;
* the vocabulary diff of the 80k model against the bundled 8k one.

Medians of repeated runs after one warm-up (the kernels compiled).  Run:
``python benchmarks/bench_analysis.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_data as data


def _median_ms(fn, runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main() -> int:
    from piecelab import Tokenizer
    from piecelab.engine import cost_report, diff_vocabularies, load
    from piecelab.paths import sample_model_path

    if data.missing_inputs():
        print("skipped: ../shared is absent", file=sys.stderr)
        return 0
    tok = Tokenizer(str(data.MODEL_80K))
    docs = data.read_docs(data.TEST_FILE)
    paragraph = ""
    for d in docs:
        paragraph += d
        if len(paragraph.encode()) >= 5120:
            break
    paragraph = paragraph.encode()[:5120].decode("utf-8", "ignore")
    cut = len(paragraph.encode()) // 2
    small, big = load(sample_model_path()), load(data.MODEL_80K)
    marg = lambda: tok.boundary_marginals(paragraph, 0.3)  # noqa: E731
    forward = lambda: tok.log_partition(paragraph, 0.3)  # noqa: E731
    report = lambda: cost_report(tok, docs)  # noqa: E731
    rows = [
        ("cost report by script, 1.5 MB (budget 1,000 ms)", _median_ms(report, 3)),
        ("boundary marginals, 5 KB, α=0.3 (budget 16 ms)", _median_ms(marg, 50)),
        ("  peer: log_partition, 5 KB, α=0.3", _median_ms(forward, 50)),
        ("continuation check, 5 KB", _median_ms(lambda: tok.continuation(paragraph, cut, 0.3), 50)),
        ("diff 80k vs bundled 8k", _median_ms(lambda: diff_vocabularies(big, small), 5)),
    ]  # fmt: skip
    print("| figure | median ms |\n| --- | ---: |")
    for name, ms in rows:
        print(f"| {name} | {ms:,.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
