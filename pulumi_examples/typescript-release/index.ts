// Gate a release on every environment it deployed to, in one resource, from TypeScript:
// the targets wait at once, then the release bakes; a breach rolls every environment back.
// `pulumi package add ../gate-provider` (see README.md) generates the `@pulumi/gate` SDK.
import * as pulumi from "@pulumi/pulumi";
import * as gate from "@pulumi/gate";

const config = new pulumi.Config();
const environments = config.requireObject<string[]>("environments"); // ["staging", "production"]

const release = new gate.DeploymentGates(
    "release",
    {
        targets: environments.map((env) => ({
            name: env,
            humanitec: { org: config.require("org"), app: config.require("app"), env, latest: true },
        })),
        timeout: "30m",
        bake: "10m",                          // the release's own bake, once every target passed
        probe: [config.require("healthUrl")], // fails the bake after 3 failed probes in a row
        onFailure: "rollback",                // each environment redeploys what ran before
        failFast: true,                       // the first environment that fails ends the rest
    },
    { customTimeouts: { create: "35m", update: "35m" } },
);

export const status = release.status;
export const summary = release.summary;
