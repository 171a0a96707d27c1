"""The best schedule possible, offline: knowing the law of a deployment's duration (not the
outcome), the read times that minimise the expected lag for a given expected number of reads.

Read times are restricted to a fine grid; the durations are binned on it (each bin's mass at
its midpoint). With ``W[i]`` the least expected cost still to come after a read at ``t[i]``
that found the deployment running (weighted by the chance of getting there), ``F`` the
distribution function and ``G[j]`` the sum over bins up to ``j`` of mass times midpoint,

    W[i] = price x S[i] + min over j > i of ( t[j] (F[j] - F[i]) - (G[j] - G[i]) + W[j] )

(the read at ``t[j]`` happens when the deployment outlived ``t[i]``: chance ``S[i]``; it
ends the lag of every duration in between). The inner minimum is over lines
``A[j] - t[j] x`` at ``x = F[i]``: a lower envelope whose queries move one way, so the
dynamic programme is linear in the grid (the convex hull trick). A Lagrange price per read
turns "least lag for this many reads" into that unconstrained problem; :func:`matched`
searches the price at which the optimum makes as many reads as the gate did.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Cdf = Callable[[float], float]


@dataclass(frozen=True)
class Law:
    """A duration's law on a grid: read times ``times`` (the first is 0) and ``cdf`` there."""

    times: tuple[float, ...]
    cdf: tuple[float, ...]

    @classmethod
    def on_grid(cls, cdf: Cdf, low: float, high: float, points: int) -> Law:
        """Times 0, then ``points`` evenly from ``low`` to ``high``; all mass by ``high``."""
        step = (high - low) / (points - 1)
        times = (0.0, *(low + k * step for k in range(points)))
        values = [min(max(cdf(t), 0.0), 1.0) for t in times]
        for k in range(1, len(values)):
            values[k] = max(values[k], values[k - 1])
        values[-1] = 1.0
        return cls(times, tuple(values))


def plan(law: Law, price: float, min_gap: float = 0.0) -> list[float]:
    """The read times (from 0) that minimise expected lag + ``price`` x expected reads, no
    two closer than ``min_gap`` (but the last, at the end of the law)."""
    t, F = law.times, law.cdf
    n = len(t)
    G = [0.0] * n
    for k in range(1, n):
        G[k] = G[k - 1] + (F[k] - F[k - 1]) * (t[k] + t[k - 1]) / 2
    W = [0.0] * n
    after = [n - 1] * n
    hull: deque[int] = deque()  # lines by index, oldest (smallest t: best at large x) first

    def value(j: int, x: float) -> float:
        return t[j] * F[j] - G[j] + W[j] - t[j] * x

    def add(j: int) -> None:
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            # where a and b cross; b is useless if the new line is at least as low there
            ab = ((t[b] * F[b] - G[b] + W[b]) - (t[a] * F[a] - G[a] + W[a])) / (t[b] - t[a])
            if value(j, ab) <= value(b, ab):
                hull.pop()
            else:
                break
        hull.append(j)

    add(n - 1)
    allowed = n - 2  # the next line to add once it is min_gap after the read at hand
    for i in range(n - 2, -1, -1):
        while allowed > i and t[allowed] >= t[i] + min_gap:
            add(allowed)
            allowed -= 1
        x = F[i]
        if 1 - x <= 0:
            W[i], after[i] = 0.0, n - 1
            continue
        while len(hull) >= 2 and value(hull[1], x) <= value(hull[0], x):
            hull.popleft()
        best = hull[0]
        W[i] = price * (1 - x) + value(best, x) + G[i]
        after[i] = best
    reads, k = [t[0]], 0
    while k < n - 1 and F[k] < 1:
        k = after[k]
        reads.append(t[k])
    if reads[-1] < t[-1]:  # the law's end (its distribution function rounded to 1 before it)
        reads.append(t[-1])
    return reads


def lag_and_reads(reads: Sequence[float], duration: float) -> tuple[float, int]:
    """The lag and the reads of a schedule on a deployment of ``duration``."""
    for count, at in enumerate(reads, start=1):
        if at >= duration:
            return at - duration, count
    return math.inf, len(reads)


def matched(
    laws: Sequence[Law],
    cases: Sequence[tuple[int, float]],
    reads_wanted: float,
    min_gap: float = 0.0,
) -> tuple[list[tuple[float, int]], float]:
    """The optimum for each law at the one price at which, over ``cases`` (a law's index and
    a duration), it makes ``reads_wanted`` reads on average (or just fewer); its lag and
    reads for each case, and the price."""

    def run(price: float) -> list[tuple[float, int]]:
        plans = [plan(law, price, min_gap) for law in laws]
        return [lag_and_reads(plans[index], duration) for index, duration in cases]

    def mean_reads(results: list[tuple[float, int]]) -> float:
        return sum(reads for _, reads in results) / len(results)

    low, high = math.log(1e-4), math.log(1e3)  # cheap reads: many; dear: few
    best = run(math.exp(high))
    for _ in range(18):
        middle = (low + high) / 2
        results = run(math.exp(middle))
        if mean_reads(results) <= reads_wanted:
            high, best = middle, results
        else:
            low = middle
    return best, math.exp(high)
