"""Scripted deployments and injectable faults: what the emulator serves, without the HTTP."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

__all__ = [
    "Device",
    "ErrorRatio",
    "Fault",
    "GreengrassScript",
    "GreengrassV2Script",
    "HumanitecScript",
    "HumanitecV2Script",
    "PipelineJob",
    "PipelineRunScript",
    "PipelineStep",
    "Timeline",
    "Workload",
]


@dataclass(frozen=True)
class Timeline:
    """Status words by time: ``Timeline([(0, "pending"), (2, "in progress"), (5, "failed")])``
    reads ``pending`` for 2 s after creation, then ``in progress``, then ``failed``."""

    steps: Sequence[tuple[float, str]]

    def __post_init__(self) -> None:
        if not self.steps or self.steps[0][0] != 0:
            raise ValueError("a timeline starts with a status at 0 s")
        times = [at for at, _ in self.steps]
        if times != sorted(times):
            raise ValueError("a timeline's steps must be in time order")

    def at(self, seconds: float) -> tuple[str, float]:
        """The status ``seconds`` after creation, and when (seconds after creation) it began."""
        current = self.steps[0]
        for step in self.steps:
            if step[0] <= seconds:
                current = step
        return current[1], current[0]

    @property
    def ends_at(self) -> float:
        return self.steps[-1][0]


@dataclass
class HumanitecScript:
    org: str
    app: str
    env: str
    deploy_id: str
    timeline: Timeline
    errors: Sequence[Mapping[str, str]]
    created: float
    pipeline: Mapping[str, object] | None = None
    """The deployment's ``pipeline`` reference (``id``, ``run_id``, ``job_id``, ``step_index``)."""
    reads: int = 0
    set_id: str = "0" * 40
    value_set_version_id: str = ""
    comment: str = "deployed by the gate emulator"


@dataclass(frozen=True)
class PipelineStep:
    """A step of a pipeline job: its statuses by time (since the run began) and its log,
    which is there once the step has left its first status."""

    name: str
    uses: str
    timeline: Timeline
    status_message: str = ""
    logs: Sequence[tuple[str, str]] = ()
    """``(level, message)`` lines."""


@dataclass(frozen=True)
class PipelineJob:
    """A job of a pipeline run; while its status is ``waiting`` it waits on ``waiting_for``
    (such as ``approval(<id>)``)."""

    id: str
    timeline: Timeline
    steps: Sequence[PipelineStep] = ()
    status_message: str = ""
    waiting_for: str = ""


@dataclass
class PipelineRunScript:
    org: str
    app: str
    pipeline_id: str
    run_id: str
    timeline: Timeline
    jobs: Sequence[PipelineJob]
    status_message: str
    created: float
    reads: int = 0


@dataclass(frozen=True)
class Workload:
    """A workload (Humanitec module) in an environment's runtime, one container in one pod.

    ``timeline`` words: ``starting``, ``ready``, or the reason Kubernetes gives a container
    that cannot run (``CrashLoopBackOff``, ``ImagePullBackOff``), with ``message``.
    """

    name: str
    timeline: Timeline
    message: str = ""
    kind: str = "Deployment"


@dataclass
class HumanitecV2Script:
    """A Platform Orchestrator v2 deployment: ``timeline`` holds its ``status`` words."""

    org: str
    deployment_id: str
    project: str
    env: str
    timeline: Timeline
    status_message: str
    created: float
    reads: int = 0
    mode: str = "deploy"
    rollback_to: str = ""
    """``rollback_to_deployment_id`` of a deployment in ``rollback`` mode."""
    idempotency_key: str = ""


@dataclass
class GreengrassScript:
    group_id: str
    deployment_id: str
    timeline: Timeline
    error_message: str
    error_details: Sequence[Mapping[str, str]]
    created: float
    deployment_type: str = "NewDeployment"
    reads: int = 0


@dataclass(frozen=True)
class Device:
    """A Greengrass v2 core device and what a deployment does on it.

    ``timeline`` holds IoT job execution statuses (``QUEUED``, ``IN_PROGRESS``,
    ``SUCCEEDED``, ``FAILED``, ...); the device is in the group from ``joins_at`` seconds
    after the deployment starts, until ``leaves_at`` (removed from the group: an execution
    not finished by then turns ``REMOVED``). A device the job never ``reached`` has no
    execution at all. A failed device explains itself with ``reason``, ``error_stack`` and
    ``error_types``, as the Greengrass nucleus reports them. ``health`` is what
    ``GetCoreDevice`` says of it, last updated ``last_seen_ago`` seconds before the deployment.
    """

    name: str
    timeline: Timeline
    reason: str = ""
    error_stack: Sequence[str] = ()
    error_types: Sequence[str] = ()
    joins_at: float = 0.0
    leaves_at: float | None = None
    reached: bool = True
    health: str = "HEALTHY"
    last_seen_ago: float = 0.0


