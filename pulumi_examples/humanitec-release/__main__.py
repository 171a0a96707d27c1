"""Gate a release on every environment it deployed to, in one resource: the targets wait at
once and share one request budget for the Humanitec API."""

import pulumi

from gate.pulumi import DeploymentGates, DeploymentGatesArgs, HumanitecTarget

config = pulumi.Config()
environments = config.require_object("environments")  # ["staging", "qa", "production"]

release = DeploymentGates(
    "release",
    DeploymentGatesArgs(
        targets={
            env: HumanitecTarget(
                org=config.require("org"),
                app=config.require("app"),
                env=env,
                api_url=config.get("apiUrl"),
            )
            for env in environments
        },
        fail_fast=config.get_bool("failFast") or False,
        # The release's own bake once every environment passed (URLs that must answer 2xx),
        # and what to do should it fail: "rollback" redeploys what ran before, everywhere.
        bake=config.get("bake"),
        probe=config.get_object("probes"),
        on_failure=config.get("onFailure"),
        timeout=config.get("timeout") or "30m",
        interval=config.get("interval") or "2s",
    ),
)

pulumi.export("status", release.status)
pulumi.export("summary", release.summary)
pulumi.export(
    "deployIds",
    release.outcomes.apply(
        lambda outcomes: {o["name"]: o["target"]["deploy_id"] for o in outcomes}
    ),
)
