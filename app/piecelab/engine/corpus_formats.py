"""Low-level reading for :mod:`piecelab.engine.corpus`: compression, sniffing, lines, JSON.

Split from ``corpus.py`` so that module stays about sources, splits and statistics.
Everything here works on binary streams a bounded piece at a time: nothing reads a
whole file or a whole line of unbounded length into memory.
"""

from __future__ import annotations

import bz2
import codecs
import functools
import gzip
import io
import json
import lzma
import re
import zlib
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import IO

import numpy as np
import zstandard

COMPRESSIONS = (".gz", ".bz2", ".xz", ".zst")
COMPRESSED_SUFFIXES = (*COMPRESSIONS, ".zstd")  # what a compressed file's name ends in
DEFAULT_INCLUDE = tuple(
    f"*{ext}{comp}"
    for ext in (".txt", ".jsonl", ".json", ".ndjson")
    for comp in ("", *COMPRESSIONS)
)
MAX_LINE_BYTES = 16 << 20  # longest line (or paragraph) held in memory at once
SNIFF_BYTES = 8192  # binary/format detection looks at this much decompressed text
READ_BUFFER = 1 << 20
# Errors a damaged, truncated or vanished file raises while it is decompressed or read.
READ_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, zstandard.ZstdError)

Report = Callable[[int | None, str, str], None]  # (line, kind, message)

_BOM = b"\xef\xbb\xbf"
_ZSTD = b"\x28\xb5\x2f\xfd"
_BZ2 = (b"1AY&SY", b"\x17rE8P\x90")  # a first block, or the end of an empty stream
_MAGICS = (b"\x1f\x8b\x08", b"BZh", b"\xfd7zXZ\x00", _ZSTD)


def looks_compressed(head: bytes) -> bool:
    """Whether a file starting with ``head`` is gzip, bzip2, xz or zstd (by its magic)."""
    return any(head.startswith(m) for m in _MAGICS)


_KNOWN_BINARY = (
    (b"\x89PNG", "a PNG image"), (b"\x7fELF", "an ELF executable"), (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a zip archive (extract it first)"), (b"GIF8", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"), (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (b"Rar!\x1a\x07", "a RAR archive"), (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x00asm", "a WebAssembly module"), (b"\xca\xfe\xba\xbe", "a Java class or Mach-O file"),
)  # fmt: skip
# C0 controls other than tab, newlines, form feed and escape, plus DEL.
_CONTROL = bytes(c for c in range(32) if c not in b"\t\n\v\f\r\x1b") + b"\x7f"
_WS = re.compile(r"[ \t\n\r]*")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Character classes for statistics: 0 Han (CJK unified ideographs incl. extension A,
# compatibility ideographs and planes 2-3), 1 Latin letters, 2 decimal digits, 3 other.
# A lookup table over UTF-16 code units keeps counting in numpy; class 4 (low surrogates)
# is not counted and class 5 (other high surrogates) is other unless the character is a
# supplementary-plane digit.
_HAN_UNITS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xD840, 0xD8BF))
_LATIN_UNITS = (
    (0x41, 0x5A), (0x61, 0x7A), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x24F), (0x1E00, 0x1EFF),
    (0x2C60, 0x2C7F), (0xA720, 0xA7FF), (0xAB30, 0xAB6F), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A),
)  # fmt: skip


class FieldMissing(Exception):
    """No object of a JSON file had the field; ``args[0]`` lists the fields seen."""


class CountingFile(io.RawIOBase):
    """A source that counts the bytes read from it, so progress works under decompression.

    :meth:`head` reads the first bytes once and serves them again to the next reads:
    sniffing must not re-open or seek, since a pipe can do neither.
    """

    def __init__(self, f: IO[bytes]) -> None:
        self._f = f
        self._head = b""
        self.count = 0

    @classmethod
    def open(cls, path: Path) -> CountingFile:
        return cls(open(path, "rb", buffering=0))

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._f.fileno()

    @property
    def first_offset(self) -> int:
        """The byte offset in the file where reading starts (a :class:`LineRange`'s
        first line; 0 for a whole file)."""
        return int(getattr(self._f, "first", 0))

    def head(self, n: int) -> bytes:
        """The first ``n`` bytes (fewer at the end); the next reads start with them again."""
        parts, got = [], 0
        while got < n and (chunk := self._f.read(n - got)):
            parts.append(chunk)
            got += len(chunk)
        self._head = b"".join(parts)
        self.count += got
        return self._head

    def readinto(self, b) -> int:  # type: ignore[override]
        n = 0
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            if self._head or n == len(b):
                return n
            b = memoryview(b)[n:]  # a sniffing peek wants a full block, not just the head
        got = self._f.readinto(b) or 0
        self.count += got
        return n + got

    def close(self) -> None:
        self._f.close()
        super().close()


