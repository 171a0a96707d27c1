"""HTTP probes as a bake check: ``--probe``, and how many failures in a row are a breach."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from gate.bake.check import Check
from gate.core.description import Field, TargetValues

__all__ = ["DEFAULT_PROBE_FAILURES", "plugin"]

DEFAULT_PROBE_FAILURES = 3.0


class HttpProbes:
    name = "probe"
    enabled_by = "probe"
    fields = (
        Field(
            "probe",
            "a URL that fails the bake when it answers non-2xx, or not at all, "
            "--probe-failures times in a row",
            kind="list",
            metavar="URL",
        ),
        Field(
            "probe_failures",
            "how many failed probes in a row are a breach",
            kind="number",
            default=DEFAULT_PROBE_FAILURES,
            metavar="N",
            least=1,
            most=1000,
            whole=True,
        ),
    )
    rules = ()

    def build(
        self, values: TargetValues, env: Mapping[str, str], *, request_timeout: float
    ) -> Iterator[Check]:
        from gate.bake.probe import HttpProbe  # httpx: only for a bake that asks

        failures = int(values.number_of("probe_failures"))
        for url in values.texts("probe"):
            yield HttpProbe(url, failures_in_a_row=failures, request_timeout=request_timeout)


plugin = HttpProbes()
