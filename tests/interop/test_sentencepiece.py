"""SentencePiece models through piecelab.load, and the native engine's agreement with them.

All offline: the models are trained here, on the project's own corpus, so the
tests need no published model.
"""

from __future__ import annotations

import gzip
import json
import unicodedata
from collections import Counter

import numpy as np
import pytest

from piecelab import Tokenizer
from piecelab.engine.formats import FormatError, load
from piecelab.engine.formats.sentencepiece import BYTE, agreement
from tests.conftest import DATA, SHARED_TEST
from tests.foreign_models import sentencepiece_model

spm = pytest.importorskip("sentencepiece")

#: The least fraction of documents on which the native ids must equal sp.encode's.
AGREEMENT = 0.999

# rare characters (unknown at coverage 0.98), full-width forms NFKC folds, runs of
# spaces and newlines, emoji outside the BMP
MIXED = [
    "Tokenizers 切分文本：the sample in 冬宇闰调 queue，memory lock on page.",
    "ＦＵＬＬ　ＷＩＤＴＨ ｔｅｘｔ and   three   spaces\n\n\nthen lines\tand a tab",
    "罕见字龘靐齉爩 next to common ones 宇宙 and 🙂🙃 emoji, ☃☃☃ snowmen",
    "x☃y ☃ x ☃☃ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ⅰⅱⅲ ½ ﬁ ligature — dash … ellipsis",
    "数字 12345 67890 and 3.14159, 2026-12-02 10:00",
    "  leading and trailing spaces  ",
    "",
    " ",
    "\n",
    "单独的中文句子没有空格也没有英文。",
    "Only English words here, with punctuation!? (and brackets) [x] {y}",
]


