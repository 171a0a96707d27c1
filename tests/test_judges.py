"""The providers' judges, as tables over recorded answers (``tests/fixtures/``): no server.

Each judge takes answers as the API sent them (and, for Greengrass v2, a policy and the
time) and returns a verdict. A row names a recorded case and what the verdict must say:
its state, and words of its verdict, progress and errors.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from gate.core.errors import TransientError
from gate.core.model import Snapshot, State
from gate.providers.greengrass.v1 import judge as greengrass
from gate.providers.greengrass.v2 import judge as greengrass_v2
from gate.providers.greengrass.v2.judge import FleetPolicy, Verdict
from gate.providers.humanitec.v1 import judge as humanitec
from gate.providers.humanitec.v2 import judge as humanitec_v2
from tests import recorded

DELIBERATELY_MALFORMED = {("humanitec", "deployment-no-status")}
"""Cases that leave out what the contract requires, to show the judge refuses them."""


def said(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "state": snapshot.state,
        "verdict": snapshot.verdict or "",
        "progress": snapshot.progress or "",
        "codes": [error.code for error in snapshot.errors],
        "messages": " | ".join(error.message for error in snapshot.errors),
    }


def holds(snapshot: Snapshot, state: State, **words: Any) -> None:
    """``snapshot`` is in ``state`` and says ``words``: each a substring of its verdict,
    progress or error messages, or its exact error codes (``codes``); ``None`` for none."""
    found = said(snapshot)
    assert found["state"] is state, found
    for key, expected in words.items():
        if key == "codes":
            assert found["codes"] == expected, found
        elif expected is None:
            assert found[key] == "", found
        else:
            assert expected in found[key], found


@pytest.mark.parametrize(
    ("provider", "case"),
    [
        (p, c)
        for p in ("greengrass", "greengrass-v2", "humanitec", "humanitec-v2")
        for c in recorded.cases(p)
    ],
)
def test_every_recorded_answer_has_the_published_shape(provider: str, case: str) -> None:
    """botocore's service models and the Humanitec contracts are the truth of the fixtures."""
    off = recorded.off_shape(provider, case)
    assert bool(off) is ((provider, case) in DELIBERATELY_MALFORMED), off


# --- Greengrass v1: GetDeploymentStatus ------------------------------------------------------

GREENGRASS = [
    ("building", State.RUNNING, {"codes": []}),
    ("in-progress", State.RUNNING, {"codes": []}),
    ("success", State.SUCCEEDED, {"codes": []}),
    ("success-reset", State.SUCCEEDED, {}),
    (
        "failure-with-details",
        State.FAILED,
        {"codes": ["", "GG-401", "GG-402"], "messages": "/dev/ttyUSB0 is not accessible"},
    ),
    ("failure-message-only", State.FAILED, {"codes": [""], "messages": "not reachable"}),
    ("unknown-word", State.UNKNOWN, {"codes": []}),
]


@pytest.mark.parametrize(("case", "state", "words"), GREENGRASS, ids=[r[0] for r in GREENGRASS])
def test_greengrass_judge(case: str, state: State, words: dict[str, Any]) -> None:
    answer = recorded.aws("greengrass", case)["GetDeploymentStatus"]
    snapshot = greengrass.judge(answer)
    holds(snapshot, state, **words)
    assert snapshot.raw_status == answer["DeploymentStatus"]
    assert snapshot.deployment_type == answer["DeploymentType"]
    assert (snapshot.changed_at or "").startswith("2026-12-07T03:")


def test_greengrass_judge_refuses_an_answer_without_a_status() -> None:
    with pytest.raises(TransientError, match="without a DeploymentStatus"):
        greengrass.judge(recorded.aws("greengrass", "no-status")["GetDeploymentStatus"])


def test_the_greengrass_table_has_every_status_word() -> None:
    words = {
        recorded.raw("greengrass", r[0])["GetDeploymentStatus"]["DeploymentStatus"]
        for r in GREENGRASS
    }
    assert set(greengrass.STATUSES) < words


# --- Greengrass v2: a deployment judged by its devices ----------------------------------------


