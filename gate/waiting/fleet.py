"""Waiting on many deployments at once: a release that deploys to several places.

Each target is waited on by the one wait engine (:func:`gate.waiting.engine.wait`) in a
thread of its own, with its own schedule and deadline; what the targets share (clients,
connection pools, one request budget per API) comes from the
:class:`gate.wire.sharing.Sharing` their providers were built in. Threads suit this: a waiting
target sleeps, and reads are short and rate limited,
so a thousand targets cost a thousand sleeping threads and a few reads a second.

The whole ends as the worst of its targets: failed, then timed out, then unreadable (exit 1,
3, 4); it succeeded only if every target did. With ``fail_fast``, the first target that cannot
succeed ends the waits of the targets still undecided as cancelled, each naming why; a target
whose own gate already ended is left to roll back: a rollback once due is planned, started and
gated to its end (within its deadline) whatever fails after. A signal ends everything as
cancelled, rollbacks included.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Protocol

from gate.core.errors import Interrupted, Stopped, TransientError, UsageError
from gate.core.model import OnFailure, Outcome, OutcomeStatus, Snapshot
from gate.core.provider import Provider
from gate.core.timestamps import iso_utc
from gate.waiting.engine import Timing, WaitOptions, wait
from gate.waiting.outcomes import ENDED_AS, WORST_FIRST, FleetOutcome, tally, worst
from gate.waiting.reporter import GuardedReporter, NullReporter, Reporter
from gate.waiting.telling import Gated, Telling, tell_each, told
from gate.wire import deadline
from gate.wire.sharing import Sharing

if TYPE_CHECKING:
    from gate.bake.run import Bake
    from gate.waiting.plan import GatePlan

__all__ = [
    "WORST_FIRST",
    "FleetOutcome",
    "FleetReporter",
    "Target",
    "tally",
    "wait_all",
    "worst",
]

STOP_GRACE = 5.0
"""How long stopped waits may take to end (a read under way finishes first). CI runners send
SIGTERM 7.5 s after SIGINT: the outcome is written well before."""


@dataclass(frozen=True)
class Target:
    """One deployment of the many: a name for people, its provider, and how to wait on it."""

    name: str
    provider: Provider
    options: WaitOptions = field(default_factory=WaitOptions)
    bake: Bake | None = None
    on_failure: OnFailure = "nothing"
    dry_run: bool = False
    named: bool = True
    """Its name was given; False when it was made from its ids (a telling then names the
    target by its environment, never by a deployment id)."""
    api_url: str | None = None
    """The API its provider reads, where that is an HTTP API."""

    def gated(self) -> Gated:
        """The target as a telling hears of it."""
        return Gated.of(self.provider, self.name, named=self.named, api_url=self.api_url)

    def plan(self) -> GatePlan:
        """How its gate waits, and what a failure does."""
        from gate.waiting.plan import GatePlan

        return GatePlan(waiting=self.options, on_failure=self.on_failure, dry_run=self.dry_run)


class _Deciding:
    """Passes every call on; told the gate's own outcome first (``decided``), whatever the
    reporter behind it does with it."""

    def __init__(self, inner: Reporter, decided: Callable[[Outcome], None]) -> None:
        self._inner = inner
        self._decided = decided

    def started(self, description: str, timeout: float) -> None:
        self._inner.started(description, timeout)

    def status_changed(self, previous: Snapshot | None, current: Snapshot, elapsed: float) -> None:
        self._inner.status_changed(previous, current, elapsed)

    def heartbeat(self, current: Snapshot | None, elapsed: float, polls: int) -> None:
        self._inner.heartbeat(current, elapsed, polls)

    def warning(self, message: str, elapsed: float) -> None:
        self._inner.warning(message, elapsed)

    def retrying(self, fault: TransientError, delay: float, elapsed: float) -> None:
        self._inner.retrying(fault, delay, elapsed)

    def phase(self, line: str, elapsed: float) -> None:
        self._inner.phase(line, elapsed)

    def finished(self, outcome: Outcome) -> None:
        self._decided(outcome)
        self._inner.finished(outcome)


class FleetReporter(Protocol):
    def started(self, targets: Sequence[Target]) -> None: ...

    def for_target(self, target: Target) -> Reporter:
        """Who hears about this target's wait, from the target's own thread: the fleet
        reporter keeps its targets' lines from mixing (see GuardedReporter's ``lock``)."""
        ...

    def progress(self, ended: Sequence[Outcome], total: int, elapsed: float) -> None:
        """Between changes, every so often: how far the whole has come."""
        ...

    def short_of_requests(self, api: str, rate: float) -> None:
        """Once per API: its request budget cannot read every target before the deadline."""
        ...

    def phase(self, line: str, elapsed: float) -> None:
        """What the whole does once its targets ended: the release's bake, its rollback."""
        ...

    def finished(self, outcome: FleetOutcome) -> None: ...


