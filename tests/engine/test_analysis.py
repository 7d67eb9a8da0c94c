"""Cost per script or language (engine.analysis) against a slow reference written here.

The reference tokenizes each document on its own (``tokenize``/``spans``), classifies
each character with :func:`script_of` and splits every token over the bytes it covers
in a Python loop, so it shares nothing with the vectorized batch code but the table.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import unicodedata
from collections import Counter, defaultdict

import numpy as np
import pytest

from piecelab import Model, Tokenizer
from piecelab.engine import (
    N_SPECIAL,
    NO_FIELD,
    SCRIPT_GROUPS,
    Spans,
    Vocabulary,
    cost_report,
    cost_reports,
    load,
    parse_group_by,
    renyi_efficiency,
    script_of,
)
from tests.conftest import DATA, SHARED_TEST
from tests.foreign_models import sentencepiece_model

NO_SPACES = {"Han", "Kana", "Hangul", "Thai"}
PER_CHAR = NO_SPACES | {"punctuation", "whitespace"}
WORDLESS = {"punctuation", "whitespace"}

MIXED = [
    "Tokenizers 切分文本：the sample in 冬宇闰调 queue，memory lock on page.",
    "Привет, мир! Ελληνικά και English 123 and ٣٤٥ مرحبا بالعالم",
    "カタカナとひらがな、한국어 텍스트, ภาษาไทย ไม่มีช่องว่าง, שלום עולם, नमस्ते दुनिया",
    "emoji 🙂🙃 👩\u200d👩\u200d👧 zwj, x\u0301 mark, \u0301 leading mark, ☃☃ 𝔘𝔫𝔦 ½",
    "数字 12345 67890 and 3.14159, 2026-12-02 10:00\t\ttabs\x1bescape",
    "  leading and trailing spaces  ",
    "\n",
    "\n\n\n",
    "单独的中文句子没有空格也没有英文。",
    "",
]


def corpus(n: int) -> list[str]:
    with gzip.open(DATA / "trainer_corpus.jsonl.gz", "rt", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for _, line in zip(range(n), f)]
    return [unicodedata.normalize("NFC", t) for t in texts]


@pytest.fixture(scope="module")
def docs() -> list[str]:
    out = corpus(200) + MIXED
    assert all(unicodedata.is_normalized("NFC", t) for t in out)
    return out


@pytest.fixture(scope="module")
def bundled(bundled_model_path):
    return load(bundled_model_path)


# ------------------------------------------------------------------ the reference
def char_groups(text: str) -> list[str]:
    out: list[str] = []
    for ch in text:
        g = script_of(ch)
        out.append((out[-1] if out else "other") if g == "inherited" else g)
    return out


def words_of(groups: list[str]) -> list[int]:
    """Per character, the number of its whitespace-separated word (−1 on whitespace)."""
    out, word, inside = [], -1, False
    for g in groups:
        if g == "whitespace":
            inside = False
            out.append(-1)
            continue
        if not inside:
            word, inside = word + 1, True
        out.append(word)
    return out


def new_group() -> dict:
    return {"documents": 0, "bytes": 0, "chars": 0, "tokens": 0.0, "words": set(), "units": 0}


def reference(vocab, documents, by_field: str | None = None, tokens_of=None) -> dict:
    """Figures per group (and "overall"), one document and one token at a time.

    ``tokens_of(text)`` gives (id, start, end) byte spans; default: the pieces of
    ``tokenize`` laid end to end with the ids of ``encode``.
    """
    if tokens_of is None:

        def tokens_of(text):
            out, pos = [], 0
            for i, piece in zip(vocab.encode(text), vocab.tokenize(text)):
                out.append((i, pos, pos + len(piece)))
                pos += len(piece)
            assert pos == len(text.encode())
            return out

    figures = defaultdict(new_group)
    counts = defaultdict(Counter)
    for d, doc in enumerate(documents):
        text, record = doc if isinstance(doc, tuple) else (doc, None)
        cg = char_groups(text)
        words = words_of(cg)
        label = None if by_field is None else (record or {}).get(by_field, NO_FIELD)
        over = figures["overall"]
        over["documents"] += 1
        for name in ["overall"] if label is None else ["overall", label]:
            g = figures[name]
            g["documents"] += name == label
            g["bytes"] += len(text.encode())
            g["chars"] += len(text)
            g["units"] += sum(x in NO_SPACES for x in cg)
            g["words"] |= {(d, w) for x, w in zip(cg, words) if x not in NO_SPACES | WORDLESS}
        if label is None:
            for name in set(cg):
                figures[name]["documents"] += 1
            for ch, x, w in zip(text, cg, words):
                figures[x]["bytes"] += len(ch.encode())
                figures[x]["chars"] += 1
                figures[x]["units"] += x in PER_CHAR
                if x not in PER_CHAR:
                    figures[x]["words"].add((d, w))
        byte_groups = [x for ch, x in zip(text, cg) for _ in ch.encode()]
        for i, s, e in tokens_of(text):
            counts["overall"][i] += 1
            figures["overall"]["tokens"] += 1
            if label is not None:
                counts[label][i] += 1
                figures[label]["tokens"] += 1
                continue
            if s == e:  # covers nothing: whole, where it stands
                x = byte_groups[min(s, len(byte_groups) - 1)] if byte_groups else "other"
                counts[x][i] += 1
                figures[x]["tokens"] += 1
            for b in range(s, e):
                counts[byte_groups[b]][i] += 1 / (e - s)
                figures[byte_groups[b]]["tokens"] += 1 / (e - s)
    return finish(vocab, figures, counts)


def finish(vocab, figures, counts) -> dict:
    special = np.asarray(vocab.special) if hasattr(vocab, "special") else None
    n_pieces = int((~special).sum())
    for name, g in figures.items():
        g["units"] += len(g.pop("words"))
        c = counts[name]
        g["vocab_used"] = sum(1 for i, v in c.items() if v > 0 and not special[i]) / n_pieces
        total = sum(c.values())
        if total:
            h = math.log(sum((v / total) ** 2.5 for v in c.values())) / (1 - 2.5)
            g["renyi_efficiency"] = h / math.log(n_pieces)
        else:
            g["renyi_efficiency"] = None
    return dict(figures)


def spans_of(vocab):
    """(id, start, end) per token from the library's spans (kept inside the text)."""

    def tokens_of(text):
        sp = vocab.spans(text)
        n = len(text.encode())
        starts = np.clip(sp.starts, 0, n)
        ends = np.maximum(np.clip(sp.ends, 0, n), starts)
        return list(zip(sp.ids.tolist(), starts.tolist(), ends.tolist()))

    return tokens_of


