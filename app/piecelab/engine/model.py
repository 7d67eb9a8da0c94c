"""The vocabulary: pieces, their counts and ids, and the BytePiece model file.

A BytePiece model is a JSON object mapping each piece's bytes in base64 to
``[id, text_shown, count]``; ids start at 3 because 0, 1, 2 are ``<pad>``,
``<bos>`` and ``<eos>``.  The published files are written as
``json.dumps(obj, indent=4, ensure_ascii=False)`` in id order; :meth:`Model.dumps`
writes the same bytes so that a loaded model saves back unchanged.

Limits (hostile or broken files fail fast with a :class:`ModelFormatError` that
names the file): a model is read only from a regular file (not a FIFO, device
or folder) of at most :data:`MAX_MODEL_BYTES`, also when inflated from a zip;
no piece may be longer than :data:`MAX_PIECE_BYTES`; counts are whole numbers
from 0 to 2**63 - 1 (their total may exceed that: it is summed exactly).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
import stat
import sys
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .arguments import short_repr
from .atomic import atomic_write
from .model_files import MODEL_SUFFIXES

SPECIALS = ("<pad>", "<bos>", "<eos>")
N_SPECIAL = len(SPECIALS)
#: The largest model file read (also the largest zip member inflated): the
#: published 80k model is 5 MB, so this only stops a runaway read.
MAX_MODEL_BYTES = 1 << 30
#: The longest piece a model may hold.  The kernels walk as deep as the longest
#: piece at every byte, so one huge piece makes tokenizing quadratic; BytePiece
#: trains pieces of at most 36 bytes by default and the GUI's trainer up to 255.
MAX_PIECE_BYTES = 1024
#: The largest count (counts are stored as int64).
MAX_COUNT = 2**63 - 1
_COUNT_RULE = "counts are whole numbers from 0 to 2**63 - 1"


class ModelFormatError(ValueError):
    """A model file that cannot be read; the message names the file and the problem."""


class _DuplicateKey(Exception):
    """A JSON object with the same key twice (``json`` would keep the last silently)."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


