"""The field's vocabularies in the workbench: File ▸ Open and drag and drop open them as
the model (read-only), segmented by their own library in every pane, listed in the
Vocabulary view with their scores or ranks and reachability, measured on held-out text."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from piecelab.engine import CorpusOptions, is_complete
from tests.foreign_models import hf_tokenizer, sentencepiece_model

from .conftest import save_screenshot
from .test_main_window import LOAD_MS, drop, open_and_wait
from .test_vocab_usability import button, click_piece, edit, shown_dialog

TEXT = "Tokenizers differ: the lowest layers see bytes.\n分词器不同。"


@pytest.fixture(scope="module")
def hf_bpe_file(tmp_path_factory, docs):
    """A small byte-level BPE tokenizer.json, trained here (offline)."""
    tokenizers = pytest.importorskip("tokenizers")
    path = tmp_path_factory.mktemp("hf") / "tokenizer.json"
    hf_tokenizer("hf-bpe", docs[:300], 400).save(str(path))
    return path, tokenizers.Tokenizer.from_file(str(path))


@pytest.fixture(scope="module")
def sp_unigram_file(tmp_path_factory, docs):
    """A SentencePiece Unigram model trained here (offline)."""
    spm = pytest.importorskip("sentencepiece")
    path = tmp_path_factory.mktemp("sp") / "unigram.model"
    path.write_bytes(
        sentencepiece_model(
            docs,
            model_type="unigram",
            vocab_size=500,
            character_coverage=0.9995,
            byte_fallback=True,
        )
    )
    return path, spm.SentencePieceProcessor(model_file=str(path))


@pytest.fixture(scope="module")
def tiktoken_file(tmp_path_factory):
    """A rank file: the 256 bytes, then merges a BPE reaches, and "e." that the split
    pattern keeps apart (so no text gives it)."""
    ranks = [bytes([b]) for b in range(256)] + [b"th", b"the", b" the", b"er", b"e."]
    lines = [f"{base64.b64encode(t).decode()} {r}" for r, t in enumerate(ranks)]
    path = tmp_path_factory.mktemp("tt") / "tiny.tiktoken"
    path.write_text("\n".join(lines) + "\n")
    return path


def _menu_open(qtbot, window, path, monkeypatch) -> None:
    """File ▸ Open model… with the dialog answering ``path``; waits for it to load."""
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    file_menu = next(a for a in window.menuBar().actions() if "File" in a.text()).menu()
    action = next(a for a in file_menu.actions() if a.text().startswith("&Open model"))
    with qtbot.waitSignal(window.workspace.modelChanged, timeout=LOAD_MS):
        action.trigger()


def _show_text(qtbot, window) -> None:
    pg = window.playground
    with qtbot.waitSignal(pg.refreshed, timeout=LOAD_MS):
        pg.editor.setPlainText(TEXT)


def _vocab_rows(qtbot, window, n: int):
    """The Vocabulary view's read-only table, once it lists ``n`` ids."""
    view = window.vocab_view
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.foreign_model.rowCount() == n, timeout=LOAD_MS)
    assert view.tables.currentWidget() is view.foreign_table
    return view


