"""A segmentation of a text: token ids with byte and character spans and scores.

Spans are byte offsets into the NFC-normalized UTF-8 text; character spans are
derived from them, so a token holding part of a multi-byte character is
representable (it shares that character with its neighbour).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Token:
    """One token of a segmentation, with byte and character spans.

    Character spans cover every character the token touches: a token that holds
    only part of a multi-byte character has ``complete == False`` and shares that
    character with its neighbour.
    """

    id: int
    piece: bytes
    start: int
    end: int
    char_start: int
    char_end: int
    logp: float
    complete: bool

    @property
    def text(self) -> str:
        return self.piece.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Segmentation:
    """A segmentation of (NFC-normalized) ``text`` with its scores."""

    text: str
    data: bytes
    ids: np.ndarray
    ends: np.ndarray
    logps: np.ndarray
    alpha: float
    char_of_byte: np.ndarray
    #: tokens of another library that cover no text of their own (a dummy prefix ``▁``
    #: before the first character, a second token inside one character), shown folded
    #: into a neighbour whose log p includes theirs; they count as tokens
    folded: int = 0

    @property
    def token_count(self) -> int:
        """Tokens of the segmentation, folded ones included."""
        return len(self.ids) + self.folded

    @property
    def score(self) -> float:
        """Σ log p(piece): the path's log-probability under the Unigram model."""
        return float(self.logps.sum())

    @property
    def starts(self) -> np.ndarray:
        out = np.empty_like(self.ends)
        if len(self.ends):
            out[0] = 0
            out[1:] = self.ends[:-1]
        return out

    @property
    def pieces(self) -> list[bytes]:
        return [self.data[s:e] for s, e in zip(self.starts.tolist(), self.ends.tolist())]

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def tokens(self) -> list[Token]:
        starts, ends = self.starts.tolist(), self.ends.tolist()
        cob = self.char_of_byte
        n = len(self.data)
        lead = _is_lead(self.data)
        out = []
        for s, e, i, lp in zip(starts, ends, self.ids.tolist(), self.logps.tolist()):
            complete = bool(lead[s] and (e == n or lead[e]))
            out.append(
                Token(
                    id=int(i),
                    piece=self.data[s:e],
                    start=s,
                    end=e,
                    char_start=int(cob[s]),
                    char_end=int(cob[e - 1]) + 1,
                    logp=float(lp),
                    complete=complete,
                )
            )
        return out

    @property
    def bytes_per_token(self) -> float:
        return len(self.data) / self.token_count if self.token_count else 0.0

    @property
    def chars_per_token(self) -> float:
        return len(self.text) / self.token_count if self.token_count else 0.0


def _is_lead(data: bytes) -> np.ndarray:
    arr = np.frombuffer(data, np.uint8)
    out = np.ones(len(arr) + 1, dtype=bool)
    out[:-1] = (arr & 0xC0) != 0x80
    return out


def char_of_byte(data: bytes) -> np.ndarray:
    """Index of the character that holds each byte."""
    arr = np.frombuffer(data, np.uint8)
    return np.cumsum((arr & 0xC0) != 0x80) - 1
