"""Small models of the field's kinds, trained inside a test (offline, a few seconds):
SentencePiece ``.model`` bytes and Hugging Face ``tokenizers`` models.  Each skips the
calling test when its library is not installed."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

import pytest

HF_KINDS = ("hf-bpe", "hf-unigram", "hf-wordpiece")


def sentencepiece_model(lines: Iterable[str], **options: object) -> bytes:
    """A serialized SentencePiece model of ``lines`` (one thread, quiet); ``options`` go
    to ``SentencePieceTrainer.train`` (model_type, vocab_size, byte_fallback, ...)."""
    spm = pytest.importorskip("sentencepiece")
    out = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=out, num_threads=1, minloglevel=2, **options
    )
    return out.getvalue()


def hf_tokenizer(kind: str, lines: Sequence[str], vocab_size: int, specials: Sequence[str] = ()):
    """A ``tokenizers.Tokenizer`` of ``kind`` (one of :data:`HF_KINDS`) trained on ``lines``:
    byte-level BPE, Unigram with Metaspace, or lower-casing BERT WordPiece (their unknown
    and special tokens first, then ``specials``)."""
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import decoders, models, normalizers, pre_tokenizers, trainers

    if kind == "hf-bpe":
        tok = tokenizers.Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=list(specials),
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
    elif kind == "hf-unigram":
        tok = tokenizers.Tokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(
            vocab_size=vocab_size,
            unk_token="<unk>",
            special_tokens=["<unk>", *specials],
            show_progress=False,
        )
    elif kind == "hf-wordpiece":
        tok = tokenizers.Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        trainer = trainers.WordPieceTrainer(
            vocab_size=vocab_size,
            special_tokens=["[UNK]", "[CLS]", "[SEP]", *specials],
            show_progress=False,
        )
    else:
        raise ValueError(f"not a Hugging Face kind: {kind!r}")
    tok.train_from_iterator(list(lines), trainer)
    return tok
