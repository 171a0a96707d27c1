"""A PromQL expression compared before and during the bake: ``--compare NAME=PROMQL``.

The baseline window is as long as the bake and ends when the bake began (the moment the
deployment succeeded: a check is not told when the deployment started); the bake window is
the bake. Both are read with ``GET /api/v1/query_range`` at the bake's interval as the step,
once, when the bake's time is up: the verdict is the judge's (:mod:`gate.bake.verdict`) on the
whole bake, and reading once keeps a long bake from testing again and again until chance
says regression. Until then each round says it is waiting; a regression is a breach (the
bake fails, and a rollback follows as for any breach); an inconclusive verdict (too few
samples, no baseline) is named in the outcome's notes and does not fail the bake.

:meth:`PrometheusComparison.prepare` runs the expression once (``GET /api/v1/query``), so
one Prometheus cannot parse, or that gives more than one series, is refused before the
deployment is waited on.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from gate.bake._json_api import JsonApi
from gate.bake.check import Breach, Reading
from gate.bake.prometheus import answer_data, as_utc
from gate.bake.verdict import Direction, MinEffect, judge
from gate.core.errors import ReadError, TransientError, UsageError
from gate.core.text import from_api, one_line

__all__ = ["MOST_POINTS", "PrometheusComparison", "comparison_step"]

MOST_POINTS = 10_000
"""Prometheus refuses more than 11,000 points a series: the step grows past this."""
_QUERY_SHOWN = 200
_JUDGED_EARLY = 1.0
"""How long before the bake's end a round is its last: the bake's rounds keep the monotonic
clock and a check is given the wall clock, which may differ by a fraction of a second."""


def comparison_step(interval: float, window: float) -> float:
    """The ``query_range`` step: the bake's interval, or longer for a window that would
    have more than :data:`MOST_POINTS` samples."""
    return max(interval, window / MOST_POINTS)


class PrometheusComparison:
    """One named expression compared before and during the bake."""

    kind = "comparison"

    def __init__(
        self,
        url: str,
        name: str,
        query: str,
        *,
        bake_seconds: float,
        interval: float,
        direction: Direction,
        min_effect: MinEffect,
        confidence: float,
        min_samples: int,
        request_timeout: float,
        allow_plain_http: bool = False,
    ) -> None:
        if not name.strip() or not query.strip():
            raise UsageError(f"a comparison is NAME=PROMQL, not {name}={query!r}")
        self.name = name
        self.query = query
        self.bake_seconds = bake_seconds
        self.step = comparison_step(interval, bake_seconds)
        self.direction: Direction = direction
        self.min_effect = min_effect
        self.confidence = confidence
        self.min_samples = min_samples
        self._api = JsonApi(
            "Prometheus",
            "--prometheus",
            url,
            request_timeout=request_timeout,
            allow_plain_http=allow_plain_http,
        )

    @classmethod
    def parse(cls, written: str, url: str, **shape: Any) -> PrometheusComparison:
        """From ``NAME=PROMQL`` as ``--compare`` takes it."""
        name, equals, query = written.partition("=")
        if not equals or not name.strip() or not query.strip():
            shown = repr(one_line(written, limit=_QUERY_SHOWN))
            raise UsageError(
                f"a comparison is NAME=PROMQL (error_ratio=sum(rate(...))), not {shown}"
            )
        return cls(url, name.strip(), query.strip(), **shape)

    def describe(self) -> str:
        worse = "higher" if self.direction == "higher-is-worse" else "lower"
        shown = one_line(self.query, limit=_QUERY_SHOWN)
        return f"Prometheus comparison {self.name} ({shown}; {worse} is worse) at {self._api.url}"

    def prepare(self) -> None:
        shown = repr(one_line(self.query, limit=_QUERY_SHOWN))

        def refused(words: str) -> UsageError:
            return UsageError(f"Prometheus cannot run the comparison {self.name} {shown}: {words}")

        what = f"running the comparison {self.name} once"
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
                f"the comparison {self.name} {shown} gives a {from_api(kind)}, not one series: "
                "a comparison reads an instant vector of one series, or a scalar"
            )
        if len(result) > 1:
            raise UsageError(
                f"the comparison {self.name} {shown} gives {len(result)} series: aggregate it "
                "to one (sum, avg, histogram_quantile of a sum)"
            )

    def read(self, since: datetime, now: datetime) -> Reading:
        since, now = as_utc(since), as_utc(now)
        if (now - since).total_seconds() < self.bake_seconds - _JUDGED_EARLY:
            return Reading(summary=f"comparison {self.name} judged at the end")
        before = self._samples(since - timedelta(seconds=self.bake_seconds), since, "before")
        during = self._samples(since, now, "during the bake")
        verdict = judge(
            before,
            during,
            direction=self.direction,
            min_effect=self.min_effect,
            confidence=self.confidence,
            min_samples=self.min_samples,
        )
        said = verdict.said(self.name)
        if verdict.outcome == "regression":
            return Reading(
                summary=f"comparison {self.name} regressed",
                breaches=(Breach(check=f"comparison {self.name}", detail=said),),
            )
        if verdict.outcome == "inconclusive":
            return Reading(
                summary=f"comparison {self.name} inconclusive",
                notes=(f"comparison {said}: not failed",),
            )
        return Reading(summary=f"comparison {self.name} passed", notes=(f"comparison {said}",))

    def close(self) -> None:
        self._api.close()

    def _samples(self, start: datetime, end: datetime, side: str) -> list[float]:
        """The expression's values from ``start`` to ``end`` at the step, the steps ending at
        ``end``; a step where it has no value gives none."""
        end_s = math.floor(end.timestamp() * 1000) / 1000
        steps = math.floor(max(end_s - start.timestamp(), 0.0) / self.step)
        start_s = end_s - steps * self.step
        what = f"reading the comparison {self.name} {side}"
        data = answer_data(
            self._api.get(
                "/api/v1/query_range",
                what,
                params=[
                    ("query", self.query),
                    ("start", f"{start_s:.3f}"),
                    ("end", f"{end_s:.3f}"),
                    ("step", f"{self.step:g}"),
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
            return []
        series = result[0]
        values = series.get("values", []) if isinstance(series, dict) else None
        if not isinstance(values, list):
            raise TransientError(f"{what}: a series of the answer has no values")
        return [_sample(point, what) for point in values]


def _sample(point: object, what: str) -> float:
    if not isinstance(point, list) or len(point) != 2 or not isinstance(point[1], str):
        raise TransientError(f'{what}: a sample of the answer is not [time, "value"]')
    try:
        return float(point[1])  # NaN and ±Inf as Prometheus writes them; the judge drops them
    except ValueError:
        raise TransientError(f"{what}: a sample's value is not a number") from None
