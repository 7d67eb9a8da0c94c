"""Hugging Face ``tokenizer.json``: read BPE, Unigram and WordPiece; write piecelab's models.

Reading runs the ``tokenizers`` library itself, since it defines the ids.  Writing
builds the JSON here (no library needed) so that ``tokenizers`` segments exactly as
piecelab does: NFC, the text cut after each run of newlines (BytePiece's line
chunks ``.*\\n+|.+``), every byte one symbol through GPT-2's byte-to-character
table, and Unigram Viterbi over the pieces with their log-probabilities.

Why the scores are written digit by digit: ``tokenizers`` reads JSON numbers with
``serde_json``'s fast parser, which is not correctly rounded (about a quarter of
the 80k model's log-probabilities came back one unit in the last place off), and
Viterbi near-ties then fall the other way.  Each score is written as a decimal that
this parser provably turns into the exact double (:func:`_exact_number`).  Ties
need no care: both Viterbis keep the longest piece ending at a position (piecelab
by ``>=`` over shorter-first candidates, ``tokenizers`` by ``>`` over
earlier-first starts), and both sum scores left to right from 0.
"""

from __future__ import annotations

import copy
import json
import math
import os
import warnings
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..atomic import atomic_write
from ..model import N_SPECIAL, SPECIALS, Model
from .base import Spans, Vocabulary, fail

if TYPE_CHECKING:
    from ..tokenizer import Tokenizer as PieceTokenizer

_KINDS = {"BPE": "hf-bpe", "Unigram": "hf-unigram", "WordPiece": "hf-wordpiece"}
#: The score written for ids Viterbi must never pick (the special tokens, and
#: pieces of count 0, whose log p is −inf, which JSON cannot hold).  Any path of
#: real pieces scores far above it, so it only decides text piecelab rejects.
NEVER_SCORE = -1e30
#: BPE-dropout probabilities are kept inside the open interval (0, 1).
_MIN_DROPOUT = 1e-6


class InexactScoreWarning(UserWarning):
    """An export whose scores ``tokenizers`` cannot all read back exactly."""


# ------------------------------------------------------------------ byte table
@lru_cache(maxsize=1)
def byte_table() -> tuple[tuple[str, ...], dict[str, int]]:
    """GPT-2's byte → character table and its inverse.

    Printable Latin-1 bytes stand for themselves; the other 68 bytes take the
    characters from U+0100 on, in byte order, so every byte is one visible
    character and a byte string is a plain ``str``.
    """
    keep = set(range(0x21, 0x7F)) | set(range(0xA1, 0xAD)) | set(range(0xAE, 0x100))
    chars: list[str] = []
    extra = 0
    for b in range(256):
        if b in keep:
            chars.append(chr(b))
        else:
            chars.append(chr(256 + extra))
            extra += 1
    return tuple(chars), {c: b for b, c in enumerate(chars)}


def bytes_to_unicode(piece: bytes) -> str:
    """A byte string as byte-level BPE writes it (one character per byte)."""
    chars = byte_table()[0]
    return "".join([chars[b] for b in piece])


def unicode_to_bytes(token: str) -> bytes | None:
    """The bytes of a byte-level token, or None if it holds a character outside the table."""
    inverse = byte_table()[1]
    try:
        return bytes([inverse[c] for c in token])
    except KeyError:
        return None


