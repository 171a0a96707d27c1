"""Greengrass v1 ``--on-failure rollback`` through the real command: ``gate wait greengrass``
as a subprocess against moto's loopback server, which runs in the test process, so the test
reads and moves moto's deployments as the device would. The plan and the request are tested
on moto in tests/test_rollback.py; here, what a pipeline sees and what reaches the service.
The rollback deployment moves on by the gate's reads of it, never by time."""

from __future__ import annotations

import subprocess
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from tests.builders import FAST_JSON, json_outcome
from tests.support import run_gate, set_moto_status

AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
CORE = {
    "Cores": [
        {
            "Id": "core-1",
            "CertificateArn": "arn:aws:iot:eu-west-1:123456789012:cert/abc",
            "ThingArn": "arn:aws:iot:eu-west-1:123456789012:thing/core-1",
            "SyncShadow": False,
        }
    ]
}


def backend() -> Any:
    """moto's Greengrass backend, the one its loopback server answers from."""
    from moto.core import DEFAULT_ACCOUNT_ID  # type: ignore[attr-defined]
    from moto.greengrass.models import greengrass_backends

    return greengrass_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"]


@pytest.fixture
def gg(moto_server: str, aws_env: None) -> Any:
    return boto3.client("greengrass", region_name="eu-west-1", endpoint_url=moto_server)


def history(gg: Any, *statuses: str) -> tuple[str, list[str], list[str]]:
    """A group deployed once per status, an hour apart, oldest first, each deployment on a
    group version of its own. Returns the group, its deployments and their versions."""
    core = gg.create_core_definition(Name="core", InitialVersion=CORE)
    group = gg.create_group(Name="factory-floor")["Id"]
    start = datetime.now(timezone.utc) - timedelta(hours=len(statuses) + 1)
    deployments, versions = [], []
    for hour, status in enumerate(statuses):
        version = gg.create_group_version(
            GroupId=group, CoreDefinitionVersionArn=core["LatestVersionArn"]
        )["Version"]
        made = gg.create_deployment(
            GroupId=group, GroupVersionId=version, DeploymentType="NewDeployment"
        )["DeploymentId"]
        set_moto_status(made, status)
        backend().deployments[made].created_at_datetime = start + timedelta(hours=hour)
        deployments.append(made)
        versions.append(version)
    return group, deployments, versions


def deployments_of(group: str) -> dict[str, Any]:
    """Every deployment of ``group`` in moto's backend, by id."""
    return {
        deployment_id: deployment
        for deployment_id, deployment in list(backend().deployments.items())
        if deployment.group_id == group
    }


class RedeploymentAppliedByReads:
    """moto's GetDeploymentStatus, except that a Redeployment answers its first read with
    InProgress and then, by that read, becomes Success: a device that applies the rollback
    once the gate follows it, however slowly the gate starts."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from moto.greengrass.models import GreengrassBackend

        self.answered: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        original = GreengrassBackend.get_deployment_status

        def by_read(moto: Any, group_id: str, deployment_id: str) -> Any:
            found = original(moto, group_id, deployment_id)
            deployment = moto.deployments[deployment_id]
            with self.lock:
                self.answered.append((deployment_id, found.deployment_status))
                if deployment.deployment_type == "Redeployment":
                    deployment.deployment_status = "Success"
            return found

        monkeypatch.setattr(GreengrassBackend, "get_deployment_status", by_read)

    def of(self, deployment_id: str) -> list[str]:
        with self.lock:
            return [status for said, status in self.answered if said == deployment_id]


def greengrass(
    moto_server: str, group: str, deployment_id: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    return run_gate(
        "wait",
        "greengrass",
        "--group-id",
        group,
        "--deployment-id",
        deployment_id,
        "--region",
        "eu-west-1",
        "--endpoint-url",
        moto_server,
        *FAST_JSON,
        *extra,
        env=AWS,
    )


def test_a_failed_deployment_is_redeployed_from_the_last_success_and_the_rollback_gated(
    gg: Any, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    group, (good, failed), versions = history(gg, "Success", "Failure")
    device = RedeploymentAppliedByReads(monkeypatch)
    result = greengrass(moto_server, group, failed, "--on-failure", "rollback")
    assert result.returncode == 1, result.stderr
    outcome = json_outcome(result)
    assert outcome["status"] == "failed"
    assert outcome["raw_status"] == "Failure"
    rollback = outcome["rollback"]
    assert rollback["dry_run"] is False
    assert rollback["reason"] is None
    assert rollback["plan"]["to"] == good
    assert rollback["plan"]["request"] == {
        "operation": "CreateDeployment",
        "params": {
            "GroupId": group,
            "DeploymentId": good,
            "DeploymentType": "Redeployment",
            "GroupVersionId": versions[0],
        },
    }
    (new,) = set(deployments_of(group)) - {good, failed}
    redeployment = deployments_of(group)[new]
    assert redeployment.deployment_type == "Redeployment"
    assert redeployment.group_arn.endswith(f"/versions/{versions[0]}")
    assert redeployment.deployment_status == "Success"
    assert device.of(new) == ["InProgress", "Success"], "moved on by the gate's reads"
    rolled = rollback["outcome"]
    assert rolled["status"] == "succeeded"
    assert rolled["raw_status"] == "Success"
    assert rolled["deployment_type"] == "Redeployment"
    assert rolled["target"] == {"group_id": group, "deployment_id": new}
    assert rolled["exit_code"] == 0
    assert f"rolling back: redeploy group version {versions[0]} of deployment {good}" in (
        result.stderr
    )


def test_a_dry_run_says_what_it_would_redeploy_and_creates_no_deployment(
    gg: Any, moto_server: str
) -> None:
    group, (good, failed), versions = history(gg, "Success", "Failure")
    result = greengrass(moto_server, group, failed, "--on-failure", "rollback", "--dry-run")
    assert result.returncode == 1, result.stderr
    rollback = json_outcome(result)["rollback"]
    assert rollback["dry_run"] is True
    assert rollback["plan"]["to"] == good
    assert rollback["plan"]["request"]["params"]["GroupVersionId"] == versions[0]
    assert rollback["outcome"] is None
    assert set(deployments_of(group)) == {good, failed}
    assert {d["DeploymentId"] for d in gg.list_deployments(GroupId=group)["Deployments"]} == {
        good,
        failed,
    }
    assert f"rollback dry-run: would redeploy group version {versions[0]}" in result.stderr


def test_a_group_whose_only_deployment_failed_has_nothing_to_roll_back_to(
    gg: Any, moto_server: str
) -> None:
    group, (failed,), _ = history(gg, "Failure")
    result = greengrass(moto_server, group, failed, "--on-failure", "rollback")
    assert result.returncode == 1, result.stderr
    outcome = json_outcome(result)
    assert outcome["status"] == "failed"
    rollback = outcome["rollback"]
    assert rollback["plan"] is None
    assert rollback["outcome"] is None
    assert rollback["reason"].startswith("nothing to roll back to"), rollback["reason"]
    assert failed in rollback["reason"]
    assert set(deployments_of(group)) == {failed}
    assert "rollback skipped: nothing to roll back to" in result.stderr
