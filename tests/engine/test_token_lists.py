"""The kernels that build Python lists: right objects, right reference counts."""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest

from piecelab import Tokenizer
from piecelab.engine import kernels, token_lists

PIECES = {b"hello": 9, b" world": 7, b"hel": 3, b"lo": 2}
PIECES |= {bytes([b]): 1 for b in range(256)}


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer(PIECES, seed=0)


def test_list_of_takes_int32_and_int64_ids():
    objects = [b"x" * 40, "y" * 40, (1, 2)]  # kept alive by this frame
    table = token_lists.address_table(objects)
    for dtype in (np.int32, np.int64):
        got = kernels.list_of(table, np.array([2, 0, 1, 0], dtype))
        assert got == [objects[2], objects[0], objects[1], objects[0]]
        assert got[1] is objects[0]
    assert kernels.list_of(table, np.zeros(0, np.int32)) == []


def test_listed_objects_are_counted_and_released(tok):
    hello = tok._id2piece[tok.piece_to_id(b"hello")]
    world_id = tok._id_ints[tok.piece_to_id(b" world")]
    gc.collect()
    before = sys.getrefcount(hello), sys.getrefcount(world_id)
    kept = [tok.tokenize("hello world hello") for _ in range(100)]
    kept += [tok.tokenize("hello world", alpha=0.5) for _ in range(100)]
    kept += tok.tokenize_batch(["hello world"] * 100)
    held = sum(t.count(b"hello") for t in kept)
    assert held >= 300
    assert sys.getrefcount(hello) == before[0] + held  # one reference per list slot
    ids = [tok.encode("hello world") for _ in range(50)]
    assert sys.getrefcount(world_id) == before[1] + 50
    assert all(i[1] is world_id for i in ids)  # one shared int object per id
    del kept, ids
    gc.collect()
    assert (sys.getrefcount(hello), sys.getrefcount(world_id)) == before


def test_direct_calls_the_compiled_overload(tok):
    direct = token_lists.Direct(kernels.viterbi_list)
    args = (tok._rt, tok._slot_scores, tok._slot_ids, tok._piece_table)
    first = direct.call(b"hello world", *args)
    assert direct.call is not direct.dispatcher  # the entry point, after the first call
    assert direct.call(b"hello world", *args) == first == [b"hello", b" world"]


def test_an_uncovered_byte_gives_an_empty_list_and_a_clear_error():
    t = Tokenizer({b"a": 3, b"b": 2})
    args = (t._rt, t._slot_scores, t._slot_ids, t._piece_table)
    assert kernels.viterbi_list(b"abc", *args) == []
    assert kernels.viterbi_list(b"", *args) == []
    with pytest.raises(ValueError, match=r"byte 0x63 at offset 2"):
        t.tokenize("abc")
    with pytest.raises(ValueError, match=r"byte 0x63 at offset 2"):
        t.encode("abc", alpha=0.1)
