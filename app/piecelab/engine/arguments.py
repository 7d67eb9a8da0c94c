"""Checks of the arguments users pass, with messages that name the argument and its value.

One check per kind of argument, shared by every entry point (the tokenizer, the
preview, the command line), so that a bad α or seed is refused the same way
wherever it is given.
"""

from __future__ import annotations

import math

_NEG_INF = -math.inf
_TWO63 = 1 << 63
_TWO64 = 1 << 64


def short_repr(obj: object, limit: int = 60) -> str:
    """``repr(obj)`` cut to ``limit`` characters: error messages echo hostile input."""
    text = repr(obj)
    return text if len(text) <= limit else f"{text[: limit - 5]}…({len(text):,} chars)"


def check_alpha(alpha: object) -> float:
    """``alpha`` as a finite float, or a TypeError/ValueError naming it."""
    if not isinstance(alpha, (str, bytes, bytearray)):
        try:
            a = float(alpha)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            pass
        else:
            if math.isfinite(a):
                return a
            raise ValueError(
                f"alpha must be a finite number, got {short_repr(alpha)} (alpha < 0 is Viterbi, "
                "alpha >= 0 samples; large alpha approaches Viterbi)"
            )
    raise TypeError(
        f"alpha must be a real number, got {short_repr(alpha)} ({type(alpha).__name__})"
    )


def is_viterbi(alpha: object) -> bool:
    """Whether α means Viterbi (α < 0), by comparisons; an α that is no number raises."""
    try:  # an int needs no finiteness check; −inf falls through to the sampler, which refuses it
        if alpha < 0 and (alpha.__class__ is int or alpha > _NEG_INF):  # type: ignore[operator]
            return True
    except (TypeError, ValueError):  # ValueError: the truth of an array
        return check_alpha(alpha) < 0  # raises, naming alpha, unless float() takes it
    return False


def kernel_seed(seed: object) -> int:
    """A seed in [0, 2**64) as the int64 with the same bits (kernels take int64)."""
    if type(seed) is not int:
        if isinstance(seed, bool) or not hasattr(seed, "__index__"):
            raise TypeError(
                f"seed must be an int in [0, 2**64) or None, got {short_repr(seed)} "
                f"({type(seed).__name__})"
            )
        seed = seed.__index__()
    if not 0 <= seed < _TWO64:  # type: ignore[operator]
        raise ValueError(f"seed must be in [0, 2**64) or None, got {seed}")
    return seed - _TWO64 if seed >= _TWO63 else seed  # type: ignore[operator,return-value]


def check_workers(workers: object) -> None:
    if workers is None:
        return
    if isinstance(workers, bool) or not hasattr(workers, "__index__"):
        raise TypeError(f"workers must be an int or None, got {short_repr(workers)}")
    if workers.__index__() < 0:  # type: ignore[attr-defined]
        raise ValueError(f"workers must be ≥ 1, or 0 / None for every core; got {workers}")


def check_texts(texts: object) -> None:
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"texts must be a sequence of str, not a single {type(texts).__name__}")
