"""Numba's on-disk cache, invalidated by a change to any engine module, not just one.

numba stamps a cached function with its own source file only, but a kernel
compiled here carries the code of every compiled function it calls, and those
live in other modules (the list entries inline the Viterbi kernel, pruning
calls it, the enumerations call ``chunk_ends``).  After an edit or a
``git pull`` that touched only the callee's file, the caller's cache would load
the old callee: wrong tokens, silently.  So the engine's functions are stamped
with a digest of all of the engine's sources as well.

:func:`install` must run before any engine module defines a cached kernel:
it runs when this module is imported, which ``piecelab.engine`` does first.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

ENGINE_DIR = Path(__file__).resolve().parent


def engine_digest() -> str:
    """A digest of every engine module's source (names and contents)."""
    h = hashlib.blake2b(digest_size=16)
    for path in sorted(ENGINE_DIR.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


class _EngineStamp:
    """A locator mixin: engine functions get the engine's digest in their stamp."""

    digest = ""

    def get_source_stamp(self):
        stamp = super().get_source_stamp()
        inside = Path(self._py_file).resolve().parent == ENGINE_DIR
        return (stamp, self.digest) if inside else stamp


def install() -> bool:
    """Put the engine stamp on numba's file-backed cache locators (once); False if unknown."""
    try:
        from numba.core import caching
    except ImportError:  # pragma: no cover - numba is a dependency
        return False
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    classes = getattr(impl, "_locator_classes", None)
    if not isinstance(classes, list):
        return False
    if any(issubclass(c, _EngineStamp) for c in classes):
        return True
    _EngineStamp.digest = engine_digest()
    backed = getattr(caching, "_SourceFileBackedLocatorMixin", None)

    def stamped(c: type) -> type:
        if backed is None or not issubclass(c, backed):
            return c
        return type(c.__name__, (_EngineStamp, c), {"__module__": __name__})

    impl._locator_classes = [stamped(c) for c in classes]
    return True


install()