def judged_v2(
    case: str, policy: FleetPolicy, *, at_deadline: bool = False, seconds_in: float = 60
) -> Verdict:
    """The verdict on one read of ``case``'s answers, ``seconds_in`` after the deployment
    was created, asked in the order the reader asks them."""
    answers = recorded.aws("greengrass-v2", case)
    deployment = answers["GetDeployment"]
    status, arn = deployment["deploymentStatus"], deployment["targetArn"]
    created = deployment["creationTimestamp"]
    now = created + timedelta(seconds=seconds_in)
    cores = answers.get("GetCoreDevice", {})
    ended = greengrass_v2.deployment_ended(deployment, status, arn)
    if ended is not None:
        return Verdict(ended)
    kind, name = greengrass_v2.target_of(arn)
    if kind == "thing":
        effective = next(
            (
                item
                for item in answers["ListEffectiveDeployments"]["effectiveDeployments"]
                if item["deploymentId"] == deployment["deploymentId"]
            ),
            None,
        )
        result = greengrass_v2.device_result(name, effective)
        busy = at_deadline and greengrass_v2.unfinished_status(result.status)
        health = greengrass_v2.health(cores[name], created=created, now=now) if busy else ""
        return greengrass_v2.judge_device(result, health=health, at_deadline=at_deadline)
    job = answers.get("DescribeJob", {}).get("job", {})
    ended = greengrass_v2.job_ended(status, deployment.get("iotJobId", ""), job)
    if ended is not None:
        return Verdict(ended)
    executions = {
        greengrass_v2.thing_name(item["thingArn"]): item["jobExecutionSummary"]["status"]
        for item in answers["ListJobExecutionsForJob"]["executionSummaries"]
    }
    fleet = greengrass_v2.roll_call(answers["ListThingsInThingGroup"]["things"], executions)
    unfinished = [t for t, d in fleet.members.items() if greengrass_v2.unfinished_status(d.status)]
    health = {t: greengrass_v2.health(cores[t], created=created, now=now) for t in unfinished}
    fleet = fleet.with_health({thing: why for thing, why in health.items() if why})
    return greengrass_v2.judge_fleet(status, fleet, policy, at_deadline=at_deadline)


