"""SentencePiece models (Unigram and BPE) behind the common :class:`~.base.Vocabulary` API.

The ``sentencepiece`` library runs the model, because it defines the ids:
:meth:`SentencePieceVocabulary.encode` is ``sp.encode`` and spans are its byte
offsets into the text given.  For Unigram models :meth:`~SentencePieceVocabulary.native`
also offers piecelab's engine with SentencePiece's ids (:class:`NativeSentencePiece`):
SentencePiece's normalizer first, then piecelab's Viterbi or exact sampler over
SentencePiece's pieces and scores.  This module is imported only when a
SentencePiece file is opened, and imports the library only then.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..arguments import check_alpha, kernel_seed
from ..continuation import Continuation
from ..lattice import Lattice
from ..model import N_SPECIAL, Model
from ..segmentation import Segmentation
from ..tokenizer import Tokenizer, merged_ranges
from .base import Spans, Vocabulary, check_text, fail
from .sp_ties import settle_runs

if TYPE_CHECKING:
    from .sp_cuts import SentencePieceCuts

# sentencepiece_model.proto: piece types and model types
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
_KINDS = {1: "sentencepiece-unigram", 2: "sentencepiece-bpe"}
_MODEL_TYPE_NAMES = {1: "UNIGRAM", 2: "BPE", 3: "WORD", 4: "CHAR"}
_SPECIAL_TYPES = (UNKNOWN, CONTROL, USER_DEFINED, UNUSED)
_BYTE_NAME = re.compile(r"<0x([0-9A-Fa-f]{2})>")
#: SentencePiece's score for a character no single-character piece covers: the
#: lowest normal score minus this (``kUnkPenalty`` in ``unigram_model.cc``).
UNK_PENALTY = 10.0
_FLT_MIN = 1.1754943508222875e-38  # SentencePiece starts its max score here, not at -inf
_GOLDEN = 0x9E3779B97F4A7C15
_TWO64 = 1 << 64
#: Bits of the largest count in the native model: exp(score - max score) * 2**52,
#: so a count keeps ~1e-15 relative precision down to 20 nats below the best piece.
COUNT_BITS = 52


def open_sentencepiece(raw: bytes, source: str) -> Vocabulary:
    """The SentencePiece model in ``raw`` (a serialized ``ModelProto``).

    Raises :class:`~.base.FormatError` naming ``source`` for bytes that are not
    a model (truncated, garbage, no pieces), for model types piecelab does not
    open (WORD, CHAR) and for models the library refuses to load.
    """
    from google.protobuf.message import DecodeError
    from sentencepiece import sentencepiece_model_pb2 as pb

    proto = pb.ModelProto()
    try:
        proto.ParseFromString(raw)
    except (DecodeError, ValueError, RuntimeError, TypeError) as exc:
        why = str(exc) or type(exc).__name__
        raise fail(
            source, f"not a SentencePiece model: the protobuf does not parse ({why})"
        ) from None
    if not proto.pieces:
        raise fail(source, "not a SentencePiece model: the protobuf holds no pieces")
    if not proto.HasField("trainer_spec") and not proto.HasField("normalizer_spec"):
        # the pieces come first in the file: a model cut after a piece parses
        raise fail(
            source,
            "not a SentencePiece model: no trainer or normalizer spec after the pieces "
            "(a truncated file?)",
        )
    model_type = proto.trainer_spec.model_type
    kind = _KINDS.get(model_type)
    if kind is None:
        name = _MODEL_TYPE_NAMES.get(model_type, f"number {model_type}")
        raise fail(
            source, f"model type {name} is not supported (piecelab opens UNIGRAM and BPE models)"
        )
    import sentencepiece as spm

    try:
        sp = spm.SentencePieceProcessor(model_proto=raw)
    except Exception as exc:  # the library raises RuntimeError/OSError with its own status
        raise fail(source, f"SentencePiece cannot load the model ({exc})") from None
    return SentencePieceVocabulary(proto, raw, sp, source, kind)


def _piece_bytes(text: str, kind: int) -> bytes:
    """A piece's bytes: its text, except a byte piece ``<0xE4>``, which is that byte."""
    if kind == BYTE:
        m = _BYTE_NAME.fullmatch(text)
        if m:
            return bytes([int(m.group(1), 16)])
    return text.encode("utf-8")


