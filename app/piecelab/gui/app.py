"""Start the workbench (and its smoke test)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def _qt_import_hint(exc: ImportError) -> str:
    msg = str(exc)
    libs = {
        "libGL.so": "libgl1",
        "libEGL.so": "libegl1",
        "libxkbcommon": "libxkbcommon0",
        "libfontconfig": "libfontconfig1",
        "libdbus": "libdbus-1-3",
        "libglib": "libglib2.0-0",
    }
    for lib, pkg in libs.items():
        if lib in msg:
            return f"{msg}\nInstall the Debian package: sudo apt-get install {pkg}"
    return msg


def run_gui(model: str | None = None, corpus: Sequence[str] = (), smoke_test: bool = False) -> int:
    try:
        from PySide6.QtWidgets import QApplication
    except ImportError as exc:
        print(f"piecelab: cannot start Qt: {_qt_import_hint(exc)}", file=sys.stderr)
        return 1
    from ..paths import default_model_path, resource_dir
    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("piecelab")
    app.setOrganizationName("piecelab")
    window = MainWindow()
    window.show()
    window.workspace.corpus_paths = [Path(c) for c in corpus]
    window.workspace.open_model(model or default_model_path())
    if smoke_test:
        return _smoke(app, window, resource_dir())
    return app.exec()


def _smoke(app, window, resources) -> int:
    """Wait for the model, render every tab once, check each picture; write nothing."""
    deadline = time.monotonic() + float(os.environ.get("PIECELAB_SMOKE_TIMEOUT", "120"))
    ws = window.workspace
    failure: list[str] = []
    ws.modelFailed.connect(failure.append)
    while ws.tokenizer is None and not failure and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    if failure or ws.tokenizer is None:
        print(f"smoke test: the model did not load: {failure or 'timeout'}", file=sys.stderr)
        return 1
    app.processEvents()
    problems = []
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        app.processEvents()
        pix = window.grab()
        if pix.isNull() or pix.width() < 200 or pix.height() < 200:
            problems.append(f"view {window.tabs.tabText(i)!r} did not render")
    if window.playground.viterbi.segmentation is None:
        problems.append("the playground shows no segmentation")
    window.close()
    if problems:
        print("smoke test failed: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(
        f"smoke test passed: {window.tabs.count()} views rendered, model "
        f"{ws.model_path.name} ({ws.tokenizer.vocab_size:,} ids), resources at {resources}"
    )
    return 0
