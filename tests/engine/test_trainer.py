"""The trainer: byte-identical with BytePiece 0.6.3, events, cancellation, errors."""

from __future__ import annotations

import gzip
import json
import threading
import time

import pytest

from piecelab import Tokenizer
from piecelab.engine.events import Cancelled, Log, Metric, Progress, StageDone
from piecelab.engine.trainer import WORKER_THREAD_PREFIX, Trainer

from ..conftest import DATA

GOLDEN = DATA / "golden"
SETTINGS = {
    "o6": dict(order=6, max_vocab_size=[1200, 800], min_count=2),
    "o4_digits": dict(order=4, max_vocab_size=900, min_count=3, isolate_digits=True),
    "o5_bytes": dict(
        order=5, max_vocab_size=1000, min_count=2, ensure_unicode=False, max_piece_length=8
    ),
}


@pytest.fixture(scope="module")
def docs() -> list[str]:
    with gzip.open(DATA / "trainer_corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh]


@pytest.mark.parametrize("name", sorted(SETTINGS))
@pytest.mark.parametrize("workers", [1, 2])
def test_models_are_byte_identical_to_bytepiece(tmp_path, docs, name, workers):
    trainer = Trainer(**SETTINGS[name])
    trainer.train(docs, workers=workers)
    written = trainer.save(tmp_path / f"bp_train_{name}.model")
    assert written
    for path in written:
        golden = GOLDEN / path.name
        assert path.read_bytes() == golden.read_bytes(), f"{path.name} differs from BytePiece"


def test_events_come_in_stage_order(docs):
    trainer = Trainer(order=6, max_vocab_size=[800, 600])
    events = list(trainer.run(docs[:800], workers=2, heldout=0.05))
    stages = [e.stage for e in events if isinstance(e, StageDone)]
    assert stages == ["count n-grams", "segment corpus", "prune pieces", "evaluate"]
    progress = [e for e in events if isinstance(e, Progress)]
    assert all(0 <= p.fraction <= 1 for p in progress)
    bpp = [e for e in events if isinstance(e, Metric) and e.series == "ngram_bytes_per_piece"]
    assert bpp and all(m.y > 1 for m in bpp)
    prune = [e for e in events if isinstance(e, Metric) and e.series == "prune"]
    assert [int(m.x) <= 800 for m in prune[1:]] == [True] * (len(prune) - 1)
    held = {
        int(e.extra["size"]): e.y for e in events if isinstance(e, Metric) and e.series == "heldout"
    }
    assert set(held) == {600, 800} and held[800] >= held[600] > 1
    assert trainer.result.heldout_bytes_per_token == held
    assert isinstance(events[0], Log)
    # BytePiece's attribute: one {piece: count} per size, largest first
    assert [len(p) + 3 for p in trainer.pieces] == [m.vocab_size for m in trainer.models.values()]


def test_heldout_documents_are_not_trained_on(docs):
    marker = "独一无二的标记文本 zqxjkvw"
    corpus = [*docs[:400], marker * 20]
    from piecelab.engine.corpus import is_heldout

    frac = 0.3
    trainer = Trainer(order=6, max_vocab_size=800)
    trainer.train(corpus, heldout=frac)
    pieces = trainer.models[800].pieces
    trained_marker = any(b"zqxjkvw" in p for p in pieces)
    assert trained_marker == (not is_heldout(marker * 20, frac))


def train_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(WORKER_THREAD_PREFIX)]


@pytest.mark.parametrize("stage", ["count n-grams", "segment corpus"])
def test_cancel_is_quick_and_leaves_nothing(tmp_path, docs, monkeypatch, stage):
    # n-gram runs spill into tmp_path (a tiny budget); cancel while the folder is
    # there (counting) or after it was merged (segmenting): nothing may be left
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    before = set(threading.enumerate())
    cancel = threading.Event()
    trainer = Trainer(order=6, max_vocab_size=2000, ngram_memory=1 << 20)
    job = trainer.run(docs * 30, workers=2, cancel=cancel)
    spilled = False
    for ev in job:
        present = any(tmp_path.iterdir())
        spilled = spilled or present
        ready = present if stage == "count n-grams" else spilled
        if isinstance(ev, Progress) and ev.stage == stage and ready:
            break
    assert spilled, "the run never spilled n-gram runs to tmp_path"
    t0 = time.monotonic()
    cancel.set()
    with pytest.raises(Cancelled):
        for _ in job:
            pass
    assert time.monotonic() - t0 < 1.0
    assert trainer.models == {}
    assert list(tmp_path.iterdir()) == []
    assert set(threading.enumerate()) <= before