def _encode_proto(sp: Any, text: str, **options: Any) -> Any:
    """``SentencePieceText`` of ``text`` (pieces with byte offsets), across library versions."""
    try:
        return sp.encode(text, return_type="proto", **options)
    except TypeError:  # releases before return_type= (0.1.99, 0.2.0)
        return sp.encode(text, out_type="immutable_proto", **options)


def _spans(proto: Any, is_byte: np.ndarray) -> Spans:
    """Token spans as SentencePiece reports them, except byte-fallback tokens: it
    gives the character's span to the last of its bytes and empty ones to the
    others, and here each byte token covers its own byte."""
    pieces = proto.pieces
    n = len(pieces)
    ids = np.fromiter((p.id for p in pieces), np.int64, n)
    starts = np.fromiter((p.begin for p in pieces), np.int64, n)
    ends = np.fromiter((p.end for p in pieces), np.int64, n)
    k = 0
    while k < n:
        if not is_byte[ids[k]]:
            k += 1
            continue
        at = starts[k]  # the bytes of one character: empty spans at its start, then the whole one
        j = k
        while j < n and is_byte[ids[j]] and starts[j] == at and ends[j] == at:
            j += 1
        if j < n and is_byte[ids[j]] and starts[j] == at and ends[j] - at == j - k + 1:
            starts[k : j + 1] = starts[k] + np.arange(j - k + 1)
            ends[k : j + 1] = starts[k : j + 1] + 1
        k = j + 1
    return Spans(ids, starts, ends)


