"""Write piecelab's models as Hugging Face ``tokenizer.json`` files.

The JSON is built here (no library needed) so that ``tokenizers`` segments exactly as
piecelab does: NFC, the text cut after each run of newlines (BytePiece's line
chunks ``.*\\n+|.+``), every byte one symbol through GPT-2's byte-to-character
table, and Unigram Viterbi over the pieces with their log-probabilities.

Why the scores are written digit by digit: ``tokenizers`` reads JSON numbers with
``serde_json``'s fast parser, which is not correctly rounded (about a quarter of
the 80k model's log-probabilities came back one unit in the last place off), and
Viterbi near-ties then fall the other way.  Each score is written as a decimal that
this parser provably turns into the exact double (:func:`_exact_number`).  Ties
need no care: both Viterbis keep the longest piece ending at a position (piecelab
by ``>=`` over shorter-first candidates, ``tokenizers`` by ``>`` over
earlier-first starts), and both sum scores left to right from 0.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path
from typing import Protocol

from ..atomic import atomic_write
from ..byte_level import bytes_to_unicode
from ..model import N_SPECIAL, SPECIALS, Model

#: The score written for ids Viterbi must never pick (the special tokens, and
#: pieces of count 0, whose log p is −inf, which JSON cannot hold).  Any path of
#: real pieces scores far above it, so it only decides text piecelab rejects.
NEVER_SCORE = -1e30


class HoldsModel(Protocol):
    """A piecelab Tokenizer, as far as the export cares (named so without importing it)."""

    model: Model


class InexactScoreWarning(UserWarning):
    """An export whose scores ``tokenizers`` cannot all read back exactly."""


def _serde_value(text: str) -> float:
    """The double ``serde_json`` (without ``float_roundtrip``) reads from a JSON number.

    It gathers the digits into an integer significand, converts that to a double,
    then multiplies or divides once by a power of ten from a table of doubles.
    Only the forms :func:`_exact_number` writes are handled (no integer overflow).
    """
    mantissa, _, exp_text = text.lower().partition("e")
    exponent = int(exp_text) if exp_text else 0
    negative = mantissa.startswith("-")
    whole, _, frac = mantissa.lstrip("-").partition(".")
    digits = int(whole + frac)
    if digits >= 1 << 64:
        raise OverflowError(text)
    exponent -= len(frac)
    f = float(digits)
    if exponent >= 0:
        f *= float(10**exponent)
    else:
        f /= float(10**-exponent)
    return -f if negative else f


def _exact_number(x: float) -> str | None:
    """A JSON number that both ``serde_json``'s fast parser and Python read as ``x``, or None.

    Python's shortest repr when the fast parser gets it right (most values);
    otherwise ``S e-k`` with a significand ``S`` (a double, so converted exactly)
    whose one division by 10**k rounds to ``x``.  About 0.2% of doubles have
    neither form (their mantissa lies between the reachable quotients).
    """
    text = repr(float(x))
    if "inf" in text or "nan" in text:
        raise ValueError(f"{x!r} has no JSON number")
    if _serde_value(text) == x:
        return text
    for k in range(1, 23):  # 10**k is an exact double up to 10**22
        p = float(10**k)
        guess = x * p
        if not 2.0**53 <= abs(guess) < 2.0**64 - 4096:  # doubles here are whole numbers
            continue
        cand = guess
        for _ in range(4):  # walk down a few doubles from the guess, then up
            cand = math.nextafter(cand, -math.inf)
        for _ in range(9):
            if cand / p == x:
                number = f"{int(cand)}e-{k}"
                if _serde_value(number) == x and float(number) == x:
                    return number
            cand = math.nextafter(cand, math.inf)
    return None


def _score_number(x: float) -> tuple[str, bool]:
    """(JSON number, whether it is exact) for a score: ``x`` or, failing that, its nearest
    double neighbour that ``tokenizers`` reads exactly (one unit in the last place off)."""
    exact = _exact_number(x)
    if exact is not None:
        return exact, True
    down = up = x
    for _ in range(64):
        down, up = math.nextafter(down, -math.inf), math.nextafter(up, math.inf)
        for near in (up, down) if up <= 0.0 else (down,):  # log p stays ≤ 0
            found = _exact_number(near)
            if found is not None:
                return found, False
    raise ValueError(f"no JSON number near {x!r} that tokenizers reads")  # pragma: no cover


def hf_json(model: Model | HoldsModel) -> str:
    """The ``tokenizer.json`` text that segments as piecelab's tokenizer for ``model``.

    Ids are piecelab's: ``<pad>``, ``<bos>``, ``<eos>`` at 0, 1, 2 (special added
    tokens) and piece ``i`` at ``i + 3``.  A model missing some single byte gives
    text holding that byte no segmentation: piecelab raises ``ValueError``, and
    ``tokenizers`` raises its "unknown token but ``unk_id`` is missing" error.
    Text holding ``<pad>``, ``<bos>`` or ``<eos>`` literally gets those special ids
    from ``tokenizers`` (as every added token does) but bytes from piecelab; set
    ``encode_special_tokens = True`` on the loaded tokenizer (the file cannot
    carry it) to have them read as text.
    """
    m: Model = getattr(model, "model", model)  # a piecelab Tokenizer holds its Model
    if not isinstance(m, Model):
        raise TypeError(f"expected a piecelab Model or Tokenizer, got {type(model).__name__}")
    m.validate()
    specials = set(SPECIALS)
    tokens = [bytes_to_unicode(p) for p in m.pieces]
    clash = next((t for t in tokens if t in specials), None)
    if clash is not None:
        raise ValueError(
            f"{m.source}: the model holds the piece {clash!r}, the name of a special token; "
            "a tokenizer.json cannot give both their own ids"
        )
    log_p = m.log_probs()[N_SPECIAL:]
    never = _score_number(NEVER_SCORE)[0]
    entries = [f"[{json.dumps(s)},{never}]" for s in SPECIALS]
    inexact = 0
    for token, score in zip(tokens, log_p.tolist()):
        number, exact = _score_number(score) if math.isfinite(score) else (never, True)
        inexact += not exact
        entries.append(f"[{json.dumps(token, ensure_ascii=False)},{number}]")
    if inexact:
        warnings.warn(
            f"{m.source}: {inexact} of {len(tokens):,} log-probabilities have no JSON number "
            "that tokenizers reads exactly; they are written one unit in the last place off, "
            "which can turn a Viterbi near-tie the other way",
            InexactScoreWarning,
            stacklevel=3,
        )
    head = _head()
    text = json.dumps(head, ensure_ascii=False)[:-1]
    vocab = ",\n".join(entries)
    return (
        f'{text},"model":{{"type":"Unigram","unk_id":null,"byte_fallback":false,'
        f'"vocab":[\n{vocab}\n]}}}}\n'
    )


def _head() -> dict:
    """Everything of the file but the vocabulary: NFC, line chunks, byte-level pieces."""
    byte_level = {"add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {
                "id": i,
                "content": s,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
            for i, s in enumerate(SPECIALS)
        ],
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                # the line chunks: a cut after each run of newlines, kept with its line
                {
                    "type": "Split",
                    "pattern": {"Regex": "\\n+"},
                    "behavior": "MergedWithPrevious",
                    "invert": False,
                },
                {"type": "ByteLevel", **byte_level},
            ],
        },
        "post_processor": None,
        "decoder": {"type": "ByteLevel", **byte_level},
    }


def export_hf(model: Model | HoldsModel, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` (or a piecelab Tokenizer's model) as a ``tokenizer.json``, atomically.

    ``tokenizers.Tokenizer.from_file(path)`` then gives piecelab's ids for every
    text piecelab tokenizes (see :func:`hf_json` for the two exceptions).
    """
    path = Path(path)
    atomic_write(path, hf_json(model).encode("utf-8"))
    return path
