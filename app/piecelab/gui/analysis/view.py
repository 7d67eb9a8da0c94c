"""The Analysis view: two tabs, "Cost per group" and "Vocabulary diff"."""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from ..state import Workspace
from .cost import CostPanel
from .diff_panel import DiffPanel


class AnalysisView(QWidget):
    """What vocabularies cost each group of the corpus, and how two vocabularies differ."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.cost = CostPanel(workspace)
        self.diff = DiffPanel(workspace)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.cost, "Cost per group")
        self.tabs.addTab(self.diff, "Vocabulary diff")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