class SentencePieceVocabulary(Vocabulary):
    """A SentencePiece Unigram or BPE model, run by the ``sentencepiece`` library.

    ``pieces`` are the UTF-8 bytes of SentencePiece's piece strings (``▁`` kept;
    a byte piece ``<0xE4>`` is the byte ``b"\\xe4"``; control and unknown pieces
    are their names), ``scores`` the model's scores, ``special`` marks control,
    unknown, user-defined and unused pieces.  ``types`` holds the piece types.
    """

    can_sample = True

    def __init__(self, proto: Any, raw: bytes, sp: Any, source: str, kind: str) -> None:
        self.kind = kind
        self.source = source
        self.score_name = "log p" if kind == "sentencepiece-unigram" else "score"
        self.sp = sp
        self.raw = raw
        self.types = np.array([p.type for p in proto.pieces], np.int64)
        self.names = [p.piece for p in proto.pieces]
        self.pieces = [_piece_bytes(p.piece, p.type) for p in proto.pieces]
        self.scores = np.array([p.score for p in proto.pieces], np.float64)
        self.special = np.isin(self.types, _SPECIAL_TYPES)
        self.byte_fallback = bool(proto.trainer_spec.byte_fallback)
        self._native: NativeSentencePiece | None = None
        self._native_done = False
        self.count_top: float | None = None  # an edit's scale: see :meth:`edited`

    def encode(self, text: str) -> list[int]:
        return self.sp.encode(check_text(text))

    def decode(self, ids: Iterable[int]) -> str:
        return self.sp.decode([int(i) for i in ids])

    def spans(self, text: str) -> Spans:
        """SentencePiece's ids with its byte offsets into ``text``.

        A byte-fallback character's byte pieces each cover their own byte
        (SentencePiece gives the whole character to the last one).
        """
        return _spans(_encode_proto(self.sp, check_text(text)), self.types == BYTE)

    def sample(self, text: str, alpha: float, seed: int | None = None) -> list[int]:
        """A sampled segmentation by SentencePiece: Unigram sampling or BPE-dropout.

        Unigram: P(seg) ∝ Π p^α over the whole lattice (``nbest_size=-1``).
        BPE: ``alpha`` is the dropout probability (0 ≤ α ≤ 1).  α < 0 gives
        :meth:`encode`.  SentencePiece takes no seed per call, so a ``seed``
        (folded to 32 bits) reseeds the library's generator for the whole
        process (``sentencepiece.set_random_generator_seed``); without one the
        library's own sequence continues.
        """
        options = self._sampling(alpha, seed)
        text = check_text(text)
        return self.sp.encode(text, **options) if options else self.encode(text)

    def sample_spans(self, text: str, alpha: float, seed: int | None = None) -> Spans:
        """:meth:`sample` with SentencePiece's byte offsets (as :meth:`spans`)."""
        options = self._sampling(alpha, seed)
        text = check_text(text)
        if not options:
            return self.spans(text)
        return _spans(_encode_proto(self.sp, text, **options), self.types == BYTE)

    def _sampling(self, alpha: float, seed: int | None) -> dict[str, object]:
        """The library's sampling options for ``alpha`` (none: α < 0), seeding it first."""
        a = check_alpha(alpha)
        if a < 0:
            return {}
        if self.kind == "sentencepiece-bpe" and a > 1:
            raise ValueError(f"alpha is BPE-dropout's probability: 0 ≤ alpha ≤ 1, got {a}")
        if seed is not None:
            import sentencepiece as spm

            spm.set_random_generator_seed(kernel_seed(seed) % (1 << 32))
        if self.kind == "sentencepiece-bpe":
            return {"enable_sampling": True, "alpha": a}
        return {"enable_sampling": True, "alpha": a, "nbest_size": -1}

    @property
    def editable(self) -> bool:
        """Whether hand edits apply (:meth:`edited`): Unigram models the engine runs."""
        return self.native() is not None

    def edited(self, before: Model, after: Model) -> SentencePieceVocabulary:
        """This model after a hand edit of its native model, ``before`` → ``after``.

        Pieces are matched by text (a space typed in a new piece is ``▁``).  A
        deleted piece leaves the model (later ids move down); a retired one
        (count 0) becomes UNUSED (its id stays, it is never emitted); a piece whose
        count changed gets that count's score on the native scale (score = log
        count/2⁵² + the best score); an added one joins the end.  Every other
        piece keeps its exact score and type, so ids and ties stay SentencePiece's.
        """
        from sentencepiece import sentencepiece_model_pb2 as pb

        native = self.native()
        if native is None:
            raise ValueError(f"{self.source}: only SentencePiece Unigram models can be edited")
        top = self.count_top if self.count_top is not None else native.count_top
        synthetic = set(native._extra.values())
        proto = pb.ModelProto()
        proto.ParseFromString(self.raw)
        old, new = before.index, after.index
        pieces, seen = [], set()
        for piece in proto.pieces:
            if piece.type not in (NORMAL, USER_DEFINED, UNUSED):
                pieces.append(piece)
                continue
            text = piece.piece.encode()
            seen.add(text)
            j = new.get(text)
            if j is None:
                continue  # deleted
            count = int(after.counts[j - N_SPECIAL])
            i = old.get(text)
            was = int(before.counts[i - N_SPECIAL]) if i is not None else -1
            if count == 0:
                piece.type = UNUSED
            elif count != was or piece.type == UNUSED:
                piece.type, piece.score = NORMAL, _count_score(count, top)
            pieces.append(piece)
        for k, text in enumerate(after.pieces):
            if text in seen or text in synthetic:
                continue
            count = int(after.counts[k])
            name = _piece_name(text, self.source)
            pieces.append(
                pb.ModelProto.SentencePiece(
                    piece=name,
                    score=_count_score(max(count, 1), top),
                    type=NORMAL if count else UNUSED,
                )
            )
        del proto.pieces[:]
        proto.pieces.extend(pieces)
        out = open_sentencepiece(proto.SerializeToString(), self.source)
        assert isinstance(out, SentencePieceVocabulary)
        out.count_top = top
        return out

    def surface(self, i: int) -> str | None:
        """The piece's text with ``▁`` as the space it stands for (byte pieces: None)."""
        if self.types[i] == BYTE:
            return None
        text = super().surface(i)
        return text.replace("\u2581", " ") if text is not None else None

    def native(self) -> NativeSentencePiece | None:
        """piecelab's engine with SentencePiece's ids (Unigram only), built once.

        None for BPE, and for a Unigram model with a piece that runs past a
        newline into further text (piecelab cuts text after each run of
        newlines; SentencePiece's usual normalizers turn newlines into ``▁``).
        """
        if not self._native_done:
            self._native_done = True
            if self.kind == "sentencepiece-unigram" and not self._crosses_lines():
                self._native = NativeSentencePiece(self)
        return self._native

    def cuts(self, text: str, alpha: float = 1.0) -> SentencePieceCuts | None:
        """The continuation check of ``text`` through the native engine (Unigram); None
        where there is none (BPE; see :meth:`native`)."""
        native = self.native()
        return native.cuts(text, alpha) if native is not None else super().cuts(text, alpha)

    def _crosses_lines(self) -> bool:
        usable = (self.types == NORMAL) | (self.types == USER_DEFINED)
        return any(re.search(r"\n[^\n]", self.names[i]) for i in np.flatnonzero(usable))


def _count_score(count: int, top: float) -> float:
    """The SentencePiece score of a native count (the inverse of the native scale)."""
    return math.log(count / 2.0**COUNT_BITS) + top


