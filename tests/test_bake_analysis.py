"""How a bake judges its rounds (Argo Rollouts' analysis semantics, adapted to checks that
read a window): a failure limit, a limit of unreadable rounds in a row, a policy for an
inconclusive verdict, and a report-only mode, through the real command, the action, a
targets file, the span and the Pulumi dynamic provider.

What a check says changes on its n-th read (a probe's n-th answer, a scripted check's n-th
line, moto's n-th DescribeAlarms), never at a time; a bake that a decision must end is five
minutes long, so a test that waited it out would show."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from gate import WaitOptions, wait
from gate.bake.check import Reading
from gate.bake.judging import Judging
from gate.bake.lengths import InconclusivePolicy
from gate.bake.run import Bake
from gate.core.errors import TransientError
from gate.core.model import BakeStatus, Breach, OutcomeStatus
from gate.emulator import Emulator, Timeline
from gate.emulator.health import HealthEndpoint
from gate.telling.otel import otel_telling
from gate.waiting.engine import Timing
from tests.actions_runner import parse_commands
from tests.builders import json_outcome
from tests.parts.moto_alarms import alarm_history_served
from tests.parts.otlp_receiver import OtlpReceiver
from tests.support import HUMANITEC_PRODUCTION, TOKEN, VirtualClock, run_gate
from tests.test_bake_cli import AWS, LONG_BAKE, QUICK_BAKE, gate
from tests.test_bake_engine import BREACHED, ScriptedCheck
from tests.test_bake_plugins import FAST
from tests.test_bake_plugins import gate as gate_with
from tests.test_engine import ScriptedProvider, finishing_at
from tests.test_otel import ENV
from tests.test_registry import install_third_party
from tests.test_rollback_cli import history

SCRIPTED = Path(__file__).parent / "parts" / "gate_scripted_check.py"


@pytest.fixture
def probed(request: pytest.FixtureRequest) -> Iterator[HealthEndpoint]:
    """A health endpoint answering the n-th probe with the n-th status given."""
    with HealthEndpoint(list(request.param)) as endpoint:
        yield endpoint


@pytest.fixture
def cloudwatch(moto_server: str, aws_env: None) -> Any:
    """Two alarms, OK, on moto's server."""
    client = boto3.client("cloudwatch", endpoint_url=moto_server, region_name=AWS["AWS_REGION"])
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


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running


@pytest.fixture
def scripted(tmp_path: Path) -> Any:
    """A scripted check installed as a third-party plugin: ``scripted(*lines)`` writes its
    script and gives the environment that finds it and the path to give --scripted-check."""
    site = tmp_path / "site"
    site.mkdir()
    install_third_party(
        site,
        SCRIPTED.read_text(),
        module="gate_scripted_check",
        group="gate.checks",
        name="scripted",
    )

    def script(*lines: str) -> tuple[dict[str, str], Path]:
        path = tmp_path / "script"
        path.write_text("\n".join(lines) + "\n")
        return {"PYTHONPATH": str(site)}, path

    return script


def reads_of(path: Path) -> list[str]:
    reads = Path(f"{path}.reads")
    return reads.read_text().splitlines() if reads.exists() else []


# --- the judge, as a table: each round's reads of one check, and where the bake ends --------

PAST = Reading("1 alarm went to ALARM", (Breach("alarm a", "went to ALARM (now OK)"),))
GOING = Reading("1 alarm in ALARM", (Breach("alarm a", "in ALARM", ongoing=True),))
TWO_PAST = Reading("2 went", (*PAST.breaches, Breach("alarm b", "went to ALARM (now OK)")))
CLEAR = Reading("alarm OK")
FAULT = TransientError("CloudWatch answered 503")


