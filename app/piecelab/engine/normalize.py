"""Text normalization shared by the tokenizer and the trainer.

BytePiece normalizes to NFC and cuts text into chunks of one line each (with its
trailing run of newlines); pieces never cross a chunk.  The byte kernels find the
chunk boundaries themselves, so the regular expression here is the reference the
tests compare them against.
"""

from __future__ import annotations

import re
import unicodedata

CHUNK_RE = re.compile(".*\n+|.+")
_DIGITS_RE = re.compile(r"\d")


class TextEncodingError(UnicodeEncodeError):
    """A ``str`` that has no UTF-8 form (for example a lone surrogate).

    A :class:`UnicodeEncodeError` (so a :class:`UnicodeError` and a
    :class:`ValueError`), as BytePiece's own ``str.encode`` raises, so code
    written for BytePiece catches it; its message says which character and why.
    """

    def __str__(self) -> str:
        bad = self.object[self.start : self.end]
        return (
            f"text cannot be encoded as UTF-8: {bad!r} at character {self.start} "
            f"({self.reason}); lone surrogates are not text"
        )


def nfc(text: str) -> str:
    """NFC-normalize, skipping the copy when the text already is (the common case)."""
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def to_utf8(text: str) -> bytes:
    """NFC + UTF-8 encode; a lone surrogate raises :class:`TextEncodingError`."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    text = nfc(text)
    try:
        return text.encode()
    except UnicodeEncodeError as exc:
        raise TextEncodingError(exc.encoding, exc.object, exc.start, exc.end, exc.reason) from None


def chunks(text: str) -> list[str]:
    """BytePiece's line chunks of already-normalized text (reference implementation)."""
    return CHUNK_RE.findall(text)


def isolate_digits(chunk: str) -> list[str]:
    """Split a chunk so that every digit stands alone (BytePiece ``isolate_digits``)."""
    parts: list[str] = []
    last = 0
    for m in _DIGITS_RE.finditer(chunk):
        if m.start() > last:
            parts.append(chunk[last : m.start()])
        parts.append(m.group())
        last = m.end()
    if last < len(chunk):
        parts.append(chunk[last:])
    return parts
