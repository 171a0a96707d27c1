"""The ``greengrass`` provider (Greengrass v1): its target's fields, and how it is built.

Describing the target imports no boto3 (``gate wait greengrass --help`` reads it); the reader
(:mod:`gate.providers.greengrass.v1.reader`) is imported only when one is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from gate.core.description import Field, TargetDescription, TargetValues
from gate.core.provider import DescribedPlugin
from gate.core.secret import Secret
from gate.providers.aws.fields import aws_fields

if TYPE_CHECKING:
    from gate.providers.greengrass.v1.reader import GreengrassDeployment

__all__ = ["description", "plugin"]


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
        from gate.providers.aws.clients import clients_for_target
        from gate.providers.greengrass.v1.reader import GreengrassDeployment

        aws = clients_for_target(["greengrass"], target, request_timeout=request_timeout)
        return GreengrassDeployment(
            aws.clients["greengrass"],
            group_id=target.text("group_id") or "",
            deployment_id=target.text("deployment_id") or "",
            credential_source=aws.credential_source,
            close=aws.close,
        )


plugin = _Plugin()
