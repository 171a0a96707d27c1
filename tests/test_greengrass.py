"""The Greengrass v1 provider against moto (in-process and its loopback server), botocore's
Stubber where moto cannot answer (error details, throttling, auth), and the package's
emulator for faults on the wire."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from gate import WaitOptions, wait
from gate.core.errors import (
    AuthError,
    ConfigError,
    NotFoundError,
    RequestRejected,
    TransientError,
    UsageError,
)
from gate.core.model import OutcomeStatus, State
from gate.emulator import Emulator, Fault, Timeline
from gate.providers.aws.clients import make_clients
from gate.providers.greengrass.v1.judge import STATUSES
from gate.providers.greengrass.v1.reader import GreengrassDeployment
from gate.waiting.engine import Timing
from tests.support import VirtualClock, moto_greengrass_deployment, set_moto_status

pytestmark = pytest.mark.usefixtures("aws_env")

GROUP = "4a1c2b3d-1111-2222-3333-444455556666"
DEPLOYMENT = "9d8e7f6a-aaaa-bbbb-cccc-ddddeeeeffff"


_MADE: list[Any] = []


@pytest.fixture(autouse=True)
def _close_made_clients() -> Iterator[None]:
    yield
    while _MADE:
        _MADE.pop().close()


def client(endpoint_url: str | None = None, request_timeout: float = 5.0) -> Any:
    """A client as the command makes it: its requests go over the gate's bounded wire."""
    made = make_clients(
        ["greengrass"],
        region="eu-west-1",
        profile=None,
        endpoint_url=endpoint_url,
        request_timeout=request_timeout,
    )
    _MADE.append(made)
    return made.clients["greengrass"]


def in_process_client() -> Any:
    """A plain boto3 client, which moto's in-process mock answers before anything is sent."""
    return boto3.client("greengrass", region_name="eu-west-1")


def test_every_status_the_service_model_documents_is_mapped() -> None:
    model = client().meta.service_model.operation_model("GetDeploymentStatus")
    documentation = model.output_shape.members["DeploymentStatus"].documentation
    documented = set(re.findall(r"''(\w+)''", documentation))
    assert documented == {"InProgress", "Building", "Success", "Failure"}
    assert set(STATUSES) == documented
    assert STATUSES["Success"] is State.SUCCEEDED
    assert STATUSES["Failure"] is State.FAILED


@mock_aws
def test_moto_deployment_is_followed_to_success(clock: VirtualClock) -> None:
    gg = in_process_client()
    group_id, deployment_id = moto_greengrass_deployment(gg)
    provider = GreengrassDeployment(gg, group_id=group_id, deployment_id=deployment_id)
    assert provider.fetch().raw_status == "InProgress"

    def sleep_then_finish(seconds: float) -> None:
        clock.sleep(seconds)
        if clock() - 1000 > 45:
            set_moto_status(deployment_id, "Success")

    outcome = wait(provider, timing=Timing(clock=clock, sleep=sleep_then_finish))
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert outcome.raw_status == "Success"
    assert outcome.target == {"group_id": group_id, "deployment_id": deployment_id}


@mock_aws
def test_moto_failure_is_failed(clock: VirtualClock) -> None:
    gg = in_process_client()
    group_id, deployment_id = moto_greengrass_deployment(gg)
    set_moto_status(deployment_id, "Failure")
    outcome = wait(
        GreengrassDeployment(gg, group_id=group_id, deployment_id=deployment_id),
        timing=Timing(clock=clock, sleep=clock.sleep),
    )
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.exit_code == 1


@mock_aws
def test_moto_unknown_deployment_is_not_found() -> None:
    gg = in_process_client()
    group_id, _ = moto_greengrass_deployment(gg)
    with pytest.raises(NotFoundError, match="does not exist"):
        GreengrassDeployment(gg, group_id=group_id, deployment_id="0000-missing").fetch()


