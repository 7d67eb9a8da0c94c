"""Cost per language or script: what a vocabulary charges each kind of text.

:func:`cost_reports` tokenizes documents once per vocabulary and splits the figures
into groups, ``by``:

* ``"script"``: the Unicode script of each character (:data:`SCRIPT_GROUPS`, a lookup table
  over code points).  Digits, punctuation (with symbols and emoji) and whitespace are
  groups of their own, so "Latin" measures letters, not the spaces between words.
  Combining marks, joiners and variation selectors take the group of the character
  before them.  A token spanning groups counts fractionally in each, by its bytes:
  ``" the"`` is ¼ of a token of whitespace and ¾ of Latin.
* ``"field:NAME"``: a field of each document's JSON object (``lang``; a dotted path
  reaches into nested objects).  Every token of a document counts in its group;
  documents without the field are in :data:`NO_FIELD`.

Per group (and overall): documents (that hold the group), bytes, characters, tokens,
``bytes_per_token``, ``chars_per_token``, ``fertility``, ``vocab_used`` (the share of
the vocabulary's pieces, special ids excluded, that occur in the group),
``renyi_efficiency`` (Rényi entropy of order α = 2.5 of the group's token
distribution over log |V|, |V| the pieces without special ids) and ``premium`` (tokens
per byte relative to the reference group: the largest by bytes unless chosen).

Fertility is tokens per word.  A word is a whitespace-separated word; for the script
groups of text written without spaces (Han, Kana, Hangul, Thai), and for punctuation and
whitespace, the unit is the character instead (``fertility_unit`` says which).  Overall
and for field groups (languages, mixed scripts), each Han, Kana, Hangul or Thai
character counts as a word, and so does each whitespace-separated word holding any
other letter, digit or character that is not punctuation.

Token spans are byte spans of the UTF-8 text: piecelab's tokenizer (and BytePiece
vocabularies) segment a whole batch of documents in one kernel call, in the NFC form of
the text they tokenize; any other :class:`~.formats.Vocabulary` gives its library's
:meth:`~.formats.Vocabulary.spans` document by document.  Classifying, splitting and
counting are vectorized over a batch of documents: no Python loop per token.
"""

from __future__ import annotations

import functools
import json
import math
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .formats import Vocabulary
from .model import N_SPECIAL
from .normalize import nfc
from .tokenizer import Tokenizer

ALPHA = 2.5  # the order of the Rényi entropy
NO_FIELD = "(none)"  # the group of documents without the field (or from text files)
BATCH_CHARS = 1 << 22  # documents are classified and tokenized this many characters at a time

SCRIPT_GROUPS = (
    "Latin", "Greek", "Cyrillic", "Arabic", "Hebrew", "Devanagari", "Indic", "Thai",
    "Han", "Kana", "Hangul", "digits", "punctuation", "whitespace", "other",
)  # fmt: skip
(LATIN, GREEK, CYRILLIC, ARABIC, HEBREW, DEVANAGARI, INDIC, THAI,
 HAN, KANA, HANGUL, DIGITS, PUNCT, SPACE, OTHER) = range(len(SCRIPT_GROUPS))  # fmt: skip
_INHERIT = len(SCRIPT_GROUPS)  # marks and joiners: the group of the character before
_K = len(SCRIPT_GROUPS)
_NO_SPACES = (THAI, HAN, KANA, HANGUL)  # written without spaces: a character is a word
_PER_CHAR = (*_NO_SPACES, PUNCT, SPACE)  # script groups whose fertility is per character
_WORDLESS = (PUNCT, SPACE)  # makes no word of its own

