"""A local stand-in for the deployment APIs, on loopback: for ``gate demo``, tests and bench.

It serves the Humanitec endpoints the gate reads (deployments, pipeline runs, the runtime,
shaped by the published OpenAPI contract; and the v2 orchestrator's deployment long-poll),
Greengrass v1 ``GetDeploymentStatus`` and the Greengrass v2 and IoT jobs reads (shaped by
botocore's service model), with
deployments that follow scripted timelines and faults that can be injected on demand. It also
starts deployments as a rollback does (Humanitec ``POST .../deploys``, the v2 orchestrator's
``mode: rollback``, Greengrass v2 ``CreateDeployment``); ``then_*`` scripts what they do.
And it answers Prometheus' queries (``/api/v1/query``, ``/api/v1/query_range``) over
synthetic series (:class:`ErrorRatio`), for a bake's ``--query`` and ``--compare``.
"""

from gate.emulator.scenario import (
    Device,
    ErrorRatio,
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
    "ErrorRatio",
    "Fault",
    "PipelineJob",
    "PipelineStep",
    "Timeline",
    "Workload",
]
