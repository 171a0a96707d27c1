"""Gate a Humanitec deployment: a given deploy id, or the environment's latest deployment."""

import pulumi

from gate.pulumi import DeploymentGate, DeploymentGateArgs, HumanitecTarget

config = pulumi.Config()

gate = DeploymentGate(
    "humanitec-deployment",
    DeploymentGateArgs(
        target=HumanitecTarget(
            org=config.require("org"),
            app=config.require("app"),
            env=config.require("env"),
            deploy_id=config.get("deployId"),
            api_url=config.get("apiUrl"),
        ),
        timeout=config.get("timeout") or "30m",
        interval=config.get("interval") or "2s",
    ),
)

pulumi.export("status", gate.status)
pulumi.export("deployId", gate.target.apply(lambda ids: ids["deploy_id"]))
pulumi.export("finishedAt", gate.finished_at)
