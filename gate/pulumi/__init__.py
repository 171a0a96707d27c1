"""A Pulumi component that makes a stack update wait for a deployment to succeed.

::

    from gate.pulumi import DeploymentGate, DeploymentGateArgs, HumanitecTarget

    gate = DeploymentGate("production", DeploymentGateArgs(
        target=HumanitecTarget(org="acme", app="shop", env="production", deploy_id=deploy.id)))
    pulumi.export("deployment_status", gate.status)

The waiting runs in a dynamic provider (:mod:`gate.pulumi.provider`) whose ``create`` runs the
same wait engine as the ``gate`` command. ``pulumi preview`` never waits and makes no API
call; its outputs are unknown there. A deployment that fails, times out or cannot be read fails
``pulumi up`` with every error detail in the message, and the resource is not recorded, so
the next ``pulumi up`` waits again. An input the program marks secret
(``pulumi.Output.secret``, a secret config value) is never shown in the resource id, a failure
or an output that is not secret itself. The input classes (:mod:`gate.pulumi.args`) are
generated from the declarations of every field. Install with ``pip install 'deploy-gate[pulumi]'``.
"""

from __future__ import annotations

from typing import Any

import pulumi

from gate.pulumi.args import (
    DeploymentGateArgs,
    DeploymentGatesArgs,
    GreengrassTarget,
    GreengrassV2Target,
    HumanitecTarget,
    HumanitecV2Target,
)
from gate.pulumi.fleet_provider import DeploymentsWaitProvider
from gate.pulumi.provider import DeploymentWaitProvider
from gate.pulumi.secret_inputs import SECRET_INPUTS, secret_places

__all__ = [
    "DeploymentGate",
    "DeploymentGateArgs",
    "DeploymentGates",
    "DeploymentGatesArgs",
    "GreengrassTarget",
    "GreengrassV2Target",
    "HumanitecTarget",
    "HumanitecV2Target",
]

TYPE_TOKEN = "gate:index:DeploymentGate"  # noqa: S105 - a Pulumi type token, not a secret
MANY_TYPE_TOKEN = "gate:index:DeploymentGates"  # noqa: S105 - a Pulumi type token


class _DeploymentWait(pulumi.dynamic.Resource, module="gate", name="DeploymentWait"):
    status: pulumi.Output[str]
    raw_status: pulumi.Output[str]
    errors: pulumi.Output[list[dict[str, str]]]
    finished_at: pulumi.Output[str]
    elapsed_seconds: pulumi.Output[float]
    target: pulumi.Output[dict[str, str]]
    progress: pulumi.Output[str]
    devices: pulumi.Output[list[dict[str, Any]]]


class DeploymentGate(pulumi.ComponentResource):
    """Succeeds once the target deployment has succeeded; fails the update otherwise.

    Outputs: ``status`` (``succeeded``), ``raw_status`` (the backend's word), ``errors``
    (empty on success), ``finished_at``, ``elapsed_seconds`` and ``target`` (the ids,
    with the resolved ``deploy_id`` when waiting on the latest deployment); for Greengrass
    v2, ``progress`` (``12/12 devices succeeded``) and ``devices`` (each device's result).
    """

    status: pulumi.Output[str]
    raw_status: pulumi.Output[str]
    errors: pulumi.Output[list[dict[str, str]]]
    finished_at: pulumi.Output[str]
    elapsed_seconds: pulumi.Output[float]
    target: pulumi.Output[dict[str, str]]
    progress: pulumi.Output[str]
    devices: pulumi.Output[list[dict[str, Any]]]

    def __init__(
        self,
        name: str,
        args: DeploymentGateArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        props: dict[str, Any] = {
            **args.target.props(),
            **args.timing(),
            **args.after_success(),
            "status": None,
            "raw_status": None,
            "errors": None,
            "finished_at": None,
            "elapsed_seconds": None,
            "target": None,
            "progress": None,
            "devices": None,
        }
        props[SECRET_INPUTS] = secret_places(props)
        wait = _DeploymentWait(
            DeploymentWaitProvider(),
            f"{name}-wait",
            props,
            pulumi.ResourceOptions(parent=self),
        )
        self.status = wait.status
        self.raw_status = wait.raw_status
        self.errors = wait.errors
        self.finished_at = wait.finished_at
        self.elapsed_seconds = wait.elapsed_seconds
        self.target = wait.target
        self.progress = wait.progress
        self.devices = wait.devices
        self.register_outputs(
            {
                "status": self.status,
                "raw_status": self.raw_status,
                "errors": self.errors,
                "finished_at": self.finished_at,
                "elapsed_seconds": self.elapsed_seconds,
                "target": self.target,
                "progress": self.progress,
                "devices": self.devices,
            }
        )


class _DeploymentWaits(pulumi.dynamic.Resource, module="gate", name="DeploymentWaits"):
    status: pulumi.Output[str]
    summary: pulumi.Output[str]
    outcomes: pulumi.Output[list[dict[str, Any]]]
    elapsed_seconds: pulumi.Output[float]


class DeploymentGates(pulumi.ComponentResource):
    """Succeeds once every target's deployment has succeeded (and, with a ``bake``, the
    release's own bake once they all had); fails the update otherwise, naming each target that
    did not and why, and what each rollback did (``on_failure``).

    Outputs: ``status`` (``succeeded``), ``summary`` (``3/3 succeeded``), ``outcomes`` (per
    target, in order: ``name`` and the outputs of :class:`DeploymentGate`) and
    ``elapsed_seconds``.
    """

    status: pulumi.Output[str]
    summary: pulumi.Output[str]
    outcomes: pulumi.Output[list[dict[str, Any]]]
    elapsed_seconds: pulumi.Output[float]

    def __init__(
        self,
        name: str,
        args: DeploymentGatesArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(MANY_TYPE_TOKEN, name, None, opts)
        props: dict[str, Any] = {
            "targets": [
                {"name": target_name, **target.props()}
                for target_name, target in args.targets.items()
            ],
            "fail_fast": args.fail_fast,
            "max_rate": args.max_rate,
            **args.timing(),
            **args.after_success(),
            "status": None,
            "summary": None,
            "outcomes": None,
            "elapsed_seconds": None,
        }
        props[SECRET_INPUTS] = secret_places(props)
        waits = _DeploymentWaits(
            DeploymentsWaitProvider(), f"{name}-waits", props, pulumi.ResourceOptions(parent=self)
        )
        self.status = waits.status
        self.summary = waits.summary
        self.outcomes = waits.outcomes
        self.elapsed_seconds = waits.elapsed_seconds
        self.register_outputs(
            {
                "status": self.status,
                "summary": self.summary,
                "outcomes": self.outcomes,
                "elapsed_seconds": self.elapsed_seconds,
            }
        )