_RANGES = {  # code points per script; categories then make digits, punctuation, spaces
    LATIN: (
        (0x41, 0x5A), (0x61, 0x7A), (0xAA, 0xAA), (0xBA, 0xBA), (0xC0, 0x2AF),
        (0x1D00, 0x1DBF), (0x1E00, 0x1EFF), (0x2071, 0x2071), (0x207F, 0x207F),
        (0x2090, 0x209C), (0x2C60, 0x2C7F), (0xA720, 0xA7FF), (0xAB30, 0xAB6F),
        (0xFB00, 0xFB06), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A),
    ),
    GREEK: ((0x370, 0x3FF), (0x1F00, 0x1FFF)),
    CYRILLIC: ((0x400, 0x52F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F)),
    ARABIC: ((0x600, 0x6FF), (0x750, 0x77F), (0x870, 0x8FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFC)),
    HEBREW: ((0x590, 0x5FF), (0xFB1D, 0xFB4F)),
    DEVANAGARI: ((0x900, 0x97F), (0xA8E0, 0xA8FF)),
    INDIC: ((0x980, 0xDFF),),  # Bengali, Gurmukhi, Gujarati, Oriya, Tamil … Sinhala
    THAI: ((0xE00, 0xE7F),),
    HAN: (
        (0x3005, 0x3007), (0x3021, 0x3029), (0x3038, 0x303B), (0x3400, 0x4DBF),
        (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF),
    ),
    KANA: ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F), (0x1B000, 0x1B16F)),
    HANGUL: ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF),
             (0xFFA0, 0xFFDC)),
}  # fmt: skip
_INHERITED = ((0x200C, 0x200D), (0xFE00, 0xFE0F), (0xE0000, 0xE007F), (0xE0100, 0xE01EF))


@functools.cache
def _table() -> np.ndarray:
    """The group of every code point (uint8; :data:`_INHERIT` for marks and joiners)."""
    table = np.full(0x110000, OTHER, np.uint8)
    for cls, ranges in _RANGES.items():
        for lo, hi in ranges:
            table[lo : hi + 1] = cls
    low = 0x20000  # planes 0 and 1 by category; planes 2 and 3 are Han, the rest other
    cats = np.array([unicodedata.category(chr(c)) for c in range(low)])
    major = cats.astype("<U1")
    head = table[:low]
    head[(major == "M") & (head == OTHER)] = _INHERIT
    head[(major == "P") | (major == "S")] = PUNCT
    head[cats == "Nd"] = DIGITS
    for lo, hi in _INHERITED:
        table[lo : hi + 1] = _INHERIT
    table[[c for c in range(0x3001) if chr(c).isspace()] + [0x200B]] = SPACE
    return table


def script_of(char: str) -> str:
    """The group of one character (:data:`SCRIPT_GROUPS`), or ``"inherited"`` for a mark
    or joiner (which takes the group of the character before it)."""
    cls = int(_table()[ord(char)])
    return SCRIPT_GROUPS[cls] if cls < _K else "inherited"


def parse_group_by(by: str) -> str | None:
    """The JSON field of ``by="field:NAME"``, None for ``"script"``; else a ValueError."""
    if by == "script":
        return None
    kind, sep, name = by.partition(":")
    if kind == "field" and sep and name:
        return name
    raise ValueError(f"give 'script' or 'field:NAME' (a JSON field, like field:lang), not {by!r}")


@dataclass
class GroupCost:
    """What a vocabulary made of one group of text; the ratios are derived (None: no tokens)."""

    group: str
    documents: int = 0
    bytes: int = 0
    chars: int = 0
    tokens: float = 0.0  # fractional where tokens span groups
    units: int = 0  # words (or characters: ``fertility_unit``), the fertility's divisor
    fertility_unit: str = "word"
    vocab_used: float | None = None
    renyi_efficiency: float | None = None
    premium: float | None = None

    @property
    def bytes_per_token(self) -> float | None:
        return self.bytes / self.tokens if self.tokens > 0 else None

    @property
    def chars_per_token(self) -> float | None:
        return self.chars / self.tokens if self.tokens > 0 else None

    @property
    def fertility(self) -> float | None:
        return self.tokens / self.units if self.tokens > 0 and self.units else None

    @property
    def tokens_per_byte(self) -> float | None:
        return self.tokens / self.bytes if self.tokens > 0 and self.bytes else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "documents": self.documents,
            "bytes": self.bytes,
            "chars": self.chars,
            "tokens": round(self.tokens, 6),
            "units": self.units,
            "bytes_per_token": self.bytes_per_token,
            "chars_per_token": self.chars_per_token,
            "fertility": self.fertility,
            "fertility_unit": self.fertility_unit,
            "vocab_used": self.vocab_used,
            "renyi_efficiency": self.renyi_efficiency,
            "premium": self.premium,
        }


