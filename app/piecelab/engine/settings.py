"""The settings of a training run, in one place for the CLI, the GUI and the training process."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from .model import N_SPECIAL
from .ngrams import MAX_ORDER
from .trainer import MAX_CURVE, Trainer

if TYPE_CHECKING:
    from .cluster import RayExecutor

MIN_VOCAB_SIZE = N_SPECIAL + 256  # every byte, plus the special ids


def parse_sizes(text: str) -> tuple[int, ...]:
    """Vocabulary sizes from ``"8000, 16_000,32000"``; ValueError says what is wrong."""
    try:
        sizes = tuple(int(s.strip().replace("_", "")) for s in text.split(",") if s.strip())
    except ValueError:
        raise ValueError(f"vocabulary sizes: not a list of whole numbers: {text!r}") from None
    if not sizes:
        raise ValueError("vocabulary sizes: give at least one size")
    return sizes


@dataclass(frozen=True)
class TrainSettings:
    """BytePiece's training parameters and how to run them (picklable, Qt-free).

    The held-out share is not here: it is how the corpus is read
    (:class:`~piecelab.engine.corpus.CorpusOptions`), shared with evaluation.
    """

    order: int = 6
    vocab_sizes: tuple[int, ...] = (32000,)
    min_count: int = 2
    max_piece_length: int = 36
    isolate_digits: bool = False
    ensure_unicode: bool = True
    workers: int = 1
    reestimate: bool = False
    curve: int = 0  # compression-curve points (0: none; else 2 to MAX_CURVE)
    cluster: str = ""  # "": this machine's threads; "local" or an address: a Ray cluster
    MAX_CURVE: ClassVar[int] = MAX_CURVE

    def __post_init__(self) -> None:
        object.__setattr__(self, "vocab_sizes", tuple(int(s) for s in self.vocab_sizes))

    def validate(self) -> TrainSettings:
        """Raise ValueError naming the first setting that cannot train; else self."""
        if not 1 <= self.order <= MAX_ORDER:
            raise ValueError(f"order must be between 1 and {MAX_ORDER}, got {self.order}")
        if not self.vocab_sizes or min(self.vocab_sizes) < MIN_VOCAB_SIZE:
            raise ValueError(
                f"every vocabulary size must be at least {MIN_VOCAB_SIZE} "
                f"(256 bytes + {N_SPECIAL} special ids)"
            )
        if self.min_count < 1:
            raise ValueError(f"min count must be at least 1, got {self.min_count}")
        if self.max_piece_length < 1:
            raise ValueError(f"max piece length must be at least 1, got {self.max_piece_length}")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.curve != 0 and not 2 <= self.curve <= MAX_CURVE:
            raise ValueError(f"curve points must be 0 (none) or 2 to {MAX_CURVE}, got {self.curve}")
        return self

    def trainer(self, **extra: object) -> Trainer:
        """A :class:`Trainer` with these parameters (``extra``: e.g. ``ngram_memory``)."""
        self.validate()
        return Trainer(
            order=self.order,
            max_vocab_size=list(self.vocab_sizes),
            max_piece_length=self.max_piece_length,
            min_count=self.min_count,
            isolate_digits=self.isolate_digits,
            ensure_unicode=self.ensure_unicode,
            curve=self.curve,
            **extra,  # type: ignore[arg-type]
        )

    def executor(self) -> RayExecutor | None:
        """Where the counting passes run: None for this machine's threads."""
        if not self.cluster.strip():
            return None
        from .cluster import RayExecutor

        return RayExecutor(self.cluster.strip(), workers=self.workers)

    @property
    def where_text(self) -> str:
        address = self.cluster.strip()
        if not address:
            return "this machine"
        return "a local Ray" if address == "local" else f"the Ray cluster at {address}"

    def replace(self, **changes: object) -> TrainSettings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def sizes_text(self) -> str:
        return ",".join(str(s) for s in self.vocab_sizes)
