"""A local stand-in for the deployment APIs, on loopback: for ``gate demo``, tests and bench.

It serves the Humanitec endpoints the gate reads (shaped by the published OpenAPI contract)
and Greengrass v1 ``GetDeploymentStatus`` (shaped by botocore's service model), with
deployments that follow scripted timelines and faults that can be injected on demand.
"""

from gate.emulator.scenario import Device, Fault, Timeline
from gate.emulator.server import Emulator

__all__ = ["Device", "Emulator", "Fault", "Timeline"]
