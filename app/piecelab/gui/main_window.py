"""The main window: menus, recent files, drag and drop, the views as tabs, status bar."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QTabWidget

from .._version import __version__
from ..engine import MODEL_FILE_FILTER, looks_like_model
from ..paths import icon_path
from . import saving
from .autosave import install_autosave
from .corpus import CorpusView
from .playground import Playground
from .state import Workspace
from .train import TrainView
from .vocab import VocabView
from .worker import readable_error

RECENT_KEY = "recentFiles"
MAX_RECENT = 10


class MainWindow(QMainWindow):
    def __init__(
        self, workspace: Workspace | None = None, settings: QSettings | None = None
    ) -> None:
        super().__init__()
        self.workspace = workspace or Workspace(self)
        self.settings = settings if settings is not None else QSettings()
        self._pending_recent: Path | None = None
        self.interactive = True  # False (smoke test): report problems in the status bar only
        self.setWindowTitle("piecelab")
        self.setWindowIcon(QIcon(str(icon_path())))
        self.resize(1200, 760)
        self.setAcceptDrops(True)
        self.tabs = QTabWidget()
        self.playground = Playground(self.workspace)
        self.tabs.addTab(self.playground, "Playground")
        self.corpus_view = CorpusView(self.workspace)
        self.train_view = TrainView(self.workspace)
        self.vocab_view = VocabView(self.workspace)
        self.tabs.addTab(self.corpus_view, "Corpus")
        self.tabs.addTab(self.train_view, "Train")
        self.tabs.addTab(self.vocab_view, "Vocabulary")
        self.setCentralWidget(self.tabs)
        self._build_menus()
        self.workspace.modelLoading.connect(
            lambda p: self.statusBar().showMessage(f"Loading {p} …")
        )
        self.workspace.modelChanged.connect(self._model_changed)
        self.workspace.modelFailed.connect(self._model_failed)
        self.workspace.dirtyChanged.connect(lambda _: self._update_title())
        self.workspace.modelEdited.connect(self._update_title)
        self.workspace.message.connect(self.statusBar().showMessage)
        self.model_info = QLabel("")  # permanent: messages and menus never hide it
        self.statusBar().addPermanentWidget(self.model_info)
        self.statusBar().showMessage("Ready")
        install_autosave(self, self.workspace)

    # ------------------------------------------------------------- menus
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_action = QAction("&Open model…", self)
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self.open_model_dialog)
        file_menu.addAction(open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        compare_action = QAction("Open a model to &compare…", self)
        compare_action.triggered.connect(self._open_compare)
        file_menu.addAction(compare_action)
        file_menu.addSeparator()
        save_action = QAction("&Save model", self)
        save_action.setShortcut(QKeySequence.StandardKey.Save)
        save_action.triggered.connect(self.save)
        file_menu.addAction(save_action)
        save_as = QAction("Save model &as…", self)
        save_as.setShortcut(QKeySequence.StandardKey.SaveAs)
        save_as.triggered.connect(self.save_as)
        file_menu.addAction(save_as)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About piecelab", self)
        about.triggered.connect(
            lambda: QMessageBox.about(
                self,
                "About piecelab",
                f"piecelab {__version__}\nA workbench for byte-level Unigram vocabularies.",
            )
        )
        help_menu.addAction(about)

    def _open_compare(self) -> None:
        self.tabs.setCurrentWidget(self.playground)
        self.playground.tabs.setCurrentWidget(self.playground.compare)
        self.playground.compare.open_dialog()

    # ------------------------------------------------------------- opening
    def open_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", "", MODEL_FILE_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        """Open a model the user chose (asking first about unsaved edits); it joins the
        recent files once it loads.  False if the user kept the current model."""
        if not saving.confirm_replace(self, self.workspace):
            return False
        self._pending_recent = Path(path).resolve()
        self.workspace.open_model(self._pending_recent)
        return True

    def recent_files(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):  # an INI file gives a single entry back as a string
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: Path) -> None:
        files = [str(path)] + [f for f in self.recent_files() if f != str(path)]
        self.settings.setValue(RECENT_KEY, files[:MAX_RECENT])
        self.settings.sync()
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        files = self.recent_files()
        for k, f in enumerate(files, 1):
            action = menu.addAction(f"&{k % 10} {Path(f).name}  —  {Path(f).parent}")
            action.setData(f)
            action.setEnabled(Path(f).is_file())
            action.triggered.connect(lambda _=False, f=f: self.open_path(f))
        if files:
            menu.addSeparator()
            menu.addAction("Clear the list", self._clear_recent)
        else:
            menu.addAction("(no recent models)").setEnabled(False)

    def _clear_recent(self) -> None:
        self.settings.setValue(RECENT_KEY, [])
        self.settings.sync()
        self._fill_recent_menu()

    @staticmethod
    def _model_files(mime) -> list[Path]:
        if not mime.hasUrls():
            return []
        paths = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
        return [p for p in paths if looks_like_model(p)]

    def dragEnterEvent(self, event) -> None:
        if self._model_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    dragMoveEvent = dragEnterEvent

    def dropEvent(self, event) -> None:
        files = self._model_files(event.mimeData())
        if not files:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_path(files[0])

    # ------------------------------------------------------------- workspace signals
    def _update_title(self) -> None:
        ws = self.workspace
        star = " *" if ws.dirty else ""
        title = f"piecelab — {ws.model_label}{star}" if ws.model is not None else "piecelab"
        self.setWindowTitle(title)
        if ws.tokenizer is not None:
            self.model_info.setText(f"{ws.model_label}: {ws.tokenizer.vocab_size:,} ids{star}")

    def _model_changed(self) -> None:
        ws = self.workspace
        self._update_title()
        self.statusBar().showMessage(f"Opened {ws.model_label}: {ws.tokenizer.vocab_size:,} ids")
        if self._pending_recent is not None and ws.model_path == self._pending_recent:
            self._add_recent(self._pending_recent)
        self._pending_recent = None

    def _model_failed(self, message: str) -> None:
        self._pending_recent = None
        self.statusBar().showMessage("Could not open the model")
        if self.interactive:
            QMessageBox.warning(self, "Could not open the model", readable_error(message))

    # ------------------------------------------------------------- saving, closing
    def save(self) -> bool:
        """Save to the model's own file (asks for one if it has none, or is a .zip)."""
        return self._saved(saving.save(self, self.workspace))

    def save_as(self) -> bool:
        return self._saved(saving.save_as(self, self.workspace))

    def _saved(self, ok: bool) -> bool:
        if ok:
            self._update_title()
            self.statusBar().showMessage(f"Saved {self.workspace.model_path}")
        return ok

    def closeEvent(self, event) -> None:
        for i in range(self.tabs.count()):
            can_close = getattr(self.tabs.widget(i), "can_close", None)
            if can_close is not None and not can_close():
                event.ignore()
                return
        if not saving.confirm_replace(self, self.workspace, "Closing"):
            event.ignore()
            return
        event.accept()
