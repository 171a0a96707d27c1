"""The version a rollback restores, and starting it, through the real command on the emulator
(which keeps what it started, honours idempotency keys and client tokens, and can answer a
fault after acting). Each test fails on a gate that reads part of a history, restores a
deployment that failed on its devices, rolls back a plan-only run, gives up on a 429, calls a
409 to a keyed start "not started", or echoes a component's configuration."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gate.emulator import Device, Emulator, Fault, Timeline
from gate.providers.humanitec.v2.rollback import MAX_PAGES, PER_PAGE
from tests.builders import FAST_JSON
from tests.support import TOKEN, on_emulator, run_gate

FAILS = Timeline([(0, "in progress"), (1, "failed")])
SUCCEEDED = Timeline([(0, "succeeded")])
ORG_DEPLOYMENTS = "/orgs/acme/deployments"


def orchestrator_gate(emulator: Emulator, failed: str) -> subprocess.CompletedProcess[str]:
    return run_gate(
        "wait",
        "humanitec-v2",
        "--org",
        "acme",
        "--deployment-id",
        failed,
        *FAST_JSON,
        "--on-failure",
        "rollback",
        env={"HUMANITEC_API_URL": emulator.url, "HUMANITEC_AUTH_TOKEN": TOKEN},
    )


def rollback_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The rollback of a gate that failed (exit 1, whatever the rollback did)."""
    assert result.returncode == 1, result.stderr
    assert result.stdout.count("\n") == 1, (result.stdout, result.stderr)
    rollback: dict[str, Any] = json.loads(result.stdout)["rollback"]
    return rollback


def successes(emulator: Emulator, count: int) -> list[str]:
    """``count`` deployments that succeeded, oldest first, the newest an hour ago."""
    return [
        emulator.add_humanitec_v2("acme", SUCCEEDED, started_ago=3600 + count - n)
        for n in range(count)
    ]


def started_by_the_api(emulator: Emulator) -> list[dict[str, Any]]:
    """The deployments the emulator made in answer to a POST (rollbacks), by listing them."""
    return [
        item for item in emulator.humanitec_v2_deployments("acme") if item["mode"] == "rollback"
    ]


# The version to restore: the whole history, in whatever order the API lists it.


def test_humanitec_v2_restores_the_newest_success_of_a_history_listed_oldest_first(
    paced_emulator: Emulator,
) -> None:
    """600 successes then the failure, listed oldest first (the spec promises no order): the
    success to restore is on page 12, past the ten pages a gate once read."""
    paced_emulator.oldest_first = True
    good = successes(paced_emulator, 600)
    failed = paced_emulator.add_humanitec_v2("acme", FAILS)
    rollback = rollback_of(orchestrator_gate(paced_emulator, failed))
    assert rollback["plan"]["to"] == good[-1]
    assert rollback["outcome"]["status"] == "succeeded"
    ((_, body, _),) = paced_emulator.posted
    assert body["rollback_to_deployment_id"] == good[-1]


def test_humanitec_v2_never_undoes_a_newer_deployment_listed_on_a_late_page(
    paced_emulator: Emulator,
) -> None:
    paced_emulator.oldest_first = True
    successes(paced_emulator, 600)
    failed = paced_emulator.add_humanitec_v2("acme", FAILS, started_ago=60)
    newer = paced_emulator.add_humanitec_v2("acme", Timeline([(0, "in progress")]))
    rollback = rollback_of(orchestrator_gate(paced_emulator, failed))
    assert rollback["plan"] is None
    assert rollback["reason"] == (
        f"deployment {newer} was started in acme/shop/staging after {failed} failed, "
        "and a rollback would undo it"
    )
    assert paced_emulator.posted == []


def test_humanitec_v2_refuses_to_plan_from_a_history_longer_than_it_reads(
    paced_emulator: Emulator,
) -> None:
    read = MAX_PAGES * PER_PAGE
    successes(paced_emulator, read)
    failed = paced_emulator.add_humanitec_v2("acme", FAILS)
    result = orchestrator_gate(paced_emulator, failed)
    rollback = rollback_of(result)
    assert rollback["plan"] is None
    assert rollback["reason"] == (
        f"the deployment history of acme/shop/staging is longer than the {read:,} deployments "
        "the gate reads (listed in no promised order): what to roll back to cannot be known"
    )
    assert paced_emulator.posted == []
    assert "rollback skipped: the deployment history of acme/shop/staging" in result.stderr