@dataclass
class CostReport:
    """One vocabulary's cost per group, largest group (by bytes) first."""

    model: str
    kind: str
    by: str
    reference: str | None  # the group premiums are relative to
    pieces: int  # |V|: the vocabulary without special ids
    overall: GroupCost
    groups: list[GroupCost] = field(default_factory=list)
    seconds: float = 0.0  # tokenizing and counting; reading the documents is not counted

    def group(self, name: str) -> GroupCost:
        for g in self.groups:
            if g.group == name:
                return g
        raise KeyError(f"no group {name!r}; groups: {', '.join(self.names()) or 'none'}")

    def names(self) -> list[str]:
        return [g.group for g in self.groups]

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "kind": self.kind,
            "by": self.by,
            "reference": self.reference,
            "pieces": self.pieces,
            "seconds": self.seconds,
            "overall": self.overall.as_dict(),
            "groups": [g.as_dict() for g in self.groups],
        }


def cost_report(
    vocab: Tokenizer | Vocabulary,
    documents: Iterable[str | tuple[str, object]],
    by: str = "script",
    reference: str | None = None,
    *,
    name: str | None = None,
    workers: int | None = 1,
) -> CostReport:
    """:func:`cost_reports` of one vocabulary."""
    names = None if name is None else [name]
    return cost_reports([vocab], documents, by, reference, names=names, workers=workers)[0]


def cost_reports(
    vocabs: Sequence[Tokenizer | Vocabulary],
    documents: Iterable[str | tuple[str, object]],
    by: str = "script",
    reference: str | None = None,
    *,
    names: Sequence[str] | None = None,
    workers: int | None = 1,
    batch_chars: int = BATCH_CHARS,
) -> list[CostReport]:
    """Cost per group of each vocabulary, side by side, in one pass over ``documents``.

    ``documents``: texts, or ``(text, record)`` pairs for ``by="field:NAME"``, where the
    record is the document's JSON object (:meth:`Corpus.records`) or the group's name
    itself; a plain text (or a None record) is in :data:`NO_FIELD`.  ``reference``: the
    group premiums are relative to (default: the largest by bytes, of the first
    vocabulary); a group that is not there raises :class:`ValueError`.  ``workers``:
    threads of piecelab's tokenizer (None: all cores).
    """
    key = parse_group_by(by)
    if key is None and reference is not None:
        reference = _script_name(reference)
    runners = [
        _Runner(v, None if names is None else names[i], workers) for i, v in enumerate(vocabs)
    ]
    labels: dict[str, int] = {g: i for i, g in enumerate(SCRIPT_GROUPS)} if key is None else {}
    shared = 0.0
    for texts, records in _batches(documents, batch_chars):
        t = time.perf_counter()
        doc_groups = None if key is None else _label(records, key, labels)
        text = _Text.of(texts)
        shared += time.perf_counter() - t
        for runner in runners:
            runner.add(texts, text, doc_groups)
    unit = _script_unit if key is None else (lambda g: "word")
    reports = [r.report(list(labels), by, unit, shared) for r in runners]
    if reports:
        _set_premiums(reports, reference)
    return reports


def _script_name(name: str) -> str:
    """The script group ``name`` names, ignoring case; else a ValueError listing them."""
    for g in SCRIPT_GROUPS:
        if g.lower() == name.lower():
            return g
    raise ValueError(
        f"no script group {name!r} to take as the reference; groups: {', '.join(SCRIPT_GROUPS)}"
    )


def _script_unit(group: int) -> str:
    return "char" if group in _PER_CHAR else "word"