@pytest.mark.parametrize(
    ("limits", "rounds", "ends"),
    [
        ({}, [CLEAR, PAST], (2, BakeStatus.BREACHED)),
        ({"failure_limit": 1}, [CLEAR, PAST, PAST, PAST, CLEAR], (5, BakeStatus.PASSED)),
        ({"failure_limit": 1}, [PAST, PAST, TWO_PAST], (3, BakeStatus.BREACHED)),
        ({"failure_limit": 2}, [CLEAR, GOING, GOING, GOING], (4, BakeStatus.BREACHED)),
        ({"failure_limit": 9}, [CLEAR, CLEAR, CLEAR, CLEAR, PAST], (5, BakeStatus.BREACHED)),
        ({"unreadable_limit": 2}, [CLEAR, FAULT, CLEAR, FAULT, CLEAR], (5, BakeStatus.PASSED)),
        ({"unreadable_limit": 2}, [CLEAR, FAULT, FAULT], (3, BakeStatus.UNREADABLE)),
        ({}, [CLEAR, FAULT, FAULT, FAULT, FAULT], (5, BakeStatus.UNREADABLE)),
    ],
    ids=[
        "no-limit-first-breach-fails",
        "a-past-breach-counts-once",
        "a-second-breach-in-the-window-counts",
        "a-breach-going-on-counts-each-round",
        "never-tolerated-in-the-last-round",
        "unread-rounds-not-in-a-row",
        "unread-rounds-in-a-row",
        "no-limit-unread-at-the-end",
    ],
)
def test_the_judge_counts_failed_and_unread_rounds(
    limits: dict[str, int], rounds: list[Reading | TransientError], ends: tuple[int, BakeStatus]
) -> None:
    judging = Judging(**limits)
    names = ["CloudWatch alarms a, b"]
    for number, said in enumerate(rounds, 1):
        read = {0: said} if isinstance(said, Reading) else {}
        unread = {} if isinstance(said, Reading) else {0: said}
        last = number == len(rounds)
        verdict = judging.round(names, read, unread, [], last=last)
        if verdict is None and last:
            verdict = judging.ended(names, read, unread)
        if verdict is not None:
            assert (number, verdict.status) == ends
            return
    pytest.fail("no round decided the bake")


@pytest.mark.parametrize(
    ("policy", "status"), [("pass", BakeStatus.PASSED), ("fail", BakeStatus.INCONCLUSIVE)]
)
def test_an_inconclusive_last_read_follows_the_policy(
    policy: InconclusivePolicy, status: BakeStatus
) -> None:
    judging = Judging(inconclusive=policy)
    verdict = judging.ended(["comparison e"], {0: Reading("e", inconclusive="no baseline")}, {})
    assert verdict.status is status
    said = "comparison e: no baseline"
    assert [said in note for note in judging.notes] == ([True] if policy == "pass" else [])
    assert (verdict.reason or "").endswith(said) is (policy == "fail")


# --- the failure limit ----------------------------------------------------------------------


@pytest.mark.parametrize("probed", [[200, 503, 200]], indirect=True)
def test_a_breach_within_the_failure_limit_is_tolerated_and_said(
    paced_emulator: Emulator, probed: HealthEndpoint
) -> None:
    result = gate(
        paced_emulator,
        *QUICK_BAKE,
        "--probe",
        probed.url,
        "--probe-failures",
        "1",
        "--bake-failure-limit",
        "1",
    )
    assert result.returncode == 0, result.stderr
    outcome = json_outcome(result)
    assert outcome["bake"]["status"] == "passed"
    (note,) = outcome["bake"]["notes"]
    assert note.startswith(f"breach tolerated: probe {probed.url}: HTTP 503"), note
    assert f"breach tolerated (1 of 1 tolerated): probe {probed.url}: HTTP 503" in result.stderr
    assert "baking for 2.0s (failure limit 1), watching HTTP probe" in result.stderr
    assert "gate: bake passed: healthy through its 2.0s bake" in result.stderr
    assert "breach tolerated: probe" in result.stderr, "the notes are said with the pass"


@pytest.mark.parametrize("probed", [[200, 503, 200, 503]], indirect=True)
def test_more_failed_rounds_than_the_limit_fail_the_bake_at_once(
    paced_emulator: Emulator, probed: HealthEndpoint
) -> None:
    result = gate(
        paced_emulator,
        *LONG_BAKE,
        "--probe",
        probed.url,
        "--probe-failures",
        "1",
        "--bake-failure-limit",
        "1",
    )
    assert result.returncode == 1, result.stderr
    outcome = json_outcome(result)
    assert outcome["bake"]["status"] == "breached"
    (breach,) = outcome["bake"]["breaches"]
    assert breach["check"] == f"probe {probed.url}"
    assert probed.probes == 4, "the second failed round ends the five-minute bake"