def test_a_tokenizer_json_opens_as_the_model_in_every_view(
    qtbot, settle, window, model_path, hf_bpe_file, monkeypatch
):
    path, reference = hf_bpe_file
    open_and_wait(qtbot, window, model_path)
    _menu_open(qtbot, window, path, monkeypatch)
    ws, pg = window.workspace, window.playground
    assert ws.vocabulary is not None and ws.kind == "hf-bpe"
    assert ws.model is None  # nothing to edit or to overwrite
    assert "read-only" in window.windowTitle()
    _show_text(qtbot, window)
    expected = reference.encode(TEXT, add_special_tokens=False).ids
    seg = pg.viterbi.segmentation
    assert seg.ids.tolist() == expected
    assert b"".join(seg.pieces) == TEXT.encode()
    tip = pg.viterbi.view.tooltip_text(0)
    assert "<b>rank</b>" in tip and "<b>count</b>" not in tip
    # sampled panes: BPE-dropout by the library, tiling the same text
    sample = pg.samples[0].segmentation
    assert sample is not None and b"".join(sample.pieces) == TEXT.encode()
    assert "own sampler" in pg.samples[0].stats.text()
    # the ids view: the library's ids; the sampling distribution says why it has none
    pg.tabs.setCurrentWidget(pg.ids)
    qtbot.waitUntil(lambda: pg.ids.ids == expected, timeout=LOAD_MS)
    assert not pg.ids.bos.isEnabled()
    pg.tabs.setCurrentWidget(pg.distribution)
    pg.distribution.compute()
    assert "hf-bpe is not one" in pg.distribution.figure.text()
    save_screenshot(window, "foreign-hf-bpe-playground")
    # no exact engine for BPE: no boundary strip, no continuation check
    assert pg.viterbi.view.boundaries is None and pg.cut_label.text() == ""
    # the vocabulary view lists every id with its rank, and nothing can be edited
    view = _vocab_rows(qtbot, window, reference.get_vocab_size())
    assert view.foreign_model.headers[4] == "rank"
    assert not view.actions["delete"].isEnabled() and not view.actions["add"].isEnabled()
    assert not view.actions["save"].isEnabled()
    longer = sum(len(p) >= 3 for p in ws.vocabulary.pieces)
    assert 0 < longer < reference.get_vocab_size()
    view.filters.min_bytes.setValue(3)
    qtbot.waitUntil(lambda: view.foreign_model.rowCount() == longer, timeout=10_000)
    rows = view.foreign_model.rows
    assert all(len(ws.vocabulary.pieces[i]) >= 3 for i in rows.tolist())
    save_screenshot(view, "foreign-hf-bpe-vocabulary")
    # File ▸ Save cannot overwrite the tokenizer.json with a BytePiece model
    before = path.read_bytes()
    assert not window.save()
    assert path.read_bytes() == before
    settle()


def test_a_dropped_tiktoken_file_shows_ranks_and_unreachable_pieces(
    qtbot, settle, window, model_path, tiktoken_file
):
    open_and_wait(qtbot, window, model_path)
    with qtbot.waitSignal(window.workspace.modelChanged, timeout=LOAD_MS):
        drop(window, tiktoken_file)
    pg = window.playground
    _show_text(qtbot, window)
    seg = pg.viterbi.segmentation
    assert b"".join(seg.pieces) == TEXT.encode()
    assert 258 in seg.ids.tolist()  # " the" (the split pattern keeps the space)
    assert "No sampling" in pg.samples[0].stats.text()
    view = _vocab_rows(qtbot, window, 261)
    view.filters.flags["unreachable_only"].setChecked(True)
    qtbot.waitUntil(lambda: view.foreign_model.rowCount() == 1, timeout=10_000)
    assert view.foreign_model.data(view.foreign_model.index(0, 0), 0) == "260"  # "e."
    settle()


def test_a_sentencepiece_unigram_model_samples_exactly(
    qtbot, settle, window, model_path, sp_unigram_file, docs, monkeypatch, tmp_path
):
    path, sp = sp_unigram_file
    open_and_wait(qtbot, window, model_path)
    _menu_open(qtbot, window, path, monkeypatch)
    ws, pg = window.workspace, window.playground
    assert ws.kind == "sentencepiece-unigram" and ws.native is not None
    _show_text(qtbot, window)
    assert pg.viterbi.segmentation is not None
    pg.tabs.setCurrentWidget(pg.ids)
    qtbot.waitUntil(lambda: pg.ids.ids == sp.encode(TEXT), timeout=LOAD_MS)
    # piecelab's exact engine on SentencePiece's lattice: top-k probabilities and draws
    pg.tabs.setCurrentWidget(pg.distribution)
    pg.distribution.text_edit.setText("the lowest layers")
    with qtbot.waitSignal(pg.distribution.computed, timeout=LOAD_MS):
        pg.distribution.compute()
    exact = pg.distribution.exact
    assert len(exact) > 1 and 0 < float(np.sum(exact)) <= 1.0 + 1e-9
    # the lattice too runs on the native engine, over SentencePiece's normalized text
    pg.tabs.setCurrentWidget(pg.lattice)
    pg.lattice.text_edit.setText("the lowest")
    qtbot.waitUntil(lambda: pg.lattice.lattice is not None, timeout=LOAD_MS)
    assert pg.lattice.lattice.text == ws.native.normalize("the lowest")
    view = window.vocab_view
    # held-out bytes per token, counted with SentencePiece's own ids
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(docs[:200]), encoding="utf-8")
    ws.set_corpus([corpus], CorpusOptions(heldout=0.2))
    qtbot.waitUntil(lambda: "bytes/token" in view.heldout_label.text(), timeout=LOAD_MS)
    settle()


