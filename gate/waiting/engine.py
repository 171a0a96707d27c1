"""The wait loop: read a deployment until it is terminal, the deadline passes, or a signal.

The engine knows nothing of any API: it calls :meth:`Provider.fetch` through
:func:`gate.wire.retry.call_with_retries`, keeps time with an injected monotonic ``clock`` and
``sleep`` (tests pass virtual ones), and returns an :class:`Outcome` for every ending: a
provider's error, a bug, a reporter that cannot write and a signal all end as one. The first
terminal status it reads is final; reading why a deployment failed cannot change that.

Each read runs inside a :func:`gate.wire.deadline.within` budget of the time left, so the wire
ends a request by the deadline whatever the server does. A read is made at the deadline
itself (the deployment may have just ended), with :data:`LAST_READ_SECONDS` at most.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, TypeVar

from gate.core.description import FieldError, named
from gate.core.durations import LONGEST_DURATION, format_duration
from gate.core.errors import (
    GateError,
    Interrupted,
    NotFoundError,
    OutOfRequestBudget,
    Stopped,
    TransientError,
    UsageError,
)
from gate.core.model import (
    BakeResult,
    BakeStatus,
    Breach,
    DeviceResult,
    ErrorDetail,
    Outcome,
    OutcomeStatus,
    Snapshot,
    State,
    ended_as,
)
from gate.core.provider import (
    ExplainsFailure,
    HoldsReads,
    KnowsHistory,
    Provider,
    ReadsAtDeadline,
    ReportsDevices,
)
from gate.core.text import one_line, quoted
from gate.core.timestamps import iso_utc, parse_timestamp
from gate.waiting.options import WaitOptions
from gate.waiting.reporter import GuardedReporter, NullReporter, PhaseReporter, Reporter
from gate.waiting.rollback import OnFailure, check_rollback, roll_back, rolls_back_after
from gate.waiting.schedule import (
    DistributionSchedule,
    Schedule,
    what_history_says,
)
from gate.waiting.telling import Gated, Telling, told
from gate.wire import deadline
from gate.wire.rate import explaining

if TYPE_CHECKING:
    from gate.bake.run import Bake, Baking
    from gate.waiting.plan import GatePlan

__all__ = ["Timing", "WaitOptions", "bake_fits", "check_bake_fits", "wait"]

LAST_READ_SECONDS = 1.0
"""The most a read made at the deadline may take: the wait ends by --timeout plus this."""
DETAILS_SECONDS = 30.0
"""How long the engine tries to read why a deployment failed (within the deadline)."""

T = TypeVar("T")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, kw_only=True)
class Timing:
    """A wait's time, as its caller keeps it: the clocks (tests pass virtual ones), the
    schedule of reads, and, for a gate of many, when every target's timeout began and what
    of it is kept for the release's bake."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    wall_clock: Callable[[], datetime] = _utc_now
    schedule: Schedule | None = None
    """Without one, reads follow :class:`~gate.waiting.schedule.DistributionSchedule`: on what
    the target's past deployments say when the provider can tell how long they took (one extra
    read, after the first), else on the prior."""
    started: float | None = None
    """When the timeout began, on ``clock`` (now if not given): a gate of many starts every
    target's clock at once, however long its thread takes to start."""
    kept_for_release: float = 0.0
    """Seconds of the timeout kept for what follows this target in a gate of many (the
    release's own bake); the deployment and its bake must end before them."""
    summary_every: float = 30.0
    """A gate of many: how often it says how far it has come, between changes."""


