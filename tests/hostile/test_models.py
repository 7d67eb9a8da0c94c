"""Hostile model files and mappings (issue #14, items 6–10 and 13's zip bomb).

Each case must fail fast with an error that names the file (or the mapping's
piece) and the problem, never hang, exhaust memory, or load a model that
misbehaves later.  Cases that could hang or eat memory on a regression run
in a child process under a timeout and a memory limit.
"""

from __future__ import annotations

import base64
import json
import math
import os
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from piecelab import Tokenizer
from piecelab.engine import Model, ModelFormatError
from piecelab.engine import model as model_module
from piecelab.engine.model import MAX_MODEL_BYTES, MAX_PIECE_BYTES, N_SPECIAL

from ._workers import tiny_counts

REPO = Path(__file__).resolve().parents[2]


def bytepiece_file(path: Path, entries: list[tuple[str, int, int]]) -> Path:
    """A model file of (base64 key, id, count) entries, written as given."""
    obj = {key: [pid, "", count] for key, pid, count in entries}
    path.write_text(json.dumps(obj, indent=4))
    return path


def all_bytes(count: int = 1) -> list[tuple[str, int, int]]:
    return [(base64.b64encode(bytes([i])).decode(), i + N_SPECIAL, count) for i in range(256)]


def _load_in_child(path: str, timeout: float = 60) -> tuple[int, str, float]:
    """Model.load(path) in a child with 4 GiB of address space: (exit code, output, seconds)."""
    code = (
        "import resource, sys, time\n"
        "resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))\n"
        "from piecelab.engine.model import Model, ModelFormatError\n"
        "t = time.perf_counter()\n"
        "try:\n"
        "    Model.load(sys.argv[1])\n"
        "    print('loaded')\n"
        "except ModelFormatError as exc:\n"
        "    print(exc)\n"
        "print(time.perf_counter() - t)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, path],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = done.stdout.splitlines()
    seconds = float(lines[-1]) if lines else math.inf
    return done.returncode, "\n".join(lines[:-1]) + done.stderr[-500:], seconds


# ----------------------------------------------------------------- item 6: not a file
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.model"
    os.mkfifo(fifo)
    code, out, seconds = _load_in_child(str(fifo), timeout=30)
    assert code == 0 and f"{fifo}: is a FIFO/pipe" in out, out
    assert seconds < 2


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_is_refused_without_reading():
    code, out, seconds = _load_in_child("/dev/zero", timeout=30)
    assert code == 0 and "/dev/zero: is a device" in out, out
    assert seconds < 2


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null")
def test_dev_null_is_a_device_not_an_empty_model():
    with pytest.raises(ModelFormatError, match="/dev/null: is a device"):
        Model.load("/dev/null")


def test_a_folder_and_odd_paths(tmp_path):
    with pytest.raises(ModelFormatError, match="is a folder"):
        Model.load(tmp_path)
    with pytest.raises(ModelFormatError, match="not a valid path"):
        Model.load("bad\0name.model")
    with pytest.raises(ModelFormatError, match="no such file"):
        Tokenizer(str(tmp_path / "missing.model"))


def test_the_size_cap_is_checked_before_reading(tmp_path, monkeypatch):
    path = Model.from_counts(tiny_counts()).save(tmp_path / "m.model")
    monkeypatch.setattr(model_module, "MAX_MODEL_BYTES", path.stat().st_size - 1)
    with pytest.raises(ModelFormatError, match=r"m\.model: is [\d,]+ bytes, more than"):
        Model.load(path)
    assert MAX_MODEL_BYTES == 1 << 30


# ----------------------------------------------------------------- item 13: zip bombs
def _declared_size_zip(path: Path, declared: int) -> Path:
    """A zip whose one member declares ``declared`` bytes (its data is tiny)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x.model", "{}")
    raw = bytearray(path.read_bytes())
    central = raw.rindex(b"PK\x01\x02")
    raw[central + 24 : central + 28] = struct.pack("<I", declared)  # uncompressed size
    raw[22:26] = struct.pack("<I", declared)  # and in the local header
    path.write_bytes(bytes(raw))
    return path


def test_zip_member_declaring_more_than_the_cap_is_refused_unread(tmp_path):
    path = _declared_size_zip(tmp_path / "bomb.zip", 0xFFFF_FFF0)
    t0 = time.perf_counter()
    with pytest.raises(ModelFormatError, match=r"bomb\.zip!x\.model: is [\d,]+ bytes, more than"):
        Model.load(path)
    assert time.perf_counter() - t0 < 1


def test_zip_that_inflates_past_the_cap_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(model_module, "MAX_MODEL_BYTES", 1 << 20)
    path = tmp_path / "zeros.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x.model", b"\0" * (8 << 20))
    assert path.stat().st_size < (1 << 20)
    with pytest.raises(ModelFormatError, match="more than"):
        Model.load(path)


def test_zip_whose_header_understates_the_size_is_refused(tmp_path):
    # zipfile stops at the declared size and the CRC no longer matches
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x.model", Model.from_counts(tiny_counts()).dumps())
    raw = bytearray(path.read_bytes())
    central = raw.rindex(b"PK\x01\x02")
    raw[central + 24 : central + 28] = struct.pack("<I", 10)
    raw[22:26] = struct.pack("<I", 10)
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelFormatError, match=r"liar\.zip"):
        Model.load(path)


def test_encrypted_or_unreadable_zip_is_a_model_error(tmp_path):
    path = tmp_path / "enc.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x.model", "{}")
    raw = bytearray(path.read_bytes())
    raw[6] |= 1  # the "encrypted" flag, local header
    central = raw.rindex(b"PK\x01\x02")
    raw[central + 8] |= 1  # and central directory
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelFormatError, match=r"enc\.zip"):
        Model.load(path)


# ----------------------------------------------------------------- JSON oddities
@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"YQ==": [3, "a", ' + b"9" * 5000 + b"]}", "not a BytePiece model"),
        (b'{"YQ==": [3, "a", 5], "YQ==": [4, "a", 5]}', "'YQ==' appears twice"),
        (b'{"YQ==": [3, "a", NaN]}', "counts are whole numbers"),
        (b'{"YQ==": [3, "a", 5.0]}', "counts are whole numbers"),
        (b'{"YQ==": [true, "a", 5]}', "ids must run from 3"),
    ],
)
def test_json_that_python_reads_oddly_is_a_model_error(tmp_path, content, problem):
    path = tmp_path / "odd.model"
    path.write_bytes(content)
    with pytest.raises(ModelFormatError) as info:
        Model.load(path)
    assert str(path) in str(info.value) and problem in str(info.value)


# ----------------------------------------------------------------- item 7: piece length
def test_a_megabyte_piece_is_refused_from_a_file(tmp_path):
    big = base64.b64encode(b"a" * (1 << 20)).decode()
    path = bytepiece_file(tmp_path / "big.model", [*all_bytes(), (big, 259, 1)])
    t0 = time.perf_counter()
    with pytest.raises(ModelFormatError) as info:
        Model.load(path)
    assert time.perf_counter() - t0 < 5
    msg = str(info.value)
    assert str(path) in msg and "piece id 259" in msg and "MAX_PIECE_BYTES" in msg


def test_a_megabyte_piece_is_refused_from_a_mapping():
    counts = {**tiny_counts(), b"a" * (1 << 20): 1}
    with pytest.raises(ModelFormatError, match=r"piece id \d+ is 1,048,576 bytes"):
        Tokenizer(counts)
    with pytest.raises(ModelFormatError, match="MAX_PIECE_BYTES"):
        pieces = [*tiny_counts(), b"b" * 2000]
        Tokenizer(Model(pieces, np.ones(len(pieces), np.int64)))


def test_a_piece_at_the_cap_tokenizes_in_linear_time():
    counts = {bytes([i]): 1 for i in range(256)}
    counts[b"a" * MAX_PIECE_BYTES] = 5
    tok = Tokenizer(counts)
    assert sorted(map(len, tok.tokenize("a" * (MAX_PIECE_BYTES + 1)))) == [1, MAX_PIECE_BYTES]

    def seconds(n: int) -> float:
        text = "a" * n
        best = math.inf
        for _ in range(3):
            t0 = time.perf_counter()
            tok.encode(text)
            best = min(best, time.perf_counter() - t0)
        return best

    small, large = seconds(1 << 16), seconds(1 << 20)
    assert large < 16 * 4 * small + 0.05, (small, large)  # linear: 16×, with slack


# ----------------------------------------------------------------- item 8: huge counts
def test_counts_whose_total_overflows_int64_stay_probabilities():
    base = tiny_counts()
    huge = {p: c * (1 << 55) for p, c in base.items()}  # total ≈ 2**64.1
    assert sum(huge.values()) > 2**63
    m = Model.from_counts(huge)
    assert m.total == sum(huge.values())
    lp = m.log_probs()[N_SPECIAL:]
    assert np.isfinite(lp).all() and (lp <= 0).all()
    assert lp == pytest.approx(Model.from_counts(base).log_probs()[N_SPECIAL:], abs=1e-12)
    text = "abcab cab 你好\nca b"
    assert Tokenizer(huge).tokenize(text) == Tokenizer(base).tokenize(text)


def test_two_counts_near_2_63_are_not_all_zero(tmp_path):
    top = 2**63 - 1
    entries = [(k, i, top if i in (3 + 97, 3 + 98) else 1) for k, i, _ in all_bytes()]
    m = Model.load(bytepiece_file(tmp_path / "m.model", entries))
    assert m.total == 2 * top + 254
    assert m.log_probs()[3 + 97] == pytest.approx(math.log(0.5))


def test_a_count_past_int64_names_the_piece(tmp_path):
    entries = [(k, i, 10**30 if i == 3 + 97 else c) for k, i, c in all_bytes()]
    with pytest.raises(ModelFormatError) as info:
        Model.load(bytepiece_file(tmp_path / "m.model", entries))
    assert "'YQ=='" in str(info.value) and "2**63 - 1" in str(info.value)
    with pytest.raises(ModelFormatError, match=r"piece b'a' has count 10{30}"):
        Tokenizer({**tiny_counts(), b"a": 10**30})


def test_log_probs_stay_bit_identical_for_ordinary_counts():
    counts = tiny_counts()
    m = Model.from_counts(counts)
    c = np.array([counts[p] for p in m.pieces], dtype=np.int64)
    expected = np.log(c.astype(np.float64)) - np.log(float(sum(counts.values())))
    assert np.array_equal(m.log_probs()[N_SPECIAL:], expected)


# ----------------------------------------------------------------- item 9: base64 keys
def test_two_keys_for_one_piece_are_refused_naming_both(tmp_path):
    entries = [*all_bytes(), ("QR==", 259, 5)]  # "A" again (its canonical key is QQ==)
    path = bytepiece_file(tmp_path / "dup.model", entries)
    with pytest.raises(ModelFormatError) as info:
        Model.load(path)
    msg = str(info.value)
    assert str(path) in msg
    assert "'QQ==' (id 68)" in msg and "'QR==' (id 259)" in msg


def test_a_non_canonical_key_loads_and_saves_back_loadable(tmp_path):
    entries = [(k, i, c) for k, i, c in all_bytes() if k != "QQ=="]
    entries.append(("QR==", 68, 7))  # the only "A"
    m = Model.load(bytepiece_file(tmp_path / "nc.model", entries))
    assert m.pieces[68 - N_SPECIAL] == b"A"
    saved = m.save(tmp_path / "saved.model")
    assert '"QQ=="' in saved.read_text() and '"QR=="' not in saved.read_text()
    again = Model.load(saved)
    assert again.pieces == m.pieces and again.counts.tolist() == m.counts.tolist()
    assert Model.load(again.save(tmp_path / "again.model")).dumps() == again.dumps()


# ----------------------------------------------------------------- item 10: mappings
@pytest.mark.parametrize(
    ("count", "error"),
    [
        (-3, ValueError),
        ("3", TypeError),
        (float("nan"), TypeError),
        ([3], TypeError),
        (3.0, TypeError),
        (True, TypeError),
        (2**64, ValueError),
    ],
)
def test_mapping_counts_are_validated_naming_the_piece(count, error):
    with pytest.raises(error, match=r"piece b'zz' has count"):
        Tokenizer({**tiny_counts(), b"zz": count})


def test_mapping_counts_may_be_numpy_integers():
    counts = {p: np.int64(c) for p, c in tiny_counts().items()}
    assert Tokenizer(counts).tokenize("abc") == Tokenizer(tiny_counts()).tokenize("abc")


@pytest.mark.parametrize("key", [5, 1.5, ("a",), bytearray(b"x").decode()])
def test_mapping_keys_must_be_bytes(key):
    with pytest.raises(TypeError, match=repr(key).replace("(", r"\(").replace(")", r"\)")):
        Tokenizer({**tiny_counts(), key: 3})


def test_first_key_decides_and_others_must_agree():
    with pytest.raises(TypeError, match=r"got 5 \(int\)"):
        Tokenizer({5: 3, b"a": 1})
    with pytest.raises(TypeError, match="keys of a BytePiece model are base64 str"):
        Tokenizer({"YQ==": [3, "a", 5], b"b": [4, "b", 5]})
    with pytest.raises(ModelFormatError, match="empty piece"):
        Tokenizer({**tiny_counts(), b"": 3})


# ----------------------------------------------------------------- empty and degenerate
def test_empty_models_are_refused():
    with pytest.raises(ModelFormatError, match="no pieces"):
        Tokenizer({})
    with pytest.raises(ModelFormatError, match="no pieces"):
        Model.from_counts({})
    with pytest.raises(ModelFormatError, match="no pieces"):
        Tokenizer(Model([], np.zeros(0, np.int64)))


def test_all_zero_counts_are_refused():
    with pytest.raises(ModelFormatError, match="all counts are zero"):
        Tokenizer(dict.fromkeys(tiny_counts(), 0))


def test_models_built_directly_are_checked():
    with pytest.raises(ModelFormatError, match=r"ids 3 and 4 are the same piece b'a'"):
        Tokenizer(Model([b"a", b"a"], np.array([1, 2])))
    with pytest.raises(ModelFormatError, match="has count -1"):
        Tokenizer(Model([b"a", b"b"], np.array([1, -1])))
    with pytest.raises(TypeError, match="pieces are bytes"):
        Tokenizer(Model([b"a", "b"], np.array([1, 1])))


def test_a_model_without_all_bytes_names_the_byte_everywhere():
    tok = Tokenizer({b"a": 3, b"b": 1, b"ab": 1})
    assert tok.tokenize("ab") == [b"ab"]
    for call in (
        lambda: tok.tokenize("abc"),
        lambda: tok.tokenize("abc", alpha=0.5, seed=1),
        lambda: tok.tokenize("abc", alpha=200, seed=1),
        lambda: tok.segment("abc", alpha=0.5),
        lambda: tok.log_partition("abc"),
        lambda: tok.log_partition("abc", 200),
        lambda: tok.log_count_segmentations("abc"),
    ):
        with pytest.raises(ValueError, match="0x63 at offset 2 has no piece"):
            call()
    assert tok.count_segmentations("abc") == 0
    for alpha in (-1, 0.5, 200):
        with pytest.raises(ValueError, match="0x63 at offset 2 of document 1 has no piece"):
            tok.tokenize_batch(["ab", "abc"], alpha=alpha)


def test_error_messages_do_not_echo_megabytes():
    with pytest.raises(TypeError) as info:
        Tokenizer({**tiny_counts(), b"z" * (1 << 20): "x" * (1 << 20)})
    assert len(str(info.value)) < 300 and "chars)" in str(info.value)
    with pytest.raises(TypeError) as info:
        Tokenizer(tiny_counts()).decode([1, "x" * (1 << 20)])
    assert len(str(info.value)) < 300
