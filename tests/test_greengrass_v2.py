"""The Greengrass v2 provider: each semantic against botocore's own model (Stubber checks every
request and answer shape), and against the package emulator through the wire and the engine.

moto has no greengrassv2, so the emulator stands in for the multi-call reads; the Stubber
tests pin what is sent and what a real answer may hold.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from gate import WaitOptions, wait
from gate.core.errors import UsageError
from gate.core.model import OutcomeStatus, State
from gate.emulator import Device, Emulator, Fault, Timeline
from gate.providers.aws.clients import make_clients
from gate.providers.greengrass.v2.judge import DEVICE_STATUSES, MAX_DESCRIBED, FleetPolicy
from gate.providers.greengrass.v2.reader import GreengrassV2Deployment
from gate.waiting.engine import LAST_READ_SECONDS, Timing
from tests.builders import FAST
from tests.support import VirtualClock, gate_greengrass_v2, run_gate

pytestmark = pytest.mark.usefixtures("aws_env")

DEPLOYMENT = "d0c0ffee-1111-2222-3333-444455556666"
JOB = "j0b00000-1111-2222-3333-444455556666"
ARN = "arn:aws:iot:eu-west-1:123456789012"
GROUP_ARN = f"{ARN}:thinggroup/line-a"
THING_ARN = f"{ARN}:thing/core-1"
OK = Timeline([(0, "QUEUED"), (1, "IN_PROGRESS"), (4, "SUCCEEDED")])
BROKEN = Timeline([(0, "QUEUED"), (1, "IN_PROGRESS"), (3, "FAILED")])
NEVER = Timeline([(0, "QUEUED")])


def deployment(target: str = GROUP_ARN, **fields: Any) -> dict[str, Any]:
    return {
        "targetArn": target,
        "deploymentId": DEPLOYMENT,
        "deploymentStatus": "ACTIVE",
        "iotJobId": JOB,
        "isLatestForTarget": True,
        **fields,
    }


def job(**counts: int) -> dict[str, Any]:
    names = {
        "succeeded": "numberOfSucceededThings",
        "failed": "numberOfFailedThings",
        "queued": "numberOfQueuedThings",
        "in_progress": "numberOfInProgressThings",
        "timed_out": "numberOfTimedOutThings",
        "rejected": "numberOfRejectedThings",
        "removed": "numberOfRemovedThings",
    }
    details = {names[key]: value for key, value in counts.items()}
    return {"job": {"jobId": JOB, "status": "IN_PROGRESS", "jobProcessDetails": details}}


def core_device(name: str, status: str = "HEALTHY") -> dict[str, Any]:
    seen = datetime(2026, 11, 1, tzinfo=timezone.utc)
    return {"coreDeviceThingName": name, "status": status, "lastStatusUpdateTimestamp": seen}


def executions(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {
        "executionSummaries": [
            {"thingArn": f"{ARN}:thing/{thing}", "jobExecutionSummary": {"status": status}}
            for thing, status in pairs
        ]
    }


class Stubbed:
    """Real botocore clients for both services, answering from a script checked against the
    service models."""

    def __init__(self) -> None:
        self.greengrass = boto3.client("greengrassv2", region_name="eu-west-1")
        self.iot = boto3.client("iot", region_name="eu-west-1")
        self.gg_stub = Stubber(self.greengrass)
        self.iot_stub = Stubber(self.iot)

    def gg(self, method: str, response: dict[str, Any], **params: Any) -> None:
        self.gg_stub.add_response(method, response, params or None)

    def io(self, method: str, response: dict[str, Any], **params: Any) -> None:
        self.iot_stub.add_response(method, response, params or None)

    def poll(self, answer: dict[str, Any], *, target: str = GROUP_ARN, **fields: Any) -> None:
        self.gg("get_deployment", deployment(target, **fields), deploymentId=DEPLOYMENT)
        self.io("describe_job", answer, jobId=JOB)

    def roll_call(
        self,
        members: str | list[str],
        *ran: tuple[str, str],
        health: dict[str, str] | None = None,
    ) -> None:
        """The group's members (IoT), the job's executions, then, on a poll that checks
        health, GetCoreDevice for each name in ``health``."""
        self.io(
            "list_things_in_thing_group",
            {"things": list(members)},
            thingGroupName="line-a",
            recursive=True,
            maxResults=250,
        )
        self.io("list_job_executions_for_job", executions(*ran), jobId=JOB, maxResults=250)
        for thing, status in (health or {}).items():
            self.gg("get_core_device", core_device(thing, status), coreDeviceThingName=thing)

    def provider(self, policy: FleetPolicy | None = None) -> GreengrassV2Deployment:
        self.gg_stub.activate()
        self.iot_stub.activate()
        return GreengrassV2Deployment(
            self.greengrass, self.iot, deployment_id=DEPLOYMENT, policy=policy
        )

    def assert_all_used(self) -> None:
        self.gg_stub.assert_no_pending_responses()
        self.iot_stub.assert_no_pending_responses()


@pytest.fixture
def aws() -> Iterator[Stubbed]:
    stubbed = Stubbed()
    yield stubbed
    stubbed.assert_all_used()


def run(provider: Any, clock: VirtualClock, **options: Any) -> Any:
    options.setdefault("timeout", 600)
    options.setdefault("interval", 5)
    return wait(provider, WaitOptions(**options), timing=Timing(clock=clock, sleep=clock.sleep))


def test_status_words_match_botocores_model() -> None:
    model = boto3.client("greengrassv2", region_name="eu-west-1").meta.service_model
    shape = model.shape_for("EffectiveDeploymentExecutionStatus")
    assert set(DEVICE_STATUSES) == set(shape.enum)
    iot = boto3.client("iot", region_name="eu-west-1").meta.service_model
    assert set(DEVICE_STATUSES) <= set(iot.shape_for("JobExecutionStatus").enum) | {"COMPLETED"}


def test_one_device_is_read_from_its_effective_deployments(
    aws: Stubbed, clock: VirtualClock
) -> None:
    def effective(status: str, **fields: Any) -> dict[str, Any]:
        return {
            "effectiveDeployments": [
                {
                    "deploymentId": "an-older-one",
                    "deploymentName": "older",
                    "targetArn": THING_ARN,
                    "coreDeviceExecutionStatus": "SUCCEEDED",
                    "creationTimestamp": 1,
                    "modifiedTimestamp": 2,
                },
                {
                    "deploymentId": DEPLOYMENT,
                    "deploymentName": "this one",
                    "targetArn": THING_ARN,
                    "coreDeviceExecutionStatus": status,
                    "creationTimestamp": 3,
                    "modifiedTimestamp": 4,
                    **fields,
                },
            ]
        }

    for answer in (
        effective("IN_PROGRESS"),
        effective(
            "FAILED",
            reason="FAILED_ROLLBACK_COMPLETE: com.acme.Sensor errored",
            statusDetails={
                "errorStack": ["DEPLOYMENT_FAILURE", "COMPONENT_BROKEN"],
                "errorTypes": ["COMPONENT_ERROR"],
            },
        ),
    ):
        aws.gg("get_deployment", deployment(THING_ARN), deploymentId=DEPLOYMENT)
        aws.gg("list_effective_deployments", answer, coreDeviceThingName="core-1", maxResults=100)
    outcome = run(aws.provider(), clock)
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.raw_status == "FAILED"
    (error,) = outcome.errors
    assert (error.scope, error.object_id, error.code) == ("device", "core-1", "FAILED")
    assert "com.acme.Sensor errored" in error.message
    assert "DEPLOYMENT_FAILURE > COMPONENT_BROKEN" in error.message
    assert error.error_type == "COMPONENT_ERROR"
    assert [d.as_dict() for d in outcome.devices] == [
        {
            "device": "core-1",
            "status": "FAILED",
            "reason": error.message,
            "error_types": ["COMPONENT_ERROR"],
        }
    ]
    assert outcome.target["target_arn"] == THING_ARN


@pytest.mark.parametrize("status", ["SUCCEEDED", "COMPLETED"])
def test_one_device_that_succeeded_is_a_success(
    aws: Stubbed, clock: VirtualClock, status: str
) -> None:
    aws.gg("get_deployment", deployment(THING_ARN), deploymentId=DEPLOYMENT)
    aws.gg(
        "list_effective_deployments",
        {
            "effectiveDeployments": [
                {
                    "deploymentId": DEPLOYMENT,
                    "deploymentName": "this one",
                    "targetArn": THING_ARN,
                    "coreDeviceExecutionStatus": status,
                    "creationTimestamp": 3,
                    "modifiedTimestamp": 4,
                }
            ]
        },
        coreDeviceThingName="core-1",
        maxResults=100,
    )
    outcome = run(aws.provider(), clock)
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert outcome.progress == "1/1 devices succeeded"


def test_a_device_that_has_not_picked_the_deployment_up_is_still_queued(
    aws: Stubbed,
) -> None:
    aws.gg("get_deployment", deployment(THING_ARN), deploymentId=DEPLOYMENT)
    aws.gg("list_effective_deployments", {"effectiveDeployments": []})
    snapshot = aws.provider().fetch()
    assert (snapshot.state, snapshot.raw_status) == (State.RUNNING, "QUEUED")


def healthy(*things: str) -> dict[str, str]:
    return dict.fromkeys(things, "HEALTHY")


def test_a_group_is_done_when_every_member_succeeded_by_name(
    aws: Stubbed, clock: VirtualClock
) -> None:
    aws.poll(job(queued=3))
    aws.roll_call("abc", ("a", "QUEUED"), ("b", "QUEUED"), ("c", "QUEUED"), health=healthy(*"abc"))
    aws.poll(job(succeeded=1, in_progress=2))  # the counts say devices are busy: two calls
    aws.poll(job(succeeded=3, removed=1))
    aws.roll_call(
        "abc", ("a", "SUCCEEDED"), ("b", "SUCCEEDED"), ("c", "SUCCEEDED"), ("r", "REMOVED")
    )
    outcome = run(aws.provider(), clock)
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert outcome.progress == "3/3 devices succeeded, 1 left the group"
    assert outcome.reason == (
        "every device in the group succeeded; 1 left the group and was not counted: r (REMOVED)"
    )
    assert [(d.device, d.status) for d in outcome.devices] == [
        ("a", "SUCCEEDED"),
        ("b", "SUCCEEDED"),
        ("c", "SUCCEEDED"),
        ("r", "REMOVED"),
    ]
    assert outcome.devices[-1].reason.startswith("removed from the thing group before it finished")


def test_the_jobs_counts_are_never_the_verdict_a_member_without_execution_holds_the_gate(
    aws: Stubbed,
) -> None:
    """The group is a and b; the job's counts say 2 succeeded, but its executions are a and c
    (c has left the group): b never got the deployment."""
    aws.poll(job(succeeded=2))
    aws.roll_call("ab", ("a", "SUCCEEDED"), ("c", "SUCCEEDED"), health=healthy("b"))
    snapshot = aws.provider().fetch()
    assert snapshot.state is State.RUNNING
    assert snapshot.progress == "1/2 devices succeeded, 1 queued, 1 left the group"


def test_all_zero_counts_right_after_creation_are_not_a_success(aws: Stubbed) -> None:
    aws.poll(job())
    aws.roll_call("ab", health=healthy("a", "b"))
    snapshot = aws.provider().fetch()
    assert snapshot.state is State.RUNNING
    assert snapshot.progress == "0/2 devices succeeded, 2 queued"


def test_an_empty_group_is_never_a_success(aws: Stubbed) -> None:
    aws.poll(job(succeeded=1))
    aws.roll_call([], ("gone", "SUCCEEDED"))
    snapshot = aws.provider().fetch()
    assert snapshot.state is State.RUNNING
    assert snapshot.progress == "no devices in the thing group yet (1 left it)"


def test_an_unhealthy_core_device_is_named_in_progress(aws: Stubbed) -> None:
    aws.poll(job(succeeded=1, queued=1))
    aws.roll_call("ab", ("a", "SUCCEEDED"), ("b", "QUEUED"), health={"b": "UNHEALTHY"})
    provider = aws.provider()
    snapshot = provider.fetch()
    assert snapshot.state is State.RUNNING
    assert snapshot.progress == "1/2 devices succeeded, 1 queued; UNHEALTHY: b"
    [_, b] = provider.device_results()
    assert b.reason.startswith(
        "its core device reports UNHEALTHY (last status update 2026-11-01T00:00:00.000Z)"
    )


def test_a_failed_device_ends_the_wait_with_its_cause(aws: Stubbed, clock: VirtualClock) -> None:
    aws.poll(job(succeeded=1, failed=1, in_progress=1))
    aws.roll_call(
        "abc", ("a", "SUCCEEDED"), ("b", "FAILED"), ("c", "IN_PROGRESS"), health=healthy("c")
    )
    aws.io(
        "describe_job_execution",
        {
            "execution": {
                "jobId": JOB,
                "status": "FAILED",
                "statusDetails": {
                    "detailsMap": {
                        "detailed-deployment-status": "FAILED_ROLLBACK_COMPLETE",
                        "deployment-failure-cause": "com.acme.Sensor exited with 1",
                        "deployment-error-stack": "[DEPLOYMENT_FAILURE, COMPONENT_BROKEN]",
                        "deployment-error-types": "[COMPONENT_ERROR]",
                    }
                },
            }
        },
        jobId=JOB,
        thingName="b",
    )
    outcome = run(aws.provider(), clock)
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.reason == "1 of 3 devices failed; 3 must succeed (100% of the devices)"
    assert outcome.progress == "1/3 devices succeeded, 1 failed, 1 in progress"
    (error,) = outcome.errors
    assert (error.object_id, error.code, error.error_type) == ("b", "FAILED", "COMPONENT_ERROR")
    assert error.message.startswith("com.acme.Sensor exited with 1; detailed status: FAILED_")
    assert {d.device: d.status for d in outcome.devices} == {
        "a": "SUCCEEDED",
        "b": "FAILED",
        "c": "IN_PROGRESS",
    }


def test_a_failed_device_that_left_the_group_fails_nothing(aws: Stubbed) -> None:
    aws.poll(job(succeeded=1, failed=1, in_progress=1))
    aws.roll_call(
        "ab", ("a", "SUCCEEDED"), ("b", "IN_PROGRESS"), ("gone", "FAILED"), health=healthy("b")
    )
    snapshot = aws.provider().fetch()
    assert snapshot.state is State.RUNNING
    assert snapshot.progress == "1/2 devices succeeded, 1 in progress, 1 left the group"


TEN = list("abcdefghij")


def test_failures_within_the_success_share_do_not_end_the_wait(aws: Stubbed) -> None:
    aws.poll(job(succeeded=5, failed=1, in_progress=4))
    ran = [(t, "SUCCEEDED") for t in "abcde"] + [("f", "FAILED")]
    aws.roll_call(TEN, *ran, *[(t, "IN_PROGRESS") for t in "ghij"], health=healthy(*"ghij"))
    snapshot = aws.provider(FleetPolicy(min_success=90)).fetch()
    assert snapshot.state is State.RUNNING


def test_failures_that_rule_out_the_share_end_the_wait_at_once(aws: Stubbed) -> None:
    aws.poll(job(succeeded=5, failed=2, in_progress=3))
    ran = [(t, "SUCCEEDED") for t in "abcde"] + [("f", "FAILED"), ("g", "FAILED")]
    aws.roll_call(TEN, *ran, *[(t, "IN_PROGRESS") for t in "hij"], health=healthy(*"hij"))
    snapshot = aws.provider(FleetPolicy(min_success=90)).fetch()
    assert snapshot.state is State.FAILED
    assert snapshot.verdict == "2 of 10 devices failed; 9 must succeed (90% of the devices)"


def test_without_fail_fast_every_device_is_waited_for(aws: Stubbed) -> None:
    aws.poll(job(succeeded=5, failed=2, in_progress=3))
    ran = [(t, "SUCCEEDED") for t in "abcde"] + [("f", "FAILED"), ("g", "FAILED")]
    aws.roll_call(TEN, *ran, *[(t, "IN_PROGRESS") for t in "hij"], health=healthy(*"hij"))
    aws.poll(job(succeeded=6, failed=4))
    aws.roll_call(TEN, *[(t, "SUCCEEDED") for t in "abcdef"], *[(t, "FAILED") for t in "ghij"])
    provider = aws.provider(FleetPolicy(min_success=90, fail_fast=False))
    assert provider.fetch().state is State.RUNNING
    ended = provider.fetch()
    assert ended.state is State.FAILED
    assert ended.progress == "6/10 devices succeeded, 4 failed"


@pytest.mark.parametrize(
    ("fields", "job_status", "why"),
    [
        ({"isLatestForTarget": False}, None, "superseded: a newer deployment to"),
        ({"deploymentStatus": "INACTIVE"}, None, "the deployment is INACTIVE"),
        ({"deploymentStatus": "CANCELED"}, None, "the deployment is CANCELED"),
        ({"deploymentStatus": "FAILED"}, None, "the deployment is FAILED"),
        ({}, "CANCELED", f"the deployment's IoT job {JOB} is CANCELED"),
        (
            {},
            {"forceCanceled": True, "reasonCode": "ABORTED", "comment": "50% failed"},
            f"the deployment's IoT job {JOB} is CANCELED (force-cancelled): reason code "
            "ABORTED, '50% failed'",
        ),
    ],
)
def test_a_superseded_or_ended_deployment_is_never_a_success(
    aws: Stubbed, clock: VirtualClock, fields: dict[str, Any], job_status: Any, why: str
) -> None:
    aws.gg("get_deployment", deployment(**fields), deploymentId=DEPLOYMENT)
    if job_status:
        answer = job(succeeded=3)
        cancelled = job_status if isinstance(job_status, dict) else {}
        answer["job"].update({"status": "CANCELED" if cancelled else job_status, **cancelled})
        aws.io("describe_job", answer, jobId=JOB)
    outcome = run(aws.provider(), clock)
    assert outcome.status is OutcomeStatus.FAILED
    assert (outcome.reason or "").startswith(why)
    assert outcome.errors[0].scope == "deployment"


def test_throttling_and_server_faults_are_retried(aws: Stubbed, clock: VirtualClock) -> None:
    aws.gg_stub.add_client_error("get_deployment", "ThrottlingException", http_status_code=429)
    aws.gg("get_deployment", deployment(), deploymentId=DEPLOYMENT)
    aws.iot_stub.add_client_error(
        "describe_job", "ServiceUnavailableException", http_status_code=503
    )
    aws.poll(job(succeeded=1))
    aws.roll_call("a", ("a", "SUCCEEDED"))
    outcome = run(aws.provider(), clock)
    assert outcome.status is OutcomeStatus.SUCCEEDED


def test_expired_credentials_end_the_wait_as_unreadable(aws: Stubbed, clock: VirtualClock) -> None:
    aws.gg_stub.add_client_error(
        "get_deployment", "ExpiredTokenException", "The security token expired", 403
    )
    outcome = run(aws.provider(), clock)
    assert outcome.status is OutcomeStatus.ERROR
    assert "AWS refused the credentials" in (outcome.reason or "")
    assert outcome.polls == 1


def test_an_answer_for_another_deployment_is_not_believed(aws: Stubbed) -> None:
    aws.gg("get_deployment", {**deployment(), "deploymentId": "someone-elses"})
    with pytest.raises(Exception, match="answered for deployment 'someone-elses'"):
        aws.provider().fetch()


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"min_success": 0}, "--min-success must be more than 0%"),
        ({"min_success": 101}, "at most 100%"),
        ({"unfinished": "maybe"}, "--unfinished-devices must be count or ignore"),
    ],
)
def test_a_policy_that_cannot_work_is_a_usage_error(policy: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        FleetPolicy(**policy)


# The emulator, through the gate's wire and the engine, on a virtual clock.


ROLL_CALLED_BEFORE_THE_DEADLINE = {"interval": 1, "max_interval": 1}
"""Polls a second apart, so a roll call (every fifth poll) names the finished devices long
before the deadline. The read at the deadline has a second of real time for its own roll
call; on a busy machine it can be cut short, and the outcome is then decided on the last roll
call, which at the schedule's own pace (polls at 0, 5, 20, 35, 48 s of a 60 s wait) is the
first, when no device had finished."""


def emulated(emulator: Emulator, **policy: Any) -> GreengrassV2Deployment:
    made = make_clients(
        ["greengrassv2", "iot"],
        region="eu-west-1",
        profile=None,
        endpoint_url=emulator.url,
        request_timeout=5,
    )
    return GreengrassV2Deployment(
        made.clients["greengrassv2"],
        made.clients["iot"],
        deployment_id=policy.pop("deployment_id"),
        policy=FleetPolicy(**policy),
        close=made.close,
    )


def test_a_poll_of_a_1000_device_group_costs_two_calls(
    virtual_emulator: Emulator, clock: VirtualClock
) -> None:
    fleet = [Device(f"core-{n:04d}", OK) for n in range(1000)]
    deployment_id = virtual_emulator.add_greengrass_v2(fleet, thing_group="big")
    provider = emulated(virtual_emulator, deployment_id=deployment_id)
    provider.fetch()
    first = len(virtual_emulator.requests)
    # GetDeployment, DescribeJob, then the first roll call: four pages of members, four of
    # executions, and the health of the first MAX_DESCRIBED unfinished devices
    # one CI run on a fresh clone counted 31, once in a dozen runs: name them if it recurs
    assert first == 2 + 4 + 4 + MAX_DESCRIBED, virtual_emulator.requests
    clock.advance(2)
    provider.fetch()
    assert len(virtual_emulator.requests) - first == 2
    clock.advance(5)
    before_the_end = len(virtual_emulator.requests)
    assert provider.fetch().state is State.SUCCEEDED
    # the end: every member by name against every execution, once
    assert len(virtual_emulator.requests) - before_the_end == 2 + 4 + 4
    assert len(provider.device_results()) == 1000
    provider.close()


def test_a_group_that_grows_during_the_wait_is_waited_on_whole(
    virtual_emulator: Emulator, clock: VirtualClock
) -> None:
    late = Timeline([(0, "QUEUED"), (2, "IN_PROGRESS"), (6, "SUCCEEDED")])
    deployment_id = virtual_emulator.add_greengrass_v2(
        [Device("a", OK), Device("b", OK), Device("late", late, joins_at=3)], thing_group="line"
    )
    provider = emulated(virtual_emulator, deployment_id=deployment_id)
    outcome = run(provider, clock, interval=1, max_interval=1)
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert outcome.elapsed_seconds >= 9
    assert outcome.progress == "3/3 devices succeeded"
    provider.close()


def test_a_device_that_never_reports_fails_the_deadline_by_name(
    virtual_emulator: Emulator, clock: VirtualClock
) -> None:
    deployment_id = virtual_emulator.add_greengrass_v2(
        [Device("a", OK), Device("b", OK), Device("offline", NEVER)], thing_group="line"
    )
    provider = emulated(virtual_emulator, deployment_id=deployment_id)
    outcome = run(provider, clock, timeout=60, **ROLL_CALLED_BEFORE_THE_DEADLINE)
    assert outcome.status is OutcomeStatus.TIMED_OUT
    assert "1 never finished: offline (QUEUED)" in (outcome.reason or "")
    (error,) = outcome.errors
    assert (error.object_id, error.code) == ("offline", "QUEUED")
    assert "is the device offline?" in error.message
    provider.close()


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ({"min_success": 60}, OutcomeStatus.SUCCEEDED),
        ({"unfinished": "ignore"}, OutcomeStatus.SUCCEEDED),
        ({"min_success": 90}, OutcomeStatus.TIMED_OUT),
    ],
)
def test_the_unfinished_policy_decides_at_the_deadline(
    virtual_emulator: Emulator, clock: VirtualClock, policy: dict[str, Any], expected: Any
) -> None:
    deployment_id = virtual_emulator.add_greengrass_v2(
        [Device("a", OK), Device("b", OK), Device("offline", NEVER)], thing_group="line"
    )
    provider = emulated(virtual_emulator, deployment_id=deployment_id, **policy)
    outcome = run(provider, clock, timeout=60, **ROLL_CALLED_BEFORE_THE_DEADLINE)
    assert outcome.status is expected
    assert "offline (QUEUED)" in (outcome.reason or "")
    assert outcome.elapsed_seconds <= 61
    provider.close()


def test_ignoring_unfinished_devices_still_fails_on_the_finished_ones(
    virtual_emulator: Emulator, clock: VirtualClock
) -> None:
    deployment_id = virtual_emulator.add_greengrass_v2(
        [Device("a", OK), Device("b", BROKEN), Device("offline", NEVER)], thing_group="line"
    )
    provider = emulated(
        virtual_emulator, deployment_id=deployment_id, unfinished="ignore", min_success=50
    )
    outcome = run(provider, clock, timeout=60, **ROLL_CALLED_BEFORE_THE_DEADLINE)
    assert outcome.status is OutcomeStatus.SUCCEEDED  # 1 of the 2 that finished: 50%
    assert "left out: --unfinished-devices ignore" in (outcome.reason or "")
    provider.close()


class _FaultsOnTime(VirtualClock):
    """A clock that, as the wait sleeps past each of ``faults``' times, makes the emulator
    answer the next ``times`` requests whose path holds ``path`` with a 500."""

    def __init__(self, *faults: tuple[float, int, str]) -> None:
        super().__init__()
        self.faults = [(self.now + at, times, path) for at, times, path in faults]
        self.emulator: Emulator | None = None

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if self.emulator is None:
            return
        due = [fault for fault in self.faults if self.now >= fault[0]]
        for _, times, path in due:
            answer = Fault.aws("InternalFailure", status=500)
            self.emulator.inject(answer, times=times, path_contains=path)
        self.faults = [fault for fault in self.faults if fault not in due]


FAILS_AT_7 = Timeline([(0, "QUEUED"), (1, "IN_PROGRESS"), (7, "FAILED")])
STUCK = Timeline([(0, "QUEUED"), (1, "IN_PROGRESS")])
LOOSE_POLICY = {"unfinished": "ignore", "fail_fast": False}


@pytest.mark.parametrize(
    ("devices", "policy", "timeout", "fault", "expected", "said"),
    [
        # roll calls at 0 and 5 s saw a succeed, b busy; b fails at 7 s, which only the
        # job's counts see: 1 of 1 finished succeeded no longer stands
        ("b fails", LOOSE_POLICY, 9, None, "timed_out", "1 failed"),
        ("b fails", {"min_success": 50, "fail_fast": False}, 9, None, "timed_out", "1 failed"),
        # the roll call due at 10 s is answered with a 500 once: it is due again at once
        ("b fails", LOOSE_POLICY, 15, (10, 1, "/thing-groups/"), "failed", "1 of the 2"),
        # four devices join at 6 s: 1 of 2 members succeeded no longer stands
        ("4 join", {"min_success": 50, "fail_fast": False}, 9, None, "timed_out", "6 devices"),
    ],
)
def test_a_cut_short_deadline_read_is_not_settled_on_a_roll_call_the_counts_outdate(
    devices: str,
    policy: dict[str, Any],
    timeout: float,
    fault: tuple[float, int, str] | None,
    expected: str,
    said: str,
) -> None:
    fleet = [Device("a", OK), Device("b", FAILS_AT_7), Device("offline", NEVER)]
    if devices == "4 join":
        fleet = [Device("a", OK), Device("b", STUCK)]
        fleet += [Device(f"late-{n}", STUCK, joins_at=6) for n in range(4)]
    clock = _FaultsOnTime(*([fault] if fault else []), (timeout - LAST_READ_SECONDS, 10_000, ""))
    with Emulator(token="unused-token-0123456789", clock=clock) as emulator:
        deployment_id = emulator.add_greengrass_v2(fleet, thing_group="line")
        clock.emulator = emulator
        provider = emulated(emulator, deployment_id=deployment_id, **policy)
        outcome = run(provider, clock, timeout=timeout, interval=1, max_interval=1)
        provider.close()
    assert outcome.status is OutcomeStatus(expected), outcome.reason
    assert said in (outcome.reason or "")


def test_at_most_a_bounded_number_of_failed_devices_are_described(
    virtual_emulator: Emulator, clock: VirtualClock
) -> None:
    fleet = [Device(f"core-{n:03d}", BROKEN, reason=f"cause {n}") for n in range(130)]
    deployment_id = virtual_emulator.add_greengrass_v2(fleet, thing_group="line")
    provider = emulated(virtual_emulator, deployment_id=deployment_id)
    outcome = run(provider, clock)
    assert outcome.status is OutcomeStatus.FAILED
    described = [e for e in outcome.errors if e.message.startswith("cause ")]
    assert len(described) == MAX_DESCRIBED
    # the 110 devices whose cause was not read are one error, not 110
    [rest] = [e for e in outcome.errors if not e.message.startswith("cause ")]
    assert rest.message.startswith("110 devices (core-020, core-021, core-022, core-023, ")
    assert "its cause was not read" in rest.message
    assert len(outcome.devices) == 130
    executions_read = [p for p in virtual_emulator.requests if p.startswith("/things/")]
    assert len(executions_read) == MAX_DESCRIBED
    provider.close()


def test_devices_that_failed_alike_are_said_once_with_a_count(
    virtual_emulator: Emulator, clock: VirtualClock
) -> None:
    same = {"reason": "com.acme.Sensor exited with 1", "error_types": ["COMPONENT_ERROR"]}
    fleet = [Device(f"core-{n:03d}", BROKEN, **same) for n in range(12)]
    fleet += [Device("odd-one", BROKEN, reason="disk full")]
    deployment_id = virtual_emulator.add_greengrass_v2(fleet, thing_group="line")
    provider = emulated(virtual_emulator, deployment_id=deployment_id)
    outcome = run(provider, clock)
    assert outcome.status is OutcomeStatus.FAILED
    first, second = outcome.errors
    assert first.message.startswith(
        "12 devices (core-000, core-001, core-002, core-003, core-004 and 7 more): "
        "com.acme.Sensor exited with 1"
    )
    assert (first.object_id, first.error_type) == ("core-000", "COMPONENT_ERROR")
    assert (second.object_id, second.message.split(";")[0]) == ("odd-one", "disk full")
    assert len(outcome.devices) == 13
    provider.close()


def test_supersession_mid_wait_ends_it_as_failed(
    virtual_emulator: Emulator, clock: VirtualClock
) -> None:
    deployment_id = virtual_emulator.add_greengrass_v2(
        [Device("a", Timeline([(0, "QUEUED"), (1, "IN_PROGRESS"), (30, "SUCCEEDED")]))],
        thing_group="line",
    )
    virtual_emulator.supersede_greengrass_v2(deployment_id, after=10)
    provider = emulated(virtual_emulator, deployment_id=deployment_id)
    outcome = run(provider, clock)
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.raw_status == "INACTIVE"
    assert (outcome.reason or "").startswith("superseded: a newer deployment to arn:aws:iot:")
    provider.close()


def test_throttled_job_reads_on_the_wire_are_retried(
    virtual_emulator: Emulator, clock: VirtualClock
) -> None:
    deployment_id = virtual_emulator.add_greengrass_v2([Device("a", OK)], thing_group="line")
    virtual_emulator.inject(
        Fault.aws("ThrottlingException", status=429), times=2, path_contains="/jobs/"
    )
    virtual_emulator.inject(Fault.http(503), path_contains="/greengrass/v2/deployments/")
    provider = emulated(virtual_emulator, deployment_id=deployment_id)
    outcome = run(provider, clock)
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert virtual_emulator.pending_faults() == 0
    provider.close()


# The real command, as a pipeline runs it.


def test_the_command_names_each_failed_device_and_reports_every_device(
    paced_emulator: Emulator,
) -> None:
    emulator = paced_emulator
    deployment_id = emulator.add_greengrass_v2(
        [
            Device("core-1", Timeline([(0, "IN_PROGRESS"), (1, "SUCCEEDED")])),
            Device(
                "core-2",
                Timeline([(0, "IN_PROGRESS"), (1, "FAILED")]),
                reason="com.acme.Sensor exited with 1",
                error_stack=["DEPLOYMENT_FAILURE", "COMPONENT_BROKEN"],
                error_types=["COMPONENT_ERROR"],
            ),
        ],
        thing_group="line-a",
    )
    result = gate_greengrass_v2(emulator, deployment_id, *FAST)
    assert result.returncode == 1, result.stderr
    assert "status: ACTIVE (0/2 devices succeeded, 2 in progress)" in result.stderr
    assert "1 of 2 devices failed; 2 must succeed (100% of the devices); 1 error" in result.stderr
    assert "  - [device core-2] FAILED: com.acme.Sensor exited with 1" in result.stderr
    outcome = json.loads(gate_greengrass_v2(emulator, deployment_id, "--output", "json").stdout)
    assert outcome["progress"] == "1/2 devices succeeded, 1 failed"
    assert outcome["devices"] == [
        {"device": "core-1", "status": "SUCCEEDED", "reason": "", "error_types": []},
        {
            "device": "core-2",
            "status": "FAILED",
            "reason": outcome["errors"][0]["message"],
            "error_types": ["COMPONENT_ERROR"],
        },
    ]
    assert "s3cr3t" not in result.stdout + result.stderr


def test_the_command_succeeds_with_the_device_counts(emulator: Emulator) -> None:
    ok = Timeline([(0, "QUEUED"), (0.3, "SUCCEEDED")])
    deployment_id = emulator.add_greengrass_v2(
        [Device(f"core-{n}", ok) for n in range(12)], thing_group="line-b"
    )
    result = gate_greengrass_v2(
        emulator,
        deployment_id,
        *FAST,
    )
    assert result.returncode == 0, result.stderr
    assert "deployment succeeded after" in result.stderr
    assert result.stderr.rstrip().endswith(": 12/12 devices succeeded")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--min-success", "most"], "--min-success must be a percentage such as 95 or 95%"),
        (["--min-success", "0%"], "--min-success must be more than 0%"),
        (["--min-success", "nan"], "--min-success must be a percentage"),
        (["--unfinished-devices", "skip"], "invalid choice: 'skip'"),
        (["--deployment-id", "../x"], "is not a valid id"),
    ],
)
def test_flags_that_cannot_work_are_exit_2_with_one_line(
    emulator: Emulator, flags: list[str], message: str
) -> None:
    result = gate_greengrass_v2(emulator, "d-1", *flags)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3  # argparse adds its usage lines
    assert emulator.requests == []


def test_the_old_no_fail_fast_is_refused_naming_the_devices_flag(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The devices' fail-fast was --fail-fast / --no-fail-fast, the release's key: its old
    off spelling is refused in the command line and a targets file, naming the new one."""
    result = gate_greengrass_v2(emulator, "d-1", "--no-fail-fast")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "gate: error: --no-fail-fast is now --no-device-fail-fast: end as failed once failed "
        "devices rule out the success share; off waits for every device so all failures are "
        "reported together"
    ]
    file = tmp_path / "release.yaml"
    file.write_text(
        "targets:\n"
        "- {provider: greengrass-v2, deployment-id: d-1, fail-fast: false, "
        f"region: eu-west-1, endpoint-url: {emulator.url}}}\n"
    )
    refused = run_gate("wait-all", str(file))
    assert refused.returncode == 2, refused.stderr
    assert "target 1: field 'fail-fast' is now field 'device-fail-fast'" in refused.stderr
    assert emulator.requests == []


