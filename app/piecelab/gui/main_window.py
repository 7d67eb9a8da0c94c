"""The main window: menus, the views as tabs, status bar."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from .._version import __version__
from ..paths import icon_path
from .playground import Playground
from .state import Workspace

MODEL_FILTER = "BytePiece models (*.model *.json *.zip);;All files (*)"


def _placeholder(text: str) -> QWidget:
    w = QWidget()
    layout = QVBoxLayout(w)
    label = QLabel(text)
    label.setWordWrap(True)
    layout.addWidget(label)
    layout.addStretch(1)
    return w


class MainWindow(QMainWindow):
    def __init__(self, workspace: Workspace | None = None) -> None:
        super().__init__()
        self.workspace = workspace or Workspace(self)
        self.setWindowTitle("piecelab")
        self.setWindowIcon(QIcon(str(icon_path())))
        self.resize(1200, 760)
        self.tabs = QTabWidget()
        self.playground = Playground(self.workspace)
        self.tabs.addTab(self.playground, "Playground")
        self.tabs.addTab(_placeholder("Corpus sources will be listed here."), "Corpus")
        self.tabs.addTab(_placeholder("Training parameters and live charts."), "Train")
        self.tabs.addTab(_placeholder("The vocabulary inspector."), "Vocabulary")
        self.setCentralWidget(self.tabs)
        self._build_menus()
        self.workspace.modelLoading.connect(
            lambda p: self.statusBar().showMessage(f"Loading {p} …")
        )
        self.workspace.modelChanged.connect(self._model_changed)
        self.workspace.modelFailed.connect(self._model_failed)
        self.statusBar().showMessage("Ready")

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_action = QAction("&Open model…", self)
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self.open_model_dialog)
        file_menu.addAction(open_action)
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

    def open_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", "", MODEL_FILTER)
        if path:
            self.workspace.open_model(path)

    def _model_changed(self) -> None:
        ws = self.workspace
        name = Path(ws.model_path).name if ws.model_path else "model"
        self.setWindowTitle(f"piecelab — {name}")
        self.statusBar().showMessage(f"{name}: {ws.tokenizer.vocab_size:,} ids")

    def _model_failed(self, message: str) -> None:
        self.statusBar().showMessage("Could not open the model")
        QMessageBox.warning(self, "Could not open the model", message)
