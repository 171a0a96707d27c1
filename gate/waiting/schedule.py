"""When to read a deployment next: densely where it is likely to end, sparsely where not.

A deployment's chance of still running at age ``t`` is its *survival* ``S(t)``. Each gap is
the ``g`` whose expected cost, were the deployment to end within it, is the *price* of a read
(:func:`next_gap`): ``P(it ends within g | running) x (g / 2 + late cost x P(lag is late)) =
price``. Without the late cost that is the optimal inspection rule for a known law (reads at
a density of ``sqrt(hazard / (2 x price))``: the gap shrinks as the hazard of completing
rises), taken over each gap rather than at its start, so a gap never leaps over a likely end.
Minimising the mean lag alone leaves late the deployments that end early in their law's
range, where reads are sparse: with history an answer later than :data:`LATE_AFTER`
intervals costs :data:`LATE_COST` seconds more, which moves reads there (the p95 of the lag).
The price is one for every target, whatever its history: a read is worth as much lag on a
short deployment as on a long one, which is what spends a budget of reads best across many
targets. The user's knob is the *read budget* (:func:`price_for_budget`): reads, as a
fraction of a fixed 2 s loop's, on the prior's law; the price it gives serves every target
with history, and a share of the budget (:data:`PRIOR_BUDGET_SHARE`) every target without.

The survival is what the target's past deployments say (:func:`history_survival`: a kernel
estimate of their durations as wide as their robust spread, with a wide share for doubt, so
a run that outlasts its history is still read often enough), or without history the prior
(:func:`prior_survival`): 30% of deployments are over in a second or three (those that fail
at once), the rest take a minute to an hour. Gaps stay between ``interval`` and the longest
gap. Everything but :class:`DistributionSchedule`'s wrapping is a pure function.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from gate.core.durations import format_duration

__all__ = [
    "DEFAULT_INTERVAL",
    "DEFAULT_MAX_INTERVAL",
    "DEFAULT_READ_BUDGET",
    "DEFAULT_SPARSE_CAP",
    "LATE_AFTER",
    "LATE_COST",
    "MIN_HISTORY",
    "PRIOR_BUDGET_SHARE",
    "DistributionSchedule",
    "Schedule",
    "Survival",
    "history_survival",
    "next_gap",
    "price_for_budget",
    "prior_survival",
    "what_history_says",
]

DEFAULT_INTERVAL = 2.0
DEFAULT_MAX_INTERVAL = 15.0
"""The longest gap without history, unless the caller sets a longest gap of their own."""
DEFAULT_SPARSE_CAP = 4 * DEFAULT_MAX_INTERVAL
"""The longest gap with history, unless the caller sets a longest gap of their own."""
DEFAULT_READ_BUDGET = 0.25
"""Reads, as a fraction of a fixed 2 s loop's, that the rule without the late cost would make
on the prior's law. On the bench's replay (targets whose history is known, 2 to 40 minutes)
the rule with the late cost comes to 0.27-0.29 of the loop's reads (two seeds): a known
target's reads bunch where it ends."""
PRIOR_BUDGET_SHARE = 0.462
"""Without history the gate spends this share of the budget: knowing little, a read buys
less lag (on the bench's replay: less lag than botocore's 15 s waiter, for 12% more reads;
the growing gap it replaced made 55% more). With gaps of at most 15 s and a first gap of
``interval`` (for deployments that fail at once), no prior reads less often than a 15 s
waiter; a lower share reads as seldom as the waiter but sees deployments later than it."""
MIN_HISTORY = 3
"""Fewer past durations than this say too little; the prior is used."""
BANDWIDTH = 0.6
"""Kernel width, in log space, per unit of the history's robust spread (1.4826 x the median
absolute deviation of the logarithms, as wide as the standard deviation on a log-normal law):
wide enough that ten durations make a smooth law rather than ten bumps with sparse reads
between them, and blind to the odd outlier (or a few quick failures), which keep bumps of
their own."""
MIN_BANDWIDTH = 0.05
"""The narrowest kernel: durations that agree to the second still vary by a few percent."""
DOUBT = 0.05
DOUBT_WIDTH = 0.7
"""Weight and log-space width of the wide part of the history's estimate."""
LATE_AFTER = 1.4
"""An answer is late when its lag passes this many intervals: 1.5 x the p95 of a fixed loop
at ``interval`` (0.95 of it), the aim for a gate with history."""
LATE_COST = 15.0
"""What a late answer costs with history, in seconds of lag, on top of its lag."""
PRIOR_QUICK = 0.3
PRIOR_QUICK_SPAN = (1.0, 3.0)
PRIOR_SLOW_SPAN = (60.0, 3600.0)
"""The prior without history: ``PRIOR_QUICK`` of deployments end within seconds (log-evenly
over ``PRIOR_QUICK_SPAN``: those that fail at once), the rest take a minute to an hour (over
``PRIOR_SLOW_SPAN``). The quick share makes the first gap ``interval``, then the gaps widen
to the slow share's. A quick share spread over more seconds, or a slow share from a minute,
costs deployments of many minutes reads; a prior with nothing between 5 s and 2 minutes
reads less than a 15 s waiter on the bench's replay, but sees a 50 s deployment 20 s late
(bench/RESULTS.md)."""
_LOG_WIDTH = 0.4

