"""AWS IoT Greengrass v1 group deployments: the reader, with boto3's ``get_deployment_status``.

What the answer means is judged apart (:mod:`gate.providers.greengrass.v1.judge`).
Credentials and region come from the standard AWS chain. It rolls back by redeploying the
group's last deployment that succeeded (:mod:`gate.providers.greengrass.v1.rollback`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from gate.core.ids import require_id
from gate.core.model import RollbackPlan, Snapshot, State
from gate.providers.aws.calls import call_aws
from gate.providers.closing import shared
from gate.providers.greengrass.v1 import history, rollback
from gate.providers.greengrass.v1.judge import STATUSES, error_details, judge

if TYPE_CHECKING:
    from mypy_boto3_greengrass import GreengrassClient

__all__ = ["GreengrassDeployment"]


class GreengrassDeployment:
    """One deployment of one Greengrass v1 group."""

    name = "greengrass"

    def __init__(
        self,
        client: GreengrassClient,
        *,
        group_id: str,
        deployment_id: str,
        credential_source: Callable[[], str] = lambda: "the AWS default chain",
        close: Callable[[], None] | None = None,
    ) -> None:
        self._client = client
        self._group_id = require_id("--group-id", group_id)
        self._deployment_id = require_id("--deployment-id", deployment_id)
        self._credential_source = credential_source
        self._close = close or client.close

    def __repr__(self) -> str:
        return f"GreengrassDeployment({dict(self.target)!r})"

    @property
    def target(self) -> Mapping[str, str]:
        return {"group_id": self._group_id, "deployment_id": self._deployment_id}

    def describe(self) -> str:
        return f"Greengrass deployment {self._deployment_id} of group {self._group_id}"

    def close(self) -> None:
        self._close()

    def fetch(self) -> Snapshot:
        return judge(self._call())

    def past_durations(self) -> list[float]:
        """How long the group's earlier deployments took, newest first."""
        return history.past_durations(
            self._client,
            self._aws,
            group_id=self._group_id,
            current=self._deployment_id,
            ended=lambda status: STATUSES.get(status, State.RUNNING).is_terminal,
        )

    def plan_rollback(self) -> RollbackPlan:
        """Redeploy the group's last deployment that succeeded before this one."""
        return rollback.plan_rollback(
            self._client, self._aws, group_id=self._group_id, failed=self._deployment_id
        )

    def roll_back(self, plan: RollbackPlan, comment: str) -> GreengrassDeployment:
        """Start ``plan`` (Greengrass v1 keeps no comment); a provider on the same client that
        follows the new deployment."""
        new_id = rollback.start_rollback(
            self._client,
            self._aws,
            plan,
            group_id=self._group_id,
            failed=self._deployment_id,
        )
        self._close, theirs = shared(self._close)
        return GreengrassDeployment(
            self._client,
            group_id=self._group_id,
            deployment_id=new_id,
            credential_source=self._credential_source,
            close=theirs,
        )

    def _call(self) -> Mapping[str, Any]:
        return self._aws(
            self._client.get_deployment_status,
            GroupId=self._group_id,
            DeploymentId=self._deployment_id,
        )

    def _aws(self, operation: Callable[..., Any], **params: Any) -> Mapping[str, Any]:
        return call_aws(
            operation,
            service="Greengrass",
            missing=self.describe,
            credential_source=self._credential_source,
            details_of=error_details,
            **params,
        )