@mock_aws
def test_moto_not_found_then_found_within_the_grace(clock: VirtualClock) -> None:
    gg = in_process_client()
    group_id, deployment_id = moto_greengrass_deployment(gg)
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.greengrass.models import greengrass_backends

    deployments = greengrass_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].deployments
    hidden = deployments.pop(deployment_id)

    def sleep_then_appear(seconds: float) -> None:
        clock.sleep(seconds)
        if clock() - 1000 > 10:
            hidden.deployment_status = "Success"
            deployments[deployment_id] = hidden

    outcome = wait(
        GreengrassDeployment(gg, group_id=group_id, deployment_id=deployment_id),
        WaitOptions(not_found_grace=30),
        timing=Timing(clock=clock, sleep=sleep_then_appear),
    )
    assert outcome.succeeded


def test_moto_server_over_loopback(moto_server: str, clock: VirtualClock) -> None:
    gg = client(endpoint_url=moto_server)
    group_id, deployment_id = moto_greengrass_deployment(gg)
    provider = GreengrassDeployment(gg, group_id=group_id, deployment_id=deployment_id)

    def sleep_then_fail(seconds: float) -> None:
        clock.sleep(seconds)
        if clock() - 1000 > 20:
            set_moto_status(deployment_id, "Failure")

    outcome = wait(provider, timing=Timing(clock=clock, sleep=sleep_then_fail))
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.raw_status == "Failure"


def stubbed(*responses: dict[str, Any]) -> tuple[GreengrassDeployment, Stubber]:
    gg = client()
    stubber = Stubber(gg)
    params = {"GroupId": GROUP, "DeploymentId": DEPLOYMENT}
    for response in responses:
        if "error" in response:
            stubber.add_client_error(
                "get_deployment_status", expected_params=params, **response["error"]
            )
        else:
            stubber.add_response("get_deployment_status", response, params)
    stubber.activate()
    return GreengrassDeployment(
        gg, group_id=GROUP, deployment_id=DEPLOYMENT, credential_source=lambda: "env"
    ), stubber


def test_failure_reports_error_message_and_every_error_detail(clock: VirtualClock) -> None:
    provider, stubber = stubbed(
        {"DeploymentStatus": "Building"},
        {"DeploymentStatus": "InProgress"},
        {
            "DeploymentStatus": "Failure",
            "ErrorMessage": "Deployment failed on core-1",
            "ErrorDetails": [
                {"DetailedErrorCode": "GG-303", "DetailedErrorMessage": "You need a core"},
                {"DetailedErrorCode": "GG-500", "DetailedErrorMessage": "Lambda crashed"},
            ],
            "UpdatedAt": "2026-11-23T10:00:00.000Z",
        },
    )
    outcome = wait(provider, timing=Timing(clock=clock, sleep=clock.sleep))
    stubber.assert_no_pending_responses()
    assert outcome.status is OutcomeStatus.FAILED
    assert [(e.code, e.message) for e in outcome.errors] == [
        ("", "Deployment failed on core-1"),
        ("GG-303", "You need a core"),
        ("GG-500", "Lambda crashed"),
    ]
    assert outcome.deployment_changed_at == "2026-11-23T10:00:00.000Z"


