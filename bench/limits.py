"""What stands between the schedule and the aims it misses (issue 32), on the replay's draws.

With history, the aims are p95 lag at most 1.5 x a 2 s loop's at no more than 30% of its
calls, with mean lag within 1.2 x the optimum's for as many calls. The gate's rule is
myopic: each gap looks one gap ahead. Here it stands beside the exact plan for the law the
history says (:func:`planned`, a dynamic programme over a 1 s grid with a late cost of its
own, :data:`PLAN_LATE_COST`, and the rule's gap bounds), so what remains is what ten past
durations can say, not the rule.

Without history, the aim is less lag than botocore's 15 s waiter at no more calls. With a
read at 0 and no gap over 15 s, a schedule makes at least ``1 + ceil(duration / 15)`` reads,
the waiter's count, on every deployment; fewer calls need longer gaps somewhere. Here: the
gate's prior with gaps up to 30 s, and a prior made of the organisation's latest deployments to
other targets (what a new target's neighbours did), each at the price that makes the
waiter's calls.

``python -m bench.limits [--seed N ...] [--count N] [--without-history-only]``: about 10
minutes of CPU a seed (3 without history); prints rows.
"""

from __future__ import annotations

import argparse
import math
import statistics
from collections.abc import Callable, Sequence

from bench import lag
from gate.waiting.schedule import (
    DEFAULT_SPARSE_CAP,
    DOUBT,
    DOUBT_WIDTH,
    LATE_AFTER,
    DistributionSchedule,
    Survival,
    _still_running,
    history_survival,
    next_gap,
    price_for_budget,
    prior_survival,
)

Delay = Callable[[float], float]
Case = tuple[float, Survival, float]
"""A deployment's duration, the law its schedule assumes, and its longest gap."""
INTERVAL = 2.0
PLAN_BUDGET, PLAN_LATE_COST = 0.22, 25.0
"""The exact plan's read budget and late cost: near the p95 aim on seeds 7 and 8."""
NEIGHBOUR_WIDTH = 0.3
"""Log-space kernel width for other environments' durations (they spread over 20x)."""


def planned(survival: Survival, price: float, late_cost: float, longest: float) -> list[float]:
    """Read times (from 0) that minimise expected lag + ``late_cost`` x P(lag > late) +
    ``price`` x reads on ``survival``, gaps in [``INTERVAL``, ``longest``], on a 1 s grid up
    to where the survival is under 1e-4."""
    horizon = 60.0
    while survival(horizon) > 1e-4 and horizon < 4 * 3600:
        horizon *= 1.25
    n = int(horizon) + 1
    alive = [survival(float(k)) for k in range(n)]
    ended = [1 - s for s in alive]
    moment = [0.0] * n  # the first moment of the ended mass up to each point
    for k in range(1, n):
        moment[k] = moment[k - 1] + (ended[k] - ended[k - 1]) * (k - 0.5)
    late = LATE_AFTER * INTERVAL
    ended_early = [1 - survival(k - late) if k > late else 0.0 for k in range(n)]
    shortest, widest = int(INTERVAL), int(longest)
    cost, after = [0.0] * n, [n - 1] * n
    for i in range(n - 2, -1, -1):
        best, chosen = math.inf, n - 1
        for j in range(i + shortest, min(i + widest, n - 1) + 1):
            value = j * (ended[j] - ended[i]) - (moment[j] - moment[i]) + cost[j]
            value += late_cost * max(0.0, ended_early[j] - ended[i])
            if value < best:
                best, chosen = value, j
        cost[i] = price * alive[i] + (best if math.isfinite(best) else 0.0)
        after[i] = chosen
    reads, k = [0.0], 0
    while k < n - 1:
        k = after[k]
        reads.append(float(k))
    return reads


def following(reads: Sequence[float], fallback: Delay) -> Delay:
    """The delay to the next planned read; past the plan, ``fallback``'s."""

    def delay(elapsed: float) -> float:
        for at in reads:
            if at > elapsed + 1e-9:
                return at - elapsed
        return fallback(elapsed)

    return delay


def read(delay: Delay, duration: float) -> tuple[float, int]:
    """Lag and reads of a schedule (reading at 0, then after each delay) on ``duration``."""
    t, reads = 0.0, 1
    while t < duration:
        t += delay(t)
        reads += 1
    return t - duration, reads


