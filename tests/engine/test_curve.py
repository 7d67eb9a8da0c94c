"""The compression curve: held-out bytes/token at a ladder of sizes from one run."""

from __future__ import annotations

import gzip
import itertools
import json

import pytest

from piecelab.engine import TrainSettings
from piecelab.engine.events import Log, Metric
from piecelab.engine.trainer import Trainer, curve_sizes

from ..conftest import DATA

HELDOUT = 0.1


@pytest.fixture(scope="module")
def docs() -> list[str]:
    with gzip.open(DATA / "trainer_corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh][:1500]


def test_ladder_is_geometric_from_the_largest_size_to_an_eighth():
    sizes = curve_sizes(32000, 12)
    assert len(sizes) == 12 and sizes[0] == 32000 and sizes[-1] == 4000
    assert sizes == sorted(sizes, reverse=True)
    ratios = [a / b for a, b in itertools.pairwise(sizes)]
    assert max(ratios) - min(ratios) < 0.01
    assert curve_sizes(8000, 2) == [8000, 1000]
    assert curve_sizes(1200, 4) == [1200, 600, 300, 259]  # never below 256 bytes + 3 ids
    assert curve_sizes(300, 5) == [300, 259]  # no repeats
    assert curve_sizes(8000, 0) == []


def test_curve_settings_are_validated():
    for bad in (1, -1, 65):
        with pytest.raises(ValueError, match="curve"):
            TrainSettings(curve=bad).validate()
        with pytest.raises(ValueError, match="curve"):
            Trainer(curve=bad)
    assert TrainSettings(curve=12).validate().trainer().curve_points == 12
    assert TrainSettings(curve=0).trainer().curve_points == 0


@pytest.fixture(scope="module")
def curve_run(docs):
    trainer = Trainer(order=6, max_vocab_size=[900, 500], curve=6)
    events = list(trainer.run(docs, heldout=HELDOUT))
    return trainer, events


def test_curve_events_and_result(curve_run):
    trainer, events = curve_run
    points = [e for e in events if isinstance(e, Metric) and e.series == "curve"]
    by_size = {int(e.extra["size"]): e.y for e in points}
    assert len(by_size) == len(points)  # one event per point
    assert trainer.curve == sorted(by_size.items(), reverse=True)
    assert trainer.result.curve == trainer.curve
    wanted = set(curve_sizes(900, 6)) | {500}
    assert set(by_size) <= wanted and {900, 500} <= set(by_size)
    assert len(by_size) >= 5
    for e in points:  # drawn at the ids the model really has, never above the size asked
        assert e.x <= e.extra["size"] and 1 <= e.y < 5
    held = trainer.result.heldout_bytes_per_token
    assert set(held) == {900, 500}
    assert all(by_size[s] == b for s, b in held.items())
    # the side stops come live, during pruning, before the requested sizes' evaluation
    stages = [i for i, e in enumerate(events) if getattr(e, "stage", "") == "evaluate"]
    side = [i for i, e in enumerate(points) if int(e.extra["size"]) not in held]
    assert side and events.index(points[side[-1]]) < stages[0]


def test_requested_models_are_the_same_as_without_a_curve(docs, curve_run):
    trainer, _ = curve_run
    plain = Trainer(order=6, max_vocab_size=[900, 500])
    plain.train(docs, heldout=HELDOUT)
    assert plain.curve == [] and plain.result.curve == []
    for size, model in plain.models.items():
        assert trainer.models[size].pieces == model.pieces
        assert trainer.models[size].counts.tolist() == model.counts.tolist()
    assert plain.result.heldout_bytes_per_token == trainer.result.heldout_bytes_per_token


def test_point_at_the_requested_size_equals_a_single_size_run(docs):
    curve = Trainer(order=6, max_vocab_size=600, curve=4)
    curve.train(docs, heldout=HELDOUT)
    single = Trainer(order=6, max_vocab_size=600)
    single.train(docs, heldout=HELDOUT)
    assert dict(curve.curve)[600] == single.result.heldout_bytes_per_token[600]
    assert curve.curve[0][0] == 600 and len(curve.curve) >= 3


def test_no_heldout_text_no_curve(docs):
    trainer = Trainer(order=6, max_vocab_size=500, curve=4)
    events = list(trainer.run(docs[:300]))
    assert trainer.curve == []
    assert not [e for e in events if isinstance(e, Metric) and e.series == "curve"]
    assert any(isinstance(e, Log) and "curve" in e.message for e in events)
