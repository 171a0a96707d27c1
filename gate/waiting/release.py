"""A release's own bake, once every target of a gate of many passed, and its rollback.

Each target may bake by itself (its own checks, right after its deployment succeeded); the
release's bake watches what only the whole can break (the checkout's 5xx alarm once every
region runs the new version). It runs once, after the last target passed, inside the
timeout: every target's deployment and bake must end before it (``kept_for_release``). A
release that fails its bake rolls every target back when asked: each of them deployed it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from gate.core.durations import format_duration
from gate.core.errors import Interrupted, Stopped
from gate.core.model import BakeResult, BakeStatus, OnFailure, Outcome, OutcomeStatus
from gate.core.provider import Provider
from gate.core.text import one_line
from gate.core.timestamps import parse_timestamp
from gate.waiting.engine import Timing, WaitOptions, wait
from gate.waiting.reporter import PhaseReporter
from gate.waiting.rollback import check_rollback, roll_back, rolls_back_on
from gate.wire import deadline

if TYPE_CHECKING:
    from gate.bake.run import Bake

__all__ = ["MAX_PARALLEL_ROLLBACKS", "ReleaseBaked", "bake_release", "check_release"]


class Target(Protocol):
    """A target of the gate of many, as far as its release's rollback needs it."""

    @property
    def name(self) -> str: ...

    @property
    def provider(self) -> Provider: ...

    @property
    def options(self) -> WaitOptions: ...


@dataclass(frozen=True)
class ReleaseBaked:
    """How the release's bake ended, and the targets' outcomes with what rolling back did."""

    status: OutcomeStatus
    bake: BakeResult
    outcomes: tuple[Outcome, ...]
    reason: str | None = None
    signal: int | None = None


MAX_PARALLEL_ROLLBACKS = 8
"""Targets rolled back at once: each starts a deployment, and an API may refuse a burst."""


def check_release(
    targets: Sequence[Target],
    bake: Bake,
    on_failure: OnFailure,
    *,
    began: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    say: Callable[[str], None],
) -> None:
    """Before waiting: a rollback every target can do, and checks that can work, their
    transient faults retried (and said) while every target's deployment could still fit
    before its deadline (its timeout from ``began``, less the release's bake)."""
    for target in targets:
        check_rollback(target.provider, on_failure, dry_run=False)
    shortest = min((target.options.timeout for target in targets), default=bake.duration)
    bake.prepare(
        until=began + shortest - bake.duration,
        clock=clock,
        sleep=sleep,
        on_retry=lambda fault, delay: say(
            f"release: {fault}; retrying in {format_duration(delay)}"
        ),
    )


def bake_release(
    ended: Sequence[Outcome],
    targets: Sequence[Target],
    bake: Bake,
    *,
    on_failure: OnFailure,
    dry_run: bool,
    say: Callable[[str], None],
    clock: Callable[[], float],
    stopped: threading.Event,
) -> ReleaseBaked:
    """The release's bake, once every target passed (``ended``), and what rolling back did."""
    from gate.bake.run import Baking

    def sleep(seconds: float) -> None:
        if stopped.wait(seconds):
            raise Stopped("the gate was stopped during the release's bake")

    baking = Baking(
        bake,
        clock=clock,
        sleep=sleep,
        say=lambda line, into: say(f"release: {line}"),
        deployment_began=_first_began(ended),
    )
    try:
        baked = baking.run()
    except Exception as bug:  # the promise: the whole ends as an outcome, never a traceback
        said = (
            f"the release's bake broke off ({type(bug).__name__}: {one_line(str(bug), limit=200)})"
        )
        baked = replace(baking.result(BakeStatus.UNREADABLE), reason=said, report_only=False)
    except KeyboardInterrupt:
        return _cancelled(ended, baking.result(BakeStatus.CANCELLED), signal.SIGINT)
    except Interrupted as interrupt:
        return _cancelled(ended, baking.result(BakeStatus.CANCELLED), interrupt.signum)
    except Stopped as stop:
        return _cancelled(ended, baking.result(BakeStatus.CANCELLED), stop.signum)
    status = baked.ends_as
    if status is OutcomeStatus.SUCCEEDED:
        return ReleaseBaked(status, baked, tuple(ended))
    if status is OutcomeStatus.FAILED:
        reason = "every deployment succeeded, then the release failed its bake"
    else:
        reason = "every deployment succeeded, but the release's bake ended undecided"
    reason = f"{reason} {baked.how_far}: {baked.why()}"
    say(reason)
    outcomes = tuple(ended)
    signum = None
    if rolls_back_on(status, on_failure):
        outcomes, signum = _rolled_back(
            outcomes, targets, reason, dry_run=dry_run, say=say, stopped=stopped
        )
    return ReleaseBaked(status, baked, outcomes, reason, signum)


def _first_began(ended: Sequence[Outcome]) -> datetime | None:
    """When the release's first deployment began, if every provider says when its began:
    one that does not may have begun before any other."""
    began = [parse_timestamp(outcome.deployment_created_at) for outcome in ended]
    known = [moment for moment in began if moment is not None]
    return min(known) if known and len(known) == len(began) else None


def _rolled_back(
    outcomes: Sequence[Outcome],
    targets: Sequence[Target],
    reason: str,
    *,
    dry_run: bool,
    say: Callable[[str], None],
    stopped: threading.Event,
) -> tuple[tuple[Outcome, ...], int | None]:
    """Every target rolled back, each gated by its own options; each outcome gains its
    rollback and keeps its own status (it succeeded: the release failed). A signal stops
    them all (each says how far it got) and is returned with them."""
    signals: list[int] = []

    def sleep(seconds: float) -> None:
        if stopped.wait(seconds):
            signum = signals[0] if signals else None
            raise Stopped("the gate was stopped during the release's rollback", signum=signum)

    def one(pair: tuple[Outcome, Target]) -> Outcome:
        passed, target = pair
        why = replace(passed, status=OutcomeStatus.FAILED, reason=reason)
        with deadline.stopped_by(stopped):
            rolled = roll_back(
                target.provider,
                why,
                dry_run=dry_run,
                gate_rollback=lambda rollback: wait(
                    rollback,
                    target.options,
                    reporter=PhaseReporter(lambda line: say(f"{target.name}: {line}"), "rollback"),
                    timing=Timing(sleep=sleep),
                ),
                say=lambda line: say(f"{target.name}: {line}"),
                sleep=sleep,
            )
        return replace(passed, rollback=rolled.rollback)

    workers = max(1, min(MAX_PARALLEL_ROLLBACKS, len(targets)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gate-rollback") as pool:
        rolling = [pool.submit(one, pair) for pair in zip(outcomes, targets, strict=True)]
        while True:  # a second signal, while the stopped rollbacks end, changes nothing
            try:
                done = tuple(future.result() for future in rolling)
            except KeyboardInterrupt:
                signals.append(signal.SIGINT)
            except Interrupted as interrupt:
                signals.append(interrupt.signum)
            else:
                return done, (signals[0] if signals else None)
            stopped.set()


def _cancelled(ended: Sequence[Outcome], baked: BakeResult, signum: int | None) -> ReleaseBaked:
    reason = f"cancelled {format_duration(baked.elapsed_seconds)} into the release's bake"
    return ReleaseBaked(OutcomeStatus.CANCELLED, baked, tuple(ended), reason, signum)