Survival = Callable[[float], float]
"""Chance that the deployment is still running at an age, in seconds."""


class Schedule(Protocol):
    def next_delay(self, elapsed: float) -> float:
        """Seconds to sleep before the next read, ``elapsed`` seconds into the wait."""
        ...


def _still_running(t: float, centers: Sequence[float], width: float) -> float:
    """Survival of an even mixture of log-normal laws at ``centers`` (log seconds)."""
    x = math.log(max(t, 1e-3))
    scale = width * math.sqrt(2)
    return statistics.fmean(0.5 * math.erfc((x - center) / scale) for center in centers)


def _log_spaced(low: float, high: float, count: int) -> tuple[float, ...]:
    step = math.log(high / low) / (count - 1)
    return tuple(math.log(low) + k * step for k in range(count))


_QUICK = _log_spaced(*PRIOR_QUICK_SPAN, 6)
_SLOW = _log_spaced(*PRIOR_SLOW_SPAN, 12)


def prior_survival(t: float) -> float:
    """Without history: a share of deployments take seconds, the rest minutes to an hour."""
    return PRIOR_QUICK * _still_running(t, _QUICK, _LOG_WIDTH) + (1 - PRIOR_QUICK) * _still_running(
        t, _SLOW, _LOG_WIDTH
    )


def history_survival(durations: Sequence[float]) -> Survival | None:
    """The survival ``durations`` (the target's past deployments, seconds) say, or None
    when they are too few to say anything."""
    if len(durations) < MIN_HISTORY:
        return None
    centers = tuple(math.log(max(duration, 1.0)) for duration in durations)
    middle = statistics.median(centers)
    spread = 1.4826 * statistics.median(abs(center - middle) for center in centers)
    bandwidth = max(MIN_BANDWIDTH, BANDWIDTH * spread)

    def survival(t: float) -> float:
        return (1 - DOUBT) * _still_running(t, centers, bandwidth) + (
            DOUBT * _still_running(t, centers, DOUBT_WIDTH)
        )

    return survival


def next_gap(
    age: float,
    survival: Survival,
    *,
    price: float,
    interval: float,
    longest: float,
    late_cost: float = 0.0,
) -> float:
    """The gap after a read at ``age`` that found the deployment running: the ``g`` in
    [``interval``, ``longest``] whose expected cost, were the deployment to end within it,
    is the price: ``P(it ends within g | running) x (g / 2 + late_cost x P(lag > late))
    = price``, a lag being late past :data:`LATE_AFTER` intervals (uniform in the gap)."""
    alive = survival(age)
    if alive <= 0:
        return interval
    late = LATE_AFTER * interval

    def worth(gap: float) -> float:  # twice the expected cost
        ends = max(0.0, 1 - survival(age + gap) / alive)
        return ends * (gap + 2 * late_cost * max(0.0, 1 - late / gap))

    target = 2 * price
    if worth(interval) >= target:
        return interval
    if worth(longest) <= target:
        return longest
    low, high = interval, longest  # worth(low) < target < worth(high); worth grows with gap
    for _ in range(12):
        middle = (low + high) / 2
        low, high = (middle, high) if worth(middle) <= target else (low, middle)
    return low


