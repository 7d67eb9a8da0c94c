"""Hostile files given to ``piecelab.load`` (issue #16, item 5): every kind of vocabulary.

Each must fail at once with a :class:`FormatError` (a ``ValueError``) naming the
file and the problem, never hang on a pipe or a device, never leak a library's
own exception (a protobuf DecodeError, a Rust panic, a binascii.Error).
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from piecelab import load
from piecelab.engine import FormatError, ModelFormatError
from piecelab.engine.normalize import TextEncodingError
from tests.foreign_models import hf_tokenizer, sentencepiece_model

REPO = Path(__file__).resolve().parents[2]


def tiktoken_text(extra: list[str] = ()) -> str:
    lines = [f"{base64.b64encode(bytes([b])).decode()} {b}" for b in range(256)]
    return "\n".join([*lines, *extra]) + "\n"


CASES = {
    "empty.model": (b"", "empty"),
    "blank.json": (b"  \n\t ", "empty"),
    "list.json": (b"[1, 2, 3]", "JSON of another shape"),
    "other-object.json": (b'{"vocab": {"a": 1}, "merges": []}', "JSON of another shape"),
    "truncated.json": (b'{"model": {"type": "BPE", "vocab": {"a": 0', "truncated"),
    "word-level.json": (
        json.dumps({"model": {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"}}).encode(),
        "WordLevel",
    ),
    "vocab-string.json": (
        json.dumps({"model": {"type": "BPE", "vocab": "oops", "merges": []}}).encode(),
        "vocab",
    ),
    "bad-base64.tiktoken": (tiktoken_text(["!!!! 256"]).encode(), "line 257"),
    "bad-rank.tiktoken": (tiktoken_text(["YWI= x"]).encode(), "line 257"),
    "duplicate.tiktoken": (tiktoken_text(["YQ== 256"]).encode(), "line 257"),
    "garbage.model": (b"\x0a\xff\xff\xff\x0f this is no protobuf", "SentencePiece"),
    "random.bin": (bytes(range(7, 250)) * 9, "SentencePiece"),
    "latin1.json": ('{"model": {"type": "BPE", "vocab": {"é": 0}}}'.encode("latin-1"), "UTF-8"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_bad_file_names_itself_and_its_problem(tmp_path, name):
    data, problem = CASES[name]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(FormatError if name != "latin1.json" else ModelFormatError) as caught:
        load(path)
    message = str(caught.value)
    assert str(path) in message and problem in message, message
    assert isinstance(caught.value, ValueError)


def test_a_truncated_sentencepiece_model_is_refused(tmp_path):
    lines = [f"line {i} of some text about tokenizers and bytes" for i in range(300)]
    whole = sentencepiece_model(lines, vocab_size=60)
    assert load_bytes_kind(tmp_path, whole) == "sentencepiece-unigram"
    for cut in (len(whole) // 2, len(whole) - 7, 11):
        path = tmp_path / f"cut-{cut}.model"
        path.write_bytes(whole[:cut])
        with pytest.raises(FormatError, match=str(path)):
            load(path)


def load_bytes_kind(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "whole.model"
    path.write_bytes(data)
    return load(path).kind


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_like_a_tokenizer_json_does_not_hang(tmp_path):
    fifo = tmp_path / "tokenizer.json"
    os.mkfifo(fifo)
    code = textwrap.dedent(
        """
        import sys
        from piecelab import load
        try:
            load(sys.argv[1])
        except ValueError as exc:
            print(exc)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(fifo)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert f"{fifo}: is a FIFO/pipe" in done.stdout, done.stdout + done.stderr


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_device_is_refused(tmp_path):
    with pytest.raises(ModelFormatError, match="/dev/zero: is a device"):
        load("/dev/zero")


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(ModelFormatError, match="is a folder"):
        load(tmp_path)


def test_an_unknown_tiktoken_pattern_is_refused(tmp_path):
    path = tmp_path / "tiny.tiktoken"
    path.write_text(tiktoken_text())
    with pytest.raises(FormatError, match=str(path)):
        load(path, pattern="(unclosed")


def test_opened_vocabularies_cross_spawned_processes(tmp_path):
    """A BytePiece vocabulary pickles (for spawned workers) and encodes alike after."""
    from piecelab.paths import sample_model_path

    vocab = load(sample_model_path())
    again = pickle.loads(pickle.dumps(vocab))
    text = "Pickled vocabularies tokenize alike: 同样的结果。"
    assert again.encode(text) == vocab.encode(text) and again.kind == "bytepiece"


LINES = [f"line {i} of some text about tokenizers and bytes" for i in range(300)]


def _vocabulary(kind: str, folder: Path):
    if kind.startswith("hf-"):
        path = folder / f"{kind}.json"
        hf_tokenizer(kind, LINES, 120).save(str(path))
    else:
        path = folder / f"{kind}.model"
        path.write_bytes(sentencepiece_model(LINES, model_type=kind.split("-")[1], vocab_size=60))
    return load(path)


@pytest.mark.parametrize(
    "kind", ["sentencepiece-unigram", "sentencepiece-bpe", "hf-bpe", "hf-unigram", "hf-wordpiece"]
)
def test_text_no_library_can_take_is_refused_clearly(tmp_path, kind):
    """A lone surrogate (what invalid UTF-8 in argv or a file read with surrogateescape
    becomes): piecelab's TextEncodingError naming the character, as its own engine
    raises, not the library's C++ cast or sequence-type error; a non-str: TypeError."""
    vocab = _vocabulary(kind, tmp_path)
    assert vocab.kind == kind
    calls = {
        "encode": lambda t: vocab.encode(t),
        "tokenize": lambda t: vocab.tokenize(t),
        "spans": lambda t: vocab.spans(t),
        "segment": lambda t: vocab.segment(t),
        **({"sample": lambda t: vocab.sample(t, 0.1, seed=1)} if vocab.can_sample else {}),
        "encode_batch": lambda t: vocab.encode_batch(["fine", t]),
        "cuts": lambda t: vocab.cuts(t, 0.5),
    }
    for name, call in calls.items():
        with pytest.raises(TextEncodingError, match=r"'\\udcff' at character 4"):
            call("text\udcff")
        if name != "encode_batch":
            with pytest.raises(TypeError, match="must be a str"):
                call(b"bytes")
    assert vocab.encode("text") == vocab.encode_batch(["text"])[0]  # and plain text works
