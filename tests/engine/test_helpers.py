"""Qt-free helpers the views and the command line share: throttling, statistics, settings."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from piecelab.engine import (
    Progress,
    Throttle,
    TrainSettings,
    chi2_sf,
    goodness_of_fit,
    parse_sizes,
)


def test_throttle_sends_new_percentages_and_every_100_ms():
    now = [0.0]
    th = Throttle(0.1, clock=lambda: now[0])
    ev = [Progress("s", d, 10_000, "bytes", 0) for d in range(0, 10_001)]
    sent = [e for e in ev if th(e)]
    assert 100 <= len(sent) <= 102  # one per rounded percent, plus the last
    assert sent[-1].done == 10_000
    unknown = Progress("t", 5, 0, "documents", 0)
    assert th(unknown) and not th(unknown)
    now[0] += 0.1
    assert th(unknown)


def test_chi_square_tail_matches_known_quantiles():
    assert chi2_sf(3.841458820694124, 1) == pytest.approx(0.05, abs=1e-9)
    assert chi2_sf(18.307038053275146, 10) == pytest.approx(0.05, abs=1e-9)
    assert chi2_sf(0.11483180189911725, 3) == pytest.approx(0.99, abs=1e-9)
    assert chi2_sf(0.0, 4) == 1.0 and chi2_sf(500.0, 4) < 1e-100
    stat, df, _p = goodness_of_fit(
        np.array([50.0, 30.0, 16.0, 3.0, 1.0]), np.array([55, 25, 15, 4, 1])
    )
    assert df == 3  # the two cells expected fewer than 5 times are pooled
    assert stat == pytest.approx(25 / 50 + 25 / 30 + 1 / 16 + 1 / 4)


def test_vocabulary_sizes_parse_from_one_place():
    assert parse_sizes("8000, 16_000,32000,") == (8000, 16000, 32000)
    for bad, why in (("40k", "whole numbers"), (" , ", "at least one"), ("", "at least one")):
        with pytest.raises(ValueError, match=why):
            parse_sizes(bad)


def test_train_settings_validate_and_build_the_trainer():
    s = TrainSettings(order=5, vocab_sizes=[1000, 300], min_count=3, isolate_digits=True)
    assert s.vocab_sizes == (1000, 300) and s.sizes_text == "1000,300"
    trainer = s.trainer()
    assert (trainer.order, trainer.max_vocab_size, trainer.min_count) == (5, [1000, 300], 3)
    assert trainer.isolate_digits and trainer.ensure_unicode
    assert pickle.loads(pickle.dumps(s)) == s  # it travels to the training process
    for field, value, why in (
        ("order", 0, "order"),
        ("order", 99, "order"),
        ("vocab_sizes", (300, 100), "at least 259"),
        ("min_count", 0, "min count"),
        ("max_piece_length", 0, "max piece length"),
        ("workers", 0, "workers"),
    ):
        with pytest.raises(ValueError, match=why):
            s.replace(**{field: value}).validate()
