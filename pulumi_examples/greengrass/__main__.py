"""Gate a Greengrass v1 deployment: the update succeeds only once the deployment has."""

import pulumi

from gate.pulumi import DeploymentGate, DeploymentGateArgs, GreengrassTarget

config = pulumi.Config()

gate = DeploymentGate(
    "greengrass-deployment",
    DeploymentGateArgs(
        target=GreengrassTarget(
            group_id=config.require("groupId"),
            deployment_id=config.require("deploymentId"),
            region=config.get("region"),
            endpoint_url=config.get("endpointUrl"),
        ),
        timeout=config.get("timeout") or "20m",
        interval=config.get("interval") or "2s",
    ),
)

pulumi.export("status", gate.status)
pulumi.export("rawStatus", gate.raw_status)
pulumi.export("finishedAt", gate.finished_at)