def test_without_device_fail_fast_the_command_waits_for_every_device(
    paced_emulator: Emulator,
) -> None:
    emulator = paced_emulator
    devices = [Device("core-1", Timeline([(0, "FAILED")])), Device("core-2", OK)]
    fast = emulator.add_greengrass_v2(devices, thing_group="line-a")
    quick = ("--interval", "0.1s", "--max-interval", "0.2s", "--output", "json")
    ended = gate_greengrass_v2(emulator, fast, *quick)
    assert ended.returncode == 1, ended.stderr
    assert json.loads(ended.stdout)["progress"].startswith("0/2 devices succeeded, 1 failed, ")
    waited = emulator.add_greengrass_v2(devices, thing_group="line-b")
    every = gate_greengrass_v2(emulator, waited, "--no-device-fail-fast", *quick)
    assert every.returncode == 1, every.stderr
    assert json.loads(every.stdout)["progress"] == "1/2 devices succeeded, 1 failed"


def test_the_releases_fail_fast_cancels_the_other_repeated_deployment(
    emulator: Emulator,
) -> None:
    """--fail-fast with greengrass-v2 is the release's, as for every provider (it was the
    devices' and left the release without one): a repeated --deployment-id that fails
    cancels the other. With one deployment it changes nothing."""
    failing = emulator.add_greengrass_v2(
        [Device("core-1", Timeline([(0, "FAILED")]))], thing_group="line-a"
    )
    waiting = emulator.add_greengrass_v2([Device("core-2", NEVER)], thing_group="line-b")
    result = gate_greengrass_v2(
        emulator,
        failing,
        "--deployment-id",
        waiting,
        "--fail-fast",
        *FAST,
        "--timeout",
        "2m",  # never reached: the failure cancels the other (a busy machine cannot race it)
        "--output",
        "json",
    )
    assert result.returncode == 1, result.stderr
    whole = json.loads(result.stdout)
    assert whole["summary"] == "0/2 succeeded, 1 failed, 1 cancelled"
    assert whole["targets"][1]["reason"].startswith("cancelled by --fail-fast:")
    ok = emulator.add_greengrass_v2(
        [Device("core-3", Timeline([(0, "SUCCEEDED")]))], thing_group="line-c"
    )
    alone = gate_greengrass_v2(emulator, ok, "--fail-fast", *FAST)
    assert alone.returncode == 0, alone.stderr