ALL = FleetPolicy()
WAIT_FOR_ALL = FleetPolicy(fail_fast=False)
NEVER = "never finished"
V2 = [
    # every device mix
    (
        "all-succeeded",
        ALL,
        False,
        State.SUCCEEDED,
        {"progress": "3/3 devices succeeded", "verdict": None},
    ),
    (
        "one-failed",
        ALL,
        False,
        State.FAILED,
        {"verdict": "1 of 3 devices failed; 3 must succeed (100% of the devices)"},
    ),
    (
        "one-failed",
        FleetPolicy(min_success=60),
        False,
        State.SUCCEEDED,
        {"progress": "2/3 devices succeeded, 1 failed"},
    ),
    ("failed-alike", ALL, False, State.FAILED, {"verdict": "3 of 3 devices failed"}),
    ("rejected-and-canceled", ALL, False, State.FAILED, {"verdict": "2 of 2 devices failed"}),
    (
        "some-unfinished",
        ALL,
        False,
        State.RUNNING,
        {"progress": "2/4 devices succeeded, 1 in progress, 1 queued", "verdict": None},
    ),
    ("failed-and-unfinished", ALL, False, State.FAILED, {"verdict": "1 of 3 devices failed"}),
    (
        "failed-and-unfinished",
        WAIT_FOR_ALL,
        False,
        State.RUNNING,
        {"progress": "1/3 devices succeeded, 1 failed, 1 in progress"},
    ),
    ("not-reached", ALL, False, State.RUNNING, {"progress": "1/2 devices succeeded, 1 queued"}),
    ("empty-group", ALL, False, State.RUNNING, {"progress": "no devices in the thing group yet"}),
    # removed, departed, unhealthy and silent devices
    ("removed-member", ALL, False, State.RUNNING, {"progress": "1/2 devices succeeded, 1 queued"}),
    (
        "removed-from-group",
        ALL,
        False,
        State.SUCCEEDED,
        {
            "progress": "2/2 devices succeeded, 1 left the group",
            "verdict": "1 left the group and was not counted: core-old (REMOVED)",
        },
    ),
    (
        "departed-devices",
        ALL,
        False,
        State.SUCCEEDED,
        {
            "verdict": "2 left the group and were not counted: "
            "core-gone (FAILED); core-moved (SUCCEEDED)"
        },
    ),
    (
        "empty-group-all-departed",
        ALL,
        False,
        State.RUNNING,
        {"progress": "no devices in the thing group yet (1 left it)"},
    ),
    (
        "unhealthy-device",
        ALL,
        False,
        State.RUNNING,
        {"progress": "1/2 devices succeeded, 1 in progress; UNHEALTHY: core-b"},
    ),
    (
        "silent-device",
        ALL,
        False,
        State.RUNNING,
        {"progress": "1/2 devices succeeded, 1 queued; silent: core-b"},
    ),
    # the deadline, under each unfinished-devices policy
    (
        "some-unfinished",
        ALL,
        True,
        State.RUNNING,
        {
            "verdict": f"2 {NEVER}: core-c (IN_PROGRESS); core-d (QUEUED)",
            "codes": ["IN_PROGRESS", "QUEUED"],
            "messages": "still in progress when the deadline passed",
        },
    ),
    (
        "some-unfinished",
        FleetPolicy(min_success=50),
        True,
        State.SUCCEEDED,
        {"verdict": f"enough devices succeeded (50% of the devices); 2 {NEVER}"},
    ),
    (
        "some-unfinished",
        FleetPolicy(unfinished="ignore"),
        True,
        State.SUCCEEDED,
        {"verdict": "(left out: --unfinished-devices ignore)"},
    ),
    (
        "failed-and-unfinished",
        WAIT_FOR_ALL,
        True,
        State.RUNNING,
        {"verdict": f"1 {NEVER}: core-c (IN_PROGRESS)", "codes": ["IN_PROGRESS"]},
    ),
    (
        "failed-and-unfinished",
        FleetPolicy(fail_fast=False, unfinished="ignore"),
        True,
        State.FAILED,
        {"verdict": "1 of the 2 devices that finished failed (100% of the devices)"},
    ),
    (
        "failed-and-unfinished",
        FleetPolicy(fail_fast=False, min_success=30),
        True,
        State.SUCCEEDED,
        {"verdict": "enough devices succeeded (30% of the devices)"},
    ),
    (
        "not-reached",
        ALL,
        True,
        State.RUNNING,
        {"codes": ["QUEUED"], "messages": "the job has not reached the device yet"},
    ),
    (
        "removed-member",
        ALL,
        True,
        State.RUNNING,
        {"messages": "the job has not reached the device yet"},
    ),
    (
        "unhealthy-device",
        ALL,
        True,
        State.RUNNING,
        {
            "messages": "its core device reports UNHEALTHY "
            "(last status update 2025-12-06T05:47:25.000Z)"
        },
    ),
    (
        "silent-device",
        ALL,
        True,
        State.RUNNING,
        {
            "messages": "its core device has reported nothing since 2025-12-06T04:46:40.000Z, "
            "1h00m before this deployment began 11m40s ago (offline?)"
        },
    ),
    (
        "empty-group",
        ALL,
        True,
        State.RUNNING,
        {"progress": "no devices in the thing group yet", "verdict": None},
    ),
    # the deployment or its job ended, whatever the devices did
    (
        "superseded",
        ALL,
        False,
        State.FAILED,
        {"codes": ["SUPERSEDED"], "verdict": "superseded: a newer deployment to"},
    ),
    (
        "deployment-canceled",
        ALL,
        False,
        State.FAILED,
        {"codes": ["CANCELED"], "verdict": "the deployment is CANCELED"},
    ),
    ("deployment-failed", ALL, False, State.FAILED, {"codes": ["FAILED"]}),
    ("deployment-inactive", ALL, False, State.FAILED, {"codes": ["INACTIVE"]}),
    (
        "job-canceled",
        ALL,
        False,
        State.FAILED,
        {
            "codes": ["JOB_CANCELED"],
            "verdict": "is CANCELED (force-cancelled): "
            "reason code ABORTED_BY_THRESHOLD, 'more than 10% failed'",
        },
    ),
    ("job-being-deleted", ALL, False, State.FAILED, {"codes": ["JOB_DELETION_IN_PROGRESS"]}),
    ("no-job-yet", ALL, False, State.RUNNING, {"progress": "the IoT job is not created yet"}),
    # one core device
    (
        "device-template",
        ALL,
        False,
        State.RUNNING,
        {"progress": "0/1 devices succeeded, 1 in progress"},
    ),
    (
        "device-template",
        ALL,
        True,
        State.RUNNING,
        {"codes": ["IN_PROGRESS"], "messages": "still in progress when the deadline passed"},
    ),
    (
        "device-failed",
        ALL,
        False,
        State.FAILED,
        {
            "verdict": "the deployment ended as 'FAILED' on core-a",
            "messages": "FAILED_NO_STATE_CHANGE; "
            "error stack: DEPLOYMENT_FAILURE > NO_AVAILABLE_COMPONENT_VERSION",
        },
    ),
    (
        "device-not-picked-up",
        ALL,
        False,
        State.RUNNING,
        {"progress": "0/1 devices succeeded, 1 queued", "codes": []},
    ),
    (
        "device-not-picked-up",
        ALL,
        True,
        State.RUNNING,
        {"messages": "its core device has reported nothing since"},
    ),
    (
        "device-unhealthy",
        ALL,
        True,
        State.RUNNING,
        {"messages": "its core device reports UNHEALTHY"},
    ),
]


