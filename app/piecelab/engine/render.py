"""Human-readable forms of pieces: visible whitespace and hex for partial characters."""

from __future__ import annotations

import math
import re

# a carriage return is written \r: its control picture ␍ is missing from common fonts
VISIBLE = {" ": "·", "\t": "→", "\n": "↵", "\r": "\\r"}
_CONTROL = {i: f"\\x{i:02x}" for i in range(32) if chr(i) not in VISIBLE}
_CONTROL[0x7F] = "\\x7f"


def hex_bytes(data: bytes) -> str:
    """``⟨E4 BD⟩``: the form for bytes that are not whole UTF-8 characters."""
    return "⟨" + " ".join(f"{b:02X}" for b in data) + "⟩"


def piece_label(piece: bytes, visible_space: bool = True) -> str:
    """A label for ``piece``: its text with visible whitespace, hex for broken UTF-8.

    Valid stretches are shown as text and invalid ones (a piece that cuts a
    character) as hex, so ``b"\\xe4\\xbd\\xa0\\xe5"`` reads ``你⟨E5⟩``.
    """
    out: list[str] = []
    pending = b""
    rest = piece
    while rest:
        try:
            text = rest.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = rest[: exc.start].decode("utf-8")
            bad = rest[exc.start : exc.end]
            rest = rest[exc.end :]
        else:
            bad = b""
            rest = b""
        if text:
            if pending:
                out.append(hex_bytes(pending))
                pending = b""
            if visible_space:
                text = "".join(VISIBLE.get(c, c) for c in text)
            out.append(text.translate(_CONTROL))
        pending += bad
    if pending:
        out.append(hex_bytes(pending))
    return "".join(out)


def is_complete(piece: bytes) -> bool:
    """Whether ``piece`` is whole UTF-8 characters."""
    try:
        piece.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def format_prob(logp: float) -> str:
    """exp(logp) readable even when it underflows a float (``3.2e-1234``)."""
    if not math.isfinite(logp):
        return "0" if logp < 0 else "inf"
    if logp > -700:
        return f"{math.exp(logp):.3g}"
    e10 = logp / math.log(10)
    exp = math.floor(e10)
    return f"{10 ** (e10 - exp):.2f}e{exp}"


_SPLIT_IDS = re.compile(r"[\s,;]+")


def parse_ids(text: str, vocab_size: int) -> list[int]:
    """Ids from ``3 17 42``, ``3, 17, 42`` or a JSON list; ValueError names the bad item."""
    body = text.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1]
    items = [t for t in _SPLIT_IDS.split(body) if t]
    if not items:
        raise ValueError("paste token ids to decode (for example 3 17 42 or [3, 17, 42])")
    ids = []
    for k, item in enumerate(items, 1):
        try:
            ids.append(int(item))
        except ValueError:
            raise ValueError(f"item {k}, {item!r}, is not an integer id") from None
    bad = [(k, i) for k, i in enumerate(ids, 1) if not 0 <= i < vocab_size]
    if bad:
        shown = ", ".join(f"{i} (item {k})" for k, i in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise ValueError(f"ids must be in 0..{vocab_size - 1}; out of range: {shown}{more}")
    return ids


_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})|\\([nrt\\])|⟨([0-9A-Fa-f ]+)⟩")
_SIMPLE = {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\"}


def parse_piece(text: str) -> bytes:
    """The bytes a user typed: text, with ``\\n \\t \\r \\\\ \\xNN`` and ``⟨E4 BD⟩`` hex
    (the table's own notation for partial characters)."""
    out = bytearray()
    pos = 0
    for m in _ESCAPE.finditer(text):
        out += text[pos : m.start()].encode("utf-8")
        if m.group(1):
            out.append(int(m.group(1), 16))
        elif m.group(2):
            out += _SIMPLE[m.group(2)]
        else:
            out += bytes.fromhex(m.group(3))
        pos = m.end()
    out += text[pos:].encode("utf-8")
    return bytes(out)
