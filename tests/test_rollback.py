"""Rolling back, provider by provider: the plan names the right earlier deployment, ``roll_back``
sends exactly the planned request, and the provider it returns follows the new deployment to
its end. No backend plans a rollback once a deployment was started after the failed one (it
would undo it), and a start request answered by a transient fault says the rollback may have
started. Humanitec runs on the package's emulator (held to the vendored contracts), Greengrass
v1 on moto, Greengrass v2 on botocore's Stubber and on the emulator through the gate's wire."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import httpx
import pytest
import yaml
from botocore.stub import Stubber
from moto import mock_aws
from openapi_schema_validator import OAS30Validator

from gate import WaitOptions, wait
from gate.core.errors import (
    NotFoundError,
    ReadError,
    RequestNotSent,
    RequestRejected,
    StartUnclear,
    Throttled,
    TransientError,
    UsageError,
)
from gate.core.model import OutcomeStatus, RollbackPlan
from gate.core.provider import RollsBack
from gate.core.secret import Secret
from gate.emulator import Device, Emulator, Fault, Timeline
from gate.providers.aws.clients import make_clients
from gate.providers.greengrass.v1.reader import GreengrassDeployment
from gate.providers.greengrass.v2 import rollback as greengrass_v2_rollback
from gate.providers.greengrass.v2.reader import GreengrassV2Deployment
from gate.providers.humanitec.v1.reader import HumanitecDeployment, connect
from gate.providers.humanitec.v2.reader import HumanitecV2Deployment
from gate.waiting.engine import Timing
from tests.builders import humanitec_provider
from tests.support import CONTRACT, REPO, TOKEN, VirtualClock, set_moto_status

ENDS_OK = Timeline([(0, "in progress"), (5, "succeeded")])
ENDS_FAILED = Timeline([(0, "in progress"), (5, "failed")])
ENV_PATH = "/orgs/acme/apps/shop/envs/production"


def assert_outcome_unknown(error: pytest.ExceptionInfo[ReadError], check: str) -> None:
    """A start the backend may have acted on: a StartUnclear (never retried as a
    TransientError) that says the rollback may have started and where to look."""
    assert isinstance(error.value, StartUnclear)
    assert not isinstance(error.value, TransientError)
    said = str(error.value)
    assert said.startswith("the rollback request got no clear answer (")
    assert f"it may have started; check {check} before retrying" in said
    assert "\n" not in said


def contract_validator(name: str) -> OAS30Validator:
    contract = json.loads(CONTRACT.read_text())
    return OAS30Validator({"$ref": f"#/components/schemas/{name}", **contract})


def spec_validator(name: str) -> OAS30Validator:
    spec = yaml.safe_load((REPO / "tests/contracts/humanitec-v2-orchestrator.yaml").read_text())
    return OAS30Validator({"$ref": f"#/components/schemas/{name}", **spec})


# Humanitec v1, on the emulator in virtual time.


@pytest.fixture
def humanitec(virtual_emulator: Emulator) -> Iterator[Any]:
    made: list[HumanitecDeployment] = []

    def make(deploy_id: str) -> HumanitecDeployment:
        provider = humanitec_provider(virtual_emulator, deploy_id=deploy_id)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


def humanitec_history(emulator: Emulator) -> dict[str, str]:
    """An environment's deployments by what they are; ``failed`` is the one gated."""
    add = emulator.add_humanitec
    return {
        "older_ok": add("acme", "shop", "production", ENDS_OK, started_ago=400, set_id="a" * 40),
        "good": add(
            "acme",
            "shop",
            "production",
            ENDS_OK,
            started_ago=300,
            set_id="b" * 40,
            value_set_version_id="vsv-7",
        ),
        "broken": add("acme", "shop", "production", ENDS_FAILED, started_ago=200),
        "failed": add("acme", "shop", "production", ENDS_FAILED, started_ago=100),
    }


def test_humanitec_plans_the_last_success_before_the_failed_deployment(
    virtual_emulator: Emulator, humanitec: Any
) -> None:
    ids = humanitec_history(virtual_emulator)
    plan = humanitec(ids["failed"]).plan_rollback()
    assert plan.to == ids["good"]
    assert plan.request == {
        "method": "POST",
        "path": f"{ENV_PATH}/deploys",
        "body": {"set_id": "b" * 40, "value_set_version_id": "vsv-7"},
    }
    contract_validator("DeploymentRequest").validate(plan.request["body"])
    assert ids["good"] in plan.summary
    assert ids["failed"] in plan.summary
    assert not virtual_emulator.posted, "a plan changes nothing"