class LineRange(io.RawIOBase):
    """The lines of a file that start in ``[start, end)``, newlines included.

    Shards of one file (cluster tasks) use ranges that tile the file: every line is
    read by exactly one of them, whichever byte offsets cut it.
    """

    def __init__(self, path: Path | str, start: int, end: int) -> None:
        self._f = open(path, "rb", buffering=0)  # noqa: SIM115 (closed in close())
        self._end = end
        self._last = b"\n"  # the byte before the next one handed out
        self._pos = start
        if start > 0:
            self._f.seek(start - 1)
            self._pos = start - 1
            while block := self._f.read(READ_BUFFER):
                cut = block.find(b"\n")
                if cut >= 0:
                    self._pos += cut + 1
                    self._f.seek(self._pos)
                    break
                self._pos += len(block)
            else:
                self._last = b""  # no line starts in the range: nothing to read
        self.first = self._pos  # where the first line starts

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._f.fileno()

    def readinto(self, b) -> int:  # type: ignore[override]
        if not self._last:
            return 0
        if self._pos < self._end:
            got = self._f.readinto(memoryview(b)[: min(len(b), self._end - self._pos)]) or 0
        elif self._last == b"\n":  # the line that started before the end is complete
            return 0
        else:  # finish the last line: up to and including its newline
            got = self._f.readinto(b) or 0
            cut = bytes(memoryview(b)[:got]).find(b"\n")
            if cut >= 0:
                got = cut + 1
        if got == 0:
            self._last = b""
            return 0
        self._pos += got
        self._last = bytes(memoryview(b)[got - 1 : got])
        return got

    def close(self) -> None:
        self._f.close()
        super().close()


class Truncated(EOFError):
    """A compressed file that ends before its stream does; the message says where."""


def open_stream(raw: CountingFile, name: str = "") -> IO[bytes]:
    """A buffered, decompressed stream over ``raw``.  The compression is found from the
    magic bytes, not the suffix, so a renamed file still reads; a ``name`` ending in .gz,
    .zst, … makes an empty file or a cut header a :class:`Truncated`."""
    head = raw.head(10)
    named = name.lower().endswith(COMPRESSED_SUFFIXES)
    if named and any(magic.startswith(head) for magic in _MAGICS):
        what = "0 bytes" if not head else f"only {len(head)} bytes, inside the header"
        raise Truncated(f"{what}, though the name says it is compressed (cut short?)")
    if head.startswith(b"\x1f\x8b\x08"):
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if head[:3] == b"BZh" and head[3:4].isdigit() and (len(head) < 10 or head[4:10] in _BZ2):
        return bz2.BZ2File(raw)
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(raw)
    if head.startswith(_ZSTD):
        frames = ZstdFrames(raw)
        reader = zstandard.ZstdDecompressor().stream_reader(frames, read_across_frames=True)
        return io.BufferedReader(_ZstdEnd(reader, frames), READ_BUFFER)
    return io.BufferedReader(raw, READ_BUFFER)