class NullFleetReporter:
    def started(self, targets: Sequence[Target]) -> None:
        pass

    def for_target(self, target: Target) -> Reporter:
        return NullReporter()

    def progress(self, ended: Sequence[Outcome], total: int, elapsed: float) -> None:
        pass

    def short_of_requests(self, api: str, rate: float) -> None:
        pass

    def phase(self, line: str, elapsed: float) -> None:
        pass

    def finished(self, outcome: FleetOutcome) -> None:
        pass


def wait_all(
    targets: Sequence[Target],
    plan: GatePlan | None = None,
    *,
    reporter: FleetReporter | None = None,
    sharing: Sharing | None = None,
    bake: Bake | None = None,
    telemetry: Sequence[Telling] = (),
    timing: Timing | None = None,
) -> FleetOutcome:
    """Wait on every target at once; always returns a :class:`FleetOutcome`.

    ``plan``: the release's (each target waits by its own ``options``): ``fail_fast``, and
    should its ``bake`` not pass, ``on_failure`` rolls every target back
    (:mod:`gate.waiting.release`; ``dry_run`` only says so). ``bake``: the release's own,
    built from the plan, once every target passed (its own bake included), kept inside each
    target's timeout. A target that fails rolls back by its own ``on_failure``.
    ``telemetry`` hears the release and each target's gate (the caller closes each, to
    flush); a release of one target without a name is a single gate (``gate wait``), and is
    told as one: its gate, with no release around it.

    Every target's timeout counts from ``timing.started`` (on ``timing.clock``; now if not
    given), so the whole ends by the longest timeout however long ten thousand threads take
    to start.

    Providers are neither built nor closed here: build them inside ``sharing.active()`` so
    they share clients and request budgets, and pass the same ``sharing`` so stopping also
    ends waits queued for a request slot. Ctrl-C and :class:`~gate.core.errors.Interrupted` in the
    calling thread end every wait as cancelled. A target whose gate cannot work (a
    :class:`~gate.core.errors.UsageError` of its wait: an alarm that does not exist) stops the
    others, and is raised, naming the target, once they ended.
    """
    timing = timing or Timing()
    clock, summary_every = timing.clock, timing.summary_every
    fail_fast = plan.fail_fast if plan is not None else False
    on_failure: OnFailure = plan.on_failure if plan is not None else "nothing"
    dry_run = plan.dry_run if plan is not None else False
    names = [target.name for target in targets]
    if len(set(names)) != len(names):
        raise ValueError("every target needs a name of its own")
    reporter = reporter or NullFleetReporter()
    if sharing is not None:
        sharing.on_short = reporter.short_of_requests
    stopped = sharing.stopped if sharing is not None else threading.Event()
    began = clock() if timing.started is None else timing.started
    if bake is not None:
        from gate.waiting.release import check_release

        check_release(
            targets,
            bake,
            on_failure,
            began=began,
            clock=clock,
            sleep=_stoppable(stopped),
            say=lambda line: reporter.phase(line, clock() - began),
        )
    single = len(targets) == 1 and not targets[0].name  # a single gate: told as one
    tellings = () if single else telemetry
    tell_each(tellings, "release_started", [target.gated() for target in targets])
    run = _FleetRun(
        list(targets),
        fail_fast=fail_fast,
        reporter=reporter,
        stopped=stopped,
        clock=clock,
        kept_for_release=bake.duration if bake is not None else 0.0,
        telemetry=telemetry,
    )
    outcome = run.run(began, summary_every)
    if run.refused is not None:
        raise run.refused
    if bake is not None and outcome.succeeded:
        from gate.waiting.release import bake_release  # with the bake's checks

        baked = bake_release(
            outcome.outcomes,
            list(targets),
            bake,
            on_failure=on_failure,
            dry_run=dry_run,
            say=lambda line: reporter.phase(line, clock() - began),
            clock=clock,
            stopped=stopped,
        )
        outcome = replace(
            outcome,
            status=baked.status,
            bake=baked.bake,
            outcomes=baked.outcomes,
            reason=baked.reason,
            signal=baked.signal,
        )
        outcome = replace(outcome, elapsed_seconds=round(clock() - began, 3))
    if sharing is not None:
        outcome = replace(outcome, throttled=sharing.throttled())
    run.reporter.finished(outcome)
    tell_each(tellings, "release_finished", outcome)
    return outcome