@dataclass
class GreengrassV2Script:
    deployment_id: str
    job_id: str
    target_arn: str
    devices: Sequence[Device]
    created: float
    superseded_after: float | None = None
    reads: int = 0
    cancelled: Mapping[str, object] | None = None
    """The IoT job's ``forceCanceled``, ``reasonCode`` and ``comment`` once AWS cancelled it."""
    spec: Mapping[str, object] = field(default_factory=dict)
    """What was deployed, as CreateDeployment was given it: ``deploymentName``, ``components``,
    ``deploymentPolicies``, ``iotJobConfiguration``, ``tags``."""
    client_token: str = ""


@dataclass(frozen=True)
class ErrorRatio:
    """A service's error ratio as a recording rule gives it: each scrape, ``requests``
    requests of which a Poisson-drawn number failed around ``level`` (0.004: 0.4%); from
    ``worse_from`` (Unix seconds) on, around ``level`` times ``worse_by``.

    A value is a function of its scrape's moment (and ``seed``), so any window, the past
    included, reads the same values every time it is asked for.
    """

    level: float
    worse_from: float = math.inf
    worse_by: float = 1.0
    requests: int = 5000
    scrape_interval: float = 1.0
    seed: int = 0

    def at(self, moment: float) -> float:
        """The value Prometheus holds at ``moment`` (Unix seconds): its last scrape's."""
        every_ms = max(round(self.scrape_interval * 1000), 1)
        scraped_ms = math.floor(moment * 1000) // every_ms * every_ms
        level = self.level * (self.worse_by if scraped_ms >= self.worse_from * 1000 else 1.0)
        draws = random.Random(f"{self.seed}:{scraped_ms}")  # noqa: S311 - noise, not secrets
        return _poisson(draws, level * self.requests) / self.requests


def _poisson(draws: random.Random, mean: float) -> int:
    if mean > 500:  # Knuth's product would underflow; the normal law is close there
        return max(0, round(draws.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, draws.random()
    while product > limit:
        count += 1
        product *= draws.random()
    return count


@dataclass(frozen=True)
class Fault:
    """A misbehaviour the emulator shows instead of a normal answer.

    kinds: ``http`` (a status with a body and headers), ``hang`` (no answer for ``seconds``),
    ``reset`` (the connection closes mid-body), ``body`` (HTTP 200 with ``body`` as given),
    and the slow ones, each sending a piece every ``seconds`` for as long as it is let:
    ``trickle-headers`` (one header line at a time), ``trickle-body`` (one byte at a time of
    a long body) and ``endless-chunks`` (a chunked body that never ends).

    ``after_acting``: the request is served first (a start starts its deployment), then the
    fault is shown instead of the answer, as when an answer is lost on its way back.
    """

    kind: str
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    after_acting: bool = False

    def acting_first(self) -> Fault:
        """This fault, shown after the request was served (see ``after_acting``)."""
        return replace(self, after_acting=True)

    @classmethod
    def http(
        cls, status: int, *, retry_after: str | None = None, body: bytes | None = None
    ) -> Fault:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        text = body if body is not None else b'{"error":"API-500","message":"injected fault"}'
        return cls("http", status=status, body=text, headers=headers)

    @classmethod
    def aws(
        cls,
        code: str,
        *,
        status: int = 400,
        message: str = "injected fault",
        **fields: object,
    ) -> Fault:
        body = json.dumps({"Message": message, **fields}).encode()
        return cls("http", status=status, body=body, headers={"x-amzn-ErrorType": code})

    @classmethod
    def trickle_headers(cls, every: float = 0.2) -> Fault:
        return cls("trickle-headers", seconds=every)

    @classmethod
    def trickle_body(cls, every: float = 0.2) -> Fault:
        return cls("trickle-body", seconds=every)

    @classmethod
    def endless_chunks(cls, every: float = 0.2) -> Fault:
        return cls("endless-chunks", seconds=every)

    @classmethod
    def hang(cls, seconds: float) -> Fault:
        return cls("hang", seconds=seconds)

    @classmethod
    def reset(cls) -> Fault:
        return cls("reset")

    @classmethod
    def ok_body(cls, body: bytes) -> Fault:
        return cls("body", status=200, body=body)
