"""Training on a local Ray cluster: the same models as local training, faults, cancel."""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
import time

import pytest

from piecelab.engine import (
    Cancelled,
    Corpus,
    CorpusError,
    CorpusOptions,
    Metric,
    Progress,
    RayExecutor,
    StageDone,
    Trainer,
)

from .conftest import task_processes

SETTINGS = {
    "o6": dict(order=6, max_vocab_size=[1200, 800], min_count=2),
    "o4_digits": dict(order=4, max_vocab_size=900, min_count=3, isolate_digits=True),
    "o5_bytes": dict(
        order=5, max_vocab_size=1000, min_count=2, ensure_unicode=False, max_piece_length=8
    ),
}


def _same(a: Trainer, b: Trainer, tmp_path) -> None:
    assert sorted(a.models) == sorted(b.models)
    for i, (x, y) in enumerate(zip(a.save(tmp_path / "a.model"), b.save(tmp_path / "b.model"))):
        assert x.read_bytes() == y.read_bytes(), f"model {i} differs"


def _train(texts, settings, executor=None, **kw) -> tuple[Trainer, list]:
    trainer = Trainer(**settings)
    events = list(trainer.run(texts, workers=2, executor=executor, **kw))
    return trainer, events


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_ray_models_are_byte_identical_to_local_ones(ray_cluster, tmp_path, train_docs, name):
    local, _ = _train(train_docs, SETTINGS[name], heldout=0.02)
    ray, events = _train(train_docs, SETTINGS[name], RayExecutor(shard_bytes=40_000), heldout=0.02)
    _same(local, ray, tmp_path)
    assert ray.result.heldout_bytes_per_token == local.result.heldout_bytes_per_token
    assert Metric("cluster", 2, 1) in events


@pytest.mark.slow
def test_reestimation_runs_on_the_cluster_and_gives_the_local_models(
    ray_cluster, tmp_path, train_docs
):
    """--reestimate: the third pass (each final vocabulary's Viterbi over the corpus)
    runs as cluster tasks too, with progress, and the recounted models are the same."""
    local, _ = _train(train_docs, SETTINGS["o6"], heldout=0.02, reestimate=True)
    ray, events = _train(
        train_docs, SETTINGS["o6"], RayExecutor(shard_bytes=40_000), heldout=0.02, reestimate=True
    )
    _same(local, ray, tmp_path)
    plain, _ = _train(train_docs, SETTINGS["o6"], heldout=0.02)
    pairs = zip(local.models.values(), plain.models.values())
    # re-estimation changed the counts: the comparison says something
    assert any(not (a.counts == b.counts).all() for a, b in pairs)
    stages = [e.stage for e in events if isinstance(e, Progress)]
    assert "re-estimate" in stages
    assert sum(isinstance(e, StageDone) and e.stage == "re-estimate" for e in events) == 1


def _write_corpus(folder, docs) -> None:
    folder.mkdir()
    with (folder / "a.jsonl").open("w", encoding="utf-8") as fh:
        for doc in docs[:1500]:
            fh.write(json.dumps({"text": doc}, ensure_ascii=False) + "\n")
        fh.write('{"text": "a lone \\ud800 surrogate"}\n')
    with (folder / "b.txt").open("wb") as fh:
        for doc in docs[1500:]:
            fh.write(doc.replace("\n", " ").encode() + b"\n")
        fh.write(b"invalid \xff UTF-8\n")


@pytest.mark.slow
def test_files_split_into_byte_ranges_train_the_same_model(ray_cluster, tmp_path, train_docs):
    _write_corpus(tmp_path / "corpus", train_docs)
    opts = CorpusOptions(heldout=0.05)
    local_corpus = Corpus([tmp_path / "corpus"], opts)
    ray_corpus = Corpus([tmp_path / "corpus"], opts)
    local, _ = _train(local_corpus, SETTINGS["o6"], heldout=0.05)
    ray, events = _train(ray_corpus, SETTINGS["o6"], RayExecutor(shard_bytes=30_000), heldout=0.05)
    _same(local, ray, tmp_path)
    assert any("18 shard(s)" in getattr(e, "message", "") for e in events)
    # the problems are those of a local pass, under the files' own names
    assert ray_corpus.problem_counts == local_corpus.problem_counts
    # progress in bytes up to the corpus size, stage by stage, with live bytes/piece
    counting = [e for e in events if isinstance(e, Progress) and e.stage == "count n-grams"]
    assert counting[-1].done == counting[-1].total == ray_corpus.size_hint
    assert [e.done for e in counting] == sorted(e.done for e in counting)
    assert any(isinstance(e, StageDone) and e.stage == "segment corpus" for e in events)
    assert any(isinstance(e, Metric) and e.series == "ngram_bytes_per_piece" for e in events)


def test_a_strict_corpus_fails_with_the_file_named(ray_cluster, tmp_path, train_docs):
    _write_corpus(tmp_path / "corpus", train_docs)
    corpus = Corpus([tmp_path / "corpus"], CorpusOptions(strict=True))
    with pytest.raises(CorpusError, match=r"corpus/(a\.jsonl|b\.txt).*strict mode"):
        _train(corpus, SETTINGS["o6"], RayExecutor(shard_bytes=30_000))


def test_an_empty_corpus_says_so(ray_cluster, tmp_path):
    (tmp_path / "blank.txt").write_text("\n \n\n")
    with pytest.raises(CorpusError, match=r"the corpus is empty: .*blank\.txt"):
        _train(Corpus([tmp_path / "blank.txt"]), SETTINGS["o6"], RayExecutor())


def test_a_pipe_cannot_be_shared_with_the_cluster(ray_cluster, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    corpus = Corpus([fifo])
    try:
        with pytest.raises(CorpusError, match="fifo: a pipe or standard input cannot be shared"):
            _train(corpus, SETTINGS["o6"], RayExecutor())
    finally:
        corpus.close()


@pytest.mark.slow
def test_a_killed_worker_is_retried_and_the_model_is_unchanged(ray_cluster, tmp_path, train_docs):
    docs = train_docs * 6
    killed: list[int] = []
    stop = threading.Event()

    def assassin() -> None:
        while not stop.is_set() and not killed:
            for pid in task_processes("ray::_count_piece_shard"):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            time.sleep(0.005)

    thread = threading.Thread(target=assassin)
    thread.start()
    try:
        ray, _ = _train(docs, SETTINGS["o6"], RayExecutor(shard_bytes=150_000))
    finally:
        stop.set()
        thread.join()
    assert killed, "no task process was found to kill"
    local, _ = _train(docs, SETTINGS["o6"])
    _same(local, ray, tmp_path)


@pytest.mark.slow
def test_cancel_stops_the_cluster_tasks_and_leaves_no_debris(ray_cluster, train_docs):
    before = set(os.listdir(tempfile.gettempdir()))
    cancel = threading.Event()
    trainer = Trainer(**SETTINGS["o6"], ngram_memory=1 << 16)  # spills: a folder to clean
    job = trainer.run(
        train_docs * 8, workers=2, cancel=cancel, executor=RayExecutor(shard_bytes=100_000)
    )
    with pytest.raises(Cancelled):
        for ev in job:
            if isinstance(ev, Progress) and ev.stage == "segment corpus":
                cancel.set()
                t0 = time.monotonic()
    assert time.monotonic() - t0 < 10
    deadline = time.monotonic() + 10
    while task_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert task_processes() == []
    after = set(os.listdir(tempfile.gettempdir()))
    assert not [n for n in after - before if n.startswith("piecelab-")]