@pytest.mark.parametrize(
    "code",
    ["ThrottlingException", "TooManyRequestsException", "InternalServerErrorException"],
)
def test_throttling_and_server_faults_are_retried(code: str, clock: VirtualClock) -> None:
    status = 500 if code.startswith("Internal") else 400
    provider, _ = stubbed(
        {"error": {"service_error_code": code, "http_status_code": status}},
        {"error": {"service_error_code": code, "http_status_code": status}},
        {"DeploymentStatus": "Success"},
    )
    with pytest.raises(TransientError, match=code):
        provider.fetch()
    outcome = wait(provider, timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.succeeded
    assert outcome.polls == 1


def test_auth_errors_name_the_credential_source_not_the_credentials() -> None:
    provider, _ = stubbed(
        {
            "error": {
                "service_error_code": "UnrecognizedClientException",
                "service_message": "The security token included in the request is invalid.",
                "http_status_code": 403,
            }
        }
    )
    with pytest.raises(AuthError) as raised:
        provider.fetch()
    assert "came from: env" in str(raised.value)
    assert "testing" not in str(raised.value)


def test_other_bad_requests_are_rejected_at_once() -> None:
    provider, _ = stubbed(
        {
            "error": {
                "service_error_code": "BadRequestException",
                "service_message": "Invalid deployment type",
                "http_status_code": 400,
            }
        }
    )
    with pytest.raises(RequestRejected, match="Invalid deployment type"):
        provider.fetch()


def test_missing_credentials_are_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(ConfigError, match="no usable AWS credentials"):
        make_clients(
            ["greengrass"], region="eu-west-1", profile=None, endpoint_url=None, request_timeout=1
        )


def test_a_missing_region_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    with pytest.raises(ConfigError, match="region"):
        make_clients(
            ["greengrass"], region=None, profile=None, endpoint_url=None, request_timeout=1
        )


def test_an_unknown_profile_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="profile 'nope'"):
        make_clients(
            ["greengrass"], region="eu-west-1", profile="nope", endpoint_url=None, request_timeout=1
        )


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (Fault.aws("ThrottlingException", status=400), "ThrottlingException"),
        (Fault.http(503, body=b"Service Unavailable"), "503"),
        (Fault.ok_body(b"<html>proxy error</html>"), "could not be read|DeploymentStatus"),
        (Fault.ok_body(b'{"DeploymentType": "NewDeployment"}'), "without a DeploymentStatus"),
        (Fault.reset(), "connection|without a DeploymentStatus"),
        (Fault.hang(10), "no answer within the request timeout"),
    ],
    ids=["throttled", "503-html", "html-body", "no-status", "reset-mid-body", "hang"],
)
def test_faults_on_the_wire_are_transient(fault: Fault, words: str) -> None:
    with Emulator() as emulator:
        group_id, deployment_id = emulator.add_greengrass(Timeline([(0, "InProgress")]))
        emulator.inject(fault)
        # only the hang (10 s) should meet the request timeout, however busy the machine
        request_timeout = 2 if fault.kind == "hang" else 30
        provider = GreengrassDeployment(
            client(emulator.url, request_timeout=request_timeout),
            group_id=group_id,
            deployment_id=deployment_id,
        )
        with pytest.raises(TransientError, match=words):
            provider.fetch()
        assert provider.fetch().raw_status == "InProgress"


def test_emulator_not_found_matches_aws_words() -> None:
    with Emulator() as emulator:
        provider = GreengrassDeployment(
            client(emulator.url), group_id=GROUP, deployment_id=DEPLOYMENT
        )
        with pytest.raises(NotFoundError, match="BadRequestException"):
            provider.fetch()


@pytest.mark.parametrize("bad", ["../status", "a/b", "..", "x?y"])
def test_ids_cannot_change_the_request_path(bad: str) -> None:
    with pytest.raises(UsageError):
        GreengrassDeployment(client(), group_id=bad, deployment_id=DEPLOYMENT)
    with pytest.raises(UsageError):
        GreengrassDeployment(client(), group_id=GROUP, deployment_id=bad)


