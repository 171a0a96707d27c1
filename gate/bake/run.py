"""Running a bake: every check read once a round, from the deployment's success until the
bake's time is up, a check breaches, or a check cannot be read at the end.

A breach ends the bake at once (as CodeDeploy stops on an alarm): the release is unhealthy,
and waiting longer cannot unsay it. A check that cannot be read mid-bake is read again next
round; since most checks read the whole window since the bake began, the last round decides.
The last round is retried through transient faults for at most :data:`LAST_ROUND_SECONDS`;
a check still unread then leaves the bake unreadable, never passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from gate.bake.check import Check, Reading
from gate.bake.lengths import BAKE, BAKE_INTERVAL, DEFAULT_BAKE_INTERVAL
from gate.core.durations import format_duration
from gate.core.errors import GateError, TransientError, UsageError
from gate.core.model import BakeResult, BakeStatus, Breach, CheckResult
from gate.core.text import one_line
from gate.core.timestamps import iso_utc
from gate.wire import deadline

__all__ = ["DEFAULT_BAKE_INTERVAL", "LAST_ROUND_SECONDS", "Bake", "Baking"]

LAST_ROUND_SECONDS = 10.0
"""The most the bake's last round may take, retries included: a gate with a bake ends by
``--timeout`` plus this."""
PROGRESS_EVERY = 60.0
"""A bake's progress line is said when what the checks say changes, and at least this often."""


class _Unsettled(TransientError):
    """A read at the end of the bake that cannot say healthy yet: read again, briefly."""

    def __init__(self, reading: Reading) -> None:
        super().__init__(reading.unsettled or "not settled", retry_after=1.0)
        self.reading = reading


@dataclass(frozen=True)
class Bake:
    """How long a release must stay healthy after its deployment succeeded, and by which
    checks. ``interval``: how often every check is read."""

    duration: float
    checks: Sequence[Check]
    interval: float = DEFAULT_BAKE_INTERVAL

    def __post_init__(self) -> None:
        BAKE.seconds(self.duration)  # the fields' bounds, said as every face says them
        BAKE_INTERVAL.seconds(self.interval)
        if not self.checks:
            raise UsageError("a bake needs something to watch: at least one check")

    def describe(self) -> str:
        watched = "; ".join(check.describe() for check in self.checks)
        return f"{format_duration(self.duration)}, watching {watched}"

    def prepare(
        self,
        *,
        until: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[TransientError, float], None] = lambda fault, delay: None,
    ) -> None:
        """Every check's :meth:`~gate.bake.check.Check.prepare`, before anything is waited on.
        A transient fault (5xx, 429, no answer in time) is retried until ``until`` (on
        ``clock``), as it would be during the bake; a refusal (a query Prometheus cannot
        parse) ends it at once."""
        from gate.wire.retry import call_with_retries  # tenacity: not for `gate --help`

        for check in self.checks:

            def prepared(check: Check = check) -> None:
                with deadline.within(max(until - clock(), 1.0)):
                    check.prepare()

            call_with_retries(
                prepared,
                deadline=until,
                clock=clock,
                sleep=sleep,
                max_backoff=self.interval,
                on_retry=on_retry,
            )

    def close(self) -> None:
        for check in self.checks:
            check.close()