def with_history(seed: int, count: int, grid: int = 3000) -> list[tuple[str, str]]:
    environments, drawn = lag.replay_draws(count, seed)
    loop = lag.figures([read(lambda _: INTERVAL, one.duration) for one in drawn])
    price = price_for_budget(PLAN_BUDGET)
    schedules: dict[str, Callable[[lag.Drawn], Delay]] = {
        "gate's rule": _rule_of,
        f"exact plan on the history's law (budget {PLAN_BUDGET}, late cost "
        f"{PLAN_LATE_COST:g} s)": lambda one: _plan_of(one.history, price),
    }
    rows = [("fixed 2 s loop", lag.said(loop))]
    for name, schedule in schedules.items():
        results = [read(schedule(one), one.duration) for one in drawn]
        results = [(lag_, reads + 1) for lag_, reads in results]  # the history's read
        row = lag.figures(results)
        samples = [
            lag.Sample("gate, with history", one.duration, lag_, reads, one.environment)
            for one, (lag_, reads) in zip(drawn, results, strict=True)
        ]
        best = statistics.fmean(s.lag for s in lag.optima(samples, environments, grid))
        rows.append(
            (
                name,
                f"{lag.said(row)}: calls x{row['calls'] / loop['calls']:.3f} of the loop's, "
                f"p95 x{row['lag_p95'] / loop['lag_p95']:.2f} of its, "
                f"mean x{row['lag_mean'] / best:.2f} the optimum's ({best:.2f} s)",
            )
        )
    return rows


def _rule_of(one: lag.Drawn) -> Delay:
    return DistributionSchedule.of(one.history).next_delay


def _plan_of(history: Sequence[float], price: float) -> Delay:
    survival = history_survival(history)
    assert survival is not None
    reads = planned(survival, price, PLAN_LATE_COST, DEFAULT_SPARSE_CAP)
    return following(reads, _rule_at(price, survival, DEFAULT_SPARSE_CAP))


def without_history(seed: int, count: int) -> list[tuple[str, str]]:
    _, drawn = lag.replay_draws(count, seed)
    waiter = lag.figures([read(lambda _: 15.0, one.duration) for one in drawn])
    gate = lag.figures(
        [read(DistributionSchedule.of(()).next_delay, one.duration) for one in drawn]
    )
    rows = [
        ("botocore waiter (15 s)", lag.said(waiter)),
        ("gate's prior, gaps to 15 s", lag.said(gate)),
    ]
    priors: dict[str, list[Case]] = {
        "gate's prior, gaps to 30 s": [(one.duration, prior_survival, 30.0) for one in drawn]
    }
    for k in (6, 20, 40):
        priors[f"the organisation's {k} latest deployments elsewhere, gaps to 60 s"] = [
            (one.duration, _neighbours(one.others[:k]), DEFAULT_SPARSE_CAP) for one in drawn
        ]
    for name, laws in priors.items():
        row = _at_calls(laws, waiter["calls"])
        versus = row["lag_mean"] / waiter["lag_mean"]
        rows.append((name, f"{lag.said(row)}: lag mean x{versus:.3f} the waiter's"))
    return rows


def _rule_at(price: float, survival: Survival, longest: float) -> Delay:
    def delay(t: float) -> float:
        return next_gap(t, survival, price=price, interval=INTERVAL, longest=longest)

    return delay


def _at_calls(cases: Sequence[Case], calls: float) -> dict[str, float]:
    """The rule's figures at the lowest price (of 10 halvings in log space between 0.02 and
    5) whose mean calls are at most ``calls``."""

    def at(price: float) -> dict[str, float]:
        return lag.figures([read(_rule_at(price, s, cap), duration) for duration, s, cap in cases])

    low, high = math.log(0.02), math.log(5.0)
    best = at(math.exp(high))
    for _ in range(10):
        middle = (low + high) / 2
        found = at(math.exp(middle))
        if found["calls"] <= calls:
            high, best = middle, found
        else:
            low = middle
    return best


def _neighbours(durations: Sequence[float]) -> Survival:
    centers = tuple(math.log(max(d, 1.0)) for d in durations)

    def survival(t: float) -> float:
        return (1 - DOUBT) * _still_running(t, centers, NEIGHBOUR_WIDTH) + DOUBT * (
            _still_running(t, centers, DOUBT_WIDTH)
        )

    return survival


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.limits")
    parser.add_argument("--seed", type=int, nargs="+", default=[7, 8])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--without-history-only", action="store_true")
    args = parser.parse_args()
    parts = (without_history,) if args.without_history_only else (with_history, without_history)
    for seed in args.seed:
        for part in parts:
            where = f"seed {seed}, {part.__name__.replace('_', ' ')}"
            for who, figures_said in part(seed, args.count):
                print(f"| {where} | {who} | {figures_said} |")


if __name__ == "__main__":
    main()
