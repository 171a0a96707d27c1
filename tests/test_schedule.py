import random

import pytest

from gate.schedule import GrowingSchedule


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
