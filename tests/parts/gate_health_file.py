"""An example third-party bake check, installed by the tests as a distribution of its own
(``gate-health-file``, entry point ``health-file`` in the ``gate.checks`` group): a file the
release writes its health into, read on each round of the bake. It imports only the gate's
public seams for checks: the plugin protocol's shape, :class:`Field`, :class:`Reading`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from gate.bake.check import Breach, Reading
from gate.core.description import Field, TargetValues
from gate.core.errors import UsageError


class HealthFile:
    """Healthy while the file says ``healthy``; anything else it says is a breach, in its
    own words."""

    kind = "health-file"

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def describe(self) -> str:
        return f"health file {self.path}"

    def prepare(self) -> None:
        if not self.path.is_file():
            raise UsageError(f"health file {self.path} does not exist")

    def read(self, since: datetime, now: datetime) -> Reading:
        said = self.path.read_text().strip()
        if said == "healthy":
            return Reading("health file healthy")
        breach = Breach(f"health file {self.path}", said)
        return Reading("health file unhealthy", breaches=(breach,))

    def close(self) -> None:
        pass


class HealthFiles:
    name = "health-file"
    enabled_by = "health_file"
    fields = (
        Field(
            "health_file",
            "a file that fails the bake when it says anything but healthy",
            kind="list",
            metavar="PATH",
        ),
    )
    rules = ()

    def build(
        self, values: TargetValues, env: Mapping[str, str], *, request_timeout: float
    ) -> list[HealthFile]:
        return [HealthFile(path) for path in values.texts("health_file")]


plugin = HealthFiles()