def _stoppable(stopped: threading.Event) -> Callable[[float], None]:
    """A sleep that ends the gate once it is stopped (``--fail-fast``, a signal)."""

    def sleep(seconds: float) -> None:
        if stopped.wait(seconds):
            raise Stopped("the gate was stopped before waiting")

    return sleep


class _FleetRun:
    def __init__(
        self,
        targets: list[Target],
        *,
        fail_fast: bool,
        reporter: FleetReporter,
        stopped: threading.Event,
        clock: Callable[[], float],
        kept_for_release: float = 0.0,
        telemetry: Sequence[Telling] = (),
    ) -> None:
        self.kept_for_release = kept_for_release
        self.telemetry = telemetry
        self.targets = targets
        self.fail_fast = fail_fast
        self.reporter = reporter
        self.stopped = stopped
        self.clock = clock
        self.ended: dict[int, Outcome] = {}
        """Each target's outcome, rollback included: its thread is done."""
        self.decided: dict[int, Outcome] = {}
        """Each target's own gate, as soon as it ended (before its rollback)."""
        self.stops = [deadline.Stop() for _ in targets]
        """Each target's own stop: --fail-fast sets those of the undecided, a signal all."""
        self.changed = threading.Condition()
        self.stop_reason = ""
        self.stop_signal: int | None = None
        self.refused: UsageError | None = None
        """The first target whose gate cannot work: the whole is refused with it."""
        self.started = 0.0

    def run(self, started: float, summary_every: float) -> FleetOutcome:
        self.started = started
        started_at = datetime.now(timezone.utc) - timedelta(seconds=self.clock() - started)
        self.reporter.started(self.targets)
        threads = [
            threading.Thread(target=self._wait_on, args=(index,), daemon=True)
            for index in range(len(self.targets))
        ]
        for thread in threads:
            thread.start()
        try:
            self._watch(started, summary_every)
        except KeyboardInterrupt:
            self._stop_all(f"interrupted by signal {signal.SIGINT}", signal.SIGINT)
        except Interrupted as interrupt:
            self._stop_all(f"interrupted by signal {interrupt.signum}", interrupt.signum)
        if self.stop_signal is not None:
            self._let_stopped_waits_end(threads)
        outcomes = tuple(self._outcome_of(index) for index in range(len(self.targets)))
        signum = self.stop_signal
        status = (
            OutcomeStatus.CANCELLED
            if signum is not None
            else worst([outcome.status for outcome in outcomes])
        )
        return FleetOutcome(
            outcomes=outcomes,
            status=status,
            elapsed_seconds=round(self.clock() - started, 3),
            started_at=iso_utc(started_at),
            finished_at=iso_utc(datetime.now(timezone.utc)),
            signal=signum,
        )

    def _wait_on(self, index: int) -> None:
        target = self.targets[index]
        try:
            watcher: Reporter = self.reporter.for_target(target)
        except Exception:  # a reporter that cannot start reporting must not stop the wait
            watcher = NullReporter()
        watcher = _Deciding(
            told(GuardedReporter(watcher), self.telemetry, target.gated()),
            lambda decided: self._decided(index, decided),
        )
        stop = self.stops[index]

        def sleep(seconds: float) -> None:
            if stop.wait(seconds):
                raise Stopped(self.stop_reason, signum=self.stop_signal)

        try:
            with deadline.stopped_by(stop):
                outcome = wait(
                    target.provider,
                    target.plan(),
                    reporter=watcher,
                    bake=target.bake,
                    timing=Timing(
                        clock=self.clock,
                        sleep=sleep,
                        started=self.started,
                        kept_for_release=self.kept_for_release,
                    ),
                )
        except UsageError as refused:  # its checks can never work: found before waiting
            outcome = self._refused(target, refused)
        with self.changed:
            self.ended[index] = replace(outcome, name=target.name)
            self.changed.notify_all()

    def _refused(self, target: Target, refused: UsageError) -> Outcome:
        """A target whose gate cannot work (a bake's alarm that does not exist): the whole
        is refused (exit 2), as a single gate is, once the others stopped."""
        said = UsageError(f"{target.name}: {refused}") if target.name else refused
        with self.changed:
            if self.refused is None:
                self.refused = said
                self.stop_reason = f"cancelled: {target.name or 'a target'} cannot be gated"
                for stop in self.stops:
                    stop.set()
        now = iso_utc(datetime.now(timezone.utc))
        return Outcome(
            status=OutcomeStatus.ERROR,
            provider=target.provider.name,
            target=dict(target.provider.target),
            raw_status=None,
            errors=(),
            reason=str(refused),
            elapsed_seconds=0.0,
            polls=0,
            started_at=now,
            finished_at=now,
        )

    def _decided(self, index: int, outcome: Outcome) -> None:
        """The target's own gate ended: from now on only a signal stops it (its rollback), not
        --fail-fast, which may have stopped it in the moment its failure was read."""
        with self.changed:
            self.decided[index] = outcome
            if self.stop_signal is None:
                self.stops[index].clear()
            self.changed.notify_all()

    def _watch(self, started: float, summary_every: float) -> None:
        said_at = self.clock()
        seen = 0
        with self.changed:
            while len(self.ended) < len(self.targets):
                # Look before waiting: a target that ended while the threads were still being
                # started notified no one, and would have been seen a summary later (30 s).
                if len(self.decided) > seen:
                    seen = len(self.decided)
                    self._maybe_fail_fast()
                if self.clock() - said_at >= summary_every:
                    said_at = self.clock()
                    self.reporter.progress(
                        list(self.ended.values()), len(self.targets), self.clock() - started
                    )
                self.changed.wait(timeout=max(0.0, said_at + summary_every - self.clock()))

    def _maybe_fail_fast(self) -> None:
        """Called with ``changed`` held: the first target whose own gate did not succeed
        cancels the waits of those still undecided (never a rollback: see ``_decided``)."""
        if not self.fail_fast or self.stop_reason:
            return
        for index in sorted(self.decided):
            outcome = self.decided[index]
            if outcome.status not in (OutcomeStatus.SUCCEEDED, OutcomeStatus.CANCELLED):
                word = ENDED_AS[outcome.status]
                name = self.targets[index].name
                self.stop_reason = f"cancelled by --fail-fast: {name} {word}"
                for undecided, stop in enumerate(self.stops):
                    if undecided not in self.decided:
                        stop.set()
                return

    def _stop_all(self, reason: str, signum: int) -> None:
        """A signal: every wait and every rollback ends, and so do the request queues."""
        with self.changed:
            self.stop_reason, self.stop_signal = reason, signum
            for stop in self.stops:
                stop.stop(reason, signum)
        self.stopped.set()

    def _let_stopped_waits_end(self, threads: list[threading.Thread]) -> None:
        """Give reads under way a moment; a second signal cuts it short, so the outcome is
        written whatever comes (the runner's SIGTERM follows its SIGINT)."""
        ends = time.monotonic() + STOP_GRACE
        try:
            for thread in threads:
                thread.join(timeout=max(0.0, ends - time.monotonic()))
        except (KeyboardInterrupt, Interrupted):
            return

    def _outcome_of(self, index: int) -> Outcome:
        with self.changed:
            ended = self.ended.get(index)
        if ended is not None:
            return ended
        target = self.targets[index]
        now = iso_utc(datetime.now(timezone.utc))
        return Outcome(
            status=OutcomeStatus.CANCELLED,
            provider=target.provider.name,
            target=dict(target.provider.target),
            raw_status=None,
            errors=(),
            reason=f"{self.stop_reason}; a read was still under way",
            elapsed_seconds=0.0,
            polls=0,
            started_at=now,
            finished_at=now,
            signal=self.stop_signal,
            name=target.name,
        )
