"""AWS IoT Greengrass v1 group deployments, read with boto3's ``get_deployment_status``.

Statuses ``Building`` and ``InProgress`` are running, ``Success`` succeeded, ``Failure``
failed; a failure explains itself in ``ErrorMessage`` and ``ErrorDetails``. Credentials and
region come from the standard AWS chain. boto3 and the wire are imported only when this
provider is built, so ``gate wait greengrass --help`` starts as fast as Python does. It
rolls back by redeploying the group's last deployment that succeeded
(:mod:`gate.providers.greengrass_rollback`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gate.core.description import Field, TargetDescription, TargetValues
from gate.core.errors import TransientError
from gate.core.ids import require_id
from gate.core.model import ErrorDetail, RollbackPlan, Snapshot, State
from gate.core.provider import DescribedPlugin
from gate.core.secret import Secret
from gate.core.text import from_api
from gate.core.timestamps import iso_utc, parse_timestamp
from gate.providers import greengrass_history, greengrass_rollback
from gate.providers.aws_calls import call_aws
from gate.providers.aws_fields import aws_fields
from gate.providers.closing import shared

__all__ = ["STATUSES", "GreengrassDeployment", "plugin"]

STATUSES: Mapping[str, State] = {
    "Building": State.RUNNING,
    "InProgress": State.RUNNING,
    "Success": State.SUCCEEDED,
    "Failure": State.FAILED,
}


class GreengrassDeployment:
    """One deployment of one Greengrass v1 group."""

    name = "greengrass"

    def __init__(
        self,
        client: Any,
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
        response = self._call()
        raw_status = from_api(response.get("DeploymentStatus"))
        if not raw_status:
            raise TransientError("GetDeploymentStatus answered without a DeploymentStatus")
        return Snapshot(
            state=STATUSES.get(raw_status, State.UNKNOWN),
            raw_status=raw_status,
            errors=_error_details(response),
            changed_at=_updated_at(response.get("UpdatedAt")),
            deployment_type=from_api(response.get("DeploymentType")) or None,
        )

    def past_durations(self) -> list[float]:
        """How long the group's earlier deployments took, newest first."""
        return greengrass_history.past_durations(
            self._client,
            self._aws,
            group_id=self._group_id,
            current=self._deployment_id,
            ended=lambda status: STATUSES.get(status, State.RUNNING).is_terminal,
        )

    def plan_rollback(self) -> RollbackPlan:
        """Redeploy the group's last deployment that succeeded before this one."""
        return greengrass_rollback.plan_rollback(
            self._client, self._aws, group_id=self._group_id, failed=self._deployment_id
        )

    def roll_back(self, plan: RollbackPlan, comment: str) -> GreengrassDeployment:
        """Start ``plan`` (Greengrass v1 keeps no comment); a provider on the same client that
        follows the new deployment."""
        new_id = greengrass_rollback.start_rollback(
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
            details_of=_error_details,
            **params,
        )


def _error_details(response: Mapping[str, Any]) -> tuple[ErrorDetail, ...]:
    """``ErrorMessage`` and every ``ErrorDetails`` entry, from a status or an error answer."""
    details: list[ErrorDetail] = []
    message = from_api(response.get("ErrorMessage"))
    if message:
        details.append(ErrorDetail(code="", message=message, scope="deployment"))
    listed = response.get("ErrorDetails")
    for item in listed if isinstance(listed, list) else ():
        if isinstance(item, Mapping):
            details.append(
                ErrorDetail(
                    code=from_api(item.get("DetailedErrorCode")),
                    message=from_api(item.get("DetailedErrorMessage")),
                )
            )
    return tuple(details)


def _updated_at(value: object) -> str | None:
    """``UpdatedAt`` (epoch milliseconds, as the model documents it) as ISO 8601."""
    moment = parse_timestamp(value)
    return iso_utc(moment) if moment is not None else None


description = TargetDescription(
    provider="greengrass",
    summary="an AWS IoT Greengrass v1 group deployment (credentials from the AWS chain)",
    fields=(
        Field("group_id", "the Greengrass group id", kind="id", required=True),
        Field("deployment_id", "the deployment to wait on", kind="id", required=True),
        *aws_fields("Greengrass"),
    ),
)


class _Plugin(DescribedPlugin):
    description = description

    def build(
        self,
        target: TargetValues,
        env: Mapping[str, str],
        *,
        request_timeout: float,
        token: Secret | None = None,
    ) -> GreengrassDeployment:
        from gate.providers.aws import clients_for_target

        aws = clients_for_target(["greengrass"], target, request_timeout=request_timeout)
        return GreengrassDeployment(
            aws.clients["greengrass"],
            group_id=target.text("group_id") or "",
            deployment_id=target.text("deployment_id") or "",
            credential_source=aws.credential_source,
            close=aws.close,
        )


plugin = _Plugin()
