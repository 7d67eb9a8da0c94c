"""How the tokenizer gets Python lists from the kernels, and calls them cheaply.

Turning token ids into a list of ``bytes`` with numpy (an object-array take,
then ``tolist``) costs two numpy calls and a slice per sentence, a large share
of tokenize().  Instead the kernels (:func:`~piecelab.engine.kernels.viterbi_list`
and its kin) build the list with CPython's own list calls, from a table of the
objects' addresses (the model's ``bytes`` pieces, or cached ``int`` ids), and
:class:`Direct` calls the compiled overload without numba's type dispatch.
Figures: benchmarks/NOTES.md, "token lists".

The tables hold borrowed addresses: whoever passes one keeps its objects alive
(the tokenizer does).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def address_table(objects: list) -> np.ndarray:
    """The addresses of ``objects`` (CPython's ``id``) for the entries above.

    The caller must keep ``objects`` alive for as long as it uses the table.
    """
    return np.fromiter(map(id, objects), np.int64, len(objects))


class Direct:
    """One compiled overload of a numba function, called without its type dispatch.

    numba types every argument on every call to pick the overload, which is
    measurable on a sentence.  ``call`` goes through the dispatcher the first
    time, which compiles or loads the overload, and to that overload's entry
    point afterwards, so the arguments must keep exactly the first call's types
    (the tokenizer's arrays and ``bytes`` always do).  It stays the dispatcher
    if this numba keeps no entry point.
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
