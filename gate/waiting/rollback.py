"""After a failed gate, optionally roll the target back and gate the rollback.

The rollback is a deployment of its own: the provider plans it (what ran before), starts it,
and the engine gates it with the same options (no bake). Its outcome is reported beside the
original's, whose status and exit code it never changes: a release that needed a rollback
failed. A timeout or an unreadable outcome is rolled back only when asked
(``rollback-also-on-timeout``): the deployment may yet succeed, and two deployments racing
in one environment are worse than one slow one. Starting the rollback is retried only when
the backend said it did not act (a 429, throttling); a start the backend may have acted on
(no answer, a 5xx, a 2xx without a usable id: a :class:`StartUnclear`, see
:mod:`gate.providers.rollback_plans`) is said "may have started", never sent again.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from gate.core.errors import (
    GateError,
    Interrupted,
    StartUnclear,
    Stopped,
    TransientError,
    UsageError,
)
from gate.core.model import (
    COMMENT_LIMIT,
    ON_FAILURE,
    OnFailure,
    Outcome,
    OutcomeStatus,
    RollbackPlan,
    RollbackResult,
    RollbackStatus,
)
from gate.core.provider import Provider, RollsBack
from gate.core.text import one_line
from gate.wire import deadline

__all__ = [
    "ON_FAILURE",
    "PLAN_SECONDS",
    "OnFailure",
    "check_rollback",
    "roll_back",
    "rolls_back_after",
    "rolls_back_on",
]

PLAN_SECONDS = 60.0
"""How long the gate tries to read what to roll back to, and then to start it (retries
included)."""

T = TypeVar("T")


def check_rollback(provider: Provider, on_failure: str, *, dry_run: bool) -> None:
    """A :class:`UsageError` for a rollback that cannot be: an unknown policy, a dry run
    with nothing to dry-run, a provider that cannot roll back."""
    if on_failure not in ON_FAILURE:
        raise UsageError(f"on-failure must be {' or '.join(ON_FAILURE)}, not {on_failure!r}")
    if dry_run and on_failure == "nothing":
        raise UsageError("dry-run says what a rollback would do: give --on-failure rollback")
    if on_failure != "nothing" and not isinstance(provider, RollsBack):
        raise UsageError(f"provider {provider.name} cannot roll back (--on-failure {on_failure})")


def rolls_back_after(outcome: Outcome, on_failure: OnFailure) -> bool:
    """Whether ``on_failure`` rolls back after ``outcome``: a failure; a timeout or an
    unreadable outcome only when asked; never a deployment the gate has not read (its
    checks unreadable before waiting, a deadline before the first answer)."""
    return outcome.raw_status is not None and rolls_back_on(outcome.status, on_failure)


def rolls_back_on(status: OutcomeStatus, on_failure: OnFailure) -> bool:
    """Whether ``on_failure`` rolls back a gate that ended ``status``."""
    if on_failure == "nothing":
        return False
    if status is OutcomeStatus.FAILED:
        return True
    unfinished = status in (OutcomeStatus.TIMED_OUT, OutcomeStatus.ERROR)
    return unfinished and on_failure == "rollback-also-on-timeout"


def roll_back(
    provider: Provider,
    outcome: Outcome,
    *,
    dry_run: bool,
    gate_rollback: Callable[[Provider], Outcome],
    say: Callable[[str], None],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """``outcome`` with what rolling ``provider``'s target back did (or would do). Always
    returns: whatever breaks the rollback (a bug, a signal) is said in its result, with the
    status its phase allows (a start in flight may have started), and the outcome's own
    status stands; a signal is kept on the outcome (its exit code is 128 + the signal)."""
    rolling = _Rolling()
    try:
        return _roll_back(provider, outcome, dry_run, gate_rollback, say, clock, sleep, rolling)
    except (KeyboardInterrupt, Interrupted, Stopped) as stop:
        signum = _signal_of(stop)
        by = f"by signal {signum}" if signum is not None else f"({stop})"
        said = rolling.broken_off(f"interrupted {by}", provider)
    except Exception as bug:  # the promise: the outcome of the gate itself is never lost
        signum = None
        said = rolling.broken_off(
            f"the rollback broke off ({type(bug).__name__}: {one_line(str(bug), limit=200)})",
            provider,
        )
    say(said.said())
    return replace(outcome, rollback=said, signal=signum or outcome.signal)


def _signal_of(stop: BaseException) -> int | None:
    if isinstance(stop, KeyboardInterrupt):
        return signal.SIGINT
    if isinstance(stop, Interrupted | Stopped):
        return stop.signum
    return None


@dataclass
class _Rolling:
    """How far a rollback got, so that what breaks it off is said as it is."""

    plan: RollbackPlan | None = None
    dry_run: bool = False
    sending: bool = False
    """The start request is on its way: from now on the rollback may have started."""
    started: Provider | None = None
    """The rollback deployment, once the start was answered."""

    def broken_off(self, why: str, provider: Provider) -> RollbackResult:
        if self.started is not None:
            return RollbackResult(RollbackStatus.UNFINISHED, self.plan, reason=why)
        if not self.sending:
            return RollbackResult(RollbackStatus.SKIPPED, self.plan, self.dry_run, reason=why)
        return RollbackResult(
            RollbackStatus.MAY_HAVE_STARTED,
            self.plan,
            reason=f"{why} while the rollback's start was in flight: it may have started; "
            f"check what was deployed after {provider.describe()} before retrying",
        )


def _roll_back(
    provider: Provider,
    outcome: Outcome,
    dry_run: bool,
    gate_rollback: Callable[[Provider], Outcome],
    say: Callable[[str], None],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    rolling: _Rolling,
) -> Outcome:
    assert isinstance(provider, RollsBack)
    rolling.dry_run = dry_run
    try:
        plan = _plan(provider, clock, sleep)
    except GateError as unplanned:
        skipped = RollbackResult(RollbackStatus.SKIPPED, None, dry_run, reason=str(unplanned))
        say(skipped.said())
        return replace(outcome, rollback=skipped)
    rolling.plan = plan
    if dry_run:
        planned = RollbackResult(RollbackStatus.DRY_RUN, plan, dry_run=True)
        say(planned.said())
        return replace(outcome, rollback=planned)
    say(f"rolling back: {plan.summary}")
    rolling.sending = True
    try:
        comment = _comment(provider, outcome)
        rollback = _retried(lambda: provider.roll_back(plan, comment), clock, sleep)
    except GateError as unstarted:
        unclear = isinstance(unstarted, StartUnclear)  # the backend may have acted
        status = RollbackStatus.MAY_HAVE_STARTED if unclear else RollbackStatus.NOT_STARTED
        result = RollbackResult(status, plan, reason=str(unstarted))
        say(result.said())
        return replace(outcome, rollback=result)
    rolling.started = rollback
    try:
        rolled = gate_rollback(rollback)
    finally:
        rollback.close()
    result = RollbackResult(RollbackStatus.of_gate(rolled), plan, outcome=rolled)
    say(result.said())
    return replace(outcome, rollback=result, signal=rolled.signal or outcome.signal)


def _plan(
    provider: RollsBack, clock: Callable[[], float], sleep: Callable[[float], None]
) -> RollbackPlan:
    try:
        return _retried(provider.plan_rollback, clock, sleep)
    except TransientError as fault:
        raise TransientError(f"what to roll back to could not be read: {fault}") from None


def _retried(
    call: Callable[[], T], clock: Callable[[], float], sleep: Callable[[float], None]
) -> T:
    """``call`` retried through the transient faults it raises, for PLAN_SECONDS at most."""
    from gate.wire.retry import call_with_retries  # tenacity: not for `gate --help`

    until = clock() + PLAN_SECONDS

    def bounded() -> T:
        with deadline.within(max(until - clock(), 1.0)):
            return call()

    return call_with_retries(bounded, deadline=until, clock=clock, sleep=sleep, max_backoff=10.0)


def _comment(provider: Provider, outcome: Outcome) -> str:
    """Why, for the backend's record of the rollback."""
    said = f"deploy-gate rollback: {provider.describe()} {outcome.status.value}: {outcome.reason}"
    return one_line(said, limit=COMMENT_LIMIT)