class ZstdFrames(io.RawIOBase):
    """Passes compressed bytes through while following zstd frame and block headers.

    The zstandard reader ends quietly where a cut file ends, even inside a frame; walking
    the headers (sizes only, a few per block) tells a complete stream from a cut one.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._skip = 0  # bytes of block data (or frame header, checksum) still to pass
        self._buf = b""  # a header being gathered
        self._want = 4  # its length
        self._state = "magic"  # magic, skippable, descriptor, block; "" once lost
        self._checksum = False

    def readable(self) -> bool:
        return True

    @property
    def complete(self) -> bool:
        """Whether the bytes so far end between frames (or stopped being zstd frames)."""
        return not self._state or (self._state == "magic" and not self._skip and not self._buf)

    def readinto(self, b) -> int:  # type: ignore[override]
        n = self._raw.readinto(b) or 0
        if self._state:
            self._walk(memoryview(b)[:n])
        return n

    def _walk(self, data: memoryview) -> None:
        i, n = 0, len(data)
        while i < n and self._state:
            if self._skip:
                step = min(self._skip, n - i)
                self._skip -= step
                i += step
                continue
            take = data[i : i + self._want - len(self._buf)]
            self._buf += take
            i += len(take)
            if len(self._buf) == self._want:
                header, self._buf = self._buf, b""
                self._header(header)

    def _header(self, h: bytes) -> None:
        state = self._state
        if state == "magic":
            if h == _ZSTD:
                self._state, self._want = "descriptor", 1
            elif h[1:] == b"\x2a\x4d\x18" and h[0] & 0xF0 == 0x50:
                self._state = "skippable"
            else:
                self._state = ""  # not a frame: the decompressor reports it
        elif state == "skippable":
            self._skip, self._state = int.from_bytes(h, "little"), "magic"
        elif state == "descriptor":
            d = h[0]
            single = d & 0x20
            size_bytes = (1 if single else 0, 2, 4, 8)[d >> 6]
            self._skip = (0 if single else 1) + (0, 1, 2, 4)[d & 3] + size_bytes
            self._checksum = bool(d & 4)
            self._state, self._want = "block", 3
        else:  # a block header: last flag, type, size
            v = int.from_bytes(h, "little")
            self._skip = 1 if (v >> 1) & 3 == 1 else v >> 3  # an RLE block holds one byte
            if v & 1:
                self._skip += 4 * self._checksum
                self._state, self._want = "magic", 4


class _ZstdEnd(io.RawIOBase):
    """The decompressed stream; at its end, a :class:`Truncated` if a frame was cut."""

    def __init__(self, reader: IO[bytes], frames: ZstdFrames) -> None:
        self._reader, self._frames = reader, frames

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        n = self._reader.readinto(b)  # type: ignore[attr-defined]
        if not n and not self._frames.complete:
            raise EOFError("zstd frame cut short")
        return n

    def close(self) -> None:
        self._reader.close()
        super().close()


def sniff_text(head: bytes) -> tuple[str, str] | None:
    """``(kind, reason)`` when the start of a file shows it is not UTF-8 text, else None."""
    for magic, what in _KNOWN_BINARY:
        if head.startswith(magic):
            return "binary", f"looks like {what}; skipped"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "not-text", "UTF-16 text (byte-order mark); convert it to UTF-8; skipped"
    if b"\x00" in head:
        return "binary", "NUL bytes in the first 8 KiB: a binary file; skipped"
    if len(head) >= 64:
        control = len(head) - len(head.translate(None, _CONTROL))
        if control * 10 > len(head):
            return "binary", f"{control / len(head):.0%} control bytes: a binary file; skipped"
        text = codecs.getincrementaldecoder("utf-8")("replace").decode(head)
        if text.count("\ufffd") * 4 > len(text):
            return "not-text", "mostly invalid UTF-8 (another encoding, e.g. GBK?); skipped"
    return None


def sniff_format(head: bytes) -> str:
    """``"json"`` when the text starts with a JSON object line, else ``"txt"``."""
    text = head.removeprefix(_BOM).lstrip()
    if not text.startswith(b"{"):
        return "txt"
    line, newline, _ = text.partition(b"\n")
    if not newline and len(head) >= SNIFF_BYTES:  # the first line runs past the sample
        return "json"
    try:
        return "json" if isinstance(json.loads(line.decode("utf-8", "replace")), dict) else "txt"
    except ValueError:
        return "txt"


def format_of(name: str) -> str:
    """``"txt"``, ``"json"`` or ``"auto"`` from a file name, ignoring a compression suffix."""
    lower = name.lower()
    for comp in COMPRESSED_SUFFIXES:
        if lower.endswith(comp):
            lower = lower[: -len(comp)]
            break
    if lower.endswith(".txt"):
        return "txt"
    if lower.endswith((".jsonl", ".ndjson")):
        return "json"
    if lower.endswith(".json"):
        return "json-array-or-lines"
    return "auto"


def char_boundary(b: bytes) -> int:
    """Where to cut ``b`` so no UTF-8 character is split (len(b) when the end is whole)."""
    n = len(b)
    for i in range(n - 1, max(n - 4, -1), -1):
        c = b[i]
        if c & 0xC0 != 0x80:
            need = 1 if c < 0x80 else 2 if c < 0xE0 else 3 if c < 0xF0 else 4
            return i if n - i < need else n
    return n


@functools.cache
def _classes() -> tuple[np.ndarray, np.ndarray]:
    """The class of every UTF-16 code unit, and the supplementary digits (all in plane 1)."""
    table = np.full(0x10000, 3, np.uint8)
    table[0xD800:0xDC00] = 5
    table[0xDC00:0xE000] = 4
    for cls, ranges in ((0, _HAN_UNITS), (1, _LATIN_UNITS)):
        for lo, hi in ranges:
            table[lo : hi + 1] = cls
    table[[cp for cp in range(0x10000) if chr(cp).isdecimal()]] = 2
    return table, np.array([c for c in range(0x10000, 0x20000) if chr(c).isdecimal()])


def char_classes(text: str) -> tuple[int, int, int, int]:
    """Counts of (Han, Latin, digit, other) characters, vectorised over UTF-16 code units."""
    table, astral_digits = _classes()
    units = np.frombuffer(text.encode("utf-16-le", "surrogatepass"), np.uint16)
    classes = table[units]
    han, latin, digits, other, _, astral = np.bincount(classes, minlength=6).tolist()
    if astral:
        at = np.flatnonzero(classes == 5)
        at = at[at + 1 < len(units)]
        cps = 0x10000 + ((units[at].astype(np.int64) - 0xD800) << 10) + units[at + 1] - 0xDC00
        found = int(np.count_nonzero(np.isin(cps, astral_digits)))
        digits += found
        other += astral - found
    return han, latin, digits, other


class DocReader:
    """Turns one decompressed binary stream into documents, reporting problems as it goes.

    The stream is read in blocks and split at newlines; at most ``max_line`` bytes of an
    unfinished line are held, and a longer line is handed out in pieces cut between
    characters.  ``lineno`` and ``piece_start`` (a byte offset) locate problems.
    """

    def __init__(self, stream: IO[bytes], report: Report, errors: str, max_line: int) -> None:
        self.stream, self.report = stream, report
        self.skip_invalid = errors == "skip"
        self.max_line = max(16, max_line)
        self.lineno = self.piece_start = self.pos = self.invalid_lines = 0
        self._last_invalid = self._last_long = -1
        self._nul = False  # NUL bytes reported (once per file)
        self.objects = 0  # JSON objects seen, whether one had the field, and their keys
        self.found = False
        self.keys: set[str] = set()
        self.record: object = None  # the JSON value the latest document came from
        self.strip_bom = True  # False for a shard that starts inside a file

    # ------------------------------------------------------------------ lines
    def lines(self) -> Iterator[tuple[bytes, bool]]:
        """``(piece, more)`` without the newline; ``more`` says the line goes on in the
        next piece.  ``read1`` keeps blocks small and yields what precedes any damage."""
        read = getattr(self.stream, "read1", self.stream.read)
        pending: list[bytes] = []  # the unfinished last line, block by block
        size = 0
        more = False  # the current line was already counted and partly handed out
        block = read(READ_BUFFER)
        if self.strip_bom and block.startswith(_BOM):
            block, self.pos = block[3:], 3
        while block:
            if not self._nul and b"\x00" in block:  # one C-speed scan per block, until found
                self._nul = True
                line = self.lineno + 1 + block.count(b"\n", 0, block.index(b"\x00"))
                self.report(line, "binary", "NUL bytes: binary data in a text file? (kept)")
            if b"\n" in block:
                if pending:
                    pending.append(block)
                    block = b"".join(pending)
                lines = block.split(b"\n")
                tail = lines.pop()
                pending, size = [tail], len(tail)
                for line in lines:
                    if len(line) > self.max_line:
                        line = yield from self._pieces(line, more)
                    elif not more:
                        self.lineno += 1
                    more = False
                    self.piece_start = self.pos
                    self.pos += len(line) + 1
                    yield line, False
            else:
                pending.append(block)
                size += len(block)
            if size > self.max_line:
                rest = yield from self._pieces(b"".join(pending), more)
                pending, size, more = [rest], len(rest), True
            block = read(READ_BUFFER)
        tail = b"".join(pending)
        if tail:
            self.lineno += not more
            self.piece_start = self.pos
            yield tail, False

    def _pieces(self, data: bytes, more: bool) -> Generator[tuple[bytes, bool], None, bytes]:
        """Hand out ``data`` in pieces of at most ``max_line`` bytes; return the rest."""
        self.lineno += not more
        start, cap = 0, self.max_line
        while len(data) - start > cap:
            piece = data[start : start + cap]
            piece = piece[: char_boundary(piece)]
            self.piece_start = self.pos
            self.pos += len(piece)
            start += len(piece)
            yield piece, True
        return data[start:]

    def decode(self, raw: bytes) -> str | None:
        """UTF-8 text of ``raw``; invalid bytes are reported, then replaced or the text dropped."""
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = raw[exc.start : exc.start + 4].hex(" ")
            self._invalid(f"invalid UTF-8 at byte offset {self.piece_start + exc.start:,} ({bad})")
            return None if self.skip_invalid else raw.decode("utf-8", "replace")

    def _invalid(self, message: str) -> None:
        self.invalid_lines += self.lineno != self._last_invalid
        self._last_invalid = self.lineno
        self.report(self.lineno, "invalid-utf8", message)

    def _long(self, what: str) -> None:
        if self._last_long != self.lineno:
            self._last_long = self.lineno
            self.report(self.lineno, "long-line", f"longer than {self.max_line:,} bytes; {what}")

    # -------------------------------------------------------------------- txt
    def txt(self, paragraphs: bool) -> Iterator[str]:
        """Documents of a text file: one per line, or per blank-line-separated paragraph."""
        if not paragraphs:
            for piece, more in self.lines():
                if more:
                    self._long("split into several documents")
                else:
                    piece = piece.rstrip(b"\r")
                if piece and not piece.isspace() and (text := self.decode(piece)):
                    yield text
            return
        parts: list[str] = []
        size = 0
        bad = continued = False
        for piece, more in self.lines():
            if more:
                self._long("the paragraph is split there")
            elif not continued:
                piece = piece.rstrip(b"\r")
                if not piece or piece.isspace():  # a blank line ends the paragraph
                    if parts and not bad:
                        yield "".join(parts).rstrip("\n")
                    parts, size, bad = [], 0, False
                    continue
            continued = more
            text = self.decode(piece)
            if text is None:
                bad = True
                continue
            parts.append(text if more else text + "\n")
            size += len(piece)
            if size >= self.max_line:
                if not bad:
                    yield "".join(parts).rstrip("\n")
                parts, size, bad = [], 0, False
        if parts and not bad:
            yield "".join(parts).rstrip("\n")

    # ------------------------------------------------------------------- JSON
    def json_lines(self, field: str) -> Iterator[str]:
        """JSON Lines: each line an object whose ``field`` is the document (or a bare string)."""
        loads, raw_decode = json.loads, json.JSONDecoder().raw_decode
        skipping = False
        for piece, more in self.lines():
            if skipping or more:
                if more:
                    self._long("skipped (a JSON line cannot be split)")
                skipping = more
                continue
            if not piece or piece.isspace() or (text := self.decode(piece)) is None:
                continue
            try:  # raw_decode is the fast path; loads gives the error message
                obj, end = raw_decode(text)
                if end != len(text) and not text[end:].isspace():
                    raise ValueError("extra data")
            except ValueError:
                try:
                    obj = loads(text)
                except ValueError as exc:
                    msg = getattr(exc, "msg", str(exc))
                    self.report(self.lineno, "bad-json", f"not valid JSON ({msg}); skipped")
                    continue
            escapes = b"\\ud" in piece or b"\\uD" in piece
            if type(obj) is dict and not escapes and type(doc := obj.get(field)) is str:
                self.found = True  # the common case, kept short
            else:
                doc = self._pick(obj, field, escapes)
            if doc:
                self.record = obj
                yield doc
        self._check_field()

    def json_array(self, field: str) -> Iterator[str]:
        """Elements of a top-level JSON array, parsed one at a time from the stream."""
        for line, value in _array_values(self.stream, self.max_line):
            self.lineno = line
            if isinstance(value, Exception):
                self.report(self.lineno, "bad-json", f"{value}; the rest of the file is skipped")
                break
            if doc := self._pick(value, field, True):
                self.record = value
                yield doc
        self._check_field()

    def _pick(self, obj: object, field: str, escapes: bool) -> str | None:
        """The document in one parsed JSON value, or None after reporting what is wrong."""
        value = obj
        if isinstance(obj, dict):
            self.objects += 1
            value = obj.get(field, _MISSING)
            if value is _MISSING and "." in field:  # a dotted path into nested objects
                value = obj
                for key in field.split("."):
                    value = value.get(key, _MISSING) if isinstance(value, dict) else _MISSING
            if value is _MISSING:
                if len(self.keys) < 50:
                    self.keys.update(map(str, obj))
                self.report(self.lineno, "missing-field", f"no field {field!r}; skipped")
                return None
            if not isinstance(value, str):
                self.found = True
                kind = "null" if value is None else type(value).__name__
                msg = f"field {field!r} is {kind}, not a string; skipped"
                self.report(self.lineno, "not-text", msg)
                return None
        elif not isinstance(obj, str):
            msg = f"a JSON {type(obj).__name__}, not an object; skipped"
            self.report(self.lineno, "bad-json", msg)
            return None
        self.found = True
        if escapes and _SURROGATE.search(value):  # type: ignore[arg-type]
            self._invalid("invalid UTF-8 or a lone surrogate escape in the document")
            return None if self.skip_invalid else _SURROGATE.sub("\ufffd", value)  # type: ignore[arg-type]
        return value  # type: ignore[return-value]

    def _check_field(self) -> None:
        if self.objects and not self.found:
            raise FieldMissing(sorted(self.keys))


_MISSING = object()


def _array_values(stream: IO[bytes], cap: int) -> Iterator[tuple[int, object]]:
    """``(line, value)`` per element of a top-level JSON array; a syntax error is yielded as
    a ``ValueError`` and ends the array (JSON has no point to resynchronise at).  Invalid
    UTF-8 becomes lone surrogates, which ``_pick`` reports."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")("surrogateescape")
    parse = json.JSONDecoder().raw_decode
    buf, pos, line, eof = "", 0, 1, False
    expect = "["  # then a value or "]", then "," or "]", and so on

    while True:
        end = _WS.match(buf, pos).end()  # type: ignore[union-attr]
        line += buf.count("\n", pos, end)
        pos = end
        value, end = None, pos
        try:
            if pos == len(buf):
                raise ValueError("the array is not closed")
            if expect == "value" or (expect == "first" and buf[pos] != "]"):
                value, end = parse(buf, pos)
                if end == len(buf) and not eof:  # a number may go on in the next block
                    raise ValueError("cut")
        except ValueError as exc:
            if not eof and len(buf) - pos <= cap:
                chunk = stream.read(READ_BUFFER)
                eof = not chunk
                buf, pos = buf[pos:] + decoder.decode(chunk, final=eof), 0
                continue
            if pos == len(buf) and expect == "end":
                return
            why = getattr(exc, "msg", str(exc)) if eof else f"element over {cap:,} characters"
            yield line, ValueError(f"not valid JSON at line {line} ({why})")
            return
        if end > pos:  # a value
            yield line, value
            line += buf.count("\n", pos, end)
            pos, expect = end, "sep"
            continue
        char, pos = buf[pos], pos + 1
        if expect == "[" and char == "[":
            expect = "first"
        elif expect in ("first", "sep") and char == "]":
            expect = "end"
        elif expect == "sep" and char == ",":
            expect = "value"
        else:
            what = "'['" if expect == "[" else "',' or ']'" if expect == "sep" else "nothing"
            yield line, ValueError(f"expected {what} at line {line}, found {char!r}")
            return
