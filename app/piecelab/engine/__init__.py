"""piecelab's engine: models, tokenizer, corpora and trainer. No Qt, ever.

These names are the engine's public API: the GUI and the command line import
from here only (an import-linter contract in pyproject.toml checks it), so the
modules behind them can be rearranged freely.
"""

# first: numba's cache stamps must cover the whole engine before any kernel is defined
from . import kernel_cache  # noqa: F401  (installs on import)
from .corpus import (
    Corpus,
    CorpusError,
    CorpusOptions,
    Problem,
    SourceStats,
    is_heldout,
    problem_summary,
)
from .corpus_scan import (
    CorpusIdentity,
    ScanResult,
    corpus_identity,
    line_context,
    preview_sources,
    scan_corpus,
)
from .edit import (
    EditError,
    IdShift,
    add_piece,
    delete_pieces,
    estimate_count,
    id_shift,
    parse_count,
    retire_pieces,
    set_count,
    unreachable,
)
from .evaluation import Evaluation, evaluate, sample_documents
from .events import (
    Cancelled,
    Event,
    Log,
    Metric,
    Progress,
    Rate,
    StageDone,
    Throttle,
    clock,
    human,
    rate_text,
)
from .exporters import EXPORT_KINDS, export, export_hf, export_sentencepiece
from .formats import (
    KINDS,
    FormatError,
    Piece,
    SamplingUnavailable,
    Spans,
    Vocabulary,
    load,
    load_bytes,
    read_vocabulary,
)
from .model import (
    MAX_MODEL_BYTES,
    MAX_PIECE_BYTES,
    N_SPECIAL,
    SPECIALS,
    Model,
    ModelFormatError,
    atomic_write,
    load_model,
)
from .model_files import (
    MODEL_FILE_FILTER,
    MODEL_SUFFIXES,
    has_model_name,
    is_bytepiece_file,
    looks_like_model,
)
from .ngrams import MAX_ORDER
from .normalize import TextEncodingError
from .preview import MAX_PREVIEW_BYTES, PreviewTokenizer
from .render import (
    format_prob,
    hex_bytes,
    is_complete,
    parse_ids,
    parse_piece,
    piece_label,
)
from .search import Hit, concordance, mark_emitted
from .segmentation import Segmentation, Token
from .settings import MIN_VOCAB_SIZE, TrainSettings, parse_sizes
from .stats import chi2_sf, goodness_of_fit
from .tokenizer import Tokenizer, UnknownIdError, UnknownPieceError
from .trainer import Trainer, TrainResult
from .vocab_columns import (
    SCRIPTS,
    VocabColumns,
    VocabFilter,
    compact_count,
    compile_regex,
    filter_mask,
    script_classes,
)
from .warmup import COMPILING, PREPARING, build_tokenizer

__all__ = [
    "COMPILING",
    "EXPORT_KINDS",
    "KINDS",
    "MAX_MODEL_BYTES",
    "MAX_ORDER",
    "MAX_PIECE_BYTES",
    "MAX_PREVIEW_BYTES",
    "MIN_VOCAB_SIZE",
    "MODEL_FILE_FILTER",
    "MODEL_SUFFIXES",
    "N_SPECIAL",
    "PREPARING",
    "SCRIPTS",
    "SPECIALS",
    "Cancelled",
    "Corpus",
    "CorpusError",
    "CorpusIdentity",
    "CorpusOptions",
    "EditError",
    "Evaluation",
    "Event",
    "FormatError",
    "Hit",
    "IdShift",
    "Log",
    "Metric",
    "Model",
    "ModelFormatError",
    "Piece",
    "PreviewTokenizer",
    "Problem",
    "Progress",
    "Rate",
    "SamplingUnavailable",
    "ScanResult",
    "Segmentation",
    "SourceStats",
    "Spans",
    "StageDone",
    "TextEncodingError",
    "Throttle",
    "Token",
    "Tokenizer",
    "TrainResult",
    "TrainSettings",
    "Trainer",
    "UnknownIdError",
    "UnknownPieceError",
    "VocabColumns",
    "VocabFilter",
    "Vocabulary",
    "add_piece",
    "atomic_write",
    "build_tokenizer",
    "chi2_sf",
    "clock",
    "compact_count",
    "compile_regex",
    "concordance",
    "corpus_identity",
    "delete_pieces",
    "estimate_count",
    "evaluate",
    "export",
    "export_hf",
    "export_sentencepiece",
    "filter_mask",
    "format_prob",
    "goodness_of_fit",
    "has_model_name",
    "hex_bytes",
    "human",
    "id_shift",
    "is_bytepiece_file",
    "is_complete",
    "is_heldout",
    "line_context",
    "load",
    "load_bytes",
    "load_model",
    "looks_like_model",
    "mark_emitted",
    "parse_count",
    "parse_ids",
    "parse_piece",
    "parse_sizes",
    "piece_label",
    "preview_sources",
    "problem_summary",
    "rate_text",
    "read_vocabulary",
    "retire_pieces",
    "sample_documents",
    "scan_corpus",
    "script_classes",
    "set_count",
    "unreachable",
]
