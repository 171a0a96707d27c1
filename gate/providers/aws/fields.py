"""The fields every AWS target has, declared where describing a target costs no import of
boto3 or httpx (``gate wait greengrass --help`` reads them)."""

from __future__ import annotations

from gate.core.description import Field

__all__ = ["aws_fields"]


def aws_fields(service: str) -> tuple[Field, ...]:
    """The fields every AWS target has: where, as whom, and which endpoint."""
    return (
        Field("region", "AWS region (else the AWS chain's)", env=("AWS_REGION",)),
        Field("profile", "AWS shared-config profile to take credentials from (else the AWS chain)"),
        Field(
            "endpoint_url",
            f"another {service} endpoint (an emulator, a VPC endpoint)",
            kind="url",
            env=("AWS_ENDPOINT_URL",),
        ),
        Field("allow_plain_http", "allow an http:// endpoint URL on another machine", kind="flag"),
    )