def _count_of(count: object, what: str, source: str) -> int:
    """``count`` as an int, or an error naming the piece (``what``)."""
    if type(count) is not int:
        if isinstance(count, bool) or not hasattr(count, "__index__"):
            raise TypeError(
                f"{source}: {what} has count {short_repr(count)} ({type(count).__name__}); "
                f"{_COUNT_RULE}"
            )
        count = count.__index__()  # numpy integers
    if not 0 <= count <= MAX_COUNT:  # type: ignore[operator]
        raise ModelFormatError(f"{source}: {what} has count {count}; {_COUNT_RULE}")
    return count  # type: ignore[return-value]


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

    def validate(self) -> Model:
        """Check what the tokenizer relies on; raise naming the source and the piece id.

        Pieces: at least one, distinct non-empty ``bytes`` of at most
        :data:`MAX_PIECE_BYTES`; counts ≥ 0, not all zero.  Returns ``self``.
        """
        src, pieces, n = self.source, self.pieces, len(self.pieces)
        if n == 0:
            raise ModelFormatError(f"{src}: the model has no pieces")
        if set(map(type, pieces)) != {bytes}:
            i, p = next((i, p) for i, p in enumerate(pieces) if type(p) is not bytes)
            raise TypeError(f"{src}: piece id {i + N_SPECIAL} is {short_repr(p)}; pieces are bytes")
        lengths = np.fromiter(map(len, pieces), np.int64, n)
        if lengths.min() == 0:
            raise ModelFormatError(f"{src}: piece id {int(lengths.argmin()) + N_SPECIAL} is empty")
        if lengths.max() > MAX_PIECE_BYTES:
            i = int(np.argmax(lengths > MAX_PIECE_BYTES))
            raise ModelFormatError(
                f"{src}: piece id {i + N_SPECIAL} is {int(lengths[i]):,} bytes long; pieces "
                f"are limited to {MAX_PIECE_BYTES} bytes (MAX_PIECE_BYTES)"
            )
        repeat = None if len(self.index) == n else _first_repeat(pieces)
        if repeat is not None:
            j, i = repeat
            raise ModelFormatError(
                f"{src}: ids {j + N_SPECIAL} and {i + N_SPECIAL} are the same "
                f"piece {short_repr(pieces[i])}"
            )
        if len(self.counts) and self.counts.min() < 0:
            i = int(self.counts.argmin())
            raise ModelFormatError(
                f"{src}: piece id {i + N_SPECIAL} has count {int(self.counts[i])}; {_COUNT_RULE}"
            )
        if self.total <= 0:
            raise ModelFormatError(f"{src}: all counts are zero")
        return self

    # ------------------------------------------------------------------ build
    @classmethod
    def from_counts(cls, counts: Mapping[bytes, int], source: str = "<memory>") -> Model:
        """A model with BytePiece's id order: by (piece length, piece bytes).

        Keys must be non-empty ``bytes`` (else :class:`TypeError` naming the key),
        counts whole numbers from 0 to 2**63 - 1 (else an error naming the piece).
        """
        if not isinstance(counts, Mapping):
            raise TypeError(
                f"counts must be a mapping of piece bytes to counts, got {type(counts).__name__}"
            )
        items = list(counts.items())
        for p, c in items:
            if type(p) is not bytes:
                raise TypeError(
                    f"{source}: piece keys must be bytes, got {short_repr(p)} ({type(p).__name__})"
                )
            if not p:
                raise ModelFormatError(f"{source}: the empty piece b'' is not a piece")
            if type(c) is not int or not 0 <= c <= MAX_COUNT:
                _count_of(c, f"piece {short_repr(p)}", source)
        pieces = sorted(counts, key=lambda p: (len(p), p))
        values = [int(counts[p]) for p in pieces]
        return cls(pieces, np.array(values, dtype=np.int64), source).validate()

    @classmethod
    def from_bytepiece(cls, obj: object, source: str = "<memory>") -> Model:
        """Validate a decoded BytePiece JSON object (base64 → [id, text, count]).

        A key that is base64 but not in canonical form (``QR==`` for ``A``,
        whose canonical key is ``QQ==``) is accepted, as BytePiece accepts it,
        unless it repeats another key's piece; the model saves it canonically.
        """

        def fail(problem: str) -> ModelFormatError:
            return ModelFormatError(f"{source}: not a BytePiece model: {problem}")

        if not isinstance(obj, dict):
            raise fail(f"expected a JSON object, found {type(obj).__name__}")
        if not obj:
            raise fail("the model has no pieces")
        fast = _well_formed(obj)
        if fast is not None:
            pieces, keys, counts = fast
        else:  # something is wrong: the careful loop says what
            pieces, keys, counts = _checked_entries(obj, source, fail)
        model = cls(pieces, counts, source)  # type: ignore[arg-type]
        repeat = None if len(model.index) == len(model) else _first_repeat(pieces)  # type: ignore[arg-type]
        if repeat is not None:
            j, i = repeat
            canonical = base64.b64encode(pieces[i]).decode("ascii")  # type: ignore[arg-type]
            raise fail(
                f"keys {short_repr(keys[j])} (id {j + N_SPECIAL}) and "
                f"{short_repr(keys[i])} (id {i + N_SPECIAL}) are the same piece "
                f"{short_repr(pieces[i])} (canonical key {short_repr(canonical)})"
            )
        if model.total <= 0:
            raise fail("all counts are zero")
        return model

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Model:
        """Load a ``.model`` JSON file, or a ``.zip`` holding exactly one."""
        path = Path(path)
        return cls.from_raw(read_model_file(path), str(path), path.suffix.lower() == ".zip")

    @classmethod
    def from_raw(cls, raw: bytes, source: str, zipped: bool = False) -> Model:
        """The model in a file's bytes: BytePiece JSON, or a zip holding one (told by content)."""
        if raw[:4] == b"PK\x03\x04" or zipped:
            raw, member = _read_zip_member(raw, source)
            source = f"{source}!{member}"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ModelFormatError(
                f"{source}: not a BytePiece model: not UTF-8 text (byte {exc.start})"
            ) from None
        del raw
        try:
            obj = json.loads(text, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            problem = "truncated" if exc.pos >= len(text.rstrip()) else "invalid JSON"
            raise ModelFormatError(
                f"{source}: not a BytePiece model: {problem} at {where} ({exc.msg})"
            ) from None
        except _DuplicateKey as exc:
            raise ModelFormatError(
                f"{source}: not a BytePiece model: key {short_repr(exc.args[0])} appears twice"
            ) from None
        except RecursionError:
            raise ModelFormatError(f"{source}: not a BytePiece model: nested too deeply") from None
        except ValueError as exc:  # e.g. an integer of more digits than Python converts
            raise ModelFormatError(f"{source}: not a BytePiece model: {exc}") from None
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
        """Piece bytes → id, built once (``validate`` and loading use its size to find repeats)."""
        if self._index is None:
            pieces = self.pieces
            self._index = dict(zip(pieces, range(N_SPECIAL, len(pieces) + N_SPECIAL)))
        return self._index

    @property
    def total(self) -> int:
        """The sum of the counts, exact: it may exceed int64 (each count fits)."""
        c = self.counts
        if len(c) and int(c.max()) > MAX_COUNT // len(c):
            return sum(c.tolist())  # Python ints: no overflow
        return int(c.sum())

    def log_probs(self) -> np.ndarray:
        """log(count / total) indexed by id (−inf for the special ids and zero counts).

        Computed as numpy's ``log(count) − log(total)`` in float64, exactly as the
        reference scores pieces, so that exact ties break the same way.
        """
        out = np.full(self.vocab_size, -np.inf)
        with np.errstate(divide="ignore"):
            out[N_SPECIAL:] = np.log(self.counts.astype(np.float64)) - np.log(float(self.total))
        # a no-op for ordinary counts; keeps log p ≤ 0 should rounding ever disagree
        np.minimum(out, 0.0, out=out)
        return out

    def copy(self) -> Model:
        return Model(list(self.pieces), self.counts.copy(), self.source)


def _not_a_file(mode: int) -> str | None:
    """Why a file of this ``st_mode`` is not read as a model (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a model file"
    if stat.S_ISFIFO(mode):
        return "is a FIFO/pipe, not a model file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a model file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a model file"
    return "is not a regular file"


def _too_big(size: int) -> str:
    return (
        f"is {size:,} bytes, more than the {MAX_MODEL_BYTES:,} a model may have (MAX_MODEL_BYTES)"
    )


def read_model_file(path: Path) -> bytes:
    """The bytes of ``path``, only if it is a regular file of at most MAX_MODEL_BYTES.

    A FIFO would block the open (or the read) forever and ``/dev/zero`` never
    ends, so the kind is checked before opening (a device is never opened),
    again on the open descriptor (opened non-blocking, in case the path was
    swapped), and the read itself is bounded.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ModelFormatError(f"{path}: no such file") from None
    except OSError as exc:
        raise ModelFormatError(f"{path}: cannot be read ({exc.strerror})") from None
    except ValueError as exc:  # a NUL in the path
        raise ModelFormatError(f"{path!r}: not a valid path ({exc})") from None
    why = _not_a_file(st.st_mode)
    if why is None and st.st_size > MAX_MODEL_BYTES:
        why = _too_big(st.st_size)
    if why is not None:
        raise ModelFormatError(f"{path}: {why}")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ModelFormatError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        why = _not_a_file(os.fstat(fd).st_mode)
        if why is not None:
            raise ModelFormatError(f"{path}: {why}")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            raw = fh.read(MAX_MODEL_BYTES + 1)
    except OSError as exc:
        raise ModelFormatError(f"{path}: cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_MODEL_BYTES:
        raise ModelFormatError(f"{path}: {_too_big(len(raw))}")
    return raw


def _read_zip_member(raw: bytes, source: str) -> tuple[bytes, str]:
    """The one model file in a zip, refused unread if it declares more than the cap."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            models = [i for i in infos if _model_member(i.filename)] or infos
            if len(models) != 1:
                names = [i.filename for i in models]
                raise ModelFormatError(
                    f"{source}: the zip must hold exactly one .model file, found {len(models)}"
                    + (f" ({', '.join(names[:5])})" if names else "")
                )
            info = models[0]
            where = f"{source}!{info.filename}"
            if info.file_size > MAX_MODEL_BYTES:
                raise ModelFormatError(f"{where}: {_too_big(info.file_size)} (declared)")
            with zf.open(info) as fh:
                data = fh.read(MAX_MODEL_BYTES + 1)
            if len(data) > MAX_MODEL_BYTES:
                raise ModelFormatError(f"{where}: inflates to more than {MAX_MODEL_BYTES:,} bytes")
            return data, info.filename
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError) as exc:
        raise ModelFormatError(f"{source}: not a valid zip archive ({exc})") from None
    except (RuntimeError, NotImplementedError) as exc:  # encrypted, unknown compression
        raise ModelFormatError(f"{source}: cannot read the zip ({exc})") from None


def load_model(path_or_pieces: str | os.PathLike[str] | Mapping | Model) -> Model:
    """Accept what BytePiece's ``Tokenizer`` accepts: a path, or the decoded JSON object.

    Also takes a :class:`Model`, or a mapping of piece bytes to counts.  The
    kind of mapping is told by its first key: ``bytes`` (piece → count) or
    ``str`` (base64 → [id, text, count], BytePiece's JSON form).
    """
    if isinstance(path_or_pieces, Model):
        return path_or_pieces
    if isinstance(path_or_pieces, (str, os.PathLike)):
        return Model.load(path_or_pieces)
    if isinstance(path_or_pieces, Mapping):
        first = next(iter(path_or_pieces), None)
        if isinstance(first, bytes):
            return Model.from_counts(path_or_pieces)  # type: ignore[arg-type]
        if first is None or isinstance(first, str):
            return Model.from_bytepiece(dict(path_or_pieces))
        raise TypeError(
            f"pieces: model keys must be bytes (piece → count) or str (base64, BytePiece's "
            f"JSON form), got {short_repr(first)} ({type(first).__name__})"
        )
    raise TypeError(
        "pieces must be a path to a .model (or .zip), a BytePiece JSON object, a mapping of "
        f"piece bytes to counts, or a Model; got {type(path_or_pieces).__name__}"
    )


def _model_member(name: str) -> bool:
    """A zip member that holds a model: named like one, and not itself an archive."""
    name = name.lower()
    return name.endswith(MODEL_SUFFIXES) and not name.endswith(".zip")


def _first_repeat(pieces: list[bytes]) -> tuple[int, int] | None:
    """(first index, repeating index) of the first piece listed twice, else None.

    The callers first compare the size of the model's index with the number of
    pieces, so this loop only runs to name a repeat.
    """
    first: dict[bytes, int] = {}
    for i, p in enumerate(pieces):
        if p in first:
            return first[p], i
        first[p] = i
    return None


def _checked_entries(obj: dict, source: str, fail) -> tuple[list, list, np.ndarray]:
    """(pieces, keys, counts) in id order, each entry checked; ``fail`` words the problem."""
    n = len(obj)
    pieces: list[bytes | None] = [None] * n
    keys: list[str | None] = [None] * n
    counts = np.zeros(n, dtype=np.int64)
    for key, val in obj.items():
        if type(key) is not str:
            raise TypeError(
                f"{source}: keys of a BytePiece model are base64 str, got {short_repr(key)} "
                f"({type(key).__name__})"
            )
        try:
            piece = base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError):
            raise fail(f"key {short_repr(key)} is not base64") from None
        if not piece:
            raise fail(f"key {short_repr(key)} decodes to an empty piece")
        if not (isinstance(val, list) and len(val) == 3):
            raise fail(f"value of {short_repr(key)} is not [id, text, count]")
        pid, _text, count = val
        if type(pid) is not int or not N_SPECIAL <= pid < n + N_SPECIAL:
            raise fail(
                f"piece {short_repr(key)} has id {short_repr(pid)}; ids must run from 3 to {n + 2}"
            )
        if type(count) is not int or not 0 <= count <= MAX_COUNT:
            raise fail(f"piece {short_repr(key)} has count {short_repr(count)}; {_COUNT_RULE}")
        if len(piece) > MAX_PIECE_BYTES:
            raise fail(
                f"piece id {pid} ({short_repr(key)}) is {len(piece):,} bytes long; pieces are "
                f"limited to {MAX_PIECE_BYTES} bytes (MAX_PIECE_BYTES)"
            )
        if pieces[pid - N_SPECIAL] is not None:
            raise fail(f"id {pid} is used twice")
        pieces[pid - N_SPECIAL] = piece
        keys[pid - N_SPECIAL] = key
        counts[pid - N_SPECIAL] = count
    return pieces, keys, counts


def _well_formed(obj: dict) -> tuple[list, list, np.ndarray] | None:
    """(pieces, keys, counts) in id order for a well-formed model, checked in bulk
    (a third of a large model's load time); None if anything is off."""
    keys = list(obj)
    values = list(obj.values())
    n = len(keys)
    try:
        # set(map(...)): the checks run in C, not a Python generator per entry
        if set(map(type, keys)) != {str} or set(map(type, values)) != {list}:
            return None
        if set(map(len, values)) != {3}:
            return None
        ids = [v[0] for v in values]
        counts = [v[2] for v in values]
        if set(map(type, ids)) != {int} or set(map(type, counts)) != {int}:
            return None
        if min(ids) < N_SPECIAL or max(ids) >= n + N_SPECIAL:
            return None
        if min(counts) < 0 or max(counts) > MAX_COUNT:
            return None
        pieces = [_b64decode(k) for k in keys]
    except (binascii.Error, ValueError):
        return None
    lengths = list(map(len, pieces))
    if min(lengths) == 0 or max(lengths) > MAX_PIECE_BYTES:
        return None
    slots = np.array(ids, dtype=np.int64) - N_SPECIAL
    if np.bincount(slots, minlength=n).max() != 1:
        return None  # an id used twice
    order = np.argsort(slots)
    at = order.tolist()
    return [pieces[i] for i in at], [keys[i] for i in at], np.array(counts, np.int64)[order]


if sys.version_info >= (3, 11):

    def _b64decode(key: str) -> bytes:
        """Strict base64 (as ``b64decode(validate=True)``) without its regular expression."""
        return binascii.a2b_base64(key, strict_mode=True)

else:  # pragma: no cover - Python 3.10 has no strict mode

    def _b64decode(key: str) -> bytes:
        return base64.b64decode(key, validate=True)
