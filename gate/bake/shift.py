"""How far one sample is shifted from another, at a stated confidence: the one-sided
confidence bound of the Hodges-Lehmann shift, from the Mann-Whitney distribution.

With ``a`` (``n`` values) and ``b`` (``m`` values), the Hodges-Lehmann estimate of the shift
of ``b`` over ``a`` is the median of the ``n m`` differences ``b_j - a_i``; its lower bound at
confidence ``1 - alpha`` is the ``k``-th smallest difference, where ``k`` is the Mann-Whitney
critical value: the largest ``k`` with ``P(U <= k - 1) <= alpha``. By the normal
approximation, with the ties correction and a continuity correction::

    k = floor(n m / 2 + 1/2 - z(1 - alpha) * sigma)
    sigma^2 = n m / 12 * (n + m + 1 - sum(t^3 - t) / ((n + m) (n + m - 1)))

(``t``: the size of each group of equal values in both samples together). The bound is the
test inverted: ``b - L`` is not significantly greater than ``a``, so a bound above 0 is the
one-sided Mann-Whitney test rejecting "no shift" at ``alpha``, and a bound above ``d`` is the
test rejecting "a shift of ``d``". With ties (counts), differences equal to the bound make it
conservative: the shift is at least ``L`` with at least that confidence.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from functools import partial
from operator import sub
from statistics import NormalDist

__all__ = ["lower_bound"]

_SORTED_UP_TO = 250_000
"""Pairs sorted outright (a 500 x 500 comparison, in tens of milliseconds); past that, the
k-th difference is selected without listing them (two windows of 10,000 samples are 10^8)."""


def lower_bound(a: Sequence[float], b: Sequence[float], confidence: float) -> float | None:
    """The least shift of ``b`` over ``a`` at ``confidence``; None when the samples are too
    few for any bound at that confidence (no ``k >= 1``)."""
    n, m = len(a), len(b)
    ties = sum(t**3 - t for t in Counter([*a, *b]).values())
    total = n + m
    variance = n * m / 12 * (total + 1 - ties / (total * (total - 1)))
    z = NormalDist().inv_cdf(confidence)
    k = math.floor(n * m / 2 + 0.5 - z * math.sqrt(max(variance, 0.0)))
    if k < 1:
        return None
    if n * m <= _SORTED_UP_TO:
        return sorted(y - x for y in b for x in a)[k - 1]
    return _select(sorted(a, reverse=True), sorted(b), k)


def _select(descending: list[float], ascending: list[float], k: int) -> float:
    """The ``k``-th smallest (from 1) of ``y - x`` over ``y`` in ``ascending`` and ``x`` in
    ``descending``, without listing them: each ``y`` is a sorted row of differences; a pivot
    (the weighted median of the rows' middle candidates) is counted in every row by
    bisection, and the candidates on its wrong side are dropped, a quarter at least a round."""
    size = len(descending)
    low = [0] * len(ascending)  # a row's differences before low[j] are below the answer
    high = [size] * len(ascending)  # and those from high[j] on are above it
    while True:
        middles = sorted(
            (y - descending[(start + end) // 2], end - start)
            for y, start, end in zip(ascending, low, high, strict=True)
            if start < end
        )
        pivot = _weighted_median(middles)
        below = [
            bisect_left(descending, pivot, start, end, key=partial(sub, y))
            for y, start, end in zip(ascending, low, high, strict=True)
        ]
        if k <= sum(below):
            high = below
            continue
        at_most = [
            bisect_right(descending, pivot, start, end, key=partial(sub, y))
            for y, start, end in zip(ascending, low, high, strict=True)
        ]
        if k <= sum(at_most):
            return pivot
        low = at_most


def _weighted_median(weighted: list[tuple[float, int]]) -> float:
    """The first value, in ``weighted``'s order, with half the weight at or before it."""
    half, running = sum(weight for _, weight in weighted) / 2, 0
    for value, weight in weighted:
        running += weight
        if running >= half:
            return value
    raise AssertionError("no candidates left: k is past the differences")
