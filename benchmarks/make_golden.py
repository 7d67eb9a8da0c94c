"""Generate BytePiece 0.6.3 golden tokenizations for piecelab's parity tests.

This script runs ONLY under the scratch reference environment (a venv outside
the repository with bytepiece==0.6.3 and a bytes-mode pyahocorasick); it
imports bytepiece and must never be imported by the test suite. The tests read
the files it writes under tests/data/golden/ and never need bytepiece.

Regenerate (from the repository root):

    /work/refvenv/bin/python benchmarks/make_golden.py

Setting up that environment:

    python3 -m venv /work/refvenv
    /work/refvenv/bin/pip install numpy tqdm Cython setuptools wheel
    AHOCORASICK_BYTES=1 /work/refvenv/bin/pip install --no-binary pyahocorasick pyahocorasick
    /work/refvenv/bin/pip install --no-build-isolation bytepiece==0.6.3

Outputs (all deterministic; the gzip header carries mtime 0 and no file name):

* tests/data/golden/bp80k_test_docs.jsonl.gz
* tests/data/golden/bp80k_edge.json
* tests/data/golden/README.md
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import io
import json
import math
import platform
import sys
import tempfile
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
DEFAULT_MODEL = SHARED / "models" / "bytepiece.plus.80k.zip"
DEFAULT_CORPUS = SHARED / "corpora" / "zh-en-docs.test.jsonl.gz"
OUT_DIR = REPO_ROOT / "tests" / "data" / "golden"
N_DOCS = 3000
EXPECTED_VERSION = "0.6.3"
REGEN_COMMAND = "/work/refvenv/bin/python benchmarks/make_golden.py"


# --------------------------------------------------------------------------
# Edge-case texts (written for piecelab; deterministic)
# --------------------------------------------------------------------------


def _lcg(seed: int):
    """Tiny deterministic 64-bit LCG, independent of Python's random module."""
    state = seed & 0xFFFFFFFFFFFFFFFF
    while True:
        state = (state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        yield state >> 33


def long_mixed_line(n_chars: int = 20000, seed: int = 20240601) -> str:
    """A single line (no newline) of ~n_chars mixed Chinese/English/digits/punctuation."""
    words = [
        "分词器",
        "字节",
        "模型",
        "训练",
        "语料",
        "我们",
        "测试",
        "一致性",
        "的",
        "了",
        "在",
        "和",
        "是",
        "不",
        "有",
        "这个",
        "算法",
        "速度",
        "词表",
        "概率",
        "token",
        "piece",
        "bytes",
        "lab",
        "the",
        "of",
        "and",
        "to",
        "in",
        "is",
        "Viterbi",
        "Unigram",
        "automaton",
        "score",
        "NFC",
        "UTF-8",
        "2023",
        "42",
        "3.14",
        "100%",
        "，",
        "。",
        "；",
        "、",
        ",",
        ".",
        " ",
        " ",
        " ",
        "(",
        ")",
        "「",
        "」",
        "——",
        "…",
        "-",
        "_",
        "/",
        ":",
        "?",
        "！",
        "😀",
        "é",
        "ß",
    ]
    rng = _lcg(seed)
    out, total = [], 0
    while total < n_chars:
        w = words[next(rng) % len(words)]
        out.append(w)
        total += len(w)
    return "".join(out)[:n_chars]


def edge_texts() -> list[str]:
    texts = [
        # empty and single characters
        "",
        "a",
        " ",
        "中",
        "é",
        "\x00",
        # newline handling: only "\n" ends a chunk
        "\n",
        "\n\n\n",
        "a\n\nb\n",
        "\n\n\nstarts after three newlines",
        "line one\r\nline two\r\n\r\nline four\r\n",
        "\r",
        "cr\ronly\rlines",
        "vertical\x0btab and form\x0cfeed",
        "next\x85line and line\u2028separator and para\u2029separator",
        "ends without newline",
        "ends with one newline\n",
        "ends with several newlines\n\n\n\n",
        # whitespace
        "\tindented\t\ttwice\t",
        " " * 64 + "x",
        "x" + " " * 200,
        "a  b   c    d     e      f",
        # digits and dates
        "2023年10月1日 12345678",
        "0123456789 3.14159265358979 -42 1e-9 0x7FFF 1,000,000",
        # emoji: ZWJ family, skin tone, flags, variation selector, keycap
        "👨\u200d👩\u200d👧\u200d👦 family",
        "👍🏽 and 👩🏾\u200d💻 at work",
        "🇨🇳🇺🇸🇯🇵🇩🇪 flags",
        "❤\ufe0f ☺\ufe0e 1\ufe0f\u20e3 #\ufe0f\u20e3",
        "😀😃😄😁😆😅🤣😂",
        # NFD / compatibility forms that NFC changes
        "caf" + "e\u0301" + " cre\u0300me bru\u0302le\u0301e",
        "A\u030angstro\u0308m and \u212b and \u2126 ohm",
        "\u1100\u1161\u11a8\u1112\u1161\u11ab\u1100\u116e\u11a8\u110b\u1165",
        "\uf900\uf901 compatibility ideographs",
        "a\n\u0301b combining mark right after a newline",
        "o\u0323\u0302 stacked marks q\u0307\u0323",
        # NFC leaves these alone (NFKC would not)
        "ＡＢＣ１２３ fullwidth, ﬁ ligature, ① circled, ㍻ square",
        # other scripts
        "東京都でラーメンを食べました。ひらがな、カタカナ、漢字。",
        "مرحبا بالعالم، هذا اختبار للتقطيع.",
        "Ελληνικά, русский текст, हिन्दी पाठ, ภาษาไทย",
        "한국어 문장입니다. 분절기를 시험합니다.",
        # mixed Chinese and English prose
        "我们用 Python 3.11 和 numpy 训练了一个 tokenizer，速度大约是 1.5 MB/s。",
        "Linux 内核文档说明了 make menuconfig 的用法（见 Documentation/kbuild）。",
        "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
        # code and URLs
        "def square(x):\n    return x ** 2  # 平方\n\nprint(square(12))\n",
        "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}\n",
        "https://example.org/path/to/page?q=分词&lang=zh-CN#section-2",
        "git clone git@example.com:team/piecelab.git && cd piecelab",
        # control characters
        "a\x00b\x01c\x07d\x1b[31mred\x1b[0m\x7f",
        # long repetitions and a very long mixed line
        "哈" * 1000,
        "ab" * 700,
        long_mixed_line(),
    ]
    return texts


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def extract_model(zip_path: Path, tmpdir: str) -> Path:
    with zipfile.ZipFile(zip_path) as zf:
        members = [n for n in zf.namelist() if n.endswith(".model")]
        if len(members) != 1:
            raise SystemExit(f"expected exactly one .model member in {zip_path}, got {members}")
        return Path(zf.extract(members[0], tmpdir))


def read_docs(corpus: Path, n: int):
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= n:
                break
            yield i, json.loads(line)["text"]


def write_gzip_deterministic(path: Path, data: bytes) -> None:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    path.write_bytes(buf.getvalue())


def libm_tokenizer(model_path: Path):
    """Same model, scores computed with math.log (glibc) instead of np.log.

    numpy's SIMD float64 log (used on AVX-512 CPUs) differs by 1 ulp from the
    C library's log for a handful of counts; this twin lets us check that the
    goldens do not depend on which log the CPU happened to use.
    """
    import ahocorasick
    from bytepiece import Tokenizer

    tok = Tokenizer(str(model_path))
    log_total = math.log(sum(tok._pieces.values()))
    auto = ahocorasick.Automaton()
    for k, v in tok._pieces.items():
        auto.add_word(k, (len(k), math.log(v) - log_total))
    auto.make_automaton()
    tok._automaton = auto
    return tok


def count_log_mismatches(pieces: dict) -> int:
    import numpy as np

    return sum(1 for v in pieces.values() if float(np.log(v)) != math.log(v))


# --------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------

FACTS = """\
## How BytePiece 0.6.3 tokenizes (read from the installed source)

* **Model loading.** The model file is a JSON object
  `{base64(piece bytes): [id, text_shown, count]}`. Only the id and the *last* element
  (the count) are used. Ids 0, 1, 2 are reserved for
  `<pad>`, `<bos>`, `<eos>`; `vocab_size` is the number of pieces plus 3.
* **Piece score.** Each piece's score is `log(count) - log(total)`, where `total` is the exact
  integer sum (Python `sum`) of the counts of all pieces (the three special tokens are not
  included). Both logarithms are taken with `numpy.log` on Python ints, so each is a
  `numpy.float64` scalar and the subtraction is done in float64; `math.log` is not used.
  The score is stored in the automaton as the value `(len(piece), score)`.
  Caveat: on a CPU with AVX-512 numpy's float64 `log` uses its own SIMD code, which differs by
  1 ulp from the C library's `log` for a few counts (with numpy 2.4 on an AVX-512 CPU: 5 of the
  79,809 counts in the 80k model, namely 94869, 136837, 147674 (two pieces) and 429173). With
  those features disabled (`NPY_DISABLE_CPU_FEATURES`) numpy matches `math.log`. The goldens
  were cross-checked against a `math.log` twin; see "Generation run" below.
* **Normalization and chunking.** `tokenize(text)` first applies Unicode NFC to the *whole* text
  (one `unicodedata.normalize('NFC', ...)` call, not per chunk), then splits it with
  `re.findall` using the pattern `.*\\n+|.+` (standard `re`, no flags, so `.` matches anything
  except `\\n`). Each chunk is therefore a run of non-`\\n` characters followed by all the
  `\\n` characters after it, or a final run of non-`\\n` characters with no newline. Leading
  newlines form a chunk of their own; `\\r`, `\\u2028`, `\\x85`, tabs and other controls do
  not split. Each chunk is encoded to UTF-8 (strict, so lone surrogates raise) and tokenized
  independently; the token lists are concatenated. An empty text gives no tokens. (The
  Tokenizer uses no maximum chunk length and no digit isolation; those options exist only in
  the Trainer, which chunks with a 10,000-character limit.)
* **Segmentation (alpha < 0, the default -1).** A Cython routine runs over the chunk's bytes
  with a bytes-mode pyahocorasick automaton holding every piece. It keeps a list `scores` of
  length n+1 (position 0 = 0, all others -inf) and a back-pointer list `routes` (initially
  `routes[i] = i`). For each match (start s, end e) in the order the automaton reports them it
  computes `scores[s] + piece_score` in double precision and takes it only if it is
  *strictly greater* than `scores[e]`. The path is then read backwards from the end. Scores
  are accumulated left to right (prefix sum along the best path), so an exact replica has to
  add in the same order to get bit-identical ties.
* **Match order and tie-breaking.** pyahocorasick's `iter` reports matches by increasing end
  position, and for the same end position from the longest match to the shortest (it follows
  the suffix/output links). With the strict `>` test this means that when two candidates for
  the same end position have exactly equal float scores, the one reported first wins: the
  longer piece (the earlier start). All 256 single bytes are pieces, so every position is
  reachable.
* **Sampling (alpha >= 0).** Any non-negative alpha switches to sampling (so alpha = 0 samples
  uniformly over segmentations rather than taking the best one). For each match it computes
  `score = scores[s] + alpha * piece_score`, replaces `scores[e]` by
  `logsumexp(scores[e], score)` (computed as `max + log(1 + exp(min - max))` with C `log`/`exp`),
  and then moves `routes[e]` to s with probability `exp(score - scores[e])`, tested as
  `rand() < exp(score - scores[e]) * RAND_MAX` with the C library `rand()`. This is a
  streaming (reservoir-style) draw, so each end position's back-pointer is a sample from the
  distribution proportional to exp(alpha * path score) over its incoming paths, and reading the
  back-pointers gives a sample from the whole segmentation distribution. `srand(time(NULL))` is
  called when the module is imported; `Tokenizer(..., seed=n)` or `set_seed(n)` calls
  `srand(n)`. Sampled output therefore depends on the C library's `rand()` and is not part of
  these goldens.
* **encode / decode.** `encode` maps each token (bytes) to its id (optionally with 1 before,
  2 after); `decode` drops ids 0-2, joins the bytes and decodes UTF-8 with `errors='ignore'`.
* **Pieces that are not valid UTF-8.** 497 of the 80k model's pieces are byte strings that are
  not valid UTF-8 on their own (partial characters), so tokens must be handled as bytes.
"""


def make_readme(version: str, stats: dict) -> str:
    return f"""\
# BytePiece golden tokenizations

Reference outputs of **BytePiece {version}** (pyahocorasick {stats["ahocorasick_version"]} built
in bytes mode, numpy {stats["numpy_version"]}, Python {stats["python"]}) with the published model
`bytepiece.plus.80k.model` (from `../shared/models/bytepiece.plus.80k.zip`; {stats["n_pieces"]:,}
pieces, vocab size {stats["vocab_size"]:,}). Used by piecelab's parity tests; the tests only read
these files and never import bytepiece.

## Regenerate

From the repository root, with the scratch reference venv described in
`benchmarks/make_golden.py`:

    {REGEN_COMMAND}

The output is deterministic (gzip written with mtime 0 and no file name).

## Files

* `bp80k_test_docs.jsonl.gz` - gzip JSON Lines, one line per document for the first
  {stats["n_docs"]:,} documents (file order) of `../shared/corpora/zh-en-docs.test.jsonl.gz`:
  `{{"i": index, "sha1": hex SHA-1 of the document text encoded as UTF-8 exactly as read from
  the file (before any normalization), "lengths": [byte length of each token of
  tokenizer.tokenize(text)]}}`. The token bytes are recovered by slicing the UTF-8 of the
  NFC-normalized text with these lengths (their sum equals that byte length).
  {stats["n_doc_tokens"]:,} tokens over {stats["n_doc_bytes"]:,} bytes.
* `bp80k_edge.json` - a JSON list of {stats["n_edge"]} objects
  `{{"text": str, "tokens_b64": [base64 of each token's bytes], "ids": tokenizer.encode(text)}}`
  for hand-written edge cases (empty text, newline runs, CRLF, tabs, spaces, digits, emoji and
  ZWJ/flag sequences, NFD and compatibility forms that NFC changes, several scripts, code, URLs,
  control characters, a ~20k-character single line). Written with `ensure_ascii=True`.

## Generation run

* CPU log implementation check: np.log and math.log disagree on {stats["log_mismatches"]} piece
  counts on the generating machine; re-tokenizing everything with a math.log-scored twin gave
  {stats["twin_doc_diffs"]} differing documents and {stats["twin_edge_diffs"]} differing edge cases,
  so these goldens hold whichever log the CPU uses.
* Each golden was also checked to round-trip: tokens joined equal the UTF-8 of the NFC text.

{FACTS}"""


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    ap.add_argument("--docs", type=int, default=N_DOCS)
    args = ap.parse_args()

    import ahocorasick
    import bytepiece
    import numpy as np
    from bytepiece import Tokenizer

    if bytepiece.__version__ != EXPECTED_VERSION:
        raise SystemExit(f"bytepiece {bytepiece.__version__} found, {EXPECTED_VERSION} required")
    if ahocorasick.unicode:
        raise SystemExit("pyahocorasick is built in unicode mode; rebuild with AHOCORASICK_BYTES=1")
    try:
        from importlib.metadata import version as _pkg_version

        aho_version = _pkg_version("pyahocorasick")
    except Exception:  # pragma: no cover
        aho_version = "?"

    import unicodedata

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model_path = extract_model(args.model, tmp)
        tok = Tokenizer(str(model_path))
        twin = libm_tokenizer(model_path)
    log_mismatches = count_log_mismatches(tok._pieces)

    # a) corpus documents ------------------------------------------------
    lines, n_tokens, n_bytes, twin_doc_diffs = [], 0, 0, 0
    for i, text in read_docs(args.corpus, args.docs):
        raw = text.encode("utf-8")
        tokens = tok.tokenize(text)
        if b"".join(tokens) != unicodedata.normalize("NFC", text).encode("utf-8"):
            raise SystemExit(f"doc {i}: tokens do not join back to the NFC text")
        if twin.tokenize(text) != tokens:
            twin_doc_diffs += 1
        lengths = [len(t) for t in tokens]
        n_tokens += len(lengths)
        n_bytes += sum(lengths)
        lines.append(
            json.dumps(
                {"i": i, "sha1": hashlib.sha1(raw).hexdigest(), "lengths": lengths},
                separators=(",", ":"),
            )
        )
    if len(lines) != args.docs:
        raise SystemExit(f"corpus has only {len(lines)} documents, {args.docs} requested")
    docs_path = args.out / "bp80k_test_docs.jsonl.gz"
    write_gzip_deterministic(docs_path, ("\n".join(lines) + "\n").encode("ascii"))

    # b) edge cases --------------------------------------------------------
    edge, twin_edge_diffs = [], 0
    for text in edge_texts():
        tokens = tok.tokenize(text)
        if b"".join(tokens) != unicodedata.normalize("NFC", text).encode("utf-8"):
            raise SystemExit(f"edge case {text[:30]!r}: tokens do not join back")
        ids = tok.encode(text)
        if tok.pieces_to_ids(tokens) != ids:
            raise SystemExit(f"edge case {text[:30]!r}: encode disagrees with tokenize")
        if twin.tokenize(text) != tokens:
            twin_edge_diffs += 1
        edge.append(
            {
                "text": text,
                "tokens_b64": [base64.b64encode(t).decode("ascii") for t in tokens],
                "ids": ids,
            }
        )
    edge_path = args.out / "bp80k_edge.json"
    body = ",\n".join(json.dumps(e, ensure_ascii=True, separators=(",", ":")) for e in edge)
    edge_path.write_text("[\n" + body + "\n]\n", encoding="ascii")

    # c) README -------------------------------------------------------------
    stats = {
        "ahocorasick_version": aho_version,
        "numpy_version": np.__version__,
        "python": platform.python_version(),
        "n_pieces": len(tok._pieces),
        "vocab_size": tok.vocab_size,
        "n_docs": len(lines),
        "n_doc_tokens": n_tokens,
        "n_doc_bytes": n_bytes,
        "n_edge": len(edge),
        "log_mismatches": log_mismatches,
        "twin_doc_diffs": twin_doc_diffs,
        "twin_edge_diffs": twin_edge_diffs,
    }
    readme = make_readme(bytepiece.__version__, stats)
    readme_path = args.out / "README.md"
    readme_path.write_text(readme, encoding="utf-8")

    print(readme)
    for p in (docs_path, edge_path, readme_path):
        print(f"wrote {p} ({p.stat().st_size:,} bytes)")
    if twin_doc_diffs or twin_edge_diffs:
        print("WARNING: goldens depend on the CPU's float64 log implementation", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
