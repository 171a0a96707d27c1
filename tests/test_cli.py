"""The ``gate`` command end to end: a subprocess against loopback servers, as a pipeline runs it."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gate.emulator import Emulator, Fault, Timeline
from gate.waiting.engine import LAST_READ_SECONDS
from tests.builders import FAST, gate_humanitec
from tests.support import (
    HUMANITEC_PRODUCTION,
    TOKEN,
    clean_env,
    on_emulator,
    on_first_read,
    run_gate,
    signal_mid_wait,
)

ERRORS = [
    {
        "scope": "workload",
        "object_id": "api",
        "code": "CLD-001",
        "summary": "Provider error",
        "message": "Incorrect credentials",
    },
    {"scope": "resource", "object_id": "db", "code": "", "summary": "", "message": "timed out"},
]


def greengrass(
    emulator: Emulator, group_id: str, deployment_id: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    return run_gate(
        "wait",
        "greengrass",
        "--group-id",
        group_id,
        "--deployment-id",
        deployment_id,
        *on_emulator(emulator),
        "--output",
        "json",
        *FAST,
        *extra,
        env={"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t-aws-key"},
    )


def deploy(
    emulator: Emulator, *steps: tuple[float, str], errors: Any = (), env: str = "production"
) -> str:
    return emulator.add_humanitec("acme", "shop", env, Timeline(list(steps)), errors=errors)


def json_out(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    return json.loads(lines[0])


def assert_no_token(*results: subprocess.CompletedProcess[str]) -> None:
    for result in results:
        assert TOKEN not in result.stdout
        assert TOKEN not in result.stderr


def test_success_exits_0_and_shows_progress(paced_emulator: Emulator) -> None:
    emulator = paced_emulator
    deploy_id = deploy(emulator, (0, "pending"), (1, "in progress"), (3, "succeeded"))
    result = gate_humanitec(emulator, "--deploy-id", deploy_id)
    assert result.returncode == 0, result.stderr
    assert f"waiting for Humanitec deployment {deploy_id} in acme/shop/production" in result.stderr
    assert "status: in progress -> succeeded" in result.stderr
    assert "deployment succeeded" in result.stderr
    assert result.stdout == ""
    assert_no_token(result)


def test_failure_exits_1_and_prints_every_error_in_the_apis_words(emulator: Emulator) -> None:
    deploy_id = deploy(emulator, (0, "in progress"), (0.3, "failed"), errors=ERRORS)
    result = gate_humanitec(emulator, "--deploy-id", deploy_id)
    assert result.returncode == 1
    assert "[workload api] CLD-001 Provider error: Incorrect credentials" in result.stderr
    assert "[resource db] timed out" in result.stderr
    assert_no_token(result)


def test_json_output_is_one_object_with_the_documented_fields(emulator: Emulator) -> None:
    deploy_id = deploy(emulator, (0, "in progress"), (0.3, "failed"), errors=ERRORS)
    result = gate_humanitec(emulator, "--deploy-id", deploy_id, "--output", "json")
    document = json_out(result)
    assert document["status"] == "failed"
    assert document["raw_status"] == "failed"
    assert document["provider"] == "humanitec"
    assert document["target"] == {
        "org": "acme",
        "app": "shop",
        "env": "production",
        "deploy_id": deploy_id,
    }
    assert [(e["code"], e["message"]) for e in document["errors"]] == [
        ("CLD-001", "Incorrect credentials"),
        ("", "timed out"),
    ]
    assert document["elapsed_seconds"] >= 0
    assert document["polls"] >= 1
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", document["deployment_created_at"]
    )
    assert document["schema_version"] == 1
    assert document["exit_code"] == 1
    assert "gate: waiting for" in result.stderr


def test_latest_follows_the_environments_last_deploy(emulator: Emulator) -> None:
    deploy_id = deploy(emulator, (0, "pending"), (0.3, "succeeded"))
    result = gate_humanitec(emulator, "--latest", "--output", "json")
    assert result.returncode == 0
    assert json_out(result)["target"]["deploy_id"] == deploy_id


def test_org_app_env_fall_back_to_the_environment(emulator: Emulator) -> None:
    deploy_id = deploy(emulator, (0, "succeeded"))
    result = run_gate(
        "wait",
        "humanitec",
        "--deploy-id",
        deploy_id,
        *FAST,
        env={
            "HUMANITEC_TOKEN": TOKEN,
            "HUMANITEC_API_URL": emulator.url,
            "HUMANITEC_ORG": "acme",
            "HUMANITEC_APP": "shop",
            "HUMANITEC_ENV": "production",
        },
    )
    assert result.returncode == 0, result.stderr


def test_deadline_passed_exits_3_with_the_last_status(emulator: Emulator) -> None:
    deploy_id = deploy(emulator, (0, "in progress"))
    result = gate_humanitec(
        emulator, "--deploy-id", deploy_id, "--timeout", "0.5s", "--output", "json"
    )
    assert result.returncode == 3
    document = json_out(result)
    assert document["status"] == "timed_out"
    assert "'in progress'" in document["reason"]


def test_unknown_status_is_warned_and_named_again_at_the_deadline(emulator: Emulator) -> None:
    deploy_id = deploy(emulator, (0, "paused"))
    result = gate_humanitec(
        emulator, "--deploy-id", deploy_id, "--timeout", "0.5s", "--output", "json"
    )
    assert result.returncode == 3
    assert result.stderr.count("warning: humanitec reported status 'paused'") == 1
    assert "'paused'" in json_out(result)["reason"]


def test_bad_token_exits_4_without_showing_any_token(emulator: Emulator) -> None:
    deploy_id = deploy(emulator, (0, "pending"))
    result = gate_humanitec(
        emulator, "--deploy-id", deploy_id, "--output", "json", token="wr0ng-t0ken-0123456789"
    )
    assert result.returncode == 4
    document = json_out(result)
    assert document["status"] == "error"
    assert "HTTP 401" in document["reason"]
    assert "wr0ng-t0ken" not in result.stdout + result.stderr


def test_not_found_after_the_grace_exits_4(emulator: Emulator) -> None:
    deploy(emulator, (0, "pending"))
    result = gate_humanitec(
        emulator, "--deploy-id", "nope", "--not-found-grace", "0.3s", "--output", "json"
    )
    assert result.returncode == 4
    assert "not found" in json_out(result)["reason"]


def test_not_found_then_found_succeeds(emulator: Emulator) -> None:
    deploy(emulator, (0, "pending"))

    def create() -> None:
        emulator.add_humanitec(
            "acme", "shop", "production", Timeline([(0, "succeeded")]), deploy_id="fresh-1"
        )

    later = on_first_read(emulator, "/deploys/fresh-1", create)
    result = gate_humanitec(emulator, "--deploy-id", "fresh-1", "--not-found-grace", "20s")
    later.join()
    assert result.returncode == 0, result.stderr
    reads = [path for path in emulator.requests if path.endswith("/deploys/fresh-1")]
    assert len(reads) >= 2, "the gate read the deployment before it existed, then again"


def test_429_with_retry_after_is_waited_out(emulator: Emulator) -> None:
    deploy_id = deploy(emulator, (0, "succeeded"))
    emulator.inject(Fault.http(429, retry_after="1"))
    result = gate_humanitec(emulator, "--deploy-id", deploy_id)
    assert result.returncode == 0, result.stderr
    assert "HTTP 429" in result.stderr
    assert "retrying in 1.0s" in result.stderr or "retrying in 1.1s" in result.stderr


def test_a_burst_of_5xx_is_retried(emulator: Emulator) -> None:
    deploy_id = deploy(emulator, (0, "succeeded"))
    for status in (500, 502, 503, 504):
        emulator.inject(Fault.http(status))
    result = gate_humanitec(emulator, "--deploy-id", deploy_id)
    assert result.returncode == 0, result.stderr
    assert emulator.pending_faults() == 0
    for status in (500, 502, 503, 504):
        assert f"HTTP {status}" in result.stderr


def test_a_hung_request_is_abandoned_after_the_request_timeout(emulator: Emulator) -> None:
    deploy_id = deploy(emulator, (0, "succeeded"))
    emulator.inject(Fault.hang(30))
    result = gate_humanitec(emulator, "--deploy-id", deploy_id, "--request-timeout", "0.3s")
    assert result.returncode == 0, result.stderr
    assert "no answer within the request timeout" in result.stderr


def test_a_hanging_api_cannot_hold_the_gate_past_its_deadline(emulator: Emulator) -> None:
    deploy_id = deploy(emulator, (0, "in progress"))
    emulator.inject(Fault.hang(60), times=100)
    result = gate_humanitec(
        emulator,
        "--deploy-id",
        deploy_id,
        "--timeout",
        "1s",
        "--request-timeout",
        "0.5s",
        "--output",
        "json",
    )
    document = json_out(result)
    assert result.returncode == 4
    assert document["status"] == "error"
    assert "request timeout" in document["reason"]
    # --timeout, then the last read's second at most; the rest is slack for a busy machine
    assert document["elapsed_seconds"] <= 1 + LAST_READ_SECONDS + 2


def test_a_garbage_body_is_retried(emulator: Emulator) -> None:
    deploy_id = deploy(emulator, (0, "succeeded"))
    emulator.inject(Fault.ok_body(b"<html>502 Bad Gateway</html>"))
    result = gate_humanitec(emulator, "--deploy-id", deploy_id)
    assert result.returncode == 0, result.stderr
    assert "not JSON" in result.stderr


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (["--deploy-id", "d1", "--timeout", "soon"], {}, "--timeout 'soon' is not a duration"),
        (["--deploy-id", "../../orgs/other"], {}, "--deploy-id '../../orgs/other' is not a valid"),
        (["--deploy-id", "d1"], {"HUMANITEC_TOKEN": ""}, "HUMANITEC_TOKEN is not set"),
        ([], {}, "one of the arguments --deploy-id --latest --run is required"),
        (["--deploy-id", "d1", "--latest"], {}, "not allowed with argument"),
        (["--deploy-id", "d1", "--interval", "30s"], {}, "unless --max-interval is set"),
        (["--deploy-id", "d1", "--output", "yaml"], {}, "invalid choice"),
        (["--deploy-id", "d1", "--api-url", "ftp://x"], {}, "not an http(s) URL"),
    ],
    ids=[
        "duration",
        "path-traversal",
        "no-token",
        "no-target",
        "both-targets",
        "interval-over-max",
        "output",
        "api-url",
    ],
)
def test_usage_errors_exit_2_with_one_line(
    emulator: Emulator, args: list[str], env: dict[str, str], words: str
) -> None:
    variables = {"HUMANITEC_TOKEN": TOKEN, "HUMANITEC_API_URL": emulator.url, **env}
    result = run_gate(
        "wait", "humanitec", "--org", "acme", "--app", "shop", "--env", "prod", *args, env=variables
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert words in result.stderr
    assert emulator.requests == []


def test_missing_org_is_a_usage_error() -> None:
    result = run_gate("wait", "humanitec", "--latest", env={"HUMANITEC_TOKEN": TOKEN})
    assert result.returncode == 2
    assert "--org is required (or set HUMANITEC_ORG)" in result.stderr


def test_unknown_provider_is_a_usage_error() -> None:
    result = run_gate("wait", "kubernetes", "--id", "x")
    assert result.returncode == 2
    assert "unknown provider 'kubernetes'" in result.stderr
    assert "greengrass, greengrass-v2, humanitec" in result.stderr


def test_help_lists_providers_and_version_prints() -> None:
    assert "humanitec" in run_gate("wait", "--help").stdout
    assert run_gate("--version").stdout.startswith("gate ")
    assert "--not-found-grace" in run_gate("wait", "greengrass", "--help").stdout


def test_the_console_script_works_like_python_m_gate(emulator: Emulator) -> None:
    script = shutil.which("gate", path=str(Path(sys.executable).parent))
    assert script, "the gate console script is installed beside the interpreter"
    deploy_id = deploy(emulator, (0, "succeeded"))
    env = {**clean_env(), "HUMANITEC_TOKEN": TOKEN, "HUMANITEC_API_URL": emulator.url}
    result = subprocess.run(
        [
            script,
            "wait",
            *HUMANITEC_PRODUCTION,
            "--deploy-id",
            deploy_id,
            "--output",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert json_out(result)["status"] == "succeeded"


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)],
    ids=["sigint", "sigterm", "sighup"],
)
def test_a_signal_ends_the_wait_promptly_with_the_last_status(
    emulator: Emulator, signum: int, code: int
) -> None:
    deploy_id = deploy(emulator, (0, "in progress"))
    code_seen, outcome, stderr = signal_mid_wait(
        [
            *HUMANITEC_PRODUCTION,
            "--deploy-id",
            deploy_id,
        ],
        {"HUMANITEC_TOKEN": TOKEN, "HUMANITEC_API_URL": emulator.url},
        signum,
    )
    assert code_seen == code
    assert outcome["status"] == "cancelled"
    assert outcome["raw_status"] == "in progress"
    assert "cancelled" in stderr


def test_greengrass_end_to_end_on_the_emulator(emulator: Emulator) -> None:
    group_id, deployment_id = emulator.add_greengrass(
        Timeline([(0, "Building"), (0.2, "InProgress"), (0.5, "Failure")]),
        error_message="Deployment failed",
        error_details=[{"DetailedErrorCode": "GG-1", "DetailedErrorMessage": "lambda crashed"}],
    )
    result = greengrass(emulator, group_id, deployment_id)
    assert result.returncode == 1, result.stderr
    document = json_out(result)
    assert document["raw_status"] == "Failure"
    assert {(e["code"], e["message"]) for e in document["errors"]} == {
        ("", "Deployment failed"),
        ("GG-1", "lambda crashed"),
    }
    assert "s3cr3t-aws-key" not in result.stdout + result.stderr


def test_greengrass_reads_aws_endpoint_url_and_region_from_the_environment(
    emulator: Emulator,
) -> None:
    group_id, deployment_id = emulator.add_greengrass(Timeline([(0, "Success")]))
    result = run_gate(
        "wait",
        "greengrass",
        "--group-id",
        group_id,
        "--deployment-id",
        deployment_id,
        *FAST,
        env={
            "AWS_ACCESS_KEY_ID": "a",
            "AWS_SECRET_ACCESS_KEY": "b",
            "AWS_REGION": "eu-west-1",
            "AWS_ENDPOINT_URL": emulator.url,
        },
    )
    assert result.returncode == 0, result.stderr


def test_greengrass_without_credentials_exits_2(emulator: Emulator) -> None:
    result = run_gate(
        "wait",
        "greengrass",
        "--group-id",
        "g1",
        "--deployment-id",
        "d1",
        *on_emulator(emulator),
    )
    assert result.returncode == 2
    assert "no usable AWS credentials" in result.stderr


def test_greengrass_auth_refusal_exits_4_naming_the_source(emulator: Emulator) -> None:
    emulator.inject(
        Fault.aws(
            "UnrecognizedClientException",
            status=403,
            message="The security token included in the request is invalid.",
        )
    )
    result = run_gate(
        "wait",
        "greengrass",
        "--group-id",
        "g1",
        "--deployment-id",
        "d1",
        *on_emulator(emulator),
        "--output",
        "json",
        env={"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t-aws-key"},
    )
    assert result.returncode == 4
    reason = json_out(result)["reason"]
    assert "came from: env" in reason
    assert "s3cr3t-aws-key" not in result.stdout + result.stderr


def test_greengrass_against_moto_server(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    from tests.support import moto_greengrass_deployment, moto_statuses_by_read

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        gg = boto3.client("greengrass", region_name="eu-west-1", endpoint_url=url)
        group_id, deployment_id = moto_greengrass_deployment(gg)
        moto_statuses_by_read(monkeypatch, ["InProgress", "InProgress", "Success"])
        result = run_gate(
            "wait",
            "greengrass",
            "--group-id",
            group_id,
            "--deployment-id",
            deployment_id,
            "--region",
            "eu-west-1",
            "--endpoint-url",
            url,
            *FAST,
            env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    assert "InProgress -> Success" in result.stderr


def test_under_github_actions_the_gate_speaks_workflow_commands_by_default(
    emulator: Emulator, tmp_path: Path
) -> None:
    from tests.actions_runner import parse_commands, parse_output_file

    deploy_id = deploy(emulator, (0, "failed"), errors=ERRORS)
    outputs, summary = tmp_path / "out", tmp_path / "summary.md"
    result = gate_humanitec(emulator, "--deploy-id", deploy_id)
    assert not [c for c in parse_commands(result.stdout + result.stderr) if c.name == "error"]
    result = run_gate(
        "wait",
        *HUMANITEC_PRODUCTION,
        "--deploy-id",
        deploy_id,
        *FAST,
        env={
            "HUMANITEC_TOKEN": TOKEN,
            "HUMANITEC_API_URL": emulator.url,
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(outputs),
            "GITHUB_STEP_SUMMARY": str(summary),
        },
    )
    assert result.returncode == 1
    assert len([c for c in parse_commands(result.stdout) if c.name == "error"]) == 2
    assert parse_output_file(outputs.read_text())["status"] == "failed"
    assert "CLD-001" in summary.read_text()


def test_junit_and_json_reports_are_written_in_every_outcome(
    emulator: Emulator, tmp_path: Path
) -> None:
    import xml.etree.ElementTree as ET

    deploy_id = deploy(emulator, (0, "in progress"))
    junit, report = tmp_path / "junit.xml", tmp_path / "outcome.json"
    result = gate_humanitec(
        emulator,
        "--deploy-id",
        deploy_id,
        "--timeout",
        "0.3s",
        "--junit",
        str(junit),
        "--json-report",
        str(report),
    )
    assert result.returncode == 3
    assert json.loads(report.read_text())["status"] == "timed_out"
    assert ET.parse(junit).getroot().find("./testsuite/testcase/error") is not None
    assert TOKEN not in junit.read_text() + report.read_text()


def test_greengrass_names_the_deployment_type_and_gives_updated_at_as_iso(
    emulator: Emulator,
) -> None:
    group_id, deployment_id = emulator.add_greengrass(
        Timeline([(0, "InProgress"), (0.2, "Success")]), deployment_type="ResetDeployment"
    )
    result = greengrass(emulator, group_id, deployment_id)
    assert result.returncode == 0, result.stderr
    document = json_out(result)
    assert document["deployment_type"] == "ResetDeployment"
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", document["deployment_changed_at"]
    )
    assert "deployment succeeded (ResetDeployment)" in result.stderr