def _piece_name(piece: bytes, source: str) -> str:
    """A new piece as SentencePiece writes it: text, with ``▁`` for each space."""
    try:
        return piece.decode("utf-8").replace(" ", "\u2581")
    except UnicodeDecodeError:
        raise ValueError(
            f"{source}: a SentencePiece piece must be whole characters, not {piece!r}"
        ) from None


def _char_class(chars: Iterable[str]) -> str:
    """A regular-expression class body matching exactly ``chars`` (as code point ranges)."""
    points = sorted({ord(c) for c in chars})
    parts = []
    i = 0
    while i < len(points):
        j = i
        while j + 1 < len(points) and points[j + 1] == points[j] + 1:
            j += 1
        lo, hi = points[i], points[j]
        parts.append(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}")
        i = j + 1
    return "".join(parts)


class NativeSentencePiece(Tokenizer):
    """piecelab's engine giving SentencePiece Unigram's ids, exactly where it can.

    Built from a :class:`SentencePieceVocabulary`: the engine's pieces are the
    model's NORMAL and USER_DEFINED pieces in SentencePiece id order (UNUSED
    pieces are left out, as SentencePiece's lattice skips them), and their paths
    are scored with SentencePiece's own scores (a user-defined piece scores
    ``bytes × max score − 0.1`` as in SentencePiece, so it wins).  The
    :class:`Model` holds them as counts ∝ exp(score), i.e. SentencePiece's
    scores renormalized; the kernels read the raw scores instead, because
    SentencePiece adds raw scores and a constant per token would change which
    path wins.

    Text is normalized by SentencePiece first (its charsmap, the dummy prefix
    ``▁``, spaces to ``▁``, extra spaces removed).  A character no
    single-character piece covers is SentencePiece's unknown: every path passes
    it the same way, so the text is cut there and each run of such characters
    is one unknown id (byte pieces with byte fallback), as SentencePiece merges
    them.  Such characters inside longer pieces are engine pieces scored as
    SentencePiece scores unknowns.

    Ids: :meth:`encode` (Viterbi and sampling ``encode(text, alpha=, seed=)``),
    :meth:`sample`, :meth:`encode_batch` and :meth:`count_tokens` give
    SentencePiece ids; :meth:`tokenize` gives those ids' piece bytes and
    :meth:`decode` takes SentencePiece ids.  :meth:`segment` and :meth:`top_k`
    normalize too but keep the engine's ids (``piece_to_id``/``id_to_piece``
    speak them; :meth:`sp_ids` maps them), and raise on unknown characters;
    the other inherited methods (``matches``, ``log_partition``, ...) take
    normalized text.

    Exactness: SentencePiece sums scores in float32 and keeps the first of
    equal sums, piecelab sums in float64, so paths within float32 rounding of
    each other may part.  The common case, runs of one repeated character
    (``----``, ``****``, whose pieces tie in any order), is settled as
    SentencePiece settles it (:meth:`_float32_ties`).  Measured: equal ids on
    every document of the project corpus and of the 7,734-document zh-en test
    corpus (a 4,000-piece model trained on it).  Sampling draws exactly from
    P ∝ Π p^α over SentencePiece's lattice, with piecelab's generator.
    """

    def __init__(self, vocabulary: SentencePieceVocabulary) -> None:
        v = vocabulary
        self.vocabulary = v
        self._sp = v.sp
        types, names, scores = v.types, v.names, v.scores
        normal = types == NORMAL
        if not normal.any():
            raise ValueError(f"{v.source}: the model has no normal pieces")
        max_score = max(float(scores[normal].max()), _FLT_MIN)
        unk_score = float(scores[normal].min()) - UNK_PENALTY
        keep = np.flatnonzero(normal | (types == USER_DEFINED))
        keep = keep[[bool(names[i]) for i in keep]]
        exact = scores[keep].copy()
        user = types[keep] == USER_DEFINED
        exact[user] = [len(names[i].encode()) * max_score - 0.1 for i in keep[user]]
        texts = [names[i] for i in keep]
        singles = {t for t in texts if len(t) == 1}
        inside = sorted({c for t in texts if len(t) > 1 for c in t} - singles)
        self.unk_id = int(v.sp.unk_id())
        self.bos_id = int(v.sp.bos_id())
        self.eos_id = int(v.sp.eos_id())
        self.exact_ids = keep  # engine id i + 3 is SentencePiece id keep[i]
        # characters inside pieces that no single piece covers: pieces of SentencePiece's
        # unknown score, mapped to the unknown id
        self._extra = {N_SPECIAL + len(keep) + k: c.encode() for k, c in enumerate(inside)}
        to_sp = [-1] * N_SPECIAL + keep.tolist() + [self.unk_id] * len(inside)
        self._to_sp = to_sp
        self._to_sp_array = np.array(to_sp, np.int64)
        exact = np.concatenate([exact, np.full(len(inside), unk_score)])
        self._exact = np.concatenate([np.full(N_SPECIAL, -np.inf), exact])
        self._unk_f32 = np.float32(unk_score)
        covered = singles | set(inside)
        self._unknown_re = re.compile(f"[^{_char_class(covered)}]+")
        self._byte_ids: list[int] | None = None
        if v.byte_fallback:
            byte_ids = [-1] * 256
            for i in np.flatnonzero(types == BYTE):
                p = v.pieces[i]
                if len(p) == 1:
                    byte_ids[p[0]] = int(i)
            if min(byte_ids) >= 0:
                self._byte_ids = byte_ids
        self._longest: int | None = None
        self._init_runs(pieces_text := texts + inside)
        top = float(exact.max()) if vocabulary.count_top is None else vocabulary.count_top
        self.count_top = top  # counts are exp(score - count_top) · 2**COUNT_BITS
        counts = np.maximum(np.rint(np.exp(exact - top) * 2.0**COUNT_BITS), 1).astype(np.int64)
        pieces = [t.encode() for t in pieces_text]
        super().__init__(Model(pieces, counts, v.source))

    def _init_runs(self, texts: list[str]) -> None:
        """Tables for :meth:`_float32_ties`: the pieces that repeat one character."""
        n = N_SPECIAL + len(texts)
        self._run_char = np.full(n, -1, np.int64)
        self._run_len = np.zeros(n, np.int64)
        runs: dict[int, list[tuple[int, np.float32, int]]] = {}
        f32 = self._exact.astype(np.float32)
        self._f32 = f32
        for k, t in enumerate(texts):
            if t and t == t[0] * len(t):
                i = N_SPECIAL + k
                self._run_char[i] = ord(t[0])
                self._run_len[i] = len(t)
                runs.setdefault(ord(t[0]), []).append((len(t), f32[i], i))
        solvable = {c: sorted(v) for c, v in runs.items() if min(v)[0] == 1}
        self._run_char_list: list[int] = self._run_char.tolist()
        run_row = np.full(n, -1, np.int64)
        rows = [solvable[c] for c in sorted(solvable)]
        flat = [p for row in rows for p in row]
        ends = np.cumsum([len(row) for row in rows], dtype=np.int64)
        for r, row in enumerate(rows):
            for _, _, i in row:
                run_row[i] = r
        self._run_tables = (
            self._run_char,
            run_row,
            self._run_len,
            f32,
            ends - [len(row) for row in rows] if rows else np.zeros(0, np.int64),
            ends if rows else np.zeros(0, np.int64),
            np.array([k for k, _, _ in flat], np.int64),
            np.array([sc for _, sc, _ in flat], np.float32),
            np.array([i for _, _, i in flat], np.int64),
        )

    def _has_run(self, ids: list[int]) -> bool:
        """Whether two tokens in a row repeat the same character (a plain loop: for a
        document's few dozen tokens it is several times faster than numpy's calls)."""
        run_char = self._run_char_list
        prev = -1
        for i in ids:
            c = run_char[i]
            if c == prev and c >= 0:
                return True
            prev = c
        return False

    def _float32_ties(self, ids: list[int], acc: np.float32) -> tuple[list[int], np.float32 | None]:
        """Reorder runs of one repeated character as SentencePiece's float32 Viterbi does.

        Pieces of one character repeated (``--``, ``****``) tie in every order;
        SentencePiece sums scores in float32 and keeps the first of equal sums, so
        its order follows rounding.  Each stretch of such tokens is solved again
        that way, from the float32 score of the tokens before it (``acc`` before
        the first).  Returns the ids and the float32 score after them (None when
        nothing was re-solved: the caller sums if it needs it).
        """
        if not self._has_run(ids):
            return ids, None
        t = self._run_tables
        fixed, after = settle_runs(np.asarray(ids, np.int64), np.float32(acc), *t)
        return fixed.tolist(), after

    def __reduce__(self) -> tuple:
        return (_native_from_raw, (self.vocabulary.raw, self.vocabulary.source))

    def piece_scores(self, model: Model) -> np.ndarray:
        # SentencePiece's raw scores, not the renormalized log p of the counts (see the class)
        return self._exact

    # ------------------------------------------------------------- SentencePiece ids
    def normalize(self, text: str) -> str:
        """SentencePiece's normalized form of ``text``: what both tokenizers segment."""
        return self._sp.normalize(check_text(text))

    def sp_ids(self, ids: Iterable[int]) -> np.ndarray:
        """SentencePiece ids of engine ids (from :meth:`segment`, :meth:`top_k`)."""
        return self._to_sp_array[np.asarray(list(ids), np.int64)]

    def _unknown(self, surface: bytes, out: list[int]) -> None:
        """Append the ids SentencePiece gives unknown text (merged, or its bytes)."""
        if self._byte_ids is not None:
            out.extend(self._byte_ids[b] for b in surface)
        elif not out or out[-1] != self.unk_id:
            out.append(self.unk_id)

    def _run(
        self,
        text: str,
        alpha: float,
        seed: int | None,
        out: list[int],
        acc: np.float32 | None = None,
        last: bool = True,
    ) -> np.float32 | None:
        """Append the SentencePiece ids of normalized ``text`` without unknown characters.

        ``acc`` (Viterbi only): SentencePiece's float32 score of the text before,
        to settle ties as it does; returns the score after (unless ``last``).
        """
        if text.isascii() or unicodedata.is_normalized("NFC", text):
            ids = Tokenizer.encode(self, text, alpha=alpha, seed=seed)
        else:  # the engine would NFC it; SentencePiece segments it as it is
            _, arr, _ = self._segment(text.encode(), alpha, seed)
            ids = arr.tolist()
        if acc is not None:
            ids, after = self._float32_ties(ids, acc)
            if not last:
                if after is None:
                    scores = self._f32[np.asarray(ids, np.int64)]
                    after = np.add.accumulate(np.concatenate([[acc], scores]))[-1]
                acc = after
        to_sp = self._to_sp
        if not self._extra:
            out.extend([to_sp[i] for i in ids])
            return acc
        extra = self._extra
        for i in ids:
            if i in extra:
                self._unknown(extra[i], out)
            else:
                out.append(to_sp[i])
        return acc

    def _sp_encode(self, text: str, alpha: float, seed: int | None) -> list[int]:
        self.wait_ready()
        if seed is not None:
            seed = kernel_seed(seed) % _TWO64
        norm = self.normalize(text)
        out: list[int] = []
        pos = k = 0
        acc = np.float32(0.0) if check_alpha(alpha) < 0 else None
        for m in self._unknown_re.finditer(norm):
            if m.start() > pos:
                acc = self._run(norm[pos : m.start()], alpha, _sub_seed(seed, k), out, acc, False)
                k += 1
            self._unknown(m.group().encode(), out)
            if acc is not None:  # one unknown node per character
                for _ in range(m.end() - m.start()):
                    acc = np.float32(acc + self._unk_f32)
            pos = m.end()
        if pos < len(norm):
            self._run(norm[pos:], alpha, _sub_seed(seed, k), out, acc)
        return out

    def encode(  # type: ignore[override]
        self,
        text: str,
        add_bos: bool = False,
        add_eos: bool = False,
        alpha: float = -1,
        iter: bool = False,
        *,
        seed: int | None = None,
    ) -> list[int] | Iterator[int]:
        """SentencePiece's ids of ``text``: α < 0 Viterbi, α ≥ 0 exact P ∝ Π p^α."""
        out = self._sp_encode(text, alpha, seed)
        if add_bos:
            out.insert(0, self._special_id(self.bos_id, "<s>"))
        if add_eos:
            out.append(self._special_id(self.eos_id, "</s>"))
        return out.__iter__() if iter else out

    def _special_id(self, i: int, name: str) -> int:
        if i < 0:
            raise ValueError(f"this SentencePiece model has no {name} id")
        return i

    def sample(self, text: str, alpha: float, seed: int | None = None) -> list[int]:
        """One exact draw with P(seg) ∝ Π p^α, in SentencePiece ids."""
        return self._sp_encode(text, check_alpha(alpha), seed)

    def tokenize(  # type: ignore[override]
        self, text: str, alpha: float = -1, iter: bool = False, *, seed: int | None = None
    ) -> list[bytes] | Iterator[bytes]:
        """The vocabulary's bytes (``▁`` kept, byte pieces as bytes) of :meth:`encode`'s ids."""
        pieces = self.vocabulary.pieces
        out = [pieces[i] for i in self._sp_encode(text, alpha, seed)]
        return out.__iter__() if iter else out

    def decode(self, ids: Iterable[int]) -> str:
        """Text of SentencePiece ids, as SentencePiece decodes them."""
        return self.vocabulary.decode(ids)

    def encode_batch(  # type: ignore[override]
        self,
        texts: Sequence[str],
        alpha: float = -1,
        workers: int | None = None,
        seed: int | None = None,
    ) -> list[list[int]]:
        """:meth:`encode` of each text (one thread: SentencePiece normalizes each first)."""
        return [
            self._sp_encode(t, alpha, _sub_seed(seed, j) if seed is not None else None)
            for j, t in enumerate(texts)
        ]

    def tokenize_batch(  # type: ignore[override]
        self,
        texts: Sequence[str],
        alpha: float = -1,
        workers: int | None = None,
        seed: int | None = None,
    ) -> list[list[bytes]]:
        pieces = self.vocabulary.pieces
        return [[pieces[i] for i in ids] for ids in self.encode_batch(texts, alpha, seed=seed)]

    def count_tokens(self, texts: Sequence[str], workers: int | None = None) -> int:
        return sum(len(self._sp_encode(t, -1, None)) for t in texts)

    # ------------------------------------------------------------- engine ids
    def segment(self, text: str, alpha: float = -1, seed: int | None = None) -> Segmentation:
        """The engine's segmentation of SentencePiece's normalized text (engine ids)."""
        self.wait_ready()
        return super().segment(self.normalize(text), alpha, seed)

    def top_k(self, text: str, k: int = 10, alpha: float = 1.0) -> list[tuple[Segmentation, float]]:
        """The k best segmentations of the normalized text (engine ids; see :meth:`sp_ids`)."""
        self.wait_ready()
        return super().top_k(self.normalize(text), k, alpha)

    def count_segmentations(self, text: str) -> int:
        """How many segmentations the normalized text has (what :meth:`top_k` ranks)."""
        return super().count_segmentations(self.normalize(text))

    def boundary_marginals(self, text: str, alpha: float = 1.0) -> np.ndarray:
        """P(boundary) at each byte of the normalized text, unknown characters included
        (see :meth:`normalized_marginals`; :meth:`cuts` gives them on ``text`` itself)."""
        return self.normalized_marginals(self.normalize(text), alpha)

    def lattice(self, text: str, alpha: float = 1.0) -> Lattice:
        """The lattice of the normalized text (``▁`` for spaces), for teaching."""
        self.wait_ready()
        return super().lattice(self.normalize(text), alpha)

    # ------------------------------------------------------------- the text as given
    def cuts(self, text: str, alpha: float = 1.0) -> SentencePieceCuts:
        """The continuation check of ``text`` at any of its bytes (SentencePiece ids):
        boundary probabilities carried back from the normalized text."""
        from .sp_cuts import SentencePieceCuts

        return SentencePieceCuts(self, text, alpha)

    def continuation(self, text: str, offset: int, alpha: float = 1.0) -> Continuation:
        """Whether a cut at byte ``offset`` of ``text`` (as given) is a token boundary."""
        return self.cuts(text, alpha).at(offset)

    def _stretches(self, norm: str) -> Iterator[tuple[int, int, bool]]:
        """(start byte, end byte, unknown) of the normalized text's stretches: runs of
        characters no piece covers, which every path passes the same way, and the rest."""
        pos = at = 0
        for m in self._unknown_re.finditer(norm):
            if m.start() > pos:
                size = len(norm[pos : m.start()].encode())
                yield at, at + size, False
                at += size
            size = len(m.group().encode())
            yield at, at + size, True
            at += size
            pos = m.end()
        if pos < len(norm):
            yield at, at + len(norm[pos:].encode()), False

    def normalized_marginals(self, norm: str, alpha: float = 1.0) -> np.ndarray:
        """P(boundary) at each byte of already-normalized text under the sampler at
        ``alpha``, unknown characters included (each byte a token with byte fallback,
        else one unknown token per run, as SentencePiece merges them)."""
        self.wait_ready()
        a = check_alpha(alpha)
        if a < 0:
            raise ValueError(f"alpha must be ≥ 0 for boundary marginals, got {alpha!r}")
        data = check_text(norm).encode()
        if not unicodedata.is_normalized("NFC", norm):
            raise ValueError("the normalized text is not NFC; piecelab's engine cannot follow it")
        out = np.zeros(len(data) + 1)
        for start, end, unknown in self._stretches(norm):
            if unknown:
                out[start : end + 1 : 1 if self._byte_ids is not None else end - start] = 1.0
            else:  # no unknown character: covered, no need to check each stretch again
                out[start : end + 1] = self._marginals_of(data[start:end], a)
        out[0] = out[-1] = 1.0
        return out

    def normalized_arcs(
        self, norm: str, alpha: float = 1.0, within: Sequence[tuple[int, int]] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(starts, ends, SentencePiece ids, P): the piece occurrences in already-
        normalized text (inside the byte ranges ``within``, if given) with the
        probability that the sampler at ``alpha`` uses each
        (:meth:`Tokenizer.piece_marginals`), and the tokens of unknown characters
        (P = 1: each byte with byte fallback, else one unknown per run, listed where
        a range meets the run)."""
        self.wait_ready()
        parts = [
            (s, e, i, np.ones(len(s)) if prob is None else prob)
            for s, e, i, prob in self._arc_parts(norm, within, alpha)
        ]
        if not parts:
            empty = np.zeros(0, np.int64)
            return empty, empty, empty, np.zeros(0)
        s, e, i, prob = (np.concatenate(col) for col in zip(*parts))
        return s, e, i, prob

    def normalized_occurrences(
        self, norm: str, within: Sequence[tuple[int, int]] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`normalized_arcs` without the probabilities (no forward-backward pass:
        what the continuation check lists at a caret)."""
        self.wait_ready()
        parts = [(s, e, i) for s, e, i, _ in self._arc_parts(norm, within, None)]
        if not parts:
            empty = np.zeros(0, np.int64)
            return empty, empty, empty
        s, e, i = (np.concatenate(col) for col in zip(*parts))
        return s, e, i

    def _arc_parts(self, norm: str, within, alpha: float | None) -> Iterator[tuple]:
        """Per stretch a range meets: (starts, ends, SentencePiece ids, P or None); P
        only for known stretches and only with an ``alpha``."""
        data = norm.encode()
        windows = merged_ranges(within, len(data))
        his = [hi for _, hi in windows]
        for start, end, unknown in self._stretches(norm):
            local = []
            for lo, hi in windows[bisect.bisect_right(his, start) :]:
                if lo >= end:
                    break
                local.append((max(lo, start) - start, min(hi, end) - start))
            if not local:
                continue
            if not unknown:
                piece = data[start:end]
                if alpha is None:
                    s, e, i = self._occurrences(piece, local)
                    prob = None
                else:
                    s, e, i, prob = Tokenizer.piece_marginals(self, piece.decode(), alpha, local)
                yield start + s, start + e, self._to_sp_array[i], prob
            elif self._byte_ids is not None:
                at = np.concatenate([np.arange(start + lo, start + hi) for lo, hi in local])
                ids = np.array([self._byte_ids[data[k]] for k in at.tolist()], np.int64)
                yield at, at + 1, ids, None
            else:  # the run's one unknown token, where a range meets it
                one = np.ones(1, np.int64)
                yield one * start, one * end, one * self.unk_id, None

    @property
    def longest_piece(self) -> int:
        """Bytes of the longest piece (normalized text): how far an occurrence reaches."""
        if self._longest is None:
            self._longest = max((len(p) for p in self.model.pieces), default=1)
        return self._longest


def _sub_seed(seed: int | None, k: int) -> int | None:
    """The seed of the ``k``-th piece of one call (the call's own seed for the first)."""
    return None if seed is None else (seed + k * _GOLDEN) % _TWO64


def _native_from_raw(raw: bytes, source: str) -> NativeSentencePiece:
    """Rebuild a pickled :class:`NativeSentencePiece` from its model's bytes."""
    vocab = open_sentencepiece(raw, source)
    native = vocab.native()
    assert native is not None
    return native


def agreement(vocabulary: SentencePieceVocabulary, texts: Sequence[str]) -> tuple[int, list[int]]:
    """How many ``texts`` the native tokenizer encodes as ``sp.encode`` does, and which differ."""
    native = vocabulary.native()
    if native is None:
        return 0, list(range(len(texts)))
    differ = [j for j, t in enumerate(texts) if native.encode(t) != vocabulary.encode(t)]
    return len(texts) - len(differ), differ


__all__ = [
    "NativeSentencePiece",
    "SentencePieceVocabulary",
    "agreement",
    "open_sentencepiece",
]
