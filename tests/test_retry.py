"""The retry policy around one API call, in virtual time."""

import pytest

from gate.core.errors import AuthError, TransientError
from gate.wire.retry import call_with_retries
from tests.support import VirtualClock


def flaky(faults: list[Exception], result: str = "ok"):
    calls: list[None] = []

    def call() -> str:
        calls.append(None)
        if faults:
            raise faults.pop(0)
        return result

    return call, calls


def test_transient_faults_are_retried_until_the_call_succeeds(clock: VirtualClock) -> None:
    call, calls = flaky([TransientError("503"), TransientError("reset")])
    assert (
        call_with_retries(
            call, deadline=clock() + 60, clock=clock, sleep=clock.sleep, max_backoff=15
        )
        == "ok"
    )
    assert len(calls) == 3


def test_backoff_grows_and_is_capped(clock: VirtualClock) -> None:
    call, _ = flaky([TransientError("503")] * 12)
    call_with_retries(call, deadline=clock() + 3600, clock=clock, sleep=clock.sleep, max_backoff=4)
    assert max(clock.sleeps) <= 4
    assert sum(clock.sleeps) > 4


def test_retry_after_sets_the_least_wait(clock: VirtualClock) -> None:
    call, _ = flaky([TransientError("429", retry_after=9)])
    call_with_retries(call, deadline=clock() + 60, clock=clock, sleep=clock.sleep, max_backoff=1)
    assert clock.sleeps == [9]


def test_no_retry_sleeps_past_the_deadline(clock: VirtualClock) -> None:
    start = clock()
    call, _ = flaky([TransientError("503")] * 1000)
    with pytest.raises(TransientError, match="503"):
        call_with_retries(call, deadline=start + 30, clock=clock, sleep=clock.sleep, max_backoff=5)
    assert clock() <= start + 30


def test_a_retry_after_beyond_the_deadline_gives_up_at_once(clock: VirtualClock) -> None:
    call, calls = flaky([TransientError("429", retry_after=120)])
    with pytest.raises(TransientError):
        call_with_retries(
            call, deadline=clock() + 30, clock=clock, sleep=clock.sleep, max_backoff=5
        )
    assert len(calls) == 1
    assert clock.sleeps == []


def test_permanent_errors_are_not_retried(clock: VirtualClock) -> None:
    call, calls = flaky([AuthError("401")])
    with pytest.raises(AuthError):
        call_with_retries(
            call, deadline=clock() + 60, clock=clock, sleep=clock.sleep, max_backoff=5
        )
    assert len(calls) == 1
