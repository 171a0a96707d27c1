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
or an output that is not secret itself. Install with ``pip install 'deploy-gate[pulumi]'``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import pulumi

from gate.pulumi.fleet_provider import DeploymentsWaitProvider
from gate.pulumi.provider import DeploymentWaitProvider
from gate.pulumi.secret_inputs import SECRET_INPUTS, secret_places
from gate.wire.sharing import DEFAULT_MAX_RATE

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


class _Target:
    """A target of the component: its fields are the provider's description's (a test keeps
    them equal), typed for Python."""

    provider: ClassVar[str]

    def props(self) -> dict[str, Any]:
        given = {field.name: getattr(self, field.name) for field in fields(self)}  # type: ignore[arg-type]
        return {"provider": self.provider, **given}


@dataclass(frozen=True, kw_only=True)
class HumanitecTarget(_Target):
    """A Humanitec deployment; without ``deploy_id`` (or a pipeline ``run``), the
    environment's latest deployment, resolved anew on every ``pulumi up`` (unless the gate's
    ``triggers`` say when). A ``run`` of a ``pipeline`` gates that pipeline run instead.

    A ``deploy_id`` given as an Output that resolves to nothing fails the preview: it never
    falls back to the latest deployment. ``require_ready`` also waits until the environment's
    workloads are ready. The token comes from the secret stack config ``gate:humanitecToken``,
    or else ``HUMANITEC_TOKEN`` in the environment of ``pulumi up``; it never enters the state.
    """

    provider = "humanitec"
    org: pulumi.Input[str]
    app: pulumi.Input[str]
    env: pulumi.Input[str] | None = None
    deploy_id: pulumi.Input[str] | None = None
    run: pulumi.Input[str] | None = None
    pipeline: pulumi.Input[str] | None = None
    require_ready: pulumi.Input[bool] = False
    api_url: pulumi.Input[str] | None = None
    allow_plain_http: pulumi.Input[bool] = False

    def props(self) -> dict[str, Any]:
        return {**super().props(), "latest": self.deploy_id is None and self.run is None}


@dataclass(frozen=True, kw_only=True)
class HumanitecV2Target(_Target):
    """A Humanitec Platform Orchestrator v2 deployment, waited on at the server. The token
    comes from the secret stack config ``gate:humanitecToken``, or else
    ``HUMANITEC_AUTH_TOKEN`` (or ``HUMANITEC_TOKEN``) in the environment of ``pulumi up``."""

    provider = "humanitec-v2"
    org: pulumi.Input[str]
    deployment_id: pulumi.Input[str]
    api_url: pulumi.Input[str] | None = None
    allow_plain_http: pulumi.Input[bool] = False


@dataclass(frozen=True, kw_only=True)
class GreengrassTarget(_Target):
    """A Greengrass v1 group deployment; credentials from the AWS chain of ``pulumi up``."""

    provider = "greengrass"
    group_id: pulumi.Input[str]
    deployment_id: pulumi.Input[str]
    region: pulumi.Input[str] | None = None
    profile: pulumi.Input[str] | None = None
    endpoint_url: pulumi.Input[str] | None = None
    allow_plain_http: pulumi.Input[bool] = False


@dataclass(frozen=True, kw_only=True)
class GreengrassV2Target(_Target):
    """A Greengrass v2 deployment, judged by what its devices did (see the README's v1 vs v2).

    ``min_success`` is the percent of the target's devices that must succeed;
    ``unfinished_devices`` says whether devices still queued or in progress at the deadline
    ``"count"`` against it (and are named) or are left out (``"ignore"``); ``fail_fast``
    ends the wait once failed devices rule the share out. Credentials come from the AWS
    chain of ``pulumi up``.
    """

    provider = "greengrass-v2"
    deployment_id: pulumi.Input[str]
    min_success: pulumi.Input[float] = 100
    unfinished_devices: pulumi.Input[str] = "count"
    fail_fast: pulumi.Input[bool] = True
    region: pulumi.Input[str] | None = None
    profile: pulumi.Input[str] | None = None
    endpoint_url: pulumi.Input[str] | None = None
    allow_plain_http: pulumi.Input[bool] = False


