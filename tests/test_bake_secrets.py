"""A check's answer is text from outside, and no secret comes back through it: each kind of
check answering with the gate's credentials (a probe its own query and password too), through
the real command, with every report, a trace and a rollback that writes the reason into
Humanitec."""

from __future__ import annotations

import base64
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
PROBE_SIGNATURE = "q7x9k2"
"""Too short to cut from every text, but a credential: never comes back through its probe."""
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
    assert [secret for secret in secrets if any(secret in text for text in said)] == []
    return outcome


@pytest.mark.parametrize("status", [500, 401, 404])
def test_no_secret_comes_back_through_a_probes_answer(
    paced_emulator: Emulator, tmp_path: Path, status: int
) -> None:
    """Its query, password and the basic-auth header they are sent in too, a short
    credential value as well, echoed as a framework's error page or a debugging 401 does."""
    body = (
        f"Authorization: {{authorization}} refused; sig {PROBE_SIGNATURE}; "
        f"Cannot GET {{target}} with token {TOKEN} and key {AWS_SECRET}"
    )
    with HealthEndpoint([status], body=body) as health, OtlpReceiver() as receiver:
        url = health.url.replace("//", f"//ops:{PROBE_PASSWORD}@")
        url += f"?token={PROBE_TOKEN}&sig={PROBE_SIGNATURE}"
        checks = ["--probe", url, "--probe-failures", "1"]
        result, said = baked_and_rolled_back(paced_emulator, checks, tmp_path, receiver)
    basic = base64.b64encode(f"ops:{PROBE_PASSWORD}".encode()).decode()
    secrets = (TOKEN, AWS_SECRET, PROBE_TOKEN, PROBE_PASSWORD, PROBE_SIGNATURE, basic)
    outcome = assert_said_without(result, said, *secrets)
    assert "Cannot GET ***" in outcome["reason"], "the body is still said, without the secrets"
    assert "sig ***" in outcome["reason"]
    assert "Authorization: ***" in outcome["reason"]


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


def test_a_probes_short_or_ordinary_query_values_are_not_cut_from_what_the_gate_decides_on(
    paced_emulator: Emulator,
) -> None:
    """``?key=deploy&passive=true&monkey=prod`` makes no word a secret of the run: the
    Humanitec v2 history still says which deployment ``deploy``-ed, and the bake's breach is
    rolled back to it."""
    good = paced_emulator.add_humanitec_v2("acme", Timeline([(0, "succeeded")]), started_ago=3600)
    deployed = paced_emulator.add_humanitec_v2(
        "acme", Timeline([(0, "in progress"), (1, "succeeded")])
    )
    with HealthEndpoint([503]) as health:
        result = run_gate(
            "wait", "humanitec-v2", "--org", "acme", "--deployment-id", deployed,
            "--interval", "0.05s", "--max-interval", "0.2s", "--output", "json",
            "--bake", "5m", "--bake-interval", "0.2s", "--probe-failures", "1",
            "--probe", f"{health.url}?key=deploy&passive=true&monkey=prod",
            "--on-failure", "rollback",
            env={"HUMANITEC_API_URL": paced_emulator.url, "HUMANITEC_AUTH_TOKEN": TOKEN},
        )  # fmt: skip
    assert result.returncode == 1, result.stderr
    rollback = json.loads(result.stdout)["rollback"]
    assert rollback["plan"]["to"] == good, rollback["reason"]
    assert rollback["outcome"]["status"] == "succeeded"


@pytest.mark.parametrize(
    ("key", "value", "everywhere"),
    [
        ("token", "t0k-7e1d9c3a", True),
        ("access_token", "at-5b2f8e04", True),
        ("apiKey", "ak-91c4d7e2", True),
        ("X-Amz-Signature", "sg-3a8e6f1b", True),
        ("client-secret", "cs-d24b7c90", True),
        ("passive", "pv-6f0a3e5d", False),
        ("monkey", "mk-8c1e4b7a", False),
        ("keyword", "kw-2d9f5a63", False),
        ("key", "deploy", False),
        ("sig", "q1w2e3", False),
    ],
)
def test_a_probes_query_value_is_a_secret_of_the_run_when_its_key_names_a_credential_and_it_is_long(
    key: str, value: str, everywhere: bool
) -> None:
    from gate.bake.probe import HttpProbe
    from gate.core.text import from_api

    HttpProbe(f"https://shop.example/healthz?{key}={value}", request_timeout=1.0)
    assert (from_api(f"said {value}") == "said ***") is everywhere
    assert from_api(value) == ("***" if everywhere else value)


@pytest.mark.parametrize(
    ("env", "secrets"),
    [
        ({"MY_API_KEY": "k-0123456789"}, ["k-0123456789"]),
        ({"DB_PASSWORD": "hunter2!"}, ["hunter2!"]),
        ({"GIT_AUTH_ENABLED": "true"}, []),
        ({"NPM_AUTH_REQUIRED": "Yes"}, []),
        ({"SSO_AUTH": "1"}, []),
        ({"PROXY_AUTH": "disabled"}, []),
        ({"CI_TOKEN_SCOPE": "off"}, []),
        ({"GIT_AUTHOR_NAME": "Ada Lovelace"}, []),
        (
            {"OTEL_EXPORTER_OTLP_HEADERS": "x-key=abc%20def"},
            ["x-key=abc%20def", "abc def", "abc", "def"],
        ),
    ],
    ids=lambda value: ",".join(value) if isinstance(value, dict) else None,
)
def test_a_variable_is_a_secret_by_its_name_unless_its_value_is_a_setting(
    env: dict[str, str], secrets: list[str]
) -> None:
    from gate.core.secret import secrets_in

    assert secrets_in(env) == secrets


def test_a_secret_too_short_to_cut_from_every_text_is_not_remembered() -> None:
    """A word the gate decides on (a status, a mode) is never blanked by a short value."""
    from gate.core.secret import remember
    from gate.core.text import from_api

    remember("deploy", "true", "prod123")
    assert [from_api(word) for word in ("deploy", "true", "prod123")] == [
        "deploy",
        "true",
        "prod123",
    ]
