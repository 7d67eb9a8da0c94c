#!/usr/bin/env python3
"""Build piecelab's bundled sample corpus: resources/corpus/sample.jsonl.gz.

What it is
----------
A ~3.3 MB (uncompressed UTF-8 text) mix of classical Chinese and 19th-century
English text.  Every *text* in it is in the public domain (centuries-old
Chinese works; English novels of 1813 and 1851).  The packages the text is
taken from carry their own licenses for their packaging (MIT); see README.md
beside this file for the per-source table and the public-domain reasons.

What it downloads (pinned; each input file is checked against a SHA-256)
-------------------------------------------------------------------------
* npm registry:  ``chinese-poetry@2.0.1`` (``npm pack``), JSON files under
  ``package/dist/``: 论语, 诗经, 孟子, 大学, 中庸, 楚辞, 唐诗三百首, 宋词三百首,
  古文观止, and the poems of 李白 and 杜甫 from 全唐诗 (``poet.tang.*.json``).
* Debian (bookworm) via ``apt-get download``:
  - ``r-cran-janeaustenr=1.0.0-1`` -> R lazy-load data ``prideprejudice``
    (Jane Austen, *Pride and Prejudice*, 1813);
  - ``r-cran-tokenizers=0.3.0-1`` -> R lazy-load data ``mobydick``
    (Herman Melville, *Moby-Dick; or, The Whale*, 1851; a Project Gutenberg
    file whose license header/footer and transcriber's notes are removed here).
  The R data is read by a small pure-Python reader of R's serialization
  format below: R itself is not needed.

Output
------
gzip (mtime 0, no file name in the header, level 9) JSON Lines, one document
a line: ``{"text": ..., "source": ...}``.  A document is a paragraph (English:
blank-line separated, hard-wrapped lines joined by one space; Chinese prose:
one paragraph of the source JSON) or one whole poem (title line, then its
lines, separated by "\\n").  Text is NFC-normalised; modern editorial notes in
the Chinese sources (variant readings in parentheses, footnote markers) are
removed so only the old works remain.  Documents are shuffled with
``random.Random(1234)``.  The build is deterministic: the same inputs give a
byte-identical output file.

How to rerun
------------
Needs ``apt-get`` (Debian bookworm lists; run ``apt-get update`` once first)
and ``npm`` on PATH, and network access to those two registries::

    python3 resources/corpus/build_sample.py            # writes sample.jsonl.gz beside this file
    python3 resources/corpus/build_sample.py --downloads /tmp/pl-corpus-dl   # keep/reuse downloads
    python3 resources/corpus/build_sample.py --out /tmp/x.jsonl.gz           # write elsewhere

Without ``--downloads`` a temporary directory is created and removed again.
It prints the statistics that README.md records.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import random
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "sample.jsonl.gz"
SEED = 1234
MOBY_DICK_MAX_BYTES = 900_000

NPM_PACKAGE = ("chinese-poetry", "2.0.1")
DEB_PACKAGES = [("r-cran-janeaustenr", "1.0.0-1"), ("r-cran-tokenizers", "0.3.0-1")]

# SHA-256 of every input file read (inside the packages), so that a changed
# upstream file is noticed instead of silently changing the corpus.
EXPECTED_SHA256: dict[str, str] = {
    "chinese-poetry/lunyu/lunyu.json": (
        "bc336a3839706377892719db44c48a09794a493190535a42bf1c7d4c4233e96c"
    ),
    "chinese-poetry/shijing/shijing.json": (
        "3c7ca54d59424542ada99adfcc85420287fbbd5c8a511e9baf705cb2b04051e7"
    ),
    "chinese-poetry/sishuwujing/mengzi.json": (
        "349888018acd0b3fea58de92e53403b8c77640d84b1ae9d37360d5ff1966bcdc"
    ),
    "chinese-poetry/sishuwujing/daxue.json": (
        "1939dfeb2cb8fde6c96fb5ce6bd1cff93df05460027c90c685f4863b05c550e8"
    ),
    "chinese-poetry/sishuwujing/zhongyong.json": (
        "2962a8b52bf78c010b051622b8803a956b461813ae0ed86148e4851e7d605ed8"
    ),
    "chinese-poetry/chuci/chuci.json": (
        "5069e733d93781cecd55405c6d4699a7c17125b3f13cf79810d68792482e5b9b"
    ),
    "chinese-poetry/quantangshi/唐诗三百首.json": (
        "d77a145f7470da2ed2f79515944563c062ffc43fceda07f195a36ead66b7e5c7"
    ),
    "chinese-poetry/songci/宋词三百首.json": (
        "ca5d74f7fdb9d5a6acc22a7c8b4395228cad4bb8be53df44c19ba83ab6983b20"
    ),
    "chinese-poetry/mengxue/guwenguanzhi.json": (
        "ba10ec02849d58bebcc8da575dda3da07a1123e2a31dab3f734acd95d48c5cac"
    ),
    # one digest over all 58 quantangshi/poet.tang.*.json files, concatenated in name order
    "chinese-poetry/quantangshi/poet.tang.*.json": (
        "1096d6ddb25f63f845ea7f533a3cea93dde9d10f44a613b2d55ec8ea9ccaf43f"
    ),
    "janeaustenr/data/Rdata.rdb": (
        "8fb5198960d0da724b1562f96e4221e5c1b41ff455000280b02c55980c3d8f21"
    ),
    "janeaustenr/data/Rdata.rdx": (
        "cab8cbe4ce965d3b42b35c03383bafccc0eb78151f70e4748ead45270470c22f"
    ),
    "tokenizers/data/Rdata.rdb": (
        "2a7581d1d9c2f49fd8c8493e556f984f4a5cdc071eeb6248b0fa719be6b088fe"
    ),
    "tokenizers/data/Rdata.rdx": (
        "597c9d0f30a6fd0f70a87130d5b424e6cf690894efd8ac283e75cd44d58847cd"
    ),
}


# --------------------------------------------------------------------------
# downloading
# --------------------------------------------------------------------------


def run(cmd: list[str], cwd: Path) -> None:
    print("+", " ".join(cmd), file=sys.stderr)
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        hint = " (run 'apt-get update' first?)" if cmd[0] == "apt-get" else ""
        raise SystemExit(f"command failed{hint}: {' '.join(cmd)}")


def fetch(dl: Path) -> dict[str, Path]:
    """Download (unless already present) and unpack the packages; return roots."""
    dl.mkdir(parents=True, exist_ok=True)
    dl.chmod(0o755)  # lets apt's _apt user write there (else apt warns)
    roots: dict[str, Path] = {}

    name, version = NPM_PACKAGE
    tgz = dl / f"{name}-{version}.tgz"
    if not tgz.is_file():
        run(["npm", "pack", "--silent", f"{name}@{version}"], cwd=dl)
    root = dl / "chinese-poetry"
    if not (root / ".done").is_file():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir()
        with tarfile.open(tgz, "r:gz") as tf:
            for m in tf.getmembers():
                if m.isfile() and m.name.startswith("package/dist/") and m.name.endswith(".json"):
                    rel = m.name[len("package/dist/") :]
                    target = root / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(tf.extractfile(m).read())
        (root / ".done").touch()
    roots["chinese-poetry"] = root

    for name, version in DEB_PACKAGES:
        debs = sorted(dl.glob(f"{name}_{version}_*.deb"))
        if not debs:
            run(["apt-get", "download", f"{name}={version}"], cwd=dl)
            debs = sorted(dl.glob(f"{name}_{version}_*.deb"))
        if not debs:
            raise SystemExit(f"apt-get download left no .deb for {name}={version}")
        ex = dl / name
        if not (ex / ".done").is_file():
            shutil.rmtree(ex, ignore_errors=True)
            run(["dpkg-deb", "-x", str(debs[0]), str(ex)], cwd=dl)
            (ex / ".done").touch()
        rname = name[len("r-cran-") :]
        roots[rname] = ex / "usr" / "lib" / "R" / "site-library" / rname
    return roots


def sha256_files(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


# --------------------------------------------------------------------------
# a minimal reader for R lazy-load databases (data/Rdata.rdb + .rdx)
# --------------------------------------------------------------------------


class _RUnserializer:
    """Reads R's XDR serialization format (version 2 or 3), enough for data
    made of character/numeric vectors, lists and attribute pairlists."""

    def __init__(self, data: bytes):
        self.d, self.p = data, 0
        self.refs: list = []

    def _int(self) -> int:
        (v,) = struct.unpack_from(">i", self.d, self.p)
        self.p += 4
        return v

    def _len(self) -> int:
        n = self._int()
        if n == -1:
            hi, lo = self._int(), self._int()
            n = (hi << 32) + lo
        return n

    def read(self):
        if self.d[:2] != b"X\n":
            raise ValueError("not an XDR R serialization")
        self.p = 2
        version = self._int()
        self._int()  # writer's R version
        self._int()  # minimal reader version
        if version == 3:
            n = self._int()  # length of the native encoding name, then the name
            self.p += n
        return self._item()

    def _item(self):
        flags = self._int()
        t, levels = flags & 0xFF, flags >> 12
        has_attr, has_tag = flags & (1 << 9), flags & (1 << 10)
        if t == 254:  # NILVALUE_SXP
            return None
        if t in (241, 242, 250, 251, 252, 253):  # base/empty/global env, missing arg, ...
            return ("special", t)
        if t == 255:  # REFSXP
            i = flags >> 8 or self._int()
            return self.refs[i - 1]
        if t == 1:  # SYMSXP
            sym = ("sym", self._item())
            self.refs.append(sym)
            return sym
        if t in (2, 3, 5, 6, 17, 239, 240):  # pairlist-like
            attr = self._item() if has_attr else None
            tag = self._item() if has_tag else None
            car = self._item()
            cdr = self._item()
            return ("pair", tag, car, cdr, attr)
        if t == 9:  # CHARSXP
            n = self._int()
            if n == -1:
                return None
            raw = self.d[self.p : self.p + n]
            self.p += n
            return raw.decode("latin-1" if levels & 4 else "utf-8")
        if t in (10, 13):  # logical, integer
            n = self._len()
            v = struct.unpack_from(f">{n}i", self.d, self.p)
            self.p += 4 * n
        elif t == 14:  # double
            n = self._len()
            v = struct.unpack_from(f">{n}d", self.d, self.p)
            self.p += 8 * n
        elif t in (16, 19, 20):  # character vector, list, expression
            n = self._len()
            v = [self._item() for _ in range(n)]
        elif t == 24:  # raw
            n = self._len()
            v = self.d[self.p : self.p + n]
            self.p += n
        else:
            raise ValueError(f"unsupported R SEXP type {t}")
        attr = self._item() if has_attr else None
        return ("vec", t, v, attr)


def _attrs(obj) -> dict:
    out, pl = {}, obj[3]
    while pl is not None and pl[0] == "pair":
        _, tag, car, cdr, _a = pl
        out[tag[1] if tag else None] = car
        pl = cdr
    return out


def _named_list(obj) -> dict:
    return dict(zip(_attrs(obj)["names"][2], obj[2]))


def read_r_lazydata(data_dir: Path) -> dict[str, list[str]]:
    """All character-vector objects of an R package's data/Rdata lazy-load DB."""
    index = _named_list(
        _RUnserializer(gzip.decompress((data_dir / "Rdata.rdx").read_bytes())).read()
    )
    db = (data_dir / "Rdata.rdb").read_bytes()
    out = {}
    for name, pos in _named_list(index["variables"]).items():
        off, length = (int(x) for x in pos[2])
        blob = db[off : off + length]
        (ulen,) = struct.unpack(">I", blob[:4])
        kind = blob[4:5]
        if kind == b"Z":
            data = zlib.decompress(blob[5:])
        elif kind == b"X":
            import lzma

            data = lzma.decompress(blob[5:])
        elif kind == b"2":
            import bz2

            data = bz2.decompress(blob[5:])
        elif kind == b"0":
            data = blob[5:]
        else:  # plain zlib (R's default compress=TRUE)
            data = zlib.decompress(blob[4:])
        if len(data) != ulen:
            raise ValueError(f"bad length for {name}")
        obj = _RUnserializer(data).read()
        if obj and obj[0] == "vec" and obj[1] == 16:
            out[name] = [s if s is not None else "" for s in obj[2]]
    return out