def test_humanitec_rollback_sends_the_plan_and_is_followed_to_its_end(
    virtual_emulator: Emulator, humanitec: Any, clock: VirtualClock
) -> None:
    ids = humanitec_history(virtual_emulator)
    failed: HumanitecDeployment = humanitec(ids["failed"])
    assert isinstance(failed, RollsBack)
    plan = failed.plan_rollback()
    virtual_emulator.then_humanitec(
        "acme",
        "shop",
        "production",
        Timeline([(0, "pending"), (2, "in progress"), (9, "succeeded")]),
    )
    rollback = failed.roll_back(plan, f"deploy-gate: {ids['failed']} failed: 'api' crashed\n" * 40)
    ((path, sent, _),) = virtual_emulator.posted
    assert path == plan.request["path"]
    assert isinstance(sent, dict)
    body = dict(sent)
    comment = body.pop("comment")
    assert body == plan.request["body"]
    assert len(comment) <= 500
    assert "\n" not in comment
    assert ids["failed"] in comment
    contract_validator("DeploymentRequest").validate({**body, "comment": comment})
    assert isinstance(rollback, HumanitecDeployment)
    assert rollback.target["deploy_id"] not in ids.values()
    failed.close()  # the caller may let go of the failed one first: the client stays open
    outcome = wait(rollback, timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert outcome.target["deploy_id"] == rollback.target["deploy_id"]
    environment = json.loads(
        rollback._api.client.get(ENV_PATH).text  # the same client, still open
    )
    contract_validator("EnvironmentResponse").validate(environment)
    assert environment["last_deploy"]["set_id"] == "b" * 40
    assert environment["last_deploy"]["comment"] == comment
    rollback.close()


def test_humanitec_first_deployment_has_nothing_to_roll_back_to(
    virtual_emulator: Emulator, humanitec: Any
) -> None:
    failed = virtual_emulator.add_humanitec("acme", "shop", "production", ENDS_FAILED)
    with pytest.raises(NotFoundError, match=f"nothing to roll back to.*before {failed}"):
        humanitec(failed).plan_rollback()


@pytest.mark.parametrize("newer", [ENDS_OK, ENDS_FAILED, Timeline([(0, "in progress")])])
def test_humanitec_never_plans_over_a_deployment_started_after_the_failed_one(
    virtual_emulator: Emulator, humanitec: Any, newer: Timeline
) -> None:
    """Someone deployed during the bake: the environment's last_deploy is theirs, whatever
    it ends as, and a rollback would undo it."""
    ids = humanitec_history(virtual_emulator)
    theirs = virtual_emulator.add_humanitec("acme", "shop", "production", newer, started_ago=10)
    with pytest.raises(RequestRejected) as refused:
        humanitec(ids["failed"]).plan_rollback()
    assert str(refused.value) == (
        f"deployment {theirs} was started in acme/shop/production after "
        f"{ids['failed']} failed, and a rollback would undo it"
    )
    assert not virtual_emulator.posted


@pytest.mark.parametrize(
    ("fault", "error", "words"),
    [
        (Fault.http(409, body=b'{"error":"API-409","message":"busy"}'), RequestRejected, "409"),
        (Fault.http(400, body=b'{"error":"API-400","message":"bad set"}'), RequestRejected, "bad"),
    ],
    ids=["conflict", "refused"],
)
def test_humanitec_refusals_on_start_are_gate_errors(
    virtual_emulator: Emulator, humanitec: Any, fault: Fault, error: type[Exception], words: str
) -> None:
    ids = humanitec_history(virtual_emulator)
    failed = humanitec(ids["failed"])
    plan = failed.plan_rollback()
    virtual_emulator.inject(fault, path_contains="/deploys")
    with pytest.raises(error, match=words):
        failed.roll_back(plan, "why")


@pytest.mark.parametrize(
    ("fault", "words"),
    [(Fault.http(503), "HTTP 503"), (Fault.reset(), "connection")],
    ids=["unavailable", "reset"],
)
def test_humanitec_a_transient_fault_on_start_leaves_the_outcome_unknown(
    virtual_emulator: Emulator, humanitec: Any, fault: Fault, words: str
) -> None:
    """The POST reached the API: a 5xx or a dropped answer is no proof it did nothing."""
    ids = humanitec_history(virtual_emulator)
    failed = humanitec(ids["failed"])
    plan = failed.plan_rollback()
    virtual_emulator.inject(fault, path_contains="/deploys")
    with pytest.raises(ReadError, match=words) as unknown:
        failed.roll_back(plan, "why")
    assert_outcome_unknown(unknown, "the deployments of acme/shop/production")
    assert len(virtual_emulator.posted) == 1


def test_humanitec_a_start_the_request_budget_never_sent_is_no_unclear_start(
    virtual_emulator: Emulator, humanitec: Any
) -> None:
    """No slot in the shared request budget within the start's time: the API saw nothing, so
    the start stays a RequestNotSent (said not-started, safe to send again), never a
    StartUnclear."""
    from gate.wire import deadline
    from gate.wire.sharing import Sharing

    ids = humanitec_history(virtual_emulator)
    plan = humanitec(ids["failed"]).plan_rollback()
    sharing = Sharing(max_rate=0.1)
    with sharing.active():
        client = connect(virtual_emulator.url, Secret(TOKEN), request_timeout=2.0)
    provider = HumanitecDeployment(
        client, org="acme", app="shop", env="production", deploy_id=ids["failed"]
    )
    try:
        sharing.limiter(virtual_emulator.url.rstrip("/")).acquire(within=1)  # the next: 10 s on
        with deadline.within(1.0), pytest.raises(RequestNotSent) as unsent:
            provider.roll_back(plan, "why")
    finally:
        client.close()
        sharing.close()
    assert not isinstance(unsent.value, StartUnclear)
    assert virtual_emulator.posted == []


def test_humanitec_refuses_a_rollback_while_a_deployment_is_active(
    virtual_emulator: Emulator, humanitec: Any
) -> None:
    ids = humanitec_history(virtual_emulator)
    plan = humanitec(ids["failed"]).plan_rollback()
    virtual_emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "in progress")]))
    with pytest.raises(RequestRejected, match="already an active deployment"):
        humanitec(ids["failed"]).roll_back(plan, "why")


def test_humanitec_refuses_a_plan_for_another_environment(
    virtual_emulator: Emulator, humanitec: Any
) -> None:
    ids = humanitec_history(virtual_emulator)
    plan = humanitec(ids["failed"]).plan_rollback()
    elsewhere = {**plan.request, "path": "/orgs/acme/apps/shop/envs/staging/deploys"}
    with pytest.raises(UsageError, match="not for this target"):
        humanitec(ids["failed"]).roll_back(RollbackPlan(plan.summary, plan.to, elsewhere), "x")
    assert not virtual_emulator.posted


# Humanitec v2, on the emulator in real time (its long-poll holds in real time).


