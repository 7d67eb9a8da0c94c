"""The BytePiece model file: load, save, round trip, and clear errors."""

from __future__ import annotations

import base64
import json
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piecelab.engine import Model, ModelFormatError
from piecelab.engine.model import N_SPECIAL, atomic_write

from ..conftest import SHARED_MODEL, tiny_counts


def test_from_counts_orders_ids_by_length_then_bytes():
    m = Model.from_counts({b"bb": 3, b"a": 5, b"ab": 2, b"b": 1})
    assert m.pieces == [b"a", b"b", b"ab", b"bb"]
    assert m.counts.tolist() == [5, 1, 2, 3]
    assert m.index[b"ab"] == 2 + N_SPECIAL


def test_dumps_matches_bytepiece_layout(tmp_path):
    m = Model.from_counts({b"a": 5, "你".encode(): 2, b"\xe4": 1})
    obj = json.loads(m.dumps())
    assert obj == {
        "YQ==": [3, "a", 5],
        "5A==": [4, "", 1],
        "5L2g": [5, "你", 2],
    }
    assert m.dumps().startswith('{\n    "YQ==": [\n        3,\n        "a",\n        5\n    ],')


def test_save_load_round_trip_is_byte_identical(tmp_path):
    m = Model.from_counts(tiny_counts())
    p1 = m.save(tmp_path / "a.model")
    m2 = Model.load(p1)
    p2 = m2.save(tmp_path / "b.model")
    assert p1.read_bytes() == p2.read_bytes()
    assert m2.pieces == m.pieces and np.array_equal(m2.counts, m.counts)
    assert [p.name for p in tmp_path.iterdir()] != [] and not list(tmp_path.glob(".*.tmp"))


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.binary(min_size=1, max_size=12), st.integers(min_value=1, max_value=2**40), min_size=1
    )
)
def test_round_trip_property(counts):
    m = Model.from_counts(counts)
    m2 = Model.from_bytepiece(json.loads(m.dumps()))
    assert m2.pieces == m.pieces
    assert m2.counts.tolist() == m.counts.tolist()
    assert m2.dumps() == m.dumps()


def test_load_from_zip(tmp_path):
    m = Model.from_counts(tiny_counts())
    zpath = tmp_path / "m.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("inner/x.model", m.dumps())
    m2 = Model.load(zpath)
    assert m2.pieces == m.pieces
    assert m2.source.endswith("m.zip!inner/x.model")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "truncated"),
        (b'{"YQ==": [3, "a", 5],', "truncated"),
        (b"[1, 2]", "expected a JSON object"),
        (b"{}", "no pieces"),
        (b'{"***": [3, "a", 5]}', "not base64"),
        (b'{"YQ==": [3, "a"]}', "not [id, text, count]"),
        (b'{"YQ==": [9, "a", 5]}', "ids must run from 3"),
        (b'{"YQ==": [3, "a", -5]}', "counts are whole numbers"),
        (b'{"YQ==": [3, "a", 5], "Yg==": [3, "b", 1]}', "used twice"),
        (b"\xff\xfe garbage", "not UTF-8"),
    ],
)
def test_corrupt_files_name_file_and_problem(tmp_path, content, problem):
    path = tmp_path / "bad.model"
    path.write_bytes(content)
    with pytest.raises(ModelFormatError) as info:
        Model.load(path)
    assert str(path) in str(info.value)
    assert problem in str(info.value)


def test_zip_errors(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ModelFormatError, match="not a valid zip"):
        Model.load(bad)
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as zf:
        zf.writestr("a.model", "{}")
        zf.writestr("b.model", "{}")
    with pytest.raises(ModelFormatError, match=r"exactly one \.model"):
        Model.load(two)
    with pytest.raises(ModelFormatError, match="no such file"):
        Model.load(tmp_path / "missing.model")
    with pytest.raises(ModelFormatError, match="is a folder"):
        Model.load(tmp_path)


def test_atomic_write_gives_normal_permissions(tmp_path):
    import os

    target = tmp_path / "new.model"
    atomic_write(target, b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    target.chmod(0o640)
    atomic_write(target, b"y")
    assert target.stat().st_mode & 0o777 == 0o640


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "m.model"
    target.write_bytes(b"old")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.model"]


def test_log_probs_are_log_count_over_total():
    m = Model.from_counts({b"a": 3, b"b": 1})
    lp = m.log_probs()
    assert np.isneginf(lp[:N_SPECIAL]).all()
    assert lp[N_SPECIAL:] == pytest.approx(np.log([0.75, 0.25]))


@pytest.mark.shared
def test_published_model_loads_and_round_trips(tmp_path):
    # its load time is a benchmark figure (benchmarks/run.py), not asserted here: a
    # busy machine took 1.8 s once
    if not SHARED_MODEL.is_file():
        pytest.skip("../shared is absent")
    m = Model.load(SHARED_MODEL)
    assert len(m) == 79_809
    with zipfile.ZipFile(SHARED_MODEL) as zf:
        original = zf.read(zf.namelist()[0])
    assert m.dumps().encode("utf-8") == original
    assert base64.b64decode("IE5ldyBZb3JrOiBPeGZvcmQgVW5pdmVyc2l0eSBQcmVzcy4K") in m.index