# --------------------------------------------------------------------------
# text clean-up
# --------------------------------------------------------------------------


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def english_paragraphs(text: str) -> list[str]:
    """Split on blank lines; join hard-wrapped lines with one space."""
    text = text.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for para in re.split(r"\n[ \t]*\n", text):
        joined = " ".join(line.strip() for line in para.split("\n") if line.strip())
        joined = re.sub(r"[ \t]+", " ", joined).strip()
        if re.search(r"[A-Za-z0-9]", joined):  # drops '***' style dividers
            out.append(joined)
    return out


_ZH_NOTE = re.compile(r"[（(][^（()）]*[)）]")


def clean_zh(s: str) -> str:
    """Remove modern editorial apparatus from a Chinese text (keeps the work)."""
    s = re.sub(r"〖\d+〗", "", s)  # footnote markers
    s = re.sub(r"\d+\.\s*\S+\s*:.*$", "", s, flags=re.M)  # '1. 猶 : 或作「由」…' footnote text
    s = re.sub(r"(?<=[\u3400-\u9fff」])\d+(?=[\u3400-\u9fff])", "", s)  # '猶1不得' marker
    s = re.sub(r"<([^<>\n]+)>", r"《\1》", s)  # <激楚> -> 《激楚》 (title marks)
    s = re.sub(r"\[(?:通|同)[^\]]*\]", "", s)  # [通“事”] glosses
    s = re.sub(r"\[([^\[\]\s])\]", r"\1", s)  # [玄] emendation brackets -> 玄
    prev = None
    while prev != s:  # (一作…) variant readings, (見…) source notes; may span lines
        prev, s = s, _ZH_NOTE.sub("", s)
    lines = [ln.strip() for ln in s.split("\n")]
    return "\n".join(ln for ln in lines if ln and not re.fullmatch(r"[。，、；：！？\s]*", ln))


