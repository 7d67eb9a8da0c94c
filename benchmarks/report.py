"""Markdown tables from a benchmark result (the dict that run.py writes as JSON).

Ratio columns read "× piecelab": how many times better piecelab is than that row
(> 1: piecelab wins): peer time / piecelab time, piecelab speed / peer speed,
piecelab bytes per token / peer bytes per token.
"""

from __future__ import annotations

import math
from pathlib import Path

LABELS = {
    "piecelab": "piecelab",
    "bytepiece": "BytePiece 0.6.3",
    "sp-unigram": "SentencePiece Unigram",
    "sp-bpe": "SentencePiece BPE",
    "hf-bpe": "HF byte-level BPE",
}
GRID_HEADER = (
    "| size | tokenizer | vocab | train s | train peak RSS MB | bytes/token | round trip "
    "| encode MB/s | batch MB/s | sample MB/s "
    "| × train time | × bytes/token | × encode | × batch | × sample |"
)


def num(x, digits: int = 2) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, int) or (isinstance(x, float) and abs(x) >= 1000):
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def ratio(a, b, digits: int = 2) -> str:
    """a / b as '1.23×' (n/a when either side is missing)."""
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.{digits}f}×"


def _label(tok: str) -> str:
    return LABELS.get(tok, tok)


def _roundtrip(row: dict) -> str:
    bad = row.get("roundtrip_failures")
    if bad is None:
        return "n/a"
    return "lossless" if bad == 0 else f"**{bad} docs fail**"


def _load(res: dict) -> str:
    load = res.get("load") or {}
    if not load:
        return "n/a"
    return (
        f"{load['start']:.2f} at start, {load['end']:.2f} at end, up to "
        f"{load['max_before_measurement']:.2f} before a measurement (these include the "
        "benchmark's own processes)"
    )


def _train_seconds(r: dict, res: dict) -> str:
    """Median training time, flagged when the run was long enough to be done only once."""
    runs = r.get("train_runs") or []
    text = num(r.get("train_seconds"), 1)
    if 0 < len(runs) < res["config"]["train_repeats"]:
        text += f" ({len(runs)} run{'s' if len(runs) > 1 else ''})"
    return text


def _versions(res: dict) -> str:
    names = {"piecelab": "piecelab", "bytepiece": "BytePiece", "sp-unigram": "SentencePiece"}
    names["hf-bpe"] = "tokenizers"
    parts = [
        f"{names[p]} {v['version']}"
        for p, v in res["peers"].items()
        if p in names and v and v.get("ok")
    ]
    v = res["versions"]
    parts += [f"Python {v.get('python')}", f"numpy {v.get('numpy')}", f"numba {v.get('numba')}"]
    return ", ".join(parts)


def header(res: dict) -> list[str]:
    m, c = res["machine"], res["config"]
    plan = c["plan"]
    gbytes = plan["grid"][0]
    corpus = "all of" if not gbytes else f"the first {gbytes / 1e6:g} MB of"
    env = res.get("env") or {}
    made = env.get("created_seconds")
    env_note = (
        f"`{env.get('python')}`"
        + (" (given with --env)" if env.get("given") else "")
        + (f", created in {made:.0f} s" if made and not env.get("reused") else "")
        + (f" (created earlier in {made:.0f} s)" if made and env.get("reused") else "")
    )
    busy = (res.get("load") or {}).get("start", 0) > 1.0
    return [
        f"## {res['mode']} run — {res['date']}",
        "",
        f"- command: `{res['command']}`",
        f"- machine: {m['nproc']} cores, {m['cpu']}, {m['memory']}",
        f"- versions: {_versions(res)}",
        f"- benchmark interpreter: {env_note}",
        f"- training (grid): {corpus} `{Path(c['train_file']).name}`; evaluation: all of "
        f"`{Path(c['test_file']).name}`; {c['workers']} workers/threads everywhere; "
        f"timings are medians of {c['repeats']} interleaved runs "
        f"({c['train_repeats']} for training); sampling α = {c['alpha']}",
        f"- measurements took {res['bench_seconds']:.0f} s (the whole command "
        f"{res.get('total_seconds', 0):.0f} s); load average (1 min) "
        f"{_load(res)}" + (" — **other processes were busy: timings are noisy**" if busy else ""),
        "",
    ]