@dataclass
class Baking:
    """One bake under way; :meth:`result` says where it stands at any time (a cancelled
    bake's too)."""

    bake: Bake
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    wall_clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    say: Callable[[str, float], None] = lambda line, elapsed: None
    """Progress, with the seconds into the bake."""
    began: float = 0.0
    since: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    rounds: int = 0
    readings: dict[int, Reading] = field(default_factory=dict)
    faults: dict[int, GateError] = field(default_factory=dict)

    def run(self) -> BakeResult:
        self.began = self.clock()
        self.since = self.wall_clock()
        ends = self.began + self.bake.duration
        self.say(f"baking for {self.bake.describe()}", 0.0)
        last_said, said = self.began, ""
        while True:
            last_round = self.clock() >= ends
            breaches, broken = self._round(last_round=last_round)
            if breaches:
                return self.result(BakeStatus.BREACHED, breaches=breaches)
            if broken is not None:
                return self.result(BakeStatus.UNREADABLE, reason=broken)
            if last_round:
                return self._ended()
            now = self.clock()
            line = self._progress()
            if line != said or now - last_said >= PROGRESS_EVERY:
                self.say(line, now - self.began)
                last_said, said = now, line
            wake = min(now + self.bake.interval, ends)
            while self.clock() < wake:
                self.sleep(wake - self.clock())

    def _round(self, *, last_round: bool) -> tuple[tuple[Breach, ...], str | None]:
        """Read every check once (the last round: until each settles, within
        :data:`LAST_ROUND_SECONDS`): what breached, and why the bake cannot go on (a check
        that refused for good). A breach found beside a refusal is still a breach."""
        self.rounds += 1
        breaches: list[Breach] = []
        refused: list[str] = []
        ends = self.began + self.bake.duration
        until = self.clock() + LAST_ROUND_SECONDS if last_round else max(ends, self.clock())
        for index, check in enumerate(self.bake.checks):
            try:
                reading = self._read(check, until=until, last_round=last_round)
            except _Unsettled as unsettled:
                reading = unsettled.reading
            except TransientError as fault:
                self.faults[index] = fault
                continue
            except GateError as refusal:
                self.faults[index] = refusal
                refused.append(f"{check.describe()} could not be read: {refusal}")
                continue
            self.faults.pop(index, None)
            self.readings[index] = reading
            breaches += reading.breaches
        return tuple(breaches), "; ".join(refused) or None

    def _read(self, check: Check, *, until: float, last_round: bool) -> Reading:
        if not last_round:
            budget = max(min(self.bake.interval, until - self.clock()), 1.0)
            with deadline.within(budget):
                return check.read(self.since, self.wall_clock())
        from gate.wire.retry import call_with_retries  # tenacity: not for `gate --help`

        def settled() -> Reading:
            with deadline.within(max(until - self.clock(), 1.0)):
                reading = check.read(self.since, self.wall_clock())
            if reading.unsettled and not reading.breaches:
                raise _Unsettled(reading)
            return reading

        return call_with_retries(
            settled, deadline=until, clock=self.clock, sleep=self.sleep, max_backoff=2.0
        )

    def _ended(self) -> BakeResult:
        unread = [
            f"{self.bake.checks[index].describe()}: {fault}"
            for index, fault in sorted(self.faults.items())
        ]
        unsettled = [
            f"{self.bake.checks[index].describe()}: {reading.unsettled}"
            for index, reading in sorted(self.readings.items())
            if reading.unsettled and index not in self.faults
        ]
        if unsettled and not unread:
            return self.result(
                BakeStatus.UNREADABLE,
                reason=f"not yet healthy at the end of the bake: {'; '.join(unsettled)}",
            )
        unread += unsettled
        if unread:
            return self.result(
                BakeStatus.UNREADABLE,
                reason=f"could not be read at the end of the bake: {'; '.join(unread)}",
            )
        return self.result(BakeStatus.PASSED)

    def _progress(self) -> str:
        said = []
        for index, check in enumerate(self.bake.checks):
            if index in self.faults:
                said.append(f"{check.kind} unread ({one_line(str(self.faults[index]), limit=120)})")
            elif index in self.readings:
                said.append(self.readings[index].summary)
        into = format_duration(self.clock() - self.began)
        return f"baking {into} of {format_duration(self.bake.duration)}: {', '.join(said)}"

    def result(
        self,
        status: BakeStatus,
        *,
        breaches: tuple[Breach, ...] = (),
        reason: str | None = None,
    ) -> BakeResult:
        return BakeResult(
            status=status,
            duration_seconds=self.bake.duration,
            elapsed_seconds=round(max(self.clock() - self.began, 0.0), 3),
            reads=self.rounds,
            started_at=iso_utc(self.since),
            checks=tuple(self._check_result(index) for index in range(len(self.bake.checks))),
            breaches=breaches,
            reason=reason,
        )

    def _check_result(self, index: int) -> CheckResult:
        check = self.bake.checks[index]
        reading = self.readings.get(index)
        fault = self.faults.get(index)
        return CheckResult(
            kind=check.kind,
            watched=check.describe(),
            summary=reading.summary if reading else "",
            notes=reading.notes if reading else (),
            fault=str(fault) if fault else None,
            verdict=reading.verdict if reading else None,
        )
