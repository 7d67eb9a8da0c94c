"""tiktoken rank files: piecelab.load encodes as tiktoken itself does, and bad files fail by name.

The rank files are made here: all 256 bytes, then ~100 merges from a tiny
byte-pair trainer on the test corpus, so that they are valid BPE.  tiktoken is
only ever given tables built here (no download: sockets are blocked).
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import socket
import subprocess
import sys
from collections import Counter
from itertools import pairwise

import numpy as np
import pytest

from tests.conftest import DATA

tiktoken = pytest.importorskip("tiktoken")

from piecelab.engine.formats import FormatError, SamplingUnavailable, load  # noqa: E402
from piecelab.engine.formats.tiktoken import (  # noqa: E402
    CL100K_PATTERN,
    O200K_PATTERN,
    PRESETS,
    R50K_PATTERN,
    preset_name,
)

_WORDS = re.compile(r" ?\w+| ?[^\w\s]+|\s+")
TRICKY = [
    "",
    " ",
    "\n\n\n",
    "Hello, world! It's   spaced\ttabs\r\nand lines\n",
    "中文混合English，标点。🙂 emoji 👩‍👩‍👧 zwj",
    "e\u0301 combining, café, ﬁ ligature",
    "1234567890 numbers 3.14159",
    "a" * 500,
]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any connection attempt fails the test: tiktoken must never download."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def corpus_texts(n: int | None = None) -> list[str]:
    with gzip.open(DATA / "trainer_corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh]
    return texts[:n] if n else texts


def train_bpe(texts: list[str], merges: int) -> dict[bytes, int]:
    """Ranks of a byte-level BPE: 256 bytes, then the most frequent new pair, ``merges`` times."""
    words = Counter(w.encode() for t in texts for w in _WORDS.findall(t))
    splits = {w: [bytes([b]) for b in w] for w in words}
    ranks = {bytes([b]): b for b in range(256)}
    for _ in range(merges):
        pairs: Counter[tuple[bytes, bytes]] = Counter()
        for w, parts in splits.items():
            for a, b in pairwise(parts):
                pairs[a, b] += words[w]
        best = max(
            (p for p in pairs if p[0] + p[1] not in ranks),
            key=lambda p: (pairs[p], p),
            default=None,
        )
        if best is None:
            break
        joined = best[0] + best[1]
        ranks[joined] = len(ranks)
        for w, parts in splits.items():
            i, out = 0, []
            while i < len(parts):
                if i + 1 < len(parts) and parts[i] == best[0] and parts[i + 1] == best[1]:
                    out.append(joined)
                    i += 2
                else:
                    out.append(parts[i])
                    i += 1
            splits[w] = out
    return ranks


def rank_file(ranks: dict[bytes, int]) -> bytes:
    return b"".join(base64.b64encode(t) + b" %d\n" % r for t, r in ranks.items())


@pytest.fixture(scope="module")
def ranks() -> dict[bytes, int]:
    got = train_bpe(corpus_texts(300), 100)
    assert len(got) == 356
    return got


@pytest.fixture(scope="module")
def sample() -> list[str]:
    return corpus_texts()[::10] + TRICKY


def direct(ranks: dict[bytes, int], pattern: str):
    return tiktoken.Encoding("direct", pat_str=pattern, mergeable_ranks=ranks, special_tokens={})


@pytest.mark.parametrize(
    ("name", "pattern"),
    [("cl100k", CL100K_PATTERN), ("o200k", O200K_PATTERN), ("gpt2", R50K_PATTERN)],
)
def test_encode_equals_tiktoken(tmp_path, ranks, sample, name, pattern):
    path = tmp_path / "small.tiktoken"
    path.write_bytes(rank_file(ranks))
    vocab = load(path, pattern=name)
    assert vocab.kind == "tiktoken"
    assert vocab.preset == preset_name(name) and not vocab.guessed
    enc = direct(ranks, pattern)
    for text in sample:
        assert vocab.encode(text) == enc.encode_ordinary(text), text[:80]
    assert vocab.encode_batch(sample) == [enc.encode_ordinary(t) for t in sample]
    merged = sum(len(vocab.encode(t)) for t in sample)
    assert merged < sum(len(t.encode()) for t in sample)  # the merges are used


def test_other_extension_and_raw_regex(tmp_path, ranks, sample):
    path = tmp_path / "ranks.model"  # the content decides, not the name
    path.write_bytes(rank_file(ranks) + b"\n\n")  # blank trailing lines are fine
    regex = r"\s+|\S+"
    vocab = load(path, pattern=regex)
    assert vocab.preset is None and vocab.pattern == regex
    enc = direct(ranks, regex)
    for text in sample:
        assert vocab.encode(text) == enc.encode_ordinary(text)


def test_vocabulary_table_spans_decode(tmp_path, ranks, sample):
    path = tmp_path / "small.tiktoken"
    path.write_bytes(rank_file(ranks).replace(b"\n", b"\r\n"))
    vocab = load(path)  # no pattern: a size no published file has → cl100k's
    assert vocab.preset == "cl100k_base" and vocab.guessed
    assert vocab.special_tokens == {}  # cl100k's ids would leave ~100k empty ids
    assert vocab.vocab_size == len(ranks)
    assert vocab.score_name == "rank" and not vocab.can_sample
    assert all(vocab.pieces[r] == t for t, r in ranks.items())
    np.testing.assert_array_equal(vocab.scores, np.arange(len(ranks)))
    assert not vocab.special.any()
    with pytest.raises(SamplingUnavailable):
        vocab.sample("abc", 0.1)
    for text in sample:
        data = text.encode()
        spans = vocab.spans(text)
        assert spans.ids.tolist() == vocab.encode(text)
        assert b"".join(data[s:e] for s, e in zip(spans.starts, spans.ends)) == data
        assert spans.starts.tolist() == [0, *spans.ends[:-1].tolist()][: len(spans)]
        assert b"".join(vocab.tokenize(text)) == data
        assert vocab.decode(vocab.encode(text)) == text
        starts, ends = spans.char_spans(text)
        assert (len(spans) == 0) or (ends[-1] == len(text) and starts[0] == 0)


def test_published_sizes_get_their_preset_and_special_tokens(tmp_path):
    """A cl100k-sized file: cl100k's pattern, its special tokens, id 100256 an empty gap."""
    ranks = {bytes([b]): b for b in range(256)}
    ranks.update({b"t%d" % i: i for i in range(256, 100256)})
    path = tmp_path / "big.tiktoken"
    path.write_bytes(rank_file(ranks))
    vocab = load(path)
    assert vocab.preset == "cl100k_base" and vocab.guessed
    specials = PRESETS["cl100k_base"][1]
    assert vocab.special_tokens == specials
    assert vocab.vocab_size == 100277
    assert vocab.pieces[100256] == b"" and vocab.special[100256]
    assert vocab.pieces[100257] == b"<|endoftext|>" and vocab.special[100257]
    assert not vocab.special[:100256].any()
    assert vocab.decode([100257]) == "<|endoftext|>"
    assert vocab.encode("<|endoftext|>") != [100257]  # ordinary text, as encode_ordinary
    # the same file told to use o200k: its special ids are far past the ranks → none
    other = load(path, pattern="o200k_base")
    assert other.special_tokens == {} and other.vocab_size == 100256


