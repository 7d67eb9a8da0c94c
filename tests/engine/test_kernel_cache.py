"""numba's disk cache must not hand back a kernel compiled against an older callee."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import piecelab
from piecelab.engine import enumerations, kernel_cache, kernels, prune

SCRIPT = """
import numpy as np
from piecelab.engine import enumerations
from piecelab.engine.trie import build_trie
pieces = [b"a", b"\\n", b"b", b"\\nb"]
t = build_trie(pieces, np.arange(3, 7, dtype=np.int32), reverse=False)
text = np.frombuffer(b"a\\nb", np.uint8)
s, e, i = enumerations.all_matches(text, np.zeros(0, np.int64), t.base, t.check, t.value, 2)
print(sorted(zip(s.tolist(), e.tolist())))
"""


@pytest.mark.parametrize(
    "dispatcher", [kernels.viterbi_list, kernels.segment, prune._viterbi_chunk, enumerations.k_best]
)
def test_engine_kernels_are_stamped_with_the_whole_engine(dispatcher):
    locator = dispatcher._cache._impl._locator
    assert isinstance(locator, kernel_cache._EngineStamp)
    assert locator.get_source_stamp()[1] == kernel_cache.engine_digest()


@pytest.mark.slow
def test_editing_a_callee_recompiles_its_callers(tmp_path):
    """all_matches (enumerations.py) calls chunk_ends (kernels.py); edit only the latter."""
    src = Path(piecelab.__file__).parent
    shutil.copytree(src, tmp_path / "piecelab", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    env.pop("NUMBA_CACHE_DIR", None)
    env.pop("NUMBA_DISABLE_JIT", None)

    def run() -> str:
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT], env=env, cwd=tmp_path, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    assert run() == "[(0, 1), (1, 2), (2, 3)]"  # "a\n" and "b" are two chunks
    assert list((tmp_path / "piecelab" / "engine" / "__pycache__").glob("enumerations*.nbc"))
    path = tmp_path / "piecelab" / "engine" / "kernels.py"
    code = path.read_text()
    old = "    return out[:m]\n"
    assert code.count(old) == 1
    path.write_text(code.replace(old, "    return out[m - 1 : m]  # one chunk\n"))
    assert run() == "[(0, 1), (1, 2), (1, 3), (2, 3)]"  # recompiled: "\nb" now matches