def test_a_sentencepiece_unigram_model_shows_boundaries_of_the_typed_text(
    qtbot, settle, window, model_path, sp_unigram_file, monkeypatch
):
    """The strip and the caret's check on the text as typed, though SentencePiece
    segments its normalized form (a dummy prefix, collapsed spaces)."""
    path, _sp = sp_unigram_file
    open_and_wait(qtbot, window, model_path)
    _menu_open(qtbot, window, path, monkeypatch)
    ws, pg = window.workspace, window.playground
    text = "Tokenizers  differ: the lowest layers see bytes."
    with qtbot.waitSignal(pg.refreshed, timeout=LOAD_MS):
        pg.editor.setPlainText(text)
    strip = pg.viterbi.view.boundaries
    assert strip is not None and strip.shape == (len(text.encode()) + 1,)
    np.testing.assert_allclose(strip, ws.vocabulary.cuts(text, pg.controls.alpha).marginals)
    assert ((strip > 1e-4) & (strip < 1 - 1e-4)).any()  # probabilities, not just 0 and 1
    # every boundary of the library's own segmentation can happen under sampling
    assert (strip[pg.viterbi.segmentation.ends[:-1]] > 0).all()
    pg.editor.setFocus()
    qtbot.keyClick(pg.editor, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    for _ in range(len("Tokenizers ")):  # between the two spaces: SentencePiece drops one
        qtbot.keyClick(pg.editor, Qt.Key.Key_Right)
    label = pg.cut_label.text()
    assert "byte 11 of" in label and "drops or rewrites the text" in label
    for _ in range(2):  # "d|iffer"
        qtbot.keyClick(pg.editor, Qt.Key.Key_Right)
    check = ws.vocabulary.cuts(text, pg.controls.alpha).at(13)
    label = pg.cut_label.text()
    assert f"{check.probability:.4%}" in label and "drops" not in label
    assert ("inside" in label) == (check.viterbi_token is not None)
    save_screenshot(window, "foreign-sp-unigram-boundaries")
    settle()


def _train_other_kind(kind: str, docs: list[str], folder) -> tuple[object, object]:
    """(path, encode) of a small model of ``kind`` trained here, offline, and its library's
    own encode without special tokens."""
    if kind == "sentencepiece-bpe":
        spm = pytest.importorskip("sentencepiece")
        path = folder / "bpe.model"
        path.write_bytes(
            sentencepiece_model(docs, model_type="bpe", vocab_size=500, byte_fallback=True)
        )
        return path, spm.SentencePieceProcessor(model_file=str(path)).encode
    tok = hf_tokenizer(kind, docs[:300], 600)
    path = folder / "tokenizer.json"
    tok.save(str(path))
    return path, lambda text: tok.encode(text, add_special_tokens=False).ids


@pytest.mark.parametrize(
    ("kind", "how", "sampling"),
    [
        ("sentencepiece-bpe", "drop", "drawn by"),  # BPE-dropout by the library
        ("hf-unigram", "menu", "No sampling"),
        ("hf-wordpiece", "drop", "No sampling"),
    ],
)
def test_the_other_kinds_open_in_the_playground_and_the_vocabulary_view(
    qtbot, settle, window, model_path, docs, monkeypatch, tmp_path, kind, how, sampling
):
    path, encode = _train_other_kind(kind, docs, tmp_path)
    open_and_wait(qtbot, window, model_path)
    if how == "menu":
        _menu_open(qtbot, window, path, monkeypatch)
    else:
        with qtbot.waitSignal(window.workspace.modelChanged, timeout=LOAD_MS):
            drop(window, path)
    ws, pg = window.workspace, window.playground
    assert ws.kind == kind and ws.model is None and ws.native is None
    assert "read-only" in window.windowTitle()
    _show_text(qtbot, window)
    seg, want = pg.viterbi.segmentation, encode(TEXT)
    # every library token is a box, or is folded into one when it covers no text
    # (SentencePiece's dummy prefix '▁' before the first word): counted all the same
    rest = iter(want)
    assert all(i in rest for i in seg.ids.tolist())
    assert seg.token_count == len(want) and f"{len(want):,} tokens" in pg.viterbi.stats.text()
    assert sampling in pg.samples[0].stats.text()
    assert pg.viterbi.view.boundaries is None  # no exact engine for this kind
    pg.tabs.setCurrentWidget(pg.ids)
    qtbot.waitUntil(lambda: pg.ids.ids == encode(TEXT), timeout=LOAD_MS)
    view = _vocab_rows(qtbot, window, ws.vocabulary.vocab_size)
    assert not view.actions["delete"].isEnabled() and not view.actions["add"].isEnabled()
    save_screenshot(window, f"foreign-{kind}-vocabulary")
    settle()


def test_back_to_a_bytepiece_model_the_table_is_editable_again(
    qtbot, settle, window, model_path, tiktoken_file
):
    open_and_wait(qtbot, window, tiktoken_file)
    _vocab_rows(qtbot, window, 261)
    open_and_wait(qtbot, window, model_path)
    view = window.vocab_view
    assert window.workspace.vocabulary is None
    assert view.tables.currentWidget() is view.table
    qtbot.waitUntil(lambda: view.table_model.rowCount() > 0, timeout=LOAD_MS)
    assert view.actions["save_as"].isEnabled()
    settle()


def test_a_broken_foreign_file_is_reported_by_name(
    qtbot, settle, window, model_path, tmp_path, monkeypatch
):
    open_and_wait(qtbot, window, model_path)
    model = window.workspace.model
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    bad = tmp_path / "broken.model"
    bad.write_bytes(b"\x0a\xff\xff\xff\x0f garbage that is not a protobuf")
    with qtbot.waitSignal(window.workspace.modelFailed, timeout=LOAD_MS):
        window.open_path(bad)
    assert len(shown) == 1 and "broken.model" in shown[0] and "protobuf" in shown[0]
    assert window.workspace.model is model  # the model that was open stays
    settle()


def test_a_sentencepiece_unigram_model_is_hand_tuned_and_saved_as_one(
    qtbot, settle, window, sp_unigram_file, monkeypatch, tmp_path
):
    """Retire a piece in the Vocabulary view: SentencePiece itself then never emits it,
    Save writes a SentencePiece model the library reads, undo brings the exact file back."""
    from piecelab.engine.formats.sentencepiece import NORMAL, UNUSED

    original, _ = sp_unigram_file
    mine = tmp_path / "mine.model"
    mine.write_bytes(original.read_bytes())
    _menu_open(qtbot, window, mine, monkeypatch)
    ws, view = window.workspace, window.vocab_view
    assert ws.editable_vocabulary and "read-only" not in window.windowTitle()
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.table_model.rowCount() == len(ws.model), timeout=LOAD_MS)
    assert view.tables.currentWidget() is view.table
    vocab = ws.vocabulary
    sp_id = next(
        i for i in vocab.encode(TEXT) if len(vocab.names[i]) > 2 and vocab.types[i] == NORMAL
    )
    piece = vocab.pieces[sp_id]
    row = view.table_model.row_of(ws.model.index[piece] - 3)
    assert view.table_model.data(view.table_model.index(row, 0), 0) == str(sp_id)  # its own id
    click_piece(qtbot, view, piece)
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    box = shown_dialog(qtbot, QMessageBox)
    edit(qtbot, ws, lambda: qtbot.mouseClick(button(box, "Retire"), Qt.MouseButton.LeftButton))
    assert ws.dirty and ws.vocabulary.types[sp_id] == UNUSED
    assert sp_id not in ws.vocabulary.encode(TEXT)
    _show_text(qtbot, window)
    assert sp_id not in window.playground.viterbi.segmentation.ids.tolist()
    assert window.save() and not ws.dirty
    spm = pytest.importorskip("sentencepiece")
    saved = spm.SentencePieceProcessor(model_file=str(mine))
    assert saved.encode(TEXT) == ws.vocabulary.encode(TEXT) and sp_id not in saved.encode(TEXT)
    assert saved.id_to_piece(sp_id) == vocab.names[sp_id]  # retired: its id stays
    edit(qtbot, ws, view.undo_stack.undo)
    assert ws.vocabulary.raw == original.read_bytes()  # the exact file, not one rebuilt
    assert sp_id in ws.vocabulary.encode(TEXT) and ws.dirty
    edit(qtbot, ws, view.undo_stack.redo)
    assert not ws.dirty and ws.vocabulary.raw == mine.read_bytes()  # as saved: clean again
    settle()


