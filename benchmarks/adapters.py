"""One small adapter per tokenizer, so the worker measures them all the same way.

Each adapter trains (``trainer(...)``) and loads (``load(path)``) its tokenizer; a
loaded tokenizer gives ``encode``/``decode`` for the round trip and, through
``mode(name)``, a callable over a list of documents for each timed mode:

* ``encode``  per-document call returning ids (the common, cheapest output)
* ``tokenize`` per-document call returning pieces (piecelab/BytePiece: bytes objects)
* ``sample`` / ``tokenize_sample``  the same with subword sampling at α (Unigram only)
* ``batch`` / ``batch1``  the library's batch API with 2 / 1 worker threads
* ``whole``  piecelab only: one tokenize() call over the whole file (kernel-bound)

A mode a library does not offer is ``None`` and shows as n/a, never as a substitute.
"""

from __future__ import annotations

import importlib
from importlib import metadata
from pathlib import Path

from bench_data import NL_ESCAPE, write_sentencepiece_file

ORDER = 6
MIN_COUNT = 2

# SentencePiece: identity normalization and no whitespace rewriting, so its input is
# the document itself; byte_fallback makes it lossless on unseen characters.  The
# split/whitespace flags are each model type's best held-out bytes/token on the first
# 6 MB (see README.md): Unigram splits at whitespace but may keep whitespace-only
# pieces (indentation); BPE may merge across whitespace, as BytePiece and piecelab do.
SP_COMMON = {
    "normalization_rule_name": "identity",
    "add_dummy_prefix": False,
    "remove_extra_whitespaces": False,
    "byte_fallback": True,
    "character_coverage": 1.0,
    "allow_whitespace_only_pieces": True,
    "max_sentence_length": 1 << 24,
    "input_sentence_size": 0,
    "shuffle_input_sentence": False,
    "minloglevel": 1,
}
SP_TYPE = {
    "unigram": {"model_type": "unigram", "split_by_whitespace": True},
    "bpe": {"model_type": "bpe", "split_by_whitespace": False},
}
HF_SPECIALS = ["<pad>", "<bos>", "<eos>"]  # the same 3 reserved ids as BytePiece


def _per_doc(f):
    def run(docs):
        for d in docs:
            f(d)

    return run


def _whole_text(f):
    """One call over every document joined by newlines (joined once, outside the timing
    after the first pass): throughput without the per-call cost of short documents."""
    joined: dict[int, str] = {}

    def run(docs):
        text = joined.get(id(docs))
        if text is None:
            joined.clear()
            text = joined[id(docs)] = "\n".join(docs)
        f(text)

    return run


# ------------------------------------------------------------------ piecelab
class PiecelabTok:
    def __init__(self, path: str) -> None:
        from piecelab import Tokenizer

        self.t = Tokenizer(path)
        self.t.wait_ready()  # on an empty numba cache: time the kernels, not the preview

    def vocab_size(self) -> int:
        return int(self.t.vocab_size)

    def encode(self, doc: str) -> list[int]:
        return self.t.encode(doc)

    def decode(self, ids: list[int]) -> str:
        return self.t.decode(ids)

    def mode(self, name: str, alpha: float, workers: int):
        t = self.t
        return {
            "encode": _per_doc(t.encode),
            "tokenize": _per_doc(t.tokenize),
            "whole": _whole_text(t.tokenize),
            "sample": _per_doc(lambda d: t.encode(d, alpha=alpha)),
            "tokenize_sample": _per_doc(lambda d: t.tokenize(d, alpha=alpha)),
            "batch": lambda docs: t.tokenize_batch(docs, workers=workers),
            "batch1": lambda docs: t.tokenize_batch(docs, workers=1),
        }.get(name)


class PiecelabTrainer:
    def __init__(self, sizes: list[int], workers: int, reestimate: bool) -> None:
        from piecelab.engine.trainer import Trainer

        self.sizes, self.workers, self.reestimate = sizes, workers, reestimate
        arg = sizes if len(sizes) > 1 else sizes[0]
        self.t = Trainer(order=ORDER, max_vocab_size=arg, min_count=MIN_COUNT)

    def prepare(self, docs, out_dir: Path) -> None:
        pass

    def train(self, docs) -> None:
        self.t.train(docs, workers=self.workers, reestimate=self.reestimate)

    def save(self, out_dir: Path) -> dict:
        paths = self.t.save(out_dir / "piecelab.model")
        by_size = dict(zip(self.t.max_vocab_size, paths))
        return {
            s: {"path": str(by_size[s]), "vocab_size": int(self.t.models[s].vocab_size)}
            for s in self.sizes
        }


