"""A comparison's metric read from Prometheus: one PromQL expression, one series.

A window is read with ``GET /api/v1/query_range`` at the bake's interval as the step (longer
for a window that would have more than :data:`MOST_POINTS` samples), the steps ending at the
window's end. :meth:`PrometheusSeries.prepare` runs the expression once (``GET
/api/v1/query``), so one Prometheus cannot parse, or that gives more than one series, is
refused before the deployment is waited on.
"""

from __future__ import annotations

import math
from datetime import datetime

from gate.bake._json_api import JsonApi
from gate.bake.comparison import Samples
from gate.bake.prometheus import answer_data
from gate.core.errors import ReadError, TransientError, UsageError
from gate.core.text import from_api, one_line

__all__ = ["MOST_POINTS", "PrometheusSeries", "comparison_step"]

MOST_POINTS = 10_000
"""Prometheus refuses more than 11,000 points a series: the step grows past this."""
QUERY_SHOWN = 200


def comparison_step(interval: float, window: float) -> float:
    """The ``query_range`` step: the bake's interval, or longer for a window that would
    have more than :data:`MOST_POINTS` samples."""
    return max(interval, window / MOST_POINTS)


class PrometheusSeries:
    """One PromQL expression giving one series (or a scalar)."""

    source = "Prometheus"

    def __init__(
        self,
        url: str,
        query: str,
        *,
        interval: float,
        request_timeout: float,
        allow_plain_http: bool = False,
    ) -> None:
        self.query = query
        self.interval = interval
        self._api = JsonApi(
            "Prometheus",
            "--prometheus",
            url,
            request_timeout=request_timeout,
            allow_plain_http=allow_plain_http,
        )

    def describe(self) -> str:
        return f"{one_line(self.query, limit=QUERY_SHOWN)} at {self._api.url}"

    def prepare(self, name: str) -> None:
        shown = repr(one_line(self.query, limit=QUERY_SHOWN))

        def refused(words: str) -> UsageError:
            return UsageError(f"Prometheus cannot run the comparison {name} {shown}: {words}")

        what = f"running the comparison {name} once"
        data = answer_data(
            self._api.get(
                "/api/v1/query", what, params=[("query", self.query)], on_bad_request=refused
            ),
            what,
        )
        kind, result = data.get("resultType"), data.get("result")
        if kind == "scalar":
            return
        if kind != "vector" or not isinstance(result, list):
            raise UsageError(
                f"the comparison {name} {shown} gives a {from_api(kind)}, not one series: "
                "a comparison reads an instant vector of one series, or a scalar"
            )
        if len(result) > 1:
            raise UsageError(
                f"the comparison {name} {shown} gives {len(result)} series: aggregate it "
                "to one (sum, avg, histogram_quantile of a sum)"
            )

    def samples(self, start: datetime, end: datetime, what: str) -> Samples:
        """The expression's values from ``start`` to ``end`` at the step, the steps ending at
        ``end``; a step where it has no value gives none."""
        step = comparison_step(self.interval, (end - start).total_seconds())
        end_s = math.floor(end.timestamp() * 1000) / 1000
        steps = math.floor(max(end_s - start.timestamp(), 0.0) / step)
        start_s = end_s - steps * step
        data = answer_data(
            self._api.get(
                "/api/v1/query_range",
                what,
                params=[
                    ("query", self.query),
                    ("start", f"{start_s:.3f}"),
                    ("end", f"{end_s:.3f}"),
                    ("step", f"{step:g}"),
                ],
            ),
            what,
        )
        kind, result = data.get("resultType"), data.get("result")
        if kind != "matrix" or not isinstance(result, list):
            raise TransientError(f"{what}: the answer is not a matrix of series")
        if len(result) > 1:
            raise ReadError(
                f"{what}: the expression gives {len(result)} series; a comparison needs one"
            )
        if not result:
            return Samples([])
        series = result[0]
        values = series.get("values", []) if isinstance(series, dict) else None
        if not isinstance(values, list):
            raise TransientError(f"{what}: a series of the answer has no values")
        return Samples([_sample(point, what) for point in values])

    def close(self) -> None:
        self._api.close()


def _sample(point: object, what: str) -> float:
    if not isinstance(point, list) or len(point) != 2 or not isinstance(point[1], str):
        raise TransientError(f'{what}: a sample of the answer is not [time, "value"]')
    try:
        return float(point[1])  # NaN and ±Inf as Prometheus writes them; the judge drops them
    except ValueError:
        raise TransientError(f"{what}: a sample's value is not a number") from None
