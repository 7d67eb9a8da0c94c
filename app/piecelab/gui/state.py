"""The one workspace object: model, tokenizer, corpus, training runs; emits changes.

Widgets bind to this and tests assert on it, not on pixels.  Anything slow (a
model load, a tokenizer rebuild after an edit) runs on a worker thread and
arrives back here as a signal, so the GUI thread never blocks on the engine.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..engine import (
    WARM_TEXT,
    Corpus,
    CorpusIdentity,
    CorpusOptions,
    Model,
    PreviewTokenizer,
    Progress,
    Tokenizer,
    TrainSettings,
    Vocabulary,
    atomic_write,
    build_tokenizer,
    load,
    read_vocabulary,
    run_kernels_once,
    sample_documents,
)
from .worker import Job, Latest, Task, run_in_thread

SHORT_SHARE = 0.99  # a model under this share of its asked size: the corpus was too small


@dataclass
class TrainingRun:
    """One training run of this session: its settings and results, for overlays."""

    name: str
    settings: TrainSettings
    heldout_share: float  # of the corpus, held out for the figures below
    heldout: dict[int, float] = field(default_factory=dict)  # vocab size → bytes/token
    prune_points: list[tuple[float, float]] = field(default_factory=list)
    models: dict[int, Model] = field(default_factory=dict)  # keyed by the *asked* size
    elapsed: float = 0.0
    cancelled: bool = False
    corpus: CorpusIdentity | None = None  # what it read (None: documents handed to it)

    def reached(self) -> dict[int, int]:
        """Asked size → the size its model really has (smaller when the corpus had too
        few pieces): what charts, tables and lists show."""
        return {asked: model.vocab_size for asked, model in self.models.items()}

    def short(self) -> dict[int, int]:
        """The asked sizes the corpus could not give, with what it gave instead.

        Pruning to a size then drops the pieces the smaller vocabulary never
        outputs, as BytePiece does, so a model may end a few ids short (under 1%):
        that is not a size the corpus could not give.
        """
        return {asked: got for asked, got in self.reached().items() if got < asked * SHORT_SHARE}

    def heldout_points(self) -> list[tuple[int, float]]:
        """(real size, held-out bytes/token), by size."""
        reached = self.reached()
        return sorted((reached.get(asked, asked), b) for asked, b in self.heldout.items())


KEEP_PATH = object()  # set_model(): stay attached to the current file


class Workspace(QObject):
    modelLoading = Signal(str)
    previewReady = Signal()  # a plain-Python preview of the model loading (short texts)
    preparing = Signal(object)  # Progress of building the model's tokenizer
    modelChanged = Signal()  # a different model was opened (or a run's model adopted)
    modelEdited = Signal()  # the current vocabulary changed by hand; tokenizer rebuilt
    modelFailed = Signal(str)
    dirtyChanged = Signal(bool)
    saved = Signal(str)  # the model was written to this file (any view's Save)
    compareChanged = Signal()
    compareFailed = Signal(str)  # model B could not be opened (Compare shows why)
    corpusChanged = Signal()
    runsChanged = Signal()
    message = Signal(str)  # something the user should read in the status bar

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model: Model | None = None  # the BytePiece model being edited
        self.tokenizer: Tokenizer | None = None
        # instead of a model: another library's vocabulary (read-only), and piecelab's
        # engine for it where exact (SentencePiece Unigram: exact sampling, top-k)
        self.vocabulary: Vocabulary | None = None
        self.native: Tokenizer | None = None
        self.preview_tokenizer: PreviewTokenizer | None = None  # until ``tokenizer`` is ready
        self.model_path: Path | None = None
        self.model_label = ""  # what a model without a file is called (e.g. "run 2, 16,000")
        self.compare_tokenizer: Tokenizer | Vocabulary | None = None
        self.compare_path: Path | None = None
        self.corpus_paths: list[Path] = []
        self.corpus_options = CorpusOptions()
        # two threads where there are two cores: the Train view's starting point
        self.train_settings = TrainSettings(workers=min(2, os.cpu_count() or 1))
        self.runs: list[TrainingRun] = []
        self.pinned: set[bytes] = set()
        self.dirty = False  # the model differs from its file, or has none yet
        self.has_edits = False  # ...because of edits by hand (not a fresh, unsaved run)
        self.saved_model: Model | None = None  # the model as read from / written to its file
        self.loading = False
        self._model_requests = Latest()
        self._compare_requests = Latest()
        # an editable vocabulary (SentencePiece Unigram) per model of its edit history,
        # so undo and redo bring back the exact file, not one rebuilt from counts
        self._versions: dict[int, tuple[Model, Vocabulary]] = {}

    # ------------------------------------------------------------------ model
    @property
    def viewer(self) -> Tokenizer | Vocabulary | None:
        """What segments text for the views: the model's tokenizer, or the vocabulary."""
        return self.vocabulary if self.vocabulary is not None else self.tokenizer

    @property
    def kind(self) -> str:
        return self.vocabulary.kind if self.vocabulary is not None else "bytepiece"

    @property
    def editable_vocabulary(self) -> bool:
        """Another library's vocabulary that hand edits apply to (SentencePiece Unigram)."""
        return self.vocabulary is not None and self.model is not None

    def open_model(self, path: str | Path) -> None:
        """Load a model in the background: a preview first, then the compiled tokenizer.

        Another library's vocabulary (told by content) segments through its own
        library; it is read-only unless piecelab's engine runs it exactly and edits
        can be written back (SentencePiece Unigram).
        """
        path = Path(path)
        self.modelLoading.emit(str(path))
        self.loading = True
        ticket = self._model_requests.ticket()

        def read(task: Task) -> Model | tuple[Vocabulary, Tokenizer | None]:
            found = read_vocabulary(path)
            if isinstance(found, Model):
                return found
            return found, _ready_native(found, task.report)

        def opened(found: Model | tuple[Vocabulary, Tokenizer | None]) -> None:
            if isinstance(found, Model):
                self._load(found, path, edited=False, label=path.name)
            else:
                self._adopt_vocabulary(*found, path)

        self._preparing_job(read, opened, ticket)  # a native engine's kernels, with progress

    def _adopt_vocabulary(self, vocab: Vocabulary, native: Tokenizer | None, path: Path) -> None:
        """Another library's vocabulary becomes the model: editable where piecelab's
        engine runs it and edits carry into its file (``vocab.editable``), else read-only."""
        self.loading = False
        self.preview_tokenizer = None
        self.vocabulary, self.native = vocab, native
        editable = native is not None and getattr(vocab, "editable", False)
        self.tokenizer = native if editable else None
        self.model = self.saved_model = native.model if editable and native else None
        self._versions.clear()
        if self.model is not None:
            self._versions[id(self.model)] = (self.model, vocab)
        self.model_path = path
        self.model_label = path.name if editable else f"{path.name} ({vocab.kind}, read-only)"
        self.has_edits = False
        self._set_dirty(False)
        self.pinned.clear()
        self.modelChanged.emit()

    def set_model(
        self,
        model: Model,
        path: Path | object | None = KEEP_PATH,
        edited: bool = True,
        label: str = "",
    ) -> None:
        """Adopt an in-memory model (an edit, or a freshly trained one).

        ``path`` is the file it belongs to: by default the current one (an edit),
        ``None`` for a model with no file yet (Save then asks where); ``label``
        names a model without a file in the title (an edit keeps the current one).
        """
        keep_path = self.model_path if path is KEEP_PATH else path
        keep_label = self.model_label if path is KEEP_PATH and not label else label
        self._load(model, keep_path, edited=edited, label=keep_label)

    def _load(self, source: Model | Path, path: Path | None, edited: bool, label: str) -> None:
        """Build ``source``'s tokenizer off the GUI thread.  Before any tokenizer exists
        (first start: the kernels may need compiling) a preview comes first."""
        self.loading = True
        ticket = self._model_requests.ticket()
        adopt = (path, edited, label)
        if self.tokenizer is not None:
            self._build(source, adopt, ticket)
            return

        def preview() -> PreviewTokenizer:
            return PreviewTokenizer(source if isinstance(source, Model) else Model.load(source))

        def shown(prev: PreviewTokenizer) -> None:
            self.preview_tokenizer = prev
            self.previewReady.emit()
            self._build(prev.model, adopt, ticket)

        run_in_thread(preview, shown, self._failed, self, self._model_requests, ticket)

    def _build(self, source: Model | Path, adopt: tuple, ticket: int) -> None:
        if self.editable_vocabulary and isinstance(source, Model) and adopt[1]:  # an edit
            self._build_edit(source, adopt, ticket)
            return
        self._preparing_job(
            lambda task: build_tokenizer(source, task.report),
            lambda tok: self._adopt(tok, *adopt),
            ticket,
        )

    def _preparing_job(self, work: Callable, done: Callable, ticket: int) -> None:
        """``work(task)`` on the pool, its progress shown as the model's preparation
        (compiling, on a first start); ``done(result)`` unless a newer model was asked for."""
        job = Job(work, self, self._model_requests, ticket)
        job.progress.connect(self.preparing)
        job.succeeded.connect(done)
        job.failed.connect(self._failed)
        job.auto_delete = True
        job.start()

    def _build_edit(self, after: Model, adopt: tuple, ticket: int) -> None:
        """An edit of an editable vocabulary: its file is rewritten (off the GUI thread)
        and run by its library again; the model stays ``after``, the edit's own object."""
        known = self._versions.get(id(after))
        vocab, before = self.vocabulary, self.model
        assert vocab is not None and before is not None

        def work() -> tuple[Vocabulary, Tokenizer | None]:
            if known is not None and known[0] is after:  # undo, redo: the exact file again
                new = known[1]
            else:
                new = vocab.edited(before, after)  # type: ignore[attr-defined]
            return new, _ready_native(new, warm=False)  # its kernels ran when it was opened

        def done(result: tuple[Vocabulary, Tokenizer | None]) -> None:
            new, native = result
            self._versions[id(after)] = (after, new)
            self.vocabulary, self.native = new, native
            self._adopt(native, *adopt, model=after)  # type: ignore[arg-type]

        run_in_thread(work, done, self._failed, self, self._model_requests, ticket)

    def _adopt(
        self,
        tok: Tokenizer,
        path: Path | None,
        edited: bool,
        label: str,
        model: Model | None = None,
    ) -> None:
        self.loading = False
        self.preview_tokenizer = None
        if model is None:  # a BytePiece model: no other library's vocabulary any more
            self.vocabulary = self.native = None
            self._versions.clear()
        self.tokenizer = tok
        self.model = model if model is not None else tok.model
        self.model_path = path
        self.model_label = label or (path.name if path is not None else "unsaved model")
        if not edited:  # opened from a file, or a model new to this session (no file yet)
            self.saved_model = self.model if path is not None else None
        # an undo back to the saved model is clean again: models are compared by identity
        self.has_edits = edited and self.model is not self.saved_model
        self._set_dirty(self.model is not self.saved_model)
        if edited:
            self.modelEdited.emit()
        else:
            self.pinned.clear()
            self.modelChanged.emit()

    def _failed(self, message: str) -> None:
        self.loading = False
        self.modelFailed.emit(message)

    def say(self, text: str) -> None:
        """Show ``text`` in the status bar (views have no status bar of their own)."""
        self.message.emit(text)

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self.dirty:
            self.dirty = dirty
            self.dirtyChanged.emit(dirty)

    def save_model(self, path: str | Path | None = None) -> Path:
        """Atomic save (temporary file + rename); clears the unsaved flag.  An edited
        SentencePiece model is saved as a SentencePiece model."""
        if self.model is None:
            raise ValueError("no model to save")
        target = Path(path) if path is not None else self.model_path
        if target is None or target.suffix.lower() == ".zip":
            raise ValueError("choose a .model file to save to")
        if self.vocabulary is not None:
            atomic_write(target, self.vocabulary.raw)  # type: ignore[attr-defined]
        else:
            self.model.save(target)
        self.model_path = target
        self.model_label = target.name
        self.saved_model = self.model
        self.has_edits = False
        self._set_dirty(False)
        self.saved.emit(str(target))
        return target

    def open_compare_model(self, path: str | Path) -> None:
        """Open any vocabulary file as model B: a BytePiece model gets piecelab's warmed
        tokenizer, the field's kinds segment through their own library."""
        path = Path(path)

        def build() -> Tokenizer | Vocabulary:
            vocab = load(path)
            native = vocab.native() if vocab.kind == "bytepiece" else None
            return vocab if native is None else build_tokenizer(native.model)

        def done(tok: Tokenizer | Vocabulary) -> None:
            self.compare_tokenizer, self.compare_path = tok, path
            self.compareChanged.emit()

        run_in_thread(build, done, self.compareFailed.emit, self, self._compare_requests)

    # ------------------------------------------------------------------ corpus
    def set_corpus(self, paths: list[Path], options: CorpusOptions | None = None) -> None:
        self.corpus_paths = [Path(p) for p in paths]
        if options is not None:
            self.corpus_options = options
        self.corpusChanged.emit()

    def add_corpus(self, paths: list[str | Path]) -> None:
        new = [Path(p) for p in paths if Path(p) not in self.corpus_paths]
        if new:
            self.set_corpus(self.corpus_paths + new)

    def remove_corpus(self, path: str | Path) -> None:
        self.set_corpus([p for p in self.corpus_paths if p != Path(path)])

    def open_corpus(self) -> Corpus:
        """A fresh streaming view of the current corpus (the caller closes it)."""
        return Corpus([str(p) for p in self.corpus_paths], self.corpus_options)

    def read_documents(
        self, max_documents: int, split: str = "all", max_chars: int = 1 << 62
    ) -> list[str]:
        """The first documents of ``split`` (none without a corpus); for worker threads."""
        if not self.corpus_paths:
            return []
        with self.open_corpus() as corpus:
            return sample_documents(corpus.documents(split), max_documents, max_chars)

    # ------------------------------------------------------------------ runs
    def add_run(self, run: TrainingRun) -> None:
        self.runs.append(run)
        self.runsChanged.emit()


def _ready_native(
    vocab: Vocabulary, report: Callable[[Progress], None] = lambda p: None, warm: bool = True
) -> Tokenizer | None:
    """``vocab``'s native engine, built; with ``warm`` every kernel the GUI calls run
    once (the boundary strip's too), on the caller's worker thread: none compiles on
    the GUI thread later (an edited vocabulary's engine needs no more than building)."""
    native = vocab.native()
    if native is None:
        return None
    if not warm:
        native.wait_ready()
        return native
    run_kernels_once(native, report)
    with contextlib.suppress(ValueError):  # the strip: "ﬁ" is two characters after NFKC
        cuts = vocab.cuts(WARM_TEXT + "a ﬁ", 0.5)
        if cuts is not None:
            cuts.at(1)  # and the caret's check
    return native