# ------------------------------------------------------------------ BytePiece
class BytePieceTok(PiecelabTok):
    def __init__(self, path: str) -> None:
        from bytepiece import Tokenizer

        self.t = Tokenizer(str(path))

    def mode(self, name: str, alpha: float, workers: int):
        if name in ("batch", "batch1"):
            return None  # BytePiece 0.6.3 has no batch API
        return super().mode(name, alpha, workers)


class BytePieceTrainer(PiecelabTrainer):
    def __init__(self, sizes: list[int], workers: int, reestimate: bool) -> None:
        if reestimate:
            raise ValueError("BytePiece has no re-estimation pass")
        from bytepiece import Trainer

        self.sizes, self.workers = sizes, workers
        arg = sizes if len(sizes) > 1 else sizes[0]
        self.t = Trainer(order=ORDER, max_vocab_size=arg, min_count=MIN_COUNT)

    def train(self, docs) -> None:
        self.t.train(docs, workers=self.workers, batch_size=1000)

    def save(self, out_dir: Path) -> dict:
        base = out_dir / "bytepiece.model"
        self.t.save(str(base))
        order = self.t.max_vocab_size  # largest first, like self.t.pieces
        out = {}
        for s, pieces in zip(order, self.t.pieces):
            path = base if len(order) == 1 else Path(f"{base}.{s}")
            out[s] = {"path": str(path), "vocab_size": len(pieces) + 3}
        return out


# ------------------------------------------------------------------ SentencePiece
class SentencePieceTok:
    def __init__(self, path: str) -> None:
        import sentencepiece as spm

        self.sp = spm.SentencePieceProcessor(model_file=str(path))
        self.unigram = "unigram" in Path(path).name

    def vocab_size(self) -> int:
        return int(self.sp.get_piece_size())

    def encode(self, doc: str) -> list[int]:
        return self.sp.encode(doc.replace("\n", NL_ESCAPE))

    def decode(self, ids: list[int]) -> str:
        return self.sp.decode(ids).replace(NL_ESCAPE, "\n")

    def mode(self, name: str, alpha: float, workers: int):
        sp = self.sp

        def esc(d):
            return d.replace("\n", NL_ESCAPE)

        modes = {
            "encode": _per_doc(lambda d: sp.encode(esc(d))),
            "tokenize": _per_doc(lambda d: sp.encode(esc(d), out_type=str)),
            "batch": lambda docs: sp.encode([esc(d) for d in docs], num_threads=workers),
            "batch1": lambda docs: sp.encode([esc(d) for d in docs], num_threads=1),
        }
        if self.unigram:  # BPE "sampling" is BPE-dropout, a different thing: not compared
            kw = {"enable_sampling": True, "alpha": alpha, "nbest_size": -1}
            modes["sample"] = _per_doc(lambda d: sp.encode(esc(d), **kw))
            modes["tokenize_sample"] = _per_doc(lambda d: sp.encode(esc(d), out_type=str, **kw))
        return modes.get(name)


class SentencePieceTrainer:
    model_type = "unigram"

    def __init__(self, sizes: list[int], workers: int, reestimate: bool) -> None:
        if len(sizes) != 1 or reestimate:
            raise ValueError("SentencePiece trains one size per run, without re-estimation")
        import sentencepiece  # noqa: F401  (fail early if it is missing)

        self.size, self.workers = sizes[0], workers

    def prepare(self, docs, out_dir: Path) -> None:
        self.txt = out_dir / "train.txt"
        write_sentencepiece_file(docs, self.txt)
        self.prefix = out_dir / f"sp-{self.model_type}"

    def train(self, docs) -> None:
        import sentencepiece as spm

        spm.SentencePieceTrainer.train(
            input=str(self.txt),
            model_prefix=str(self.prefix),
            vocab_size=self.size,
            num_threads=self.workers,
            **SP_COMMON,
            **SP_TYPE[self.model_type],
        )

    def save(self, out_dir: Path) -> dict:
        self.txt.unlink(missing_ok=True)
        path = f"{self.prefix}.model"
        return {self.size: {"path": path, "vocab_size": SentencePieceTok(path).vocab_size()}}


