"""Running a bake: every check read once a round, from the deployment's success until the
bake's time is up, a check breaches, or a check cannot be read at the end.

A breach ends the bake at once (as CodeDeploy stops on an alarm): the release is unhealthy,
and waiting longer cannot unsay it. A check that cannot be read mid-bake is read again next
round; since most checks read the whole window since the bake began, the last round decides.
The last round is retried through transient faults for at most :data:`LAST_ROUND_SECONDS`;
a check still unread then leaves the bake unreadable, never passed.

How the rounds are judged follows Argo Rollouts' analysis (``failureLimit``,
``consecutiveErrorLimit``, ``inconclusiveLimit``, ``dryRun``), adapted to checks that read a
window: :class:`Judging` decides, round by round, and :class:`Baking` runs the rounds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from gate.bake.check import Check, Reading, ReadsBeforeTheDeployment
from gate.bake.judging import Judging, Verdict
from gate.bake.lengths import (
    BAKE,
    BAKE_FAILURE_LIMIT,
    BAKE_INCONCLUSIVE,
    BAKE_INTERVAL,
    BAKE_UNREADABLE_LIMIT,
    DEFAULT_BAKE_INTERVAL,
    InconclusivePolicy,
)
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
    checks. ``interval``: how often every check is read; ``failure_limit``: how many rounds
    that find a new breach are tolerated; ``unreadable_limit``: how many rounds in a row a
    check may go unread before the bake ends unreadable (None: until its end);
    ``inconclusive``: what an inconclusive verdict at the end does; ``report_only``: run
    every round and report what would have been decided, never failing the gate on it."""

    duration: float
    checks: Sequence[Check]
    interval: float = DEFAULT_BAKE_INTERVAL
    failure_limit: int = 0
    unreadable_limit: int | None = None
    inconclusive: InconclusivePolicy = "pass"
    report_only: bool = False

    def __post_init__(self) -> None:
        BAKE.seconds(self.duration)  # the fields' bounds, said as every face says them
        BAKE_INTERVAL.seconds(self.interval)
        BAKE_FAILURE_LIMIT.number(self.failure_limit)
        if self.unreadable_limit is not None:
            BAKE_UNREADABLE_LIMIT.number(self.unreadable_limit)
        BAKE_INCONCLUSIVE.check(self.inconclusive, {})
        if not self.checks:
            raise UsageError("a bake needs something to watch: at least one check")

    def describe(self) -> str:
        watched = "; ".join(check.describe() for check in self.checks)
        judged = [f"failure limit {self.failure_limit}"] if self.failure_limit else []
        judged += ["report only"] if self.report_only else []
        how = f" ({', '.join(judged)})" if judged else ""
        return f"{format_duration(self.duration)}{how}, watching {watched}"

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
    deployment_began: datetime | None = None
    """When the deployment began, where the provider says: told to the checks that read
    before it (:class:`~gate.bake.check.ReadsBeforeTheDeployment`)."""
    began: float = 0.0
    since: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    rounds: int = 0
    readings: dict[int, Reading] = field(default_factory=dict)
    faults: dict[int, GateError] = field(default_factory=dict)
    judging: Judging = field(init=False)

    def __post_init__(self) -> None:
        self.judging = Judging(
            failure_limit=self.bake.failure_limit,
            unreadable_limit=self.bake.unreadable_limit,
            inconclusive=self.bake.inconclusive,
        )

    def run(self) -> BakeResult:
        self.began = self.clock()
        self.since = self.wall_clock()
        for check in self.bake.checks:
            if isinstance(check, ReadsBeforeTheDeployment):
                check.deployment_began(self.deployment_began)
        ends = self.began + self.bake.duration
        self.say(f"baking for {self.bake.describe()}", 0.0)
        last_said, said = self.began, ""
        would_have: tuple[Verdict, float] | None = None
        while True:
            last_round = self.clock() >= ends
            verdict = self._round(last_round=last_round)
            if verdict is not None and would_have is None:
                if not self.bake.report_only:
                    return self.result(
                        verdict.status, breaches=verdict.breaches, reason=verdict.reason
                    )
                would_have = verdict, self.clock() - self.began
                if verdict.status is not BakeStatus.PASSED:
                    self.say(
                        f"report only: {self._would_have(*would_have)}; baking on", would_have[1]
                    )
            if last_round and would_have is not None:
                return self._reported(*would_have)
            now = self.clock()
            if self.judging.tolerated:
                self.say(self.judging.tolerated, now - self.began)
            line = self._progress()
            if line != said or now - last_said >= PROGRESS_EVERY:
                self.say(line, now - self.began)
                last_said, said = now, line
            wake = min(now + self.bake.interval, ends)
            while self.clock() < wake:
                self.sleep(wake - self.clock())

    def _round(self, *, last_round: bool) -> Verdict | None:
        """Read every check once (the last round: until each settles, within
        :data:`LAST_ROUND_SECONDS`), and judge what was read: the verdict, if this round
        decides the bake (the last round always does)."""
        self.rounds += 1
        read: dict[int, Reading] = {}
        unread: dict[int, GateError] = {}
        refused: list[str] = []
        ends = self.began + self.bake.duration
        until = self.clock() + LAST_ROUND_SECONDS if last_round else max(ends, self.clock())
        for index, check in enumerate(self.bake.checks):
            try:
                reading = self._read(check, until=until, last_round=last_round)
            except _Unsettled as unsettled:
                reading = unsettled.reading
            except TransientError as fault:
                self.faults[index] = unread[index] = fault
                continue
            except GateError as refusal:
                self.faults[index] = refusal
                refused.append(f"{check.describe()} could not be read: {refusal}")
                continue
            self.faults.pop(index, None)
            self.readings[index] = read[index] = reading
        names = [check.describe() for check in self.bake.checks]
        verdict = self.judging.round(names, read, unread, refused, last=last_round)
        if verdict is None and last_round:
            return self.judging.ended(names, self.readings, self.faults)
        return verdict

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

    def _would_have(self, verdict: Verdict, into: float) -> str:
        """``the bake would have failed 3m27s into its 10m00s bake: alarm ...``."""
        decided = replace(
            self.result(verdict.status, breaches=verdict.breaches, reason=verdict.reason),
            elapsed_seconds=round(into, 3),
        )
        if verdict.status is BakeStatus.PASSED:
            return "the bake would have passed"
        word = {
            BakeStatus.UNREADABLE: "ended unreadable",
            BakeStatus.INCONCLUSIVE: "failed as inconclusive",
        }.get(verdict.status, "failed")
        return f"the bake would have {word} {decided.how_far}: {decided.why()}"

    def _reported(self, verdict: Verdict, into: float) -> BakeResult:
        """A report-only bake's result: the status it would have ended with, every breach
        its checks' latest reads hold (and those that decided it), and the gate told not to
        act on it."""
        latest = [b for index in sorted(self.readings) for b in self.readings[index].breaches]
        named = {breach.check for breach in latest}
        breaches = (*latest, *(b for b in verdict.breaches if b.check not in named))
        said = f"report only: {self._would_have(verdict, into)}; the gate does not act on it"
        return replace(
            self.result(verdict.status, breaches=tuple(breaches), reason=verdict.reason),
            notes=(one_line(said, limit=1000), *self.judging.notes),
        )

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
            notes=tuple(self.judging.notes),
            report_only=self.bake.report_only,
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
