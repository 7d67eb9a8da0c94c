"""The first start of the workbench, on an empty numba cache: tokens on screen before the
kernels are compiled, and the keyboard in the editor from the start."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(
    """
    import os, sys
    from PySide6.QtCore import QTimer
    from piecelab.gui.app import create_window

    app, window = create_window(sys.argv[1], interactive=False)
    pg, ws = window.playground, window.workspace
    def tokens():
        if pg.viterbi.segmentation is not None and pg.sample_segmentations():
            compiled = ws.tokenizer is not None
            text = pg.viterbi.segmentation.text == pg.text()
            print(f"tokens previewing={pg.previewing} compiled={compiled} text={text}", flush=True)
            os._exit(0)  # the compile threads would finish first otherwise
    pg.refreshed.connect(tokens)
    QTimer.singleShot(300_000, lambda: (print("timeout", flush=True), os._exit(1)))
    app.exec()
    """
)


def first_start(code: str, model, tmp_path) -> subprocess.CompletedProcess:
    """``code`` run with ``model`` in a fresh process on an empty numba cache, headless."""
    env = dict(
        os.environ,
        NUMBA_CACHE_DIR=str(tmp_path / "numba"),  # nothing compiled yet
        QT_QPA_PLATFORM="offscreen",
        HOME=str(tmp_path),
        PIECELAB_RECOVERY_DIR=str(tmp_path / "recovery"),
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(model)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.mark.slow
def test_tokens_show_before_the_kernels_are_compiled(tmp_path, bundled_model_path):
    proc = first_start(CHILD, bundled_model_path, tmp_path)
    assert "tokens previewing=True compiled=False text=True" in proc.stdout


def test_the_editor_has_the_keyboard_at_start(qtbot, settle, bundled_model_path):
    from piecelab.gui.app import create_window

    app, window = create_window(bundled_model_path)
    qtbot.addWidget(window)
    qtbot.waitExposed(window)
    editor = window.playground.editor
    qtbot.waitUntil(editor.hasFocus, timeout=5000)
    assert editor.textCursor().atEnd()  # the caret after the default text
    with qtbot.waitSignal(window.playground.tokenizerReady, timeout=120_000):
        pass
    app.setOrganizationName("piecelab-tests")
    app.setApplicationName("piecelab-tests")
    settle()


CHILD_SENTENCEPIECE = textwrap.dedent(
    """
    import os, sys, threading
    from numba.core import event
    from PySide6.QtCore import QTimer
    from piecelab.gui.app import create_window

    class OnGuiThread(event.Listener):  # numba compilations started on this thread
        started = 0
        def on_start(self, ev):
            if threading.current_thread() is threading.main_thread():
                OnGuiThread.started += 1
        def on_end(self, ev):
            pass

    event.register("numba:compile", OnGuiThread())
    app, window = create_window(sys.argv[1], interactive=False)
    pg, ws = window.playground, window.workspace
    stages = set()
    ws.preparing.connect(lambda p: stages.add(p.stage))  # the progress the window shows
    def check():
        if ws.kind != "sentencepiece-unigram":
            return
        print(f"stages: {sorted(stages)}", flush=True)
        pg.editor.setPlainText("Typed  text, 分词 and ﬁ")  # what typing runs
        pg.refresh()
        strip = pg.viterbi.view.boundaries is not None
        pg.tabs.setCurrentWidget(pg.distribution)  # the exact sampling distribution
        pg.distribution.text_edit.setText("Typed text")
        pg.distribution.compute()
        pg.tabs.setCurrentWidget(pg.lattice)
        pg.lattice.text_edit.setText("Typed text")
        app.processEvents()
        print(f"compiled on the GUI thread: {OnGuiThread.started} strip={strip}", flush=True)
        os._exit(0)
    pg.tokenizerReady.connect(lambda: QTimer.singleShot(0, check))
    QTimer.singleShot(300_000, lambda: (print("timeout", flush=True), os._exit(1)))
    app.exec()
    """
)


@pytest.mark.slow
def test_a_sentencepiece_model_compiles_nothing_on_the_gui_thread(tmp_path, docs):
    """On an empty numba cache, opening a SentencePiece Unigram model runs its kernels
    (the boundary strip's too) on the loading thread: showing it and typing compile
    nothing on the GUI thread."""
    from tests.foreign_models import sentencepiece_model

    model = tmp_path / "unigram.model"
    model.write_bytes(sentencepiece_model(docs, model_type="unigram", vocab_size=500))
    proc = first_start(CHILD_SENTENCEPIECE, model, tmp_path)
    assert "compiled on the GUI thread: 0 strip=True" in proc.stdout, proc.stdout + proc.stderr
    assert "compiling the tokenizer (first start only)" in proc.stdout  # said while it waits