def test_the_command_waits_for_a_device_that_joins_the_group_mid_wait(
    paced_emulator: Emulator,
) -> None:
    emulator = paced_emulator
    quick = Timeline([(0, "IN_PROGRESS"), (2, "SUCCEEDED")])
    late = Timeline([(0, "QUEUED"), (1, "IN_PROGRESS"), (3, "SUCCEEDED")])
    deployment_id = emulator.add_greengrass_v2(
        [Device("a", quick), Device("b", quick), Device("late", late, joins_at=1)],
        thing_group="line-c",
    )
    result = gate_greengrass_v2(
        emulator,
        deployment_id,
        "--interval",
        "0.1s",
        "--max-interval",
        "0.2s",
        "--output",
        "json",
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["progress"] == "3/3 devices succeeded"
    # "a" and "b" succeeded on the third read, "late" only on the fifth: the gate waited for it
    reads = [path for path in emulator.requests if path.endswith(deployment_id)]
    assert len(reads) == 5
    assert [(d["device"], d["status"]) for d in outcome["devices"]] == [
        ("a", "SUCCEEDED"),
        ("b", "SUCCEEDED"),
        ("late", "SUCCEEDED"),
    ]


@pytest.mark.parametrize(
    ("flags", "exit_code"),
    [([], 3), (["--min-success", "60%"], 0), (["--unfinished-devices", "ignore"], 0)],
)
def test_the_command_names_an_offline_device_at_the_deadline(
    paced_emulator: Emulator, flags: list[str], exit_code: int
) -> None:
    emulator = paced_emulator
    done = Timeline([(0, "SUCCEEDED")])  # one read, however late, sees what the case is about
    deployment_id = emulator.add_greengrass_v2(
        [Device("a", done), Device("b", done), Device("offline", NEVER)], thing_group="line-d"
    )
    result = gate_greengrass_v2(
        emulator,
        deployment_id,
        "--timeout",
        "3s",
        *FAST,
        "--output",
        "json",
        *flags,
    )
    assert result.returncode == exit_code, result.stderr
    outcome = json.loads(result.stdout)
    assert "1 never finished: offline (QUEUED)" in outcome["reason"]
    assert outcome["progress"] == "2/3 devices succeeded, 1 queued"
    assert {"device": "offline", "status": "QUEUED"}.items() <= outcome["devices"][-1].items()


# --- history: how long the target's earlier deployments took --------------------------------


def test_history_is_the_targets_earlier_deployments_by_their_jobs_newest_first(
    aws: Stubbed,
) -> None:
    """A completed job says its end in completedAt; a continuous one with nothing left to
    run, in lastUpdatedAt; a cancelled one (superseded) says nothing."""
    day = datetime(2026, 11, 1, tzinfo=timezone.utc)

    def listed(name: str, hours: int) -> dict[str, Any]:
        return {
            "deploymentId": name,
            "targetArn": GROUP_ARN,
            "creationTimestamp": day + timedelta(hours=hours),
            "deploymentStatus": "INACTIVE",
        }

    def a_job(name: str, hours: int, status: str, took: float, **fields: Any) -> dict[str, Any]:
        began = day + timedelta(hours=hours, seconds=5)
        ended = began + timedelta(seconds=took)
        return {
            "job": {
                "jobId": f"job-{name}",
                "status": status,
                "createdAt": began,
                "completedAt" if status == "COMPLETED" else "lastUpdatedAt": ended,
                **fields,
            }
        }

    aws.gg("get_deployment", deployment(), deploymentId=DEPLOYMENT)
    aws.io("describe_job", job(in_progress=1), jobId=JOB)
    aws.roll_call(["core-1"], ("core-1", "IN_PROGRESS"))
    aws.gg(
        "list_deployments",
        {
            "deployments": [
                listed("older", 1),
                listed(DEPLOYMENT, 9),  # this one: not its own history
                listed("newest", 5),
                listed("middle", 3),
            ]
        },
        targetArn=GROUP_ARN,
        historyFilter="ALL",
        maxResults=50,
    )
    done = {"numberOfQueuedThings": 0, "numberOfInProgressThings": 0}
    for name, hours, status, took, fields in (
        ("newest", 5, "IN_PROGRESS", 420.0, {"jobProcessDetails": done}),
        ("middle", 3, "CANCELED", 60.0, {}),
        ("older", 1, "COMPLETED", 300.0, {}),
    ):
        aws.gg(
            "get_deployment",
            deployment(iotJobId=f"job-{name}", deploymentId=name),
            deploymentId=name,
        )
        aws.io("describe_job", a_job(name, hours, status, took, **fields), jobId=f"job-{name}")
    provider = aws.provider()
    assert provider.fetch().state is State.RUNNING
    assert provider.past_durations() == [420.0, 300.0]
