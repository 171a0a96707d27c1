"""The wait loop, in virtual time, over a provider that answers from a script."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping

import pytest

from gate import WaitOptions, wait
from gate.core.errors import (
    AuthError,
    ConfigError,
    Interrupted,
    NotFoundError,
    Stopped,
    TransientError,
    UsageError,
)
from gate.core.model import ErrorDetail, OutcomeStatus, Snapshot, State
from gate.waiting.engine import Timing
from tests.support import RecordingReporter, VirtualClock

RUNNING = Snapshot(State.RUNNING, "in progress")
SUCCEEDED = Snapshot(State.SUCCEEDED, "succeeded")
FAILED = Snapshot(State.FAILED, "failed", (ErrorDetail(code="E1", message="boom"),))

Answer = Snapshot | Exception | Callable[[], Snapshot]


class ScriptedProvider:
    """Answers each read from a function of the virtual time."""

    name = "scripted"

    def __init__(self, clock: VirtualClock, answer: Callable[[float], Answer]) -> None:
        self.clock = clock
        self.answer = answer
        self.reads: list[float] = []
        self.started = clock()

    @property
    def target(self) -> Mapping[str, str]:
        return {"id": "d-1"}

    def describe(self) -> str:
        return "scripted deployment d-1"

    def fetch(self) -> Snapshot:
        self.reads.append(self.clock())
        result = self.answer(self.clock() - self.started)
        if isinstance(result, Exception):
            raise result
        if callable(result):
            return result()
        return result

    def close(self) -> None:
        pass


def finishing_at(seconds: float, final: Snapshot = SUCCEEDED) -> Callable[[float], Answer]:
    return lambda t: final if t >= seconds else RUNNING


def run(clock: VirtualClock, answer: Callable[[float], Answer], **options: float):
    provider = ScriptedProvider(clock, answer)
    reporter = RecordingReporter(clock)
    outcome = wait(
        provider,
        WaitOptions(**options),
        reporter=reporter,
        timing=Timing(clock=clock, sleep=clock.sleep),
    )
    return outcome, provider, reporter


def test_success_is_reported_with_timings_and_reads(clock: VirtualClock) -> None:
    outcome, provider, reporter = run(clock, finishing_at(100))
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert outcome.exit_code == 0
    assert outcome.raw_status == "succeeded"
    assert outcome.polls == len(provider.reads)
    assert 100 <= outcome.elapsed_seconds <= 100 + 15
    assert reporter.kinds("status") == ["in progress", "succeeded"]


def test_failure_carries_the_providers_error_details(clock: VirtualClock) -> None:
    outcome, _, _ = run(clock, finishing_at(30, FAILED))
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.exit_code == 1
    assert outcome.errors == FAILED.errors
    assert not outcome.succeeded


def test_ten_minute_deployment_is_seen_within_15s_with_far_fewer_reads(
    clock: VirtualClock,
) -> None:
    outcome, provider, _ = run(clock, finishing_at(600))
    assert outcome.succeeded
    lag = provider.reads[-1] - provider.started - 600
    assert 0 <= lag <= 15
    fixed_two_second_loop_reads = 600 / 2
    assert len(provider.reads) < fixed_two_second_loop_reads / 3


def test_first_gap_is_short(clock: VirtualClock) -> None:
    _, provider, _ = run(clock, finishing_at(1))
    assert provider.reads[1] - provider.reads[0] <= 2.2


def test_deadline_is_hard_and_ends_with_a_read_at_the_deadline(clock: VirtualClock) -> None:
    outcome, provider, _ = run(clock, lambda t: RUNNING, timeout=300)
    assert outcome.status is OutcomeStatus.TIMED_OUT
    assert outcome.exit_code == 3
    assert provider.reads[-1] == pytest.approx(provider.started + 300)
    assert clock() == pytest.approx(provider.started + 300)
    assert "'in progress'" in (outcome.reason or "")


def test_first_terminal_status_wins(clock: VirtualClock) -> None:
    answers = iter([RUNNING, SUCCEEDED, FAILED])
    outcome, provider, _ = run(clock, lambda t: next(answers))
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert len(provider.reads) == 2


def test_unknown_status_is_warned_once_waited_on_and_named_at_the_deadline(
    clock: VirtualClock,
) -> None:
    paused = Snapshot(State.UNKNOWN, "Paused")
    outcome, _, reporter = run(clock, lambda t: paused, timeout=120)
    warnings = reporter.kinds("warning")
    assert len(warnings) == 1
    assert "'Paused'" in warnings[0]
    assert outcome.status is OutcomeStatus.TIMED_OUT
    assert "'Paused'" in (outcome.reason or "")
    assert outcome.warnings == (warnings[0],)


def test_transient_faults_are_retried_and_never_count_as_a_status(clock: VirtualClock) -> None:
    faults = iter([TransientError("HTTP 503"), TransientError("HTTP 502")])

    def answer(t: float) -> Answer:
        return next(faults, None) or (SUCCEEDED if t > 20 else RUNNING)

    outcome, _, reporter = run(clock, answer)
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert len(reporter.kinds("retrying")) == 2


def test_retry_after_is_honoured(clock: VirtualClock) -> None:
    faults = iter([TransientError("HTTP 429", retry_after=7.0)])
    outcome, provider, _ = run(clock, lambda t: next(faults, None) or SUCCEEDED)
    assert outcome.succeeded
    assert provider.reads[1] - provider.reads[0] >= 7.0


def test_faults_until_the_deadline_end_as_unreadable_naming_the_fault(
    clock: VirtualClock,
) -> None:
    outcome, provider, _ = run(clock, lambda t: TransientError("HTTP 503 from the API"), timeout=60)
    assert outcome.status is OutcomeStatus.ERROR
    assert outcome.exit_code == 4
    assert "HTTP 503 from the API" in (outcome.reason or "")
    assert clock() <= provider.started + 60


def test_auth_error_ends_the_wait_at_once(clock: VirtualClock) -> None:
    outcome, provider, _ = run(clock, lambda t: AuthError("token refused (HTTP 401)"))
    assert outcome.status is OutcomeStatus.ERROR
    assert outcome.exit_code == 4
    assert len(provider.reads) == 1
    assert outcome.reason == "token refused (HTTP 401)"


def test_not_found_during_the_grace_is_waited_through(clock: VirtualClock) -> None:
    def answer(t: float) -> Answer:
        return NotFoundError("no such deployment") if t < 20 else SUCCEEDED

    outcome, _, _ = run(clock, answer, not_found_grace=30)
    assert outcome.succeeded


def test_not_found_after_the_grace_is_an_error(clock: VirtualClock) -> None:
    outcome, provider, _ = run(
        clock, lambda t: NotFoundError("deployment d-1 was not found"), not_found_grace=30
    )
    assert outcome.status is OutcomeStatus.ERROR
    assert "was not found" in (outcome.reason or "")
    assert "30.0s" in (outcome.reason or "")
    assert 30 <= clock() - provider.started <= 35


def test_a_heartbeat_is_said_at_least_every_minute(clock: VirtualClock) -> None:
    outcome, _, reporter = run(clock, finishing_at(900), max_interval=120)
    assert outcome.succeeded
    said = [at for at, kind, _ in reporter.events if kind != "finished"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(said)]
    assert max(gaps) <= 60
    assert reporter.kinds("heartbeat")


@pytest.mark.parametrize(
    ("interrupt", "exit_code"),
    [(KeyboardInterrupt(), 130), (Interrupted(15), 143)],
    ids=["sigint", "sigterm"],
)
def test_interrupt_ends_the_wait_with_the_last_status(
    clock: VirtualClock, interrupt: BaseException, exit_code: int
) -> None:
    def answer(t: float) -> Answer:
        if t > 10:
            raise interrupt
        return RUNNING

    outcome, _, _ = run(clock, answer)
    assert outcome.status is OutcomeStatus.CANCELLED
    assert outcome.exit_code == exit_code
    assert outcome.raw_status == "in progress"
    assert "'in progress'" in (outcome.reason or "")


def test_a_wait_its_caller_stops_is_cancelled_with_the_callers_reason(
    clock: VirtualClock,
) -> None:
    def answer(t: float) -> Answer:
        if t > 10:
            raise Stopped("cancelled by --fail-fast: production failed")
        return RUNNING

    outcome, _, _ = run(clock, answer)
    assert outcome.status is OutcomeStatus.CANCELLED
    assert outcome.reason == (
        "cancelled by --fail-fast: production failed; last status 'in progress'"
    )
    assert outcome.signal is None


@pytest.mark.parametrize(
    "options",
    [
        {"timeout": 0},
        {"interval": -1},
        {"interval": 20, "max_interval": 10},
        {"not_found_grace": -1},
    ],
    ids=["zero-timeout", "negative-interval", "interval-over-max", "negative-grace"],
)
def test_bad_options_are_usage_errors(options: dict[str, float]) -> None:
    with pytest.raises(UsageError):
        WaitOptions(**options)


def test_wall_clock_jumps_change_neither_the_deadline_nor_the_elapsed_time(
    clock: VirtualClock,
) -> None:
    from datetime import datetime, timedelta, timezone

    walls = iter(
        [datetime(2026, 11, 23, 12, tzinfo=timezone.utc) + timedelta(hours=h) for h in (0, -5)]
    )
    provider = ScriptedProvider(clock, finishing_at(50))
    outcome = wait(
        provider,
        WaitOptions(timeout=120),
        timing=Timing(clock=clock, sleep=clock.sleep, wall_clock=lambda: next(walls)),
    )
    assert outcome.succeeded
    assert 50 <= outcome.elapsed_seconds <= 65
    assert outcome.finished_at < outcome.started_at  # the wall clock went back; we did not


def suspended_after(clock: VirtualClock, seconds: float) -> Callable[[float], None]:
    """A sleeper whose machine is suspended for hours once ``seconds`` have passed."""

    def sleep(delay: float) -> None:
        clock.sleep(delay)
        if clock() - 1000 > seconds:
            clock.advance(10_000)

    return sleep


def test_a_monotonic_leap_past_the_deadline_reads_once_more_then_times_out(
    clock: VirtualClock,
) -> None:
    provider = ScriptedProvider(clock, lambda t: RUNNING)
    outcome = wait(
        provider,
        WaitOptions(timeout=300),
        timing=Timing(clock=clock, sleep=suspended_after(clock, 10)),
    )
    assert outcome.status is OutcomeStatus.TIMED_OUT
    assert provider.reads[-1] - provider.started > 300


def test_a_deployment_that_finished_during_a_suspend_is_still_reported_as_succeeded(
    clock: VirtualClock,
) -> None:
    provider = ScriptedProvider(clock, finishing_at(400))
    outcome = wait(
        provider,
        WaitOptions(timeout=300),
        timing=Timing(clock=clock, sleep=suspended_after(clock, 10)),
    )
    assert outcome.succeeded


class ForgetfulProvider(ScriptedProvider):
    """Offers history but cannot read it."""

    def past_durations(self) -> list[float]:
        raise TransientError("HTTP 503 on the deployment list")


def test_unreadable_history_falls_back_to_the_prior(clock: VirtualClock) -> None:
    provider = ForgetfulProvider(clock, finishing_at(600))
    outcome = wait(provider, timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.succeeded
    assert 40 < outcome.polls < 100


# --- every ending is an Outcome --------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        ConfigError("AWS credentials vanished"),
        UsageError("an id the API handed back is unusable"),
        RuntimeError("a provider bug"),
        RecursionError("maximum recursion depth exceeded"),
    ],
    ids=["config", "usage", "bug", "recursion"],
)
def test_a_library_caller_always_gets_an_outcome(clock: VirtualClock, error: Exception) -> None:
    outcome, _, reporter = run(clock, lambda t: RUNNING if t < 10 else error)
    assert outcome.status is OutcomeStatus.ERROR
    assert outcome.exit_code == 4
    assert outcome.raw_status == "in progress"
    assert reporter.kinds("finished") == ["error"]


class BrokenPipeReporter(RecordingReporter):
    def _log(self, kind: str, value: object) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_reporter_that_cannot_write_changes_nothing(clock: VirtualClock) -> None:
    provider = ScriptedProvider(clock, finishing_at(30))
    outcome = wait(
        provider, reporter=BrokenPipeReporter(clock), timing=Timing(clock=clock, sleep=clock.sleep)
    )
    assert outcome.succeeded


class NaiveHistoryProvider(ScriptedProvider):
    """Offers history whose timestamps mix naive and aware, as a careless API might."""

    def past_durations(self) -> list[float]:
        from datetime import datetime, timezone

        return [(datetime.now(timezone.utc) - datetime(2026, 1, 1)).total_seconds()]


def test_history_that_breaks_never_ends_the_wait(clock: VirtualClock) -> None:
    provider = NaiveHistoryProvider(clock, finishing_at(120))
    outcome = wait(provider, timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.succeeded


def test_retry_after_past_the_deadline_ends_at_once_naming_the_rate_limit(
    clock: VirtualClock,
) -> None:
    outcome, provider, _ = run(
        clock, lambda t: TransientError("HTTP 429", retry_after=600.0), timeout=60
    )
    assert outcome.status is OutcomeStatus.ERROR
    assert (outcome.reason or "").startswith("rate limited: the API asked the gate to wait 10m00s")
    assert len(provider.reads) == 1, "no read against the server's request"
    assert clock() - provider.started < 1


def test_retry_after_within_the_deadline_spaces_the_next_read(clock: VirtualClock) -> None:
    answers = iter([RUNNING, TransientError("HTTP 429", retry_after=40.0)])
    outcome, provider, _ = run(clock, lambda t: next(answers, SUCCEEDED), timeout=300)
    assert outcome.succeeded
    assert provider.reads[2] - provider.reads[1] >= 40 - 1e-9


class HistoryProvider(ScriptedProvider):
    def past_durations(self) -> list[float]:
        return [600.0] * 10


def test_history_gaps_may_stretch_past_15s_but_never_past_an_explicit_max_interval(
    clock: VirtualClock,
) -> None:
    def gaps(**options: float) -> list[float]:
        provider = HistoryProvider(clock, finishing_at(600))
        wait(provider, WaitOptions(**options), timing=Timing(clock=clock, sleep=clock.sleep))
        return [b - a for a, b in itertools.pairwise(provider.reads)]

    assert max(gaps()) > 15
    assert max(gaps(max_interval=10)) <= 10 + 1e-9


class ExplainingProvider(ScriptedProvider):
    """Fails, and reads why in a second call that fails ``faults`` times first."""

    def __init__(self, clock: VirtualClock, faults: list[Exception]) -> None:
        super().__init__(clock, lambda t: Snapshot(State.FAILED, "failed"))
        self.faults = faults
        self.detail_reads = 0

    def failure_details(self) -> list[ErrorDetail]:
        self.detail_reads += 1
        if self.faults:
            raise self.faults.pop(0)
        return [ErrorDetail(code="E7", message="image pull failed")]


def test_failure_details_are_read_with_retries(clock: VirtualClock) -> None:
    provider = ExplainingProvider(clock, [TransientError("HTTP 503"), TransientError("HTTP 502")])
    outcome = wait(provider, timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.status is OutcomeStatus.FAILED
    assert [e.code for e in outcome.errors] == ["E7"]
    assert provider.detail_reads == 3
    assert len(provider.reads) == 1, "the failure was not read again"


def test_unreadable_failure_details_leave_the_failure_standing_and_say_why(
    clock: VirtualClock,
) -> None:
    provider = ExplainingProvider(clock, [TransientError("HTTP 503")] * 1000)
    outcome = wait(
        provider, WaitOptions(timeout=3600), timing=Timing(clock=clock, sleep=clock.sleep)
    )
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.exit_code == 1
    assert clock() - provider.started <= 31, "promptly, not at the deadline"
    [detail] = outcome.errors
    assert detail.scope == "gate"
    assert "could not be read: HTTP 503" in detail.message


def test_every_read_is_bounded_by_the_time_left(clock: VirtualClock) -> None:
    from gate.wire import deadline

    budgets: list[float] = []

    def answer(t: float) -> Answer:
        budgets.append(deadline.seconds_left(float("inf")))
        return RUNNING

    run(clock, answer, timeout=100)
    assert budgets[0] == pytest.approx(100, abs=1)
    assert all(budget <= 100 for budget in budgets)
    assert budgets[-1] <= 1.0 + 1e-6, "the read at the deadline has a second at most"


class FixedGap:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def next_delay(self, elapsed: float) -> float:
        return self.seconds


def test_a_read_due_in_the_last_second_is_made_at_the_deadline_instead(
    clock: VirtualClock,
) -> None:
    provider = ScriptedProvider(clock, lambda t: RUNNING)
    outcome = wait(
        provider,
        WaitOptions(timeout=300),
        timing=Timing(clock=clock, sleep=clock.sleep, schedule=FixedGap(299.5)),
    )
    assert [read - provider.started for read in provider.reads] == [0, 300]
    assert outcome.elapsed_seconds == 300
    assert outcome.status is OutcomeStatus.TIMED_OUT


def test_a_timeout_under_a_second_still_lasts_its_time(clock: VirtualClock) -> None:
    outcome, provider, _ = run(clock, lambda t: RUNNING, timeout=0.5)
    assert len(provider.reads) == 1
    assert outcome.elapsed_seconds == 0.5


class HoldingProvider(ScriptedProvider):
    """A long-poll: each read holds for ``held`` seconds of virtual time (or none)."""

    def __init__(self, clock: VirtualClock, ends_at: float, held: float) -> None:
        super().__init__(clock, finishing_at(ends_at))
        self.held = held

    def holds_reads(self) -> bool:
        return True

    def fetch(self) -> Snapshot:
        snapshot = super().fetch()
        if not snapshot.state.is_terminal:
            self.clock.advance(self.held)
        return snapshot


def test_a_held_read_is_followed_at_once_by_the_next(clock: VirtualClock) -> None:
    provider = HoldingProvider(clock, ends_at=100, held=20)
    reporter = RecordingReporter(clock)
    outcome = wait(
        provider,
        WaitOptions(interval=2),
        reporter=reporter,
        timing=Timing(clock=clock, sleep=clock.sleep),
    )
    assert outcome.succeeded
    gaps = [later - earlier for earlier, later in itertools.pairwise(provider.reads)]
    assert gaps == [20.0] * len(gaps), "no sleep between held reads"
    assert reporter.kinds("heartbeat"), "a minute of held reads still says it is alive"


def test_a_server_that_holds_nothing_is_read_once_per_interval(clock: VirtualClock) -> None:
    provider = HoldingProvider(clock, ends_at=30, held=0)
    outcome = wait(provider, WaitOptions(interval=2), timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.succeeded
    gaps = [later - earlier for earlier, later in itertools.pairwise(provider.reads)]
    assert min(gaps) >= 2.0
    assert len(provider.reads) <= 16


def test_a_heartbeat_due_at_a_time_that_rounds_is_said_not_slept_to_for_ever() -> None:
    """A wait that said its last line at 1000.111 s: 60 s later, as floats, the sum is
    reached while the difference is still short of 60; the heartbeat is said, and the wait
    goes on (it once slept 0 s for ever)."""
    clock = VirtualClock(start=1000.111)
    provider = ScriptedProvider(clock, finishing_at(150))
    outcome = wait(
        provider,
        WaitOptions(max_interval=120),
        timing=Timing(clock=clock, sleep=clock.sleep, schedule=FixedGap(100.0)),
    )
    assert outcome.succeeded
    assert len(clock.sleeps) < 10