@pytest.fixture
def orchestrator(emulator: Emulator) -> Iterator[Any]:
    made: list[HumanitecV2Deployment] = []

    def make(deployment_id: str) -> HumanitecV2Deployment:
        client = connect(emulator.url, Secret(TOKEN), request_timeout=5.0)
        provider = HumanitecV2Deployment(
            client,
            org="acme",
            deployment_id=deployment_id,
            token=Secret(TOKEN),
            long_poll_seconds=2,
        )
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


def orchestrator_history(emulator: Emulator) -> dict[str, str]:
    ok, failed = Timeline([(0, "succeeded")]), Timeline([(0, "failed")])
    add = emulator.add_humanitec_v2
    return {
        "good": add("acme", ok, started_ago=400),
        "broken": add("acme", failed, started_ago=300),
        "other_env_ok": add("acme", ok, env="production", started_ago=250),
        "failed": add("acme", failed, status_message="terraform apply failed", started_ago=200),
    }


def test_humanitec_v2_plans_a_rollback_to_the_last_success_in_the_environment(
    emulator: Emulator, orchestrator: Any
) -> None:
    ids = orchestrator_history(emulator)
    plan = orchestrator(ids["failed"]).plan_rollback()
    assert plan.to == ids["good"]
    assert plan.request == {
        "method": "POST",
        "path": "/orgs/acme/deployments",
        "headers": {"Idempotency-Key": f"deploy-gate-rollback-{ids['failed']}"},
        "body": {
            "mode": "rollback",
            "rollback_to_deployment_id": ids["good"],
            "project_id": "shop",
            "env_id": "staging",
        },
    }
    spec_validator("DeploymentCreateBody").validate(plan.request["body"])
    assert not emulator.posted


def test_humanitec_v2_rollback_sends_the_plan_and_is_followed_to_its_end(
    emulator: Emulator, orchestrator: Any
) -> None:
    ids = orchestrator_history(emulator)
    failed = orchestrator(ids["failed"])
    plan = failed.plan_rollback()
    emulator.then_humanitec_v2("acme", Timeline([(0, "executing"), (1, "succeeded")]))
    rollback = failed.roll_back(plan, "ignored: the create body keeps no comment")
    ((path, body, headers),) = emulator.posted
    assert (path, body) == (plan.request["path"], plan.request["body"])
    assert headers["idempotency-key"] == plan.request["headers"]["Idempotency-Key"]
    assert isinstance(rollback, HumanitecV2Deployment)
    outcome = wait(rollback, WaitOptions(timeout=30, interval=0.2))
    assert outcome.status is OutcomeStatus.SUCCEEDED
    new = rollback.target["deployment_id"]
    answer = rollback._api.get_object(f"/orgs/acme/deployments/{new}", "deployment")
    spec_validator("Deployment").validate(answer)
    assert (answer["mode"], answer["rollback_to_deployment_id"]) == ("rollback", ids["good"])
    # asked again (a retry), the same key answers with the same deployment
    again = failed.roll_back(plan, "")
    assert again.target["deployment_id"] == new
    again.close()
    rollback.close()


def test_humanitec_v2_first_deployment_has_nothing_to_roll_back_to(
    emulator: Emulator, orchestrator: Any
) -> None:
    failed = emulator.add_humanitec_v2("acme", Timeline([(0, "failed")]))
    emulator.add_humanitec_v2("acme", Timeline([(0, "succeeded")]), env="production")
    with pytest.raises(NotFoundError, match="nothing to roll back to"):
        orchestrator(failed).plan_rollback()


@pytest.mark.parametrize(
    "newer",
    [Timeline([(0, "succeeded")]), Timeline([(0, "failed")]), Timeline([(0, "executing")])],
    ids=["succeeded", "failed", "running"],
)
def test_humanitec_v2_never_plans_over_a_deployment_started_after_the_failed_one(
    emulator: Emulator, orchestrator: Any, newer: Timeline
) -> None:
    ids = orchestrator_history(emulator)
    theirs = emulator.add_humanitec_v2("acme", newer, started_ago=100)
    with pytest.raises(RequestRejected) as refused:
        orchestrator(ids["failed"]).plan_rollback()
    assert str(refused.value) == (
        f"deployment {theirs} was started in acme/shop/staging after "
        f"{ids['failed']} failed, and a rollback would undo it"
    )
    assert not emulator.posted


def test_humanitec_v2_a_later_plan_only_run_changed_nothing_to_undo(
    emulator: Emulator, orchestrator: Any
) -> None:
    ids = orchestrator_history(emulator)
    emulator.add_humanitec_v2("acme", Timeline([(0, "succeeded")]), mode="plan_only")
    assert orchestrator(ids["failed"]).plan_rollback().to == ids["good"]


def test_humanitec_v2_a_conflict_to_a_keyed_start_may_be_the_rollback_starting(
    emulator: Emulator, orchestrator: Any
) -> None:
    """A 409 to a request sent with an Idempotency-Key usually means that key is still being
    processed: the rollback may have started, never "not started"."""
    ids = orchestrator_history(emulator)
    failed = orchestrator(ids["failed"])
    plan = failed.plan_rollback()
    emulator.inject(
        Fault.http(409, body=b'{"error":"API-409","message":"in flight"}'),
        path_contains="/orgs/acme/deployments",
        method="POST",
    )
    with pytest.raises(ReadError, match="in flight") as unknown:
        failed.roll_back(plan, "")
    assert_outcome_unknown(unknown, "the deployments to acme/shop/staging")