@pytest.mark.parametrize("probed", [[200, 503]], indirect=True)
def test_a_breach_found_in_the_last_round_is_never_tolerated(
    paced_emulator: Emulator, probed: HealthEndpoint
) -> None:
    result = gate(
        paced_emulator,
        *["--bake", "1s", "--bake-interval", "1s", "--probe", probed.url],
        *["--probe-failures", "1", "--bake-failure-limit", "5"],
    )
    assert result.returncode == 1, result.stderr
    assert json_outcome(result)["bake"]["status"] == "breached"
    assert probed.probes == 2


def test_an_alarm_that_stays_in_alarm_fails_every_round_it_is_read(
    paced_emulator: Emulator,
    cloudwatch: Any,
    moto_server: str,
) -> None:
    """A breach still going on counts in each round, though its words do not change: a
    failure limit tolerates blips, never an alarm that stays in ALARM."""

    def alarm() -> None:
        cloudwatch.set_alarm_state(
            AlarmName="checkout-5xx", StateValue="ALARM", StateReason="Threshold Crossed: 9 5xx"
        )

    with alarm_history_served(after_reads={1: alarm}):
        result = gate(
            paced_emulator,
            *LONG_BAKE,
            "--alarm",
            "checkout-5xx",
            "--bake-failure-limit",
            "2",
            moto=moto_server,
        )
    assert result.returncode == 1, result.stderr
    outcome = json_outcome(result)
    assert outcome["bake"]["status"] == "breached"
    assert outcome["bake"]["reads"] == 3, "tolerated twice, failed on the third round"
    assert len(outcome["bake"]["notes"]) == 1, "the same breach is noted once"


# --- the unreadable limit -------------------------------------------------------------------


def test_a_check_unread_as_many_rounds_in_a_row_as_the_limit_ends_the_bake_unreadable(
    paced_emulator: Emulator, scripted: Any
) -> None:
    env, path = scripted("healthy", "unreadable Prometheus answered 503")
    deploy_id = paced_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (1, "succeeded")])
    )
    result = gate_with(
        paced_emulator,
        env,
        *["wait", *HUMANITEC_PRODUCTION, "--deploy-id", deploy_id, *FAST, *LONG_BAKE],
        *["--scripted-check", str(path), "--bake-unreadable-limit", "3"],
    )
    assert result.returncode == 4, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["bake"]["status"] == "unreadable"
    assert outcome["reason"].startswith("the deployment succeeded, but its bake ended undecided")
    assert (
        "scripted check script could not be read 3 rounds in a row: Prometheus answered 503"
    ) in outcome["reason"]
    assert len(reads_of(path)) == 4, "read once, then unread three rounds in a row"


