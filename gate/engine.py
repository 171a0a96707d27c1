"""The wait loop: read a deployment until it is terminal, the deadline passes, or a signal.

The engine knows nothing of any API: it calls :meth:`Provider.fetch` through
:func:`gate.retry.call_with_retries`, keeps time with an injected monotonic ``clock`` and
``sleep`` (tests pass virtual ones), and returns an :class:`Outcome` for every ending but a
usage error. The first terminal status it reads is final.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from gate.durations import format_duration
from gate.errors import (
    ConfigError,
    GateError,
    Interrupted,
    NotFoundError,
    TransientError,
    UsageError,
)
from gate.model import Outcome, OutcomeStatus, Snapshot, State
from gate.providers import KnowsHistory, Provider
from gate.reporter import NullReporter, Reporter
from gate.retry import call_with_retries
from gate.schedule import (
    DEFAULT_INTERVAL,
    DEFAULT_MAX_INTERVAL,
    MIN_HISTORY,
    GrowingSchedule,
    HistorySchedule,
    Schedule,
)

__all__ = ["WaitOptions", "wait"]

DEFAULT_TIMEOUT = 30 * 60.0
DEFAULT_NOT_FOUND_GRACE = 30.0
DEFAULT_HEARTBEAT = 60.0


@dataclass(frozen=True, kw_only=True)
class WaitOptions:
    timeout: float = DEFAULT_TIMEOUT
    """Hard deadline in seconds; the wait ends by it plus at most one request timeout."""
    interval: float = DEFAULT_INTERVAL
    max_interval: float = DEFAULT_MAX_INTERVAL
    not_found_grace: float = DEFAULT_NOT_FOUND_GRACE
    """How long "not found" is read as "not visible yet" rather than as an error."""
    heartbeat: float = DEFAULT_HEARTBEAT
    """Longest silence while waiting: a progress line is said at least this often."""

    def __post_init__(self) -> None:
        for name in ("timeout", "interval", "max_interval", "heartbeat"):
            if getattr(self, name) <= 0:
                raise UsageError(f"{name.replace('_', '-')} must be more than 0")
        if self.not_found_grace < 0:
            raise UsageError("not-found-grace must not be negative")
        if self.interval > self.max_interval:
            raise UsageError(
                f"interval ({format_duration(self.interval)}) must not exceed "
                f"max-interval ({format_duration(self.max_interval)})"
            )


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def wait(
    provider: Provider,
    *,
    options: WaitOptions | None = None,
    reporter: Reporter | None = None,
    schedule: Schedule | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    wall_clock: Callable[[], datetime] = _utc_now,
) -> Outcome:
    """Wait for ``provider``'s deployment to reach a terminal status and say how it ended.

    Without a ``schedule``, reads follow :class:`~gate.schedule.HistorySchedule` when the
    provider can say how long the target's past deployments took (one extra read, after the
    first), else :class:`~gate.schedule.GrowingSchedule`.

    Raises :class:`~gate.errors.UsageError` or :class:`~gate.errors.ConfigError` when the
    provider finds its configuration unusable (no credentials): those are not outcomes.
    Ctrl-C (``KeyboardInterrupt``) and :class:`~gate.errors.Interrupted` end the wait with a
    ``cancelled`` outcome carrying the last status read. Only an outcome whose ``status`` is
    ``succeeded`` means the deployment succeeded.
    """
    options = options or WaitOptions()
    chosen = schedule is not None
    schedule = schedule or GrowingSchedule(
        interval=options.interval, max_interval=options.max_interval
    )
    run = _Wait(provider, options, reporter or NullReporter(), schedule, clock, sleep, wall_clock)
    run.learns_history = not chosen and isinstance(provider, KnowsHistory)
    outcome = run.run()
    run.reporter.finished(outcome)
    return outcome


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
    warnings: list[str] = field(default_factory=list)
    started: float = 0.0
    started_at: datetime = field(default_factory=_utc_now)
    last_said: float = 0.0
    learns_history: bool = False

    @property
    def deadline(self) -> float:
        return self.started + self.options.timeout

    def elapsed(self) -> float:
        return self.clock() - self.started

    def run(self) -> Outcome:
        self.started = self.last_said = self.clock()
        self.started_at = self.wall_clock()
        self.reporter.started(self.provider.describe(), self.options.timeout)
        try:
            return self._loop()
        except KeyboardInterrupt:
            return self._cancelled(signal.SIGINT)
        except Interrupted as interrupt:
            return self._cancelled(interrupt.signum)

    def _loop(self) -> Outcome:
        while True:
            ended = self._poll()
            if ended is not None:
                return ended
            now = self.clock()
            if now >= self.deadline:
                return self._deadline_passed()
            wake_at = min(now + self.schedule.next_delay(now - self.started), self.deadline)
            self._sleep_until(wake_at)

    def _poll(self) -> Outcome | None:
        """Read once (with retries); an outcome if that read ends the wait."""
        self.polls += 1
        try:
            snapshot = call_with_retries(
                self.provider.fetch,
                deadline=self.deadline,
                clock=self.clock,
                sleep=self.sleep,
                max_backoff=self.options.max_interval,
                on_retry=self._on_retry,
            )
        except NotFoundError as missing:
            if self.elapsed() < self.options.not_found_grace:
                self.last_fault = missing
                return None
            grace = format_duration(self.options.not_found_grace)
            return self._end(OutcomeStatus.ERROR, f"{missing} (still not found after {grace})")
        except TransientError as fault:
            self.last_fault = fault
            return None
        except (UsageError, ConfigError):
            raise
        except GateError as error:
            return self._end(OutcomeStatus.ERROR, str(error))
        self.last_fault = None
        self._observe(snapshot)
        if self.learns_history and not snapshot.state.is_terminal:
            self._learn_history(snapshot)
        if snapshot.state is State.SUCCEEDED:
            return self._end(OutcomeStatus.SUCCEEDED, None)
        if snapshot.state is State.FAILED:
            return self._end(
                OutcomeStatus.FAILED, f"the deployment ended as {snapshot.raw_status!r}"
            )
        return None

    def _observe(self, snapshot: Snapshot) -> None:
        previous, self.last = self.last, snapshot
        if previous is not None and previous.raw_status == snapshot.raw_status:
            return
        self.reporter.status_changed(previous, snapshot, self.elapsed())
        self.last_said = self.clock()
        if snapshot.state is State.UNKNOWN:
            message = (
                f"{self.provider.name} reported status {snapshot.raw_status!r}, which gate does "
                "not know; treating it as still running"
            )
            if message not in self.warnings:
                self.warnings.append(message)
                self.reporter.warning(message, self.elapsed())

    def _learn_history(self, snapshot: Snapshot) -> None:
        """Once: switch to the history schedule if the target's past deployments are known."""
        self.learns_history = False
        assert isinstance(self.provider, KnowsHistory)
        try:
            durations = list(self.provider.past_durations())
        except GateError:
            return
        if len(durations) < MIN_HISTORY:
            return
        age = _age(snapshot.created_at, self.wall_clock()) or self.elapsed()
        self.schedule = HistorySchedule(
            durations,
            age_at_start=max(0.0, age - self.elapsed()),
            interval=self.options.interval,
            max_interval=self.options.max_interval,
            fallback=GrowingSchedule(
                interval=self.options.interval, max_interval=self.options.max_interval
            ),
        )

    def _on_retry(self, fault: TransientError, delay: float) -> None:
        self.reporter.retrying(fault, delay, self.elapsed())
        self.last_said = self.clock()

    def _sleep_until(self, wake_at: float) -> None:
        while (now := self.clock()) < wake_at:
            if now - self.last_said >= self.options.heartbeat:
                self.reporter.heartbeat(self.last, now - self.started, self.polls)
                self.last_said = now
            self.sleep(min(wake_at, self.last_said + self.options.heartbeat) - now)

    def _deadline_passed(self) -> Outcome:
        budget = format_duration(self.options.timeout)
        if self.last_fault is not None:
            return self._end(
                OutcomeStatus.ERROR,
                f"could not read the status before the {budget} deadline: {self.last_fault}",
            )
        if self.last is None:
            return self._end(OutcomeStatus.TIMED_OUT, f"the {budget} deadline passed")
        reason = f"the {budget} deadline passed while the deployment was {self.last.raw_status!r}"
        if self.last.state is State.UNKNOWN:
            reason += " (a status gate does not know)"
        return self._end(OutcomeStatus.TIMED_OUT, reason)

    def _cancelled(self, signum: int) -> Outcome:
        status = f"; last status {self.last.raw_status!r}" if self.last else ""
        return self._end(
            OutcomeStatus.CANCELLED, f"interrupted by signal {signum}{status}", signum=signum
        )

    def _end(
        self, status: OutcomeStatus, reason: str | None, *, signum: int | None = None
    ) -> Outcome:
        last = self.last
        return Outcome(
            status=status,
            provider=self.provider.name,
            target=dict(self.provider.target),
            raw_status=last.raw_status if last else None,
            errors=last.errors if last else (),
            reason=reason,
            elapsed_seconds=round(self.elapsed(), 3),
            polls=self.polls,
            started_at=_iso(self.started_at),
            finished_at=_iso(self.wall_clock()),
            deployment_changed_at=last.changed_at if last else None,
            warnings=tuple(self.warnings),
            signal=signum,
        )


def _age(created_at: str | None, now: datetime) -> float | None:
    """Seconds since ``created_at`` (ISO 8601), or None if absent, unreadable or implausible."""
    if not created_at:
        return None
    try:
        created = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    age = (now - created).total_seconds()
    return age if 0 <= age <= 7 * 24 * 3600 else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
