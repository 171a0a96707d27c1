"""The ``greengrass-v2`` provider: its target's fields and policy, and how it is built.

Describing the target imports no boto3 (``gate wait greengrass-v2 --help`` reads it); the
reader (:mod:`gate.providers.greengrass.v2.reader`) is imported only when one is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from gate.core.description import Field, TargetDescription, TargetValues
from gate.core.provider import DescribedPlugin
from gate.core.secret import Secret
from gate.providers.aws.fields import aws_fields
from gate.providers.greengrass.v2.judge import MIN_SUCCESS, UNFINISHED_DEVICES, FleetPolicy

if TYPE_CHECKING:
    from gate.providers.greengrass.v2.reader import GreengrassV2Deployment

__all__ = ["description", "plugin"]


def _policy_of(target: TargetValues) -> FleetPolicy:
    return FleetPolicy(
        min_success=target.number("min_success") or 0.0,
        unfinished=target.text("unfinished_devices") or "count",
        fail_fast=target.flag("device_fail_fast"),
    )


description = TargetDescription(
    provider="greengrass-v2",
    summary="an AWS IoT Greengrass v2 deployment, judged by what its devices did",
    fields=(
        Field("deployment_id", "the deployment to wait on", kind="id", required=True),
        MIN_SUCCESS,
        UNFINISHED_DEVICES,
        Field(
            "device_fail_fast",
            "end as failed once failed devices rule out the success share; off waits for "
            "every device so all failures are reported together",
            kind="flag",
            default=True,
            formerly=("fail_fast",),
        ),
        *aws_fields("Greengrass v2 and IoT"),
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
    ) -> GreengrassV2Deployment:
        from gate.providers.aws.clients import clients_for_target
        from gate.providers.greengrass.v2.reader import GreengrassV2Deployment

        policy = _policy_of(target)
        aws = clients_for_target(["greengrassv2", "iot"], target, request_timeout=request_timeout)
        return GreengrassV2Deployment(
            aws.clients["greengrassv2"],
            aws.clients["iot"],
            deployment_id=target.text("deployment_id") or "",
            policy=policy,
            credential_source=aws.credential_source,
            close=aws.close,
        )


plugin = _Plugin()
