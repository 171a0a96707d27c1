"""Bake checks are plugins, found as providers are: the built-in ones declare the bake's
fields, and a third-party check installed as its own distribution (the example in
tests/parts/gate_health_file.py) is a flag of ``gate wait``, a key of a targets file and of
``gate schema targets``, follows the bake's rules, and fails a bake in its own words through
the real command, rolling the deployment back when asked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from gate.emulator import Emulator, Timeline
from tests.support import HUMANITEC_PRODUCTION, TOKEN, run_gate
from tests.test_registry import install_third_party
from tests.test_rollback_cli import GOOD_SET, history

EXAMPLE = Path(__file__).parent / "parts" / "gate_health_file.py"
FAST = ["--interval", "0.05s", "--max-interval", "0.2s", "--output", "json"]
LONG_BAKE = ["--bake", "5m", "--bake-interval", "0.2s"]
"""A bake that a breach must end: the test would take five minutes if it did not."""


def install_check(site: Path, source: str) -> dict[str, str]:
    """``source`` installed in ``site`` as the distribution ``gate-health-file``, whose
    plugin is the check ``health-file``: the environment that finds it."""
    site.mkdir()
    install_third_party(
        site, source, module="gate_health_file", group="gate.checks", name="health-file"
    )
    return {"PYTHONPATH": str(site)}


@pytest.fixture
def installed_check(tmp_path: Path) -> dict[str, str]:
    return install_check(tmp_path / "site", EXAMPLE.read_text())


def health_file(tmp_path: Path, said: str) -> str:
    path = tmp_path / "health"
    path.write_text(said + "\n")
    return str(path)


def gate(emulator: Emulator, env: dict[str, str], *args: str) -> Any:
    return run_gate(*args, env={"HUMANITEC_API_URL": emulator.url, "HUMANITEC_TOKEN": TOKEN, **env})


def test_the_built_in_checks_declare_the_bake_fields_in_their_order() -> None:
    from gate.bake.options import BAKING, CHECKS
    from gate.bake.plugin import CheckPlugin
    from gate.bake.registry import BUILT_IN

    assert [check.name for check in CHECKS] == list(BUILT_IN)
    assert all(isinstance(check, CheckPlugin) for check in CHECKS)
    assert [field.key for field in BAKING] == [
        "bake",
        "alarm",
        "alarm_region",
        "alarm_endpoint_url",
        "insufficient_data",
        "missing_alarm",
        "prometheus",
        "query",
        "compare",
        "compare_direction",
        "compare_baseline",
        "compare_confidence",
        "compare_min_effect",
        "compare_min_samples",
        "compare_cloudwatch",
        "alertmanager",
        "alert_filter",
        "probe",
        "probe_failures",
        "bake_interval",
        "bake_failure_limit",
        "bake_unreadable_limit",
        "bake_inconclusive",
        "bake_report_only",
    ]


def test_a_third_party_checks_field_is_a_flag_a_file_key_and_in_the_schema(
    installed_check: dict[str, str],
) -> None:
    helped = run_gate("wait", "humanitec", "--help", env=installed_check)
    assert helped.returncode == 0, helped.stderr
    assert "--health-file PATH" in helped.stdout
    said = " ".join(helped.stdout.split())
    assert "a file that fails the bake when it says anything but healthy; repeatable" in said
    printed = run_gate("schema", "targets", env=installed_check)
    assert printed.returncode == 0, printed.stderr
    schema = json.loads(printed.stdout)
    assert "health-file" in schema["$defs"]["options"]["properties"]
    target = {"provider": "humanitec", "org": "acme", "app": "shop", "env": "production"}
    assert Draft202012Validator(schema).is_valid([{**target, "health-file": ["/run/health"]}])


def test_a_third_party_check_follows_the_bakes_rules(
    emulator: Emulator, installed_check: dict[str, str], tmp_path: Path
) -> None:
    path = health_file(tmp_path, "healthy")
    target = ["wait", *HUMANITEC_PRODUCTION, "--deploy-id", "d-1"]
    unbaked = gate(emulator, installed_check, *target, "--health-file", path)
    assert unbaked.returncode == 2, unbaked.stderr
    assert "--health-file is read during a bake: give --bake" in unbaked.stderr
    unwatched = gate(emulator, installed_check, *target, "--bake", "1m")
    assert unwatched.returncode == 2, unwatched.stderr
    assert "--alertmanager, --probe or --health-file" in unwatched.stderr


def test_a_third_party_checks_breach_fails_the_bake_and_rolls_back(
    paced_emulator: Emulator, installed_check: dict[str, str], tmp_path: Path
) -> None:
    good, succeeded = history(paced_emulator, final="succeeded")
    path = health_file(tmp_path, "checkout: payments unreachable")
    result = gate(
        paced_emulator,
        installed_check,
        "wait",
        *HUMANITEC_PRODUCTION,
        "--deploy-id",
        succeeded,
        *FAST,
        *LONG_BAKE,
        "--health-file",
        path,
        "--on-failure",
        "rollback",
    )
    assert result.returncode == 1, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["raw_status"] == "succeeded"
    assert outcome["bake"]["status"] == "breached"
    (breach,) = outcome["bake"]["breaches"]
    assert breach == {**breach, "check": f"health file {path}"}
    assert breach["detail"] == "checkout: payments unreachable"
    assert outcome["bake"]["checks"][0]["kind"] == "health-file"
    assert outcome["reason"].startswith("the deployment succeeded, then failed its bake ")
    assert "checkout: payments unreachable" in outcome["reason"]
    rollback = outcome["rollback"]
    assert rollback["plan"]["to"] == good
    assert rollback["status"] == "succeeded"
    ((_, body, _),) = paced_emulator.posted
    assert body["set_id"] == GOOD_SET


def test_a_release_bakes_with_a_third_party_check_from_its_targets_file(
    paced_emulator: Emulator, installed_check: dict[str, str], tmp_path: Path
) -> None:
    paced_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (1, "succeeded")])
    )
    release = tmp_path / "release.yaml"
    entry = {"provider": "humanitec", "org": "acme", "app": "shop", "env": "production"}
    entry |= {"latest": True, "bake": "1s", "bake-interval": "0.2s"}
    entry["health-file"] = health_file(tmp_path, "healthy")
    release.write_text(yaml.safe_dump({"targets": [entry]}))
    result = gate(paced_emulator, installed_check, "wait-all", str(release), *FAST)
    assert result.returncode == 0, result.stderr
    (target,) = json.loads(result.stdout)["targets"]
    assert target["bake"]["status"] == "passed"
    assert target["bake"]["checks"][0]["summary"] == "health file healthy"


def test_a_check_that_declares_another_checks_field_is_refused(
    emulator: Emulator, tmp_path: Path
) -> None:
    source = EXAMPLE.read_text().replace('"health_file"', '"probe"')
    env = install_check(tmp_path / "site", source)
    result = gate(emulator, env, "wait", *HUMANITEC_PRODUCTION, "--latest")
    assert result.returncode == 2, result.stderr
    assert "check 'health-file' declares 'probe', which check 'probe' declares too" in (
        result.stderr
    )


def test_a_check_that_builds_something_else_is_refused_before_waiting(
    emulator: Emulator, tmp_path: Path
) -> None:
    source = EXAMPLE.read_text().replace("return [HealthFile(path)", "return [object()")
    env = install_check(tmp_path / "site", source)
    path = health_file(tmp_path, "healthy")
    target = [*HUMANITEC_PRODUCTION, "--latest", "--bake", "1m", "--health-file", path]
    result = gate(emulator, env, "wait", *target)
    assert result.returncode == 2, result.stderr
    assert "check 'health-file' built 'object', not a gate.bake.check.Check" in result.stderr