def assert_matches(report, ref: dict) -> None:
    listed = {g.group: g for g in report.groups}
    assert set(listed) == set(ref) - {"overall"}
    for name, want in ref.items():
        got = report.overall if name == "overall" else listed[name]
        for key in ("documents", "bytes", "chars", "units"):
            assert getattr(got, key) == want[key], (name, key)
        assert got.tokens == pytest.approx(want["tokens"], rel=1e-9, abs=1e-9), name
        assert got.vocab_used == pytest.approx(want["vocab_used"]), name
        if want["renyi_efficiency"] is None:
            assert got.renyi_efficiency is None
        else:
            assert got.renyi_efficiency == pytest.approx(want["renyi_efficiency"]), name
        if want["tokens"]:
            assert got.bytes_per_token == pytest.approx(want["bytes"] / want["tokens"])
            assert got.chars_per_token == pytest.approx(want["chars"] / want["tokens"])
        if want["units"] and want["tokens"]:
            assert got.fertility == pytest.approx(want["tokens"] / want["units"])
    ref_name = report.reference
    base = ref[ref_name]["tokens"] / ref[ref_name]["bytes"]
    for g in [report.overall, *report.groups]:
        want = ref[g.group]
        if want["tokens"] and want["bytes"]:
            assert g.premium == pytest.approx(want["tokens"] / want["bytes"] / base), g.group