def grid_table(res: dict) -> list[str]:
    rows = res["grid"]
    lines = ["### Train, compress, encode (all tokenizers)", "", GRID_HEADER]
    lines.append("|" + " --- |" * (GRID_HEADER.count("|") - 1))
    base = {r["target"]: r for r in rows if r["tok"] == "piecelab" and "skipped" not in r}
    listed = False
    for r in rows:
        t = r["target"]
        if "skipped" in r:
            why = r["skipped"]
            word = why if why.startswith(("skipped", "failed")) else f"skipped: {why}"
            lines.append(f"| {t:,} | {_label(r['tok'])} | {word} |" + " |" * 12)
            continue
        p = base.get(t, {})
        many = len(r.get("train_sizes_in_run", [])) > 1
        listed |= many
        tsec = _train_seconds(r, res) + ("\\*" if many else "")
        lines.append(
            "| "
            + " | ".join(
                [
                    f"{t:,}",
                    _label(r["tok"]),
                    num(r.get("vocab_size")),
                    tsec,
                    num(r.get("train_rss_mb"), 0),
                    num(r.get("bytes_per_token"), 3),
                    _roundtrip(r),
                    num(r.get("encode_mb_s")),
                    num(r.get("batch_mb_s")),
                    num(r.get("sample_mb_s")),
                    ratio(r.get("train_seconds"), p.get("train_seconds")),
                    ratio(p.get("bytes_per_token"), r.get("bytes_per_token"), 3),
                    ratio(p.get("encode_mb_s"), r.get("encode_mb_s")),
                    ratio(p.get("batch_mb_s"), r.get("batch_mb_s")),
                    ratio(p.get("sample_mb_s"), r.get("sample_mb_s")),
                ]
            )
            + " |"
        )
    lines.append("")
    if listed:
        lines.append(
            "\\* one run trains every size (piecelab and BytePiece take a list of sizes): "
            "the time is that whole run, repeated for each size, so the train-time "
            "ratio compares one multi-size run with one single-size run of the peer."
        )
    long = res["config"].get("long_train_seconds")
    repeat_note = (
        f"A training whose first run took more than {num(long, 0)} s is not repeated "
        "(`--long-train`; its run count is shown). "
        if long is not None and math.isfinite(long)
        else ""
    )
    lines.append(
        f"{repeat_note}The reestimate run of --quick is run once: its held-out figure is "
        "the point. encode: one call per document, ids out, one thread. batch: piecelab "
        "`tokenize_batch(workers=2)`, SentencePiece `encode(list, num_threads=2)`, HF "
        "`encode_batch` (RAYON_NUM_THREADS=2). sample: one call per document at α = 0.1 "
        "(Unigram models only). Peak RSS of training is summed over the process and its "
        "workers (BytePiece forks 2; shared pages counted in each: an upper bound)."
    )
    lines.append("")
    return lines


