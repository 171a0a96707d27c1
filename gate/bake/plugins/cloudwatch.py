"""CloudWatch alarms as a bake check: ``--alarm`` and how alarms are read; the region,
endpoint and credentials every CloudWatch read of the bake uses (``--compare-cloudwatch``
too)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from gate.bake.check import Check
from gate.core.description import Field, TargetValues

if TYPE_CHECKING:
    from gate.providers.aws.clients import AwsClients

__all__ = ["bake_cloudwatch", "plugin"]


def bake_cloudwatch(
    values: TargetValues, env: Mapping[str, str], *, request_timeout: float
) -> AwsClients:
    """The bake's CloudWatch client, as ``--alarm-region`` and ``--alarm-endpoint-url`` and
    the AWS chain say."""
    from gate.bake.cloudwatch import cloudwatch_client  # boto3: only for a bake that asks

    return cloudwatch_client(
        region=values.text("alarm_region"),
        profile=env.get("AWS_PROFILE") or None,
        endpoint_url=values.text("alarm_endpoint_url"),
        request_timeout=request_timeout,
    )


class CloudWatchAlarms:
    name = "cloudwatch"
    enabled_by = "alarm"
    fields = (
        Field(
            "alarm",
            "a CloudWatch alarm that fails the bake if it is (or was, during the bake) in ALARM; "
            "a name, or a prefix ending in *; composite alarms too",
            kind="list",
            metavar="NAME",
        ),
        Field(
            "alarm_region",
            "the AWS region of the alarms and of --compare-cloudwatch (else the AWS chain's)",
            env=("AWS_REGION", "AWS_DEFAULT_REGION"),
            metavar="REGION",
        ),
        Field(
            "alarm_endpoint_url",
            "another CloudWatch endpoint (an emulator), for the alarms and --compare-cloudwatch",
            kind="url",
            metavar="URL",
        ),
        Field(
            "insufficient_data",
            "an alarm with INSUFFICIENT_DATA: ok (named, not a breach) or breach",
            kind="choice",
            choices=("ok", "breach"),
            default="ok",
        ),
        Field(
            "missing_alarm",
            "an alarm that does not exist: refuse (exit 2 before waiting) or ignore (named)",
            kind="choice",
            choices=("refuse", "ignore"),
            default="refuse",
        ),
    )
    rules = ()

    def build(
        self, values: TargetValues, env: Mapping[str, str], *, request_timeout: float
    ) -> Iterator[Check]:
        from gate.bake.cloudwatch import CloudWatchAlarms

        aws = bake_cloudwatch(values, env, request_timeout=request_timeout)
        yield CloudWatchAlarms(
            values.texts("alarm"),
            aws.clients["cloudwatch"],
            credential_source=aws.credential_source,
            close=aws.close,
            insufficient_data="breach" if values.text("insufficient_data") == "breach" else "ok",
            missing="ignore" if values.text("missing_alarm") == "ignore" else "refuse",
        )


plugin = CloudWatchAlarms()