def wait(
    provider: Provider,
    plan: GatePlan | WaitOptions | None = None,
    *,
    reporter: Reporter | None = None,
    bake: Bake | None = None,
    telemetry: Sequence[Telling] = (),
    timing: Timing | None = None,
) -> Outcome:
    """Wait for ``provider``'s deployment to reach a terminal status and say how it ended.

    ``plan``: how long to wait and how often to read (:class:`WaitOptions`, or a whole
    :class:`~gate.waiting.plan.GatePlan`, whose ``on_failure`` and ``dry_run`` say what a
    failure does); the defaults when not given.

    With a ``bake`` (built from the plan), a deployment that succeeded passes only once its
    checks stayed healthy for the bake's duration; the bake fits inside the timeout: the
    deployment must succeed by the timeout less the bake (a bake that cannot fit is a
    UsageError, as is one whose checks cannot work: an alarm that does not exist).
    ``on_failure="rollback"``: a gate that failed rolls its target back and gates the
    rollback (:mod:`gate.waiting.rollback`); ``"rollback-also-on-timeout"`` also when it
    timed out or could not be read; ``dry_run`` says what it would roll back to, and does
    nothing. ``telemetry``: what is told of the gate as data (:mod:`gate.waiting.telling`: a
    trace, a GitHub deployment); never blocking nor failing it. The caller closes each, to
    flush. ``timing``: the clocks, the schedule, and a gate of many's share of the timeout.

    ``reporter.finished`` hears the gate's own outcome as soon as it is decided, before any
    rollback (a gate of many fails fast on it, and lets the rollback run: see :mod:`.fleet`).

    Always returns an :class:`Outcome`. Ctrl-C (``KeyboardInterrupt``) and
    :class:`~gate.core.errors.Interrupted` end the wait as ``cancelled`` with the last status read;
    any error, the provider's or the gate's own, ends it as ``error`` with the reason. Only an
    outcome whose ``status`` is ``succeeded`` means the deployment succeeded. A reporter that
    raises ``OSError`` or ``ValueError`` (a closed or full stream) is silenced, not obeyed.
    """
    options, on_failure, dry_run = _planned(plan)
    timing = timing or Timing()
    clock, sleep, wall_clock = timing.clock, timing.sleep, timing.wall_clock
    kept_for_release = timing.kept_for_release
    if bake is not None or kept_for_release:
        check_bake_fits(bake, options, kept_for_release)
    check_rollback(provider, on_failure, dry_run=dry_run)
    chosen = timing.schedule is not None
    schedule = timing.schedule or DistributionSchedule.of(
        interval=options.interval, longest=options.longest_gap
    )
    # The progress reporter guarded alone: a closed stdout silences it, never a telling.
    watcher = told(GuardedReporter(reporter or NullReporter()), telemetry, Gated.of(provider))
    run = _Wait(
        provider,
        options,
        watcher,
        schedule,
        clock,
        sleep,
        wall_clock,
        bake=bake,
        kept_for_release=kept_for_release,
    )
    run.learns_history = not chosen and isinstance(provider, KnowsHistory)
    began = clock() if timing.started is None else timing.started  # preparing is waiting too
    if bake is not None and (prepared := run.prepare_bake(began)) is not None:
        outcome = prepared
    else:
        outcome = run.run(began)
    watcher.finished(outcome)
    if not rolls_back_after(outcome, on_failure):
        return outcome
    return roll_back(
        provider,
        outcome,
        dry_run=dry_run,
        gate_rollback=lambda rollback: wait(
            rollback,
            options,
            reporter=PhaseReporter(lambda line: watcher.phase(line, run.elapsed()), "rollback"),
            timing=Timing(clock=clock, sleep=sleep, wall_clock=wall_clock),
        ),
        say=lambda line: watcher.phase(line, run.elapsed()),
        clock=clock,
        sleep=sleep,
    )


def _planned(plan: GatePlan | WaitOptions | None) -> tuple[WaitOptions, OnFailure, bool]:
    if plan is None:
        return WaitOptions(), "nothing", False
    if isinstance(plan, WaitOptions):
        return plan, "nothing", False
    return plan.waiting, plan.on_failure, plan.dry_run


def check_bake_fits(bake: Bake | None, options: WaitOptions, kept_for_release: float = 0.0) -> None:
    """A UsageError unless the deployment has time left once its bake (and the release's)
    are taken from the timeout."""
    bake_fits(bake.duration if bake is not None else None, options.timeout, kept_for_release)


def bake_fits(bake: float | None, timeout: float, kept_for_release: float = 0.0) -> None:
    """The rule every face checks: a :class:`FieldError` unless ``timeout`` leaves the
    deployment time once ``bake`` (and the release's own bake) are taken from it."""
    if (0.0 if bake is None else bake) + kept_for_release < timeout:
        return
    bakes = [f"{named('bake')} ({format_duration(bake)})"] if bake is not None else []
    if kept_for_release:
        bakes.append(f"the release's bake ({format_duration(kept_for_release)})")
    raise FieldError(
        "bake" if bake is not None else "timeout",
        f"{' and '.join(bakes)} must fit inside {named('timeout')} "
        f"({format_duration(timeout)}), with time left for the deployment",
    )