@dataclass(frozen=True, kw_only=True)
class _Timing:
    timeout: pulumi.Input[str | float] = "30m"
    interval: pulumi.Input[str | float] = "2s"
    max_interval: pulumi.Input[str | float] | None = None
    request_timeout: pulumi.Input[str | float] = "10s"
    not_found_grace: pulumi.Input[str | float] = "30s"
    triggers: pulumi.Input[Sequence[Any]] | None = None
    skip_await: pulumi.Input[bool] = False

    def timing(self) -> dict[str, Any]:
        return {
            "timeout": self.timeout,
            "interval": self.interval,
            "max_interval": self.max_interval,
            "request_timeout": self.request_timeout,
            "not_found_grace": self.not_found_grace,
            "triggers": self.triggers,
            "skip_await": self.skip_await,
        }


@dataclass(frozen=True, kw_only=True)
class _AfterSuccess:
    """The bake, the rollback and what is told of the gate (see ``gate wait --help``):
    each as its field says."""

    bake: pulumi.Input[str | float] | None = None
    alarm: pulumi.Input[Sequence[str]] | None = None
    alarm_region: pulumi.Input[str] | None = None
    alarm_endpoint_url: pulumi.Input[str] | None = None
    insufficient_data: pulumi.Input[str] | None = None
    missing_alarm: pulumi.Input[str] | None = None
    prometheus: pulumi.Input[str] | None = None
    query: pulumi.Input[Sequence[str]] | None = None
    alertmanager: pulumi.Input[str] | None = None
    alert_filter: pulumi.Input[Sequence[str]] | None = None
    probe: pulumi.Input[Sequence[str]] | None = None
    probe_failures: pulumi.Input[float] | None = None
    bake_interval: pulumi.Input[str | float] | None = None
    on_failure: pulumi.Input[str] | None = None
    dry_run: pulumi.Input[bool] | None = None
    otel: pulumi.Input[bool] | None = None
    otel_endpoint: pulumi.Input[str] | None = None
    github_deployment: pulumi.Input[bool] | None = None
    github_environment: pulumi.Input[str] | None = None
    github_ref: pulumi.Input[str] | None = None
    environment_url: pulumi.Input[str] | None = None

    def after_success(self) -> dict[str, Any]:
        return {field.name: getattr(self, field.name) for field in fields(_AfterSuccess)}


@dataclass(frozen=True, kw_only=True)
class DeploymentGateArgs(_AfterSuccess, _Timing):
    """What to wait on, and for how long.

    ``timeout`` is the gate's own deadline (``customTimeouts`` are not enforced for dynamic
    providers). Durations are seconds or text such as ``"90s"``, ``"15m"``, ``"1h"``.
    ``triggers``: any change to these values makes a new gate that waits again (as in the
    command provider). ``skip_await``: record the gate without waiting or calling any API
    (status ``skipped``), an escape hatch for when the API is down and the stack must move.
    """

    target: HumanitecTarget | HumanitecV2Target | GreengrassTarget | GreengrassV2Target


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


@dataclass(frozen=True, kw_only=True)
class DeploymentGatesArgs(_Timing):
    """Many targets by name, waited on at once with one request budget per API.

    ``fail_fast`` ends the wait once one target has not succeeded (the rest are cancelled);
    otherwise every failure is reported together. ``max_rate`` is requests a second to each
    API, shared by the targets on it. Timing applies to each target, as in
    :class:`DeploymentGateArgs`.
    """

    targets: Mapping[
        str, HumanitecTarget | HumanitecV2Target | GreengrassTarget | GreengrassV2Target
    ]
    fail_fast: bool = False
    max_rate: float = DEFAULT_MAX_RATE


class _DeploymentWaits(pulumi.dynamic.Resource, module="gate", name="DeploymentWaits"):
    status: pulumi.Output[str]
    summary: pulumi.Output[str]
    outcomes: pulumi.Output[list[dict[str, Any]]]
    elapsed_seconds: pulumi.Output[float]


class DeploymentGates(pulumi.ComponentResource):
    """Succeeds once every target's deployment has succeeded; fails the update otherwise,
    naming each target that did not and why.

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
