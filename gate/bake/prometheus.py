"""A PromQL query watched as an alerting rule watches it: any series it gives is a breach.

:meth:`PrometheusQuery.prepare` runs the query once (``GET /api/v1/query``), so a query
Prometheus cannot parse is a :class:`~gate.core.errors.UsageError` before the deployment is
waited on, in Prometheus' words. :meth:`PrometheusQuery.read` asks for the whole window
(``GET /api/v1/query_range`` from the bake's start to now), so a series that appeared and went
between two reads still breaches. Write the query as an alert's expression
(``sum by (service) (rate(http_requests_total{code=~"5.."}[1m])) > 0.1``): a query that
always gives series (``up``) always breaches.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from gate.bake._json_api import JsonApi
from gate.bake.check import Breach, Reading
from gate.core.errors import TransientError, UsageError
from gate.core.text import from_api, one_line
from gate.core.timestamps import iso_utc

__all__ = ["SERIES_SHOWN", "PrometheusQuery", "answer_data", "as_utc", "range_step"]

SERIES_SHOWN = 5
"""Series named one by one in a reading; the others are counted."""
_QUERY_SHOWN = 200
_LABELS_SHOWN = 300
_VALUE_SHOWN = 40
_WARNINGS_READ = 20


def range_step(window_seconds: float) -> int:
    """The ``query_range`` step, in seconds, for a window of ``window_seconds``."""
    # Prometheus refuses more than 11,000 points a series; a thousand keep the answer small
    # (about 30 KB a breaching series) while the step stays 1 s up to a 16-minute window and
    # at most 15 s up to a 4-hour one, the resolution of an alerting rule. A breach shorter
    # than the step can fall between two steps: long bakes want `max_over_time` queries.
    return max(1, math.ceil(window_seconds / 1000))


@dataclass(frozen=True)
class _Series:
    labels: str
    first_at: float
    first_value: str
    last_at: float
    last_value: str


class PrometheusQuery:
    """The check of one query against one Prometheus (its ``/api/v1`` HTTP API)."""

    kind = "query"

    def __init__(
        self,
        url: str,
        query: str,
        *,
        request_timeout: float,
        allow_plain_http: bool = False,
    ) -> None:
        if not query.strip():
            raise UsageError("a Prometheus query must not be empty")
        self.query = query
        self.name = f"query {one_line(query, limit=_QUERY_SHOWN)}"
        self._api = JsonApi(
            "Prometheus",
            "--prometheus",
            url,
            request_timeout=request_timeout,
            allow_plain_http=allow_plain_http,
        )

    def describe(self) -> str:
        return f"Prometheus {self.name} at {self._api.url}"

    def prepare(self) -> None:
        shown = repr(one_line(self.query, limit=_QUERY_SHOWN))

        def refused(words: str) -> UsageError:
            return UsageError(f"Prometheus cannot run the query {shown}: {words}")

        what = f"running the {self.name} once"
        body = self._api.get(
            "/api/v1/query", what, params=[("query", self.query)], on_bad_request=refused
        )
        kind = answer_data(body, what).get("resultType")
        if kind in ("scalar", "string"):
            raise UsageError(
                f"the query {shown} gives a {kind}, not series: a bake breaches on the series "
                "a query gives, as an alerting rule fires on them"
            )
        if kind == "matrix":
            raise UsageError(
                f"the query {shown} gives a range vector: a bake reads a query as an alerting "
                "rule does, an instant vector whose series breach"
            )
        if kind != "vector":
            raise TransientError(f"{what}: the answer's resultType is not 'vector'")

    def read(self, since: datetime, now: datetime) -> Reading:
        end_ms = math.floor(as_utc(now).timestamp() * 1000)  # Prometheus' resolution
        window = max(end_ms / 1000 - as_utc(since).timestamp(), 0.0)
        step = range_step(window)
        # The steps end at `now`, so the read sees the latest sample; the first may fall
        # less than a step before `since`, where Prometheus' lookback looks anyway.
        start_ms = end_ms - math.ceil(window / step) * step * 1000
        what = f"reading the {self.name}"
        body = self._api.get(
            "/api/v1/query_range",
            what,
            params=[
                ("query", self.query),
                ("start", f"{start_ms / 1000:.3f}"),
                ("end", f"{end_ms / 1000:.3f}"),
                ("step", f"{step}s"),
            ],
        )
        data = answer_data(body, what)
        result = data.get("result")
        if data.get("resultType") != "matrix" or not isinstance(result, list):
            raise TransientError(f"{what}: the answer is not a matrix of series")
        found = [series for item in result if (series := _series(item, what)) is not None]
        warnings = _warnings(body)
        if not found and (doubts := [words for words in warnings if not _is_info(words)]):
            # A partial answer (a store, a shard, a remote read that failed: Thanos' and
            # Mimir's "partial response") proves nothing clear: an unreadable round.
            raise TransientError(f"{what}: the answer may be partial: {'; '.join(doubts[:2])}")
        notes = tuple(f"Prometheus warns: {words}" for words in warnings[:2])
        if not found:
            return Reading(summary="query clear", notes=notes)
        found.sort(key=lambda series: (series.first_at, series.labels))
        latest = end_ms / 1000 - step / 2  # a series at the window's latest step breaches still
        breaches = tuple(self._breach(series, latest) for series in found[:SERIES_SHOWN])
        if len(found) > SERIES_SHOWN:
            notes += (f"{self.name}: {len(found) - SERIES_SHOWN} more series breached",)
        summary = f"query breached ({len(found)} series)" if len(found) > 1 else "query breached"
        return Reading(summary=summary, breaches=breaches, notes=notes)

    def close(self) -> None:
        self._api.close()

    def _breach(self, series: _Series, latest: float) -> Breach:
        detail = f"{series.labels} = {series.first_value}"
        if series.last_at > series.first_at:
            detail += f"; last seen {series.last_value} at {_iso(series.last_at)}"
        return Breach(
            check=self.name,
            detail=detail,
            at=_moment(series.first_at),
            ongoing=series.last_at >= latest,
        )


def answer_data(body: object, what: str) -> dict[str, Any]:
    """The ``data`` of a ``status: success`` envelope."""
    if not isinstance(body, dict):
        raise TransientError(f"{what}: the answer is not a JSON object")
    if body.get("status") != "success":
        words = one_line(from_api(body.get("error")), limit=300)
        raise TransientError(
            f"{what}: the answer's status is not 'success'" + (f" ({words})" if words else "")
        )
    data = body.get("data")
    if not isinstance(data, dict):
        raise TransientError(f"{what}: the answer has no data object")
    return data


def _series(item: object, what: str) -> _Series | None:
    """One series of a matrix, or None when it has no sample in the window. Its samples are
    floats (``values``), native histograms (``histograms``), or both: a value either way."""
    malformed = TransientError(
        f"{what}: a series of the answer has no metric, values or histograms"
    )
    if not isinstance(item, dict) or ("values" not in item and "histograms" not in item):
        raise malformed
    metric, values = item.get("metric"), item.get("values", [])
    histograms = item.get("histograms", [])
    if not isinstance(metric, dict) or not isinstance(values, list):
        raise malformed
    if not isinstance(histograms, list):
        raise malformed
    points = sorted(
        [_point(point, what, _float_value) for point in values]
        + [_point(point, what, _histogram_value) for point in histograms],
        key=lambda point: point[0],
    )
    if not points:
        return None
    (first_at, first_value), (last_at, last_value) = points[0], points[-1]
    return _Series(_labels(metric), first_at, first_value, last_at, last_value)


def _point(point: object, what: str, value_of: Callable[[object], str | None]) -> tuple[float, str]:
    value = value_of(point[1]) if isinstance(point, list) and len(point) == 2 else None
    if (
        value is None
        or not isinstance(point, list)
        or not isinstance(point[0], (int, float))
        or isinstance(point[0], bool)
        or not math.isfinite(point[0])
    ):
        raise TransientError(
            f'{what}: a sample of the answer is not [time, "value"] nor [time, histogram]'
        )
    return float(point[0]), one_line(value, limit=_VALUE_SHOWN)


def _float_value(value: object) -> str | None:
    return from_api(value) if isinstance(value, str) else None


def _histogram_value(value: object) -> str | None:
    """A native histogram as Prometheus writes it (``{"count": "5", "sum": "2.5",
    "buckets": [...]}``), said by its count and sum."""
    if not isinstance(value, dict) or not isinstance(value.get("count"), str):
        return None
    said = f"histogram (count {from_api(value['count'])}"
    return said + (f", sum {from_api(value['sum'])})" if isinstance(value.get("sum"), str) else ")")


def _labels(metric: dict[Any, Any]) -> str:
    """``http_requests_total{code="500", service="checkout"}``, as PromQL writes a series."""
    name = from_api(metric.get("__name__"))
    pairs = ", ".join(
        f"{from_api(key)}={json.dumps(from_api(value), ensure_ascii=False)}"
        for key, value in sorted(metric.items(), key=lambda pair: str(pair[0]))
        if key != "__name__"
    )
    return one_line(f"{name}{{{pairs}}}", limit=_LABELS_SHOWN)


def _warnings(body: object) -> tuple[str, ...]:
    warnings = body.get("warnings") if isinstance(body, dict) else None
    if not isinstance(warnings, list):
        return ()
    said = (one_line(from_api(warning), limit=300) for warning in warnings[:_WARNINGS_READ])
    return tuple(words for words in said if words)


def _is_info(warning: str) -> bool:
    """Prometheus 2.45 to 2.49 sent its informational notes (``PromQL info: metric might
    not be a counter``) as warnings; they doubt no answer."""
    return warning.startswith("PromQL info:")


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _moment(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _iso(seconds: float) -> str:
    moment = _moment(seconds)
    return iso_utc(moment) if moment else f"{seconds:g}"