def test_humanitec_v2_a_failed_plan_only_run_is_never_rolled_back(
    paced_emulator: Emulator,
) -> None:
    paced_emulator.add_humanitec_v2("acme", SUCCEEDED, started_ago=3600)
    failed = paced_emulator.add_humanitec_v2("acme", FAILS, mode="plan_only")
    result = orchestrator_gate(paced_emulator, failed)
    rollback = rollback_of(result)
    assert rollback["plan"] is None
    assert rollback["status"] == "skipped"
    assert rollback["reason"] == "the deployment was plan-only, nothing changed"
    assert paced_emulator.posted == []
    assert "rollback skipped: the deployment was plan-only, nothing changed" in result.stderr


# Starting it: a 429 is sent again; a 409 to a keyed start may be the rollback starting.


def test_humanitec_v2_a_throttled_start_is_sent_again_after_the_pause_asked_for(
    paced_emulator: Emulator,
) -> None:
    """Two 429s (not acted on, Retry-After: 1), then the start: one rollback, gated."""
    good = paced_emulator.add_humanitec_v2("acme", SUCCEEDED, started_ago=3600)
    failed = paced_emulator.add_humanitec_v2("acme", FAILS)
    paced_emulator.inject(
        Fault.http(429, retry_after="1", body=b'{"error":"API-429","message":"slow down"}'),
        times=2,
        path_contains=ORG_DEPLOYMENTS,
        method="POST",
    )
    rollback = rollback_of(orchestrator_gate(paced_emulator, failed))
    assert rollback["outcome"]["status"] == "succeeded", rollback
    assert len(paced_emulator.posted) == 3
    assert len({headers["idempotency-key"] for _, _, headers in paced_emulator.posted}) == 1
    (made,) = started_by_the_api(paced_emulator)
    assert made["rollback_to_deployment_id"] == good
    assert rollback["outcome"]["target"]["deployment_id"] == made["id"]


def test_greengrass_v2_a_throttled_start_is_sent_again_after_the_pause_asked_for(
    paced_emulator: Emulator,
) -> None:
    previous = paced_emulator.add_greengrass_v2(
        [Device("press-1", Timeline([(0, "SUCCEEDED")]))], thing_group="line-a", started_ago=60
    )
    paced_emulator.supersede_greengrass_v2(previous)
    failed = paced_emulator.add_greengrass_v2(
        [Device("press-1", Timeline([(0, "QUEUED"), (1, "FAILED")]))], thing_group="line-a"
    )
    paced_emulator.inject(
        Fault.aws("ThrottlingException", status=429, message="Rate exceeded"),
        times=2,
        path_contains="/greengrass/v2/deployments",
        method="POST",
    )
    rollback = rollback_of(greengrass_v2_gate(paced_emulator, failed))
    assert rollback["outcome"]["status"] == "succeeded", rollback
    assert len(paced_emulator.posted) == 3


def test_humanitec_v2_a_conflict_to_a_keyed_start_says_the_rollback_may_have_started(
    paced_emulator: Emulator,
) -> None:
    """The API starts the rollback, and answers 409 (the key already in progress): the gate
    must not say it was not started, nor send it again."""
    paced_emulator.add_humanitec_v2("acme", SUCCEEDED, started_ago=3600)
    failed = paced_emulator.add_humanitec_v2("acme", FAILS)
    in_progress = b'{"error":"API-409","message":"a request with this key is in progress"}'
    paced_emulator.inject(
        Fault.http(409, body=in_progress).acting_first(),
        path_contains=ORG_DEPLOYMENTS,
        method="POST",
    )
    result = orchestrator_gate(paced_emulator, failed)
    rollback = rollback_of(result)
    assert len(started_by_the_api(paced_emulator)) == 1
    assert len(paced_emulator.posted) == 1
    assert rollback["outcome"] is None
    assert "it may have started; check the deployments to acme/shop/staging" in (rollback["reason"])
    assert "rollback not-started" not in result.stderr
    assert "rollback may-have-started: " in result.stderr
    assert "the rollback request got no clear answer (" in result.stderr


# An answer of success the gate cannot use (no id, an id it will not put in a path, a 2xx the
# API does not give): the backend acted, so the rollback may have started, never "not started".
UNUSABLE_SUCCESSES = {
    "201-without-an-id": (201, b"{}"),
    "201-with-a-slash-in-the-id": (201, b'{"id": "rollback/../9f2c"}'),
    "202-accepted": (202, b"{}"),
}