# ------------------------------------------------------------------ by script
def test_script_of_knows_the_scripts():
    cases = {
        "a": "Latin", "é": "Latin", "Ж": "Cyrillic", "λ": "Greek", "م": "Arabic",
        "ש": "Hebrew", "न": "Devanagari", "ক": "Indic", "ก": "Thai", "中": "Han", "〇": "Han",
        "𠀀": "Han", "か": "Kana", "カ": "Kana", "ー": "Kana", "한": "Hangul", "7": "digits",
        "٣": "digits", "７": "digits", ",": "punctuation", "。": "punctuation",
        "🙂": "punctuation", "+": "punctuation", " ": "whitespace", "\n": "whitespace",
        "\u3000": "whitespace", "\x1b": "other", "\u0301": "inherited", "\u200d": "inherited",
    }  # fmt: skip
    assert {c: script_of(c) for c in cases} == cases


def test_bytepiece_matches_the_reference(bundled, docs):
    reports = cost_reports([bundled], docs, batch_chars=3000)  # many batches
    ref = reference(bundled, docs)
    assert_matches(reports[0], ref)
    assert reports[0].reference == max(
        (g for g in ref if g != "overall"), key=lambda g: ref[g]["bytes"]
    )
    whole = cost_report(bundled, docs)  # one batch: the same figures
    assert whole.as_dict()["groups"] == reports[0].as_dict()["groups"]


def test_a_tokenizer_and_its_vocabulary_agree(bundled, docs):
    tok = bundled.native()
    assert isinstance(tok, Tokenizer)
    a, b = cost_report(tok, docs), cost_report(bundled, docs, name="x")
    assert a.as_dict()["groups"] == b.as_dict()["groups"] and b.model == "x"


def test_tiny_model_matches_the_reference(tiny_tokenizer, docs):
    vocab = load_tiny(tiny_tokenizer)
    assert_matches(cost_report(vocab, docs, workers=2), reference(vocab, docs))


def load_tiny(tok):
    from piecelab.engine.formats.bytepiece import BytePieceVocabulary

    return BytePieceVocabulary(tok)


def test_a_token_spanning_two_scripts_counts_by_bytes():
    counts = {bytes([i]): 1 for i in range(256)}
    counts.update({b" the": 1000, "中a".encode(): 1000})
    tok = Tokenizer(Model.from_counts(counts))
    assert tok.tokenize(" the") == [b" the"]
    rep = cost_report(tok, [" the"])
    assert rep.group("whitespace").tokens == pytest.approx(0.25)
    assert rep.group("Latin").tokens == pytest.approx(0.75)
    assert rep.overall.tokens == 1
    assert rep.group("Latin").bytes_per_token == pytest.approx(4.0)
    rep = cost_report(tok, ["中a"])
    assert rep.group("Han").tokens == pytest.approx(0.75)
    assert rep.group("Latin").tokens == pytest.approx(0.25)
    pieces = tok.vocab_size - N_SPECIAL
    assert rep.group("Han").vocab_used == rep.group("Latin").vocab_used == 1 / pieces
    assert rep.group("Han").chars == 1 and rep.group("Han").bytes == 3


def test_marks_and_joiners_take_the_group_before():
    counts = {bytes([i]): 1 for i in range(256)}
    tok = Tokenizer(Model.from_counts(counts))
    rep = cost_report(tok, ["x\u0301", "🙂\u200d🙂", "\u0301"])
    assert rep.group("Latin").chars == 2 and rep.group("Latin").bytes == 3
    assert rep.group("punctuation").chars == 3
    assert rep.group("other").chars == 1  # a document's first character has none before it