def _id(row: tuple[Any, ...]) -> str:
    case, policy, at_deadline = row[:3]
    said = [case]
    said += (
        []
        if policy == ALL
        else [
            f"{policy.min_success:g}%-{policy.unfinished}-{'fast' if policy.fail_fast else 'all'}"
        ]
    )
    said += ["at-deadline"] if at_deadline else []
    return "/".join(said)


@pytest.mark.parametrize(
    ("case", "policy", "at_deadline", "state", "words"), V2, ids=[_id(r) for r in V2]
)
def test_greengrass_v2_judge(
    case: str, policy: FleetPolicy, at_deadline: bool, state: State, words: dict[str, Any]
) -> None:
    seconds_in = 700.0 if at_deadline else 60.0
    if case == "silent-device":
        seconds_in = 700.0
    holds(
        judged_v2(case, policy, at_deadline=at_deadline, seconds_in=seconds_in).snapshot,
        state,
        **words,
    )


@pytest.mark.parametrize(
    ("seconds_in", "silent"),
    [(greengrass_v2.SILENT_AFTER - 1, False), (greengrass_v2.SILENT_AFTER, True)],
    ids=["before-SILENT_AFTER", "at-SILENT_AFTER"],
)
def test_greengrass_v2_a_device_is_silent_only_after_silent_after(
    seconds_in: float, silent: bool
) -> None:
    snapshot = judged_v2("silent-device", ALL, seconds_in=seconds_in).snapshot
    assert ("silent: core-b" in (snapshot.progress or "")) is silent


DEVICE_WORDS = [
    ("QUEUED", State.RUNNING),
    ("IN_PROGRESS", State.RUNNING),
    ("SUCCEEDED", State.SUCCEEDED),
    ("COMPLETED", State.SUCCEEDED),
    ("FAILED", State.FAILED),
    ("TIMED_OUT", State.FAILED),
    ("REJECTED", State.FAILED),
    ("CANCELED", State.FAILED),
    ("A_WORD_NOT_YET_DOCUMENTED", State.UNKNOWN),
]


@pytest.mark.parametrize(("word", "state"), DEVICE_WORDS, ids=[w for w, _ in DEVICE_WORDS])
def test_greengrass_v2_every_device_status_word(word: str, state: State) -> None:
    effective = recorded.aws("greengrass-v2", "device-template")["ListEffectiveDeployments"]
    mine = dict(effective["effectiveDeployments"][1], coreDeviceExecutionStatus=word)
    verdict = greengrass_v2.judge_device(
        greengrass_v2.device_result("core-a", mine), at_deadline=False
    )
    assert verdict.snapshot.state is state
    assert verdict.snapshot.raw_status == word
    assert {w for w, _ in DEVICE_WORDS} > set(greengrass_v2.DEVICE_STATUSES)


def test_greengrass_v2_failed_devices_are_said_once_a_cause() -> None:
    answers = recorded.aws("greengrass-v2", "failed-alike")
    causes = [
        greengrass_v2.execution_cause(thing, "FAILED", answer["execution"])
        for thing, answer in sorted(answers["DescribeJobExecution"].items())
    ]
    errors = greengrass_v2.by_cause(causes)
    assert [(e.code, e.object_id, e.error_type) for e in errors] == [
        ("FAILED", "core-a", "COMPONENT_BROKEN"),
        ("TIMED_OUT", "core-b", ""),
    ]
    assert errors[0].message.startswith("2 devices (core-a, core-c): com.example.App exited with 1")
    assert "detailed status: FAILED_ROLLBACK_COMPLETE" in errors[1].message


