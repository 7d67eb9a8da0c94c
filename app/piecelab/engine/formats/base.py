"""The read side every opened vocabulary offers, whichever library wrote it.

:func:`piecelab.load` returns a :class:`Vocabulary`: BytePiece models and the
field's formats (SentencePiece, Hugging Face ``tokenizer.json``, tiktoken) answer
the same questions (ids, token bytes, spans, the piece table), so the workbench
and the command line treat them alike.  Each kind runs through its own library,
because that library defines its ids; :meth:`Vocabulary.native` offers
piecelab's engine where it reproduces the kind exactly (BytePiece, SentencePiece
Unigram), which brings exact sampling, top-k and editing with it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..model import ModelFormatError
from ..normalize import TextEncodingError
from ..segmentation import Segmentation, char_of_byte

if TYPE_CHECKING:
    from ..continuation import CutCheck
    from ..tokenizer import Tokenizer

KINDS = (
    "bytepiece",
    "sentencepiece-unigram",
    "sentencepiece-bpe",
    "hf-bpe",
    "hf-unigram",
    "hf-wordpiece",
    "tiktoken",
)


class FormatError(ModelFormatError):
    """A file that is not a vocabulary piecelab can open; the message names the file."""


class SamplingUnavailable(NotImplementedError):
    """The kind's library offers no sampling of segmentations."""


@dataclass(frozen=True)
class Piece:
    """One entry of a vocabulary: its id, bytes, score (or rank) and whether it is special."""

    id: int
    piece: bytes
    score: float
    special: bool