def _docs() -> list[str]:
    with gzip.open(DATA / "trainer_corpus.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


_train = sentencepiece_model  # (a short name for this module's many calls)


@pytest.fixture(scope="module")
def docs() -> list[str]:
    return _docs()


@pytest.fixture(scope="module")
def model_files(tmp_path_factory, docs) -> dict[str, object]:
    """name → path of a model trained here: Unigram (with and without byte fallback), BPE."""
    folder = tmp_path_factory.mktemp("sp")
    specs = {
        "unigram": dict(model_type="unigram", vocab_size=600, character_coverage=0.98),
        "unigram-bytes": dict(
            model_type="unigram", vocab_size=600, character_coverage=0.98, byte_fallback=True
        ),
        "bpe": dict(model_type="bpe", vocab_size=600, byte_fallback=True),
    }
    paths = {}
    for name, options in specs.items():
        path = folder / f"{name}.model"
        path.write_bytes(_train(docs, **options))
        paths[name] = path
    return paths


@pytest.fixture(scope="module")
def vocabs(model_files):
    return {name: load(path) for name, path in model_files.items()}


def _processor(path) -> object:
    return spm.SentencePieceProcessor(model_file=str(path))


def _describe(vocab, texts, differ) -> str:
    """Each differing document: its number and the first tokens where the ids part."""
    native = vocab.native()
    lines = []
    for j in differ[:20]:
        a, b = native.encode(texts[j]), vocab.encode(texts[j])
        k = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        tie = "tie" if Counter(a) == Counter(b) else "NOT a tie"
        lines.append(
            f"doc {j} ({tie}): native {[vocab.names[i] for i in a[k : k + 4]]} vs "
            f"sp {[vocab.names[i] for i in b[k : k + 4]]}"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- detection
@pytest.mark.parametrize("suffix", [".model", ".bin"])
@pytest.mark.parametrize(
    "name, kind",
    [
        ("unigram", "sentencepiece-unigram"),
        ("unigram-bytes", "sentencepiece-unigram"),
        ("bpe", "sentencepiece-bpe"),
    ],
)
def test_load_detects_the_kind(model_files, tmp_path, name, kind, suffix):
    path = tmp_path / f"vocab{suffix}"
    path.write_bytes(model_files[name].read_bytes())
    vocab = load(path)
    assert vocab.kind == kind
    assert vocab.source == str(path)
    assert vocab.score_name == ("log p" if kind.endswith("unigram") else "score")
    assert vocab.vocab_size == _processor(path).get_piece_size() == 600
    assert (vocab.native() is None) == (kind == "sentencepiece-bpe")


def test_piece_table(vocabs, model_files):
    vocab = vocabs["unigram-bytes"]
    sp = _processor(model_files["unigram-bytes"])
    for i in range(vocab.vocab_size):
        name = sp.id_to_piece(i)
        if sp.is_byte(i):
            assert vocab.pieces[i] == bytes([int(name[3:5], 16)])
            assert not vocab.special[i]
        else:
            assert vocab.pieces[i] == name.encode()
            assert vocab.special[i] == (sp.is_control(i) or sp.is_unknown(i) or sp.is_unused(i))
        assert vocab.scores[i] == pytest.approx(sp.get_score(i))
    assert vocab.pieces[sp.piece_to_id("<0xE4>")] == b"\xe4"
    assert vocab.pieces[sp.unk_id()] == b"<unk>"
    assert vocab.scores.dtype == np.float64


# ---------------------------------------------------------------- the library's ids
@pytest.mark.parametrize("name", ["unigram", "unigram-bytes", "bpe"])
def test_encode_is_the_librarys(vocabs, model_files, docs, name):
    vocab, sp = vocabs[name], _processor(model_files[name])
    for text in [*docs[::5], *MIXED]:
        assert vocab.encode(text) == sp.encode(text)


@pytest.mark.parametrize("name", ["unigram", "unigram-bytes", "bpe"])
def test_spans_cover_the_text(vocabs, docs, name):
    vocab = vocabs[name]
    byte_tokens = 0
    for text in [*docs[::25], *MIXED]:
        spans = vocab.spans(text)
        data = text.encode()
        assert spans.ids.tolist() == vocab.encode(text)
        if not len(spans):
            assert not text.strip()
            continue
        # contiguous: spaces dropped inside the text belong to a token
        # removed leading and trailing spaces belong to no token
        assert not data[: spans.starts[0]].strip() and not data[spans.ends[-1] :].strip()
        assert (spans.starts[1:] == spans.ends[:-1]).all()
        assert (spans.starts <= spans.ends).all()
        for i, s, e in zip(spans.ids.tolist(), spans.starts.tolist(), spans.ends.tolist()):
            piece = vocab.pieces[i]
            # text the normalizer keeps as it is
            if piece.isalnum() and s < e and data[s:e].isascii():
                assert data[s:e] == piece
            if vocab.types[i] == BYTE and s < e:  # a byte-fallback token covers its own
                byte_tokens += 1  # byte, unless the normalizer rewrote the character
                kept = data[s:e].decode("utf-8", "replace")
                assert data[s:e] == piece or unicodedata.normalize("NFKC", kept) != kept
    if name != "unigram":
        assert byte_tokens > 0  # MIXED has characters only byte fallback spells


def test_tokenize_and_decode_round_trip(vocabs, docs):
    vocab = vocabs["unigram-bytes"]  # byte fallback: every character survives
    for text in [*docs[::5], *MIXED]:
        norm = vocab.sp.normalize(text)
        tokens = vocab.tokenize(text)
        assert tokens == [vocab.pieces[i] for i in vocab.encode(text)]
        assert b"".join(tokens).decode() == norm
        shown = norm.replace("▁", " ")
        assert vocab.decode(vocab.encode(text)) == (shown[1:] if shown[:1] == " " else shown)


@pytest.mark.parametrize("name, alpha", [("unigram-bytes", 0.1), ("bpe", 0.3)])
def test_sampling_gives_valid_varied_segmentations(vocabs, docs, name, alpha):
    vocab = vocabs[name]
    text = max(docs[:50], key=len)
    best = vocab.encode(text)
    draws = {tuple(vocab.sample(text, alpha, seed=s)) for s in range(8)}
    assert len(draws) > 1
    for ids in draws:
        assert vocab.decode(ids) == vocab.decode(best)
    assert vocab.sample(text, alpha, seed=7) == vocab.sample(text, alpha, seed=7)
    assert vocab.sample(text, -1) == best
    if name == "bpe":
        with pytest.raises(ValueError, match="dropout"):
            vocab.sample(text, 1.5)


@pytest.mark.parametrize("name, alpha", [("unigram", 0.2), ("bpe", 0.3)])
def test_sampled_segmentations_tile_the_text(vocabs, name, alpha):
    """What the playground's sampled panes show: the library's draw, as spans of the text."""
    vocab = vocabs[name]
    text = MIXED[0] + " " + MIXED[4]
    data = text.encode()
    seen = set()
    for seed in range(6):
        seg = vocab.segment(text, alpha, seed)
        assert seg.alpha == alpha
        assert seg.ends[-1] == len(data) and (np.diff(seg.ends) > 0).all()
        drawn = vocab.sample_spans(text, alpha, seed).ids.tolist()
        assert drawn == vocab.sample(text, alpha, seed)  # same seed, same draw
        assert set(seg.ids.tolist()) <= set(drawn)  # tokens covering nothing new merge
        seen.add(tuple(seg.ids.tolist()))
        assert seg.token_count == len(drawn)  # folded tokens still count
    assert len(seen) > 1
    assert set(vocab.segment(text).ids.tolist()) <= set(vocab.encode(text))


@pytest.mark.parametrize("name", ["unigram", "bpe"])
def test_tokens_covering_no_text_are_folded_and_counted(vocabs, name):
    """The dummy prefix '▁' before an unusual first word covers no text: its box is the
    word's, and the count, bytes/token and path log p still include it."""
    vocab = vocabs[name]
    folded = 0
    for text in [*MIXED, "Xylophone", "ＡＢＣ", "☃ snow"]:
        ids = vocab.encode(text)
        seg = vocab.segment(text)
        assert seg.token_count == len(ids)
        folded += seg.folded
        if ids and seg.token_count:
            assert seg.bytes_per_token == len(text.encode()) / len(ids)
        if name == "unigram":
            assert seg.score == pytest.approx(float(vocab.scores[ids].sum()))
    assert folded > 0


# ---------------------------------------------------------------- native
@pytest.mark.parametrize("name", ["unigram", "unigram-bytes"])
def test_native_agrees_with_sentencepiece(vocabs, docs, name):
    vocab = vocabs[name]
    texts = [*docs, *MIXED]
    same, differ = agreement(vocab, texts)
    print(f"\n{name}: native == sp.encode on {same} / {len(texts)} documents")
    assert same >= AGREEMENT * len(texts), _describe(vocab, texts, differ)
    for text in MIXED:  # unknowns, byte fallback, normalization: exact on every one
        assert vocab.native().encode(text) == vocab.encode(text), text


def test_native_on_unknown_characters(vocabs):
    plain, bytes_ = vocabs["unigram"], vocabs["unigram-bytes"]
    text = "a 龘靐齉 b ☃☃"
    unk = plain.sp.unk_id()
    assert plain.native().encode(text) == plain.encode(text)
    assert plain.encode(text).count(unk) == 2  # one unknown per run, as SentencePiece merges
    ids = bytes_.native().encode(text)
    assert ids == bytes_.encode(text)
    assert unk not in ids


def test_native_api(vocabs, docs):
    import pickle

    vocab = vocabs["unigram-bytes"]
    native = vocab.native()
    assert vocab.native() is native  # built once
    text = docs[3]
    ids = native.encode(text)
    assert native.tokenize(text) == vocab.tokenize(text)
    assert native.decode(ids) == vocab.decode(ids)
    assert native.encode_batch(docs[:20]) == [vocab.encode(t) for t in docs[:20]]
    assert native.count_tokens(docs[:20]) == sum(len(vocab.encode(t)) for t in docs[:20])
    assert native.encode(text, add_bos=True, add_eos=True) == [
        vocab.sp.bos_id(),
        *ids,
        vocab.sp.eos_id(),
    ]
    plain = "the sample in as this piece for in."  # no unknown character
    seg = native.segment(plain)
    assert native.sp_ids(seg.ids).tolist() == vocab.encode(plain)
    assert native.sp_ids(native.top_k(plain, 1)[0][0].ids).tolist() == vocab.encode(plain)
    with pytest.raises(ValueError, match="no piece"):
        native.segment("龘")  # engine ids cannot say unknown: segment() raises
    assert pickle.loads(pickle.dumps(native)).encode(text) == ids


def test_native_sampling(vocabs, docs):
    vocab = vocabs["unigram-bytes"]
    native = vocab.native()
    text = max(docs[:50], key=len) + " 龘 ☃"
    best = native.encode(text)
    draws = {tuple(native.encode(text, alpha=0.1, seed=s)) for s in range(8)}
    assert len(draws) > 1
    for ids in draws:
        assert vocab.decode(ids) == vocab.decode(best)
    assert native.sample(text, 0.1, seed=3) == native.encode(text, alpha=0.1, seed=3)
    assert native.encode(text, alpha=0.1, seed=3) == native.encode(text, alpha=0.1, seed=3)


def test_native_samples_as_sentencepiece_does(vocabs):
    """Both samplers draw P ∝ Π p^α over the same lattice: the frequencies match."""
    vocab = vocabs["unigram"]
    native = vocab.native()
    text = "the sample piece"
    n = 3000
    spm.set_random_generator_seed(11)
    ours = Counter(tuple(native.encode(text, alpha=0.5, seed=s)) for s in range(n))
    theirs = Counter(tuple(vocab.sample(text, 0.5)) for _ in range(n))
    distance = sum(abs(ours[k] - theirs[k]) for k in ours.keys() | theirs.keys()) / (2 * n)
    assert len(ours) > 3
    assert distance < 0.06, (ours.most_common(5), theirs.most_common(5))


# ---------------------------------------------------------------- bad files
def _word_model(raw: bytes) -> bytes:
    from sentencepiece import sentencepiece_model_pb2 as pb

    proto = pb.ModelProto()
    proto.ParseFromString(raw)
    proto.trainer_spec.model_type = pb.TrainerSpec.WORD
    return proto.SerializeToString()


@pytest.mark.parametrize(
    "make, problem",
    [
        (lambda raw: raw[: len(raw) // 2], "not a SentencePiece model"),
        (lambda raw: np.random.default_rng(0).bytes(4096), ""),
        (_word_model, "model type WORD is not supported"),
        (lambda raw: b"", "empty"),
    ],
    ids=["truncated", "random", "word", "empty"],
)
def test_bad_files_raise_naming_the_file(model_files, tmp_path, make, problem):
    path = tmp_path / "bad.model"
    path.write_bytes(make(model_files["unigram"].read_bytes()))
    with pytest.raises(FormatError) as info:
        load(path)
    assert str(path) in str(info.value)
    assert problem in str(info.value)


# ---------------------------------------------------------------- the shared corpus
@pytest.mark.shared
def test_shared_corpus_agreement(tmp_path):
    if not SHARED_TEST.is_file():
        pytest.skip("../shared is absent (the zh-en test corpus)")
    with gzip.open(SHARED_TEST, "rt", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    path = tmp_path / "zh-en.model"
    path.write_bytes(
        _train(
            texts[:3000],
            model_type="unigram",
            vocab_size=4000,
            input_sentence_size=3000,
            max_sentence_length=1 << 20,
        )
    )
    vocab = load(path)
    sp = _processor(path)
    assert all(vocab.encode(t) == sp.encode(t) for t in texts)
    same, differ = agreement(vocab, texts)
    print(f"\nzh-en test corpus: native == sp.encode on {same} / {len(texts)} documents")
    assert same >= AGREEMENT * len(texts), _describe(vocab, texts, differ)


@pytest.mark.parametrize("name", ["unigram-bytes", "bpe"])
def test_unreachable_marks_pieces_their_own_text_does_not_give(vocabs, name):
    vocab = vocabs[name]
    mask = vocab.unreachable()
    assert mask.shape == (vocab.vocab_size,)
    assert (mask[vocab.special] == -1).all()
    sp = vocab.sp
    for i in np.flatnonzero(mask >= 0)[:200].tolist():
        text = vocab.names[i].replace("\u2581", " ")
        assert (mask[i] == 0) == (i in sp.encode(text)), vocab.names[i]
    assert (mask == 0).sum() > 0.5 * (mask >= 0).sum()


def test_hand_edits_become_a_sentencepiece_model(vocabs, docs):
    """Edits of the native model (as the Vocabulary view makes them) carry into the
    SentencePiece model, which the library then runs; the native engine still agrees."""
    from piecelab.engine.edit import add_piece, delete_pieces, retire_pieces, set_count
    from piecelab.engine.formats.sentencepiece import UNUSED

    vocab = vocabs["unigram"]
    before = vocab.native().model
    text = docs[3]
    same = vocab.edited(before, before.copy())
    assert same.raw == vocab.raw  # nothing changed: every score and id as it was
    used = Counter(i for d in docs[:100] for i in vocab.encode(d))
    sp_id = next(
        i for i, _ in used.most_common() if len(vocab.names[i]) > 2 and not vocab.special[i]
    )
    piece = vocab.pieces[sp_id]

    retired = vocab.edited(before, retire_pieces(before, [piece]))
    assert retired.vocab_size == vocab.vocab_size and retired.types[sp_id] == UNUSED
    assert all(sp_id not in retired.encode(d) for d in docs[:100])

    deleted = vocab.edited(before, delete_pieces(before, [piece]))
    assert deleted.vocab_size == vocab.vocab_size - 1 and piece not in deleted.pieces

    top = int(before.counts.max())
    added = vocab.edited(before, add_piece(before, b" the sample", top))
    new_id = added.pieces.index("\u2581the\u2581sample".encode())
    assert new_id == vocab.vocab_size and new_id in added.encode("in the sample")

    heavier = vocab.edited(before, set_count(before, piece, top))
    assert heavier.scores[sp_id] > vocab.scores[sp_id]
    assert [s for i, s in enumerate(heavier.scores) if i != sp_id] == [
        s for i, s in enumerate(vocab.scores) if i != sp_id
    ]
    for edited in (retired, deleted, added, heavier):
        same_ids, _ = agreement(edited, docs[:300] + MIXED)
        assert same_ids == len(docs[:300] + MIXED)
    assert heavier.encode(text) != [] and added.decode(added.encode(text)) == vocab.decode(
        vocab.encode(text)
    )


def test_native_lattice_and_marginals_are_over_the_normalized_text(vocabs):
    native = vocabs["unigram"].native()
    text = "the lowest layers"
    norm = native.normalize(text)
    assert norm.startswith("\u2581")
    lat = native.lattice(text, 0.5)
    assert lat.text == norm
    assert lat.forward[-1] == pytest.approx(Tokenizer.log_partition(native, norm, 0.5))
    marg = native.boundary_marginals(text, 0.5)
    assert len(marg) == len(norm.encode()) + 1 and marg[0] == marg[-1] == 1.0


def test_the_last_viterbi_segmentation_is_reused(vocabs):
    """The playground segments a text and then asks for its boundary strip: the
    library runs once; another text, or a sampled one, is segmented anew."""
    vocab = vocabs["unigram"]
    calls = []
    real = vocab.spans
    vocab.spans = lambda text: calls.append(text) or real(text)  # type: ignore[method-assign]
    try:
        first = vocab.segment("the same text")
        assert vocab.segment("the same text") is first
        vocab.cuts("the same text", 0.5)
        assert calls == ["the same text"]
        other = vocab.segment("another text")
        assert other is not first and calls == ["the same text", "another text"]
        assert vocab.segment("another text", 0.3, seed=1).alpha == 0.3
        assert vocab.segment("another text") is other
    finally:
        del vocab.spans