def _set_premiums(reports: list[CostReport], reference: str | None) -> None:
    """Premium of every group: its tokens per byte over the reference group's."""
    if reference is None:
        first = reports[0].groups
        reference = first[0].group if first else None
    for rep in reports:
        rep.reference = reference
        if reference is None:
            continue
        try:
            base = rep.group(reference).tokens_per_byte
        except KeyError:
            raise ValueError(
                f"no group {reference!r} in the documents to take as the reference; "
                f"groups: {', '.join(rep.names()) or 'none'}"
            ) from None
        for g in [rep.overall, *rep.groups]:
            tpb = g.tokens_per_byte
            g.premium = tpb / base if tpb is not None and base else None


def _batches(
    documents: Iterable[str | tuple[str, object]], batch_chars: int
) -> Iterator[tuple[list[str], list[object]]]:
    """(texts, records) a batch of about ``batch_chars`` characters at a time."""
    texts: list[str] = []
    records: list[object] = []
    size = 0
    for doc in documents:
        if isinstance(doc, str):
            text, record = doc, None
        else:
            text, record = doc
        texts.append(text)
        records.append(record)
        size += len(text)
        if size >= batch_chars:
            yield texts, records
            texts, records, size = [], [], 0
    if texts:
        yield texts, records


def _label(records: list[object], key: str, labels: dict[str, int]) -> np.ndarray:
    """The group number of each document (new groups join ``labels``)."""
    out = np.empty(len(records), np.int64)
    for i, record in enumerate(records):
        name = _field_value(record, key)
        out[i] = labels.setdefault(name, len(labels))
    return out


def _field_value(record: object, key: str) -> str:
    """The group name of one record: its field ``key`` (a dotted path reaches in)."""
    if record is None:
        return NO_FIELD
    if isinstance(record, Mapping):
        value = record.get(key, _MISSING)
        if value is _MISSING and "." in key:
            value = record
            for part in key.split("."):
                value = value.get(part, _MISSING) if isinstance(value, Mapping) else _MISSING
        if value is _MISSING or value is None:
            return NO_FIELD
        record = value
    if isinstance(record, str):
        return record
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


_MISSING = object()


@dataclass
class _Text:
    """A batch of documents cut into runs: maximal runs of characters of one group within
    one document.  Every per-run array has one entry per run, in text order."""

    doc_bytes: np.ndarray  # where each document starts in the batch's UTF-8, then the end
    cls: np.ndarray  # group
    doc: np.ndarray  # document
    b0: np.ndarray  # byte span
    b1: np.ndarray
    chars: np.ndarray  # characters
    word: np.ndarray  # the whitespace-separated word it is in (numbered across the batch)

    @classmethod
    def of(cls, texts: Sequence[str]) -> _Text:
        cp = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), np.uint32)
        nchars = np.fromiter(map(len, texts), np.int64, len(texts))
        coff = np.zeros(len(texts) + 1, np.int64)
        np.cumsum(nchars, out=coff[1:])
        firsts = coff[:-1][nchars > 0]
        group = _inherit(_table()[cp], firsts)
        size = 1 + (cp >= 0x80).astype(np.int64) + (cp >= 0x800) + (cp >= 0x10000)
        cb = np.zeros(len(cp) + 1, np.int64)
        np.cumsum(size, out=cb[1:])
        start = np.ones(len(cp), bool)
        start[1:] = group[1:] != group[:-1]
        start[firsts] = True
        rs = np.flatnonzero(start)
        re = np.append(rs[1:], len(cp))
        doc = np.searchsorted(coff, rs, side="right") - 1
        run_cls = group[rs].astype(np.int64)
        return cls(cb[coff], run_cls, doc, cb[rs], cb[re], re - rs, _words(run_cls, doc))

    @functools.cached_property
    def byte_run(self) -> np.ndarray:
        """The run of every byte."""
        return np.repeat(np.arange(len(self.cls)), self.b1 - self.b0)

    @property
    def documents(self) -> int:
        return len(self.doc_bytes) - 1

    def per_document(self) -> np.ndarray:
        """(1, bytes, characters, words) of each document, words as overall (see above)."""
        d = self.documents
        nos = np.isin(self.cls, _NO_SPACES)
        out = np.zeros((4, d))
        out[0] = 1
        out[1] = np.diff(self.doc_bytes)
        out[2] = np.bincount(self.doc, self.chars, d)
        words = ~nos & ~np.isin(self.cls, _WORDLESS)
        w, wdoc = self.word[words], self.doc[words]
        first = np.ones(len(w), bool)
        first[1:] = w[1:] != w[:-1]
        out[3] = np.bincount(self.doc, self.chars * nos, d) + np.bincount(wdoc[first], None, d)
        return out

    def per_script(self) -> np.ndarray:
        """(documents, bytes, characters, units) of each group of :data:`SCRIPT_GROUPS`."""
        out = np.zeros((4, _K))
        out[0] = _distinct(self.doc, self.cls, self.documents)
        out[1] = np.bincount(self.cls, self.b1 - self.b0, _K)
        out[2] = np.bincount(self.cls, self.chars, _K)
        by_word = ~np.isin(self.cls, _PER_CHAR)
        words = _distinct(self.word[by_word], self.cls[by_word], int(self.word[-1]) + 1)
        per_char = np.isin(np.arange(_K), _PER_CHAR)
        out[3] = np.where(per_char, out[2], words)
        return out