def test_humanitec_v2_a_server_fault_on_start_leaves_the_outcome_unknown_and_a_retry_is_safe(
    emulator: Emulator, orchestrator: Any
) -> None:
    """A 500 to the start says nothing of whether the API acted: the error says so, and
    every request for the same rollback carries one Idempotency-Key, so the API starts it
    once however often it is asked."""
    ids = orchestrator_history(emulator)
    failed = orchestrator(ids["failed"])
    plan = failed.plan_rollback()
    emulator.inject(Fault.http(500), path_contains="/orgs/acme/deployments")
    with pytest.raises(ReadError, match="HTTP 500") as unknown:
        failed.roll_back(plan, "")
    assert_outcome_unknown(unknown, "the deployments to acme/shop/staging")
    first = failed.roll_back(plan, "")
    again = failed.roll_back(plan, "")
    assert again.target["deployment_id"] == first.target["deployment_id"]
    keys = {headers["idempotency-key"] for _, _, headers in emulator.posted}
    assert keys == {f"deploy-gate-rollback-{ids['failed']}"}
    first.close()
    again.close()


# Greengrass v1, on moto.

GROUP_CORE = {
    "Cores": [
        {
            "Id": "core-1",
            "CertificateArn": "arn:aws:iot:eu-west-1:123456789012:cert/abc",
            "ThingArn": "arn:aws:iot:eu-west-1:123456789012:thing/core-1",
            "SyncShadow": False,
        }
    ]
}


def moto_history(gg: Any, *kinds: tuple[str, str]) -> tuple[str, list[str], list[str]]:
    """A group deployed once per ``(status, version)`` pair, a minute apart, oldest first;
    ``version`` names one of two group versions. Returns the group, deployments, versions."""
    from moto.core import DEFAULT_ACCOUNT_ID  # type: ignore[attr-defined]
    from moto.greengrass.models import greengrass_backends

    core = gg.create_core_definition(Name="core", InitialVersion=GROUP_CORE)
    group = gg.create_group(Name="factory-floor")["Id"]
    versions = [
        gg.create_group_version(GroupId=group, CoreDefinitionVersionArn=core["LatestVersionArn"])[
            "Version"
        ]
        for _ in range(2)
    ]
    backend = greengrass_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"]
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    deployments = []
    for minute, (status, version) in enumerate(kinds):
        made = gg.create_deployment(
            GroupId=group,
            GroupVersionId=versions[int(version)],
            DeploymentType="ResetDeployment" if status == "Reset" else "NewDeployment",
        )["DeploymentId"]
        set_moto_status(made, "Success" if status == "Reset" else status)
        backend.deployments[made].created_at_datetime = start + timedelta(minutes=minute)
        deployments.append(made)
    return group, deployments, versions


def sent_client_tokens(client: Any) -> list[str]:
    """The X-Amzn-Client-Token header of each CreateDeployment request, as put on the wire."""
    tokens: list[str] = []
    client.meta.events.register(
        "before-send.greengrass.CreateDeployment",
        lambda request, **_: tokens.append(request.headers["X-Amzn-Client-Token"].decode()),
    )
    return tokens


def recorded_calls(client: Any, operation: str) -> list[dict[str, Any]]:
    """The parameters of each ``operation`` call the client makes, as it sends them."""
    calls: list[dict[str, Any]] = []
    client.meta.events.register(
        f"provide-client-params.{client.meta.service_model.service_name}.{operation}",
        lambda params, **_: calls.append(dict(params)),
    )
    return calls


