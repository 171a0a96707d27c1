"""The emulated Prometheus: the part of its HTTP API a bake reads (``GET /api/v1/query`` and
``GET /api/v1/query_range``), over synthetic series (:class:`~gate.emulator.ErrorRatio`),
shaped as https://prometheus.io/docs/prometheus/latest/querying/api/ documents them.

It reads a sliver of PromQL: a series' name (``cart:http_errors:ratio_rate1m``), alone or
compared with a number as an alerting rule's expression is (``... > 0.02``: the samples that
hold). A name no series has gives no series, as in Prometheus; anything else is refused with
Prometheus' 400 ``bad_data``, saying what the emulator reads.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from gate.emulator.core import EmulatorCore, Request, Route
from gate.emulator.http import Answer
from gate.emulator.scenario import ErrorRatio

__all__ = ["Prometheus"]

MOST_POINTS = 11_000
"""Prometheus refuses a range query that would give a series more points."""
_EXPRESSION = re.compile(
    r"\s*(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\s*"
    r"(?:(?P<op>==|!=|>=|<=|>|<)\s*(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*)?"
)
_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
_DURATION = re.compile(
    r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?"
)
_DURATION_UNITS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)


class BadData(Exception):
    """A request Prometheus answers 400 ``bad_data``, in its words."""


@dataclass(frozen=True)
class _Series:
    name: str
    labels: Mapping[str, str]
    values: ErrorRatio


@dataclass(frozen=True)
class _Expression:
    name: str
    holds: Callable[[float], bool]


class Prometheus(EmulatorCore):
    """Prometheus' query endpoints, for :class:`gate.emulator.Emulator`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._series: dict[str, _Series] = {}

    def _routes(self) -> list[Route]:
        answer = self._prometheus
        return [
            *super()._routes(),
            Route("^/api/v1/query$", "prometheus-query", answer),
            Route("^/api/v1/query_range$", "prometheus-query-range", answer),
        ]

    def add_error_ratio(
        self,
        name: str,
        level: float,
        *,
        worse_by: float = 1.0,
        worse_after: float | None = None,
        labels: Mapping[str, str] | None = None,
        seed: int = 0,
    ) -> ErrorRatio:
        """Serve the series ``name`` (with ``labels``): an error ratio around ``level``,
        around ``level`` times ``worse_by`` from ``worse_after`` seconds from now on (when a
        timeline made now reaches that second); returns its values."""
        worse_from = math.inf if worse_after is None else self._epoch(self.clock() + worse_after)
        values = ErrorRatio(level, worse_from=worse_from, worse_by=worse_by, seed=seed)
        with self._lock:
            self._series[name] = _Series(name, dict(labels or {}), values)
        return values

    def _prometheus(self, request: Request) -> Answer:
        try:
            if request.name == "prometheus-query":
                data = self._instant(request.query)
            else:
                data = self._range(request.query)
        except BadData as refused:
            return 400, {"status": "error", "errorType": "bad_data", "error": str(refused)}, {}
        return 200, {"status": "success", "data": data}, {}

    def _instant(self, query: Mapping[str, str]) -> dict[str, Any]:
        expression = _expression(query.get("query", ""))
        at_ms = _time_ms("time", query["time"]) if "time" in query else self._now_ms()
        result = []
        for series in self._matching(expression):
            value = series.values.at(at_ms / 1000)
            if expression.holds(value):
                result.append({"metric": _metric(series), "value": _sample(at_ms, value)})
        return {"resultType": "vector", "result": result}

    def _range(self, query: Mapping[str, str]) -> dict[str, Any]:
        start_ms = _time_ms("start", query.get("start", ""))
        end_ms = _time_ms("end", query.get("end", ""))
        if end_ms < start_ms:
            raise BadData('invalid parameter "end": end timestamp must not be before start time')
        step_ms = _duration_ms("step", query.get("step", ""))
        if step_ms <= 0:
            raise BadData(
                'invalid parameter "step": zero or negative query resolution step widths are '
                "not accepted. Try a positive integer"
            )
        if (end_ms - start_ms) / step_ms > MOST_POINTS:
            raise BadData(
                "exceeded maximum resolution of 11,000 points per timeseries. "
                "Try decreasing the query resolution (?step=XX)"
            )
        expression = _expression(query.get("query", ""))
        result = []
        for series in self._matching(expression):
            points = []
            for moment_ms in range(start_ms, end_ms + 1, step_ms):
                value = series.values.at(moment_ms / 1000)
                if expression.holds(value):
                    points.append(_sample(moment_ms, value))
            if points:  # a series with no sample in the range is not in the answer
                result.append({"metric": _metric(series), "values": points})
        return {"resultType": "matrix", "result": result}

    def _matching(self, expression: _Expression) -> list[_Series]:
        with self._lock:
            found = self._series.get(expression.name)
        return [found] if found is not None else []

    def _now_ms(self) -> int:
        return round(self._epoch(self.clock()) * 1000)


def _expression(text: str) -> _Expression:
    if not text.strip():
        raise BadData('invalid parameter "query": 1:1: parse error: no expression found in input')
    match = _EXPRESSION.fullmatch(text)
    if match is None:
        raise BadData(
            f'invalid parameter "query": the emulator reads a series\' name, alone or compared '
            f"with a number (name > 0.02), not {text!r}"
        )
    op, number = match.group("op"), match.group("number")
    if op is None:
        return _Expression(match.group("name"), lambda value: True)
    compare, threshold = _COMPARISONS[op], float(number)
    return _Expression(match.group("name"), lambda value: compare(value, threshold))


def _time_ms(parameter: str, text: str) -> int:
    """A Unix time in seconds (``1700000000.5``) or RFC 3339, in milliseconds."""
    seconds = _number(text)
    if seconds is None:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            seconds = moment.timestamp()
    if seconds is None:
        raise BadData(
            f'invalid parameter "{parameter}": cannot parse "{text}" to a valid timestamp'
        )
    return round(seconds * 1000)


def _duration_ms(parameter: str, text: str) -> int:
    """Seconds (``15``, ``0.5``) or a Prometheus duration (``1m30s``), in milliseconds."""
    seconds = _number(text)
    match = _DURATION.fullmatch(text) if seconds is None and text else None
    if match is not None:
        counts = zip(match.groups(), _DURATION_UNITS, strict=True)
        seconds = sum(int(count) * unit for count, unit in counts if count is not None)
    if seconds is None:
        raise BadData(f'invalid parameter "{parameter}": cannot parse "{text}" to a valid duration')
    return round(seconds * 1000)


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _metric(series: _Series) -> dict[str, str]:
    return {"__name__": series.name, **series.labels}


def _sample(moment_ms: int, value: float) -> list[Any]:
    """``[1700000000.5, "0.0042"]``: seconds as a number, the value as Go writes a float."""
    moment: float = moment_ms // 1000 if moment_ms % 1000 == 0 else moment_ms / 1000
    return [moment, _go_float(value)]


def _go_float(value: float) -> str:
    """``strconv.FormatFloat(value, 'f', -1, 64)``: the shortest digits, no exponent."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return format(Decimal(repr(value)).normalize(), "f")
