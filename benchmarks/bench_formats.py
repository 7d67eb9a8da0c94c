"""One row per vocabulary kind: piecelab's path against the kind's own library, same text.

    .venv/bin/python benchmarks/bench_formats.py [--quick] [--json PATH]

``make bench`` runs it as the ``formats`` section of ``run.py`` (``make bench-quick``
with ``--quick``).  It runs in the product interpreter, whose dependencies include
``sentencepiece``, ``tokenizers`` and ``tiktoken``; BytePiece 0.6.3 is timed in a
process of ``--bytepiece-python`` (default: ``benchmarks/.benchenv``, else this
interpreter), and its row says "skipped" where it does not import.

Every model is trained here, offline, on the training slice (``../shared/corpora``'s
train file; in a fresh clone without it, the first 90% of the project's sample
corpus ``resources/corpus/sample.jsonl.gz``, the last 10% being the test text):
SentencePiece Unigram and BPE (``SentencePieceTrainer``, its default normalizer,
byte fallback), HF BPE (byte-level), Unigram and WordPiece (``tokenizers``' own
trainers), a tiktoken rank file made from that byte-level BPE, and a piecelab
(BytePiece) model, whose SentencePiece and ``tokenizer.json`` exports make the last
two rows.  Each row times the same test documents on both sides (MB/s of UTF-8):
after an untimed warm-up on 50 documents, whole passes alternate between piecelab
and the library until each has run for ``--min-time`` (one run, no medians; BytePiece,
in its own process, runs its passes before piecelab's); it also counts the documents
whose ids are equal:

- a kind's row: ``piecelab.load(path)`` (its Vocabulary, i.e. the adapter over the
  library) against the library called directly, i.e. what the adapter costs;
  for ``bytepiece`` the library is BytePiece and piecelab's path its own engine;
- ``sentencepiece-unigram, native``: piecelab's engine on the SentencePiece model
  (``load(path).native()``, SentencePiece's ids) against ``sentencepiece`` itself;
- ``export → sentencepiece`` / ``export → tokenizer.json``: piecelab's model encoded
  by piecelab and by the library on the file piecelab exported.

× is piecelab MB/s / library MB/s (> 1: piecelab is faster).  "threads" is what
both sides use: 1, except where the adapter itself calls a library's parallel
batch (HF ``encode_batch``, tiktoken ``encode_ordinary_batch``), which the direct
call then matches.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_data as data  # noqa: E402

SAMPLE = data.REPO / "resources" / "corpus" / "sample.jsonl.gz"
BENCHENV_PYTHON = HERE / ".benchenv" / "bin" / "python"
# (training slice bytes, vocabulary size, test bytes (0: the whole test file),
#  seconds of passes per timing)
FULL = (2_000_000, 8000, 0, 1.0)
# 8,000 ids in both: HF's Unigram trainer needs an id for every character, and the
# sample corpus (a fresh clone's) has 4,927 distinct ones in 0.5 MB, 7,180 in 2 MB
QUICK = (500_000, 8000, 300_000, 0.2)
WARM = 50  # documents encoded untimed first (caches, lazy initialisation)
T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ corpus
def read_corpus(train_bytes: int, test_bytes: int) -> tuple[list[str], list[str], dict]:
    """(training documents, test documents, where they came from)."""
    if data.TRAIN_FILE.is_file() and data.TEST_FILE.is_file():
        train = data.read_docs(data.TRAIN_FILE, train_bytes)
        test = data.read_docs(data.TEST_FILE, test_bytes)
        files = {"train_file": str(data.TRAIN_FILE), "test_file": str(data.TEST_FILE)}
    else:  # a fresh clone: the project's own sample corpus, split 90/10
        docs = data.read_docs(SAMPLE)
        cut = len(docs) * 9 // 10
        train = _first_bytes(docs[:cut], train_bytes)
        test = _first_bytes(docs[cut:], test_bytes)
        files = {"train_file": f"{SAMPLE} (first 90%)", "test_file": f"{SAMPLE} (last 10%)"}
    return train, test, files


def _first_bytes(docs: list[str], max_bytes: int) -> list[str]:
    """Documents in order until their UTF-8 reaches ``max_bytes`` (0: all), as read_docs cuts."""
    out, total = [], 0
    for d in docs:
        out.append(d)
        total += len(d.encode("utf-8"))
        if max_bytes and total >= max_bytes:
            break
    return out


# ------------------------------------------------------------------ training
def train_sentencepiece(docs: list[str], vocab: int, model_type: str) -> bytes:
    """A SentencePiece model of ``docs`` (one document a sentence; default normalizer)."""
    import sentencepiece as spm

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(docs),
        model_writer=buf,
        model_type=model_type,
        vocab_size=vocab,
        byte_fallback=True,
        max_sentence_length=1 << 20,  # keep long documents (the default drops > 4 KiB)
        num_threads=2,
        minloglevel=2,
    )
    return buf.getvalue()


def train_hf(kind: str, docs: list[str], vocab: int, path: Path) -> Path:
    """A ``tokenizer.json`` trained by ``tokenizers``: byte-level BPE, Unigram or WordPiece."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    if kind == "hf-bpe":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
    elif kind == "hf-unigram":
        tok = Tokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(
            vocab_size=vocab, unk_token="<unk>", special_tokens=["<unk>"], show_progress=False
        )
    else:
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        trainer = trainers.WordPieceTrainer(
            vocab_size=vocab, special_tokens=["[UNK]", "[CLS]", "[SEP]"], show_progress=False
        )
    tok.train_from_iterator(docs, trainer)
    tok.save(str(path))
    return path


