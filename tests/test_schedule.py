"""The schedule as tables: pure functions of a deployment's age, its law and a price."""

import math

import pytest

from gate import Timing, wait
from gate.waiting.schedule import (
    DEFAULT_INTERVAL,
    DEFAULT_READ_BUDGET,
    LATE_AFTER,
    LATE_COST,
    PRIOR_BUDGET_SHARE,
    DistributionSchedule,
    history_survival,
    next_gap,
    price_for_budget,
    prior_survival,
    what_history_says,
)
from tests.support import VirtualClock
from tests.test_engine import ScriptedProvider, finishing_at

TEN_MINUTES = [600 * math.exp(0.1 * k) for k in (-2, -1, -1, 0, 0, 0, 1, 1, 2)]


def reads_until(schedule: DistributionSchedule, duration: float) -> tuple[int, float]:
    """Reads (the first at 0) and lag of ``schedule`` on a deployment of ``duration``."""
    elapsed, reads = 0.0, 1
    while elapsed < duration:
        elapsed += schedule.next_delay(elapsed)
        reads += 1
    return reads, elapsed - duration


def hazard(survival: object, age: float, width: float = 5.0) -> float:
    assert callable(survival)
    alive = survival(age)
    return (alive - survival(age + width)) / (width * alive)


def test_without_enough_history_there_is_no_history_law() -> None:
    assert history_survival([]) is None
    assert history_survival([600, 620]) is None
    assert DistributionSchedule.of([600, 620]).survival is prior_survival


@pytest.mark.parametrize(
    ("durations", "expected"),
    [
        ([], prior_survival),
        ([600, 620], prior_survival),
    ],
    ids=["none", "two"],
)
def test_no_history_means_the_prior(durations: list[float], expected: object) -> None:
    schedule = DistributionSchedule.of(durations)
    assert schedule.survival is expected
    assert schedule.price == price_for_budget(DEFAULT_READ_BUDGET * PRIOR_BUDGET_SHARE)
    assert schedule.longest == 15


def test_gaps_shrink_as_the_hazard_of_completing_rises() -> None:
    """Ages of a deployment whose kind took about 10 minutes: in the order of the hazard
    of completing there, the gaps fall, from the longest gap while an end is unlikely
    down to ``interval`` around the expected end."""
    survival = history_survival(TEN_MINUTES)
    assert survival is not None
    ages = [10, 300, 400, 450, 500, 550, 600, 650]
    by_hazard = sorted(ages, key=lambda age: hazard(survival, age))
    gaps = [next_gap(age, survival, price=0.02, interval=2, longest=60) for age in by_hazard]
    assert gaps == sorted(gaps, reverse=True)
    assert gaps[0] > 30
    assert gaps[-1] == 2


@pytest.mark.parametrize("age", [0, 1, 10, 100, 300, 590, 600, 700, 1200, 3 * 3600])
@pytest.mark.parametrize(
    ("interval", "longest"), [(2, 60), (2, 15), (0.05, 0.2), (30, 30)], ids=str
)
def test_every_gap_is_within_the_bounds(age: float, interval: float, longest: float) -> None:
    for survival in (prior_survival, history_survival(TEN_MINUTES)):
        assert survival is not None
        for price in (0.001, 0.02, 0.15, 10.0):
            gap = next_gap(age, survival, price=price, interval=interval, longest=longest)
            assert interval <= gap <= longest


def test_a_higher_price_never_reads_more() -> None:
    survival = history_survival(TEN_MINUTES)
    assert survival is not None
    reads = [
        reads_until(DistributionSchedule(survival, price, longest=60), 620)[0]
        for price in (0.005, 0.02, 0.1, 0.5)
    ]
    assert reads == sorted(reads, reverse=True)
    assert reads[0] > reads[-1]


@pytest.mark.parametrize("budget", [0.1, 0.35])
def test_the_budget_is_respected_on_the_law_it_is_set_on(budget: float) -> None:
    """On deployments drawn from the prior's own law (its quantiles), the rule at the
    budget's price reads about ``budget`` x a fixed 2 s loop's reads, never far more."""
    quantiles = [_prior_quantile((k + 0.5) / 40) for k in range(40)]
    price = price_for_budget(budget)
    schedule = DistributionSchedule(prior_survival, price, longest=3600)
    ours = sum(reads_until(schedule, d)[0] for d in quantiles)
    loop = sum(math.ceil(d / 2) + 1 for d in quantiles)
    assert ours <= 1.25 * budget * loop


def _prior_quantile(chance: float) -> float:
    low, high = 0.01, 1e5
    for _ in range(60):
        middle = math.sqrt(low * high)
        low, high = (middle, high) if 1 - prior_survival(middle) < chance else (low, middle)
    return high


def test_it_is_a_pure_function() -> None:
    survival = history_survival(TEN_MINUTES)
    assert survival is not None
    assert next_gap(321, survival, price=0.02, interval=2, longest=60) == next_gap(
        321, survival, price=0.02, interval=2, longest=60
    )


def test_early_failures_in_history_keep_early_reads_frequent() -> None:
    with_early_failures = history_survival([*TEN_MINUTES, 20, 25, 22])
    only_long = history_survival(TEN_MINUTES)
    assert with_early_failures is not None
    assert only_long is not None
    assert next_gap(15, with_early_failures, price=0.02, interval=2, longest=60) < 3
    assert next_gap(15, only_long, price=0.02, interval=2, longest=60) > 30


