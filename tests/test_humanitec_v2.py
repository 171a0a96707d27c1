"""The Humanitec v2 orchestrator provider: waits at the server with the long-poll.

Against the package's emulator on 127.0.0.1 in real time (a long-poll holds a real socket),
its answers held to the v2 spec kept in tests/contracts/.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from openapi_schema_validator import OAS30Validator

from gate import WaitOptions, wait
from gate.core.model import OutcomeStatus
from gate.core.secret import Secret
from gate.emulator import Emulator, Fault, Timeline
from gate.providers.humanitec.api import connect
from gate.providers.humanitec.v2.reader import HumanitecV2Deployment
from tests.support import REPO, TOKEN, run_gate

SPEC = REPO / "tests" / "contracts" / "humanitec-v2-orchestrator.yaml"
FAILS = Timeline([(0, "in progress"), (1.5, "failed")])


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC.read_text())
    return loaded


def validator(spec: dict[str, Any], name: str) -> OAS30Validator:
    return OAS30Validator(
        {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    )


@pytest.fixture
def v2(emulator: Emulator) -> Iterator[Any]:
    made: list[HumanitecV2Deployment] = []

    def make(deployment_id: str, **kwargs: Any) -> HumanitecV2Deployment:
        client = connect(emulator.url, Secret(TOKEN), request_timeout=2.0)
        provider = HumanitecV2Deployment(
            client, org="acme", deployment_id=deployment_id, token=Secret(TOKEN), **kwargs
        )
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


def gate_v2(emulator: Emulator, deployment_id: str, *args: str) -> tuple[int, dict[str, Any], str]:
    result = run_gate(
        "wait",
        "humanitec-v2",
        "--org",
        "acme",
        "--deployment-id",
        deployment_id,
        "--output",
        "json",
        *args,
        env={"HUMANITEC_AUTH_TOKEN": TOKEN, "HUMANITEC_API_URL": emulator.url},
    )
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout or "{}"), result.stderr


def test_the_v2_spec_is_the_published_one_unedited() -> None:
    recorded = re.search(
        r"v2 spec's SHA-256 is\s+`([0-9a-f]{64})`", (SPEC.parent / "README.md").read_text()
    )
    assert recorded
    assert hashlib.sha256(SPEC.read_bytes()).hexdigest() == recorded.group(1)


def test_the_long_poll_the_provider_uses_is_the_one_the_spec_publishes(
    spec: dict[str, Any],
) -> None:
    operation = spec["paths"]["/orgs/{orgId}/deployments/{deploymentId}/actions/wait-for-complete"]
    assert set(operation["get"]["responses"]) >= {"200", "404", "408"}
    [timeout] = [p for p in operation["get"]["parameters"] if p.get("name") == "timeout_in_seconds"]
    assert timeout["schema"]["minimum"] == 2


def test_emulator_answers_follow_the_v2_spec(emulator: Emulator, spec: dict[str, Any]) -> None:
    done = emulator.add_humanitec_v2("acme", Timeline([(0, "succeeded")]))
    running = emulator.add_humanitec_v2("acme", Timeline([(0, "in progress")]))
    base = f"{emulator.url}/orgs/acme/deployments"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    wait_path = "actions/wait-for-complete"
    validator(spec, "Deployment").validate(httpx.get(f"{base}/{done}", headers=auth).json())
    complete = httpx.get(f"{base}/{done}/{wait_path}?timeout_in_seconds=2", headers=auth)
    assert complete.status_code == 200
    validator(spec, "Deployment").validate(complete.json())
    held = httpx.get(f"{base}/{running}/{wait_path}?timeout_in_seconds=2", headers=auth)
    assert held.status_code == 408
    validator(spec, "Error").validate(held.json())
    too_short = httpx.get(f"{base}/{running}/{wait_path}?timeout_in_seconds=1", headers=auth)
    assert too_short.status_code == 400
    missing = httpx.get(f"{base}/nope", headers=auth)
    assert missing.status_code == 404
    validator(spec, "Error").validate(missing.json())


def test_a_deployment_is_waited_on_at_the_server(emulator: Emulator, v2: Any) -> None:
    deployment_id = emulator.add_humanitec_v2(
        "acme", Timeline([(0, "in progress"), (3, "succeeded")])
    )
    outcome = wait(v2(deployment_id, long_poll_seconds=20), WaitOptions(timeout=30))
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert outcome.target == {"org": "acme", "deployment_id": deployment_id}
    held = [p for p in emulator.requests if p.endswith("wait-for-complete")]
    assert len(held) == 1, "one read, held until the deployment ended"
    assert outcome.polls == 2


def test_a_short_window_is_asked_again_until_the_deployment_ends(
    emulator: Emulator, v2: Any
) -> None:
    deployment_id = emulator.add_humanitec_v2(
        "acme", Timeline([(0, "in progress"), (5, "succeeded")])
    )
    outcome = wait(v2(deployment_id, long_poll_seconds=2), WaitOptions(timeout=30))
    assert outcome.status is OutcomeStatus.SUCCEEDED
    held = [p for p in emulator.requests if p.endswith("wait-for-complete")]
    assert 2 <= len(held) <= 3, "408 means keep waiting: asked again at once"


def test_a_failed_deployment_fails_the_gate_with_its_status_message(emulator: Emulator) -> None:
    deployment_id = emulator.add_humanitec_v2(
        "acme", FAILS, status_message="terraform apply: quota exceeded for resource 'db'"
    )
    code, outcome, _ = gate_v2(emulator, deployment_id)
    assert (code, outcome["status"], outcome["raw_status"]) == (1, "failed", "failed")
    [error] = outcome["errors"]
    assert error["message"] == "terraform apply: quota exceeded for resource 'db'"
    assert error["scope"] == "deployment"


def test_complete_with_a_word_other_than_succeeded_is_a_failure(emulator: Emulator) -> None:
    deployment_id = emulator.add_humanitec_v2("acme", Timeline([(0, "in progress")]))
    body = json.dumps({"id": deployment_id, "status": "cancelled", "status_message": "by ops"})
    emulator.inject(Fault.ok_body(body.encode()), path_contains="wait-for-complete")
    code, outcome, _ = gate_v2(emulator, deployment_id, "--timeout", "20s")
    assert (code, outcome["status"], outcome["raw_status"]) == (1, "failed", "cancelled")
    assert outcome["reason"] == (
        "the orchestrator says the deployment is complete, with status 'cancelled', "
        "which is not 'succeeded'"
    )


@pytest.mark.parametrize(
    "fault",
    [Fault.http(503), Fault.http(429, retry_after="1"), Fault.reset(), Fault.ok_body(b"<html>")],
    ids=["503", "429", "reset", "garbage"],
)
def test_transient_faults_on_the_long_poll_are_retried(emulator: Emulator, fault: Fault) -> None:
    deployment_id = emulator.add_humanitec_v2(
        "acme", Timeline([(0, "in progress"), (3, "succeeded")])
    )
    emulator.inject(fault, times=2, path_contains="wait-for-complete")
    code, outcome, _ = gate_v2(emulator, deployment_id, "--timeout", "30s")
    assert (code, outcome["status"]) == (0, "succeeded")
    assert emulator.pending_faults() == 0


def test_instant_408s_never_make_the_gate_spin(emulator: Emulator) -> None:
    deployment_id = emulator.add_humanitec_v2("acme", Timeline([(0, "in progress")]))
    emulator.inject(
        Fault.http(408, body=b'{"error":"API-408","message":"again"}'),
        times=1000,
        path_contains="wait-for-complete",
    )
    code, outcome, _ = gate_v2(emulator, deployment_id, "--timeout", "4s", "--interval", "1s")
    assert (code, outcome["status"]) == (3, "timed_out")
    assert outcome["polls"] <= 6, "one read per --interval at most when the server holds none"


def test_the_long_poll_never_outlasts_the_deadline(emulator: Emulator) -> None:
    deployment_id = emulator.add_humanitec_v2("acme", Timeline([(0, "in progress")]))
    code, outcome, _ = gate_v2(emulator, deployment_id, "--timeout", "5s")
    assert (code, outcome["status"]) == (3, "timed_out")
    assert outcome["elapsed_seconds"] <= 5 + 1.5
    assert outcome["reason"] == "the 5.0s deadline passed while the deployment was 'in progress'"


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (["--deployment-id", "d1"], {}, "--org is required (or set HUMANITEC_ORG_ID)"),
        (
            ["--org", "acme", "--deployment-id", "../d1"],
            {},
            "--deployment-id '../d1' is not a valid id",
        ),
        (["--org", "acme"], {}, "the following arguments are required: --deployment-id"),
    ],
)
def test_flags_that_cannot_work_are_exit_2(
    args: list[str], env: dict[str, str], words: str
) -> None:
    result = run_gate(
        "wait",
        "humanitec-v2",
        *args,
        env={"HUMANITEC_AUTH_TOKEN": TOKEN, "HUMANITEC_API_URL": "http://127.0.0.1:9", **env},
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert words in result.stderr


def test_a_long_poll_held_past_its_window_is_no_news_and_the_next_read_is_plain(
    paced_emulator: Emulator,
) -> None:
    """A server that holds past the window it was asked for (2 s here) says nothing about the
    deployment: the wait goes on from what was read, asks plainly next, and sees the end."""
    emulator = paced_emulator
    deployment_id = emulator.add_humanitec_v2(
        "acme", Timeline([(0, "executing"), (1, "succeeded")])
    )
    emulator.inject(Fault.hang(60), times=1, path_contains="wait-for-complete")
    provider = HumanitecV2Deployment(
        connect(emulator.url, Secret(TOKEN), request_timeout=1.0),
        org="acme",
        deployment_id=deployment_id,
        token=Secret(TOKEN),
        long_poll_seconds=2,
    )
    try:
        outcome = wait(provider, WaitOptions(timeout=30, interval=0.2))
    finally:
        provider.close()
    assert outcome.status is OutcomeStatus.SUCCEEDED, outcome.reason
    held = [path for path in emulator.requests if path.endswith("wait-for-complete")]
    plain = [path for path in emulator.requests if path.endswith(deployment_id)]
    assert (len(held), len(plain)) == (1, 2), emulator.requests
    assert "request timeout" not in " ".join(outcome.warnings)


def test_a_status_word_with_a_trailing_space_is_shown_so(paced_emulator: Emulator) -> None:
    deployment_id = paced_emulator.add_humanitec_v2("acme", Timeline([(0, "in progress")]))
    body = json.dumps({"id": deployment_id, "status": "succeeded ", "status_message": ""})
    paced_emulator.inject(Fault.ok_body(body.encode()), path_contains="wait-for-complete")
    code, outcome, _ = gate_v2(paced_emulator, deployment_id)
    assert code == 1
    assert outcome["reason"] == (
        "the orchestrator says the deployment is complete, with status 'succeeded ' "
        "(with a space at its end), which is not 'succeeded'"
    )


def test_history_is_the_environments_earlier_deployments_newest_first(
    emulator: Emulator, v2: Any
) -> None:
    """Ended deployments to the same environment, before this one: not a plan-only run, not
    one still running, not another environment's."""

    def ended_after(seconds: float, ago: float, **where: str) -> str:
        timeline = Timeline([(0, "in progress"), (seconds, "succeeded")])
        return emulator.add_humanitec_v2("acme", timeline, started_ago=ago, **where)

    ended_after(300, 7200)
    ended_after(420, 3600)
    ended_after(20, 3000, mode="plan_only")
    ended_after(900, 2400, env="production")
    emulator.add_humanitec_v2("acme", Timeline([(0, "in progress")]), started_ago=1200)
    current = emulator.add_humanitec_v2("acme", Timeline([(0, "in progress")]))
    provider = v2(current)
    assert provider.fetch().raw_status == "in progress"
    assert [round(took) for took in provider.past_durations()] == [420, 300]


def test_the_command_says_the_history_it_read_and_that_the_server_holds_each_read(
    emulator: Emulator,
) -> None:
    """With the long-poll there is no next read to time: the line says the server holds it.
    The deployment never ends (the gate times out): only the line is asserted."""
    for ago in (7200, 3600, 2400):
        timeline = Timeline([(0, "in progress"), (600, "succeeded")])
        emulator.add_humanitec_v2("acme", timeline, started_ago=ago)
    current = emulator.add_humanitec_v2("acme", Timeline([(0, "in progress")]))
    code, _, stderr = gate_v2(emulator, current, "--timeout", "3s")
    assert code == 3, stderr
    said = [line for line in stderr.splitlines() if "schedule:" in line]
    assert len(said) == 1, stderr
    assert said[0].endswith(
        "schedule: history of 3 earlier deployments (median 10m00s, p90 10m00s); "
        "the server holds each read until the deployment ends"
    )
