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

from gate.core.errors import Interrupted, Stopped
from gate.core.model import OnFailure, Outcome, OutcomeStatus
from gate.core.provider import Provider
from gate.core.timestamps import iso_utc
from gate.waiting.engine import WaitOptions, wait
from gate.waiting.outcomes import ENDED_AS, WORST_FIRST, FleetOutcome, tally, worst
from gate.waiting.reporter import NullReporter, Reporter
from gate.waiting.telling import Gated, Telling, tell_each, told
from gate.wire import deadline
from gate.wire.sharing import Sharing

if TYPE_CHECKING:
    from gate.bake.run import Bake

__all__ = [
    "WORST_FIRST",
    "FleetOutcome",
    "FleetReporter",
    "Target",
    "tally",
    "wait_all",
    "worst",
]

DEFAULT_SUMMARY_EVERY = 30.0
"""How often a gate of many says how far it has come, between changes."""
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
    *,
    fail_fast: bool = False,
    reporter: FleetReporter | None = None,
    sharing: Sharing | None = None,
    summary_every: float = DEFAULT_SUMMARY_EVERY,
    clock: Callable[[], float] = time.monotonic,
    started: float | None = None,
    bake: Bake | None = None,
    on_failure: OnFailure = "nothing",
    dry_run: bool = False,
    telemetry: Sequence[Telling] = (),
) -> FleetOutcome:
    """Wait on every target at once; always returns a :class:`FleetOutcome`.

    ``bake``: the release's own, once every target passed (its own bake included), kept
    inside each target's timeout; should it not pass, ``on_failure`` rolls every target
    back (:mod:`gate.waiting.release`). A target that fails rolls back by its own
    ``on_failure``. ``telemetry`` hears the release and each target's gate (the caller
    closes each, to flush).

    Every target's timeout counts from ``started`` (on ``clock``; now if not given), so the
    whole ends by the longest timeout however long ten thousand threads take to start.

    Providers are neither built nor closed here: build them inside ``sharing.active()`` so
    they share clients and request budgets, and pass the same ``sharing`` so stopping also
    ends waits queued for a request slot. Ctrl-C and :class:`~gate.core.errors.Interrupted` in the
    calling thread end every wait as cancelled.
    """
    names = [target.name for target in targets]
    if len(set(names)) != len(names):
        raise ValueError("every target needs a name of its own")
    reporter = reporter or NullFleetReporter()
    if sharing is not None:
        sharing.on_short = reporter.short_of_requests
    stopped = sharing.stopped if sharing is not None else threading.Event()
    began = clock() if started is None else started
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
    tell_each(telemetry, "release_started", [target.gated() for target in targets])
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
    tell_each(telemetry, "release_finished", outcome)
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
        self.stops = [threading.Event() for _ in targets]
        """Each target's own stop: --fail-fast sets those of the undecided, a signal all."""
        self.changed = threading.Condition()
        self.stop_reason = ""
        self.stop_signal: int | None = None
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
        watcher = told(watcher, self.telemetry, target.gated())
        stop = self.stops[index]

        def sleep(seconds: float) -> None:
            if stop.wait(seconds):
                raise Stopped(self.stop_reason, signum=self.stop_signal)

        with deadline.stopped_by(stop):
            outcome = wait(
                target.provider,
                options=target.options,
                reporter=watcher,
                clock=self.clock,
                sleep=sleep,
                started=self.started,
                bake=target.bake,
                on_failure=target.on_failure,
                dry_run=target.dry_run,
                kept_for_release=self.kept_for_release,
                decided=lambda decided: self._decided(index, decided),
            )
        with self.changed:
            self.ended[index] = replace(outcome, name=target.name)
            self.changed.notify_all()

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
                stop.set()
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
