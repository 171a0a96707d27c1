"""What a rollback did is said in one vocabulary on every face (text, JSON, step outputs, job
summary, JUnit, annotations), and as it is: a start that got no clear answer, or that a signal
cut short, may have started and is never said "not-started". Through the real command,
against the emulator holding the start's answer after acting on it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from gate.emulator import Emulator
from gate.emulator.health import HealthEndpoint
from tests.actions_runner import parse_commands, parse_output_file, run_action
from tests.builders import FAST
from tests.support import HUMANITEC_PRODUCTION, REPO, TOKEN, clean_env, killed_if_failed, run_gate
from tests.test_fleet import release
from tests.test_rollback_cli import history


class HoldsTheStart(Emulator):
    """The emulator, but the answer to a start (a POST) is held once the deployment was
    started, until the emulator stops: an answer lost on its way back. ``start_held`` is set
    when one is held."""

    def __init__(self) -> None:
        super().__init__(token=TOKEN, seconds_per_read=1.0)
        self.start_held = threading.Event()

    def _answer(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        body: object,
    ) -> tuple[int, Any, dict[str, str]]:
        answer = super()._answer(method, path, headers, query, body)
        if method == "POST":
            self.start_held.set()
            self.stopped.wait()
        return answer


@pytest.fixture
def holding() -> Iterator[HoldsTheStart]:
    with HoldsTheStart() as running:
        yield running


ENV = {"GITHUB_ACTIONS": "true"}


def reports(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """Every report file a pipeline asks for, as flags and as environment."""
    flags = ["--junit", str(tmp_path / "junit.xml"), "--json-report", str(tmp_path / "out.json")]
    env = {
        "GITHUB_OUTPUT": str(tmp_path / "outputs"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    return flags, env


def gate_with_every_report(
    emulator: Emulator, tmp_path: Path, command: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    """``gate wait`` (production's latest) or ``gate wait-all`` (a release of production) with
    --on-failure rollback, writing every report a pipeline asks for (see :func:`reports`)."""
    flags, files = reports(tmp_path)
    if command == "wait":
        target = ["wait", *HUMANITEC_PRODUCTION, "--latest"]
    else:
        target = ["wait-all", release(tmp_path, {"env": "production"})]
    return run_gate(
        *target,
        *FAST,
        *flags,
        "--on-failure",
        "rollback",
        *extra,
        "--output",
        "github",
        env={"HUMANITEC_API_URL": emulator.url, "HUMANITEC_TOKEN": TOKEN, **ENV, **files},
    )


@pytest.mark.parametrize("command", ["wait", "wait-all"])
def test_a_start_without_a_clear_answer_is_may_have_started_on_every_face(
    holding: HoldsTheStart, tmp_path: Path, command: str
) -> None:
    history(holding)
    result = gate_with_every_report(holding, tmp_path, command, "--request-timeout", "1s")
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(holding.posted) == 1, "the start was sent once, never retried"

    whole = json.loads((tmp_path / "out.json").read_text())
    outcome = whole if command == "wait" else whole["targets"][0]
    rollback = outcome["rollback"]
    assert rollback["status"] == "may-have-started"
    assert (
        "it may have started; check the deployments of acme/shop/production" in (rollback["reason"])
    )

    outputs = parse_output_file((tmp_path / "outputs").read_text())
    if command == "wait":
        assert outputs["rollback-status"] == "may-have-started"
    else:
        (said,) = json.loads(outputs["outcomes"])
        assert said["rollback_status"] == "may-have-started"

    summary = (tmp_path / "summary.md").read_text()
    assert "rollback may-have-started" in summary

    junit = ET.parse(tmp_path / "junit.xml").getroot().find(".//failure")
    assert junit is not None
    assert "rollback may-have-started" in (junit.text or "")

    annotations = [c for c in parse_commands(result.stdout) if c.name in ("error", "warning")]
    assert any("rollback may-have-started" in c.data for c in annotations), annotations
    assert "rollback may-have-started" in result.stdout
    for face in (result.stdout, summary, json.dumps(whole), json.dumps(outputs)):
        assert "not-started" not in face
        assert "not started" not in face


def sigterm_once_the_start_is_held(
    holding: HoldsTheStart, *args: str
) -> tuple[int, dict[str, Any], str]:
    """Run ``gate ARGS --on-failure rollback --output json``; send SIGTERM once the emulator
    holds the rollback's start. Its exit code, JSON outcome and stderr."""
    with (
        subprocess.Popen(
            [sys.executable, "-m", "gate", *args, "--on-failure", "rollback", "--output", "json"],
            env={**clean_env(), "HUMANITEC_API_URL": holding.url, "HUMANITEC_TOKEN": TOKEN},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process,
        killed_if_failed(process),
    ):
        while not holding.start_held.wait(0.05):
            assert process.poll() is None, "the gate ended before it started the rollback"
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    assert stdout.count("\n") == 1, (stdout, stderr)
    return process.returncode, json.loads(stdout), stderr


@pytest.mark.parametrize("command", ["wait", "wait-all"])
def test_sigterm_while_the_start_is_in_flight_is_143_and_may_have_started(
    holding: HoldsTheStart, tmp_path: Path, command: str
) -> None:
    """The runner's SIGTERM while the emulator holds the start: exit 128 + 15, and the words
    that say to check before retrying, in text and JSON."""
    _, failed = history(holding)
    if command == "wait":
        target = ["wait", *HUMANITEC_PRODUCTION, "--deploy-id", failed]
    else:
        target = ["wait-all", release(tmp_path, {"env": "production"})]
    code, whole, stderr = sigterm_once_the_start_is_held(holding, *target, *FAST)
    assert code == 128 + signal.SIGTERM, stderr
    assert whole["exit_code"] == 143
    outcome = whole if command == "wait" else whole["targets"][0]
    assert outcome["status"] == "failed", "the deployment did fail"
    rollback = outcome["rollback"]
    assert rollback["status"] == "may-have-started"
    assert "it may have started; check" in rollback["reason"]
    assert "before retrying" in rollback["reason"]
    if command == "wait":
        words = "while the rollback's start was in flight: it may have started; check"
        assert f"interrupted by signal {signal.SIGTERM} {words}" in rollback["reason"]
    assert "rollback may-have-started: redeploy set" in stderr
    assert "it may have started; check" in stderr


def test_sigterm_during_the_releases_rollback_is_143_with_the_outcome_written(
    holding: HoldsTheStart, tmp_path: Path
) -> None:
    """The release failed its bake and rolls its target back: SIGTERM while the start is
    held ends the gate at once, 143, with the outcome written and the start said as it is."""
    history(holding, final="succeeded")
    with HealthEndpoint([503], body="checkout: payments unreachable") as probe:
        code, whole, stderr = sigterm_once_the_start_is_held(
            holding,
            "wait-all",
            release(tmp_path, {"env": "production"}),
            *FAST,
            "--bake",
            "5m",
            "--bake-interval",
            "0.2s",
            "--probe",
            probe.url,
            "--request-timeout",
            "5s",
        )
    assert code == 128 + signal.SIGTERM, stderr
    assert whole["exit_code"] == 143
    assert whole["reason"].startswith("every deployment succeeded, then the release failed")
    (target,) = whole["targets"]
    assert target["rollback"]["status"] == "may-have-started"
    assert "it may have started; check" in target["rollback"]["reason"]


def test_the_actions_rollback_status_says_may_have_started(
    holding: HoldsTheStart, tmp_path: Path, runner_temp: Path
) -> None:
    """Through action.yml, as a workflow reads it: the output it would branch on."""
    _, failed = history(holding)
    inputs = {
        "provider": "humanitec",
        "org": "acme",
        "app": "shop",
        "env": "production",
        "deploy-id": failed,
        "humanitec-token": TOKEN,
        "interval": "0.05s",
        "max-interval": "0.2s",
        "on-failure": "rollback",
        "request-timeout": "1s",
    }
    (tmp_path / "workspace").mkdir()
    run = run_action(
        REPO,
        inputs,
        env={**clean_env(), "HUMANITEC_API_URL": holding.url},
        runner_temp=runner_temp,
        workspace=tmp_path / "workspace",
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outputs["rollback-status"] == "may-have-started"
    (said,) = [c for c in parse_commands(run.stdout) if c.name == "warning"]
    assert said.properties["title"] == "Rollback may-have-started"
    assert "it may have started; check the deployments of acme/shop/production" in said.data


@pytest.mark.parametrize("command", ["wait", "wait-all"])
def test_no_rollback_due_is_null_in_json_and_empty_as_a_step_output(
    emulator: Emulator, tmp_path: Path, command: str
) -> None:
    """A gate that passed with --on-failure rollback: no rollback was due, and every face says
    it one way: null in JSON (the outcome, a wait-all target's rollback_status), an empty
    rollback-status step output, and no word of a rollback anywhere else."""
    history(emulator, final="succeeded")
    result = gate_with_every_report(emulator, tmp_path, command)
    assert result.returncode == 0, result.stdout + result.stderr
    whole = json.loads((tmp_path / "out.json").read_text())
    outputs = parse_output_file((tmp_path / "outputs").read_text())
    if command == "wait":
        assert whole["rollback"] is None
        assert outputs["rollback-status"] == ""
    else:
        (target_outcome,) = whole["targets"]
        assert target_outcome["rollback"] is None
        (said,) = json.loads(outputs["outcomes"])
        assert said["rollback_status"] is None
        assert "rollback-status" not in outputs
    for face in (result.stdout, (tmp_path / "summary.md").read_text()):
        assert "rollback" not in face.lower()
    assert "rollback" not in (tmp_path / "junit.xml").read_text().lower()