def _distinct(outer: np.ndarray, group: np.ndarray, n_outer: int) -> np.ndarray:
    """Per group, how many distinct ``outer`` (documents, words) hold it."""
    seen = np.zeros(max(n_outer, 0) * _K, bool)
    seen[outer * _K + group] = True
    return np.bincount(np.flatnonzero(seen) % _K, None, _K)


def _inherit(group: np.ndarray, firsts: np.ndarray) -> np.ndarray:
    """``group`` with each mark or joiner given the group before it (a document's first
    character, if one, is other)."""
    marks = group == _INHERIT
    if not marks.any():
        return group
    group = group.copy()
    group[firsts[marks[firsts]]] = OTHER
    idx = np.where(group == _INHERIT, 0, np.arange(len(group)))
    np.maximum.accumulate(idx, out=idx)
    return group[idx]


def _words(cls: np.ndarray, doc: np.ndarray) -> np.ndarray:
    """Per run, the number of its whitespace-separated word (whitespace runs: the word
    before; runs of whitespace are never within a word)."""
    space = cls == SPACE
    new = ~space
    if len(cls):
        new[1:] &= space[:-1] | (doc[1:] != doc[:-1])
    return np.cumsum(new) - 1


class _Runner:
    """One vocabulary through the batches: its token spans and what it counted so far."""

    def __init__(self, vocab: Tokenizer | Vocabulary, name: str | None, workers: int | None):
        native = vocab if isinstance(vocab, Tokenizer) else None
        if native is None and vocab.kind == "bytepiece":
            native = vocab.native()
        self.vocab, self.native, self.workers = vocab, native, workers
        if native is not None:
            size = native.vocab_size
            self.special = np.arange(size) < N_SPECIAL
            self.lengths = np.zeros(size + 1, np.int64)
            self.lengths[N_SPECIAL:size] = np.fromiter(map(len, native.model.pieces), np.int64)
            self.kind = "bytepiece"
            source = native.model.source
        else:
            self.special = np.asarray(vocab.special, bool)
            self.kind = vocab.kind
            source = vocab.source
        self.name = str(source) if name is None else name
        self.size = len(self.special)  # ids beyond count in a last slot, never as used pieces
        self.pieces = int(np.count_nonzero(~self.special))
        self.text = np.zeros((4, 0))  # documents, bytes, characters, units per group
        self.overall_text = np.zeros(4)
        self.tokens = _Counts(self.size + 1)
        self.overall = np.zeros(self.size + 1)
        self.seconds = 0.0

    def add(self, texts: list[str], text: _Text, doc_groups: np.ndarray | None) -> None:
        """Count one batch: ``text`` is its classification, ``doc_groups`` each document's
        group (None: by script)."""
        t = time.perf_counter()
        if self.native is not None:
            normal = [nfc(s) for s in texts]
            if any(a is not b for a, b in zip(normal, texts)):
                texts, text = normal, _Text.of(normal)
            ids, starts, ends, tdoc = self._native_spans(texts)
        else:
            ids, starts, ends, tdoc = self._library_spans(texts, text)
        ids = np.minimum(ids, self.size)
        docs = text.per_document()
        self.overall_text += docs.sum(axis=1)
        if doc_groups is None:
            self._add_text(text.per_script())
            tok, groups, weights = _split(text, starts, ends, tdoc)
        else:
            n = int(doc_groups.max()) + 1 if len(doc_groups) else 0
            self._add_text(np.stack([np.bincount(doc_groups, row, n) for row in docs]))
            tok, groups, weights = np.arange(len(ids)), doc_groups[tdoc], np.ones(len(ids))
        self.tokens.add(groups, ids[tok], weights)
        self.overall += np.bincount(ids, None, self.size + 1)
        self.seconds += time.perf_counter() - t

    def _add_text(self, figures: np.ndarray) -> None:
        n = figures.shape[1]
        if n > self.text.shape[1]:
            self.text = np.pad(self.text, ((0, 0), (0, n - self.text.shape[1])))
        self.text[:, :n] += figures

    def _native_spans(self, texts: list[str]) -> tuple[np.ndarray, ...]:
        """piecelab's segmentation of the whole batch at once (pieces tile the text)."""
        counts, chunks = [], []
        for bounds, ids in self.native._segment_parts(texts, -1, self.workers, None):  # type: ignore[union-attr]
            counts.append(np.diff(bounds))
            chunks.append(ids)
        ids = np.concatenate(chunks).astype(np.int64)
        size = self.lengths[ids]
        ends = np.cumsum(size)
        tdoc = np.repeat(np.arange(len(texts)), np.concatenate(counts))
        return ids, ends - size, ends, tdoc

    def _library_spans(self, texts: list[str], text: _Text) -> tuple[np.ndarray, ...]:
        """The library's spans, a document at a time, moved to the batch's byte offsets."""
        ids, starts, ends, counts = [], [], [], []
        bounds = text.doc_bytes.tolist()
        for d, doc in enumerate(texts):
            sp = self.vocab.spans(doc)  # type: ignore[union-attr]
            lo, n = bounds[d], bounds[d + 1] - bounds[d]
            s = np.clip(np.asarray(sp.starts, np.int64), 0, n)
            starts.append(s + lo)
            ends.append(np.maximum(np.clip(np.asarray(sp.ends, np.int64), 0, n), s) + lo)
            ids.append(np.asarray(sp.ids, np.int64))
            counts.append(len(sp.ids))
        tdoc = np.repeat(np.arange(len(texts)), counts)
        return (*(np.concatenate([np.zeros(0, np.int64), *a]) for a in (ids, starts, ends)), tdoc)

    def report(
        self, names: list[str], by: str, unit: Callable[[int], str], shared: float
    ) -> CostReport:
        """The figures so far (premiums are set by :func:`_set_premiums`)."""
        totals = self.tokens.totals(len(names))
        text = np.pad(self.text, ((0, 0), (0, len(names) - self.text.shape[1])))
        groups = [
            self._group(name, text[:, g], totals[g], self.tokens.row(g), unit(g))
            for g, name in enumerate(names)
            if text[1, g] or totals[g]
        ]
        groups.sort(key=lambda g: (-g.bytes, -g.tokens, g.group))
        overall = self._group(
            "overall", self.overall_text, self.overall.sum(), self.overall, "word"
        )
        return CostReport(
            self.name, self.kind, by, None, self.pieces, overall, groups, self.seconds + shared
        )

    def _group(
        self, name: str, text: np.ndarray, tokens: float, counts: np.ndarray, unit: str
    ) -> GroupCost:
        used = counts[: self.size][~self.special] > 0
        return GroupCost(
            group=name,
            documents=int(text[0]),
            bytes=int(text[1]),
            chars=int(text[2]),
            tokens=float(tokens),
            units=int(text[3]),
            fertility_unit=unit,
            vocab_used=float(used.sum() / self.pieces) if self.pieces else None,
            renyi_efficiency=renyi_efficiency(counts, self.pieces),
        )


