"""An Alertmanager's active alerts as a bake check: ``--alertmanager``, ``--alert-filter``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from gate.bake.check import Check
from gate.bake.plugin import each_needs_the_other
from gate.core.description import Field, TargetValues, named

__all__ = ["plugin"]


class AlertmanagerAlerts:
    name = "alertmanager"
    enabled_by = "alertmanager"
    fields = (
        Field(
            "alertmanager",
            "an Alertmanager whose active alerts (matching --alert-filter) fail the bake",
            kind="url",
            metavar="URL",
        ),
        Field(
            "alert_filter",
            'which Alertmanager alerts count, as a matcher: service="checkout"',
            kind="list",
            metavar="MATCHER",
        ),
    )
    rules = (
        each_needs_the_other(
            "alert_filter",
            "alertmanager",
            server_needs=f"an {named('alert_filter')}: every alert, an always-firing Watchdog "
            "among them, would fail the bake",
        ),
    )

    def build(
        self, values: TargetValues, env: Mapping[str, str], *, request_timeout: float
    ) -> Iterator[Check]:
        from gate.bake.alertmanager import AlertmanagerAlerts as Alerts  # httpx: when asked

        server = values.text("alertmanager") or ""  # given: it turns the check on
        yield Alerts(server, values.texts("alert_filter"), request_timeout=request_timeout)


plugin = AlertmanagerAlerts()
