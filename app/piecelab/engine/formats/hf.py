"""Hugging Face ``tokenizer.json``: BPE, Unigram and WordPiece, read through ``tokenizers``.

The library itself runs the file, since it defines the ids; byte-level tokens
are turned back into their bytes (:mod:`..byte_level`).  The writer of piecelab's
models in this format is :mod:`..exporters.hf`.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..byte_level import unicode_to_bytes
from .base import Spans, Vocabulary, check_text, fail

_KINDS = {"BPE": "hf-bpe", "Unigram": "hf-unigram", "WordPiece": "hf-wordpiece"}
#: BPE-dropout probabilities are kept inside the open interval (0, 1).
_MIN_DROPOUT = 1e-6


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
        self.metaspace = "Metaspace" in json.dumps([obj.get("pre_tokenizer"), obj.get("decoder")])
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
        return list(self._tok.encode(check_text(text), add_special_tokens=False).ids)

    def surface(self, i: int) -> str | None:
        """The piece's text (``▁`` as a space under Metaspace); None for a WordPiece
        continuation (``##ing`` is only reached after another piece)."""
        if self.kind == "hf-wordpiece" and self.pieces[i].startswith(b"##"):
            return None
        text = super().surface(i)
        return text.replace("\u2581", " ") if text is not None and self.metaspace else text

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        found = self._tok.encode_batch([check_text(t) for t in texts], add_special_tokens=False)
        return [list(e.ids) for e in found]

    def decode(self, ids: Iterable[int]) -> str:
        return self._tok.decode([int(i) for i in ids])

    def spans(self, text: str) -> Spans:
        """Char offsets from ``tokenizers`` as byte offsets into ``text``'s UTF-8.

        Tokens that share one character (byte-level BPE cutting a character into
        byte tokens) share its offsets in ``tokenizers``; here they split its bytes
        in order where their pieces add up to exactly that character's bytes.
        """
        return self._spans(self._tok.encode(check_text(text), add_special_tokens=False), text)

    def _spans(self, enc: Any, text: str) -> Spans:
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
        return list(self._dropout_for(alpha).encode(check_text(text), add_special_tokens=False).ids)

    def sample_spans(self, text: str, alpha: float, seed: int | None = None) -> Spans:
        """:meth:`sample` with the byte spans of its tokens (as :meth:`spans`)."""
        if not self.can_sample:
            return super().sample_spans(text, alpha, seed)
        enc = self._dropout_for(alpha).encode(check_text(text), add_special_tokens=False)
        return self._spans(enc, text)

    def _dropout_for(self, alpha: float) -> Any:
        """This tokenizer with BPE-dropout ``alpha`` (one copy per probability)."""
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
        return tok


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
