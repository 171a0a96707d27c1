"""A check's answer is text from outside, and no secret comes back through it: each kind of
check answering with the gate's credentials (a probe its own query and password too), through
the real command, with every report, a trace and a rollback that writes the reason into
Humanitec."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest

from gate.emulator import Emulator, Timeline
from gate.emulator.health import HealthEndpoint
from tests.parts.monitoring_api import matrix, monitoring_api, vector
from tests.parts.moto_alarms import alarm_history_served
from tests.parts.otlp_receiver import OtlpReceiver
from tests.support import TOKEN, run_gate

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
PROBE_TOKEN = "pr0be-qu3ry-t0ken-77"
PROBE_PASSWORD = "pr0be-pa55w0rd-1234"
GOOD_SET = "5e7b0c2f91d4"
AWS_IN_ENV = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": AWS_SECRET}


def baked_and_rolled_back(
    emulator: Emulator,
    checks: list[str],
    tmp_path: Path,
    receiver: OtlpReceiver,
    aws: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """A deployment that succeeds and fails its bake on ``checks``, rolled back; what the
    gate said, wrote and sent. ``aws``: where the AWS credentials are (the environment's
    variables unless said)."""
    emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        Timeline([(0, "succeeded")]),
        started_ago=3600,
        set_id=GOOD_SET,
    )
    deploy_id = emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (1, "succeeded")])
    )
    junit, report = tmp_path / "junit.xml", tmp_path / "outcome.json"
    result = run_gate(
        "wait", "humanitec", "--org", "acme", "--app", "shop", "--env", "production",
        "--deploy-id", deploy_id, "--interval", "0.05s", "--max-interval", "0.2s",
        "--output", "json", "--bake", "5m", "--bake-interval", "0.2s", *checks,
        "--on-failure", "rollback", "--junit", str(junit), "--json-report", str(report),
        "--otel-endpoint", receiver.url,
        env={
            "HUMANITEC_API_URL": emulator.url,
            "HUMANITEC_TOKEN": TOKEN,
            "AWS_REGION": "eu-west-1",
            **(AWS_IN_ENV if aws is None else aws),
        },
    )  # fmt: skip
    comments = [str(body["comment"]) for _, body, _ in emulator.posted if isinstance(body, dict)]
    said = [
        result.stdout,
        result.stderr,
        junit.read_text(),
        report.read_text(),
        *comments,
        *receiver.every_text(),
    ]
    return result, said


def assert_said_without(
    result: subprocess.CompletedProcess[str], said: list[str], *secrets: str
) -> dict[str, Any]:
    assert result.returncode == 1, result.stderr
    outcome: dict[str, Any] = json.loads(result.stdout)
    assert outcome["rollback"]["outcome"]["status"] == "succeeded", "the comment was written"
    for secret in secrets:
        assert [text for text in said if secret in text] == [], secret
    return outcome


@pytest.mark.parametrize("status", [500, 401, 404])
def test_no_secret_comes_back_through_a_probes_answer(
    paced_emulator: Emulator, tmp_path: Path, status: int
) -> None:
    body = f"Cannot GET {{target}} with token {TOKEN} and key {AWS_SECRET}"
    with HealthEndpoint([status], body=body) as health, OtlpReceiver() as receiver:
        url = health.url.replace("//", f"//ops:{PROBE_PASSWORD}@") + f"?token={PROBE_TOKEN}"
        checks = ["--probe", url, "--probe-failures", "1"]
        result, said = baked_and_rolled_back(paced_emulator, checks, tmp_path, receiver)
    outcome = assert_said_without(result, said, TOKEN, AWS_SECRET, PROBE_TOKEN, PROBE_PASSWORD)
    assert "Cannot GET ***" in outcome["reason"], "the body is still said, without the secrets"


ECHOED = f"echoing {TOKEN} and {AWS_SECRET}"


def test_no_secret_comes_back_through_a_prometheus_series(
    paced_emulator: Emulator, tmp_path: Path
) -> None:
    series = {"metric": {"__name__": "errors", "why": ECHOED}, "values": [[1767268801, "1"]]}
    scripts = {"/api/v1/query": [vector()], "/api/v1/query_range": [matrix(series)]}
    with monitoring_api(scripts) as prometheus, OtlpReceiver() as receiver:
        checks = ["--prometheus", prometheus.url, "--query", "errors > 0"]
        result, said = baked_and_rolled_back(paced_emulator, checks, tmp_path, receiver)
    outcome = assert_said_without(result, said, TOKEN, AWS_SECRET)
    assert 'why="echoing *** and ***"' in outcome["reason"]


def test_no_secret_comes_back_through_an_alertmanager_alert(
    paced_emulator: Emulator, tmp_path: Path
) -> None:
    alert = {
        "labels": {"alertname": "CheckoutErrors", "service": "checkout"},
        "annotations": {"summary": ECHOED},
        "startsAt": "2026-01-01T12:00:00Z",
        "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
    }
    status = {"versionInfo": {"version": "0.25.0"}}
    scripts = {"/api/v2/status": [(200, status)], "/api/v2/alerts": [(200, [alert])]}
    with monitoring_api(scripts) as alertmanager, OtlpReceiver() as receiver:
        checks = ["--alertmanager", alertmanager.url, "--alert-filter", 'service="checkout"']
        result, said = baked_and_rolled_back(paced_emulator, checks, tmp_path, receiver)
    outcome = assert_said_without(result, said, TOKEN, AWS_SECRET)
    assert "echoing *** and ***" in outcome["reason"]


@pytest.mark.parametrize("credentials", ["environment", "shared-file"])
def test_no_secret_comes_back_through_a_cloudwatch_alarms_reason(
    paced_emulator: Emulator, tmp_path: Path, moto_server: str, credentials: str
) -> None:
    """The AWS chain's keys are secrets wherever they came from: a shared credentials file's
    too, which no variable names."""
    aws = None
    if credentials == "shared-file":
        shared = tmp_path / "credentials"
        shared.write_text(
            f"[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
            f"aws_secret_access_key = {AWS_SECRET}\n"
        )
        aws = {"AWS_SHARED_CREDENTIALS_FILE": str(shared)}
    cloudwatch = boto3.client(
        "cloudwatch",
        endpoint_url=moto_server,
        region_name="eu-west-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key=AWS_SECRET,
    )
    cloudwatch.put_metric_alarm(
        AlarmName="checkout-5xx",
        MetricName="checkout-5xx",
        Namespace="Shop",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName="checkout-5xx", StateValue="ALARM", StateReason=ECHOED)
    with alarm_history_served(), OtlpReceiver() as receiver:
        checks = ["--alarm", "checkout-5xx", "--alarm-endpoint-url", moto_server]
        result, said = baked_and_rolled_back(paced_emulator, checks, tmp_path, receiver, aws)
    outcome = assert_said_without(result, said, TOKEN, AWS_SECRET)
    assert "echoing *** and ***" in outcome["reason"]


def test_a_remembered_secret_is_cut_from_text_from_outside_in_the_forms_it_is_echoed() -> None:
    from urllib.parse import quote

    from gate.core.secret import remember
    from gate.core.text import from_api

    key = "k3y/with+slashes-and-pluses/0123"
    remember(key)
    assert from_api(f"as sent {key}!") == "as sent ***!"
    assert from_api(f"percent-encoded {quote(key, safe='')}") == "percent-encoded ***"
    escaped = key.replace("/", "\\/")  # as PHP's json_encode writes it
    assert from_api(f'{{"json": "{escaped}"}}') == '{"json": "***"}'
    remember("abc")  # too short to mean anything: never cut
    assert from_api("abc def") == "abc def"