@pytest.mark.parametrize(
    ("status", "answer"), UNUSABLE_SUCCESSES.values(), ids=list(UNUSABLE_SUCCESSES)
)
def test_humanitec_v2_a_start_answered_without_a_usable_id_may_have_started(
    paced_emulator: Emulator, status: int, answer: bytes
) -> None:
    paced_emulator.add_humanitec_v2("acme", SUCCEEDED, started_ago=3600)
    failed = paced_emulator.add_humanitec_v2("acme", FAILS)
    paced_emulator.inject(
        Fault.http(status, body=answer).acting_first(),
        path_contains=ORG_DEPLOYMENTS,
        method="POST",
    )
    result = orchestrator_gate(paced_emulator, failed)
    rollback = rollback_of(result)
    assert rollback["status"] == "may-have-started", rollback
    assert rollback["outcome"] is None
    assert len(started_by_the_api(paced_emulator)) == 1
    assert len(paced_emulator.posted) == 1
    assert "check the deployments to acme/shop/staging before retrying" in rollback["reason"]
    assert "rollback not-started" not in result.stderr
    assert "rollback may-have-started: " in result.stderr


@pytest.mark.parametrize("status", [400, 403, 422])
def test_humanitec_v2_a_start_refused_with_a_clear_answer_is_not_started(
    paced_emulator: Emulator, status: int
) -> None:
    """The other side of the line: a refusal created nothing, and says so."""
    paced_emulator.add_humanitec_v2("acme", SUCCEEDED, started_ago=3600)
    failed = paced_emulator.add_humanitec_v2("acme", FAILS)
    refusal = b'{"error":"API-%d","message":"refused"}' % status
    paced_emulator.inject(
        Fault.http(status, body=refusal), path_contains=ORG_DEPLOYMENTS, method="POST"
    )
    rollback = rollback_of(orchestrator_gate(paced_emulator, failed))
    assert rollback["status"] == "not-started", rollback
    assert started_by_the_api(paced_emulator) == []
    assert len(paced_emulator.posted) == 1


@pytest.mark.parametrize(
    "answer",
    [b"{}", b'{"deploymentId": "rollback/../9f2c"}'],
    ids=["without-a-deployment-id", "with-a-slash-in-the-id"],
)
def test_greengrass_v2_a_start_answered_without_a_usable_id_may_have_started(
    paced_emulator: Emulator, answer: bytes
) -> None:
    previous = paced_emulator.add_greengrass_v2(
        [Device("press-1", Timeline([(0, "SUCCEEDED")]))], thing_group="line-a", started_ago=60
    )
    paced_emulator.supersede_greengrass_v2(previous)
    failed = paced_emulator.add_greengrass_v2(
        [Device("press-1", Timeline([(0, "QUEUED"), (1, "FAILED")]))], thing_group="line-a"
    )
    paced_emulator.inject(
        Fault.http(201, body=answer).acting_first(),
        path_contains="/greengrass/v2/deployments",
        method="POST",
    )
    result = greengrass_v2_gate(paced_emulator, failed)
    rollback = rollback_of(result)
    assert rollback["status"] == "may-have-started", rollback
    assert rollback["outcome"] is None
    assert len(paced_emulator.posted) == 1
    assert "it may have started; check the deployments to " in rollback["reason"]
    assert "rollback not-started" not in result.stderr


# Greengrass v2: the last deployment that worked on its devices, its configuration unsaid.

SECRET_CONFIG = '{"apiKey": "gg-s3cr3t-config-value"}'
WORKED_SPEC = {
    "deploymentName": "sensor 1.4",
    "components": {
        "com.acme.Sensor": {
            "componentVersion": "1.4.0",
            "configurationUpdate": {"merge": SECRET_CONFIG},
        }
    },
    "tags": {"team": "sensors"},
}


def greengrass_v2_gate(
    emulator: Emulator, failed: str, *flags: str
) -> subprocess.CompletedProcess[str]:
    return run_gate(
        "wait",
        "greengrass-v2",
        "--deployment-id",
        failed,
        *on_emulator(emulator),
        *FAST_JSON,
        "--on-failure",
        "rollback",
        *flags,
        env={"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t-aws-key"},
    )