def test_fertility_units():
    tok = Tokenizer(Model.from_counts({bytes([i]): 1 for i in range(256)}))
    rep = cost_report(tok, ["don't stop 中文字 now, 42"])
    latin = rep.group("Latin")
    assert latin.fertility_unit == "word" and latin.units == 3  # don't, stop, now,
    assert rep.group("Han").units == 3 and rep.group("Han").fertility_unit == "char"
    assert rep.group("digits").units == 1
    assert rep.group("punctuation").fertility_unit == "char"
    assert rep.overall.units == 3 + 3 + 1  # words with letters or digits, and Han characters
    assert rep.overall.fertility == pytest.approx(rep.overall.tokens / 7)


# ------------------------------------------------------------------ renyi and premium
def test_renyi_efficiency_against_the_formula():
    assert renyi_efficiency(np.ones(50), 50) == pytest.approx(1.0)
    assert renyi_efficiency(np.array([7.0, 0, 0]), 50) == pytest.approx(0.0)
    counts = np.array([5.0, 3.0, 1.5, 0.5, 0])
    p = counts[counts > 0] / counts.sum()
    direct = math.log(np.sum(p**2.5)) / (1 - 2.5) / math.log(10)
    assert renyi_efficiency(counts, 10) == pytest.approx(direct)
    assert renyi_efficiency(np.zeros(4), 10) is None
    assert renyi_efficiency(np.ones(4), 1) is None


def test_premium_reference(bundled, docs):
    default = cost_report(bundled, docs)
    biggest = max(default.groups, key=lambda g: g.bytes)
    assert default.reference == biggest.group == default.groups[0].group
    assert biggest.premium == pytest.approx(1.0)
    han = cost_report(bundled, docs, reference="han")  # any case
    assert han.reference == "Han" and han.group("Han").premium == pytest.approx(1.0)
    for g in han.groups:
        want = g.tokens_per_byte / han.group("Han").tokens_per_byte
        assert g.premium == pytest.approx(want)
    with pytest.raises(ValueError, match=r"no script group 'Klingon'.*Latin"):
        cost_report(bundled, docs, reference="Klingon")
    with pytest.raises(ValueError, match=r"no group 'Hangul' in the documents.*Latin"):
        cost_report(bundled, ["plain latin text"], reference="Hangul")


# ------------------------------------------------------------------ edge cases
class SkipSpaces(Vocabulary):
    """A byte vocabulary whose spans leave out whitespace, with an optional empty prefix."""

    kind = "test"
    source = "skip-spaces"

    def __init__(self, prefix: bool = False) -> None:
        self.pieces = [b"<s>", *(bytes([i]) for i in range(256))]
        self.scores = np.zeros(257)
        self.special = np.arange(257) < 1
        self.prefix = prefix

    def spans(self, text: str) -> Spans:
        data = text.encode()
        keep = [i for i, b in enumerate(data) if b not in b" \t\n"]
        ids = [data[i] + 1 for i in keep]
        starts, ends = keep, [i + 1 for i in keep]
        if self.prefix:
            ids, starts, ends = [ord("!") + 1, *ids], [0, *starts], [0, *ends]
        return Spans(np.array(ids, np.int64), np.array(starts, np.int64), np.array(ends, np.int64))

    def encode(self, text: str) -> list[int]:
        return self.spans(text).ids.tolist()

    def decode(self, ids) -> str:
        return b"".join(self.pieces[i] for i in ids).decode()


def test_a_group_with_no_tokens_is_listed_without_ratios():
    vocab = SkipSpaces()
    rep = cost_report(vocab, ["ab cd", "x"])
    space = rep.group("whitespace")
    assert space.bytes == 1 and space.tokens == 0 and space.documents == 1
    d = space.as_dict()
    assert d["bytes_per_token"] is None and d["chars_per_token"] is None
    assert d["fertility"] is None and d["renyi_efficiency"] is None and d["premium"] is None
    assert d["vocab_used"] == 0
    json.dumps(rep.as_dict())
    # a reference group without tokens leaves every premium unknown
    rep = cost_report(vocab, ["ab cd"], reference="whitespace")
    assert all(g.premium is None for g in [rep.overall, *rep.groups])


