"""A first start (nothing compiled): the tokenizer answers at once, with the same results.

Each test runs a fresh process with an empty ``NUMBA_CACHE_DIR``, so numba has to
compile; the tokenizer builds and compiles on a thread and answers short texts with
the plain-Python preview meanwhile, which must give exactly what the kernels give.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from piecelab import Tokenizer

TEXTS = ["床前明月光，疑是地上霜。\nIt was the best of times.", "abc", "", "a\n\n\nb"]

CHILD = textwrap.dedent(
    """
    import json, sys
    from piecelab import Tokenizer
    tok = Tokenizer(sys.argv[1], seed=5)
    texts = json.loads(sys.argv[2])
    out = {"ready_at_start": tok.ready}
    out["tokenize"] = [[p.hex() for p in tok.tokenize(t)] for t in texts]
    out["encode"] = [tok.encode(t, add_bos=True) for t in texts]
    out["sampled"] = [tok.encode(t, alpha=0.3, seed=9) for t in texts]
    out["stream"] = [tok.encode(texts[0], alpha=0.5) for _ in range(3)]  # seeds from seed=5
    out["segment"] = [tok.segment(t, alpha=0.2, seed=3).ids.tolist() for t in texts]
    out["still_warming"] = not tok.ready
    out["top_k"] = [s.ids.tolist() for s, _ in tok.top_k("abcabc", 3, 0.5)]  # needs the trie
    out["ready_at_end"] = tok.wait_ready(600) and tok.ready
    out["after"] = [tok.encode(t, alpha=0.3, seed=9) for t in texts]  # the kernels' own
    print(json.dumps(out))
    """
)


def expected(path, texts) -> dict:
    tok = Tokenizer(str(path), seed=5)
    return {
        "tokenize": [[p.hex() for p in tok.tokenize(t)] for t in texts],
        "encode": [tok.encode(t, add_bos=True) for t in texts],
        "sampled": [tok.encode(t, alpha=0.3, seed=9) for t in texts],
        "stream": [tok.encode(texts[0], alpha=0.5) for _ in range(3)],
        "segment": [tok.segment(t, alpha=0.2, seed=3).ids.tolist() for t in texts],
        "top_k": [s.ids.tolist() for s, _ in tok.top_k("abcabc", 3, 0.5)],
    }


@pytest.mark.slow
def test_first_start_answers_at_once_with_the_kernels_results(tmp_path, bundled_model_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(bundled_model_path), json.dumps(TEXTS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["ready_at_start"] is False  # nothing was compiled: the preview answered
    assert got["ready_at_end"] is True
    want = expected(bundled_model_path, TEXTS)
    assert got["after"] == want["sampled"]
    for key, value in want.items():
        assert got[key] == value, key


def test_a_warm_cache_builds_at_once(bundled_model_path):
    first = Tokenizer(str(bundled_model_path))  # compiles here if this run has not yet
    assert first.wait_ready(600)
    first.tokenize("abc"), first.tokenize("abc", alpha=0.5)
    tok = Tokenizer(str(bundled_model_path))
    assert tok.ready and tok.wait_ready(0)
    assert "_listed" not in vars(tok)  # the lean path is the class's own method
