"""Token boundaries identical to BytePiece 0.6.3 on the published model (golden files)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json

import pytest

from ..conftest import DATA, SHARED_TEST

GOLDEN = DATA / "golden"
pytestmark = pytest.mark.shared


def test_edge_cases_match_bytepiece(shared_tokenizer):
    cases = json.loads((GOLDEN / "bp80k_edge.json").read_text())
    assert len(cases) >= 40
    for case in cases:
        expected = [base64.b64decode(t) for t in case["tokens_b64"]]
        assert shared_tokenizer.tokenize(case["text"]) == expected, case["text"][:60]
        assert shared_tokenizer.encode(case["text"]) == case["ids"]


def test_test_documents_match_bytepiece(shared_tokenizer):
    if not SHARED_TEST.is_file():
        pytest.skip("../shared/corpora is absent")
    with gzip.open(GOLDEN / "bp80k_test_docs.jsonl.gz", "rt") as fh:
        golden = [json.loads(line) for line in fh]
    with gzip.open(SHARED_TEST, "rt", encoding="utf-8") as fh:
        docs = [json.loads(line)["text"] for _, line in zip(range(len(golden)), fh)]
    assert len(docs) == len(golden) == 3000
    mismatches = []
    batch = shared_tokenizer.tokenize_batch(docs)
    for doc, gold, pieces in zip(docs, golden, batch):
        assert hashlib.sha1(doc.encode()).hexdigest() == gold["sha1"]
        if [len(p) for p in pieces] != gold["lengths"]:
            mismatches.append(gold["i"])
    assert not mismatches, f"{len(mismatches)} documents differ, first {mismatches[:5]}"
    # and one at a time, through the plain API
    for doc, gold in zip(docs[:300], golden[:300]):
        assert [len(p) for p in shared_tokenizer.tokenize(doc)] == gold["lengths"]