def zh_prose(paragraphs: list[str]) -> list[str]:
    """Clean a piece's paragraphs together: some notes in the source JSON run
    across paragraph boundaries, so join, clean, and split again."""
    return clean_zh("\n".join(paragraphs)).split("\n")


def zh_poem(title: str | None, lines: list[str]) -> str:
    body = clean_zh("\n".join(lines))
    head = clean_zh(title or "")
    return f"{head}\n{body}" if head and body else body


def _body_key(text: str) -> str:
    """Poem identity for de-duplication: its CJK characters after the title line."""
    body = text.split("\n", 1)[1] if "\n" in text else text
    return "".join(ch for ch in body if "\u3400" <= ch <= "\u9fff" or ch > "\U00020000")


# --------------------------------------------------------------------------
# sources
# --------------------------------------------------------------------------


def chinese_sources(root: Path) -> list[tuple[str, list[str]]]:
    def load(rel: str):
        return json.loads((root / rel).read_text(encoding="utf-8"))

    src: list[tuple[str, list[str]]] = []
    src.append(
        ("zh-lunyu", [p for c in load("lunyu/lunyu.json") for p in zh_prose(c["paragraphs"])])
    )
    src.append(
        (
            "zh-mengzi",
            [p for c in load("sishuwujing/mengzi.json") for p in zh_prose(c["paragraphs"])],
        )
    )
    src.append(("zh-daxue", zh_prose(load("sishuwujing/daxue.json")["paragraphs"])))
    src.append(("zh-zhongyong", zh_prose(load("sishuwujing/zhongyong.json")["paragraphs"])))
    src.append(
        ("zh-shijing", [zh_poem(p["title"], p["content"]) for p in load("shijing/shijing.json")])
    )
    src.append(("zh-chuci", [zh_poem(p["title"], p["content"]) for p in load("chuci/chuci.json")]))
    tang300 = [zh_poem(p["title"], p["paragraphs"]) for p in load("quantangshi/唐诗三百首.json")]
    src.append(("zh-tangshi300", tang300))
    src.append(
        (
            "zh-songci300",
            [zh_poem(p.get("rhythmic"), p["paragraphs"]) for p in load("songci/宋词三百首.json")],
        )
    )
    guwen = load("mengxue/guwenguanzhi.json")  # its "abstract" is a modern blurb: not used
    src.append(
        (
            "zh-guwenguanzhi",
            [
                p
                for vol in guwen["content"]
                for piece in vol["content"]
                for p in zh_prose(piece["paragraphs"])
            ],
        )
    )
    # Li Bai and Du Fu from the Complete Tang Poems, minus poems already in 唐诗三百首
    seen = {_body_key(t) for t in tang300}
    by_author: dict[str, list[str]] = {"李白": [], "杜甫": []}
    files = sorted(
        (root / "quantangshi").glob("poet.tang.*.json"), key=lambda p: int(p.name.split(".")[2])
    )
    for f in files:
        for p in json.loads(f.read_text(encoding="utf-8")):
            if p["author"] in by_author:
                text = zh_poem(p["title"], p["paragraphs"])
                key = _body_key(text)
                if key and key not in seen:
                    seen.add(key)
                    by_author[p["author"]].append(text)
    src.append(("zh-quantangshi-libai", by_author["李白"]))
    src.append(("zh-quantangshi-dufu", by_author["杜甫"]))
    return src


