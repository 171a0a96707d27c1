"""The alerts an Alertmanager has active: any that matches the filters is a breach.

Each read asks ``GET /api/v2/alerts`` for the alerts active now that match every filter
(Alertmanager matchers: ``service="checkout"``, ``severity=~"page|critical"``). One that
Alertmanager holds silenced or inhibited does not breach (a maintenance window), but is said:
``1 matching alert suppressed by silence``, naming it and the silence. Alertmanager keeps no
history: an alert that fired and was resolved between two reads is not seen. To fail the
bake on those too, also watch a Prometheus query over the same condition (or over
Prometheus' own ``ALERTS`` series, ``ALERTS{alertstate="firing", service="checkout"}``),
which is read over the whole window.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gate.bake._json_api import JsonApi
from gate.bake.check import Breach, Reading
from gate.core.errors import TransientError, UsageError
from gate.core.text import from_api, one_line
from gate.core.timestamps import parse_timestamp

__all__ = ["ALERTS_SHOWN", "AlertmanagerAlerts"]

ALERTS_SHOWN = 5
"""Alerts named one by one in a reading; the others are counted."""
_NAME_SHOWN = 100
_LABELS_SHOWN = 300
_SUMMARY_SHOWN = 300
_SUB_MICROSECONDS = re.compile(r"(\.\d{6})\d+")
"""Alertmanager writes nanoseconds; Python 3.10 reads at most microseconds."""


class AlertmanagerAlerts:
    """The check of the alerts matching ``filters`` on one Alertmanager (its v2 API)."""

    kind = "alert"

    def __init__(
        self,
        url: str,
        filters: Sequence[str],
        *,
        request_timeout: float,
        allow_plain_http: bool = False,
    ) -> None:
        if isinstance(filters, str):
            raise TypeError("filters is a sequence of matchers, not one string")
        if any(not matcher.strip() for matcher in filters):
            raise UsageError("an Alertmanager filter must not be empty")
        self.filters = tuple(filters)
        self._api = JsonApi(
            "Alertmanager",
            "--alertmanager",
            url,
            request_timeout=request_timeout,
            allow_plain_http=allow_plain_http,
        )

    def describe(self) -> str:
        matching = f"matching {self._filters_shown()}" if self.filters else "of every kind"
        return f"Alertmanager alerts {matching} at {self._api.url}"

    def prepare(self) -> None:
        """Alertmanager answers, and accepts the filters (a matcher it cannot parse is a
        400, here a UsageError in its words)."""
        status = self._api.get("/api/v2/status", "reading Alertmanager's status")
        if not isinstance(status, dict) or not isinstance(status.get("versionInfo"), dict):
            raise TransientError("reading Alertmanager's status: the answer is not its status")
        shown = self._filters_shown()

        def refused(words: str) -> UsageError:
            return UsageError(f"Alertmanager refuses the filters {shown}: {words}")

        self._alerts("checking the filters with Alertmanager", on_bad_request=refused)

    def read(self, since: datetime, now: datetime) -> Reading:
        alerts = self._alerts("reading Alertmanager's alerts")
        held = [alert for alert in alerts if _suppressed_by(alert)]
        firing = [alert for alert in alerts if not _suppressed_by(alert)]
        breaches = sorted(
            (_breach(alert) for alert in firing),
            key=lambda breach: (breach.at is None, breach.at or now, breach.check),
        )
        notes: tuple[str, ...] = ()
        if len(breaches) > ALERTS_SHOWN:
            notes = (f"{len(breaches) - ALERTS_SHOWN} more alerts active",)
        notes += tuple(_held_note(alert) for alert in held[:ALERTS_SHOWN])
        if len(held) > ALERTS_SHOWN:
            notes += (f"{len(held) - ALERTS_SHOWN} more matching alerts suppressed",)
        count = len(breaches)
        summary = {0: "no alert firing", 1: "1 alert firing"}.get(count, f"{count} alerts firing")
        summary += "".join(f", {said}" for said in _held_counts(held))
        return Reading(summary=summary, breaches=tuple(breaches[:ALERTS_SHOWN]), notes=notes)

    def close(self) -> None:
        self._api.close()

    def _alerts(self, what: str, **kwargs: Any) -> list[dict[str, Any]]:
        # Silenced and inhibited ones too: they do not breach, but are said.
        params = [("active", "true"), ("silenced", "true"), ("inhibited", "true")]
        params += [("filter", matcher) for matcher in self.filters]
        body = self._api.get("/api/v2/alerts", what, params=params, **kwargs)
        if not isinstance(body, list) or not all(
            isinstance(alert, dict) and isinstance(alert.get("labels"), dict) for alert in body
        ):
            raise TransientError(f"{what}: the answer is not a list of alerts with labels")
        return body

    def _filters_shown(self) -> str:
        return one_line(", ".join(self.filters), limit=_LABELS_SHOWN)


def _breach(alert: dict[str, Any]) -> Breach:
    labels: dict[Any, Any] = alert["labels"]
    name = one_line(from_api(labels.get("alertname")), limit=_NAME_SHOWN) or "(no alertname)"
    pairs = ", ".join(
        f"{from_api(key)}={json.dumps(from_api(value), ensure_ascii=False)}"
        for key, value in sorted(labels.items(), key=lambda pair: str(pair[0]))
        if key != "alertname"
    )
    detail = one_line(f"{{{pairs}}}", limit=_LABELS_SHOWN)
    annotations = alert.get("annotations")
    summary = annotations.get("summary") if isinstance(annotations, dict) else None
    if said := one_line(from_api(summary), limit=_SUMMARY_SHOWN):
        detail += f": {said}"
    starts_at = alert.get("startsAt")
    if isinstance(starts_at, str):
        starts_at = _SUB_MICROSECONDS.sub(r"\1", starts_at)
    return Breach(check=f"alert {name}", detail=detail, at=parse_timestamp(starts_at), ongoing=True)


def _suppressed_by(alert: dict[str, Any]) -> str | None:
    """``silence`` or ``inhibition`` when Alertmanager holds ``alert`` back, else None (an
    alert whose status says neither is firing)."""
    status = alert.get("status")
    if not isinstance(status, dict):
        return None
    if status.get("silencedBy"):
        return "silence"
    if status.get("inhibitedBy") or status.get("state") == "suppressed":
        return "inhibition"
    return None


def _held_counts(held: list[dict[str, Any]]) -> list[str]:
    """``1 matching alert suppressed by silence``, and likewise by inhibition."""
    said = []
    for cause in ("silence", "inhibition"):
        count = sum(1 for alert in held if _suppressed_by(alert) == cause)
        if count:
            alerts = "1 matching alert" if count == 1 else f"{count} matching alerts"
            said.append(f"{alerts} suppressed by {cause}")
    return said


def _held_note(alert: dict[str, Any]) -> str:
    """``alert CheckoutErrors {service="checkout"} suppressed by silence 3fa8...``."""
    breach = _breach(alert)
    status = alert["status"]
    cause = _suppressed_by(alert)
    ids = status.get("silencedBy") if cause == "silence" else status.get("inhibitedBy")
    named = ", ".join(
        one_line(from_api(one), limit=_NAME_SHOWN) for one in (ids if isinstance(ids, list) else [])
    )
    by = f"{cause} {named}" if named else str(cause)
    return f"{breach.check} {breach.detail} suppressed by {by}: not counted as a breach"