# ------------------------------------------------------------------ reading
class HFVocabulary(Vocabulary):
    """A ``tokenizer.json`` (BPE, Unigram or WordPiece), run by the ``tokenizers`` library."""

    def __init__(self, obj: dict, source: str, tok: Any, kind: str) -> None:
        self.source = source
        self.kind = kind
        self._obj = obj
        self._tok = tok
        self._dropout: dict[float, Any] = {}
        self.score_name = "log p" if kind == "hf-unigram" else "rank"
        self.can_sample = kind == "hf-bpe"
        self.byte_level = _mentions_byte_level(obj.get("pre_tokenizer")) or _mentions_byte_level(
            obj.get("decoder")
        )
        n = tok.get_vocab_size(with_added_tokens=True)
        added = tok.get_added_tokens_decoder()
        n = max([n, *(i + 1 for i in added)])
        pieces: list[bytes] = []
        for i in range(n):
            if i in added:
                pieces.append(str(added[i].content).encode("utf-8"))
                continue
            token = tok.id_to_token(i)
            if token is None:
                pieces.append(b"")
                continue
            raw = unicode_to_bytes(token) if self.byte_level else None
            pieces.append(raw if raw is not None else token.encode("utf-8"))
        self.pieces = pieces
        self.special = np.zeros(n, bool)
        self.special[list(added)] = True
        if kind == "hf-unigram":
            scores = np.zeros(n)
            model_scores = [float(entry[1]) for entry in obj["model"]["vocab"]]
            m = min(n, len(model_scores))
            scores[:m] = model_scores[:m]
            self.scores = scores
        else:  # BPE and WordPiece: the id is the rank (BPE ids follow merge order)
            self.scores = np.arange(n, dtype=np.float64)

    def encode(self, text: str) -> list[int]:
        return list(self._tok.encode(text, add_special_tokens=False).ids)

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        found = self._tok.encode_batch(list(texts), add_special_tokens=False)
        return [list(e.ids) for e in found]

    def decode(self, ids: Iterable[int]) -> str:
        return self._tok.decode([int(i) for i in ids])

    def spans(self, text: str) -> Spans:
        """Char offsets from ``tokenizers`` as byte offsets into ``text``'s UTF-8.

        Tokens that share one character (byte-level BPE cutting a character into
        byte tokens) share its offsets in ``tokenizers``; here they split its bytes
        in order where their pieces add up to exactly that character's bytes.
        """
        enc = self._tok.encode(text, add_special_tokens=False)
        ids = np.array(enc.ids, dtype=np.int64)
        byte_at = np.zeros(len(text) + 1, dtype=np.int64)
        if text:
            np.cumsum([len(c.encode("utf-8", "surrogatepass")) for c in text], out=byte_at[1:])
        offsets = np.array(enc.offsets, dtype=np.int64).reshape(-1, 2)
        starts = byte_at[np.clip(offsets[:, 0], 0, len(text))]
        ends = byte_at[np.clip(offsets[:, 1], 0, len(text))]
        if self.byte_level and len(ids) > 1:
            self._split_shared(ids, starts, ends)
        return Spans(ids, starts, ends)

    def _split_shared(self, ids: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
        """Give runs of tokens with the same span consecutive parts of it, in place."""
        i, n = 0, len(ids)
        while i < n:
            j = i + 1
            while j < n and starts[j] == starts[i] and ends[j] == ends[i]:
                j += 1
            if j - i > 1:
                lengths = [len(self.pieces[t]) for t in ids[i:j].tolist()]
                if sum(lengths) == ends[i] - starts[i]:
                    edges = starts[i] + np.concatenate([[0], np.cumsum(lengths)])
                    starts[i:j] = edges[:-1]
                    ends[i:j] = edges[1:]
            i = j

    def sample(self, text: str, alpha: float, seed: int | None = None) -> list[int]:
        """BPE-dropout: each merge is skipped with probability ``alpha`` (kept in (0, 1)).

        ``seed`` cannot be honoured: ``tokenizers`` draws dropout from its own
        unseeded generator, so two calls with one seed differ.
        """
        if not self.can_sample:
            return super().sample(text, alpha, seed)
        a = float(alpha)
        if not math.isfinite(a):
            raise ValueError(f"alpha must be a finite number, got {alpha!r}")
        p = min(max(a, _MIN_DROPOUT), 1.0 - _MIN_DROPOUT)
        tok = self._dropout.get(p)
        if tok is None:
            from tokenizers import Tokenizer

            obj = copy.deepcopy(self._obj)
            obj["model"]["dropout"] = p
            tok = self._dropout[p] = Tokenizer.from_str(json.dumps(obj))
        return list(tok.encode(text, add_special_tokens=False).ids)


def _mentions_byte_level(part: object) -> bool:
    """Whether a pre-tokenizer or decoder (possibly a Sequence) holds ByteLevel."""
    if isinstance(part, dict):
        if part.get("type") == "ByteLevel":
            return True
        return any(_mentions_byte_level(v) for v in part.values() if isinstance(v, (list, dict)))
    if isinstance(part, list):
        return any(_mentions_byte_level(v) for v in part)
    return False


def _model_type(model: dict, source: str) -> str:
    """The model's type, told by its ``type`` or (older files) by its fields."""
    mtype = model.get("type")
    if mtype is None:
        if "merges" in model:
            mtype = "BPE"
        elif isinstance(model.get("vocab"), list):
            mtype = "Unigram"
        elif "continuing_subword_prefix" in model or "max_input_chars_per_word" in model:
            mtype = "WordPiece"
        else:
            raise fail(source, 'tokenizer.json model has no "type" and its fields name none')
    if mtype not in _KINDS:
        raise fail(
            source,
            f"tokenizer.json model type {mtype!r} is not supported "
            "(piecelab opens BPE, Unigram and WordPiece)",
        )
    return str(mtype)


def _check_vocab(model: dict, mtype: str, source: str) -> None:
    """Say what is wrong with the model's ``vocab`` before ``tokenizers`` is asked."""
    if "vocab" not in model:
        raise fail(source, f'tokenizer.json {mtype} model has no "vocab"')
    vocab = model["vocab"]
    if mtype == "Unigram":
        if not isinstance(vocab, list):
            raise fail(
                source,
                f'tokenizer.json Unigram "vocab" is {type(vocab).__name__}, '
                "not a list of [piece, score]",
            )
        for i, entry in enumerate(vocab):
            ok = (
                isinstance(entry, list)
                and len(entry) == 2
                and isinstance(entry[0], str)
                and isinstance(entry[1], (int, float))
                and not isinstance(entry[1], bool)
            )
            if not ok:
                raise fail(source, f"tokenizer.json Unigram vocab entry {i} is not [piece, score]")
        return
    if not isinstance(vocab, dict):
        raise fail(
            source,
            f'tokenizer.json {mtype} "vocab" is {type(vocab).__name__}, not an object of '
            "token → id",
        )
    for token, i in vocab.items():
        if type(i) is not int or i < 0:
            raise fail(source, f"tokenizer.json {mtype} vocab gives {token!r} the id {i!r}")


def open_hf(obj: dict, source: str) -> Vocabulary:
    """Open a decoded ``tokenizer.json`` (a dict with a ``model`` table) named ``source``.

    Raises :class:`~.base.FormatError` naming the file for other model types
    (WordLevel, ...), a malformed model, or anything ``tokenizers`` refuses.
    """
    model = obj.get("model")
    if not isinstance(model, dict):
        raise fail(source, 'tokenizer.json has no "model" object')
    mtype = _model_type(model, source)
    _check_vocab(model, mtype, source)
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise fail(source, "opening tokenizer.json needs the tokenizers library") from None
    try:
        tok = Tokenizer.from_str(json.dumps(obj))
    except Exception as exc:  # tokenizers raises plain Exception for every problem
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise fail(source, f"tokenizers cannot read this tokenizer.json: {problem}") from None
    try:
        return HFVocabulary(obj, source, tok, _KINDS[mtype])
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise fail(source, f"tokenizer.json {mtype} model is malformed ({exc})") from None


# ------------------------------------------------------------------ writing
def _serde_value(text: str) -> float:
    """The double ``serde_json`` (without ``float_roundtrip``) reads from a JSON number.

    It gathers the digits into an integer significand, converts that to a double,
    then multiplies or divides once by a power of ten from a table of doubles.
    Only the forms :func:`_exact_number` writes are handled (no integer overflow).
    """
    mantissa, _, exp_text = text.lower().partition("e")
    exponent = int(exp_text) if exp_text else 0
    negative = mantissa.startswith("-")
    whole, _, frac = mantissa.lstrip("-").partition(".")
    digits = int(whole + frac)
    if digits >= 1 << 64:
        raise OverflowError(text)
    exponent -= len(frac)
    f = float(digits)
    if exponent >= 0:
        f *= float(10**exponent)
    else:
        f /= float(10**-exponent)
    return -f if negative else f


def _exact_number(x: float) -> str | None:
    """A JSON number that both ``serde_json``'s fast parser and Python read as ``x``, or None.

    Python's shortest repr when the fast parser gets it right (most values);
    otherwise ``S e-k`` with a significand ``S`` (a double, so converted exactly)
    whose one division by 10**k rounds to ``x``.  About 0.2% of doubles have
    neither form (their mantissa lies between the reachable quotients).
    """
    text = repr(float(x))
    if "inf" in text or "nan" in text:
        raise ValueError(f"{x!r} has no JSON number")
    if _serde_value(text) == x:
        return text
    for k in range(1, 23):  # 10**k is an exact double up to 10**22
        p = float(10**k)
        guess = x * p
        if not 2.0**53 <= abs(guess) < 2.0**64 - 4096:  # doubles here are whole numbers
            continue
        cand = guess
        for _ in range(4):  # walk down a few doubles from the guess, then up
            cand = math.nextafter(cand, -math.inf)
        for _ in range(9):
            if cand / p == x:
                number = f"{int(cand)}e-{k}"
                if _serde_value(number) == x and float(number) == x:
                    return number
            cand = math.nextafter(cand, math.inf)
    return None


def _score_number(x: float) -> tuple[str, bool]:
    """(JSON number, whether it is exact) for a score: ``x`` or, failing that, its nearest
    double neighbour that ``tokenizers`` reads exactly (one unit in the last place off)."""
    exact = _exact_number(x)
    if exact is not None:
        return exact, True
    down = up = x
    for _ in range(64):
        down, up = math.nextafter(down, -math.inf), math.nextafter(up, math.inf)
        for near in (up, down) if up <= 0.0 else (down,):  # log p stays ≤ 0
            found = _exact_number(near)
            if found is not None:
                return found, False
    raise ValueError(f"no JSON number near {x!r} that tokenizers reads")  # pragma: no cover


def hf_json(model: Model | PieceTokenizer) -> str:
    """The ``tokenizer.json`` text that segments as piecelab's tokenizer for ``model``.

    Ids are piecelab's: ``<pad>``, ``<bos>``, ``<eos>`` at 0, 1, 2 (special added
    tokens) and piece ``i`` at ``i + 3``.  A model missing some single byte gives
    text holding that byte no segmentation: piecelab raises ``ValueError``, and
    ``tokenizers`` raises its "unknown token but ``unk_id`` is missing" error.
    Text holding ``<pad>``, ``<bos>`` or ``<eos>`` literally gets those special ids
    from ``tokenizers`` (as every added token does) but bytes from piecelab; set
    ``encode_special_tokens = True`` on the loaded tokenizer (the file cannot
    carry it) to have them read as text.
    """
    m: Model = getattr(model, "model", model)  # a piecelab Tokenizer holds its Model
    if not isinstance(m, Model):
        raise TypeError(f"expected a piecelab Model or Tokenizer, got {type(model).__name__}")
    m.validate()
    specials = set(SPECIALS)
    tokens = [bytes_to_unicode(p) for p in m.pieces]
    clash = next((t for t in tokens if t in specials), None)
    if clash is not None:
        raise ValueError(
            f"{m.source}: the model holds the piece {clash!r}, the name of a special token; "
            "a tokenizer.json cannot give both their own ids"
        )
    log_p = m.log_probs()[N_SPECIAL:]
    never = _score_number(NEVER_SCORE)[0]
    entries = [f"[{json.dumps(s)},{never}]" for s in SPECIALS]
    inexact = 0
    for token, score in zip(tokens, log_p.tolist()):
        number, exact = _score_number(score) if math.isfinite(score) else (never, True)
        inexact += not exact
        entries.append(f"[{json.dumps(token, ensure_ascii=False)},{number}]")
    if inexact:
        warnings.warn(
            f"{m.source}: {inexact} of {len(tokens):,} log-probabilities have no JSON number "
            "that tokenizers reads exactly; they are written one unit in the last place off, "
            "which can turn a Viterbi near-tie the other way",
            InexactScoreWarning,
            stacklevel=3,
        )
    byte_level = {"add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    head = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {
                "id": i,
                "content": s,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
            for i, s in enumerate(SPECIALS)
        ],
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                # the line chunks: a cut after each run of newlines, kept with its line
                {
                    "type": "Split",
                    "pattern": {"Regex": "\\n+"},
                    "behavior": "MergedWithPrevious",
                    "invert": False,
                },
                {"type": "ByteLevel", **byte_level},
            ],
        },
        "post_processor": None,
        "decoder": {"type": "ByteLevel", **byte_level},
    }
    text = json.dumps(head, ensure_ascii=False)[:-1]
    vocab = ",\n".join(entries)
    return (
        f'{text},"model":{{"type":"Unigram","unk_id":null,"byte_fallback":false,'
        f'"vocab":[\n{vocab}\n]}}}}\n'
    )


def export_hf(model: Model | PieceTokenizer, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` (or a piecelab Tokenizer's model) as a ``tokenizer.json``, atomically.

    ``tokenizers.Tokenizer.from_file(path)`` then gives piecelab's ids for every
    text piecelab tokenizes (see :func:`hf_json` for the two exceptions).
    """
    path = Path(path)
    atomic_write(path, hf_json(model).encode("utf-8"))
    return path


__all__ = [
    "NEVER_SCORE",
    "HFVocabulary",
    "InexactScoreWarning",
    "byte_table",
    "bytes_to_unicode",
    "export_hf",
    "hf_json",
    "open_hf",
    "unicode_to_bytes",
]
