"""Human-readable forms of pieces: visible whitespace and hex for partial characters."""

from __future__ import annotations

VISIBLE = {" ": "·", "\t": "→", "\n": "↵", "\r": "␍"}
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