def english_sources(janeausten: Path, tokenizers: Path) -> list[tuple[str, list[str]]]:
    austen = read_r_lazydata(janeausten / "data")
    pp = english_paragraphs("\n".join(austen["prideprejudice"]))

    md_raw = read_r_lazydata(tokenizers / "data")["mobydick"][0].replace("\r\n", "\n")
    start = re.search(r"^\*\*\* ?START OF TH(IS|E) PROJECT GUTENBERG EBOOK.*$", md_raw, re.M)
    end = re.search(r"^End of (the )?Project Gutenberg'?s? .*$", md_raw, re.M)
    if not start or not end:
        raise SystemExit("Moby Dick: Gutenberg start/end markers not found")
    md = english_paragraphs(md_raw[start.end() : end.start()])
    # drop the e-text's production credit and transcriber's notes (not Melville's text)
    i = next(k for k, p in enumerate(md) if p.startswith("Produced by"))
    t = next(k for k, p in enumerate(md) if p.startswith("Original Transcriber's Notes"))
    j = next(k for k, p in enumerate(md) if p.startswith("ETYMOLOGY"))
    if not (i < t < j <= t + 4):
        raise SystemExit("Moby Dick: unexpected front matter layout")
    md = md[:i] + md[i + 1 : t] + md[j:]
    # Keep the corpus under 4 MB and about half English: Moby-Dick is cut at the
    # last chapter heading that starts within the first MOBY_DICK_MAX_BYTES.
    used, cut = 0, len(md)
    for k, para in enumerate(md):
        if re.match(r"CHAPTER \d+\.", para) and used > MOBY_DICK_MAX_BYTES:
            cut = k
            break
        used += len(para.encode("utf-8"))
    md = md[:cut]
    for para in md:
        if "gutenberg" in para.lower():
            raise SystemExit(f"Moby Dick: Gutenberg boilerplate left: {para[:80]!r}")
    return [("en-austen-pride-and-prejudice", pp), ("en-melville-moby-dick", md)]


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------