@dataclass(frozen=True)
class Spans:
    """Token ids with the byte spans they cover in the UTF-8 of the text given.

    Libraries that drop or rewrite text (SentencePiece's spaces, WordPiece's
    lower-casing) report where each token came from; a token that covers nothing
    of the text (an added prefix space) has ``start == end``.
    """

    ids: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def char_spans(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(char starts, char ends) of the tokens in ``text``."""
        data = text.encode("utf-8")
        lead = (np.frombuffer(data, np.uint8) & 0xC0) != 0x80
        before = np.concatenate([[0], np.cumsum(lead)])  # characters begun before each offset
        # a token starting inside a character starts at that character, and one
        # ending inside a character still covers it
        starts = before[self.starts] - ~_lead_at(lead, self.starts)
        ends = before[self.ends]
        return starts, ends


def _lead_at(lead: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Whether each offset begins a character (the end of the text counts as one)."""
    out = np.ones(len(offsets), bool)
    inside = offsets < len(lead)
    out[inside] = lead[offsets[inside]]
    return out


class Vocabulary(ABC):
    """An opened vocabulary: what its library encodes, and its piece table.

    ``pieces[i]``, ``scores[i]`` and ``special[i]`` describe id ``i``; a piece's
    bytes are the library's own (SentencePiece's ``▁``, WordPiece's ``##`` and
    byte-level BPE's mapped characters decoded back to bytes where the kind says
    how).  ``score_name`` says what the scores are: ``"log p"`` (Unigram) or
    ``"rank"`` (BPE merges, tiktoken).
    """

    kind: str
    source: str
    score_name: str = "log p"
    can_sample: bool = False

    pieces: list[bytes]
    scores: np.ndarray
    special: np.ndarray

    @property
    def vocab_size(self) -> int:
        return len(self.pieces)

    @abstractmethod
    def encode(self, text: str) -> list[int]:
        """The ids the kind's library gives ``text``, with no special tokens added."""

    @abstractmethod
    def spans(self, text: str) -> Spans:
        """The ids of :meth:`encode` with the byte spans of ``text`` each one covers."""

    @abstractmethod
    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids``, as the kind's library decodes it."""

    def tokenize(self, text: str) -> list[bytes]:
        """Each token's bytes, as the kind's library defines its pieces."""
        pieces = self.pieces
        return [pieces[i] for i in self.encode(text)]

    def sample(self, text: str, alpha: float, seed: int | None = None) -> list[int]:
        """One sampled segmentation's ids, where the library samples (see ``can_sample``)."""
        return self.sample_spans(text, alpha, seed).ids.tolist()

    def sample_spans(self, text: str, alpha: float, seed: int | None = None) -> Spans:
        """:meth:`sample` with the byte spans of each token (as :meth:`spans`)."""
        raise SamplingUnavailable(f"{self.kind} vocabularies offer no sampling")

    def native(self) -> Tokenizer | None:
        """piecelab's own tokenizer with this kind's ids, where it is exact; else None."""
        return None

    def id_to_piece(self, i: int) -> bytes:
        return self.pieces[i]

    def cuts(self, text: str, alpha: float = 1.0) -> CutCheck | None:
        """Boundary probabilities and the continuation check of ``text`` in its own
        bytes, where this kind has an exact engine for them; else None."""
        check_text(text)
        return None

    def segment(self, text: str, alpha: float = -1, seed: int | None = None) -> Segmentation:
        """The tokens of ``text`` as a :class:`Segmentation` of its UTF-8, for display;
        with ``alpha`` ≥ 0 a sampled one (:meth:`sample_spans`).

        Where the pieces spell the text (tiktoken, byte-level BPE) each token
        gets its own bytes.  Otherwise the library's spans decide, and text it
        dropped (spaces, for SentencePiece and WordPiece) joins the token after
        it; a token that covers nothing new (a second token inside the same
        character, an added prefix) is folded into the box before it (the
        first, before any), which gets its log p too; ``folded`` counts them.
        """
        last = self.__dict__.get("_last_viterbi")
        if alpha < 0 and last is not None and last.text == text:
            return last  # the playground asks again for the boundary strip
        data = check_text(text).encode("utf-8")
        sp = self.spans(text) if alpha < 0 else self.sample_spans(text, alpha, seed)
        ids, pieces = sp.ids, self.pieces
        log_p = self.score_name == "log p"
        scores = self.scores[ids] if log_p else np.full(len(ids), np.nan)
        folded = 0
        if b"".join(pieces[i] for i in ids.tolist()) == data:
            ends = np.cumsum([len(pieces[i]) for i in ids.tolist()], dtype=np.int64)
        else:
            ends = np.maximum.accumulate(np.minimum(sp.ends, len(data))) if len(ids) else sp.ends
            if len(ends):
                ends[-1] = len(data)
            grows = np.diff(ends, prepend=0) > 0
            folded = int(len(ids) - grows.sum())
            if folded and grows.any():  # a folded token's log p goes to the box it joins
                kept = np.cumsum(grows) - 1  # the kept token at or before each one
                into = np.where(kept >= 0, kept, 0)  # (before the first: the first)
                scores = np.bincount(into, weights=scores, minlength=int(grows.sum()))
            else:
                scores = scores[grows]
            ids, ends = ids[grows], ends[grows]
        seg = Segmentation(
            text=text,
            data=data,
            ids=np.asarray(ids, np.int64),
            ends=np.asarray(ends, np.int64),
            logps=np.asarray(scores, np.float64),
            alpha=float(alpha) if alpha >= 0 else -1.0,
            char_of_byte=char_of_byte(data),
            folded=folded,
        )
        if alpha < 0:
            self._last_viterbi = seg
        return seg

    def log_prob(self, seg: Segmentation, alpha: float = 1.0) -> float:
        """Σ scores of the tokens (log p for Unigram kinds; NaN where scores are ranks)."""
        return float(seg.logps.sum())

    def surface(self, i: int) -> str | None:
        """The text that should encode to piece ``i`` (None where no text can be
        given alone: special ids, pieces that are part of a character)."""
        if self.special[i]:
            return None
        try:
            return self.pieces[i].decode("utf-8") or None
        except UnicodeDecodeError:
            return None

    def unreachable(self) -> np.ndarray:
        """Per id: 1 where encoding the piece's own text (:meth:`surface`) does not
        yield it, 0 where it does, −1 where that cannot be tried."""
        out = np.full(self.vocab_size, -1, np.int8)
        tried = [(i, t) for i in range(self.vocab_size) if (t := self.surface(i)) is not None]
        if tried:
            found = self.encode_batch([t for _, t in tried])
            for (i, _), ids in zip(tried, found):
                out[i] = 0 if i in ids else 1
        return out

    def piece_table(self) -> list[Piece]:
        """Every entry, in id order."""
        return [
            Piece(i, p, float(s), bool(x))
            for i, (p, s, x) in enumerate(zip(self.pieces, self.scores.tolist(), self.special))
        ]

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.encode(t) for t in texts]

    def count_tokens(self, texts: Sequence[str], workers: int | None = None) -> int:
        """Tokens over ``texts`` (what the corpus evaluation counts); ``workers`` is a hint."""
        return sum(len(ids) for ids in self.encode_batch(texts))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind} {self.vocab_size:,} ids from {self.source}>"


def check_text(text: object) -> str:
    """``text``, if the field's libraries can take it: a clear error for another type,
    and for a lone surrogate (no UTF-8 form: ``sentencepiece`` and ``tokenizers``
    fail on it with a message about C++ casts or sequence types) the
    :class:`~piecelab.engine.normalize.TextEncodingError` piecelab's own engine raises."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise TextEncodingError(exc.encoding, exc.object, exc.start, exc.end, exc.reason) from None
    return text


def fail(source: str, problem: str) -> FormatError:
    """The error for a file that cannot be opened: the file first, then the problem."""
    return FormatError(f"{source}: {problem}")
