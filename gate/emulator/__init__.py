"""A local stand-in for the deployment APIs, on loopback: for ``gate demo``, tests and bench.

It serves the Humanitec endpoints the gate reads (deployments, pipeline runs, the runtime,
shaped by the published OpenAPI contract; and the v2 orchestrator's deployment long-poll),
Greengrass v1 ``GetDeploymentStatus`` and the Greengrass v2 and IoT jobs reads (shaped by
botocore's service model), with
deployments that follow scripted timelines and faults that can be injected on demand. It also
starts deployments as a rollback does (Humanitec ``POST .../deploys``, the v2 orchestrator's
``mode: rollback``, Greengrass v2 ``CreateDeployment``); ``then_*`` scripts what they do.
"""

from gate.emulator.scenario import (
    Device,
    Fault,
    PipelineJob,
    PipelineStep,
    Timeline,
    Workload,
)
from gate.emulator.server import Emulator

__all__ = [
    "Device",
    "Emulator",
    "Fault",
    "PipelineJob",
    "PipelineStep",
    "Timeline",
    "Workload",
]
