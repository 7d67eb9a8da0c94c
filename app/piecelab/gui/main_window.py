"""The main window: menus, recent files, drag and drop, the views as tabs, status bar."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QGuiApplication, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QTabWidget,
)

from .._version import __version__
from ..engine import COMPILING, MODEL_FILE_FILTER, Progress, looks_like_model
from ..paths import example_models, icon_path
from . import saving
from .analysis import AnalysisView
from .autosave import install_autosave
from .corpus import CorpusView
from .exporting import ExportMenu
from .help import ShortcutsDialog, TextDialog, guide_text, readme_text
from .playground import Playground
from .state import Workspace
from .train import TrainView
from .vocab import VocabView
from .worker import readable_error

RECENT_KEY = "recentFiles"
GEOMETRY_KEY = "window/geometry"
MESSAGE_MS = 15_000  # how long a view's status message stays
FIRST_SIZE = 0.85  # of the screen's available area, at first start
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
        self.restore_geometry()
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
        self.analysis_view = AnalysisView(self.workspace)
        self.tabs.addTab(self.analysis_view, "Analysis")
        self.setCentralWidget(self.tabs)
        for table in self.findChildren(QAbstractItemView):  # Tab leaves a table, cell by
            table.setTabKeyNavigation(False)  # cell is the arrow keys' job
        self._build_menus()
        self.workspace.modelLoading.connect(
            lambda p: self.statusBar().showMessage(f"Loading {p} …")
        )
        self.workspace.modelChanged.connect(self._model_changed)
        self.workspace.modelFailed.connect(self._model_failed)
        self.workspace.dirtyChanged.connect(lambda _: self._update_title())
        self.workspace.modelEdited.connect(self._update_title)
        self.workspace.saved.connect(self._on_saved)
        self.workspace.message.connect(self.say)
        self.model_info = QLabel("")  # permanent: messages and menus never hide it
        self.preparing = QProgressBar()  # while a model's tokenizer is built (compiled)
        self.preparing.setMaximumWidth(160)
        self.preparing.setTextVisible(False)
        self.preparing.hide()
        self.compiling = QLabel("")  # said only while numba compiles (a first start)
        self.compiling.hide()
        self.statusBar().addPermanentWidget(self.compiling)
        self.statusBar().addPermanentWidget(self.preparing)
        self.statusBar().addPermanentWidget(self.model_info)
        self.workspace.preparing.connect(self._preparing)
        self.statusBar().showMessage("Ready")
        install_autosave(self, self.workspace)

    # ------------------------------------------------------------- geometry
    def restore_geometry(self) -> None:
        """The last session's geometry; at first start 85% of the screen, centred."""
        saved = self.settings.value(GEOMETRY_KEY)
        if saved is not None and self.restoreGeometry(saved):
            return
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(1200, 760)
            return
        area = screen.availableGeometry()
        w, h = round(area.width() * FIRST_SIZE), round(area.height() * FIRST_SIZE)
        self.setGeometry(
            area.x() + (area.width() - w) // 2, area.y() + (area.height() - h) // 2, w, h
        )

    def save_geometry(self) -> None:
        self.settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        self.settings.sync()

    # ------------------------------------------------------------- menus
    def _action(self, text: str, slot, keys: object = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if keys is not None:
            action.setShortcut(keys if isinstance(keys, QKeySequence) else QKeySequence(keys))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(
            self._action("&Open model…", self.open_model_dialog, QKeySequence.StandardKey.Open)
        )
        self.examples_menu = file_menu.addMenu("Open &Example")
        for title, path in example_models():
            self.examples_menu.addAction(
                self._action(title, lambda _=False, p=path: self.open_path(p), tip=str(path))
            )
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        file_menu.addAction(self._action("Open a model to &compare…", self._open_compare))
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Save model", self.save, QKeySequence.StandardKey.Save))
        file_menu.addAction(
            self._action("Save model &as…", self.save_as, QKeySequence.StandardKey.SaveAs)
        )
        self.export_menu = ExportMenu(self.workspace, self)
        file_menu.addMenu(self.export_menu)
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", self.close, QKeySequence.StandardKey.Quit))
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self._action("&Guide", self.show_guide, QKeySequence("F1")))
        help_menu.addAction(self._action("&Keyboard shortcuts", self.show_shortcuts))
        help_menu.addAction(self._action("&README", self.show_readme))
        help_menu.addSeparator()
        help_menu.addAction(self._action("&About piecelab", self.show_about))

    def show_guide(self) -> None:
        TextDialog("piecelab guide", guide_text(), self).exec()

    def show_readme(self) -> None:
        TextDialog("piecelab README", readme_text(), self).exec()

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self, self).exec()

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About piecelab",
            f"piecelab {__version__}\nA workbench for byte-level Unigram vocabularies.\n\n"
            "Bundled: BytePiece's published 80k model (Apache-2.0, by Jianlin Su).",
        )

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
        path = Path(path)
        if not saving.confirm_replace(self, self.workspace):
            return False
        self._pending_recent = path.resolve()
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
        shown = ws.viewer
        title = f"piecelab — {ws.model_label}{star}" if shown is not None else "piecelab"
        self.setWindowTitle(title)
        if shown is not None:
            self.model_info.setText(f"{ws.model_label}: {shown.vocab_size:,} ids{star}")

    def say(self, text: str) -> None:
        """A message of a view: shown long enough to read, then it gives way."""
        self.statusBar().showMessage(text, MESSAGE_MS)

    def _preparing(self, p: Progress) -> None:
        """Progress of building the tokenizer: a bar beside the permanent fields, and
        words only when it compiles (so a view's message is not covered)."""
        done = p.done >= p.total
        self.preparing.setVisible(not done)
        self.preparing.setRange(0, int(p.total))
        self.preparing.setValue(int(p.done))
        compiling = not done and p.stage == COMPILING
        self.compiling.setVisible(compiling)
        if compiling:
            self.compiling.setText(
                f"{p.stage[:1].upper()}{p.stage[1:]}: {int(p.done)} of {int(p.total)} …"
            )

    def _model_changed(self) -> None:
        ws = self.workspace
        self._update_title()
        shown = ws.viewer
        assert shown is not None
        said = f"Opened {ws.model_label}: {shown.vocab_size:,} ids"
        if ws.vocabulary is not None:
            said += " · segmented by its own library; open a BytePiece model to edit"
        self.statusBar().showMessage(said)
        if self._pending_recent is not None and ws.model_path == self._pending_recent:
            self._add_recent(self._pending_recent)
        self._pending_recent = None

    def _model_failed(self, message: str) -> None:
        self.preparing.hide()
        self.compiling.hide()
        self._pending_recent = None
        self.statusBar().showMessage("Could not open the model")
        if self.interactive:
            QMessageBox.warning(self, "Could not open the model", readable_error(message))

    # ------------------------------------------------------------- saving, closing
    def save(self) -> bool:
        """Save to the model's own file (asks for one if it has none, or is a .zip)."""
        return saving.save(self, self.workspace)

    def save_as(self) -> bool:
        return saving.save_as(self, self.workspace)

    def _on_saved(self, path: str) -> None:
        """Whichever view saved: the title, the status bar and the recent files follow."""
        self._update_title()
        self.statusBar().showMessage(f"Saved {path}")
        self._add_recent(Path(path).resolve())

    def closeEvent(self, event) -> None:
        for i in range(self.tabs.count()):
            can_close = getattr(self.tabs.widget(i), "can_close", None)
            if can_close is not None and not can_close():
                event.ignore()
                return
        if not saving.confirm_replace(self, self.workspace, "closing"):
            event.ignore()
            return
        if self.interactive:  # the smoke test writes nothing
            self.save_geometry()
        event.accept()