def _click_id(qtbot, view, i: int) -> None:
    """Click the read-only table's row of id ``i`` (scrolling to it first)."""
    row = int(np.flatnonzero(view.foreign_model.rows == i)[0])
    index = view.foreign_model.index(row, 1)
    view.foreign_table.scrollTo(index)
    rect = view.foreign_table.visualRect(index)
    qtbot.mouseClick(view.foreign_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _emitted(label) -> int:
    return int(label.text().rsplit("emitted as a token in ", 1)[1].split()[0])


def test_the_concordance_searches_a_foreign_piece_by_its_text(
    qtbot, settle, window, model_path, sp_unigram_file, hf_bpe_file, docs, monkeypatch, tmp_path
):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(docs[:300]), encoding="utf-8")
    open_and_wait(qtbot, window, model_path)
    window.workspace.set_corpus([corpus], CorpusOptions(heldout=0))
    # a read-only vocabulary (byte-level BPE): its piece's bytes are its text
    path, reference = hf_bpe_file
    _menu_open(qtbot, window, path, monkeypatch)
    view = _vocab_rows(qtbot, window, reference.get_vocab_size())
    label, table = view.concordance.label, view.concordance.table
    the = reference.token_to_id("\u0120kernel")  # " kernel" (Ġ: byte-level space)
    _click_id(qtbot, view, the)
    qtbot.waitUntil(lambda: "occurrence" in label.text(), timeout=LOAD_MS)
    assert table.rowCount() > 0
    assert 0 < _emitted(label) <= table.rowCount()  # where tokenizers cuts " kernel" as one
    # a piece that is part of a character stands for no text of its own
    part = next(i for i, p in enumerate(window.workspace.vocabulary.pieces) if not is_complete(p))
    _click_id(qtbot, view, part)
    qtbot.waitUntil(lambda: "nothing to search" in label.text(), timeout=LOAD_MS)
    assert table.rowCount() == 0
    # an editable SentencePiece model: the piece ▁the is searched as " the", and
    # "emitted" is SentencePiece's own segmentation
    path, _ = sp_unigram_file
    _menu_open(qtbot, window, path, monkeypatch)
    view, ws = window.vocab_view, window.workspace
    n = len(ws.model.pieces)
    qtbot.waitUntil(lambda: view.idle and view.table_model.rowCount() == n, timeout=LOAD_MS)
    click_piece(qtbot, view, "\u2581the".encode())
    qtbot.waitUntil(lambda: "occurrence" in label.text(), timeout=LOAD_MS)
    matches = {table.item(r, 1).text() for r in range(table.rowCount())}
    assert len(matches) == 1 and matches.pop().endswith("the")  # " the", space made visible
    assert 0 < _emitted(label) <= table.rowCount()
    settle()
