"""Requests that start a deployment, checked as the contracts shape them: what the emulator
refuses with a 400 before it starts anything. Each check returns why a body is refused, or
an empty string.

Humanitec v1 ``DeploymentRequest`` (``tests/contracts/humanitec-openapi.json``), v2
``DeploymentCreateBody`` (``tests/contracts/humanitec-v2-orchestrator.yaml``), and Greengrass
v2 ``CreateDeployment`` (botocore's model). The emulator redeploys what it knows: a v1 set, a
v2 rollback or manifest, a v2 Greengrass deployment's components.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["V1_FIELDS", "greengrass_v2_refusal", "v1_refusal", "v2_refusal"]

V1_FIELDS = ("comment", "delta_id", "pipeline", "mode", "set_id", "value_set_version_id")
"""``DeploymentRequest``'s properties."""
V2_FIELDS = (
    "mode",
    "plan_only",
    "manifest",
    "rollback_to_deployment_id",
    "project_id",
    "env_id",
    "encrypted_outputs_recipient",
    "encrypted_logs_recipient",
    "is_dry_run",
    "runner_log_level",
)
"""``DeploymentCreateBody``'s properties."""
GREENGRASS_V2_FIELDS = (
    "targetArn",
    "deploymentName",
    "components",
    "iotJobConfiguration",
    "deploymentPolicies",
    "parentTargetArn",
    "tags",
    "clientToken",
)
_TARGET_ARN = re.compile(r"^arn:[\w-]+:iot:[^:]*:[0-9]*:(thing|thinggroup)/.+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def v1_refusal(body: object) -> str:
    if not isinstance(body, Mapping):
        return "the request body is not a JSON object"
    unknown = sorted(set(body) - set(V1_FIELDS))
    if unknown:
        return f"unknown properties of a DeploymentRequest: {', '.join(unknown)}"
    for name in ("comment", "delta_id", "mode", "set_id"):
        if name in body and not isinstance(body[name], str):
            return f"{name} must be a string"
    value_set = body.get("value_set_version_id")
    if value_set is not None and not isinstance(value_set, str):
        return "value_set_version_id must be a string or null"
    if body.get("mode", "full") not in ("full", "incremental"):
        return 'mode must be "full" or "incremental"'
    if not body.get("set_id"):
        return "the emulator starts a deployment from a set_id only (no delta_id)"
    return ""


def v2_refusal(body: object) -> str:
    if not isinstance(body, Mapping):
        return "the request body is not a JSON object"
    unknown = sorted(set(body) - set(V2_FIELDS))
    if unknown:
        return f"unknown properties of a DeploymentCreateBody: {', '.join(unknown)}"
    for name in ("mode", "project_id", "env_id"):
        if not isinstance(body.get(name), str) or not body[name]:
            return f"{name} is required"
    if body["mode"] not in ("plan_only", "deploy", "rollback"):
        return "mode must be one of plan_only, deploy, rollback"
    if body["mode"] == "plan_only" or body.get("plan_only") or body.get("is_dry_run"):
        return "the emulator does not plan or dry-run deployments"
    target = body.get("rollback_to_deployment_id")
    if body["mode"] == "rollback" and not (isinstance(target, str) and _UUID.match(target)):
        return "rollback_to_deployment_id must be a deployment's uuid in rollback mode"
    if body["mode"] == "deploy" and not isinstance(body.get("manifest"), Mapping):
        return "manifest is required to deploy"
    return ""


def greengrass_v2_refusal(body: object) -> str:
    if not isinstance(body, Mapping):
        return "the request body is not a JSON object"
    unknown = sorted(set(body) - set(GREENGRASS_V2_FIELDS))
    if unknown:
        return f"unknown parameters: {', '.join(unknown)}"
    target = body.get("targetArn")
    if not isinstance(target, str) or not _TARGET_ARN.match(target):
        return "targetArn must be the ARN of a thing or a thing group"
    if not isinstance(body.get("components", {}), Mapping):
        return "components must be a map"
    token = body.get("clientToken", "")
    if not isinstance(token, str) or not re.fullmatch(r"[a-zA-Z0-9-]{0,64}", token):
        return "clientToken must be 1 to 64 letters, digits and hyphens"
    return ""