@pytest.mark.parametrize(
    ("count", "members", "unfinished"),
    [
        ({}, 3, 3),
        ({"numberOfSucceededThings": 2, "numberOfInProgressThings": 1}, 3, 1),
        ({"numberOfSucceededThings": 3}, 0, 0),
    ],
    ids=["none-reached", "one-in-progress", "more-than-the-members"],
)
def test_greengrass_v2_the_jobs_counts_only_say_whether_anything_is_left(
    count: dict[str, int], members: int, unfinished: int
) -> None:
    job = recorded.aws("greengrass-v2", "some-unfinished")["DescribeJob"]["job"]
    details = {**job["jobProcessDetails"], **count}
    assert (
        greengrass_v2.job_counts({**job, "jobProcessDetails": details}, members=members).unfinished
        == unfinished
    )


@pytest.mark.parametrize("absurd", [-1, 10**12, True, "7"])
def test_greengrass_v2_an_absurd_count_is_an_unreadable_answer(absurd: object) -> None:
    job = recorded.aws("greengrass-v2", "some-unfinished")["DescribeJob"]["job"]
    details = {**job["jobProcessDetails"], "numberOfFailedThings": absurd}
    with pytest.raises(TransientError, match="which is not a count"):
        greengrass_v2.job_counts({**job, "jobProcessDetails": details}, members=4)


# --- Humanitec v1: deployments, error lists, readiness, pipeline runs ---------------------------

HUMANITEC_DEPLOYMENTS = [
    ("deployment-pending", State.RUNNING),
    ("deployment-in-progress", State.RUNNING),
    ("deployment-succeeded", State.SUCCEEDED),
    ("deployment-failed", State.FAILED),
    ("deployment-paused", State.UNKNOWN),
]


@pytest.mark.parametrize(
    ("case", "state"), HUMANITEC_DEPLOYMENTS, ids=[c for c, _ in HUMANITEC_DEPLOYMENTS]
)
def test_humanitec_deployment_judge(case: str, state: State) -> None:
    answer = recorded.raw("humanitec", case)["Deployment"]
    snapshot = humanitec.judge_deployment(answer)
    assert (snapshot.state, snapshot.raw_status) == (state, answer["status"])
    assert (snapshot.created_at, snapshot.changed_at) == (
        answer["created_at"],
        answer["status_changed_at"],
    )
    words = {recorded.raw("humanitec", c)["Deployment"]["status"] for c, _ in HUMANITEC_DEPLOYMENTS}
    assert set(humanitec.STATUSES) < words


def test_humanitec_judge_refuses_a_deployment_without_a_status() -> None:
    with pytest.raises(TransientError, match="no 'status' string"):
        humanitec.judge_deployment(recorded.raw("humanitec", "deployment-no-status")["Deployment"])


@pytest.mark.parametrize(
    ("case", "count", "last"),
    [
        ("errors-two", 2, "Incorrect credentials"),
        (
            "errors-many",
            humanitec.MAX_ERRORS + 1,
            "30 more errors of the deployment's 130 were left out",
        ),
    ],
    ids=["two", "more-than-kept"],
)
def test_humanitec_error_list(case: str, count: int, last: str) -> None:
    errors = humanitec.error_list(recorded.raw("humanitec", case)["DeploymentErrors"])
    assert len(errors) == count
    assert last in errors[-1].message
    assert (
        errors[0].error_type == recorded.raw("humanitec", case)["DeploymentErrors"][0]["error_type"]
    )


APPLIED = Snapshot(State.SUCCEEDED, "succeeded", created_at="2026-12-07T03:00:00Z")
READINESS = [
    ("runtime-ready", False, State.SUCCEEDED, {"progress": None}),
    ("runtime-ready", True, State.SUCCEEDED, {"progress": None}),
    (
        "runtime-crash-loop",
        False,
        State.RUNNING,
        {"progress": "1/2 workloads ready; checkout: CrashLoopBackOff", "verdict": None},
    ),
    (
        "runtime-crash-loop",
        True,
        State.FAILED,
        {
            "verdict": "the deployment succeeded, "
            "but its workloads never became ready: 1/2 workloads ready",
            "codes": ["CrashLoopBackOff"],
            "messages": "back-off 5m0s restarting failed container (restarted 7 times)",
        },
    ),
    (
        "runtime-starting",
        False,
        State.RUNNING,
        {"progress": "0/1 workloads ready; checkout: ContainerCreating"},
    ),
    ("runtime-starting", True, State.RUNNING, {"verdict": None, "codes": ["ContainerCreating"]}),
    (
        "runtime-exited",
        True,
        State.FAILED,
        {"codes": ["Error"], "messages": "exit code 2: panic (restarted 1 times)"},
    ),
    (
        "runtime-empty",
        False,
        State.RUNNING,
        {"progress": "0 workloads: the environment's runtime lists no workloads"},
    ),
    ("runtime-empty", True, State.RUNNING, {"codes": ["NO_WORKLOADS"], "verdict": None}),
]