@dataclass
class _Wait:
    provider: Provider
    options: WaitOptions
    reporter: Reporter
    schedule: Schedule
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    wall_clock: Callable[[], datetime]
    polls: int = 0
    last: Snapshot | None = None
    last_fault: GateError | None = None
    errors: tuple[ErrorDetail, ...] = ()
    warnings: list[str] = field(default_factory=list)
    started: float = 0.0
    started_at: datetime = field(default_factory=_utc_now)
    last_said: float = 0.0
    not_before: float = 0.0
    """No read before this (the API's Retry-After)."""
    read_started: float = 0.0
    learns_history: bool = False
    said_gap: float | None = None
    """The gap to the next read as the schedule's line said it: the next sleep is that one."""
    out_of_budget: OutOfRequestBudget | None = None
    """The shared request budget has no slot for another read before the deadline."""
    bake: Bake | None = None
    baking: Baking | None = None
    kept_for_release: float = 0.0

    @property
    def deadline(self) -> float:
        """The deployment's: the timeout, less the bakes that must follow its success."""
        return self.started + self.options.timeout - self._bake_seconds - self.kept_for_release

    @property
    def _bake_seconds(self) -> float:
        return self.bake.duration if self.bake is not None else 0.0

    def _budget(self) -> str:
        """The deployment's deadline, as a reason says it."""
        timeout = format_duration(self.options.timeout)
        kept = [f"the {format_duration(self._bake_seconds)} bake"] if self.bake else []
        if self.kept_for_release:
            kept.append(f"{format_duration(self.kept_for_release)} for the release's bake")
        if not kept:
            return f"the {timeout} deadline"
        left = format_duration(self.options.timeout - self._bake_seconds - self.kept_for_release)
        return f"the {left} deadline for the deployment ({timeout}, less {' and '.join(kept)})"

    def prepare_bake(self, began: float) -> Outcome | None:
        """The bake's checks made ready before anything is waited on: an outcome if they
        cannot be read (a check that can never work raises UsageError)."""
        assert self.bake is not None
        self.started = began
        try:
            self.bake.prepare(
                until=self.deadline, clock=self.clock, sleep=self.sleep, on_retry=self._on_retry
            )
        except (KeyboardInterrupt, Interrupted, Stopped) as stop:  # while retrying
            return self._stopped_by(stop)
        except UsageError:
            raise
        except GateError as unreadable:
            return self._end(
                OutcomeStatus.ERROR, f"the bake's checks could not be read: {unreadable}"
            )
        return None

    def elapsed(self) -> float:
        return self.clock() - self.started

    def run(self, started: float) -> Outcome:
        self.started = self.last_said = started
        self.started_at = self.wall_clock() - timedelta(seconds=max(self.clock() - started, 0.0))
        self.reporter.started(self.provider.describe(), self.options.timeout)
        try:
            return self._loop()
        except (KeyboardInterrupt, Interrupted, Stopped) as stop:
            return self._stopped_by(stop)
        except Exception as bug:  # the promise: every ending is an Outcome, a bug's too
            said = one_line(str(bug), limit=200)
            broken = self.baking.result(BakeStatus.UNREADABLE) if self.baking else None
            return self._end(
                OutcomeStatus.ERROR,
                f"the wait broke off ({type(bug).__name__}{': ' + said if said else ''})",
                baked=broken,
            )

    def _loop(self) -> Outcome:
        while True:
            last_read = self.deadline - self.clock() <= LAST_READ_SECONDS
            ended = self._poll(last_read=last_read)
            if ended is not None:
                return ended
            now = self.clock()
            if self.out_of_budget is not None and self.last is None:
                return self._deadline_passed()  # it never will be read: say so now
            if last_read or now >= self.deadline or self.out_of_budget is not None:
                self._sleep_until(self.deadline)  # a timeout under a second: it is still one
                return self._deadline_passed()
            if self.not_before > self.deadline:
                return self._rate_limited_past_the_deadline()
            if isinstance(self.provider, HoldsReads) and self.provider.holds_reads():
                wake_at = max(self.read_started + self.options.interval, self.not_before)
            else:
                gap = (
                    self.said_gap
                    if self.said_gap is not None
                    else self.schedule.next_delay(now - self.started)
                )
                self.said_gap = None
                wake_at = max(now + gap, self.not_before)
            if wake_at > self.deadline - LAST_READ_SECONDS:
                wake_at = self.deadline  # no read in the last second but the one at the deadline
            self._sleep_until(wake_at)

    def _poll(self, *, last_read: bool) -> Outcome | None:
        """Read once (with retries); an outcome if that read ends the wait."""
        self.polls += 1
        self.read_started = self.clock()
        read = self.provider.fetch
        if last_read and isinstance(self.provider, ReadsAtDeadline):
            read = self.provider.fetch_at_deadline
        try:
            snapshot = self._with_retries(read, until=self.deadline)
        except NotFoundError as missing:
            if self.elapsed() < self.options.not_found_grace:
                self.last_fault = missing
                return None
            grace = format_duration(self.options.not_found_grace)
            return self._end(OutcomeStatus.ERROR, f"{missing} (still not found after {grace})")
        except OutOfRequestBudget as spent:
            self.out_of_budget = spent
            if self.last is None and self.last_fault is None:
                self.polls -= 1  # a read with no slot was not made
                self.last_fault = spent
            return None
        except TransientError as fault:
            if fault.retry_after is not None:
                self.not_before = self.clock() + fault.retry_after
            # A read cut short by the deadline (the last one, or one that ran into it) does
            # not unsay the read before it: the outcome is decided from what was read.
            cut_short = last_read or self.clock() >= self.deadline
            if not (cut_short and self.last is not None and self.last_fault is None):
                self.last_fault = fault
            return None
        except GateError as error:
            return self._end(OutcomeStatus.ERROR, str(error))
        self.last_fault = None
        self._observe(snapshot)
        if self.learns_history and not snapshot.state.is_terminal:
            self._learn_history(snapshot)
        if snapshot.state is State.SUCCEEDED:
            return self._succeeded(snapshot)
        if snapshot.state is State.FAILED:
            self.errors = snapshot.errors or self._failure_details()
            return self._end(
                OutcomeStatus.FAILED, snapshot.verdict or ended_as(snapshot.raw_status)
            )
        return None

    def _succeeded(self, snapshot: Snapshot) -> Outcome:
        """The deployment succeeded: the gate passes, or bakes first when asked to."""
        if self.bake is None:
            return self._end(OutcomeStatus.SUCCEEDED, snapshot.verdict)
        from gate.bake.run import Baking

        self.baking = Baking(
            self.bake,
            clock=self.clock,
            sleep=self.sleep,
            wall_clock=self.wall_clock,
            say=lambda line, into: self.reporter.phase(line, self.elapsed()),
            deployment_began=parse_timestamp(snapshot.created_at),
        )
        baked = self.baking.run()
        if baked.ends_as is OutcomeStatus.SUCCEEDED:
            return self._end(OutcomeStatus.SUCCEEDED, snapshot.verdict, baked=baked)
        if baked.ends_as is OutcomeStatus.FAILED:
            self.errors = tuple(_breach_error(breach) for breach in baked.breaches)
            return self._end(
                OutcomeStatus.FAILED,
                f"the deployment succeeded, then failed its bake {baked.how_far}: {baked.why()}",
                baked=baked,
            )
        return self._end(
            OutcomeStatus.ERROR,
            f"the deployment succeeded, but its bake ended undecided {baked.how_far}: "
            f"{baked.why()}",
            baked=baked,
        )

    def _with_retries(self, read: Callable[[], T], *, until: float) -> T:
        def bounded_read() -> T:
            budget = max(until - self.clock(), LAST_READ_SECONDS)
            with deadline.within(budget, to_the_deadline=until >= self.deadline):
                return read()

        from gate.wire.retry import call_with_retries  # tenacity: not for `gate --help`

        return call_with_retries(
            bounded_read,
            deadline=until,
            clock=self.clock,
            sleep=self.sleep,
            max_backoff=self.options.longest_gap,
            on_retry=self._on_retry,
        )

    def _failure_details(self) -> tuple[ErrorDetail, ...]:
        """Why the deployment failed, if the provider reads that separately; what stopped
        the reading otherwise. The failure stands either way."""
        if not isinstance(self.provider, ExplainsFailure):
            return ()
        until = min(self.deadline, self.clock() + DETAILS_SECONDS)
        try:
            with explaining():  # ahead of the status reads queued on a shared budget
                return tuple(self._with_retries(self.provider.failure_details, until=until))
        except GateError as unreadable:
            reason = str(unreadable)
        except Stopped as stop:
            if stop.signum is not None:
                raise
            reason = stop.reason  # --fail-fast stops the waits of the others, not a failure read
        except Exception as bug:  # details are an explanation: never worth the failure itself
            reason = f"{type(bug).__name__}: {one_line(str(bug), limit=200)}"
        return (
            ErrorDetail(
                code="",
                message=f"the deployment failed, but its error details could not be read: {reason}",
                scope="gate",
            ),
        )

    def _observe(self, snapshot: Snapshot) -> None:
        previous, self.last = self.last, snapshot
        if previous is not None and (previous.raw_status, previous.progress) == (
            snapshot.raw_status,
            snapshot.progress,
        ):
            return
        self.reporter.status_changed(previous, snapshot, self.elapsed())
        self.last_said = self.clock()
        if snapshot.state is State.UNKNOWN:
            message = (
                f"{self.provider.name} reported status "
                f"{quoted(snapshot.raw_status)}, which gate does not know; "
                "treating it as still running"
            )
            if message not in self.warnings:
                self.warnings.append(message)
                self.reporter.warning(message, self.elapsed())

    def _learn_history(self, snapshot: Snapshot) -> None:
        """Once: switch to the history schedule if the target's past deployments are known.

        History only saves reads: whatever goes wrong reading it, the wait goes on as it was.
        """
        self.learns_history = False
        assert isinstance(self.provider, KnowsHistory)
        durations: list[float] = []
        try:
            with deadline.within(max(min(self.deadline - self.clock(), 10.0), 0.0)):
                durations = _usable_durations(self.provider.past_durations())
            self._schedule_by_history(durations, snapshot)
        except Exception:  # noqa: S110 - see the docstring: history is an optimisation
            pass
        if isinstance(self.provider, HoldsReads) and self.provider.holds_reads():
            following = "the server holds each read until the deployment ends"
        else:
            self.said_gap = self.schedule.next_delay(self.elapsed())
            following = f"next read in {format_duration(self.said_gap)}"
        self.reporter.phase(
            f"schedule: {what_history_says(durations)}; {following}", self.elapsed()
        )

    def _schedule_by_history(self, durations: list[float], snapshot: Snapshot) -> None:
        age = _age(snapshot.created_at, self.wall_clock())
        age = self.elapsed() if age is None else age
        self.schedule = DistributionSchedule.of(
            durations,
            age_at_start=max(0.0, age - self.elapsed()),
            interval=self.options.interval,
            longest=self.options.longest_gap,
            sparse_cap=self.options.longest_gap_with_history,
        )

    def _on_retry(self, fault: TransientError, delay: float) -> None:
        self.reporter.retrying(fault, delay, self.elapsed())
        self.last_said = self.clock()

    def _sleep_until(self, wake_at: float) -> None:
        while True:  # the heartbeat is due after long reads too, with no sleep between them
            now = self.clock()
            # One sum, compared and slept to alike: a difference could round below the
            # heartbeat while the sum rounds to now, and the sleep be 0 for ever.
            if now >= self.last_said + self.options.heartbeat:
                self.reporter.heartbeat(self.last, now - self.started, self.polls)
                self.last_said = now
            if now >= wake_at:
                return
            self.sleep(min(wake_at, self.last_said + self.options.heartbeat) - now)

    def _deadline_passed(self) -> Outcome:
        budget = self._budget()
        if isinstance(self.last_fault, OutOfRequestBudget):
            return self._end(
                OutcomeStatus.ERROR,
                f"never read, and cannot be before {budget}: {self.last_fault}",
            )
        if self.last_fault is not None and self.last is None and self.out_of_budget is not None:
            return self._end(
                OutcomeStatus.ERROR,
                f"could not read the status, and no request slot is left before {budget} "
                f"to try again ({self.out_of_budget}); the last answer: "
                f"{self.last_fault}",
            )
        if self.last_fault is not None:
            return self._end(
                OutcomeStatus.ERROR,
                f"could not read the status before {budget}: {self.last_fault}",
            )
        if self.last is None:
            return self._end(OutcomeStatus.TIMED_OUT, f"{budget} passed")
        settled = self.last.if_deadline_passes
        if settled is not None:  # the read at the deadline was cut short: decide on the last
            self.last = settled
            if settled.state is State.SUCCEEDED:
                return self._succeeded(settled)
            if settled.state is State.FAILED:
                self.errors = settled.errors
                return self._end(
                    OutcomeStatus.FAILED, settled.verdict or ended_as(settled.raw_status)
                )
        status = quoted(self.last.raw_status)
        reason = f"{budget} passed while the deployment was {status}"
        if self.last.state is State.UNKNOWN:
            reason += " (a status gate does not know)"
        if self.last.verdict:
            reason += f": {self.last.verdict}"
        elif self.last.progress:
            reason += f" ({self.last.progress})"
        if self.out_of_budget is not None:
            reason += f"; not read again: {self.out_of_budget}"
        return self._end(OutcomeStatus.TIMED_OUT, reason)

    def _rate_limited_past_the_deadline(self) -> Outcome:
        fault = self.last_fault
        wait_asked = fault.retry_after if isinstance(fault, TransientError) else None
        asked = format_duration(wait_asked or self.not_before - self.clock())
        left = format_duration(max(self.deadline - self.clock(), 0.0))
        return self._end(
            OutcomeStatus.ERROR,
            f"rate limited: the API asked the gate to wait {asked} before its next request, "
            f"past the deadline ({left} left); last answer: {self.last_fault}",
        )

    def _stopped_by(self, stop: KeyboardInterrupt | Interrupted | Stopped) -> Outcome:
        """The outcome of a wait a signal or its caller stopped."""
        if isinstance(stop, Stopped):
            return self._cancelled(stop.reason, stop.signum)
        signum = stop.signum if isinstance(stop, Interrupted) else signal.SIGINT
        return self._cancelled(f"interrupted by signal {signum}", signum)

    def _cancelled(self, reason: str, signum: int | None) -> Outcome:
        status = f"; last status {quoted(self.last.raw_status)}" if self.last else ""
        baked = None
        if self.baking is not None:
            baked = self.baking.result(BakeStatus.CANCELLED)
            status += f", {format_duration(baked.elapsed_seconds)} into the bake"
        return self._end(OutcomeStatus.CANCELLED, f"{reason}{status}", signum=signum, baked=baked)

    def _end(
        self,
        status: OutcomeStatus,
        reason: str | None,
        *,
        signum: int | None = None,
        baked: BakeResult | None = None,
    ) -> Outcome:
        last = self.last
        return Outcome(
            status=status,
            provider=self.provider.name,
            target=dict(self.provider.target),
            raw_status=last.raw_status if last else None,
            errors=self.errors or (last.errors if last else ()),
            reason=reason,
            elapsed_seconds=round(self.elapsed(), 3),
            polls=self.polls,
            started_at=iso_utc(self.started_at),
            finished_at=iso_utc(self.wall_clock()),
            deployment_changed_at=last.changed_at if last else None,
            deployment_created_at=last.created_at if last else None,
            deployment_type=last.deployment_type if last else None,
            progress=last.progress if last else None,
            devices=self._device_results(),
            warnings=tuple(self.warnings),
            signal=signum,
            bake=baked,
        )

    def _device_results(self) -> tuple[DeviceResult, ...]:
        if not isinstance(self.provider, ReportsDevices):
            return ()
        try:
            return tuple(self.provider.device_results())
        except Exception:  # per-device results explain an outcome; they never change one
            return ()


def _breach_error(breach: Breach) -> ErrorDetail:
    """A breach as the renderers show errors: in the bake, of that check."""
    return ErrorDetail(code="BREACH", message=breach.detail, scope="bake", object_id=breach.check)


def _usable_durations(durations: Sequence[float]) -> list[float]:
    return [
        float(d) for d in durations if isinstance(d, (int, float)) and 0 <= d <= LONGEST_DURATION
    ]


def _age(created_at: str | None, now: datetime) -> float | None:
    """Seconds since ``created_at``, or None if absent, unreadable or implausible."""
    created = parse_timestamp(created_at)
    if created is None:
        return None
    age = (now - created).total_seconds()
    return age if 0 <= age <= LONGEST_DURATION else None