def _reads_of_a_loop_and_of_the_rule(survival: Survival, interval: float) -> tuple[float, float]:
    """Expected reads of a fixed loop at ``interval`` and of the rule at price 1/2
    (``integral of sqrt(f x S) dt``; at price ``p`` it is that over ``sqrt(2 p)``)."""
    loop, rule = 0.0, 0.0
    t, step = 0.5, 1.05
    previous = survival(t)
    while previous > 1e-6 and t < 1e6:
        following = survival(t * step)
        width = t * (step - 1)
        loop += width * following / interval
        rule += math.sqrt(max(previous - following, 0.0) * width * following)
        t, previous = t * step, following
    return loop, rule


@cache
def price_for_budget(budget: float, interval: float = DEFAULT_INTERVAL) -> float:
    """The price of a read (seconds of lag) at which the rule spends about ``budget`` times
    the reads of a fixed loop at ``interval``, on the prior's law. One price for every
    target: with history the reads go where they buy the most lag."""
    loop, rule = _reads_of_a_loop_and_of_the_rule(prior_survival, interval)
    return (rule / (budget * loop)) ** 2 / 2


@dataclass(frozen=True)
class DistributionSchedule:
    """Gaps from :func:`next_gap` for the deployment's age, on its survival."""

    survival: Survival
    price: float
    """Seconds of lag one read is worth (:func:`price_for_budget`)."""
    age_at_start: float = 0.0
    """How old the deployment was when the wait started (from its creation time)."""
    interval: float = DEFAULT_INTERVAL
    longest: float = DEFAULT_MAX_INTERVAL
    late_cost: float = 0.0
    """Seconds of lag a late answer costs besides its lag (:data:`LATE_COST` with history)."""

    @classmethod
    def of(
        cls,
        durations: Sequence[float] = (),
        *,
        budget: float = DEFAULT_READ_BUDGET,
        interval: float = DEFAULT_INTERVAL,
        longest: float = DEFAULT_MAX_INTERVAL,
        sparse_cap: float = DEFAULT_SPARSE_CAP,
        age_at_start: float = 0.0,
    ) -> DistributionSchedule:
        """On what the target's past ``durations`` say, gaps up to ``sparse_cap``, a late
        answer costing :data:`LATE_COST`; or, when they are too few, on the prior at its share
        of ``budget``, gaps up to ``longest`` (without history nearly every answer is later
        than :data:`LATE_AFTER` intervals: a late cost would buy nothing)."""
        known = history_survival(durations)
        if known is None:
            price = price_for_budget(budget * PRIOR_BUDGET_SHARE)
            return cls(prior_survival, price, age_at_start, interval, longest)
        price = price_for_budget(budget)
        return cls(known, price, age_at_start, interval, sparse_cap, LATE_COST)

    def next_delay(self, elapsed: float) -> float:
        return next_gap(
            self.age_at_start + elapsed,
            self.survival,
            price=self.price,
            interval=self.interval,
            longest=self.longest,
            late_cost=self.late_cost,
        )


def what_history_says(durations: Sequence[float]) -> str:
    """The history a schedule stands on, in a few words: how many, median and p90."""
    count = len(durations)
    if count < MIN_HISTORY:
        known = f"{count} earlier deployment{'' if count == 1 else 's'} known"
        return f"no history ({known}; {MIN_HISTORY} needed): a prior of seconds to an hour"
    ordered = sorted(durations)
    p90 = ordered[min(count - 1, math.ceil(0.9 * count) - 1)]
    return (
        f"history of {count} earlier deployments (median "
        f"{format_duration(statistics.median(ordered))}, p90 {format_duration(p90)})"
    )
