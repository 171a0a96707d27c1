"""The bake through the real command: a Humanitec deployment on the emulator succeeds, then
the gate watches CloudWatch alarms on moto's loopback server, HTTP probes on a loopback
server, and a real Prometheus and Alertmanager before it passes. Every change of health
happens on a read the gate makes (the N-th DescribeAlarms, the N-th probe) or before the
gate starts, never at a time."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from gate.emulator import Emulator, Timeline
from gate.emulator.health import HealthEndpoint
from tests.actions_runner import parse_commands
from tests.builders import FAST, json_outcome
from tests.parts.moto_alarms import alarm_history_served, iam_enforced
from tests.parts.prometheus_stack import (
    PrometheusStack,
    prometheus_stack_fixture,  # noqa: F401 (the fixture prometheus_stack)
)
from tests.support import TOKEN, run_gate

AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing-secret-key",
    "AWS_REGION": "eu-west-1",
}
QUICK_BAKE = ["--bake", "2s", "--bake-interval", "0.2s"]
LONG_BAKE = ["--bake", "5m", "--bake-interval", "0.2s"]
"""A bake that a breach must end: the test would take five minutes if it did not."""


@pytest.fixture
def cloudwatch(moto_server: str, aws_env: None) -> Any:
    client = boto3.client("cloudwatch", endpoint_url=moto_server, region_name="eu-west-1")
    for name in ("checkout-5xx", "checkout-latency"):
        client.put_metric_alarm(
            AlarmName=name,
            MetricName=name,
            Namespace="Shop",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
    return client


def gate(
    emulator: Emulator,
    *extra: str,
    moto: str | None = None,
    final: str = "succeeded",
    aws: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    deploy_id = emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (1, final)])
    )
    alarms = ["--alarm-endpoint-url", moto] if moto else []
    return run_gate(
        "wait",
        "humanitec",
        "--org",
        "acme",
        "--app",
        "shop",
        "--env",
        "production",
        "--deploy-id",
        deploy_id,
        *FAST,
        "--output",
        "json",
        *alarms,
        *extra,
        env={"HUMANITEC_API_URL": emulator.url, "HUMANITEC_TOKEN": TOKEN, **AWS, **(aws or {})},
    )


def test_alarms_that_stay_ok_pass_the_bake(
    paced_emulator: Emulator, cloudwatch: Any, moto_server: str
) -> None:
    with alarm_history_served():
        result = gate(paced_emulator, *QUICK_BAKE, "--alarm", "checkout-*", moto=moto_server)
    assert result.returncode == 0, result.stderr
    outcome = json_outcome(result)
    assert outcome["status"] == "succeeded"
    assert outcome["bake"]["status"] == "passed"
    assert outcome["bake"]["elapsed_seconds"] >= 2
    assert outcome["bake"]["checks"][0]["summary"] == "2 alarms OK"
    assert "gate: bake passed: healthy through its 2.0s bake" in result.stderr
    assert "baking for 2.0s, watching CloudWatch alarm" in result.stderr


def test_an_alarm_that_flapped_between_two_reads_fails_the_bake(
    paced_emulator: Emulator, cloudwatch: Any, moto_server: str
) -> None:
    def flap() -> None:
        cloudwatch.set_alarm_state(
            AlarmName="checkout-5xx", StateValue="ALARM", StateReason="Threshold Crossed: 7 5xx"
        )
        cloudwatch.set_alarm_state(AlarmName="checkout-5xx", StateValue="OK", StateReason="ok")

    with alarm_history_served(after_reads={2: flap}):  # 1: before waiting; 2: the bake's first
        result = gate(paced_emulator, *LONG_BAKE, "--alarm", "checkout-*", moto=moto_server)
    assert result.returncode == 1, result.stderr
    outcome = json_outcome(result)
    assert outcome["raw_status"] == "succeeded"
    assert outcome["bake"]["status"] == "breached"
    assert outcome["reason"].startswith("the deployment succeeded, then failed its bake ")
    (breach,) = outcome["bake"]["breaches"]
    assert breach["check"] == "alarm checkout-5xx"
    assert "Threshold Crossed: 7 5xx" in breach["detail"]
    assert breach["at"] is not None
    assert outcome["errors"][0]["scope"] == "bake"
    assert "gate: bake FAILED after" in result.stderr


def test_an_alarm_in_alarm_fails_the_bake_with_its_reason(
    paced_emulator: Emulator, cloudwatch: Any, moto_server: str
) -> None:
    def alarm() -> None:
        cloudwatch.set_alarm_state(
            AlarmName="checkout-latency", StateValue="ALARM", StateReason="p99 above 2s"
        )

    with alarm_history_served(after_reads={1: alarm}):
        result = gate(
            paced_emulator,
            *LONG_BAKE,
            "--alarm",
            "checkout-5xx",
            "--alarm",
            "checkout-latency",
            moto=moto_server,
        )
    assert result.returncode == 1, result.stderr
    outcome = json_outcome(result)
    assert [b["check"] for b in outcome["bake"]["breaches"]] == ["alarm checkout-latency"]
    assert "p99 above 2s" in outcome["reason"]


def test_a_failed_deployment_is_not_baked(
    paced_emulator: Emulator, cloudwatch: Any, moto_server: str
) -> None:
    with alarm_history_served() as seen:
        result = gate(
            paced_emulator, *LONG_BAKE, "--alarm", "checkout-*", moto=moto_server, final="failed"
        )
    assert result.returncode == 1
    assert json_outcome(result)["bake"] is None
    assert seen == ["DescribeAlarms", "DescribeAlarmHistory"], "only the proof before waiting"


def test_an_alarm_that_does_not_exist_is_refused_before_waiting(
    emulator: Emulator, cloudwatch: Any, moto_server: str
) -> None:
    with alarm_history_served():
        result = gate(emulator, *QUICK_BAKE, "--alarm", "checkout-gone", moto=moto_server)
    assert result.returncode == 2
    assert "no CloudWatch alarm checkout-gone" in result.stderr
    assert result.stdout == ""


def test_an_alarm_that_does_not_exist_may_be_ignored_and_is_named(
    paced_emulator: Emulator, cloudwatch: Any, moto_server: str
) -> None:
    with alarm_history_served():
        result = gate(
            paced_emulator,
            *QUICK_BAKE,
            "--alarm",
            "checkout-gone",
            "--alarm",
            "checkout-5xx",
            "--missing-alarm",
            "ignore",
            moto=moto_server,
        )
    assert result.returncode == 0, result.stderr
    notes = json_outcome(result)["bake"]["checks"][0]["notes"]
    assert any("checkout-gone" in note for note in notes)


@pytest.mark.parametrize(("policy", "code"), [("ok", 0), ("breach", 1)])
def test_insufficient_data_follows_its_policy(
    paced_emulator: Emulator, cloudwatch: Any, moto_server: str, policy: str, code: int
) -> None:
    cloudwatch.set_alarm_state(
        AlarmName="checkout-5xx", StateValue="INSUFFICIENT_DATA", StateReason="no datapoints"
    )
    with alarm_history_served():
        result = gate(
            paced_emulator,
            *(QUICK_BAKE if code == 0 else LONG_BAKE),
            "--alarm",
            "checkout-5xx",
            "--insufficient-data",
            policy,
            moto=moto_server,
        )
    assert result.returncode == code, result.stderr
    bake = json_outcome(result)["bake"]
    if code == 0:
        assert any("INSUFFICIENT_DATA" in note for note in bake["checks"][0]["notes"])
    else:
        assert "INSUFFICIENT_DATA" in bake["breaches"][0]["detail"] + bake["checks"][0]["summary"]


def test_an_alarm_seen_in_alarm_fails_the_bake_though_a_history_read_fails(
    paced_emulator: Emulator, cloudwatch: Any, moto_server: str
) -> None:
    """A breach in hand ends the bake at once, and is rolled back, whatever else failed to
    read: here the history of another alarm, which moto answers with its own HTTP 500."""
    good = paced_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "succeeded")]), started_ago=3600
    )

    def breach() -> None:
        cloudwatch.set_alarm_state(
            AlarmName="checkout-latency", StateValue="ALARM", StateReason="p99 above 2s"
        )
        # changed during the bake, so its history is read: and that read fails
        cloudwatch.set_alarm_state(AlarmName="checkout-5xx", StateValue="OK", StateReason="ok")

    # DescribeAlarms 1: before waiting; 2: the bake's first read (the change is in its answer)
    with alarm_history_served(after_reads={2: breach}, history_fails_after=2) as seen:
        result = gate(
            paced_emulator,
            *LONG_BAKE,
            "--alarm",
            "checkout-*",
            "--on-failure",
            "rollback",
            moto=moto_server,
        )
    assert result.returncode == 1, result.stderr
    outcome = json_outcome(result)
    assert outcome["bake"]["status"] == "breached"
    (breach_said,) = outcome["bake"]["breaches"]
    assert breach_said["check"] == "alarm checkout-latency"
    assert "p99 above 2s" in outcome["reason"]
    (notes,) = [check["notes"] for check in outcome["bake"]["checks"]]
    assert any(note.startswith("not every alarm could be read: ") for note in notes), notes
    assert "DescribeAlarmHistory" in seen[seen.index("DescribeAlarms", 1) :], "read, and failed"
    assert outcome["rollback"]["plan"]["to"] == good
    assert outcome["rollback"]["outcome"]["status"] == "succeeded"
    ((path, _, _),) = paced_emulator.posted
    assert path == "/orgs/acme/apps/shop/envs/production/deploys"


@pytest.mark.parametrize(
    ("allowed", "missing", "watched"),
    [
        (["cloudwatch:DescribeAlarms"], "cloudwatch:DescribeAlarmHistory", ["checkout-*"]),
        (["cloudwatch:DescribeAlarmHistory"], "cloudwatch:DescribeAlarms", ["checkout-*"]),
        (
            ["cloudwatch:DescribeAlarms"],
            "cloudwatch:DescribeAlarmHistory",
            ["made-by-the-deploy-*", "--missing-alarm", "ignore"],
        ),
    ],
    ids=["history-not-allowed", "alarms-not-allowed", "history-not-allowed-none-found-yet"],
)
def test_an_iam_action_the_bake_needs_is_refused_before_waiting(
    emulator: Emulator,
    cloudwatch: Any,
    moto_server: str,
    allowed: list[str],
    missing: str,
    watched: list[str],
) -> None:
    """As CodeDeploy's alarm setup needs only DescribeAlarms, roles copied from it lack
    DescribeAlarmHistory: said at once (exit 2) naming the action, not after the deployment,
    even when the alarms are yet to be made by the deployment."""
    with alarm_history_served(), iam_enforced(moto_server, *allowed) as keys:
        result = gate(emulator, *QUICK_BAKE, "--alarm", *watched, moto=moto_server, aws=keys)
    assert result.returncode == 2, result.stderr
    assert f"the credentials may not call {missing}, which the bake needs" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stdout == ""
    assert keys["AWS_SECRET_ACCESS_KEY"] not in result.stderr
    assert emulator.requests == [], "the deployment was never read"


def test_the_iam_actions_the_bake_needs_are_enough(
    paced_emulator: Emulator, cloudwatch: Any, moto_server: str
) -> None:
    actions = ["cloudwatch:DescribeAlarms", "cloudwatch:DescribeAlarmHistory"]
    with alarm_history_served(), iam_enforced(moto_server, *actions) as keys:
        result = gate(
            paced_emulator, *QUICK_BAKE, "--alarm", "checkout-*", moto=moto_server, aws=keys
        )
    assert result.returncode == 0, result.stderr
    assert json_outcome(result)["bake"]["status"] == "passed"


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (
            ["--bake", "30m", "--timeout", "10m", "--probe", "http://127.0.0.1:9/"],
            "--bake (30m00s) must fit inside --timeout (10m00s), with time left for",
        ),
        (["--alarm", "checkout-5xx"], "--alarm is read during a bake: give --bake"),
        (["--bake", "1m"], "--bake needs something to watch"),
        (["--bake", "1m", "--query", "up == 0"], "--query needs --prometheus"),
        (["--dry-run"], "--dry-run needs --on-failure rollback"),
        (
            ["--bake", "1m", "--alertmanager", "http://127.0.0.1:9/"],
            "--alertmanager needs an --alert-filter",
        ),
        (["--bake", "1m", "--probe", "ftp://shop/"], "probe"),
        (
            ["--bake", "1m", "--probe", "http://127.0.0.1:9/", "--probe-failures", "0"],
            "--probe-failures must be a whole number",
        ),
    ],
)
def test_a_bake_that_cannot_work_is_refused_with_exit_2(
    emulator: Emulator, flags: list[str], said: str
) -> None:
    result = gate(emulator, *flags)
    assert result.returncode == 2, result.stderr
    assert said in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.fixture
def probed(request: pytest.FixtureRequest) -> Iterator[HealthEndpoint]:
    """A health endpoint answering the n-th probe with the n-th status given; its body
    holds a workflow command, which must only ever be shown as data."""
    with HealthEndpoint(list(request.param), body="checkout ##[error]injected") as endpoint:
        yield endpoint


@pytest.mark.parametrize("probed", [[200, 503, 503, 200]], indirect=True)
def test_a_probe_that_recovers_before_its_limit_passes(
    paced_emulator: Emulator, probed: HealthEndpoint
) -> None:
    result = gate(paced_emulator, *QUICK_BAKE, "--probe", probed.url)
    assert result.returncode == 0, result.stderr
    assert json_outcome(result)["bake"]["checks"][0]["summary"] == "probe 200"


@pytest.mark.parametrize("probed", [[200, 503]], indirect=True)
def test_a_probe_failing_n_times_in_a_row_fails_the_bake_with_its_answer(
    paced_emulator: Emulator, probed: HealthEndpoint
) -> None:
    result = gate(paced_emulator, *LONG_BAKE, "--probe", probed.url, "--probe-failures", "2")
    assert result.returncode == 1, result.stderr
    outcome = json_outcome(result)
    (breach,) = outcome["bake"]["breaches"]
    assert breach["check"] == f"probe {probed.url}"
    assert "HTTP 503" in breach["detail"]
    assert probed.probes == 3, "the breach ends the bake at once"


@pytest.mark.parametrize("probed", [[503]], indirect=True)
def test_api_text_in_a_breach_creates_no_workflow_command(
    paced_emulator: Emulator, probed: HealthEndpoint
) -> None:
    result = gate(
        paced_emulator,
        *LONG_BAKE,
        "--probe",
        probed.url,
        "--output",
        "github",
        "--probe-failures",
        "1",
    )
    assert result.returncode == 1, result.stderr
    commands = parse_commands(result.stdout + result.stderr)
    assert not [command for command in commands if command.legacy]
    (annotation,) = [command for command in commands if command.name == "error"]
    assert "##[error]injected" in annotation.data, "the body is shown, as data"


# --- Prometheus and Alertmanager, real ones (tests/parts/prometheus_stack.py) -------------


def test_a_query_that_stays_clear_passes_the_bake(
    paced_emulator: Emulator, prometheus_stack: PrometheusStack
) -> None:
    prometheus_stack.exporter.set("cli_clear_errors_total", 0, {"service": "checkout"})
    prometheus_stack.wait_for_series('cli_clear_errors_total{service="checkout"} == 0')
    result = gate(
        paced_emulator,
        *QUICK_BAKE,
        "--prometheus",
        prometheus_stack.prometheus_url,
        "--query",
        'cli_clear_errors_total{service="checkout"} > 0',
    )
    assert result.returncode == 0, result.stderr
    assert json_outcome(result)["bake"]["checks"][0]["summary"] == "query clear"


def test_a_query_that_returns_a_series_fails_the_bake_naming_it(
    paced_emulator: Emulator, prometheus_stack: PrometheusStack
) -> None:
    prometheus_stack.exporter.set("cli_errors_total", 7, {"code": "500", "service": "checkout"})
    prometheus_stack.wait_for_series('cli_errors_total{service="checkout"} > 0')
    result = gate(
        paced_emulator,
        *LONG_BAKE,
        "--prometheus",
        prometheus_stack.prometheus_url,
        "--query",
        'cli_errors_total{service="checkout"} > 0',
    )
    assert result.returncode == 1, result.stderr
    outcome = json_outcome(result)
    (breach,) = outcome["bake"]["breaches"]
    assert breach["check"] == 'query cli_errors_total{service="checkout"} > 0'
    assert 'code="500"' in breach["detail"]
    assert "= 7" in breach["detail"]


def test_a_query_prometheus_cannot_parse_is_refused_before_waiting(
    emulator: Emulator, prometheus_stack: PrometheusStack
) -> None:
    result = gate(
        emulator,
        *QUICK_BAKE,
        "--prometheus",
        prometheus_stack.prometheus_url,
        "--query",
        "sum(rate(http_requests_total[1m]) >",
    )
    assert result.returncode == 2, result.stderr
    assert "Prometheus cannot run the query" in result.stderr
    assert result.stdout == ""


def test_an_active_alert_matching_the_filter_fails_the_bake(
    paced_emulator: Emulator, prometheus_stack: PrometheusStack
) -> None:
    prometheus_stack.exporter.set("checkout_errors_total", 2)
    prometheus_stack.wait_for(
        "Alertmanager lists CheckoutErrors",
        lambda: prometheus_stack.alerts('alertname="CheckoutErrors"'),
    )
    result = gate(
        paced_emulator,
        *LONG_BAKE,
        "--alertmanager",
        prometheus_stack.alertmanager_url,
        "--alert-filter",
        'service="checkout"',
    )
    assert result.returncode == 1, result.stderr
    (breach,) = json_outcome(result)["bake"]["breaches"]
    assert breach["check"] == "alert CheckoutErrors"
    assert breach["at"] is not None


def test_an_alert_filter_that_matches_nothing_passes(
    paced_emulator: Emulator, prometheus_stack: PrometheusStack
) -> None:
    result = gate(
        paced_emulator,
        *QUICK_BAKE,
        "--alertmanager",
        prometheus_stack.alertmanager_url,
        "--alert-filter",
        'service="no-such-service"',
    )
    assert result.returncode == 0, result.stderr


def test_a_silenced_alert_matching_the_filter_passes_and_is_said(
    paced_emulator: Emulator, prometheus_stack: PrometheusStack
) -> None:
    prometheus_stack.exporter.set("checkout_errors_total", 2)
    prometheus_stack.wait_for(
        "Alertmanager lists CheckoutErrors",
        lambda: prometheus_stack.alerts('alertname="CheckoutErrors"'),
    )
    with prometheus_stack.silence(("alertname", "CheckoutErrors")) as silence:
        result = gate(
            paced_emulator,
            *QUICK_BAKE,
            "--alertmanager",
            prometheus_stack.alertmanager_url,
            "--alert-filter",
            'service="checkout"',
        )
    assert result.returncode == 0, result.stderr
    said = "no alert firing, 1 matching alert suppressed by silence"
    assert f" of 2.0s: {said}" in result.stderr, "in progress"
    outcome_line = result.stderr.splitlines()[-1]
    assert "bake passed: healthy through its 2.0s bake" in outcome_line
    assert said in outcome_line, "in the outcome"
    (check,) = json_outcome(result)["bake"]["checks"]
    assert check["summary"] == said
    (note,) = check["notes"]
    assert note.startswith("alert CheckoutErrors {")
    assert note.endswith(f"suppressed by silence {silence}: not counted as a breach")


@pytest.mark.parametrize("probed", [[200, 503]], indirect=True)
def test_a_probe_failing_at_the_end_of_the_bake_is_probed_until_it_breaches(
    paced_emulator: Emulator, probed: HealthEndpoint
) -> None:
    result = gate(paced_emulator, "--bake", "1s", "--bake-interval", "1s", "--probe", probed.url)
    assert result.returncode == 1, result.stderr
    assert json_outcome(result)["bake"]["status"] == "breached"
    assert probed.probes == 4, "200, then 503 three times in a row at the end"


@pytest.mark.parametrize("probed", [[503]], indirect=True)
def test_a_probe_urls_query_is_never_shown(
    paced_emulator: Emulator, probed: HealthEndpoint
) -> None:
    secret_url = f"{probed.url}?token=pr0be-s3cr3t-t0ken"
    result = gate(paced_emulator, *LONG_BAKE, "--probe", secret_url, "--probe-failures", "1")
    assert result.returncode == 1, result.stderr
    assert "pr0be-s3cr3t-t0ken" not in result.stdout + result.stderr
    assert f"probe {probed.url}?…" in json_outcome(result)["reason"]


def test_a_range_query_is_refused_before_waiting(
    emulator: Emulator, prometheus_stack: PrometheusStack
) -> None:
    result = gate(
        emulator, *QUICK_BAKE, "--prometheus", prometheus_stack.prometheus_url, "--query", "up[5m]"
    )
    assert result.returncode == 2, result.stderr
    assert "gives a range vector" in result.stderr