@pytest.mark.parametrize(
    ("case", "at_deadline", "state", "words"),
    READINESS,
    ids=[f"{r[0]}{'/at-deadline' if r[1] else ''}" for r in READINESS],
)
def test_humanitec_readiness_judge(
    case: str, at_deadline: bool, state: State, words: dict[str, Any]
) -> None:
    found = humanitec.readiness(recorded.raw("humanitec", case)["Runtime"])
    snapshot = humanitec.with_readiness(APPLIED, found, at_deadline=at_deadline)
    holds(snapshot, state, **words)
    if not at_deadline and not found.ready:
        assert snapshot.if_deadline_passes == humanitec.with_readiness(
            APPLIED, found, at_deadline=True
        )


RUNS = [
    ("run-queued", State.RUNNING, {"progress": None}),
    ("run-executing", State.RUNNING, {}),
    (
        "run-waiting-for-approval",
        State.RUNNING,
        {"progress": "waiting for an approval (job deploy-production: approval(0f3c9a))"},
    ),
    ("run-cancelling", State.RUNNING, {}),
    ("run-succeeded", State.SUCCEEDED, {"verdict": None}),
    (
        "run-failed",
        State.FAILED,
        {"verdict": "the pipeline run ended as 'failed': step 'deploy' failed: exit code 1"},
    ),
    ("run-cancelled", State.FAILED, {"verdict": None}),
    ("run-timed_out", State.FAILED, {}),
    ("run-unheard-of", State.UNKNOWN, {}),
]


@pytest.mark.parametrize(("case", "state", "words"), RUNS, ids=[r[0] for r in RUNS])
def test_humanitec_pipeline_run_judge(case: str, state: State, words: dict[str, Any]) -> None:
    holds(humanitec.judge_run(recorded.raw("humanitec", case)["PipelineRun"]), state, **words)
    statuses = {recorded.raw("humanitec", r[0])["PipelineRun"]["status"] for r in RUNS}
    assert set(humanitec.RUN_STATUSES) < statuses


# --- Humanitec v2: a deployment, read plainly or from a completed long-poll ----------------------

HUMANITEC_V2 = [
    ("deployment-pending", False, State.RUNNING, {}),
    ("deployment-in-progress", False, State.RUNNING, {}),
    ("deployment-executing", False, State.RUNNING, {"verdict": None}),
    (
        "deployment-executing",
        True,
        State.FAILED,
        {"verdict": "complete, with status 'executing', which is not 'succeeded'"},
    ),
    ("deployment-succeeded", False, State.SUCCEEDED, {"codes": []}),
    ("deployment-succeeded", True, State.SUCCEEDED, {"codes": []}),
    (
        "deployment-failed",
        True,
        State.FAILED,
        {"codes": ["failed"], "messages": "module 'db' failed: quota exceeded", "verdict": None},
    ),
    ("deployment-cancelled", False, State.UNKNOWN, {}),
    ("deployment-cancelled", True, State.FAILED, {"verdict": "which is not 'succeeded'"}),
]


@pytest.mark.parametrize(
    ("case", "complete", "state", "words"),
    HUMANITEC_V2,
    ids=[f"{r[0]}{'/complete' if r[1] else ''}" for r in HUMANITEC_V2],
)
def test_humanitec_v2_judge(case: str, complete: bool, state: State, words: dict[str, Any]) -> None:
    answer = recorded.raw("humanitec-v2", case)["Deployment"]
    snapshot = humanitec_v2.judge(answer, complete=complete)
    holds(snapshot, state, **words)
    assert snapshot.changed_at == answer["completed_at"]
    statuses = {recorded.raw("humanitec-v2", r[0])["Deployment"]["status"] for r in HUMANITEC_V2}
    assert set(humanitec_v2.STATUSES) < statuses