def test_without_a_limit_a_check_unread_mid_bake_is_read_again_until_the_end(
    paced_emulator: Emulator, scripted: Any
) -> None:
    env, path = scripted("healthy", *["unreadable Prometheus answered 503"] * 4, "healthy")
    deploy_id = paced_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (1, "succeeded")])
    )
    result = gate_with(
        paced_emulator,
        env,
        *["wait", *HUMANITEC_PRODUCTION, "--deploy-id", deploy_id, *FAST],
        *["--bake", "3s", "--bake-interval", "0.2s", "--scripted-check", str(path)],
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["bake"]["status"] == "passed"


# --- inconclusive ---------------------------------------------------------------------------

TOO_FEW = "inconclusive 3 samples before, fewer than the 10 it needs"


def test_an_inconclusive_verdict_passes_by_default_and_is_said(
    paced_emulator: Emulator, scripted: Any
) -> None:
    env, path = scripted(TOO_FEW)
    deploy_id = paced_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (1, "succeeded")])
    )
    result = gate_with(
        paced_emulator,
        env,
        *["wait", *HUMANITEC_PRODUCTION, "--deploy-id", deploy_id, *FAST, *QUICK_BAKE],
        *["--scripted-check", str(path)],
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["bake"]["status"] == "passed"
    assert outcome["bake"]["notes"] == [
        "inconclusive, passed by the bake's policy: scripted check script: "
        "3 samples before, fewer than the 10 it needs"
    ]


def test_an_inconclusive_verdict_fails_the_bake_and_rolls_back_when_the_policy_says_fail(
    paced_emulator: Emulator, scripted: Any
) -> None:
    env, path = scripted(TOO_FEW)
    good, succeeded = history(paced_emulator, final="succeeded")
    result = gate_with(
        paced_emulator,
        env,
        *["wait", *HUMANITEC_PRODUCTION, "--deploy-id", succeeded, *FAST, *QUICK_BAKE],
        *["--scripted-check", str(path), "--bake-inconclusive", "fail"],
        *["--on-failure", "rollback"],
    )
    assert result.returncode == 1, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "failed"
    assert outcome["bake"]["status"] == "inconclusive"
    assert outcome["reason"].startswith("the deployment succeeded, then failed its bake ")
    assert outcome["reason"].endswith(
        "inconclusive at the end of the bake: scripted check script: "
        "3 samples before, fewer than the 10 it needs"
    )
    assert outcome["rollback"]["plan"]["to"] == good
    assert outcome["rollback"]["status"] == "succeeded"


def test_an_inconclusive_bake_that_fails_is_annotated_as_a_failed_bake(
    paced_emulator: Emulator, scripted: Any
) -> None:
    env, path = scripted(TOO_FEW)
    deploy_id = paced_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (1, "succeeded")])
    )
    result = gate_with(
        paced_emulator,
        env,
        *["wait", *HUMANITEC_PRODUCTION, "--deploy-id", deploy_id, *QUICK_BAKE],
        *["--interval", "0.05s", "--output", "github"],
        *["--scripted-check", str(path), "--bake-inconclusive", "fail"],
    )
    assert result.returncode == 1, result.stderr
    (annotation,) = [c for c in parse_commands(result.stdout) if c.name == "error"]
    assert annotation.properties["title"] == "Bake failed"
    assert "inconclusive at the end of the bake: scripted check script" in annotation.data
    assert "no error details" not in annotation.data, "the bake says why, not the backend"


# --- report only ----------------------------------------------------------------------------


def test_report_only_runs_the_whole_bake_and_reports_the_breach_without_failing_or_rolling_back(
    paced_emulator: Emulator,
    cloudwatch: Any,
    moto_server: str,
) -> None:
    def alarm() -> None:
        cloudwatch.set_alarm_state(
            AlarmName="checkout-latency", StateValue="ALARM", StateReason="p99 above 2s"
        )

    with alarm_history_served(after_reads={1: alarm}):
        result = gate(
            paced_emulator,
            *QUICK_BAKE,
            "--alarm",
            "checkout-*",
            "--bake-report-only",
            "--on-failure",
            "rollback",
            moto=moto_server,
        )
    assert result.returncode == 0, result.stderr
    outcome = json_outcome(result)
    assert outcome["status"] == "succeeded"
    bake = outcome["bake"]
    assert (bake["status"], bake["report_only"]) == ("breached", True)
    assert bake["elapsed_seconds"] >= 2, "the whole bake ran"
    assert bake["reads"] > 2
    assert [b["check"] for b in bake["breaches"]] == ["alarm checkout-latency"]
    assert bake["notes"][0].startswith("report only: the bake would have failed "), bake
    assert "alarm checkout-latency: p99 above 2s; the gate does not act on it" in bake["notes"][0]
    assert outcome["rollback"] is None
    assert paced_emulator.posted == [], "nothing rolled back"
    assert "baking for 2.0s (report only), watching CloudWatch alarm" in result.stderr
    assert "report only: the bake would have failed" in result.stderr
    assert "gate: bake breached (report only, not acted on): read through its 2.0s bake" in (
        result.stderr
    )


