"""--on-failure rollback through the real command: the gate fails, rolls the target back on
the emulator (which checks each start against the vendored contracts), gates the rollback,
and keeps the original failure's exit code. Each backend's plan and request are tested in
tests/test_rollback.py; here, what a pipeline sees."""

from __future__ import annotations

import subprocess

from gate.emulator import Device, Emulator, Timeline
from tests.actions_runner import parse_commands
from tests.builders import FAST, FAST_JSON, gate_humanitec, json_outcome
from tests.support import TOKEN, on_emulator, run_gate

GOOD_SET = "5e7b0c2f91d4"


def gate_deployment(
    emulator: Emulator, deploy_id: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    """``gate wait humanitec`` on one deployment of acme/shop/production, JSON on stdout."""
    return gate_humanitec(emulator, "--deploy-id", deploy_id, "--output", "json", *extra)


def history(emulator: Emulator, final: str = "failed") -> tuple[str, str]:
    """A deployment that succeeded an hour ago, then one that ends ``final``."""
    good = emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        Timeline([(0, "succeeded")]),
        started_ago=3600,
        set_id=GOOD_SET,
    )
    failed = emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        Timeline([(0, "in progress"), (1, final)]),
        set_id="8a41f9d03c6e",
        errors=[{"scope": "workload", "object_id": "api", "code": "E1", "message": "crashed"}],
    )
    return good, failed


def test_a_failed_deployment_is_rolled_back_and_the_rollback_gated(
    paced_emulator: Emulator,
) -> None:
    good, failed = history(paced_emulator)
    result = gate_deployment(paced_emulator, failed, "--on-failure", "rollback")
    assert result.returncode == 1, result.stderr
    outcome = json_outcome(result)
    assert outcome["status"] == "failed"
    rollback = outcome["rollback"]
    assert rollback["plan"]["to"] == good
    assert rollback["outcome"]["status"] == "succeeded"
    assert rollback["outcome"]["target"]["deploy_id"] not in (good, failed)
    ((path, body, _),) = paced_emulator.posted
    assert path == "/orgs/acme/apps/shop/envs/production/deploys"
    assert body["set_id"] == GOOD_SET
    assert failed in body["comment"]
    assert f"rolling back: redeploy set {GOOD_SET}" in result.stderr
    assert rollback["status"] == "succeeded"
    assert f"rollback succeeded: redeploy set {GOOD_SET}" in result.stderr
    assert TOKEN not in result.stdout + result.stderr


def test_a_dry_run_says_what_it_would_redeploy_and_starts_nothing(
    paced_emulator: Emulator,
) -> None:
    good, failed = history(paced_emulator)
    result = gate_deployment(paced_emulator, failed, "--on-failure", "rollback", "--dry-run")
    assert result.returncode == 1
    rollback = json_outcome(result)["rollback"]
    assert rollback["dry_run"] is True
    assert rollback["plan"]["request"]["body"] == {"set_id": GOOD_SET}
    assert rollback["outcome"] is None
    assert paced_emulator.posted == []
    assert f"rollback dry-run: would redeploy set {GOOD_SET} of deployment {good}" in (
        result.stderr
    )


def test_a_failed_rollback_is_reported_and_the_exit_code_stays_the_failures(
    paced_emulator: Emulator,
) -> None:
    _, failed = history(paced_emulator)
    paced_emulator.then_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (1, "failed")])
    )
    result = gate_deployment(paced_emulator, failed, "--on-failure", "rollback")
    assert result.returncode == 1
    assert json_outcome(result)["rollback"]["outcome"]["status"] == "failed"


def test_the_first_deployment_has_nothing_to_roll_back_to(paced_emulator: Emulator) -> None:
    failed = paced_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (1, "failed")])
    )
    result = gate_deployment(paced_emulator, failed, "--on-failure", "rollback")
    assert result.returncode == 1
    rollback = json_outcome(result)["rollback"]
    assert rollback["plan"] is None
    assert rollback["reason"].startswith("nothing to roll back to")
    assert paced_emulator.posted == []