def test_the_age_of_the_deployment_counts_not_only_the_wait() -> None:
    started_late = DistributionSchedule.of(TEN_MINUTES, age_at_start=590)
    assert started_late.next_delay(0) < 3
    assert DistributionSchedule.of(TEN_MINUTES).next_delay(0) > 30


def test_one_price_serves_every_history() -> None:
    """A read is worth as much lag on any target: the price does not follow the history."""
    short = DistributionSchedule.of([60, 62, 58, 61])
    long = DistributionSchedule.of([2400, 2500, 2300])
    assert short.price == long.price == price_for_budget(DEFAULT_READ_BUDGET)


def test_with_history_a_ten_minute_deployment_needs_few_reads_and_is_seen_quickly() -> None:
    reads, lag = reads_until(DistributionSchedule.of(TEN_MINUTES), 610)
    fixed_loop_reads = 610 / 2
    assert reads < 0.3 * fixed_loop_reads
    assert lag <= 2


@pytest.mark.parametrize(
    ("duration", "most_reads", "most_lag"),
    [(1, 2, 2), (5, 4, 15), (30, 6, 15), (120, 14, 15), (600, 52, 15), (2400, 200, 15)],
)
def test_without_history_the_first_read_is_soon_and_no_gap_passes_15s(
    duration: float, most_reads: int, most_lag: float
) -> None:
    reads, lag = reads_until(DistributionSchedule.of(), duration)
    assert DistributionSchedule.of().next_delay(0) == 2
    assert reads <= most_reads
    assert 0 <= lag <= most_lag


def test_what_history_says_names_its_count_median_and_p90() -> None:
    assert what_history_says([60, 120, 600]) == (
        "history of 3 earlier deployments (median 2m00s, p90 10m00s)"
    )
    assert what_history_says([60]).startswith("no history (1 earlier deployment known; 3 needed)")


def test_the_wait_without_history_reads_a_ten_minute_deployment_less_than_a_growing_gap() -> None:
    """Through the wait engine, in virtual time: on the prior, a 10-minute deployment costs
    at most 50 reads (a gap growing with the time waited made about 60) and is seen within 15 s."""
    clock = VirtualClock()
    provider = ScriptedProvider(clock, finishing_at(600))
    outcome = wait(provider, timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.succeeded
    assert outcome.polls <= 50
    assert 0 <= provider.reads[-1] - provider.started - 600 <= 15


USUAL_TEN_MINUTES = [
    600 * math.exp(0.2 * z) for z in (-1.3, -0.8, -0.5, -0.25, 0, 0, 0.25, 0.5, 0.8, 1.3)
]
"""Ten earlier deployments of a target whose deployments take ten minutes, give or take 20%."""


class KnownTarget(ScriptedProvider):
    def past_durations(self) -> list[float]:
        return USUAL_TEN_MINUTES


@pytest.mark.parametrize("duration", [460, 500, 540, 580, 620, 680])
def test_with_history_every_usual_end_is_seen_on_time_at_under_a_third_of_a_loops_reads(
    duration: float,
) -> None:
    """Through the wait engine, in virtual time: wherever in its history's usual range the
    deployment ends, it is seen within ``LATE_AFTER`` intervals, at under a third of a 2 s
    loop's reads (a narrow kernel with a wider doubt read past the median so densely that an
    11-minute end cost 118 reads)."""
    clock = VirtualClock()
    provider = KnownTarget(clock, finishing_at(duration))
    outcome = wait(provider, timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.succeeded
    assert provider.reads[-1] - provider.started - duration <= LATE_AFTER * DEFAULT_INTERVAL
    assert outcome.polls < (duration / DEFAULT_INTERVAL + 1) / 3


@pytest.mark.parametrize(
    ("age", "mean_only", "with_late_cost"),
    [(460, 5.9, 3.5), (520, 4.1, 3.1), (600, 3.0, 2.8), (700, 2.5, 2.5)],
)
def test_the_late_cost_shortens_the_gaps_where_an_answer_would_be_late(
    age: float, mean_only: float, with_late_cost: float
) -> None:
    """Early in a ten-minute history's range the hazard is low and the mean-only gap long:
    the late cost brings it down towards ``LATE_AFTER`` intervals (2.8 s); where gaps are
    short already, it changes nothing."""
    survival = history_survival(USUAL_TEN_MINUTES)
    assert survival is not None
    price = price_for_budget(DEFAULT_READ_BUDGET)
    gaps = [
        next_gap(age, survival, price=price, interval=2, longest=60, late_cost=cost)
        for cost in (0.0, LATE_COST)
    ]
    assert gaps == pytest.approx([mean_only, with_late_cost], abs=0.2)


def test_a_few_quick_failures_or_an_outlier_do_not_blur_a_history() -> None:
    """The kernel's width follows the history's robust spread: an outlier (or three quick
    failures) keeps a bump of its own, and the usual range is read as densely as without it."""
    plain = history_survival(USUAL_TEN_MINUTES)
    odd = history_survival([*USUAL_TEN_MINUTES, 3000])
    assert plain is not None
    assert odd is not None
    price = price_for_budget(DEFAULT_READ_BUDGET)
    for age in (500, 560, 600, 650):
        assert next_gap(age, odd, price=price, interval=2, longest=60) == pytest.approx(
            next_gap(age, plain, price=price, interval=2, longest=60), abs=0.6
        )
