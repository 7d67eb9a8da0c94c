"""Goodness of fit for the sampler: is a set of draws consistent with exact probabilities?"""

from __future__ import annotations

import math

import numpy as np


def chi2_sf(stat: float, df: int) -> float:
    """P(χ²_df ≥ stat): the regularized upper incomplete gamma Q(df/2, stat/2)."""
    a, x = df / 2.0, stat / 2.0
    if df <= 0:
        return math.nan
    if x <= 0:
        return 1.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:  # series for the lower function P, then Q = 1 − P
        term = total = 1.0 / a
        n = a
        for _ in range(10_000):
            n += 1
            term *= x / n
            total += term
            if term < total * 1e-16:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    tiny = 1e-300  # modified Lentz continued fraction for Q
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        h *= d * c
        if abs(d * c - 1) < 1e-16:
            break
    return min(1.0, math.exp(log_front) * h)


def goodness_of_fit(expected: np.ndarray, observed: np.ndarray) -> tuple[float, int, float]:
    """(χ², degrees of freedom, p-value) pooling categories expected fewer than 5 times."""
    order = np.argsort(expected)[::-1]
    e_cells, o_cells = [], []
    pool_e = pool_o = 0.0
    for i in order:
        if expected[i] >= 5:
            e_cells.append(expected[i])
            o_cells.append(observed[i])
        else:
            pool_e += expected[i]
            pool_o += observed[i]
    if pool_e > 0:
        e_cells.append(pool_e)
        o_cells.append(pool_o)
    e, o = np.array(e_cells), np.array(o_cells)
    df = len(e) - 1
    if df < 1:
        return 0.0, 0, 1.0
    stat = float(((o - e) ** 2 / e).sum())
    return stat, df, chi2_sf(stat, df)