def test_a_token_covering_nothing_counts_where_it_stands():
    vocab = SkipSpaces(prefix=True)
    rep = cost_report(vocab, ["中 a", " b"])
    assert rep.group("Han").tokens == pytest.approx(4)  # the prefix at 0, then 中's 3 bytes
    assert rep.group("whitespace").tokens == pytest.approx(1)  # the prefix before " b"
    assert rep.overall.tokens == 7
    assert_matches(rep, reference(vocab, ["中 a", " b"], tokens_of=spans_of(vocab)))


def test_empty_corpus_and_only_newlines(tiny_tokenizer):
    rep = cost_report(tiny_tokenizer, [])
    assert rep.groups == [] and rep.reference is None and rep.overall.documents == 0
    assert rep.overall.bytes_per_token is None and rep.overall.renyi_efficiency is None
    json.dumps(rep.as_dict())
    rep = cost_report(tiny_tokenizer, ["", "\n", "\n\n\n"])
    assert rep.names() == ["whitespace"] and rep.reference == "whitespace"
    g = rep.group("whitespace")
    assert (g.documents, g.bytes, g.chars, g.units) == (2, 4, 4, 4)
    assert rep.overall.documents == 3 and rep.overall.units == 0
    assert rep.overall.fertility is None and g.premium == pytest.approx(1.0)
    json.dumps(rep.as_dict())
    assert cost_reports([], ["text"]) == []


def test_bad_by_values():
    assert parse_group_by("script") is None
    assert parse_group_by("field:lang") == "lang"
    assert parse_group_by("field:meta.lang") == "meta.lang"
    for bad in ("scripts", "field", "field:", "lang", ""):
        with pytest.raises(ValueError, match="'script' or 'field:NAME'"):
            parse_group_by(bad)


# ------------------------------------------------------------------ by field
def test_by_field_matches_the_reference(bundled, docs):
    langs = ["zh", "en", None, 3]
    records = []
    for i, text in enumerate(docs):
        lang = langs[i % 4]
        records.append((text, {"text": text} if lang is None else {"text": text, "lang": lang}))
    rep = cost_report(bundled, records, by="field:lang", reference="en")
    assert set(rep.names()) == {"zh", "en", "3", NO_FIELD}
    ref = reference(bundled, [(t, {**r, "lang": str(r["lang"])} if "lang" in r else r)
                              for t, r in records], by_field="lang")  # fmt: skip
    assert_matches(rep, ref)
    assert all(g.fertility_unit == "word" for g in rep.groups)


def test_by_field_paths_labels_and_plain_texts(tiny_tokenizer):
    docs = [
        ("a", {"meta": {"lang": "xx"}}),
        ("b", "yy"),  # the group's name itself
        "c",  # no record
        ("d", {"meta": {"lang": None}}),
    ]
    rep = cost_report(tiny_tokenizer, docs, by="field:meta.lang")
    assert sorted(rep.names()) == sorted(["xx", "yy", NO_FIELD])
    assert rep.group(NO_FIELD).documents == 2


def test_many_field_values_stay_sparse(tiny_tokenizer):
    docs = [(f"doc {i} text", {"id": i}) for i in range(600)]
    reps = cost_reports([tiny_tokenizer], docs, by="field:id", batch_chars=2000)
    rep = reps[0]
    assert len(rep.groups) == 600 and rep.overall.documents == 600
    assert sum(g.tokens for g in rep.groups) == pytest.approx(rep.overall.tokens)
    first = rep.group("0")
    assert first.tokens == len(tiny_tokenizer.encode("doc 0 text"))