def test_presets_are_complete():
    for name in ("r50k_base", "gpt2", "p50k_base", "cl100k_base", "o200k_base"):
        assert name in PRESETS and preset_name(name) == name
    assert preset_name("CL100K") == "cl100k_base" and preset_name("o200k") == "o200k_base"
    assert preset_name(r"\s+") is None
    assert PRESETS["o200k_base"][1] == {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}


GOOD = [b"%s %d" % (base64.b64encode(bytes([b])), b) for b in range(256)]


def at_3(line: bytes) -> list[bytes]:
    """The 256 good lines with ``line`` as line 3."""
    return [*GOOD[:2], line, *GOOD[2:]]


@pytest.mark.parametrize(
    ("lines", "where", "words"),
    [
        (at_3(b"QQ=x 300"), "line 3", "not base64"),
        (at_3(b"YWI= 3x"), "line 3", "not a whole number"),
        (at_3(b"YWI= -3"), "line 3", "not a whole number"),
        ([*GOOD, b"YWI= 300", b"YWI= 301"], "line 258", "already on line 257"),
        ([*GOOD, b"YWI= 255"], "line 257", "rank 255 is already on line 256"),
        (at_3(b"hello"), "line 3", "expected 'base64 rank'"),
        (at_3(b""), "line 3", "expected 'base64 rank'"),
        (at_3(b"YWI= 3 4"), "line 3", "expected 'base64 rank'"),
        (GOOD[:100] + GOOD[101:], "0x64", "no rank"),
        ([*GOOD, b"YWI= 999999"], "999,999", "too sparse"),
    ],
)
def test_bad_files_fail_naming_the_file(tmp_path, lines, where, words):
    path = tmp_path / "bad.tiktoken"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(FormatError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(str(path)) and where in message and words in message, message


def test_invalid_regex_fails_naming_the_file(tmp_path, ranks):
    path = tmp_path / "small.tiktoken"
    path.write_bytes(rank_file(ranks))
    for bad in ("(unclosed", "[a-"):
        with pytest.raises(FormatError, match=re.escape(str(path)) + ".*invalid split pattern"):
            load(path, pattern=bad)
    with pytest.raises(FormatError, match="empty"):
        load(path, pattern="  ")


def test_module_imports_no_tiktoken():
    code = (
        "import sys, piecelab.engine.formats.tiktoken as t; "
        "assert 'tiktoken' not in sys.modules, 'imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_spans_of_repaired_text_and_of_a_pattern_that_skips(tmp_path, ranks):
    path = tmp_path / "small.tiktoken"
    path.write_bytes(rank_file(ranks))
    vocab = load(path)
    spans = vocab.spans("ab\udc00cd")  # tiktoken encodes the lone surrogate as U+FFFD
    assert spans.ends[-1] == len("ab\ufffdcd".encode())
    skipping = load(path, pattern=r"[a-z]+")  # tiktoken drops what the pattern skips
    text = "12 the 34 on the"
    spans = skipping.spans(text)
    data = text.encode()
    assert [data[s:e] for s, e in zip(spans.starts, spans.ends)] == skipping.tokenize(text)
    assert spans.starts[0] == 3


def test_unreachable_pieces_are_the_ones_the_split_keeps_apart(tmp_path):
    """A rank across the pattern's split ("e." : letters and punctuation part) is never
    produced; the bytes themselves and merges inside a word are."""
    tokens = [bytes([b]) for b in range(256)] + [b"th", b"the", b"e."]
    path = tmp_path / "tiny.tiktoken"
    path.write_bytes(rank_file({t: r for r, t in enumerate(tokens)}))
    mask = load(path).unreachable()
    assert mask.shape == (len(tokens),)
    assert mask[256] == 0 and mask[257] == 0  # th, the
    assert mask[258] == 1  # e.
    assert mask[ord("a")] == 0
    assert mask[0x80] == -1  # a continuation byte is no text on its own