@pytest.mark.parametrize("probed", [[200, 503]], indirect=True)
def test_report_only_keeps_reading_every_check_to_the_end(
    paced_emulator: Emulator, probed: HealthEndpoint
) -> None:
    result = gate(
        paced_emulator,
        *["--bake", "5s", "--bake-interval", "0.2s"],
        *["--probe", probed.url, "--probe-failures", "1", "--bake-report-only"],
    )
    assert result.returncode == 0, result.stderr
    bake = json_outcome(result)["bake"]
    assert (bake["status"], bake["report_only"]) == ("breached", True)
    # the second round breaches, seconds before the bake's end; a bake that acted on it would
    # have ended there, and this one read at least once more, at its end
    assert probed.probes == bake["reads"] >= 3, "every round probed, the breach ended nothing"


def test_a_bake_that_passes_in_report_only_mode_says_so(
    paced_emulator: Emulator, scripted: Any
) -> None:
    env, path = scripted("healthy")
    deploy_id = paced_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (1, "succeeded")])
    )
    result = gate_with(
        paced_emulator,
        env,
        *["wait", *HUMANITEC_PRODUCTION, "--deploy-id", deploy_id, *FAST, *QUICK_BAKE],
        *["--scripted-check", str(path), "--bake-report-only"],
    )
    assert result.returncode == 0, result.stderr
    bake = json.loads(result.stdout)["bake"]
    assert (bake["status"], bake["report_only"]) == ("passed", True)
    assert bake["notes"] == ["report only: the bake would have passed; the gate does not act on it"]


def test_report_only_is_in_the_spans_attributes(
    clock: VirtualClock,
    receiver: OtlpReceiver,
) -> None:
    provider = ScriptedProvider(clock, finishing_at(60))  # type: ignore[arg-type]
    telling = otel_telling(ENV, endpoint=receiver.url)
    outcome = wait(
        provider,
        WaitOptions(timeout=1800),
        bake=Bake(600, [ScriptedCheck(lambda n: BREACHED)], interval=15, report_only=True),
        telemetry=[telling],
        timing=Timing(clock=clock, sleep=clock.sleep),
    )
    assert telling.close() == []
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert outcome.bake is not None
    assert outcome.bake.reads == 41, "every round of the ten minutes, then the last"
    [span] = receiver.spans()
    assert span.status_code == "STATUS_CODE_OK"
    assert span.attributes["gate.bake.status"] == "breached"
    assert span.attributes["gate.bake.report_only"] is True
    [bake] = span.events_named("gate.bake")
    assert bake["gate.bake.report_only"] is True
    assert bake["gate.bake.notes"][0].startswith("report only: the bake would have failed 0.0s")


# --- every face -----------------------------------------------------------------------------


def test_the_analysis_fields_need_a_bake(emulator: Emulator) -> None:
    result = run_gate(
        *["wait", *HUMANITEC_PRODUCTION, "--deploy-id", "d-1", "--bake-report-only"],
        env={"HUMANITEC_API_URL": emulator.url, "HUMANITEC_TOKEN": TOKEN},
    )
    assert result.returncode == 2, result.stderr
    assert "--bake-report-only judges a bake: give --bake" in result.stderr


@pytest.mark.parametrize("probed", [[200, 503]], indirect=True)
def test_a_targets_file_entry_takes_the_analysis_fields(
    paced_emulator: Emulator, probed: HealthEndpoint, tmp_path: Path
) -> None:
    paced_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (1, "succeeded")])
    )
    release = tmp_path / "release.yaml"
    entry = {"provider": "humanitec", "org": "acme", "app": "shop", "env": "production"}
    entry |= {"latest": True, "bake": "1s", "bake-interval": "0.2s", "probe": [probed.url]}
    entry |= {"probe-failures": 1, "bake-report-only": True, "bake-failure-limit": 3}
    release.write_text(yaml.safe_dump({"targets": [entry]}))
    result = run_gate(
        "wait-all",
        str(release),
        *FAST,
        env={"HUMANITEC_API_URL": paced_emulator.url, "HUMANITEC_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.stderr
    (target,) = json.loads(result.stdout)["targets"]
    assert (target["bake"]["status"], target["bake"]["report_only"]) == ("breached", True)