def test_a_timeout_is_rolled_back_only_when_asked(paced_emulator: Emulator) -> None:
    _, running = history(paced_emulator, final="in progress")
    plain = gate_deployment(paced_emulator, running, "--on-failure", "rollback", "--timeout", "1s")
    assert plain.returncode == 3
    assert json_outcome(plain)["rollback"] is None
    asked = gate_deployment(
        paced_emulator, running, "--on-failure", "rollback-also-on-timeout", "--timeout", "1s"
    )
    assert asked.returncode == 3
    assert json_outcome(asked)["rollback"]["plan"] is not None
    assert len(paced_emulator.posted) == 1


def test_humanitec_v2_rolls_back_in_the_specs_rollback_mode(paced_emulator: Emulator) -> None:
    good = paced_emulator.add_humanitec_v2("acme", Timeline([(0, "succeeded")]), started_ago=3600)
    failed = paced_emulator.add_humanitec_v2("acme", Timeline([(0, "in progress"), (1, "failed")]))
    result = run_gate(
        "wait",
        "humanitec-v2",
        "--org",
        "acme",
        "--deployment-id",
        failed,
        *FAST_JSON,
        "--on-failure",
        "rollback",
        env={"HUMANITEC_API_URL": paced_emulator.url, "HUMANITEC_AUTH_TOKEN": TOKEN},
    )
    assert result.returncode == 1, result.stderr
    rollback = json_outcome(result)["rollback"]
    assert rollback["plan"]["to"] == good
    assert rollback["outcome"]["status"] == "succeeded"
    ((_, body, _),) = paced_emulator.posted
    assert body["mode"] == "rollback"
    assert body["rollback_to_deployment_id"] == good


def test_greengrass_v2_recreates_the_previous_deployment_and_gates_it(
    paced_emulator: Emulator,
) -> None:
    ok = Timeline([(0, "QUEUED"), (1, "SUCCEEDED")])
    broken = Timeline([(0, "QUEUED"), (1, "FAILED")])
    done = Timeline([(0, "SUCCEEDED")])  # history: never read, so done from the start
    previous = paced_emulator.add_greengrass_v2(
        [Device("press-1", done), Device("press-2", done)], thing_group="line-a", started_ago=3600
    )
    failed = paced_emulator.add_greengrass_v2(
        [Device("press-1", ok), Device("press-2", broken, reason="component crashed")],
        thing_group="line-a",
    )
    result = run_gate(
        "wait",
        "greengrass-v2",
        "--deployment-id",
        failed,
        *on_emulator(paced_emulator),
        *FAST_JSON,
        "--on-failure",
        "rollback",
        env={"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t-aws-key"},
    )
    assert result.returncode == 1, result.stderr
    rollback = json_outcome(result)["rollback"]
    assert rollback["plan"]["to"] == previous
    assert rollback["outcome"]["status"] == "succeeded"
    assert rollback["outcome"]["progress"].startswith("2/2 devices succeeded")


def test_under_github_the_rollback_is_said_with_commands_off_and_in_one_annotation(
    paced_emulator: Emulator,
) -> None:
    _, failed = history(paced_emulator)
    result = run_gate(
        "wait",
        "humanitec",
        "--org",
        "acme",
        "--app",
        "shop",
        "--env",
        "production",
        "--deploy-id",
        failed,
        *FAST,
        "--output",
        "github",
        "--on-failure",
        "rollback",
        env={"HUMANITEC_API_URL": paced_emulator.url, "HUMANITEC_TOKEN": TOKEN},
    )
    assert result.returncode == 1, result.stderr
    commands = parse_commands(result.stdout)
    annotations = [c for c in commands if c.name in ("notice", "error", "warning")]
    assert [c.name for c in annotations] == ["error", "notice"]
    assert annotations[1].properties["title"] == "Rollback succeeded"
    assert annotations[1].data.startswith(f"rollback succeeded: redeploy set {GOOD_SET}")
    assert not [c for c in commands if c.legacy]
    said = [line for line in result.stdout.splitlines() if "rollback" in line]
    said = [line for line in said if not line.startswith("::notice")]
    assert said, result.stdout
    for line in said:  # each is said between a stop-commands line and its resume
        index = result.stdout.splitlines().index(line)
        assert result.stdout.splitlines()[index - 1].startswith("::stop-commands::"), line
    assert "rollback: succeeded after" in result.stdout
    assert "rolling back: redeploy set" in result.stdout