def test_no_client_is_built_at_import_time() -> None:
    import subprocess
    import sys

    code = (
        "import sys, gate, gate.cli.command, gate.providers.greengrass.v1.reader;"
        "assert 'boto3' not in sys.modules, 'boto3 imported';"
        "import gate.providers.humanitec.v1.reader;"
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_botocore_own_retries_are_off() -> None:
    assert client().meta.config.retries["total_max_attempts"] == 1
    assert boto3  # the client came from a boto3 session


# --- history: how long the group's earlier deployments took ---------------------------------


def moto_group_history(gg: Any, runs: list[tuple[str, float | None, str]]) -> tuple[str, str]:
    """A group whose deployments, oldest first, each ``(status, minutes it took or None,
    type)``, began an hour apart, then one more deployment still in progress: the one
    waited on. Returns (group_id, that deployment's id)."""
    from datetime import datetime, timedelta, timezone

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.greengrass.models import greengrass_backends

    group_id, first = moto_greengrass_deployment(gg)
    version = gg.get_group(GroupId=group_id)["LatestVersion"]
    backend = greengrass_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"]
    start = datetime.now(timezone.utc) - timedelta(hours=len(runs) + 1)
    made = [first]
    for _ in runs:
        made.append(
            gg.create_deployment(
                GroupId=group_id, GroupVersionId=version, DeploymentType="NewDeployment"
            )["DeploymentId"]
        )
    for hour, ((status, minutes, kind), deployment_id) in enumerate(zip(runs, made, strict=False)):
        deployment = backend.deployments[deployment_id]
        deployment.created_at_datetime = start + timedelta(hours=hour)
        deployment.deployment_type = kind
        deployment.deployment_status = status
        if minutes is not None:
            deployment.update_at_datetime = deployment.created_at_datetime + timedelta(
                minutes=minutes
            )
    return group_id, made[-1]


@mock_aws
def test_history_is_the_groups_earlier_deployments_that_ended_newest_first() -> None:
    gg = in_process_client()
    group_id, current = moto_group_history(
        gg,
        [
            ("Success", 10, "NewDeployment"),
            ("Failure", 3, "NewDeployment"),
            ("Success", 7, "ResetDeployment"),  # a reset deploys nothing: left out
            ("Success", 12, "Redeployment"),
            ("InProgress", None, "NewDeployment"),  # never ended: no duration
        ],
    )
    provider = GreengrassDeployment(gg, group_id=group_id, deployment_id=current)
    assert [round(d) for d in provider.past_durations()] == [720, 180, 600]


@mock_aws
def test_with_the_groups_history_the_wait_reads_sparsely_until_its_deployments_end(
    clock: VirtualClock,
) -> None:
    """Ten-minute deployments before: the first gaps stretch to a minute, and the reads
    crowd around ten minutes; without history (a new group) they do not."""
    gg = in_process_client()
    group_id, current = moto_group_history(gg, [("Success", 10, "NewDeployment")] * 5)
    provider = GreengrassDeployment(gg, group_id=group_id, deployment_id=current)

    def sleep_then_finish(seconds: float) -> None:
        clock.sleep(seconds)
        if clock() - 1000 >= 620:
            set_moto_status(current, "Success")

    outcome = wait(provider, timing=Timing(clock=clock, sleep=sleep_then_finish))
    assert outcome.succeeded
    assert clock.sleeps[0] == 60
    assert outcome.polls < 0.3 * 620 / 2
    assert clock() - 1000 - 620 < 5


def test_the_command_says_the_history_it_read_and_when_it_reads_next(
    moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``gate wait greengrass``: one line says how many earlier deployments the group had,
    their median and p90, and when the next read is; the deployment ends on the read after."""
    from moto.greengrass.models import FakeDeploymentStatus, GreengrassBackend

    from tests.support import run_gate

    gg = client(endpoint_url=moto_server)
    group_id, current = moto_group_history(
        gg, [("Success", minutes, "NewDeployment") for minutes in (9, 10, 11, 10, 20)]
    )
    reads: list[str] = []
    original = GreengrassBackend.get_deployment_status

    def the_second_read_succeeds(
        backend: Any, group_id: str, deployment_id: str
    ) -> FakeDeploymentStatus:
        found = original(backend, group_id, deployment_id)
        if deployment_id != current:
            return found
        reads.append(deployment_id)
        status = "InProgress" if len(reads) == 1 else "Success"
        return FakeDeploymentStatus(found.deployment_type, found.update_at_datetime, status)

    monkeypatch.setattr(GreengrassBackend, "get_deployment_status", the_second_read_succeeds)
    result = run_gate(
        "wait",
        "greengrass",
        "--group-id",
        group_id,
        "--deployment-id",
        current,
        "--region",
        "eu-west-1",
        "--endpoint-url",
        moto_server,
        "--interval",
        "0.1s",
        "--max-interval",
        "0.2s",
        "--timeout",
        "20s",
        env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if "schedule:" in line]
    assert len(said) == 1, result.stderr
    assert said[0].endswith(
        "schedule: history of 5 earlier deployments (median 10m00s, p90 20m00s); next read in 0.2s"
    ), said
