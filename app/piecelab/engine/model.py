"""The vocabulary: pieces, their counts and ids, and the BytePiece model file.

A BytePiece model is a JSON object mapping each piece's bytes in base64 to
``[id, text_shown, count]``; ids start at 3 because 0, 1, 2 are ``<pad>``,
``<bos>`` and ``<eos>``.  The published files are written as
``json.dumps(obj, indent=4, ensure_ascii=False)`` in id order; :meth:`Model.dumps`
writes the same bytes so that a loaded model saves back unchanged.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SPECIALS = ("<pad>", "<bos>", "<eos>")
N_SPECIAL = len(SPECIALS)
MODEL_SUFFIXES = (".model", ".json")


class ModelFormatError(ValueError):
    """A model file that cannot be read; the message names the file and the problem."""


def shown_text(piece: bytes) -> str:
    """The human-readable text BytePiece stores beside each piece."""
    return piece.decode("utf-8", errors="ignore")


@dataclass(eq=False)
class Model:
    """Pieces in id order (``pieces[i]`` has id ``i + 3``) with their corpus counts."""

    pieces: list[bytes]
    counts: np.ndarray
    source: str = "<memory>"
    _index: dict[bytes, int] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.counts = np.asarray(self.counts, dtype=np.int64)
        if len(self.pieces) != len(self.counts):
            raise ValueError("pieces and counts differ in length")

    # ------------------------------------------------------------------ build
    @classmethod
    def from_counts(cls, counts: Mapping[bytes, int], source: str = "<memory>") -> Model:
        """A model with BytePiece's id order: by (piece length, piece bytes)."""
        pieces = sorted(counts, key=lambda p: (len(p), p))
        for p in pieces:
            if not isinstance(p, bytes) or not p:
                raise ValueError(f"pieces must be non-empty bytes, got {p!r}")
        return cls(pieces, np.array([counts[p] for p in pieces], dtype=np.int64), source)

    @classmethod
    def from_bytepiece(cls, obj: object, source: str = "<memory>") -> Model:
        """Validate a decoded BytePiece JSON object (base64 → [id, text, count])."""

        def fail(problem: str) -> ModelFormatError:
            return ModelFormatError(f"{source}: not a BytePiece model: {problem}")

        if not isinstance(obj, dict):
            raise fail(f"expected a JSON object, found {type(obj).__name__}")
        if not obj:
            raise fail("the model has no pieces")
        n = len(obj)
        pieces: list[bytes | None] = [None] * n
        counts = np.zeros(n, dtype=np.int64)
        for key, val in obj.items():
            try:
                piece = base64.b64decode(key, validate=True)
            except (binascii.Error, ValueError):
                raise fail(f"key {key!r} is not base64") from None
            if not piece:
                raise fail(f"key {key!r} decodes to an empty piece")
            if not (isinstance(val, list) and len(val) == 3):
                raise fail(f"value of {key!r} is not [id, text, count]")
            pid, _text, count = val
            if type(pid) is not int or not N_SPECIAL <= pid < n + N_SPECIAL:
                raise fail(f"piece {key!r} has id {pid!r}; ids must run from 3 to {n + 2}")
            if type(count) is not int or count < 0:
                raise fail(f"piece {key!r} has count {count!r}; counts are whole numbers ≥ 0")
            if pieces[pid - N_SPECIAL] is not None:
                raise fail(f"id {pid} is used twice")
            pieces[pid - N_SPECIAL] = piece
            counts[pid - N_SPECIAL] = count
        if counts.sum() <= 0:
            raise fail("all counts are zero")
        return cls(pieces, counts, source)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Model:
        """Load a ``.model`` JSON file, or a ``.zip`` holding exactly one."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise ModelFormatError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise ModelFormatError(f"{path}: is a folder, not a model file") from None
        except OSError as exc:
            raise ModelFormatError(f"{path}: cannot be read ({exc.strerror})") from None
        source = str(path)
        if raw[:4] == b"PK\x03\x04" or path.suffix.lower() == ".zip":
            raw, member = _read_zip_member(raw, source)
            source = f"{path}!{member}"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ModelFormatError(
                f"{source}: not a BytePiece model: not UTF-8 text (byte {exc.start})"
            ) from None
        del raw
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            problem = "truncated" if exc.pos >= len(text.rstrip()) else "invalid JSON"
            raise ModelFormatError(
                f"{source}: not a BytePiece model: {problem} at {where} ({exc.msg})"
            ) from None
        del text
        return cls.from_bytepiece(obj, source)

    # ------------------------------------------------------------------ write
    def to_bytepiece(self) -> dict[str, list]:
        """The BytePiece JSON object, in id order."""
        b64 = base64.b64encode
        return {
            b64(p).decode("ascii"): [i + N_SPECIAL, shown_text(p), int(c)]
            for i, (p, c) in enumerate(zip(self.pieces, self.counts.tolist()))
        }

    def dumps(self) -> str:
        return json.dumps(self.to_bytepiece(), indent=4, ensure_ascii=False)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write atomically: a temporary file in the same folder, then rename."""
        path = Path(path)
        atomic_write(path, self.dumps().encode("utf-8"))
        return path

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return len(self.pieces)

    @property
    def vocab_size(self) -> int:
        return len(self.pieces) + N_SPECIAL

    @property
    def index(self) -> dict[bytes, int]:
        """Piece bytes → id."""
        if self._index is None:
            self._index = {p: i + N_SPECIAL for i, p in enumerate(self.pieces)}
        return self._index

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def log_probs(self) -> np.ndarray:
        """log(count / total) indexed by id (−inf for the special ids and zero counts).

        Computed as numpy's ``log(count) − log(total)`` in float64, exactly as the
        reference scores pieces, so that exact ties break the same way.
        """
        out = np.full(self.vocab_size, -np.inf)
        with np.errstate(divide="ignore"):
            out[N_SPECIAL:] = np.log(self.counts.astype(np.float64)) - np.log(float(self.total))
        return out

    def copy(self) -> Model:
        return Model(list(self.pieces), self.counts.copy(), self.source)


def _read_zip_member(raw: bytes, source: str) -> tuple[bytes, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            models = [n for n in names if n.lower().endswith(MODEL_SUFFIXES)] or names
            if len(models) != 1:
                raise ModelFormatError(
                    f"{source}: the zip must hold exactly one .model file, found {len(models)}"
                    + (f" ({', '.join(models[:5])})" if models else "")
                )
            return zf.read(models[0]), models[0]
    except zipfile.BadZipFile as exc:
        raise ModelFormatError(f"{source}: not a valid zip archive ({exc})") from None


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary sibling and ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        # mkstemp makes the file private; give it the mode a plain open() would have
        try:
            mode = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def load_model(path_or_pieces: str | os.PathLike[str] | Mapping | Model) -> Model:
    """Accept what BytePiece's ``Tokenizer`` accepts: a path, or the decoded JSON object.

    Also takes a :class:`Model`, or a mapping of piece bytes to counts.
    """
    if isinstance(path_or_pieces, Model):
        return path_or_pieces
    if isinstance(path_or_pieces, (str, os.PathLike)):
        return Model.load(path_or_pieces)
    if isinstance(path_or_pieces, Mapping):
        keys: Iterable = path_or_pieces.keys()
        first = next(iter(keys), None)
        if isinstance(first, bytes):
            return Model.from_counts(path_or_pieces)  # type: ignore[arg-type]
        return Model.from_bytepiece(dict(path_or_pieces))
    raise TypeError(f"cannot make a model from {type(path_or_pieces).__name__}")