def tiktoken_ranks(bpe_json: Path) -> dict[bytes, int]:
    """tiktoken ranks from a byte-level BPE: the 256 bytes, then its tokens in id order.

    HF numbers a BPE's tokens in merge order, so ranking them by id keeps the order
    in which its merges were learnt.
    """
    from tokenizers import Tokenizer

    from piecelab.engine.byte_level import unicode_to_bytes

    ranks: dict[bytes, int] = {bytes([b]): b for b in range(256)}
    vocab = Tokenizer.from_file(str(bpe_json)).get_vocab()
    for token, _ in sorted(vocab.items(), key=lambda kv: kv[1]):
        raw = unicode_to_bytes(token)
        if raw is not None and raw not in ranks:
            ranks[raw] = len(ranks)
    return ranks


def train_piecelab(docs: list[str], vocab: int, path: Path) -> Path:
    from piecelab import Trainer

    trainer = Trainer(order=6, max_vocab_size=vocab, min_count=2)
    trainer.train(docs, workers=2)
    (out,) = trainer.save(path)
    return Path(out)


# ------------------------------------------------------------------ measuring
Encode = Callable[[list[str]], Sequence[Sequence[int]]]


def passes(fns: list[Encode], docs: list[str], nbytes: int, min_time: float) -> tuple:
    """MB/s of each of ``fns`` over ``docs``, and the ids of each one's first pass.

    After an untimed warm-up on the first documents, whole passes alternate
    between the callables, each running until it has run for ``min_time`` (and
    at least one pass), so a load on the machine falls on both alike.
    """
    for fn in fns:
        fn(docs[:WARM])
    spent = [0.0] * len(fns)
    done = [0] * len(fns)
    ids: list = [None] * len(fns)
    while not all(done) or min(spent) < min_time:
        for k, fn in enumerate(fns):
            if done[k] and spent[k] >= min_time:
                continue
            t = time.perf_counter()
            out = fn(docs)
            spent[k] += time.perf_counter() - t
            done[k] += 1
            if ids[k] is None:
                ids[k] = [[int(i) for i in x] for x in out]
    return [nbytes * n / s / 1e6 for n, s in zip(done, spent)], ids, done


