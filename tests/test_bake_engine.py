"""The bake and the rollback as the engine runs them, in virtual time: when a bake starts,
what ends it, how it fits the timeout, and when a failed gate rolls back.

The checks here answer from a script of their reads (each real check is tested against its
real system in its own file, and the whole through the command in tests/test_bake_cli.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

import pytest

from gate import WaitOptions, wait
from gate.bake.check import Reading
from gate.bake.run import Bake
from gate.core.errors import Interrupted, RequestRejected, TransientError, UsageError
from gate.core.model import BakeStatus, Breach, OutcomeStatus, RollbackPlan
from gate.core.provider import Provider
from gate.waiting.engine import Timing
from gate.waiting.plan import GatePlan
from tests.support import RecordingReporter, VirtualClock
from tests.test_engine import FAILED, RUNNING, SUCCEEDED, ScriptedProvider, finishing_at

HEALTHY = Reading("alarm OK")
BREACHED = Reading("1 alarm in ALARM", (Breach("alarm checkout-5xx", "Threshold Crossed"),))


class ScriptedCheck:
    """Answers its n-th read from ``script(n)``; remembers the windows it was asked for."""

    kind = "alarm"

    def __init__(self, script: Callable[[int], Reading | BaseException]) -> None:
        self.script = script
        self.windows: list[tuple[datetime, datetime]] = []
        self.prepared = self.closed = False

    def describe(self) -> str:
        return "CloudWatch alarm checkout-5xx"

    def prepare(self) -> None:
        self.prepared = True

    def read(self, since: datetime, now: datetime) -> Reading:
        self.windows.append((since, now))
        answer = self.script(len(self.windows))
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def close(self) -> None:
        self.closed = True


def gate_with_bake(
    clock: VirtualClock,
    answer: Callable[[float], object],
    check: ScriptedCheck,
    *,
    bake: float = 600,
    timeout: float = 1800,
) -> tuple[object, ScriptedProvider, RecordingReporter]:
    provider = ScriptedProvider(clock, answer)  # type: ignore[arg-type]
    reporter = RecordingReporter(clock)
    outcome = wait(
        provider,
        WaitOptions(timeout=timeout),
        reporter=reporter,
        bake=Bake(bake, [check], interval=15),
        timing=Timing(clock=clock, sleep=clock.sleep),
    )
    return outcome, provider, reporter


def test_a_healthy_bake_passes_after_its_whole_duration(clock: VirtualClock) -> None:
    check = ScriptedCheck(lambda n: HEALTHY)
    outcome, _, reporter = gate_with_bake(clock, finishing_at(60), check)
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert outcome.bake is not None
    assert outcome.bake.status is BakeStatus.PASSED
    assert outcome.bake.elapsed_seconds >= 600
    assert outcome.bake.checks[0].summary == "alarm OK"
    since = {window[0] for window in check.windows}
    assert len(since) == 1, "every read covers the window from the bake's start"
    assert check.prepared
    assert any("baking 1m" in line for line in reporter.kinds("phase"))


def test_a_breach_fails_the_gate_at_once_though_the_deployment_succeeded(
    clock: VirtualClock,
) -> None:
    check = ScriptedCheck(lambda n: BREACHED if n >= 3 else HEALTHY)
    outcome, _, _ = gate_with_bake(clock, finishing_at(60), check)
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.exit_code == 1
    assert outcome.raw_status == "succeeded"
    assert outcome.bake is not None
    assert outcome.bake.status is BakeStatus.BREACHED
    assert outcome.bake.elapsed_seconds < 60, "a breach does not wait out the bake"
    assert outcome.reason is not None
    assert outcome.reason.startswith("the deployment succeeded, then failed its bake 30.0s")
    assert "alarm checkout-5xx: Threshold Crossed" in outcome.reason
    assert [(e.scope, e.object_id, e.message) for e in outcome.errors] == [
        ("bake", "alarm checkout-5xx", "Threshold Crossed")
    ]


def test_a_failed_deployment_is_never_baked(clock: VirtualClock) -> None:
    check = ScriptedCheck(lambda n: HEALTHY)
    outcome, _, _ = gate_with_bake(clock, finishing_at(60, FAILED), check)
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.bake is None
    assert check.windows == []


def test_the_deployment_must_succeed_by_the_timeout_less_the_bake(clock: VirtualClock) -> None:
    check = ScriptedCheck(lambda n: HEALTHY)
    outcome, provider, _ = gate_with_bake(clock, finishing_at(1300), check)
    assert outcome.status is OutcomeStatus.TIMED_OUT
    assert outcome.reason == (
        "the 20m00s deadline for the deployment (30m00s, less the 10m00s bake) passed "
        "while the deployment was 'in progress'"
    )
    assert max(provider.reads) - provider.started <= 1200 + 1
    assert check.windows == []


def test_a_bake_that_cannot_fit_the_timeout_is_refused_before_waiting(
    clock: VirtualClock,
) -> None:
    check = ScriptedCheck(lambda n: HEALTHY)
    with pytest.raises(
        UsageError, match=r"^--bake \(30m00s\) must fit inside --timeout \(30m00s\)"
    ):
        gate_with_bake(clock, finishing_at(60), check, bake=1800, timeout=1800)
    assert not check.prepared


def test_faults_mid_bake_are_read_through_and_the_last_read_decides(
    clock: VirtualClock,
) -> None:
    check = ScriptedCheck(lambda n: TransientError("503 from CloudWatch") if n < 30 else HEALTHY)
    outcome, _, reporter = gate_with_bake(clock, finishing_at(60), check)
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert any("alarm unread (503 from CloudWatch)" in line for line in reporter.kinds("phase"))


def test_a_check_unreadable_at_the_end_never_passes(clock: VirtualClock) -> None:
    check = ScriptedCheck(lambda n: HEALTHY if n < 5 else TransientError("503 from CloudWatch"))
    outcome, _, _ = gate_with_bake(clock, finishing_at(60), check)
    assert outcome.status is OutcomeStatus.ERROR
    assert outcome.exit_code == 4
    assert outcome.bake is not None
    assert outcome.bake.status is BakeStatus.UNREADABLE
    assert "could not be read at the end of the bake" in (outcome.reason or "")
    assert "503 from CloudWatch" in (outcome.reason or "")
    # its last round's retries ran past the bake: not "10m09s into its 10m00s bake"
    assert outcome.bake.elapsed_seconds > 600
    assert "undecided at the end of its 10m00s bake:" in (outcome.reason or "")


def test_a_check_refused_for_good_ends_the_bake_unreadable_at_once(clock: VirtualClock) -> None:
    check = ScriptedCheck(lambda n: RequestRejected("AccessDenied: cloudwatch:DescribeAlarms"))
    outcome, _, _ = gate_with_bake(clock, finishing_at(60), check)
    assert outcome.status is OutcomeStatus.ERROR
    assert outcome.bake is not None
    assert outcome.bake.elapsed_seconds == 0
    assert "AccessDenied" in (outcome.reason or "")


def test_a_bake_interrupted_is_cancelled_with_how_far_it_got(clock: VirtualClock) -> None:
    check = ScriptedCheck(lambda n: Interrupted(15) if n == 4 else HEALTHY)
    outcome, _, _ = gate_with_bake(clock, finishing_at(60), check)
    assert outcome.status is OutcomeStatus.CANCELLED
    assert outcome.bake is not None
    assert outcome.bake.status is BakeStatus.CANCELLED
    assert "45.0s into the bake" in (outcome.reason or "")


class UnavailableAtFirst(ScriptedCheck):
    """A check whose system answers its first reads before the wait with ``faults``."""

    def __init__(self, *faults: BaseException) -> None:
        super().__init__(lambda n: HEALTHY)
        self.faults = list(faults)
        self.prepares = 0

    def prepare(self) -> None:
        self.prepares += 1
        if self.faults:
            raise self.faults.pop(0)


def test_a_transient_fault_before_the_wait_is_retried_within_the_deadline(
    clock: VirtualClock,
) -> None:
    check = UnavailableAtFirst(TransientError("HTTP 503"), TransientError("no answer in time"))
    outcome, _, reporter = gate_with_bake(clock, finishing_at(60), check)
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert check.prepares == 3
    assert reporter.kinds("retrying") == ["HTTP 503", "no answer in time"]


def test_a_transient_fault_lasting_until_the_deadline_ends_the_gate_unread(
    clock: VirtualClock,
) -> None:
    check = UnavailableAtFirst(*(TransientError("HTTP 503") for _ in range(10_000)))
    outcome, _, _ = gate_with_bake(clock, finishing_at(60), check, timeout=900)
    assert outcome.status is OutcomeStatus.ERROR
    assert outcome.reason == "the bake's checks could not be read: HTTP 503"
    assert 1 < check.prepares < 10_000
    assert clock() - 1000 <= 900 - 600, "within the deployment's deadline"


def test_a_refusal_before_the_wait_is_not_retried(clock: VirtualClock) -> None:
    check = UnavailableAtFirst(UsageError("Prometheus cannot run the query"))
    with pytest.raises(UsageError):
        gate_with_bake(clock, finishing_at(60), check)
    assert check.prepares == 1


def test_a_gate_interrupted_while_retrying_before_the_wait_is_cancelled(
    clock: VirtualClock,
) -> None:
    check = UnavailableAtFirst(TransientError("HTTP 503"), Interrupted(15))
    outcome, _, _ = gate_with_bake(clock, finishing_at(60), check)
    assert outcome.status is OutcomeStatus.CANCELLED
    assert outcome.signal == 15


class RollingBack(ScriptedProvider):
    """A scripted provider that rolls back to a scripted deployment."""

    def __init__(self, clock: VirtualClock, answer: Callable[[float], object], then: str) -> None:
        super().__init__(clock, answer)  # type: ignore[arg-type]
        self.then = then
        self.started_rollbacks: list[tuple[RollbackPlan, str]] = []

    def plan_rollback(self) -> RollbackPlan:
        return RollbackPlan("redeploy d-0, the last to succeed", "d-0", {"set_id": "s-0"})

    def roll_back(self, plan: RollbackPlan, comment: str) -> Provider:
        self.started_rollbacks.append((plan, comment))
        final = {"succeeded": SUCCEEDED, "failed": FAILED}[self.then]
        return _Rollback(self.clock, finishing_at(self.clock() - self.started + 40, final))


class _Rollback(ScriptedProvider):
    @property
    def target(self) -> Mapping[str, str]:
        return {"id": "d-rollback"}


def rolled(
    clock: VirtualClock, answer: Callable[[float], object], on_failure: str, **kwargs: object
) -> tuple[object, RollingBack]:
    provider = RollingBack(clock, answer, str(kwargs.pop("then", "succeeded")))
    outcome = wait(
        provider,
        GatePlan(
            waiting=WaitOptions(timeout=float(kwargs.pop("timeout", 1800))),
            on_failure=on_failure,
            dry_run=bool(kwargs.pop("dry_run", False)),
        ),
        timing=Timing(clock=clock, sleep=clock.sleep),
    )
    return outcome, provider


def test_a_failed_gate_rolls_back_and_gates_the_rollback_keeping_its_exit_code(
    clock: VirtualClock,
) -> None:
    outcome, provider = rolled(clock, finishing_at(60, FAILED), "rollback")
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.exit_code == 1
    assert outcome.rollback is not None
    assert outcome.rollback.outcome is not None
    assert outcome.rollback.outcome.status is OutcomeStatus.SUCCEEDED
    assert outcome.rollback.outcome.target == {"id": "d-rollback"}
    ((plan, comment),) = provider.started_rollbacks
    assert plan.to == "d-0"
    assert comment.startswith("deploy-gate rollback: scripted deployment d-1 failed:")


def test_a_dry_run_says_what_it_would_roll_back_to_and_starts_nothing(
    clock: VirtualClock,
) -> None:
    outcome, provider = rolled(clock, finishing_at(60, FAILED), "rollback", dry_run=True)
    assert outcome.rollback is not None
    assert outcome.rollback.dry_run
    assert outcome.rollback.plan is not None
    assert outcome.rollback.plan.to == "d-0"
    assert outcome.rollback.outcome is None
    assert provider.started_rollbacks == []


@pytest.mark.parametrize(
    ("on_failure", "rolls"), [("rollback", False), ("rollback-also-on-timeout", True)]
)
def test_a_timeout_rolls_back_only_when_asked(
    clock: VirtualClock, on_failure: str, rolls: bool
) -> None:
    outcome, provider = rolled(clock, lambda t: RUNNING, on_failure, timeout=300)
    assert outcome.status is OutcomeStatus.TIMED_OUT
    assert outcome.exit_code == 3
    assert bool(provider.started_rollbacks) is rolls


def test_a_success_is_never_rolled_back(clock: VirtualClock) -> None:
    outcome, provider = rolled(clock, finishing_at(60), "rollback-also-on-timeout")
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert outcome.rollback is None
    assert provider.started_rollbacks == []


def test_a_provider_that_cannot_roll_back_is_refused_before_waiting(clock: VirtualClock) -> None:
    provider = ScriptedProvider(clock, finishing_at(60, FAILED))
    with pytest.raises(UsageError, match="provider scripted cannot roll back"):
        wait(
            provider, GatePlan(on_failure="rollback"), timing=Timing(clock=clock, sleep=clock.sleep)
        )
    assert provider.reads == []


def test_a_failed_rollback_is_reported_and_the_exit_code_stays_the_originals(
    clock: VirtualClock,
) -> None:
    outcome, _ = rolled(clock, finishing_at(60, FAILED), "rollback", then="failed")
    assert outcome.exit_code == 1
    assert outcome.rollback is not None
    assert outcome.rollback.outcome is not None
    assert outcome.rollback.outcome.status is OutcomeStatus.FAILED


def test_a_deployment_that_breaches_its_bake_is_rolled_back(clock: VirtualClock) -> None:
    provider = RollingBack(clock, finishing_at(60), "succeeded")
    outcome = wait(
        provider,
        GatePlan(waiting=WaitOptions(timeout=1800), on_failure="rollback"),
        bake=Bake(600, [ScriptedCheck(lambda n: BREACHED)]),
        timing=Timing(clock=clock, sleep=clock.sleep),
    )
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.rollback is not None
    assert outcome.rollback.outcome is not None
    assert outcome.rollback.outcome.bake is None, "the rollback itself is gated, not baked"
    assert "failed its bake" in provider.started_rollbacks[0][1]


def test_a_check_failing_but_not_yet_breached_at_the_end_is_read_until_it_settles(
    clock: VirtualClock,
) -> None:
    failing = Reading("probe 503 (1 of 3 in a row)", unsettled="the probe is failing")
    check = ScriptedCheck(lambda n: failing if n == 41 else HEALTHY)
    outcome, _, _ = gate_with_bake(clock, finishing_at(60), check)
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert len(check.windows) == 42, "read again at the end, until it settled"


def test_a_check_still_failing_at_the_end_never_passes(clock: VirtualClock) -> None:
    failing = Reading("probe 503 (1 of 3 in a row)", unsettled="the probe is failing")
    check = ScriptedCheck(lambda n: failing if n >= 41 else HEALTHY)
    outcome, _, _ = gate_with_bake(clock, finishing_at(60), check)
    assert outcome.status is OutcomeStatus.ERROR
    assert outcome.exit_code == 4
    assert "not yet healthy at the end of the bake" in (outcome.reason or "")


def test_a_breach_beside_a_refusal_is_still_a_breach(clock: VirtualClock) -> None:
    refusing = ScriptedCheck(lambda n: RequestRejected("AccessDenied"))
    breaching = ScriptedCheck(lambda n: BREACHED)
    provider = ScriptedProvider(clock, finishing_at(60))
    outcome = wait(
        provider,
        WaitOptions(timeout=1800),
        bake=Bake(600, [refusing, breaching]),
        timing=Timing(clock=clock, sleep=clock.sleep),
    )
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.exit_code == 1
