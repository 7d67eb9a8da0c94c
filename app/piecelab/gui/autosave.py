"""Autosave and crash recovery, so unsaved vocabulary edits are never lost silently.

While the model has unsaved changes it is written every ~30 s (atomically) to a
per-user recovery folder, under this session's own name.  A clean save or a clean
exit removes it; a crash leaves it, and the next start lists every autosave left
by a session that is gone, to open, save elsewhere, discard, or keep for later.

A session is alive while it holds an exclusive lock on its ``session-ID.lock``
file; the system drops the lock when the process dies, however it dies.  Process
ids are not used to decide: a crashed session's id may be reused by another
process.  ``PIECELAB_RECOVERY_DIR`` overrides the folder (tests use a tmp dir).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..engine import Model, ModelFormatError, atomic_write
from .saving import MODEL_FILES, app_data_dir
from .state import Workspace

try:  # Unix: a lock the system releases when its holder dies
    import fcntl
except ImportError:  # pragma: no cover - Windows: process ids, with their caveat
    fcntl = None  # type: ignore[assignment]

INTERVAL_MS = 30_000
ENV_DIR = "PIECELAB_RECOVERY_DIR"
PREFIX = "autosave-"


def recovery_dir() -> Path:
    """Where autosaves go (not created until something is written)."""
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override)
    return app_data_dir() / "recovery"


@dataclass
class Recovery:
    """An autosave left by a session that is gone."""

    model_path: Path
    original: str  # the file the edited model came from ('' if none or unknown)
    saved_at: float

    @property
    def meta_path(self) -> Path:
        return self.model_path.with_suffix(".json")

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        source = Path(self.original).name if self.original else "a model with no file"
        return f"{when} — edits of {source}"


class SessionLock:
    """This session's claim on its autosaves: held (locked) for the life of the process."""

    def __init__(self, folder: Path) -> None:
        self.id = f"{time.time_ns():x}-{uuid.uuid4().hex[:8]}"
        self.folder = folder
        self.path = folder / f"session-{self.id}.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        """Create and lock the file (once something is about to be autosaved)."""
        if self._fd is not None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


def _session_alive(folder: Path, session: str) -> bool:
    """Whether the session that wrote ``autosave-SESSION.*`` still runs."""
    lock = folder / f"session-{session}.lock"
    if session.isdigit() and not lock.exists():  # an autosave of an older piecelab: by pid
        return _pid_alive(int(session))
    if fcntl is None:
        return _pid_alive(_lock_pid(lock))
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return False  # its lock is gone: the session ended, or was never started here
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True  # somebody holds it: the session runs
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _lock_pid(lock: Path) -> int:
    try:
        return int(lock.read_text() or 0)
    except (OSError, ValueError):
        return 0


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but not ours to signal
        return True
    return True


def find_recoveries(folder: Path | None = None) -> list[Recovery]:
    """Autosaves of sessions that are gone, newest first.

    An autosave whose metadata was never written (killed between the two files)
    is offered too, dated by its file.
    """
    folder = folder or recovery_dir()
    out = []
    for model in folder.glob(f"{PREFIX}*.model") if folder.is_dir() else []:
        session = model.stem[len(PREFIX) :]
        if _session_alive(folder, session):
            continue
        try:
            info = json.loads(model.with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
        if not isinstance(info, dict):
            info = {}
        saved_at = info.get("saved_at")
        if not isinstance(saved_at, (int, float)):
            saved_at = model.stat().st_mtime
        out.append(Recovery(model, str(info.get("original") or ""), float(saved_at)))
    return sorted(out, key=lambda r: r.saved_at, reverse=True)


def discard(rec: Recovery) -> None:
    for p in (rec.model_path, rec.meta_path):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    session = rec.model_path.stem[len(PREFIX) :]
    with contextlib.suppress(FileNotFoundError):
        (rec.model_path.parent / f"session-{session}.lock").unlink()


class RecoveryDialog(QDialog):
    """Every autosave of a crashed session: open one, save one elsewhere, discard, or later.

    Nothing the dialog does not show is deleted, and "Later" keeps what is left.
    """

    def __init__(self, found: list[Recovery], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recover unsaved changes?")
        self.chosen: Recovery | None = None
        self.found = list(found)
        self.list = QListWidget()
        for rec in self.found:
            item = QListWidgetItem(rec.describe())
            item.setToolTip(str(rec.model_path))
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        text = QLabel(
            "piecelab did not exit cleanly. These vocabularies had unsaved edits. Open one "
            "to keep working on it, save one to a file, or discard it; Later keeps the rest "
            "for the next start."
        )
        text.setWordWrap(True)
        buttons = QDialogButtonBox()
        self.open_button = buttons.addButton("&Open", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button = QPushButton("&Save as…")
        self.discard_button = QPushButton("&Discard")
        self.later_button = buttons.addButton("&Later", QDialogButtonBox.ButtonRole.RejectRole)
        for b in (self.save_button, self.discard_button):
            buttons.addButton(b, QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button.clicked.connect(self._open)
        self.save_button.clicked.connect(self._save_as)
        self.discard_button.clicked.connect(self._discard)
        self.later_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def current(self) -> Recovery | None:
        row = self.list.currentRow()
        return self.found[row] if 0 <= row < len(self.found) else None

    def _take(self) -> Recovery | None:
        rec = self.current()
        if rec is not None:
            self.found.pop(self.list.currentRow())
            self.list.takeItem(self.list.currentRow())
        if not self.found:
            self.accept() if self.chosen is not None else self.reject()
        return rec

    def _open(self) -> None:
        rec = self.current()
        if rec is not None:
            self.chosen = rec
            self.found.remove(rec)
            self.accept()

    def _save_as(self) -> None:
        rec = self.current()
        if rec is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the recovered model", "recovered.model", MODEL_FILES
        )
        if not path:
            return
        try:
            atomic_write(Path(path), rec.model_path.read_bytes())
        except OSError as exc:
            QMessageBox.warning(self, "Could not save", f"{path}: {exc.strerror or exc}")
            return
        discard(rec)
        self._take()

    def _discard(self) -> None:
        rec = self.current()
        if rec is not None:
            discard(rec)
            self._take()


class Autosaver(QObject):
    """Writes the dirty model every ``interval_ms``; removes it on a clean save or exit."""

    def __init__(
        self,
        window: QMainWindow,
        workspace: Workspace,
        interval_ms: int = INTERVAL_MS,
        folder: Path | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.workspace = workspace
        self.folder = folder or recovery_dir()
        self.session = SessionLock(self.folder)
        self.model_path = self.folder / f"{PREFIX}{self.session.id}.model"
        self.meta_path = self.model_path.with_suffix(".json")
        self.saves = 0
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_now)
        workspace.dirtyChanged.connect(self._dirty_changed)
        window.installEventFilter(self)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._after_close)
        if workspace.dirty:
            self.timer.start()

    def _dirty_changed(self, dirty: bool) -> None:
        if dirty:
            if not self.timer.isActive():
                self.timer.start()
        else:  # saved (or a fresh model opened): nothing to recover any more
            self.timer.stop()
            self.remove()

    def save_now(self) -> bool:
        """Write the model if it has unsaved changes; False when there was nothing to do."""
        ws = self.workspace
        # recovery reopens BytePiece models; an edited SentencePiece model is not kept here
        if not ws.dirty or ws.model is None or ws.vocabulary is not None:
            return False
        try:
            self.session.acquire()
            ws.model.save(self.model_path)
            meta = {"original": str(ws.model_path or ""), "saved_at": time.time()}
            atomic_write(self.meta_path, json.dumps(meta).encode("utf-8"))
        except OSError:
            return False  # a full disk must not interrupt editing; try again next time
        self.saves += 1
        return True

    def remove(self) -> None:
        for p in (self.model_path, self.meta_path):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close:
            # the window decides (asking about unsaved changes); look once it has
            QTimer.singleShot(0, self, self._after_close)
        return False

    def _after_close(self) -> None:
        """A clean exit: the user was asked about unsaved changes and the window closed."""
        if not shiboken6.isValid(self.window) or not self.window.isVisible():
            self.timer.stop()
            self.remove()
            self.session.release()

    def offer_recovery(self) -> bool:
        """List the autosaves of crashed sessions; True if one was opened."""
        found = find_recoveries(self.folder)
        if not found:
            return False
        dialog = RecoveryDialog(found, self.window)
        dialog.exec()
        rec = dialog.chosen
        if rec is None:
            return False
        try:
            model = Model.load(rec.model_path)
        except ModelFormatError as exc:
            QMessageBox.warning(self.window, "Could not recover", str(exc))
            return False
        original = Path(rec.original) if rec.original else None
        self.workspace.set_model(model, path=original, edited=True)
        discard(rec)  # the recovered model is now this session's, and autosaved as such
        return True


def install_autosave(window: QMainWindow, workspace: Workspace) -> Autosaver:
    """Start autosaving the workspace's unsaved model; offer recovery once the loop runs."""
    saver = Autosaver(window, workspace)
    window.autosaver = saver  # type: ignore[attr-defined]
    QTimer.singleShot(0, saver, saver.offer_recovery)
    return saver