def per_doc(encode: Callable[[str], Sequence[int]]) -> Encode:
    return lambda docs: [encode(d) for d in docs]


def compare(ours: list[list[int]], theirs: list[list[int]], name=None) -> dict:
    """Documents with equal ids; the first few that differ, and where the first one parts."""
    n = max(len(ours), len(theirs))
    differ = [j for j in range(n) if j >= min(len(ours), len(theirs)) or ours[j] != theirs[j]]
    out: dict = {"equal": n - len(differ), "differ": differ[:10]}
    if differ and differ[0] < min(len(ours), len(theirs)):
        a, b = ours[differ[0]], theirs[differ[0]]
        k = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        show = name or str
        out["first_difference"] = (
            f"doc {differ[0]}, token {k}: piecelab {[show(i) for i in a[k : k + 3]]} "
            f"vs library {[show(i) for i in b[k : k + 3]]}"
        )
    return out


class Rows:
    """The rows measured so far, on one set of test documents."""

    def __init__(self, docs: list[str], min_time: float) -> None:
        self.docs, self.min_time = docs, min_time
        self.nbytes = data.utf8_size(docs)
        self.rows: list[dict] = []

    def add(self, kind, piecelab, library, threads, ours: Encode, theirs: Encode, name=None):
        """Time ``ours`` (piecelab) and ``theirs`` (the library) alternately; compare ids."""
        (pl, lib), (pl_ids, lib_ids), (n, _) = passes(
            [ours, theirs], self.docs, self.nbytes, self.min_time
        )
        row = {"kind": kind, "piecelab": piecelab, "library": library, "threads": threads}
        row.update(piecelab_mb_s=pl, library_mb_s=lib, passes=n, docs=len(self.docs))
        row.update(compare(pl_ids, lib_ids, name))
        self.rows.append(row)
        log(
            f"{kind}: piecelab {pl:.2f} MB/s, library {lib:.2f} MB/s ({n} passes), "
            f"ids equal {row['equal']:,}/{len(self.docs):,}"
        )
        return row

    def skip(self, kind: str, why: str) -> None:
        self.rows.append({"kind": kind, "skipped": why})
        log(f"{kind}: {why}")

    def bytepiece(self, python: str, model: Path, pl_encode, name) -> None:
        """BytePiece (in ``python``'s process) against piecelab on piecelab's own model."""
        with tempfile.TemporaryDirectory(prefix="piecelab-formats-bp-") as tmp:
            docs_path, out_path = Path(tmp) / "docs.json", Path(tmp) / "out.json"
            docs_path.write_text(json.dumps(self.docs), encoding="utf-8")
            cmd = [python, __file__, "--bytepiece-worker", str(model), str(docs_path)]
            cmd += [str(out_path), str(self.min_time)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            found = json.loads(out_path.read_text()) if out_path.is_file() else {}
        if proc.returncode != 0 or not found or "error" in found:
            why = found.get("error") or (proc.stderr.strip().splitlines() or ["?"])[-1]
            return self.skip("bytepiece", f"skipped: BytePiece does not run in {python} ({why})")
        (pl,), (pl_ids,), (n,) = passes([per_doc(pl_encode)], self.docs, self.nbytes, self.min_time)
        row = {
            "kind": "bytepiece",
            "piecelab": "`load(m).encode`, per document",
            "library": f"BytePiece {found['version']} `Tokenizer.encode`, per document",
            "threads": 1,
            "piecelab_mb_s": pl,
            "library_mb_s": found["mb_s"],
            "passes": n,
            "docs": len(self.docs),
        }
        row.update(compare(pl_ids, found["ids"], name))
        self.rows.append(row)
        log(
            f"bytepiece: piecelab {pl:.2f} MB/s, BytePiece {found['mb_s']:.2f} MB/s, "
            f"ids equal {row['equal']:,}/{len(self.docs):,}"
        )


def bytepiece_worker(model: str, docs_path: str, out_path: str, min_time: str) -> int:
    """In the BytePiece interpreter: timed passes of ``Tokenizer.encode``; ids to JSON."""
    try:
        from importlib import metadata

        from bytepiece import Tokenizer

        version = metadata.version("bytepiece")
        docs = json.loads(Path(docs_path).read_text(encoding="utf-8"))
        tok = Tokenizer(model)
        (mb_s,), (ids,), _ = passes(
            [per_doc(tok.encode)], docs, data.utf8_size(docs), float(min_time)
        )
        found = {"mb_s": mb_s, "ids": ids, "version": version}
    except Exception as exc:  # any failure: the row is skipped, saying why
        found = {"error": f"{type(exc).__name__}: {exc}"}
    Path(out_path).write_text(json.dumps(found))
    return 0


def measure(args) -> dict:
    import sentencepiece as spm
    import tiktoken
    import tokenizers
    from tokenizers import Tokenizer as HFTokenizer

    import piecelab
    from piecelab.engine import export_sentencepiece

    train_bytes, vocab_size, test_bytes, min_time = QUICK if args.quick else FULL
    if args.train_mb is not None:
        train_bytes = int(args.train_mb * 1e6)
    if args.test_mb is not None:
        test_bytes = int(args.test_mb * 1e6)
    if args.min_time is not None:
        min_time = args.min_time
    vocab_size = args.vocab or vocab_size
    train, test, files = read_corpus(train_bytes, test_bytes)
    rows = Rows(test, min_time)
    threads = os.cpu_count() or 1
    log(
        f"training slice {data.utf8_size(train) / 1e6:.2f} MB ({len(train):,} docs), test "
        f"{rows.nbytes / 1e6:.2f} MB ({len(test):,} docs), vocabulary {vocab_size:,}"
    )
    result: dict = {
        "quick": bool(args.quick),
        "vocab_size": vocab_size,
        "min_time": min_time,
        "cores": threads,
        "train_bytes": data.utf8_size(train),
        "train_docs": len(train),
        "test_bytes": rows.nbytes,
        "test_docs": len(test),
        **files,
        "versions": {
            "piecelab": piecelab.__version__,
            "sentencepiece": spm.__version__,
            "tokenizers": tokenizers.__version__,
            "tiktoken": _version("tiktoken"),
        },
        "train_seconds": {},
        "rows": rows.rows,
        "load": {"start": os.getloadavg()[0]},
    }
    seconds = result["train_seconds"]
    tmp = Path(tempfile.mkdtemp(prefix="piecelab-formats-"))

    def trained(name: str, fn):
        t = time.perf_counter()
        out = fn()
        seconds[name] = round(time.perf_counter() - t, 2)
        log(f"trained {name} in {seconds[name]:.1f} s")
        return out

    try:
        # bytepiece: a model piecelab trains, BytePiece itself on the same file
        pl_path = trained("piecelab", lambda: train_piecelab(train, vocab_size, tmp / "pl.model"))
        pl_vocab = piecelab.load(pl_path)
        assert pl_vocab.kind == "bytepiece", pl_vocab.kind
        pl_tok = pl_vocab.native()
        pl_tok.wait_ready()  # the kernels load (or compile) outside any timing
        pl_name = lambda i: pl_tok.id_to_piece(i)  # noqa: E731
        if args.bytepiece_skip:
            rows.skip("bytepiece", args.bytepiece_skip)
        else:
            python = args.bytepiece_python or (
                str(BENCHENV_PYTHON) if BENCHENV_PYTHON.exists() else sys.executable
            )
            rows.bytepiece(python, pl_path, pl_vocab.encode, pl_name)

        # SentencePiece: the adapter, and for Unigram the native engine, against sp.encode
        sp_call = "`sp.encode(docs, num_threads=1)`"
        for model_type in ("unigram", "bpe"):
            kind = f"sentencepiece-{model_type}"
            raw = trained(kind, lambda m=model_type: train_sentencepiece(train, vocab_size, m))
            path = tmp / f"{model_type}.model"
            path.write_bytes(raw)
            vocab = piecelab.load(path)
            assert vocab.kind == kind, (vocab.kind, kind)
            sp = spm.SentencePieceProcessor(model_file=str(path))
            lib = lambda ds, sp=sp: sp.encode(ds, num_threads=1)  # noqa: E731
            name = sp.id_to_piece
            rows.add(kind, "`load(m).encode_batch`", sp_call, 1, vocab.encode_batch, lib, name)
            if model_type != "unigram":
                continue
            native = vocab.native()
            if native is None:
                rows.skip(f"{kind}, native", "native() is None: a piece crosses a newline")
                continue
            native.wait_ready()
            what = "`load(m).native().encode_batch`"
            rows.add(f"{kind}, native", what, sp_call, 1, native.encode_batch, lib, name)
            rows.rows[-1]["native"] = True

        # Hugging Face tokenizer.json: the adapter against Tokenizer.encode_batch
        hf_call = "`Tokenizer.encode_batch`"
        for kind in ("hf-bpe", "hf-unigram", "hf-wordpiece"):
            path = trained(kind, lambda k=kind: train_hf(k, train, vocab_size, tmp / f"{k}.json"))
            vocab = piecelab.load(path)
            assert vocab.kind == kind, (vocab.kind, kind)
            hf = HFTokenizer.from_file(str(path))
            lib = lambda ds, hf=hf: [e.ids for e in hf.encode_batch(ds, add_special_tokens=False)]  # noqa: E731
            adapter = "`load(f).encode_batch`"
            rows.add(kind, adapter, hf_call, threads, vocab.encode_batch, lib, hf.id_to_token)

        # tiktoken: a rank file of that byte-level BPE, the adapter against the Encoding
        ranks = trained("tiktoken", lambda: tiktoken_ranks(tmp / "hf-bpe.json"))
        path = tmp / "bpe.tiktoken"
        path.write_bytes(b"".join(base64.b64encode(t) + b" %d\n" % r for t, r in ranks.items()))
        vocab = piecelab.load(path, pattern="cl100k")
        assert vocab.kind == "tiktoken", vocab.kind
        enc = tiktoken.Encoding(
            "bench", pat_str=vocab.pattern, mergeable_ranks=ranks, special_tokens={}
        )
        lib = lambda ds: enc.encode_ordinary_batch(ds, num_threads=threads)  # noqa: E731
        what, call = "`load(f).encode_batch`", "`Encoding.encode_ordinary_batch`"
        rows.add("tiktoken", what, call, threads, vocab.encode_batch, lib, vocab.pieces.__getitem__)

        # piecelab's exports of its own model, run by their libraries
        # `piecelab export`'s layout (convert_to_sentencepiece keeps BytePiece's)
        export_sentencepiece(pl_tok.model, tmp / "export.model")
        sp = spm.SentencePieceProcessor(model_file=str(tmp / "export.model"))
        rows.add(
            "export → sentencepiece",
            "`Tokenizer.encode_batch(workers=1)`",
            sp_call,
            1,
            lambda ds: pl_tok.encode_batch(ds, workers=1),
            lambda ds: sp.encode(ds, num_threads=1),
            pl_name,
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pl_tok.to_hf(tmp / "export.json")  # may warn of scores written 1 ulp off
        hf = HFTokenizer.from_file(str(tmp / "export.json"))
        rows.add(
            "export → tokenizer.json",
            "`Tokenizer.encode_batch`",
            hf_call,
            threads,
            lambda ds: pl_tok.encode_batch(ds, workers=threads),
            lambda ds: [e.ids for e in hf.encode_batch(ds, add_special_tokens=False)],
            pl_name,
        )
        if caught:
            rows.rows[-1]["note"] = str(caught[0].message).split(": ", 1)[-1]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result["load"]["end"] = os.getloadavg()[0]
    return result


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


# ------------------------------------------------------------------ report
def markdown(res: dict) -> str:
    """The section as markdown: what ran, then one table row per kind."""
    corpus = Path(res["test_file"].split(" (")[0]).name
    load = res.get("load") or {}
    busy = max(load.values(), default=0.0) > 1.0
    load = " → ".join(f"{load[k]:.2f}" for k in ("start", "end") if k in load) or "?"
    cores = res.get("cores", "?")
    lines = [
        "### Formats: piecelab against each kind's own library",
        "",
        f"Models trained here on {res['train_bytes'] / 1e6:.2f} MB ({res['train_docs']:,} "
        f"documents) of `{Path(res['train_file'].split(' (')[0]).name}`, vocabulary "
        f"{res['vocab_size']:,}; timed on {res['test_bytes'] / 1e6:.2f} MB ({res['test_docs']:,} "
        f"documents) of `{corpus}`; each side's whole passes alternate with the other's "
        f"for at least {res['min_time']:g} s after a warm-up on {WARM} documents (one run); "
        "MB/s of UTF-8; × = piecelab / library (> 1: piecelab faster). "
        + ", ".join(f"{k} {v}" for k, v in res["versions"].items())
        + f"; {cores} cores, load average (1 min) {load}"
        + (" — **other processes were busy: timings are noisy**" if busy else "")
        + f"; {res.get('seconds', 0):.0f} s in all.",
        "",
        "| kind | piecelab | library | threads | piecelab MB/s | library MB/s | × | ids equal |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in res["rows"]:
        kind = f"**{r['kind']}**" if r.get("native") else r["kind"]
        if "skipped" in r:
            lines.append(f"| {kind} | {r['skipped']} | | | | | | |")
            continue
        pl, lib = r["piecelab_mb_s"], r["library_mb_s"]
        share = r["equal"] / r["docs"] if r["docs"] else 0.0
        lines.append(
            f"| {kind} | {r['piecelab']} | {r['library']} | {r['threads']} | {pl:.2f} | "
            f"{lib:.2f} | {pl / lib:.2f} | {r['equal']:,}/{r['docs']:,} ({share:.2%}) |"
        )
    notes = []
    for r in res["rows"]:
        if r.get("differ"):
            first = r.get("first_difference")
            notes.append(
                f"- {r['kind']}: {r['docs'] - r['equal']:,} documents differ (first ones: "
                f"{', '.join(map(str, r['differ'][:5]))})" + (f"; {first}" if first else "")
            )
        if r.get("note"):
            notes.append(f"- {r['kind']}: {r['note']}")
    if notes:
        lines += ["", *notes]
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--bytepiece-worker"]:
        return bytepiece_worker(*argv[1:5])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="0.5 MB slice, 0.3 MB test, 0.2 s timings")
    ap.add_argument("--train-mb", type=float, default=None, help="training slice (MB)")
    ap.add_argument("--test-mb", type=float, default=None, help="test text (MB; 0 = all)")
    ap.add_argument("--vocab", type=int, default=None, help="vocabulary size of every model")
    ap.add_argument(
        "--min-time",
        type=float,
        default=None,
        help="seconds of whole passes per timing (default 1, --quick 0.2; 0 = one pass)",
    )
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON here")
    ap.add_argument(
        "--bytepiece-python",
        metavar="PYTHON",
        help="interpreter with BytePiece 0.6.3 (default: benchmarks/.benchenv, else this one)",
    )
    ap.add_argument("--bytepiece-skip", metavar="WHY", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    t = time.monotonic()
    res = measure(args)
    res["seconds"] = round(time.monotonic() - t, 1)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    print(markdown(res), flush=True)
    log(f"done in {res['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