# ------------------------------------------------------------------ other libraries
def test_sentencepiece_vocabulary(tmp_path, docs):
    raw = sentencepiece_model(corpus(600), model_type="unigram", vocab_size=400, byte_fallback=True)
    path = tmp_path / "sp.model"
    path.write_bytes(raw)
    vocab = load(path)
    rep = cost_report(vocab, docs)
    assert_matches(rep, reference(vocab, docs, tokens_of=spans_of(vocab)))
    assert rep.overall.tokens == sum(len(vocab.encode(t)) for t in docs)
    assert rep.kind == "sentencepiece-unigram" and rep.pieces == int((~vocab.special).sum())


def test_tiktoken_vocabulary(tmp_path, docs):
    pytest.importorskip("tiktoken")
    ranks = [bytes([b]) for b in range(256)]
    for merge in (b"th", b"the", b" the", b"in", b"ing", "中".encode(), "中文".encode()):
        ranks.append(merge)
    path = tmp_path / "small.tiktoken"
    path.write_bytes(b"".join(base64.b64encode(t) + b" %d\n" % r for r, t in enumerate(ranks)))
    vocab = load(path, pattern="cl100k")
    assert vocab.kind == "tiktoken"
    assert_matches(cost_report(vocab, docs), reference(vocab, docs))


def test_two_models_side_by_side(bundled, tiny_tokenizer, docs):
    a, b = cost_reports([bundled, tiny_tokenizer], docs, names=["big", "tiny"])
    assert (a.model, b.model) == ("big", "tiny")
    assert [(g.group, g.bytes) for g in a.groups] == [(g.group, g.bytes) for g in b.groups]
    assert a.reference == b.reference
    assert a.overall.bytes_per_token > b.overall.bytes_per_token


# ------------------------------------------------------------------ the shared test file
def test_the_shared_test_file_adds_up(shared_tokenizer):
    # its speed (0.17-0.25 s idle for 1.5 MB) is a benchmark figure, not asserted here
    if not SHARED_TEST.is_file():
        pytest.skip("../shared is absent (the test corpus)")
    with gzip.open(SHARED_TEST, "rt", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    rep = cost_report(shared_tokenizer, texts)
    assert rep.overall.tokens == shared_tokenizer.count_tokens(texts)
    assert sum(g.tokens for g in rep.groups) == pytest.approx(rep.overall.tokens)
    assert sum(g.bytes for g in rep.groups) == rep.overall.bytes > 1_500_000
    assert {"Latin", "Han", "whitespace", "punctuation"} <= set(rep.names())


def test_groups_are_the_documented_ones():
    assert SCRIPT_GROUPS[:3] == ("Latin", "Greek", "Cyrillic")
    assert {"Han", "Kana", "Hangul", "Thai", "digits", "punctuation", "whitespace", "other"} <= set(
        SCRIPT_GROUPS
    )


def test_corpus_records_carry_the_json_objects(tmp_path):
    from piecelab.engine import Corpus

    (tmp_path / "a.jsonl").write_text(
        '{"text": "one", "lang": "en"}\n{"lang": "zh"}\n{"text": "二", "lang": "zh"}\n', "utf-8"
    )
    (tmp_path / "b.json").write_text('[{"text": "three", "lang": "fr"}]', "utf-8")
    (tmp_path / "c.txt").write_text("four\n", "utf-8")
    with Corpus([tmp_path / "a.jsonl", tmp_path / "b.json", tmp_path / "c.txt"]) as c:
        got = [(text, rec and rec.get("lang")) for text, rec in c.records("all")]
        assert list(c.documents("all")) == [t for t, _ in got]
    assert got == [("one", "en"), ("二", "zh"), ("three", "fr"), ("four", None)]
    tok = Tokenizer(Model.from_counts({bytes([i]): 1 for i in range(256)}))
    rep = cost_report(
        tok, [(t, {"lang": lang} if lang else None) for t, lang in got], by="field:lang"
    )
    assert set(rep.names()) == {"zh", "en", "fr", NO_FIELD}
    assert rep.group(NO_FIELD).bytes == 4
