"""GPT-2's byte-level alphabet: every byte one visible character.

Byte-level BPE vocabularies (read in :mod:`.formats.hf`) spell their tokens in it,
and the ``tokenizer.json`` export (:mod:`.exporters.hf`) writes piecelab's pieces
in it, so both sides share this one table.
"""

from __future__ import annotations

from functools import lru_cache


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