def renyi_efficiency(counts: np.ndarray, pieces: int, alpha: float = ALPHA) -> float | None:
    """Rényi entropy of order ``alpha`` of the distribution ``counts`` (per id, fractional
    counts welcome) over log ``pieces``; None without tokens or with under two pieces."""
    total = float(np.sum(counts))
    if total <= 0 or pieces < 2:
        return None
    p = np.asarray(counts, np.float64) / total
    p = p[p > 0]
    return float(math.log(float(np.sum(p**alpha))) / (1 - alpha) / math.log(pieces))


def _split(
    text: _Text, starts: np.ndarray, ends: np.ndarray, tdoc: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(token, group, weight): each token's share of each group it spans, by bytes.

    A token that covers no byte (an added prefix) counts whole in the group of the byte
    where it stands (the document's last byte at its end; other in an empty document).
    """
    length = ends - starts
    whole = np.flatnonzero(length > 0)
    r0 = text.byte_run[starts[whole]]
    r1 = text.byte_run[ends[whole] - 1]
    pure = r0 == r1
    tok, grp, wt = [whole[pure]], [text.cls[r0[pure]]], [np.ones(int(pure.sum()))]
    if not pure.all():
        i, a = whole[~pure], r0[~pure]
        n = r1[~pure] - a + 1
        rep = np.repeat(i, n)
        run = np.repeat(a, n) + np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        share = np.minimum(ends[rep], text.b1[run]) - np.maximum(starts[rep], text.b0[run])
        tok.append(rep)
        grp.append(text.cls[run])
        wt.append(share / length[rep])
    empty = np.flatnonzero(length <= 0)
    if len(empty):
        lo, hi = text.doc_bytes[tdoc[empty]], text.doc_bytes[tdoc[empty] + 1]
        at = np.clip(np.minimum(starts[empty], hi - 1), 0, max(len(text.byte_run) - 1, 0))
        inside = hi > lo
        groups = np.full(len(empty), OTHER, np.int64)
        groups[inside] = text.cls[text.byte_run[at[inside]]]
        tok.append(empty)
        grp.append(groups)
        wt.append(np.ones(len(empty)))
    return np.concatenate(tok), np.concatenate(grp), np.concatenate(wt)


class _Counts:
    """Fractional token counts per (group, id): dense while groups × ids is small, sparse
    (sorted keys) past that, so a field with thousands of values stays in memory."""

    DENSE_CELLS = 1 << 22

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.dense = np.zeros(0)
        self.keys = np.zeros(0, np.int64)
        self.vals = np.zeros(0)

    def add(self, groups: np.ndarray, ids: np.ndarray, weights: np.ndarray) -> None:
        if not len(groups):
            return
        keys = groups.astype(np.int64) * self.slots + ids
        cells = (int(groups.max()) + 1) * self.slots
        if cells <= max(self.DENSE_CELLS, len(self.dense)):
            if cells > len(self.dense):
                self.dense = np.pad(self.dense, (0, cells - len(self.dense)))
            self.dense[:cells] += np.bincount(keys, weights, cells)
            return
        keys, inverse = np.unique(np.concatenate([self.keys, keys]), return_inverse=True)
        self.vals = np.bincount(inverse, np.concatenate([self.vals, weights]), len(keys))
        self.keys = keys

    def row(self, group: int) -> np.ndarray:
        s = self.slots
        out = np.zeros(s)
        dense = self.dense[group * s : (group + 1) * s]
        out[: len(dense)] += dense
        lo, hi = np.searchsorted(self.keys, [group * s, (group + 1) * s])
        np.add.at(out, self.keys[lo:hi] - group * s, self.vals[lo:hi])
        return out

    def totals(self, groups: int) -> np.ndarray:
        """Tokens per group."""
        out = np.zeros(groups)
        dense = self.dense.reshape(-1, self.slots).sum(axis=1)
        out[: len(dense)] += dense
        np.add.at(out, self.keys // self.slots, self.vals)
        return out
