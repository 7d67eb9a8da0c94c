"""Editor beside side-by-side segmentation panes, updated as the user types.

The Playground tab holds the sampling controls (α, seed, number of samples),
the editor, and sub-tabs: the segmentation panes (one deterministic, N sampled),
the sampling distribution, the ids, and the comparison with a second model.
Hovering a token highlights its source span in the editor and in every pane.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QKeyEvent,
    QKeySequence,
    QPalette,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from ...engine import (
    Continuation,
    CutCheck,
    SamplingUnavailable,
    Segmentation,
    Tokenizer,
    Vocabulary,
    looks_like_model,
)
from ..state import Workspace
from ..widgets import debounce
from .compare_view import CompareView
from .controls import SamplingControls, shortcut_text
from .ids_view import IdsView
from .lattice_view import LatticeView
from .sampling_view import SamplingView
from .segmentation_pane import SegmentationPane
from .token_labels import display_label
from .token_view import TokenView

# Chinese and English that the published BytePiece 80k model cuts into words and
# common phrases (自然 语言 处理 … / Natural ·language ·processing …); under
# MAX_BYTES, so "Use editor selection" with nothing selected can take it whole
SAMPLE_TEXT = (
    "自然语言处理是计算机科学的一个重要领域。\n"
    "Natural language processing is an important field of computer science.\n"
    "人工智能正在改变我们的生活方式。Artificial intelligence is changing the way we live.\n"
)
DEBOUNCE_MS = 50
SAMPLE_LINES = 5  # each sampled pane shows at least this many lines; more panes scroll
CUT_MAX_BYTES = 50_000  # the continuation check follows the caret in texts up to this size
CUT_PIECES_SHOWN = 6
TAB_KEYS = QKeySequence("Ctrl+I")  # Ctrl+Tab would clash with switching tabs; ^I is a tab


class Editor(QPlainTextEdit):
    """The text editor: Tab moves focus on, Ctrl+I types a tab character.

    Model files dropped on it go to the main window instead.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setTabChangesFocus(True)  # keyboard users can leave the editor
        how = f"Tab moves to the next control; {shortcut_text(TAB_KEYS)} types a tab character."
        self.setPlaceholderText(f"Type or paste text to segment. {how}")
        self.setToolTip(f"The text to segment. {how}")
        self.tab_action = QAction("Type a tab character in the editor", self)
        self.tab_action.setShortcut(TAB_KEYS)
        self.tab_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.tab_action.triggered.connect(lambda: self.insertPlainText("\t"))
        self.addAction(self.tab_action)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # the action above fires in the active window (and lists the key in the shortcut
        # sheet); a Ctrl+I that reaches the editor as a plain key press types the tab here
        if QKeySequence(event.keyCombination()) == TAB_KEYS:
            self.insertPlainText("\t")
            return
        super().keyPressEvent(event)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        if source.hasUrls() and any(looks_like_model(u.toLocalFile()) for u in source.urls()):
            return False
        return super().canInsertFromMimeData(source)