@mock_aws
@pytest.mark.usefixtures("aws_env")
def test_greengrass_redeploys_the_last_success_and_follows_it_to_its_end(
    clock: VirtualClock,
) -> None:
    gg = boto3.client("greengrass", region_name="eu-west-1")
    group, (old, good, broken, failed), versions = moto_history(
        gg,
        ("Success", "0"),
        ("Success", "0"),
        ("Failure", "1"),
        ("Failure", "1"),
    )
    provider = GreengrassDeployment(gg, group_id=group, deployment_id=failed)
    plan = provider.plan_rollback()
    assert plan.to == good
    assert plan.request == {
        "operation": "CreateDeployment",
        "params": {
            "GroupId": group,
            "DeploymentId": good,
            "DeploymentType": "Redeployment",
            "GroupVersionId": versions[0],
        },
    }
    sent = recorded_calls(gg, "CreateDeployment")
    tokens = sent_client_tokens(gg)
    rollback = provider.roll_back(plan, "unused: Greengrass v1 keeps no comment")
    token = f"deploy-gate-rollback-{failed}"
    assert sent == [{**plan.request["params"], "AmznClientToken": token}]
    assert tokens == [token], "sent as the X-Amzn-Client-Token header"
    new = rollback.target["deployment_id"]
    assert new not in (old, good, broken, failed)
    redeployment = {d["DeploymentId"]: d for d in gg.list_deployments(GroupId=group)["Deployments"]}
    assert redeployment[new]["DeploymentType"] == "Redeployment"
    assert redeployment[new]["GroupArn"].endswith(f"/versions/{versions[0]}")
    assert rollback.fetch().raw_status == "InProgress"
    set_moto_status(new, "Success")
    outcome = wait(rollback, timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert outcome.deployment_type == "Redeployment"


@mock_aws
@pytest.mark.usefixtures("aws_env")
def test_greengrass_first_deployment_has_nothing_to_roll_back_to() -> None:
    gg = boto3.client("greengrass", region_name="eu-west-1")
    group, (failed,), _ = moto_history(gg, ("Failure", "0"))
    with pytest.raises(NotFoundError, match=f"nothing to roll back to.*before {failed}"):
        GreengrassDeployment(gg, group_id=group, deployment_id=failed).plan_rollback()


@mock_aws
@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("newer", ["Success", "Failure", "InProgress"])
def test_greengrass_never_plans_over_a_deployment_started_after_the_failed_one(
    newer: str,
) -> None:
    gg = boto3.client("greengrass", region_name="eu-west-1")
    group, (_, failed, theirs), _ = moto_history(
        gg, ("Success", "0"), ("Failure", "1"), (newer, "1")
    )
    sent = recorded_calls(gg, "CreateDeployment")
    with pytest.raises(RequestRejected) as refused:
        GreengrassDeployment(gg, group_id=group, deployment_id=failed).plan_rollback()
    assert str(refused.value) == (
        f"deployment {theirs} was started in group {group} after {failed} "
        "failed, and a rollback would undo it"
    )
    assert sent == []


@mock_aws
@pytest.mark.usefixtures("aws_env")
def test_greengrass_a_reset_before_the_failure_leaves_nothing_to_roll_back_to() -> None:
    gg = boto3.client("greengrass", region_name="eu-west-1")
    group, (_, _, failed), _ = moto_history(gg, ("Success", "0"), ("Reset", "0"), ("Failure", "1"))
    with pytest.raises(RequestRejected, match="ResetDeployment"):
        GreengrassDeployment(gg, group_id=group, deployment_id=failed).plan_rollback()


@mock_aws
@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize(
    ("code", "status", "unknown"),
    [
        ("BadRequestException", 400, False),
        ("InternalServerErrorException", 500, True),
        ("TooManyRequestsException", 429, False),
        ("ConflictException", 409, True),
    ],
    ids=["refused", "server-fault", "throttled", "conflict"],
)
def test_greengrass_faults_on_start_are_gate_errors(code: str, status: int, unknown: bool) -> None:
    """A refusal is said as one, and so is throttling (not acted on: a Throttled the caller
    sends again); a transient fault, or a conflict to a request with a client token, leaves
    the outcome unknown, and the retry a person makes carries the same client token."""
    gg = boto3.client("greengrass", region_name="eu-west-1")
    group, (_, failed), _ = moto_history(gg, ("Success", "0"), ("Failure", "1"))
    provider = GreengrassDeployment(gg, group_id=group, deployment_id=failed)
    plan = provider.plan_rollback()
    sent = {**plan.request["params"], "AmznClientToken": f"deploy-gate-rollback-{failed}"}
    with Stubber(gg) as stub:
        stub.add_client_error(
            "create_deployment", code, "the group is busy", status, expected_params=sent
        )
        stub.add_response("create_deployment", {"DeploymentId": "d-again"}, sent)
        with pytest.raises(ReadError, match="the group is busy") as said:
            provider.roll_back(plan, "")
        if unknown:
            assert_outcome_unknown(said, f"the deployments of group {group}")
        else:
            assert type(said.value) is (Throttled if status == 429 else RequestRejected)
        assert provider.roll_back(plan, "").target["deployment_id"] == "d-again"
        stub.assert_no_pending_responses()


@mock_aws
@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize(
    "answer", [{}, {"DeploymentId": "d/../again"}], ids=["no-deployment-id", "odd-id"]
)
def test_greengrass_a_start_answered_without_a_usable_id_may_have_started(
    answer: dict[str, str],
) -> None:
    """CreateDeployment succeeded (the group is being redeployed), but its answer names no
    deployment the gate can follow: unknown, never "not started", never sent again."""
    gg = boto3.client("greengrass", region_name="eu-west-1")
    group, (_, failed), _ = moto_history(gg, ("Success", "0"), ("Failure", "1"))
    provider = GreengrassDeployment(gg, group_id=group, deployment_id=failed)
    plan = provider.plan_rollback()
    with Stubber(gg) as stub:
        stub.add_response("create_deployment", answer)
        with pytest.raises(StartUnclear, match="CreateDeployment's answer") as said:
            provider.roll_back(plan, "")
        stub.assert_no_pending_responses()
    assert_outcome_unknown(said, f"the deployments of group {group}")


# Greengrass v2: botocore's Stubber pins each request; the emulator runs it end to end.

ARN = "arn:aws:iot:eu-west-1:123456789012"
THING = f"{ARN}:thing/core-1"
FAILED_ID = "f0000000-1111-2222-3333-444455556666"
GOOD_ID = "900d0000-1111-2222-3333-444455556666"
WHEN = datetime(2026, 11, 1, tzinfo=timezone.utc)
GOOD_SPEC = {
    "deploymentName": "sensor 1.4",
    "components": {
        "com.acme.Sensor": {
            "componentVersion": "1.4.0",
            "configurationUpdate": {"merge": '{"rate": 5}'},
        }
    },
    "deploymentPolicies": {
        "failureHandlingPolicy": "ROLLBACK",
        "componentUpdatePolicy": {"timeoutInSeconds": 60, "action": "NOTIFY_COMPONENTS"},
    },
    "iotJobConfiguration": {"timeoutConfig": {"inProgressTimeoutInMinutes": 30}},
}


def listed(deployment_id: str, minutes: int, status: str) -> dict[str, Any]:
    return {
        "targetArn": THING,
        "revisionId": "1",
        "deploymentId": deployment_id,
        "deploymentName": deployment_id[:4],
        "creationTimestamp": WHEN + timedelta(minutes=minutes),
        "deploymentStatus": status,
        "isLatestForTarget": False,
    }


@dataclass
class StubbedAws:
    """Greengrass v2 and IoT clients, each answering only what its Stubber was given."""

    greengrass: Any
    stub: Stubber
    iot: Any
    iot_stub: Stubber

    def provider(self) -> GreengrassV2Deployment:
        return GreengrassV2Deployment(self.greengrass, self.iot, deployment_id=FAILED_ID)

    def plan(self, history: list[dict[str, Any]], *, latest: bool | None = True) -> None:
        """The failed deployment (``isLatestForTarget`` as ``latest`` says; None: not said),
        then the target's history."""
        failed: dict[str, Any] = {
            "targetArn": THING,
            "deploymentId": FAILED_ID,
            "creationTimestamp": WHEN + timedelta(minutes=30),
        }
        if latest is not None:
            failed["isLatestForTarget"] = latest
        self.stub.add_response("get_deployment", failed, {"deploymentId": FAILED_ID})
        self.stub.add_response(
            "list_deployments",
            {"deployments": history},
            {"targetArn": THING, "historyFilter": "ALL", "maxResults": 50},
        )

    def earlier(self, deployment_id: str, counts: dict[str, int], **spec: Any) -> None:
        """GetDeployment of an earlier deployment, then DescribeJob of its IoT job."""
        job = f"job-{deployment_id[:8]}"
        self.stub.add_response(
            "get_deployment",
            {
                "targetArn": THING,
                "deploymentId": deployment_id,
                "deploymentStatus": "INACTIVE",
                "iotJobId": job,
                **spec,
            },
            {"deploymentId": deployment_id},
        )
        self.iot_stub.add_response(
            "describe_job", {"job": {"jobId": job, "jobProcessDetails": counts}}, {"jobId": job}
        )


@pytest.fixture
def stubbed() -> Iterator[StubbedAws]:
    greengrass = boto3.client("greengrassv2", region_name="eu-west-1")
    iot = boto3.client("iot", region_name="eu-west-1")
    with Stubber(greengrass) as stub, Stubber(iot) as iot_stub:
        yield StubbedAws(greengrass, stub, iot, iot_stub)
        stub.assert_no_pending_responses()
        iot_stub.assert_no_pending_responses()


WORKED = {"numberOfSucceededThings": 3, "numberOfCanceledThings": 1}
FAILED_EVERYWHERE = {"numberOfSucceededThings": 0, "numberOfFailedThings": 3}
SHOWN_SPEC = {
    **GOOD_SPEC,
    "components": {
        "com.acme.Sensor": {
            "componentVersion": "1.4.0",
            "configurationUpdate": "(not shown: sent as the deployment restored has it)",
        }
    },
}


@pytest.mark.usefixtures("aws_env")
def test_greengrass_v2_redeploys_the_targets_last_deployment_that_worked(
    stubbed: StubbedAws, clock: VirtualClock
) -> None:
    """The newest earlier deployment whose IoT job succeeded on its devices, not the newest
    earlier one: every replaced deployment reads INACTIVE, whatever its devices did. Its
    configuration is sent, never shown in the plan; its tags are copied."""
    bad_id = "bad00000-1111-2222-3333-444455556666"
    stubbed.plan(
        [
            listed(FAILED_ID, 30, "FAILED"),
            listed("b0b00000-1111-2222-3333-444455556666", 20, "FAILED"),
            listed("c0c00000-1111-2222-3333-444455556666", 15, "CANCELED"),
            listed(bad_id, 12, "INACTIVE"),
            listed(GOOD_ID, 10, "INACTIVE"),
            listed("01d00000-1111-2222-3333-444455556666", 5, "INACTIVE"),
        ],
    )
    stubbed.earlier(bad_id, FAILED_EVERYWHERE, **GOOD_SPEC)
    tags = {"team": "sensors"}
    stubbed.earlier(GOOD_ID, WORKED, **GOOD_SPEC, tags=tags)
    provider = stubbed.provider()
    plan = provider.plan_rollback()
    token = f"deploy-gate-rollback-{FAILED_ID}"
    shown = {"targetArn": THING, **SHOWN_SPEC, "tags": tags, "clientToken": token}
    assert (plan.to, plan.request) == (GOOD_ID, {"operation": "CreateDeployment", "params": shown})
    assert "rate" not in json.dumps(plan.as_dict())
    new_id = "eeee0000-1111-2222-3333-444455556666"
    stubbed.stub.add_response(
        "get_deployment",
        {"targetArn": THING, "deploymentId": GOOD_ID, **GOOD_SPEC, "tags": tags},
        {"deploymentId": GOOD_ID},
    )
    sent = {"targetArn": THING, **GOOD_SPEC, "tags": tags, "clientToken": token}
    stubbed.stub.add_response("create_deployment", {"deploymentId": new_id}, sent)
    rollback = provider.roll_back(plan, "")
    stubbed.stub.add_response(
        "get_deployment",
        {
            "targetArn": THING,
            "deploymentId": new_id,
            "deploymentStatus": "ACTIVE",
            "isLatestForTarget": True,
        },
        {"deploymentId": new_id},
    )
    stubbed.stub.add_response(
        "list_effective_deployments",
        {
            "effectiveDeployments": [
                {
                    "deploymentId": new_id,
                    "deploymentName": "sensor 1.4",
                    "targetArn": THING,
                    "coreDeviceExecutionStatus": "SUCCEEDED",
                    "creationTimestamp": WHEN,
                    "modifiedTimestamp": WHEN,
                }
            ]
        },
        {"coreDeviceThingName": "core-1", "maxResults": 100},
    )
    outcome = wait(
        rollback, WaitOptions(timeout=60, interval=5), timing=Timing(clock=clock, sleep=clock.sleep)
    )
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert outcome.target == {"deployment_id": new_id, "target_arn": THING}


@pytest.mark.parametrize(
    ("counts", "worked"),
    [
        ({"numberOfSucceededThings": 2}, True),
        ({"numberOfSucceededThings": 2, "numberOfCanceledThings": 5}, True),
        ({"numberOfSucceededThings": 2, "numberOfRemovedThings": 1}, True),
        ({"numberOfSucceededThings": 2, "numberOfFailedThings": 1}, False),
        ({"numberOfSucceededThings": 2, "numberOfTimedOutThings": 1}, False),
        ({"numberOfSucceededThings": 2, "numberOfRejectedThings": 1}, False),
        ({"numberOfQueuedThings": 2}, False),
        ({}, False),
    ],
    ids=[
        "succeeded",
        "rest-cancelled",
        "one-left",
        "failed",
        "timed-out",
        "rejected",
        "none",
        "no-counts",
    ],
)
def test_greengrass_v2_a_deployment_worked_when_its_job_succeeded_on_its_devices(
    counts: dict[str, int], worked: bool
) -> None:
    assert greengrass_v2_rollback.worked({"jobProcessDetails": counts}) is worked


@pytest.mark.usefixtures("aws_env")
def test_greengrass_v2_nothing_to_roll_back_to_when_no_earlier_deployment_worked(
    stubbed: StubbedAws,
) -> None:
    older = "01d00000-1111-2222-3333-444455556666"
    stubbed.plan(
        [
            listed(FAILED_ID, 30, "FAILED"),
            listed(GOOD_ID, 10, "INACTIVE"),
            listed(older, 5, "FAILED"),
        ]
    )
    stubbed.earlier(GOOD_ID, FAILED_EVERYWHERE, **GOOD_SPEC)
    with pytest.raises(
        NotFoundError,
        match=f"nothing to roll back to: no deployment to {THING} before {FAILED_ID} succeeded",
    ):
        stubbed.provider().plan_rollback()


@pytest.mark.usefixtures("aws_env")
def test_greengrass_v2_a_deployment_whose_job_is_gone_is_not_known_to_have_worked(
    stubbed: StubbedAws,
) -> None:
    older = "01d00000-1111-2222-3333-444455556666"
    stubbed.plan(
        [
            listed(FAILED_ID, 30, "FAILED"),
            listed(older, 5, "INACTIVE"),
            listed(GOOD_ID, 10, "INACTIVE"),
        ]
    )
    stubbed.stub.add_response(
        "get_deployment",
        {"targetArn": THING, "deploymentId": GOOD_ID, "iotJobId": "job-gone", **GOOD_SPEC},
        {"deploymentId": GOOD_ID},
    )
    stubbed.iot_stub.add_client_error(
        "describe_job", "ResourceNotFoundException", "Job job-gone not found", 404
    )
    stubbed.earlier(older, WORKED, **GOOD_SPEC)
    assert stubbed.provider().plan_rollback().to == older


@pytest.mark.usefixtures("aws_env")
def test_greengrass_v2_first_deployment_has_nothing_to_roll_back_to(stubbed: StubbedAws) -> None:
    stubbed.plan([listed(FAILED_ID, 30, "FAILED"), listed(GOOD_ID, 10, "FAILED")])
    with pytest.raises(NotFoundError, match=f"nothing to roll back to.*before {FAILED_ID}"):
        stubbed.provider().plan_rollback()


NEWER_ID = "1a7e0000-1111-2222-3333-444455556666"


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize(
    ("latest", "newer", "named"),
    [
        (False, [listed(NEWER_ID, 40, "ACTIVE")], f"deployment {NEWER_ID}"),
        (False, [], "a newer deployment"),
        (None, [listed(NEWER_ID, 40, "FAILED")], f"deployment {NEWER_ID}"),
    ],
    ids=["superseded", "superseded-unlisted", "newer-in-history"],
)
def test_greengrass_v2_never_plans_over_a_deployment_started_after_the_failed_one(
    stubbed: StubbedAws, latest: bool | None, newer: list[dict[str, Any]], named: str
) -> None:
    """A superseded deployment (the gate reads it as FAILED, SUPERSEDED) or one the history
    shows a later deployment after: re-creating what came before would undo the newer one.
    Nothing else is read, and nothing is created (the Stubber holds no more answers)."""
    stubbed.plan(
        [*newer, listed(FAILED_ID, 30, "FAILED"), listed(GOOD_ID, 10, "INACTIVE")],
        latest=latest,
    )
    with pytest.raises(RequestRejected) as refused:
        stubbed.provider().plan_rollback()
    assert str(refused.value) == (
        f"{named} was started on {THING} after {FAILED_ID} failed, and a rollback would undo it"
    )


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize(
    ("code", "status", "said"),
    [
        ("ValidationException", 400, RequestRejected),
        ("ConflictException", 409, "unknown"),
        ("ThrottlingException", 429, Throttled),
        ("InternalServerException", 500, "unknown"),
    ],
    ids=["refused", "conflict", "throttled", "server-fault"],
)
def test_greengrass_v2_faults_on_start_are_gate_errors(
    stubbed: StubbedAws, code: str, status: int, said: Any
) -> None:
    """A start sent with a client token: a refusal is said as one; throttling was not acted
    on (a Throttled, for the caller to send again); a conflict (the token in progress) or a
    server fault leaves the outcome unknown."""
    plan = RollbackPlan(
        "",
        GOOD_ID,
        {
            "operation": "CreateDeployment",
            "params": {"targetArn": THING, **SHOWN_SPEC, "clientToken": "t-1"},
        },
    )
    stubbed.stub.add_response(
        "get_deployment", {"deploymentId": GOOD_ID, **GOOD_SPEC}, {"deploymentId": GOOD_ID}
    )
    stubbed.stub.add_client_error("create_deployment", code, "not now", status)
    with pytest.raises(ReadError, match="not now") as raised:
        stubbed.provider().roll_back(plan, "")
    if said == "unknown":
        assert_outcome_unknown(raised, f"the deployments to {THING}")
    else:
        assert type(raised.value) is said


@pytest.mark.usefixtures("aws_env")
def test_greengrass_v2_a_deployment_changed_since_the_plan_is_not_sent(stubbed: StubbedAws) -> None:
    plan = RollbackPlan(
        "", GOOD_ID, {"operation": "CreateDeployment", "params": {"targetArn": THING, **SHOWN_SPEC}}
    )
    other = {"com.acme.Sensor": {"componentVersion": "9.9.9"}}
    stubbed.stub.add_response(
        "get_deployment", {"deploymentId": GOOD_ID, "components": other}, {"deploymentId": GOOD_ID}
    )
    with pytest.raises(ReadError, match="no longer those the rollback plan shows"):
        stubbed.provider().roll_back(plan, "")


@pytest.mark.usefixtures("aws_env")
def test_greengrass_v2_a_superseded_deployment_on_the_emulator_is_never_rolled_back(
    virtual_emulator: Emulator, clock: VirtualClock
) -> None:
    """Through the gate's wire: a newer deployment to the group ends the failed one as
    SUPERSEDED, and ``--on-failure rollback`` must not re-create what came before on top."""
    ok = Timeline([(0, "QUEUED"), (1, "IN_PROGRESS"), (60, "SUCCEEDED")])
    line = "line-a"
    virtual_emulator.add_greengrass_v2([Device("core-1", ok)], thing_group=line, started_ago=600)
    failed = virtual_emulator.add_greengrass_v2(
        [Device("core-1", ok)], thing_group=line, started_ago=10
    )
    virtual_emulator.supersede_greengrass_v2(failed, after=4)
    newer = virtual_emulator.add_greengrass_v2([Device("core-1", ok)], thing_group=line)
    made = make_clients(
        ["greengrassv2", "iot"],
        region="eu-west-1",
        profile=None,
        endpoint_url=virtual_emulator.url,
        request_timeout=5,
    )
    provider = GreengrassV2Deployment(
        made.clients["greengrassv2"], made.clients["iot"], deployment_id=failed, close=made.close
    )
    try:
        outcome = wait(
            provider,
            WaitOptions(timeout=60, interval=2),
            timing=Timing(clock=clock, sleep=clock.sleep),
        )
        assert outcome.status is OutcomeStatus.FAILED
        assert [error.code for error in outcome.errors] == ["SUPERSEDED"]
        with pytest.raises(RequestRejected, match=f"deployment {newer} was started"):
            provider.plan_rollback()
    finally:
        provider.close()
    assert not virtual_emulator.posted


@pytest.mark.usefixtures("aws_env")
def test_greengrass_v2_rollback_on_the_emulator_ends_a_failed_fleet_deployment(
    virtual_emulator: Emulator, clock: VirtualClock
) -> None:
    ok = Timeline([(0, "QUEUED"), (1, "IN_PROGRESS"), (4, "SUCCEEDED")])
    broken = Timeline([(0, "QUEUED"), (1, "IN_PROGRESS"), (3, "FAILED")])
    line = "line-a"
    good = virtual_emulator.add_greengrass_v2(
        [Device("core-1", ok), Device("core-2", ok)],
        thing_group=line,
        started_ago=600,
        spec=GOOD_SPEC,
    )
    virtual_emulator.supersede_greengrass_v2(good)
    failed = virtual_emulator.add_greengrass_v2(
        [Device("core-1", broken, reason="component errored"), Device("core-2", ok)],
        thing_group=line,
    )
    made = make_clients(
        ["greengrassv2", "iot"],
        region="eu-west-1",
        profile=None,
        endpoint_url=virtual_emulator.url,
        request_timeout=5,
    )
    provider = GreengrassV2Deployment(
        made.clients["greengrassv2"], made.clients["iot"], deployment_id=failed, close=made.close
    )
    first = wait(
        provider, WaitOptions(timeout=60, interval=2), timing=Timing(clock=clock, sleep=clock.sleep)
    )
    assert first.status is OutcomeStatus.FAILED
    plan = provider.plan_rollback()
    assert plan.to == good
    rollback = provider.roll_back(plan, "")
    ((path, body, _),) = virtual_emulator.posted
    sent = {**plan.request["params"], "components": GOOD_SPEC["components"]}
    assert (path, body) == ("/greengrass/v2/deployments", sent)
    provider.close()
    outcome = wait(
        rollback, WaitOptions(timeout=60, interval=2), timing=Timing(clock=clock, sleep=clock.sleep)
    )
    rollback.close()
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert outcome.progress == "2/2 devices succeeded"


def test_the_emulators_start_endpoints_answer_as_the_contracts_say(
    virtual_emulator: Emulator, emulator: Emulator
) -> None:
    """What a rollback reads and starts, on the emulator, against the vendored contracts."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    previous = virtual_emulator.add_humanitec(
        "acme", "shop", "production", ENDS_OK, started_ago=60, set_id="c" * 40
    )
    base = f"{virtual_emulator.url}{ENV_PATH}/deploys"
    started = httpx.post(base, json={"set_id": "c" * 40, "comment": "back"}, headers=auth)
    assert started.status_code == 201
    contract_validator("DeploymentResponse").validate(started.json())
    assert started.json()["id"] != previous
    busy = httpx.post(base, json={"set_id": "c" * 40}, headers=auth)
    assert busy.status_code == 409
    contract_validator("HumanitecErrorResponse").validate(busy.json())

    good = emulator.add_humanitec_v2("acme", Timeline([(0, "succeeded")]), started_ago=60)
    listing = httpx.get(
        f"{emulator.url}/orgs/acme/deployments",
        params={"project_id": "shop", "env_id": "staging", "per_page": 1},
        headers=auth,
    )
    spec_validator("DeploymentPage").validate(listing.json())
    created = httpx.post(
        f"{emulator.url}/orgs/acme/deployments",
        json={
            "mode": "rollback",
            "rollback_to_deployment_id": good,
            "project_id": "shop",
            "env_id": "staging",
        },
        headers=auth,
    )
    assert created.status_code == 201
    spec_validator("Deployment").validate(created.json())
    refused = httpx.post(
        f"{emulator.url}/orgs/acme/deployments",
        json={"mode": "rollback", "project_id": "shop", "env_id": "staging"},
        headers=auth,
    )
    assert refused.status_code == 400
    spec_validator("Error").validate(refused.json())