def build(dl: Path, out: Path) -> None:
    roots = fetch(dl)
    cp = roots["chinese-poetry"]
    digests = {
        "chinese-poetry/" + rel: sha256_files([cp / rel])
        for rel in [
            "lunyu/lunyu.json",
            "shijing/shijing.json",
            "sishuwujing/mengzi.json",
            "sishuwujing/daxue.json",
            "sishuwujing/zhongyong.json",
            "chuci/chuci.json",
            "quantangshi/唐诗三百首.json",
            "songci/宋词三百首.json",
            "mengxue/guwenguanzhi.json",
        ]
    }
    digests["chinese-poetry/quantangshi/poet.tang.*.json"] = sha256_files(
        sorted((cp / "quantangshi").glob("poet.tang.*.json"), key=lambda p: p.name)
    )
    for pkg in ("janeaustenr", "tokenizers"):
        for f in ("Rdata.rdb", "Rdata.rdx"):
            digests[f"{pkg}/data/{f}"] = sha256_files([roots[pkg] / "data" / f])
    bad = [k for k, v in digests.items() if EXPECTED_SHA256.get(k) != v]
    if bad:
        for k in bad:
            print(f"input changed: {k}: {digests[k]}", file=sys.stderr)
        raise SystemExit("inputs differ from the pinned ones; update EXPECTED_SHA256 deliberately")

    sources = chinese_sources(cp) + english_sources(roots["janeaustenr"], roots["tokenizers"])
    docs = []
    for sid, texts in sources:
        for t in texts:
            t = nfc(t).strip()
            if t:
                docs.append({"text": t, "source": sid})
    random.Random(SEED).shuffle(docs)

    buf = io.BytesIO()
    for d in docs:
        buf.write(json.dumps(d, ensure_ascii=False).encode("utf-8") + b"\n")
    raw = buf.getvalue()
    out.parent.mkdir(parents=True, exist_ok=True)
    with (
        open(out, "wb") as fh,
        gzip.GzipFile(filename="", mode="wb", fileobj=fh, compresslevel=9, mtime=0) as gz,
    ):
        gz.write(raw)

    # statistics (text bytes = UTF-8 bytes of the "text" fields)
    stats: dict[str, list[int]] = {}
    for d in docs:
        s = stats.setdefault(d["source"], [0, 0])
        s[0] += 1
        s[1] += len(d["text"].encode("utf-8"))
    total = sum(b for _, b in stats.values())
    zh = sum(b for k, (_, b) in stats.items() if k.startswith("zh-"))
    print("| source | documents | text bytes |")
    print("| --- | ---: | ---: |")
    for sid, _ in sources:
        n, b = stats[sid]
        print(f"| {sid} | {n:,} | {b:,} |")
    print(f"| **total** | **{len(docs):,}** | **{total:,}** |")
    print()
    print(
        f"Chinese sources: {zh:,} bytes ({100 * zh / total:.1f}%); "
        f"English sources: {total - zh:,} bytes ({100 * (total - zh) / total:.1f}%)"
    )
    print(
        f"JSONL: {len(raw):,} bytes; {out.name}: {out.stat().st_size:,} bytes; "
        f"sha256 {hashlib.sha256(out.read_bytes()).hexdigest()}"
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="output .jsonl.gz (default: beside this script)",
    )
    ap.add_argument(
        "--downloads",
        type=Path,
        help="directory to download into and reuse (default: a temporary one)",
    )
    args = ap.parse_args(argv)
    if args.downloads:
        build(args.downloads, args.out)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="piecelab-corpus-"))
        try:
            build(tmp, args.out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
