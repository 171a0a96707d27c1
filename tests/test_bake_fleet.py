"""Bakes in a gate of many: a target's own (fields of its entry) right after its deployment
succeeded, and the release's (the command line's) once every target passed, rolling every
target back when it fails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gate.emulator import Emulator, Timeline
from gate.emulator.health import HealthEndpoint
from tests.parts.monitoring_api import clear_matrix, monitoring_api, vector
from tests.test_fleet import QUICK, gate, release

QUICK_BAKE = ["--bake", "2s", "--bake-interval", "0.2s"]
LONG_BAKE = ["--bake", "5m", "--bake-interval", "0.2s"]


def three_environments(emulator: Emulator) -> None:
    for env in ("eu", "us", "apac"):
        emulator.add_humanitec(
            "acme",
            "shop",
            env,
            Timeline([(0, "succeeded")]),
            started_ago=3600,
            set_id=f"good-{env}",
        )
        emulator.add_humanitec(
            "acme",
            "shop",
            env,
            Timeline([(0, "in progress"), (1, "succeeded")]),
            set_id=f"new-{env}",
        )


@pytest.fixture
def healthy() -> Iterator[HealthEndpoint]:
    with HealthEndpoint([200]) as endpoint:
        yield endpoint


@pytest.fixture
def unhealthy() -> Iterator[HealthEndpoint]:
    with HealthEndpoint([503], body="checkout: payments unreachable") as endpoint:
        yield endpoint


def test_the_release_bakes_once_after_every_target_passed(
    paced_emulator: Emulator, tmp_path: Path, healthy: HealthEndpoint
) -> None:
    three_environments(paced_emulator)
    file = release(tmp_path, {"env": "eu"}, {"env": "us"}, {"env": "apac"})
    code, out, err = gate(
        paced_emulator,
        "wait-all",
        file,
        *QUICK,
        *QUICK_BAKE,
        "--probe",
        healthy.url,
        "--output",
        "json",
    )
    assert code == 0, err
    whole = json.loads(out)
    assert whole["bake"]["status"] == "passed"
    assert [target["bake"] for target in whole["targets"]] == [None, None, None]
    assert "release: baking for 2.0s" in err
    assert "gate: release bake passed: healthy through its 2.0s bake" in err


def test_the_releases_checks_unavailable_before_the_wait_are_retried(
    paced_emulator: Emulator, tmp_path: Path
) -> None:
    three_environments(paced_emulator)
    file = release(tmp_path, {"env": "eu"}, {"env": "us"}, {"env": "apac"})
    unavailable = (503, {"status": "error", "errorType": "unavailable", "error": "overloaded"})
    scripts = {
        "/api/v1/query": [unavailable, vector()],
        "/api/v1/query_range": [clear_matrix()],
    }
    with monitoring_api(scripts) as prometheus:
        code, out, err = gate(
            paced_emulator,
            "wait-all",
            file,
            *QUICK,
            *QUICK_BAKE,
            "--prometheus",
            prometheus.url,
            "--query",
            "errors > 0",
            "--output",
            "json",
        )
    assert code == 0, err
    assert json.loads(out)["bake"]["status"] == "passed"
    assert "release: running the query errors > 0 once: HTTP 503: overloaded; retrying" in err


def test_a_release_that_fails_its_bake_rolls_every_target_back(
    paced_emulator: Emulator, tmp_path: Path, unhealthy: HealthEndpoint
) -> None:
    three_environments(paced_emulator)
    file = release(tmp_path, {"env": "eu"}, {"env": "us"}, {"env": "apac"})
    code, out, err = gate(
        paced_emulator,
        "wait-all",
        file,
        *QUICK,
        *LONG_BAKE,
        "--probe",
        unhealthy.url,
        "--probe-failures",
        "2",
        "--on-failure",
        "rollback",
        "--output",
        "json",
    )
    assert code == 1, err
    whole = json.loads(out)
    assert whole["status"] == "failed"
    assert whole["reason"].startswith(
        "every deployment succeeded, then the release failed its bake"
    )
    assert "payments unreachable" in whole["reason"]
    assert whole["bake"]["status"] == "breached"
    for target in whole["targets"]:
        assert target["status"] == "succeeded", "each deployment did succeed"
        assert target["rollback"]["outcome"]["status"] == "succeeded"
    posted = sorted(body["set_id"] for _, body, _ in paced_emulator.posted)
    assert posted == ["good-apac", "good-eu", "good-us"]
    assert unhealthy.probes == 2, "the breach ends the release's bake at once"


def test_a_target_bakes_by_the_fields_of_its_entry(
    paced_emulator: Emulator, tmp_path: Path, unhealthy: HealthEndpoint
) -> None:
    three_environments(paced_emulator)
    file = release(
        tmp_path,
        {"env": "eu"},
        {
            "env": "us",
            "bake": "5m",
            "bake-interval": "0.2s",
            "probe": [unhealthy.url],
            "probe-failures": 1,
        },
        {"env": "apac"},
    )
    code, out, err = gate(paced_emulator, "wait-all", file, *QUICK, "--output", "json")
    assert code == 1, err
    whole = json.loads(out)
    statuses = {target["name"]: target["status"] for target in whole["targets"]}
    assert statuses == {"eu": "succeeded", "us": "failed", "apac": "succeeded"}
    us = next(target for target in whole["targets"] if target["name"] == "us")
    assert us["bake"]["status"] == "breached"
    assert whole["bake"] is None
    assert paced_emulator.posted == [], "no --on-failure: nothing rolled back"


def test_the_releases_bake_must_fit_every_targets_timeout(
    emulator: Emulator, tmp_path: Path, healthy: HealthEndpoint
) -> None:
    file = release(tmp_path, {"env": "eu", "timeout": "10s"}, {"env": "us"})
    code, out, err = gate(emulator, "wait-all", file, "--bake", "20s", "--probe", healthy.url)
    assert code == 2
    assert "target 1: the release's bake (20.0s) must fit inside field 'timeout' (10.0s)" in err
    assert out == ""