def test_closing_the_generator_stops_it(docs):
    before = set(threading.enumerate())
    trainer = Trainer(order=6, max_vocab_size=800)
    job = trainer.run(docs * 5, workers=2)
    next(job)
    next(job)
    assert train_threads(), "the run should be counting on its worker threads by now"
    job.close()
    assert trainer.models == {}
    assert train_threads() == []
    assert set(threading.enumerate()) <= before


def test_errors():
    with pytest.raises(ValueError, match="empty"):
        Trainer(max_vocab_size=300).train(["", ""])
    with pytest.raises(TypeError, match="re-iterable"):
        Trainer(max_vocab_size=300).train(iter(["abc"]))
    with pytest.raises(ValueError, match="at least 259"):
        Trainer(max_vocab_size=100)
    with pytest.raises(ValueError, match="order"):
        Trainer(order=9)
    with pytest.raises(RuntimeError, match="train first"):
        Trainer().save("x")


def test_trained_model_round_trips(tmp_path, docs):
    trainer = Trainer(order=6, max_vocab_size=900)
    trainer.train(docs[:500])
    (path,) = trainer.save(tmp_path / "m.model")
    tok = Tokenizer(str(path))
    text = docs[3]
    assert tok.decode(tok.encode(text)) == text
    assert tok.vocab_size <= 900


@pytest.mark.parametrize("workers", [1, 2])
def test_spilling_ngrams_to_disk_keeps_counts_exact(tmp_path, docs, workers, monkeypatch):
    # a budget far below the corpus' distinct n-grams forces several sorted runs
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    trainer = Trainer(**SETTINGS["o6"], ngram_memory=1 << 18)
    logs = [e.message for e in trainer.run(docs, workers=workers) if isinstance(e, Log)]
    assert any("spilled to disk" in m for m in logs)
    written = trainer.save(tmp_path / "bp_train_o6.model")
    for path in written:
        assert path.read_bytes() == (GOLDEN / path.name).read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("piecelab-ngrams-")]


def test_progress_reaches_the_end_only_when_the_work_is_done(docs, monkeypatch):
    """A stage at 100% has counted everything, not only read it (the GUI's bars and ETA)."""
    from piecelab.engine import counting, ngrams

    monkeypatch.setattr(counting, "BATCH_BYTES", 20_000)  # many batches
    real = ngrams.count_ngrams
    done = [0]

    def slow(*args):
        time.sleep(0.02)
        out = real(*args)
        if out >= len(args[1]):
            done[0] += 1  # a batch counted to its end
        return out

    monkeypatch.setattr(ngrams, "count_ngrams", slow)
    seen = []
    for ev in Trainer(order=4, max_vocab_size=400).run(docs * 3, workers=2):
        if isinstance(ev, Progress) and ev.stage == "count n-grams":
            seen.append((ev.fraction, done[0]))
    assert len(seen) > 5
    at_end = [batches for fraction, batches in seen if fraction >= 1.0]
    assert at_end and at_end[0] == done[0]  # 100% only once every batch was counted


def test_reestimation_counts_each_models_own_viterbi(docs):
    """--reestimate: every final piece is counted as often as the pruned model's own
    Viterbi uses it on the training documents (held-out ones left out) cut into the
    training chunks (lines of at most 10,000 characters, as BytePiece trains), at
    least once."""
    import numpy as np

    from piecelab.engine import is_heldout
    from piecelab.engine.counting import _CHUNK_RE
    from piecelab.engine.model import N_SPECIAL
    from piecelab.engine.normalize import nfc

    settings = dict(order=6, max_vocab_size=[900, 600], min_count=2)
    pruned = Trainer(**settings)
    list(pruned.run(docs, workers=2, heldout=0.05))
    trainer = Trainer(**settings)
    events = list(trainer.run(docs, workers=2, heldout=0.05, reestimate=True))
    assert any(isinstance(e, StageDone) and e.stage == "re-estimate" for e in events)
    train = [c for d in docs if not is_heldout(d, 0.05) for c in _CHUNK_RE.findall(nfc(d))]
    for size, model in trainer.models.items():
        before = pruned.models[size]
        assert model.pieces == before.pieces
        tok = Tokenizer(before)
        ids = np.concatenate([tok.encode(c) for c in train])
        used = np.bincount(ids, minlength=before.vocab_size)
        assert (model.counts == np.maximum(used[N_SPECIAL:], 1)).all()
        assert not (model.counts == before.counts).all()
