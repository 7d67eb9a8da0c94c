"""Autosave and crash recovery, so unsaved vocabulary edits are never lost silently.

While the model has unsaved changes it is written every ~30 s (atomically) to a
per-user recovery folder, one file per running process.  A clean save or a
clean exit removes it; a crash leaves it, and the next start offers it back.
``PIECELAB_RECOVERY_DIR`` overrides the folder (tests point it at a tmp dir).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QStandardPaths, QTimer
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from ..engine import Model, ModelFormatError, atomic_write
from .state import Workspace

INTERVAL_MS = 30_000
ENV_DIR = "PIECELAB_RECOVERY_DIR"


def recovery_dir() -> Path:
    """Where autosaves go (not created until something is written)."""
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".piecelab") / "recovery"


@dataclass
class Recovery:
    """An autosave left by a process that is gone."""

    model_path: Path
    original: str  # the file the edited model came from ('' if none)
    saved_at: float


def _alive(pid: int) -> bool:
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
    """Autosaves of processes no longer running, newest first."""
    folder = folder or recovery_dir()
    out = []
    for meta in folder.glob("autosave-*.json") if folder.is_dir() else []:
        try:
            pid = int(meta.stem.split("-", 1)[1])
            info = json.loads(meta.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            continue
        model = meta.with_suffix(".model")
        if not _alive(pid) and model.is_file():
            out.append(Recovery(model, info.get("original", ""), float(info.get("saved_at", 0))))
    return sorted(out, key=lambda r: r.saved_at, reverse=True)


def discard(rec: Recovery) -> None:
    for p in (rec.model_path, rec.model_path.with_suffix(".json")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def ask_recover(parent: QWidget, rec: Recovery) -> bool:
    """Ask whether to restore an autosave (tests monkeypatch this)."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(rec.saved_at))
    source = f" of {rec.original}" if rec.original else ""
    answer = QMessageBox.question(
        parent,
        "Recover unsaved changes?",
        f"piecelab did not exit cleanly. An autosaved vocabulary{source} from {when} "
        "was found. Recover it?",
    )
    return answer == QMessageBox.StandardButton.Yes


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
        stem = f"autosave-{os.getpid()}"
        self.model_path = self.folder / f"{stem}.model"
        self.meta_path = self.folder / f"{stem}.json"
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
        if not ws.dirty or ws.model is None:
            return False
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
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

    def offer_recovery(self) -> bool:
        """Offer the newest autosave of a crashed session; True if one was restored."""
        found = find_recoveries(self.folder)
        if not found:
            return False
        rec = found[0]
        if not ask_recover(self.window, rec):
            for r in found:
                discard(r)
            return False
        try:
            model = Model.load(rec.model_path)
        except ModelFormatError as exc:
            QMessageBox.warning(self.window, "Could not recover", str(exc))
            discard(rec)
            return False
        original = Path(rec.original) if rec.original else None
        self.workspace.set_model(model, path=original, edited=True)
        for r in found:
            discard(r)  # the recovered model is now this session's, and autosaved as such
        return True


def install_autosave(window: QMainWindow, workspace: Workspace) -> Autosaver:
    """Start autosaving the workspace's unsaved model; offer recovery once the loop runs."""
    saver = Autosaver(window, workspace)
    window.autosaver = saver  # type: ignore[attr-defined]
    QTimer.singleShot(0, saver, saver.offer_recovery)
    return saver
