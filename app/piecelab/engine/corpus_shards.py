"""A corpus cut into shards that separate processes can read: cluster tasks.

A shard is a file, or the lines of a large plain file that start in a byte range
(JSON Lines and one-document-per-line text); compressed files, JSON arrays and
paragraph-mode text are read whole, since they cannot be entered in the middle.
Every document of the corpus is in exactly one shard, so counts summed over the
shards equal the counts of one pass over the corpus.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from . import corpus_formats as cf
from .corpus import Corpus, CorpusError, CorpusOptions

DEFAULT_SHARD_BYTES = 64 << 20


@dataclass(frozen=True)
class Shard:
    """One task's part of a corpus: a file, or the lines starting in ``[start, end)``."""

    index: int
    path: str  # absolute: workers may run in another folder
    name: str  # as the corpus shows it, for problems
    fmt: str
    start: int = 0
    end: int = -1  # -1: the whole file
    size: int = 0  # bytes on disk it covers (compressed bytes), for progress
    mtime: int = 0


def plan_shards(corpus: Corpus, target: int = DEFAULT_SHARD_BYTES) -> list[Shard]:
    """The shards of ``corpus``, splitting files larger than ``target`` bytes where they
    can be split.  Pipes and stdin cannot be read by other processes: refused."""
    target = max(1, int(target))
    shards: list[Shard] = []
    for entry in corpus.file_list():
        if entry.is_pipe:
            raise CorpusError(
                f"{entry.name}: a pipe or standard input cannot be shared with cluster "
                "workers; save it to a file first"
            )
        fmt = entry.fmt
        try:
            with open(entry.path, "rb") as fh:
                head = fh.read(cf.SNIFF_BYTES)
        except OSError:
            head = b""  # the task reports it, naming the file, as a local pass does
        splittable = entry.size > target and not cf.looks_compressed(head)
        if splittable and fmt in ("auto", "json-array-or-lines"):
            fmt = cf.sniff_format(head)
            if fmt == "txt" and entry.fmt == "json-array-or-lines":
                splittable = False  # a JSON array, or something the reader decides later
        if splittable and fmt == "txt" and corpus.options.paragraphs:
            splittable = False
        path = os.path.abspath(entry.path)
        if not splittable:
            shards.append(Shard(len(shards), path, entry.name, entry.fmt, size=entry.size))
            continue
        parts = -(-entry.size // target)
        step = -(-entry.size // parts)
        for start in range(0, entry.size, step):
            end = min(entry.size, start + step)
            shards.append(
                Shard(len(shards), path, entry.name, fmt, start, end, end - start, entry.mtime)
            )
    return shards


def open_shard(shard: Shard, options: CorpusOptions) -> Corpus:
    """The shard as a :class:`Corpus` of its own (read with ``documents("all")``)."""
    corpus = Corpus([shard.path], options)
    lines = (shard.start, shard.end, shard.fmt, shard.mtime) if shard.end >= 0 else None
    corpus.as_part(shard.name, lines)
    return corpus


def shard_bytes(total: int, workers: int, target: int = DEFAULT_SHARD_BYTES) -> int:
    """A shard size giving every worker several shards (load balance, finer progress),
    at most ``target`` and at least 1 MB."""
    return max(1 << 20, min(target, -(-total // max(1, 4 * workers))))


__all__ = ["DEFAULT_SHARD_BYTES", "Shard", "open_shard", "plan_shards", "shard_bytes"]