def tokenize_table(res: dict) -> list[str]:
    sec = res.get("tokenize") or {}
    if "rows" not in sec:
        return [f"### Tokenize: {sec.get('error', 'not run')}", ""]
    rows = sec["rows"]
    pl = rows.get("piecelab", {})
    sp = rows.get("sp-unigram", {})
    bp = rows.get("bytepiece (piecelab model)", {})
    src = (
        "the whole train file"
        if not sec["corpus_bytes_max"]
        else (f"the first {sec['corpus_bytes_max'] / 1e6:g} MB of the train file")
    )
    lines = [
        f"### Tokenize (issue targets): models trained on {src}, target {sec['target']:,} pieces",
        "",
        "| measurement | piecelab | peer | × piecelab |",
        "| --- | --- | --- | --- |",
    ]

    def row(what, a, b, r=None):
        lines.append(f"| {what} | {a} | {b} | {r if r is not None else ''} |")

    def versus(what, a, b):
        """A row of two speeds and their ratio."""
        row(what, num(a), num(b), ratio(a, b))

    pt = pl.get("tokenize_mb_s")
    row(
        "vocabulary size (piecelab / SentencePiece)",
        num(pl.get("vocab_size")),
        num(sp.get("vocab_size")),
    )
    row(
        "held-out bytes/token (piecelab / SentencePiece Unigram)",
        num(pl.get("bytes_per_token"), 3),
        num(sp.get("bytes_per_token"), 3),
        ratio(pl.get("bytes_per_token"), sp.get("bytes_per_token"), 3),
    )
    versus(
        "1 thread MB/s: piecelab tokenize() (bytes) / SentencePiece encode() (ids)",
        pt,
        sp.get("encode_mb_s"),
    )
    pe = pl.get("encode_mb_s")
    versus(
        "1 thread MB/s: piecelab encode() (ids) / SentencePiece encode() (ids)",
        pe,
        sp.get("encode_mb_s"),
    )
    versus(
        "1 thread MB/s: piecelab tokenize() / SentencePiece encode(out_type=str)",
        pt,
        sp.get("tokenize_mb_s"),
    )
    versus(
        "1 thread MB/s: piecelab tokenize() / BytePiece 0.6.3 tokenize(), same model",
        pt,
        bp.get("tokenize_mb_s"),
    )
    pw = pl.get("whole_mb_s")
    if pw and pt and pl.get("docs") and pl.get("test_bytes"):
        per_call = (1 / pt - 1 / pw) * pl["test_bytes"] / 1e6 / pl["docs"] * 1e6
        versus(
            "1 thread MB/s: piecelab tokenize() of the whole file in one call / one call "
            f"per document ({num(pl['docs'])} documents; time difference per document "
            f"{num(per_call)} µs)",
            pw,
            pt,
        )
    if bp.get("tokens") is not None and pl.get("tokens") is not None:
        same = "identical" if bp["tokens"] == pl["tokens"] else "DIFFERENT"
        row(
            "token count on the test file, piecelab / BytePiece on the same model",
            num(pl["tokens"]),
            num(bp["tokens"]),
            same,
        )
    ps = pl.get("tokenize_sample_mb_s")
    versus(
        "sampling α=0.1 MB/s: piecelab tokenize(α) / SentencePiece encode(sampling)",
        ps,
        sp.get("tokenize_sample_mb_s"),
    )
    slow = pt / ps if pt and ps else None
    row(
        "piecelab decoding / sampling time (target ≤ 1.5)",
        num(pt),
        num(ps),
        f"{num(slow)} ({'met' if slow and slow <= 1.5 else 'NOT met'})",
    )
    b1, b2 = pl.get("batch1_mb_s"), pl.get("batch_mb_s")
    versus("piecelab tokenize_batch MB/s, workers=2 / workers=1", b2, b1)
    versus(
        "SentencePiece encode(list) MB/s, 2 threads / 1 thread",
        sp.get("batch_mb_s"),
        sp.get("batch1_mb_s"),
    )
    mem = sec.get("memory") or {}

    def memo(who: str, key: str):
        return (mem.get(who) or {}).get(key)

    base, mp, mb = (memo(who, "rss_mb") for who in ("none", "piecelab", "bytepiece"))
    row(
        f"peak RSS MB, load 80k model + tokenize test file (bare Python: {num(base, 0)})",
        num(mp, 0),
        num(mb, 0),
        ratio(mb, mp),
    )
    ip, ib = memo("piecelab", "rss_after_import_mb"), memo("bytepiece", "rss_after_import_mb")
    row(
        "  of which: RSS after importing the library (numpy, numba / Cython)",
        num(ip, 0),
        num(ib, 0),
    )
    dp, db = (mp - ip if mp and ip else None), (mb - ib if mb and ib else None)
    row(
        "  of which: model + tokenizing (peak − after import)",
        num(dp, 0),
        num(db, 0),
        ratio(db, dp),
    )
    lp, lb = memo("piecelab", "load_seconds"), memo("bytepiece", "load_seconds")
    row(
        "load time of the 80k model, s (piecelab zip / BytePiece .model)",
        num(lp),
        num(lb),
        ratio(lb, lp),
    )
    lines += ["", "peer = SentencePiece 0.2 Unigram unless the row names BytePiece.", ""]
    return lines