class Playground(QWidget):
    refreshed = Signal()  # after every re-render of the panes (tests and benchmarks wait on it)
    tokenizerReady = Signal()  # a new model's kernels are warm and the panes show it
    previewShown = Signal()  # the panes show a model's preview while its kernels compile

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.tokenizer: Tokenizer | Vocabulary | None = None
        self.controls = SamplingControls()
        self.editor = Editor(SAMPLE_TEXT)
        self.viterbi = SegmentationPane("Deterministic (Viterbi)")
        self.samples: list[SegmentationPane] = []
        self.sample_scroll = self._sample_area()
        panes = QSplitter(Qt.Orientation.Horizontal)
        panes.addWidget(self.viterbi)
        panes.addWidget(self.sample_scroll)
        panes.setChildrenCollapsible(False)
        panes.setSizes([1000, 1000])  # half each: a scroll area asks for little width
        self.distribution = SamplingView()
        self.ids = IdsView()
        self.compare = CompareView(workspace)
        self.lattice = LatticeView(self.editor)  # built when its tab shows
        self.cut_label = QLabel()  # the continuation check at the caret
        self.cut_label.setWordWrap(True)
        self.cut_label.setMinimumHeight(2 * self.cut_label.fontMetrics().lineSpacing() + 4)
        self.cut_label.setToolTip(
            "Would a prompt cut at the caret end on a token boundary? The red strip under "
            "the deterministic tokens shows P(boundary) at every byte under the sampler at α."
        )
        segmentations = QWidget()
        box = QVBoxLayout(segmentations)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(panes, 1)
        box.addWidget(self.cut_label)
        self.tabs = QTabWidget()
        self.tabs.addTab(segmentations, "Segmentations")
        self.tabs.addTab(self.distribution, "Sampling distribution")
        self.tabs.addTab(self.ids, "Ids")
        self.tabs.addTab(self.compare, "Compare")
        self.tabs.addTab(self.lattice, "Lattice")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.editor)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([400, 600])  # the editor holds a readable paragraph from the start
        layout = QVBoxLayout(self)
        layout.addWidget(self.controls)
        layout.addWidget(split, 1)
        self._timer = debounce(self, DEBOUNCE_MS, self.refresh)
        self._stale: set[QWidget] = set()
        self._char_pos: np.ndarray | None = None
        self._cuts: CutCheck | None = None  # the continuation check of the shown text
        self._set_sample_count(1)
        self.editor.textChanged.connect(self._timer.start)
        self.editor.cursorPositionChanged.connect(self.show_cut)
        self.controls.changed.connect(self._controls_changed)
        self.tabs.currentChanged.connect(lambda _: self._refresh_current_sub_view())
        self.distribution.selection_button.clicked.connect(self._use_selection)
        self.viterbi.view.hovered.connect(self.highlight_span)
        self.compare.hovered.connect(self.highlight_span)
        workspace.modelChanged.connect(self._model_arrived)
        workspace.modelEdited.connect(self._model_arrived)
        workspace.previewReady.connect(self._preview_arrived)

    def _sample_area(self) -> QScrollArea:
        """The sampled panes, stacked in a scroll area: each keeps SAMPLE_LINES lines."""
        box = QWidget()
        self._sample_layout = QVBoxLayout(box)
        self._sample_layout.setContentsMargins(0, 0, 0, 0)
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        area.setWidget(box)
        area.setMinimumWidth(200)
        return area

    def focus_editor(self) -> None:
        """Keyboard focus to the editor, caret at the end: ready to type at start-up."""
        self.editor.moveCursor(QTextCursor.MoveOperation.End)
        self.editor.setFocus(Qt.FocusReason.OtherFocusReason)
        self.editor.ensureCursorVisible()

    # ------------------------------------------------------------- model
    def _model_arrived(self) -> None:
        """The workspace built and warmed a model (its kernels are compiled), or opened
        another library's vocabulary: show it."""
        tok = self.workspace.viewer
        if tok is not None:
            self.set_tokenizer(tok)

    def _preview_arrived(self) -> None:
        """A first start: show the model through its plain-Python preview until the
        compiled tokenizer arrives (the panes only; the sub-views wait for it)."""
        preview = self.workspace.preview_tokenizer
        if preview is None or self.workspace.tokenizer is not None:
            return
        self.tokenizer = preview
        self.refresh()
        self.previewShown.emit()

    @property
    def previewing(self) -> bool:
        """Whether the panes show a preview (the kernels are still being prepared)."""
        return getattr(self.tokenizer, "preview", False)

    def set_tokenizer(self, tok: Tokenizer | Vocabulary) -> None:
        """Show ``tok``'s segmentations (its kernels must already be compiled).

        Another library's vocabulary segments the panes itself; the sampling
        distribution needs piecelab's exact engine for it (SentencePiece Unigram).
        """
        self.tokenizer = tok
        native = self.workspace.native if isinstance(tok, Vocabulary) else None
        if isinstance(tok, Vocabulary):
            why = (
                f"The exact sampling distribution needs piecelab's engine, which runs "
                f"BytePiece and SentencePiece Unigram vocabularies; {tok.kind} is not one."
            )
            self.distribution.set_tokenizer(native, "" if native is not None else why)
        else:
            self.distribution.set_tokenizer(tok)
        self.compare.set_primary(tok)
        self.lattice.set_tokenizer(native if native is not None else tok)
        self.refresh()
        self.tokenizerReady.emit()

    # ------------------------------------------------------------- panes
    def _set_sample_count(self, n: int) -> None:
        while len(self.samples) < n:
            pane = SegmentationPane("Sampled")
            pane.set_minimum_lines(SAMPLE_LINES)
            pane.view.hovered.connect(self.highlight_span)
            self._sample_layout.addWidget(pane)
            self.samples.append(pane)
        while len(self.samples) > n:
            pane = self.samples.pop()
            pane.setParent(None)
            pane.deleteLater()
        self.sample_scroll.setVisible(n > 0)

    def _controls_changed(self) -> None:
        c = self.controls
        self.distribution.set_sampling(c.alpha, c.seed)
        self.refresh()

    def text(self) -> str:
        return self.editor.toPlainText()

    def refresh(self) -> None:
        """Re-segment the editor text into every pane (and the visible sub-view)."""
        self._timer.stop()
        self._char_pos = None
        tok = self.tokenizer
        c = self.controls
        self._set_sample_count(c.n_samples)
        if tok is None:
            return
        text = self.text()
        try:
            seg = tok.segment(text)
        except ValueError as exc:  # e.g. a lone surrogate pasted into the editor
            why = f"This text cannot be segmented: {exc}"
            if self.previewing:  # too long for the preview: the kernels will show it
                why = "Preparing the tokenizer (first start only); the panes follow shortly."
            for pane in (self.viterbi, *self.samples):
                pane.show_message(why)
            return
        self.viterbi.show_segmentation(seg, tok)
        self._cuts = self._text_cuts(tok, text, c.alpha)
        self.viterbi.view.set_boundaries(self._cuts.marginals if self._cuts else None)
        self.show_cut()
        for k, pane in enumerate(self.samples):
            seed = c.seed + k
            pane.set_title(f"Sampled (α={c.alpha:g}, seed {seed})")
            try:
                sample = tok.segment(text, alpha=c.alpha, seed=seed)
            except SamplingUnavailable as exc:
                pane.set_title("Sampled")
                pane.show_message(f"No sampling: {exc}.")
                continue
            except ValueError as exc:  # the preview samples only where the kernels are linear
                if not self.previewing:
                    raise
                pane.show_message(f"Preparing the tokenizer (first start only): {exc}")
                continue
            pane.show_segmentation(sample, tok, reference=seg, alpha=c.alpha)
        self._stale = {self.ids, self.compare}
        self._refresh_current_sub_view()
        self.refreshed.emit()

    def _text_cuts(self, tok: Tokenizer | Vocabulary, text: str, alpha: float) -> CutCheck | None:
        """Boundary probabilities and the cut check for the shown text, once per refresh
        (the caret then only looks them up): where piecelab's exact engine runs the
        kind (BytePiece, and SentencePiece Unigram through its normalizer's offsets)."""
        if self.previewing:
            return None
        try:
            return tok.cuts(text, max(alpha, 0.0))
        except ValueError:
            return None

    def cut_offset(self) -> int:
        """The caret as a byte offset of the editor text's UTF-8."""
        pos = self.editor.textCursor().position()
        head = self.text().encode("utf-16-le", "surrogatepass")[: 2 * pos]
        return len(head.decode("utf-16-le", "surrogatepass").encode("utf-8", "surrogatepass"))

    def show_cut(self) -> None:
        """The continuation check at the caret: is a prompt cut there a token boundary?"""
        tok, cuts = self.tokenizer, self._cuts
        if tok is None or cuts is None or cuts.text != self.text():
            self.cut_label.setText("")
            return
        if len(cuts.data) > CUT_MAX_BYTES:
            self.cut_label.setText(
                f"The continuation check follows the caret in texts up to {CUT_MAX_BYTES:,} bytes."
            )
            return
        self.cut_label.setText(cut_text(cuts.at(self.cut_offset()), len(cuts.data), tok))

    def _refresh_current_sub_view(self) -> None:
        w = self.tabs.currentWidget()
        if w not in self._stale or self.tokenizer is None or self.previewing:
            return
        self._stale.discard(w)
        c = self.controls
        if w is self.ids:
            self.ids.show_text(self.tokenizer, self.text(), c.alpha, c.seed)
        elif w is self.compare:
            self.compare.set_text(self.text())

    def sample_segmentations(self) -> list[Segmentation]:
        return [p.segmentation for p in self.samples if p.segmentation is not None]

    def _use_selection(self) -> None:
        """The editor's selection, or its whole text when nothing is selected."""
        text = self.editor.textCursor().selectedText().replace("\u2029", "\n")
        self.distribution.text_edit.setText(text or self.text())

    # ------------------------------------------------------------- hover links
    def views(self) -> list[TokenView]:
        return [self.viterbi.view, *(p.view for p in self.samples), *self.compare.views()]

    def highlight_span(self, start: int, end: int) -> None:
        """Highlight bytes ``[start, end)`` in every pane and in the editor (-1 clears)."""
        for v in self.views():
            v.set_highlight(start, end)
        seg = self.viterbi.segmentation
        sel: list[QTextEdit.ExtraSelection] = []
        text = self.text()
        if start >= 0 and seg is not None and end <= len(seg.data) and seg.text == text:
            cob = seg.char_of_byte
            c0, c1 = int(cob[start]), int(cob[end - 1]) + 1
            if self._char_pos is None:  # char index → UTF-16 position (astral chars count 2)
                wide = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32) > 0xFFFF
                self._char_pos = np.concatenate([[0], np.cumsum(wide + 1)])
            s = QTextEdit.ExtraSelection()
            cursor = QTextCursor(self.editor.document())
            cursor.setPosition(int(self._char_pos[c0]))
            cursor.setPosition(int(self._char_pos[c1]), QTextCursor.MoveMode.KeepAnchor)
            fmt = QTextCharFormat()
            color = QColor(self.palette().color(QPalette.ColorRole.Highlight))
            color.setAlpha(110)
            fmt.setBackground(color)
            s.cursor, s.format = cursor, fmt
            sel.append(s)
        self.editor.setExtraSelections(sel)

    def highlighted_editor_text(self) -> str:
        sel = self.editor.extraSelections()
        return sel[0].cursor.selectedText() if sel else ""


def cut_text(c: Continuation, n_bytes: int, tok: Tokenizer | Vocabulary) -> str:
    """The continuation check in words (rich text)."""

    def name(i: int) -> str:
        return html.escape(display_label(tok.id_to_piece(i)))

    where = f"Cut at the caret, byte {c.offset:,} of {n_bytes:,}: "
    if c.viterbi_token is None:
        where += "a boundary of the deterministic segmentation"
    else:
        where += f"<b>inside</b> ‘{name(c.viterbi_token[2])}’ (id {c.viterbi_token[2]})"
    prob = f"P(boundary | α={c.alpha:g}) = {c.probability:.4%}"
    ids = list(dict.fromkeys(i for _, _, i in c.straddling))
    if not ids:
        over = "no piece spans it"
    else:
        shown = ", ".join(f"‘{name(i)}’" for i in ids[:CUT_PIECES_SHOWN])
        more = f" (+{len(ids) - CUT_PIECES_SHOWN} more)" if len(ids) > CUT_PIECES_SHOWN else ""
        over = f"pieces over the cut: {shown}{more}"
    note = f" · <i>{html.escape(c.note)}</i>" if c.note else ""
    return f"{where} · {prob} · {over}{note}"
