"""Shared GUI fixtures: strict Qt hygiene, settings kept out of the real home, a tiny model.

* Every test here fails if it ends with a QTimer still active or a worker thread
  (thread pool or QThread) still running: it must wait for what it started.
* Qt warnings fail the test (pytest-qt's ``qt_log_level_fail``), except the
  offscreen platform's notes that say nothing about our code.
* A modal dialog the test did not stub fails the test at once: offscreen nobody
  can press its button, so it would otherwise hang the whole run.
* QSettings of every format and scope point into a temporary folder, and the
  organization is ``piecelab-tests``: nothing is written to the real home.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QSettings, QThread, QThreadPool, QTimer
from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMessageBox, QWidget

from piecelab.gui.app import guard_none_refcount

HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parent / "screenshots"
QT_NOISE = (
    "This plugin does not support",  # the offscreen platform: raise(), size hints
    "OpenType support missing",  # fonts of the test machine
)
POOL_GRACE_MS = 500  # a worker finishing its last signal may need a moment to return


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore(*QT_NOISE))


@pytest.fixture(scope="session", autouse=True)
def _isolated_settings(qapp, tmp_path_factory):
    guard_none_refcount()  # PySide6 6.12 on Python 3.11 (see piecelab.gui.app)
    folder = tmp_path_factory.mktemp("qsettings")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, str(folder))
    QCoreApplication.setOrganizationName("piecelab-tests")
    QCoreApplication.setApplicationName("piecelab-tests")
    yield folder


@pytest.fixture(autouse=True)
def _isolated_recovery(tmp_path, monkeypatch):
    """Autosaves of every test go to its own folder: one test's crash (or a killed run)
    must not put a recovery dialog in front of the next test."""
    from piecelab.gui import autosave

    monkeypatch.setenv(autosave.ENV_DIR, str(tmp_path / "recovery"))


MODALS = {
    QDialog: ("exec",),
    QMessageBox: ("exec", "critical", "warning", "information", "question", "about"),
    QFileDialog: (
        "exec",
        "getOpenFileName",
        "getOpenFileNames",
        "getSaveFileName",
        "getExistingDirectory",
    ),
    QInputDialog: ("exec", "getText", "getInt", "getDouble", "getItem", "getMultiLineText"),
}


class UnexpectedDialog(AssertionError):
    """A modal dialog opened that the test did not expect (and stub)."""


@pytest.fixture(autouse=True)
def _no_unexpected_modal(monkeypatch):
    """Fail, instead of blocking forever, when the app opens a modal dialog the test did
    not stub.  Tests that expect a dialog patch the call themselves after this."""
    opened: list[str] = []

    def refuse(owner: type, name: str):
        def modal(*args, **kwargs):
            texts = [a for a in args if isinstance(a, str)]
            if args and isinstance(args[0], QDialog):
                box = args[0]
                texts = [box.windowTitle(), getattr(box, "text", lambda: "")()]
            opened.append(f"{owner.__name__}.{name}({' / '.join(texts)[:200]!r})")
            raise UnexpectedDialog("unexpected modal dialog: " + opened[-1])

        return modal

    for owner, names in MODALS.items():
        for name in names:
            monkeypatch.setattr(owner, name, refuse(owner, name))
    yield
    if opened:
        pytest.fail("modal dialogs opened: " + "; ".join(opened), pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def _collect_on_the_gui_thread_only():
    """No cyclic GC on worker threads: collecting Qt wrappers there deadlocks against
    the GUI thread (Qt lock vs GIL; seen as a hang in a fresh clone's run).  The app
    does the same with a timer (``run_gui``); here each test's teardown collects."""
    gc.disable()
    yield
    gc.enable()


@pytest.fixture(autouse=True)
def _track_timers_and_threads(request, monkeypatch):
    """Record every QTimer and QThread started during the test.

    After the test body: no worker may still run and no single-shot timer (a
    debounce) may still be pending.  After teardown, once pytest-qt has closed
    the test's widgets and their deferred deletes ran, no timer may be left.
    """
    timers: list[QTimer] = []
    threads: list[QThread] = []
    timer_start, thread_start = QTimer.start, QThread.start

    def start_timer(self, *args):
        timers.append(self)
        return timer_start(self, *args)

    def start_thread(self, *args):
        threads.append(self)
        return thread_start(self, *args)

    monkeypatch.setattr(QTimer, "start", start_timer)
    monkeypatch.setattr(QThread, "start", start_thread)
    request.node._qt_started = (timers, threads)
    yield
    QThreadPool.globalInstance().waitForDone(30_000)  # never leak work into the next test
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()  # on the GUI thread, with no worker running
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    left = [t for t in _active(timers) if t.parent() is None or not _in_closed_widget(t)]
    if left:
        pytest.fail("timers outlived the test's widgets: " + _describe(left), pytrace=False)


def _active(timers: list[QTimer], single_shot_only: bool = False) -> list[QTimer]:
    return [
        t
        for t in dict.fromkeys(timers)
        if shiboken6.isValid(t) and t.isActive() and (t.isSingleShot() or not single_shot_only)
    ]


def _in_closed_widget(timer: QTimer) -> bool:
    """Whether the timer belongs to a widget tree whose window is closed (deleted later)."""
    obj = timer.parent()
    while obj is not None and not isinstance(obj, QWidget):
        obj = obj.parent()
    return obj is not None and not obj.window().isVisible()


def _describe(timers: list[QTimer]) -> str:
    out = []
    for t in timers:
        owner = t.parent()
        name = type(owner).__name__ if owner is not None else "no parent"
        out.append(f"QTimer ({t.interval()} ms, owner {name})")
    return "; ".join(out)


def _leftovers(item) -> list[str]:
    timers, threads = getattr(item, "_qt_started", ([], []))
    problems = []
    pool = QThreadPool.globalInstance()
    if not pool.waitForDone(POOL_GRACE_MS):
        problems.append(f"{pool.activeThreadCount()} thread-pool worker(s) still running")
    for t in threads:
        if shiboken6.isValid(t) and t.isRunning():
            problems.append(f"QThread {t.objectName() or t!r} still running")
    pending = _active(timers, single_shot_only=True)
    if pending:
        problems.append("pending single-shot " + _describe(pending))
    return problems


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    problems = _leftovers(item)
    if problems:
        pytest.fail("the test left Qt work running: " + "; ".join(problems), pytrace=False)
    return result


@pytest.fixture
def settle(request, qtbot):
    """Wait until every debounce started so far has fired and the workers are idle."""

    def wait(timeout: int = 10_000) -> None:
        timers, _ = request.node._qt_started

        def idle() -> None:
            assert not _active(timers, single_shot_only=True)
            assert QThreadPool.globalInstance().activeThreadCount() == 0

        qtbot.waitUntil(idle, timeout=timeout)

    return wait


# ---------------------------------------------------------------- shared helpers
def save_screenshot(widget, name: str):
    """Grab ``widget`` into tests/screenshots/<name>.png and return the QImage."""
    SCREENSHOTS.mkdir(exist_ok=True)
    pixmap = widget.grab()
    assert not pixmap.isNull()
    assert pixmap.save(str(SCREENSHOTS / f"{name}.png"))
    return pixmap.toImage()


def distinct_colors(image, step: int = 7) -> int:
    """How many different colors a grid of pixels holds (a blank grab has one or two)."""
    seen = set()
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            seen.add(image.pixel(x, y))
    return len(seen)


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def model_path(tmp_path) -> Path:
    """The tiny model of ``tests/conftest.py``, saved as a BytePiece file."""
    from piecelab.engine import Model

    from ..conftest import tiny_counts

    return Model.from_counts(tiny_counts()).save(tmp_path / "tiny.model")


@pytest.fixture
def window(qtbot, settings):
    """The main window, shown, with its settings in the test's folder."""
    from piecelab.gui.main_window import MainWindow

    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture(scope="module")
def docs() -> list[str]:
    """The documents of the small trainer corpus the project owns (tests/data)."""
    import gzip
    import json

    from ..conftest import DATA

    with gzip.open(DATA / "trainer_corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh]
