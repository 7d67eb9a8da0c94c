"""Kernels that hand back the Python list itself: the lean path of tokenize() and encode().

Turning token ids into a list of ``bytes`` with numpy (an object-array take, then
``tolist``) cost ~1 µs a sentence, a sixth of tokenize(), almost all of it the
fixed cost of two numpy calls and a slice.  Here the kernel builds the list with
CPython's own list calls, from a table of the objects' addresses (the model's
``bytes`` pieces, or cached ``int`` ids), in ~0.15 µs for 55 tokens; measured
through tokenize() on the benchmark model it is +19%, and calling the compiled
overload without numba's type dispatch (:class:`Direct`) another +4%.

These entries hold the GIL (they create Python objects), unlike the other
kernels; a sentence takes microseconds, and tokenize_batch keeps its nogil
kernel for the work it spreads over threads.  The tables hold borrowed
addresses: whoever passes one keeps its objects alive (the tokenizer does).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .kernels import _NO_FORCED, _run

_MAX_TEXT = 2**31  # chunk-local positions and token ends are int32


@intrinsic
def _new_list(typingctx, table, idx, k):
    """``[table[idx[0]], ..., table[idx[k-1]]]`` as a new Python list.

    ``table`` holds object addresses (int64), ``idx`` indices into it (all
    valid: the caller checks).  Each item gets a new reference, which the list
    owns; the list is the caller's new reference (numba returns it as it is).
    """
    sig = types.Object(list)(table, idx, k)

    def codegen(context, builder, signature, args):
        pyapi = context.get_python_api(builder)
        tab = context.make_array(signature.args[0])(context, builder, args[0])
        ix = context.make_array(signature.args[1])(context, builder, args[1])
        n = args[2]
        lst = pyapi.list_new(n)  # NULL with MemoryError set: returned as is, raised
        filled = cgutils.is_not_null(builder, lst)
        with builder.if_then(filled, likely=True), cgutils.for_range(builder, n) as loop:
            i = builder.load(builder.gep(ix.data, [loop.index]))
            if i.type.width < 64:
                i = builder.sext(i, ir.IntType(64))
            obj = builder.inttoptr(builder.load(builder.gep(tab.data, [i])), pyapi.pyobj)
            pyapi.incref(obj)
            pyapi.list_setitem(lst, loop.index, obj)  # steals the reference
        return lst

    return sig, codegen


@njit(cache=True, inline="always")
def _listed(table, ids, k):
    """The list of ``table`` objects for ``ids[:k]``; empty if a byte was uncovered (id −1)."""
    for j in range(k):
        if ids[j] < 0:
            return _new_list(table, ids, 0)
    return _new_list(table, ids, k)


@njit(cache=True)
def viterbi_list(text, rt, val, ids, table):
    """The Viterbi tokens of ``text`` (``bytes``) as a list of ``table`` objects.

    ``rt``, ``val``, ``ids`` are the reversed trie, its log-probabilities and
    piece ids per slot (see :mod:`~piecelab.engine.kernels`); ``table`` maps a
    piece id to the address of the object to return for it.  An empty list
    for a non-empty text means a byte had no piece: the caller reports it.
    """
    n = len(text)
    if n >= _MAX_TEXT:
        raise ValueError("texts of 2 GiB or more must be split before tokenizing")
    out = np.empty(n, np.int32)
    k, _ = _run(text, _NO_FORCED, rt, val, ids, False, 0, 0, out, out, False)
    return _listed(table, out, k)


@njit(cache=True)
def sample_list(text, rt, val, ids, seed, table):
    """One exact draw (``val`` holding p^α per slot) as :func:`viterbi_list`."""
    n = len(text)
    if n >= _MAX_TEXT:
        raise ValueError("texts of 2 GiB or more must be split before tokenizing")
    out = np.empty(n, np.int32)
    k, _ = _run(text, _NO_FORCED, rt, val, ids, True, seed, 0, out, out, False)
    return _listed(table, out, k)


@njit(cache=True)
def list_of(table, ids):
    """The ``table`` objects of ``ids`` (int32, all valid) as a list."""
    return _new_list(table, ids, len(ids))


def address_table(objects: list) -> np.ndarray:
    """The addresses of ``objects`` (CPython's ``id``) for the entries above.

    The caller must keep ``objects`` alive for as long as it uses the table.
    """
    return np.fromiter(map(id, objects), np.int64, len(objects))


class Direct:
    """One compiled overload of a numba function, called without its type dispatch.

    numba types every argument on every call to pick the overload (0.17 µs
    for five arguments, measured), which on a sentence is 3% of tokenize().
    ``call`` goes through the dispatcher the first time, which compiles or
    loads the overload, and to that overload's entry point afterwards, so the
    arguments must keep exactly the first call's types (the tokenizer's arrays
    and ``bytes`` always do).  It stays the dispatcher if this numba keeps no
    entry point.
    """

    __slots__ = ("call", "dispatcher")

    def __init__(self, dispatcher) -> None:
        self.dispatcher = dispatcher
        self.call: Callable = self._first

    def _first(self, *args):
        out = self.dispatcher(*args)
        d = self.dispatcher
        try:
            self.call = d.overloads[tuple(map(d.typeof_pyval, args))].entry_point
        except (AttributeError, KeyError):
            self.call = self.dispatcher
        return out
