"""The field's vocabularies in the workbench: opened through File ▸ Open and drag and drop,
they segment the editor text as model B in Compare, through their own library."""

from __future__ import annotations

import base64

import pytest
from PySide6.QtWidgets import QFileDialog

from .conftest import save_screenshot
from .test_main_window import LOAD_MS, drop, open_and_wait

TEXT = "Tokenizers differ: the lowest layers see bytes.\n分词器不同。"


@pytest.fixture(scope="module")
def hf_bpe_file(tmp_path_factory, docs):
    """A small byte-level BPE tokenizer.json, trained here (offline)."""
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import decoders, models, pre_tokenizers, trainers

    tok = tokenizers.Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tok.train_from_iterator(docs[:300], trainer)
    path = tmp_path_factory.mktemp("hf") / "tokenizer.json"
    tok.save(str(path))
    return path, tok


@pytest.fixture(scope="module")
def tiktoken_file(tmp_path_factory):
    """A rank file: the 256 bytes, then merges that a BPE reaches."""
    ranks = [bytes([b]) for b in range(256)] + [b"th", b"the", b" the", b"er", b"ers"]
    lines = [f"{base64.b64encode(t).decode()} {r}" for r, t in enumerate(ranks)]
    path = tmp_path_factory.mktemp("tt") / "tiny.tiktoken"
    path.write_text("\n".join(lines) + "\n")
    return path


def _wait_for_b(qtbot, window):
    compare = window.playground.compare
    qtbot.waitUntil(lambda: compare.secondary is not None, timeout=LOAD_MS)
    compare.set_text(TEXT)
    return compare


def test_file_open_puts_a_tokenizer_json_beside_the_model(
    qtbot, settle, window, model_path, hf_bpe_file, monkeypatch
):
    path, reference = hf_bpe_file
    open_and_wait(qtbot, window, model_path)
    model_a = window.workspace.model
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    file_menu = next(a for a in window.menuBar().actions() if "File" in a.text()).menu()
    next(a for a in file_menu.actions() if a.text().startswith("&Open model")).trigger()
    compare = _wait_for_b(qtbot, window)
    assert window.workspace.model is model_a  # the model being edited stays
    assert window.playground.tabs.currentWidget() is compare
    assert "hf-bpe" in compare.path_label.text()
    seg = compare.pane_b.view.segmentation
    assert seg is not None
    assert seg.ids.tolist() == reference.encode(TEXT, add_special_tokens=False).ids
    assert b"".join(seg.pieces) == TEXT.encode()
    tip = compare.pane_b.view.tooltip_text(0)
    assert "<b>rank</b>" in tip and "<b>count</b>" not in tip
    save_screenshot(compare, "compare-hf-bpe")
    settle()


def test_a_dropped_tiktoken_file_segments_as_model_b(
    qtbot, settle, window, model_path, tiktoken_file
):
    open_and_wait(qtbot, window, model_path)
    drop(window, tiktoken_file)
    compare = _wait_for_b(qtbot, window)
    assert "tiktoken" in compare.path_label.text()
    seg = compare.pane_b.view.segmentation
    assert b"".join(seg.pieces) == TEXT.encode()
    assert 256 + 2 in seg.ids.tolist() or 256 + 1 in seg.ids.tolist()  # "the" merges
    settle()


def test_a_broken_foreign_file_is_reported_by_name(qtbot, settle, window, model_path, tmp_path):
    open_and_wait(qtbot, window, model_path)
    bad = tmp_path / "broken.model"
    bad.write_bytes(b"\x0a\xff\xff\xff\x0f garbage that is not a protobuf")
    window.open_path(bad)
    compare = window.playground.compare
    qtbot.waitUntil(lambda: "Could not open" in compare.path_label.text(), timeout=LOAD_MS)
    assert "broken.model" in compare.path_label.text()
    assert compare.secondary is None
    settle()
