"""Gate a Greengrass v2 deployment on what its devices did: the update succeeds only once
enough of the target's core devices have applied it (all of them unless minSuccess says)."""

import pulumi

from gate.pulumi import DeploymentGate, DeploymentGateArgs, GreengrassV2Target

config = pulumi.Config()

gate = DeploymentGate(
    "greengrass-v2-deployment",
    DeploymentGateArgs(
        target=GreengrassV2Target(
            deployment_id=config.require("deploymentId"),
            min_success=config.get_float("minSuccess") or 100,
            unfinished_devices=config.get("unfinishedDevices") or "count",
            region=config.get("region"),
            endpoint_url=config.get("endpointUrl"),
        ),
        timeout=config.get("timeout") or "30m",
        interval=config.get("interval") or "5s",
    ),
)

pulumi.export("status", gate.status)
pulumi.export("devices", gate.progress)
pulumi.export("deviceResults", gate.devices)
