// Gate the rest of a stack on a Humanitec deployment, from TypeScript.
// `pulumi package add ../gate-provider` (see README.md) generates the `@pulumi/gate` SDK.
import * as pulumi from "@pulumi/pulumi";
import * as gate from "@pulumi/gate";

const config = new pulumi.Config();
const release = config.get("release"); // e.g. the image tag this update rolls out

const production = new gate.DeploymentGate(
    "production",
    {
        humanitec: {
            org: config.require("org"),
            app: config.require("app"),
            env: "production",
            latest: true,          // or deployId: someResource.deployId
            requireReady: true,    // and wait until the workloads are ready
        },
        timeout: "20m",
        triggers: [release],       // wait again only when the release changes
    },
    { customTimeouts: { create: "25m", update: "25m" } },
);

export const status = production.status;
export const deployId = production.target.apply((target) => target["deployId"]);