def test_greengrass_v2_restores_the_last_deployment_that_worked_on_its_devices(
    paced_emulator: Emulator, tmp_path: Path
) -> None:
    """Every replaced deployment of a thing group reads INACTIVE; the one just before the
    failure failed on every device, so the one before it is restored: its components and
    tags, its configuration sent but never shown."""
    presses = ["press-1", "press-2"]
    worked = paced_emulator.add_greengrass_v2(
        [Device(name, Timeline([(0, "SUCCEEDED")])) for name in presses],
        thing_group="line-a",
        started_ago=7200,
        spec=WORKED_SPEC,
    )
    failed_everywhere = paced_emulator.add_greengrass_v2(
        [Device(name, Timeline([(0, "FAILED")]), reason="bad config") for name in presses],
        thing_group="line-a",
        started_ago=3600,
    )
    for replaced in (worked, failed_everywhere):
        paced_emulator.supersede_greengrass_v2(replaced)
    failed = paced_emulator.add_greengrass_v2(
        [Device(name, Timeline([(0, "QUEUED"), (1, "FAILED")])) for name in presses],
        thing_group="line-a",
    )
    report = tmp_path / "report.json"
    result = greengrass_v2_gate(paced_emulator, failed, "--json-report", str(report))
    rollback = rollback_of(result)
    assert rollback["plan"]["to"] == worked
    assert rollback["outcome"]["status"] == "succeeded"
    ((_, sent, _),) = paced_emulator.posted
    assert sent["components"] == WORKED_SPEC["components"]
    assert sent["tags"] == WORKED_SPEC["tags"]
    shown = rollback["plan"]["request"]["params"]
    assert shown["components"]["com.acme.Sensor"]["componentVersion"] == "1.4.0"
    assert shown["tags"] == WORKED_SPEC["tags"]
    assert "s3cr3t-config" not in result.stdout + result.stderr + report.read_text()


def test_greengrass_v2_nothing_to_roll_back_to_when_no_earlier_deployment_worked(
    paced_emulator: Emulator,
) -> None:
    failed_everywhere = paced_emulator.add_greengrass_v2(
        [Device("press-1", Timeline([(0, "FAILED")]))], thing_group="line-a", started_ago=3600
    )
    paced_emulator.supersede_greengrass_v2(failed_everywhere)
    failed = paced_emulator.add_greengrass_v2(
        [Device("press-1", Timeline([(0, "QUEUED"), (1, "FAILED")]))], thing_group="line-a"
    )
    rollback = rollback_of(greengrass_v2_gate(paced_emulator, failed))
    assert rollback["plan"] is None
    assert rollback["reason"].startswith("nothing to roll back to: no deployment to ")
    assert paced_emulator.posted == []


def test_wait_all_rolls_every_target_back_through_a_storm_of_429s(tmp_path: Path) -> None:
    """20 environments fail together and the API allows 10 requests a second, answering more
    with 429: every rollback is sent again after the pause until it starts, once each."""
    envs = [f"env-{n:02d}" for n in range(20)]
    with Emulator(token=TOKEN, rate_limit=10) as emulator:
        good = {
            env: emulator.add_humanitec_v2("acme", SUCCEEDED, env=env, started_ago=3600)
            for env in envs
        }
        failing = Timeline([(0, "in progress"), (0.5, "failed")])
        targets = [
            {"org": "acme", "deployment_id": emulator.add_humanitec_v2("acme", failing, env=env)}
            for env in envs
        ]
        release = tmp_path / "release.yaml"
        release.write_text(
            json.dumps({"defaults": {"provider": "humanitec-v2"}, "targets": targets})
        )
        result = run_gate(
            "wait-all",
            str(release),
            "--max-rate",
            "100",
            "--timeout",
            "120s",
            *FAST_JSON,
            "--on-failure",
            "rollback",
            env={"HUMANITEC_API_URL": emulator.url, "HUMANITEC_AUTH_TOKEN": TOKEN},
            timeout=180,
        )
        made = started_by_the_api(emulator)
        throttled = emulator.throttled
    assert result.returncode == 1, result.stderr
    assert throttled > 0
    rollbacks = [target["rollback"] for target in json.loads(result.stdout)["targets"]]
    assert [r["outcome"]["status"] if r["outcome"] else r["reason"] for r in rollbacks] == [
        "succeeded"
    ] * 20
    assert sorted(item["rollback_to_deployment_id"] for item in made) == sorted(good.values())