def train_table(res: dict) -> list[str]:
    sec = res.get("train") or {}
    rows = sec.get("rows", {})
    src = (
        "the whole train file"
        if not sec.get("corpus_bytes_max")
        else (f"the first {sec['corpus_bytes_max'] / 1e6:g} MB of the train file")
    )
    lines = [
        f"### Train (issue targets): {src}, order 6, target {sec.get('target', 0):,} pieces, "
        "min_count 2, 2 workers",
        "",
        "| tokenizer | vocab | train s | × train time | peak RSS MB | peak PSS MB "
        "| held-out bytes/token |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    p = rows.get("piecelab", {})
    for name, r in rows.items():
        if "skipped" in r:
            lines.append(f"| {_label(name)} | {r['skipped']} | | | | | |")
            continue
        lines.append(
            f"| {_label(name)} | {num(r.get('vocab_size'))} | {_train_seconds(r, res)} "
            f"| {ratio(r.get('train_seconds'), p.get('train_seconds'))} "
            f"| {num(r.get('train_rss_mb'), 0)} | {num(r.get('train_pss_mb'), 0)} "
            f"| {num(r.get('bytes_per_token'), 3)} |"
        )
    lines += [
        "",
        "Peak RSS sums the resident memory of the training process and its workers; "
        "BytePiece's workers are forked and share pages with their parent, which that sum "
        "counts twice, so PSS (shared pages split between processes) is shown as well.",
    ]
    bp = rows.get("bytepiece", {})
    if bp.get("train_seconds") and p.get("train_seconds"):
        x = bp["train_seconds"] / p["train_seconds"]
        verdict = "met" if x >= 20 else "NOT met"
        lines += [
            "",
            f"BytePiece / piecelab training time: **{x:.1f}×** (target ≥ 20×, {verdict}).",
        ]
    re = rows.get("piecelab (reestimate)", {})
    if re.get("bytes_per_token") and p.get("bytes_per_token"):
        d = re["bytes_per_token"] - p["bytes_per_token"]
        lines.append(
            f"reestimate=True: held-out bytes/token {p['bytes_per_token']:.4f} → "
            f"{re['bytes_per_token']:.4f} ({'raises' if d > 0 else 'does not raise'} it, "
            f"{d:+.4f}; {p.get('tokens', 0):,} → {re.get('tokens', 0):,} tokens)."
        )
    lines.append("")
    return lines


def markdown(res: dict) -> str:
    lines = header(res)
    if res.get("grid"):
        lines += grid_table(res)
    if res.get("tokenize"):
        lines += tokenize_table(res)
    if res.get("train"):
        lines += train_table(res)
    skipped = res.get("skipped") or {}
    if skipped:
        lines += ["Skipped: " + "; ".join(f"{_label(k)} ({v})" for k, v in skipped.items()), ""]
    return "\n".join(lines)


def combine(out: Path) -> Path:
    """RESULTS.md: the latest full run, later re-runs of some of its sections, the quick run."""
    parts = [
        "# piecelab benchmark results",
        "",
        "Written by `benchmarks/run.py` (see benchmarks/README.md). "
        '"× …" columns: how many times better piecelab is than that row (> 1: piecelab wins).',
        "",
    ]
    partial = sorted(p.stem for p in out.glob("*-*.md"))
    for mode in ("full", *[m for m in partial if m.startswith("full-")], "quick"):
        md = out / f"{mode}.md"
        if md.is_file():
            parts += [md.read_text().rstrip(), ""]
        for png in sorted(out.glob(f"{mode}_*.png")):
            parts.append(f"![{png.stem}]({png.name})")
        parts.append("")
    path = out / "RESULTS.md"
    path.write_text("\n".join(parts))
    return path
