import math
import random

import pytest

from gate.waiting.schedule import GrowingSchedule, HistorySchedule, history_delay


def test_gaps_start_at_the_interval_and_grow_to_the_cap() -> None:
    schedule = GrowingSchedule(interval=2, max_interval=15, jitter=0)
    assert schedule.next_delay(0) == 2
    assert schedule.next_delay(50) == pytest.approx(5)
    assert schedule.next_delay(3600) == 15


def test_jitter_stays_within_its_fraction_and_under_the_cap() -> None:
    schedule = GrowingSchedule(interval=2, max_interval=15, jitter=0.1, rng=random.Random(7))
    early = [schedule.next_delay(0) for _ in range(500)]
    late = [schedule.next_delay(10_000) for _ in range(500)]
    assert min(early) >= 1.8
    assert max(early) <= 2.2
    assert len(set(early)) > 1
    assert max(late) <= 15
    assert min(late) >= 13.5


def test_reads_for_a_ten_minute_deployment_are_a_fraction_of_a_fixed_loop() -> None:
    schedule = GrowingSchedule(jitter=0)
    elapsed, reads = 0.0, 0
    while elapsed < 600:
        elapsed += schedule.next_delay(elapsed)
        reads += 1
    assert reads < 75
    assert elapsed - 600 <= 15


# --- the history schedule ------------------------------------------------------------------


TEN_MINUTES = [600 * math.exp(0.1 * k) for k in (-2, -1, -1, 0, 0, 0, 1, 1, 2)]


def delay(age: float, history: list[float]) -> float | None:
    return history_delay(age, history, interval=2, sparse_cap=60)


def test_without_enough_history_there_is_no_history_gap() -> None:
    assert delay(10, []) is None
    assert delay(10, [600, 620]) is None


def test_reads_are_sparse_while_an_end_is_unlikely_and_dense_around_the_expected_end() -> None:
    assert delay(10, TEN_MINUTES) == 60
    assert delay(600, TEN_MINUTES) == 2
    early, late = delay(400, TEN_MINUTES), delay(600, TEN_MINUTES)
    assert early is not None
    assert late is not None
    assert early > late


def test_past_everything_history_has_seen_it_gives_way_to_the_growing_schedule() -> None:
    assert delay(3 * 3600, TEN_MINUTES) is None
    schedule = HistorySchedule(TEN_MINUTES, fallback=GrowingSchedule(jitter=0))
    assert schedule.next_delay(3 * 3600) == 15


def test_early_failures_in_history_keep_early_reads_frequent() -> None:
    with_early_failures = [*TEN_MINUTES, 20, 25, 22]
    assert delay(15, with_early_failures) == 2
    assert delay(15, TEN_MINUTES) == 60


def test_it_is_a_pure_function() -> None:
    assert delay(321, TEN_MINUTES) == delay(321, TEN_MINUTES)


def test_the_age_of_the_deployment_counts_not_only_the_wait() -> None:
    started_late = HistorySchedule(TEN_MINUTES, age_at_start=590)
    assert started_late.next_delay(0) == 2
    assert HistorySchedule(TEN_MINUTES).next_delay(0) == 60


def test_with_history_a_ten_minute_deployment_needs_few_reads_and_is_seen_quickly() -> None:
    schedule = HistorySchedule(TEN_MINUTES)
    elapsed, reads = 0.0, 1
    while elapsed < 610:
        elapsed += schedule.next_delay(elapsed)
        reads += 1
    fixed_loop_reads = 610 / 2
    assert reads < 0.3 * fixed_loop_reads
    assert elapsed - 610 <= 2
