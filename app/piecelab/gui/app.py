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


def guard_none_refcount() -> bool:
    """Work around PySide6 6.12.0 on Python < 3.12, which crashes long-running GUIs.

    That release returns ``None`` from every void method without taking a
    reference, so each call (``QPainter.drawRect``, ``QLabel.setText`` …) lowers
    None's reference count by one, and after some thousands of calls Python
    aborts with "none_dealloc: deallocating None".  Python 3.12 made None
    immortal (PEP 683); here, only when a probe shows the leak, we give None the
    same practically infinite count.  Pinning PySide6 != 6.12.0 is the real fix.
    """
    if sys.version_info >= (3, 12):
        return False
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(64):
        probe.setObjectName("probe")
    if sys.getrefcount(None) - before > -32:
        return False
    import ctypes

    ctypes.c_ssize_t.from_address(id(None)).value = 1 << 60  # ob_refcnt is the first field
    return True


def create_window(
    model: str | Path | None = None, corpus: Sequence[str] = (), interactive: bool = True
):
    """The QApplication and a shown main window whose model loads in the background.

    Nothing here compiles kernels: the workspace builds and warms the tokenizer
    on a worker thread, so the window is usable at once.
    """
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from ..paths import default_model_path
    from .main_window import MainWindow

    guard_none_refcount()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("piecelab")
    app.setOrganizationName("piecelab")
    window = MainWindow()
    window.interactive = interactive
    window.show()
    window.playground.focus_editor()  # type at once, caret after the default text
    if corpus:
        window.workspace.set_corpus([Path(c) for c in corpus])
    # load once the event loop runs, so the window paints before the loader competes for it
    path = model or default_model_path()
    QTimer.singleShot(0, window, lambda: window.workspace.open_model(path))
    return app, window


def _display_problem() -> str | None:
    """Say why Qt could not open a window, before Qt aborts the process over it."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and platform != "xcb":
        return None
    wayland = os.environ.get("WAYLAND_DISPLAY")
    if not platform and wayland:
        return None
    if not os.environ.get("DISPLAY"):
        return (
            "no display (DISPLAY and WAYLAND_DISPLAY are unset); run it in a desktop "
            "session, or headless with QT_QPA_PLATFORM=offscreen"
        )
    display = os.environ["DISPLAY"]
    if display.startswith(":"):
        number = display[1:].split(".")[0]
        if number.isdigit() and not os.path.exists(f"/tmp/.X11-unix/X{number}"):
            return f"no X server is running on display {display}"
    missing = _missing_xcb_libraries()
    if missing:
        packages = sorted({_debian_package(lib) for lib in missing})
        return (
            f"Qt's X11 plugin needs {', '.join(missing)}. Install the Debian package(s):\n"
            f"    sudo apt-get install {' '.join(packages)}"
        )
    return None


def _missing_xcb_libraries() -> list[str]:
    """Shared libraries Qt's xcb platform plugin links to that the system lacks."""
    import shutil
    import subprocess

    import PySide6

    plugin = os.path.join(
        os.path.dirname(PySide6.__file__), "Qt", "plugins", "platforms", "libqxcb.so"
    )
    ldd = shutil.which("ldd")
    if not ldd or not os.path.exists(plugin):
        return []
    out = subprocess.run([ldd, plugin], capture_output=True, text=True).stdout
    missing = [line.split()[0] for line in out.splitlines() if "not found" in line]
    extra = os.path.join(os.path.dirname(plugin), "..", "..", "lib", "libQt6XcbQpa.so.6")
    if os.path.exists(extra):
        out = subprocess.run([ldd, extra], capture_output=True, text=True).stdout
        missing += [line.split()[0] for line in out.splitlines() if "not found" in line]
    return sorted(set(missing))


def _debian_package(lib: str) -> str:
    """libxcb-icccm.so.4 → libxcb-icccm4 (Debian's naming for shared libraries)."""
    name, _, version = lib.partition(".so.")
    version = version.split(".")[0]
    return f"{name}{'-' if name[-1].isdigit() else ''}{version}" if version else name


def run_gui(model: str | None = None, corpus: Sequence[str] = (), smoke_test: bool = False) -> int:
    try:
        import PySide6.QtWidgets  # noqa: F401
    except ImportError as exc:
        print(f"piecelab: cannot start Qt: {_qt_import_hint(exc)}", file=sys.stderr)
        return 1
    from ..paths import resource_dir

    problem = _display_problem()
    if problem:
        print(f"piecelab: cannot open a window: {problem}", file=sys.stderr)
        return 1
    app, window = create_window(model, corpus, interactive=not smoke_test)
    # Python's cyclic GC runs on whichever thread allocates; if a worker thread
    # collects Qt wrappers, their destructors take Qt locks while waiting for the
    # GIL, and the GUI thread can deadlock against them (seen in the test suite).
    # Collect on the GUI thread only, on a timer.
    from pyqtgraph.util.garbage_collector import GarbageCollector

    collector = GarbageCollector(interval=1.0)  # noqa: F841 (kept alive by this frame)
    from .errors import ErrorReporter

    if not smoke_test:  # an exception in a slot: a dialog, not only stderr
        ErrorReporter(window).install()
    if smoke_test:
        return _smoke(app, window, resource_dir())
    return app.exec()


def _wait(app, done, deadline: float, failure: list[str]) -> bool:
    while not done() and not failure and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    app.processEvents()
    return done() and not failure


def _smoke(app, window, resources) -> int:
    """Wait for the model, render every tab and sub-view once, check each; write nothing."""
    deadline = time.monotonic() + float(os.environ.get("PIECELAB_SMOKE_TIMEOUT", "120"))
    ws = window.workspace
    pg = window.playground
    failure: list[str] = []
    ws.modelFailed.connect(failure.append)
    if not _wait(
        app, lambda: ws.tokenizer is not None and pg.tokenizer is ws.tokenizer, deadline, failure
    ):
        print(f"smoke test: the model did not load: {failure or 'timeout'}", file=sys.stderr)
        return 1
    ws.open_compare_model(ws.model_path)  # compare the model with itself
    if not _wait(app, lambda: pg.compare.secondary is not None, deadline, failure):
        print(f"smoke test: the compare model did not load: {failure}", file=sys.stderr)
        return 1
    problems = []

    def check(name: str) -> None:
        app.processEvents()
        pix = window.grab()
        if pix.isNull() or pix.width() < 200 or pix.height() < 200:
            problems.append(f"view {name!r} did not render")

    views = 0
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        check(window.tabs.tabText(i))
        views += 1
    window.tabs.setCurrentWidget(pg)
    for i in range(pg.tabs.count()):
        pg.tabs.setCurrentIndex(i)
        if pg.tabs.currentWidget() is pg.distribution:
            pg.distribution.compute()
        check(f"Playground/{pg.tabs.tabText(i)}")
        views += 1
    if pg.viterbi.segmentation is None or not pg.sample_segmentations():
        problems.append("the playground shows no segmentation")
    if not len(pg.distribution.exact):
        problems.append("the sampling distribution is empty")
    if not pg.ids.ids:
        problems.append("the ids view shows no ids")
    if pg.compare.pane_b.segmentation is None:
        problems.append("the compare view shows no second segmentation")
    window.close()
    if problems:
        print("smoke test failed: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(
        f"smoke test passed: {views} views rendered, model "
        f"{ws.model_path.name} ({ws.tokenizer.vocab_size:,} ids), resources at {resources}"
    )
    return 0