class SentencePieceBpeTrainer(SentencePieceTrainer):
    model_type = "bpe"


# ------------------------------------------------------------------ HF tokenizers
class HfTok:
    def __init__(self, path: str) -> None:
        from tokenizers import Tokenizer

        self.t = Tokenizer.from_file(str(path))

    def vocab_size(self) -> int:
        return int(self.t.get_vocab_size())

    def encode(self, doc: str) -> list[int]:
        return self.t.encode(doc).ids

    def decode(self, ids: list[int]) -> str:
        return self.t.decode(ids)

    def mode(self, name: str, alpha: float, workers: int):
        t = self.t
        return {
            "encode": _per_doc(lambda d: t.encode(d).ids),
            "tokenize": _per_doc(lambda d: t.encode(d).tokens),
            # the thread count comes from RAYON_NUM_THREADS, set by the orchestrator
            "batch": lambda docs: [e.ids for e in t.encode_batch(docs)],
        }.get(name)


class HfTrainer:
    def __init__(self, sizes: list[int], workers: int, reestimate: bool) -> None:
        if len(sizes) != 1 or reestimate:
            raise ValueError("HF BPE trains one size per run, without re-estimation")
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        self.size = sizes[0]
        self.tok = Tokenizer(models.BPE())
        self.tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        self.tok.decoder = decoders.ByteLevel()
        self.trainer = trainers.BpeTrainer(
            vocab_size=self.size,
            special_tokens=HF_SPECIALS,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )

    def prepare(self, docs, out_dir: Path) -> None:
        pass

    def train(self, docs) -> None:
        self.tok.train_from_iterator(docs, self.trainer, length=len(docs))

    def save(self, out_dir: Path) -> dict:
        path = out_dir / "hf-bpe.json"
        self.tok.save(str(path))
        return {self.size: {"path": str(path), "vocab_size": int(self.tok.get_vocab_size())}}


class Adapter:
    def __init__(self, module: str, dist: str, tok, trainer, label: str) -> None:
        self.module, self.dist, self.tok, self._trainer, self.label = (
            module,
            dist,
            tok,
            trainer,
            label,
        )

    def import_module(self):
        return importlib.import_module(self.module)

    def load(self, path: str):
        return self.tok(path)

    def trainer(self, sizes: list[int], workers: int, reestimate: bool = False):
        return self._trainer(sizes, workers, reestimate)

    def version(self) -> str:
        mod = self.import_module()
        try:
            return metadata.version(self.dist)
        except metadata.PackageNotFoundError:
            return str(getattr(mod, "__version__", "?"))


ADAPTERS = {
    "piecelab": Adapter("piecelab", "piecelab", PiecelabTok, PiecelabTrainer, "piecelab"),
    "bytepiece": Adapter(
        "bytepiece", "bytepiece", BytePieceTok, BytePieceTrainer, "BytePiece (order 6)"
    ),
    "sp-unigram": Adapter(
        "sentencepiece",
        "sentencepiece",
        SentencePieceTok,
        SentencePieceTrainer,
        "SentencePiece Unigram",
    ),
    "sp-bpe": Adapter(
        "sentencepiece", "sentencepiece", SentencePieceTok, SentencePieceBpeTrainer, "SP BPE"
    ),
    "hf-bpe": Adapter("tokenizers", "tokenizers", HfTok, HfTrainer, "HF byte-level BPE"),
}


def peer_versions() -> dict[str, dict]:
    """Which tokenizers import here, with their versions (or why not)."""
    out = {}
    for name, ad in ADAPTERS.items():
        try:
            out[name] = {"ok": True, "version": ad.version()}
            if name == "bytepiece":
                import ahocorasick

                if getattr(ahocorasick, "unicode", 1):
                    out[name] = {"ok": False, "error": "pyahocorasick is not the bytes build"}
        except Exception as exc:  # any import failure means: skip this peer
            out[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return out
