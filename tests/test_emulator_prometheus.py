"""The emulator's Prometheus answers as the real one does: each row asks both the same
question, the real Prometheus holding the emulated series' own values as backfilled history
(tests/parts/prometheus_history.py), and expects the same status and the same body."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from typing import Any

import httpx
import pytest

from gate.emulator import Emulator, ErrorRatio
from tests.parts.prometheus_history import (
    HistoryPrometheus,
    NoisyExporter,
    history_openmetrics,
    prometheus_with_history,
)

SERIES = "cart:http_errors:ratio_rate1m"
HISTORY_SECONDS = 600
ENDED_AGO = 120
"""The history ends this long before the test: the range rows ask within it."""


@dataclass
class Both:
    emulator: Emulator
    prometheus: HistoryPrometheus
    start: int
    """The history's first second (Unix time); it holds one sample a second from there."""


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Both]:
    exporter = NoisyExporter(seed=5)
    end = math.floor(time.time()) - ENDED_AGO
    start = end - HISTORY_SECONDS
    labels = {"instance": exporter.target, "job": "exporter", "service": "checkout"}
    with Emulator() as emulator:
        # Worse from the history's middle on, so the rows see both levels.
        series = emulator.add_error_ratio(
            SERIES, 0.004, worse_by=2.0, worse_after=-ENDED_AGO - HISTORY_SECONDS / 2, labels=labels
        )
        seconds = count(start)
        history = history_openmetrics(
            SERIES,
            lambda _draws: series.at(next(seconds)),  # the emulated values, a second apart
            exporter,
            seed=0,
            start=start,
            end=end,
        )
        folder = tmp_path_factory.mktemp("emulated") / "prometheus"
        try:
            with prometheus_with_history(folder, history, exporter) as running:
                running.stack.wait_for(
                    "Prometheus serves the backfilled history",
                    lambda: running.stack.query(
                        f"count_over_time({SERIES}[{HISTORY_SECONDS + ENDED_AGO}s]) > 500"
                    )["result"],
                )
                yield Both(emulator, running, start)
        finally:
            exporter.close()


def _ask(url: str, path: str, params: dict[str, str]) -> tuple[int, Any]:
    answer = httpx.get(f"{url}{path}", params=params, timeout=30, trust_env=False)
    return answer.status_code, answer.json()


# (path, parameters with {t} the history's start, in seconds); each row an id
ROWS = {
    "instant: the series": ("/api/v1/query", {"query": SERIES, "time": "{t+100.25}"}),
    "instant: after it worsened": ("/api/v1/query", {"query": SERIES, "time": "{t+500}"}),
    "instant: RFC 3339 time": ("/api/v1/query", {"query": SERIES, "time": "{rfc3339 t+42}"}),
    "instant: a threshold that holds": (
        "/api/v1/query",
        {"query": f"{SERIES} > 0.001", "time": "{t+50}"},
    ),
    "instant: a threshold clear": (
        "/api/v1/query",
        {"query": f"{SERIES} > 0.02", "time": "{t+50}"},
    ),
    "instant: no such series": ("/api/v1/query", {"query": "cart:nothing", "time": "{t+50}"}),
    "instant: no expression": ("/api/v1/query", {"query": "", "time": "{t+50}"}),
    "range: a fractional start, step in seconds": (
        "/api/v1/query_range",
        {"query": SERIES, "start": "{t+280.123}", "end": "{t+320.123}", "step": "1"},
    ),
    "range: a duration step": (
        "/api/v1/query_range",
        {"query": SERIES, "start": "{t+10}", "end": "{t+590}", "step": "15s"},
    ),
    "range: samples where a threshold holds": (
        "/api/v1/query_range",
        {"query": f"{SERIES} >= 0.006", "start": "{t+200}", "end": "{t+400}", "step": "1"},
    ),
    "range: a threshold clear": (
        "/api/v1/query_range",
        {"query": f"{SERIES} > 0.02", "start": "{t+10}", "end": "{t+590}", "step": "1"},
    ),
    "range: end before start": (
        "/api/v1/query_range",
        {"query": SERIES, "start": "{t+20}", "end": "{t+10}", "step": "1"},
    ),
    "range: zero step": (
        "/api/v1/query_range",
        {"query": SERIES, "start": "{t+10}", "end": "{t+20}", "step": "0"},
    ),
    "range: a step that is no duration": (
        "/api/v1/query_range",
        {"query": SERIES, "start": "{t+10}", "end": "{t+20}", "step": "soon"},
    ),
    "range: no start": ("/api/v1/query_range", {"query": SERIES, "end": "{t+20}", "step": "1"}),
    "range: too many points": (
        "/api/v1/query_range",
        {"query": SERIES, "start": "{t}", "end": "{t+20000}", "step": "1"},
    ),
}


def _filled(params: dict[str, str], start: int) -> dict[str, str]:
    def one(value: str) -> str:
        if not value.startswith("{"):
            return value
        written = value.strip("{}")
        rfc3339 = written.startswith("rfc3339 ")
        seconds = start + float(written.removeprefix("rfc3339 ").partition("+")[2] or 0)
        if rfc3339:
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
        return f"{seconds:.3f}"

    return {key: one(value) for key, value in params.items()}


@pytest.mark.parametrize(("path", "params"), ROWS.values(), ids=ROWS.keys())
def test_the_emulated_prometheus_answers_as_prometheus_does(
    both: Both, path: str, params: dict[str, str]
) -> None:
    asked = _filled(params, both.start)
    real = _ask(both.prometheus.url, path, asked)
    emulated = _ask(both.emulator.url, path, asked)
    assert emulated == real


def test_an_expression_past_what_the_emulator_reads_is_refused_as_prometheus_refuses() -> None:
    with Emulator() as emulator:
        status, body = _ask(emulator.url, "/api/v1/query", {"query": "rate(x[1m])"})
    assert status == 400
    assert body["status"] == "error"
    assert body["errorType"] == "bad_data"
    assert "a series' name, alone or compared with a number" in body["error"]


def test_an_error_ratio_is_the_same_every_read_doubles_when_told_and_stays_under_two_percent() -> (
    None
):
    start = 1_800_000_000
    ratio = ErrorRatio(0.004, worse_from=start + 1800, worse_by=2.0)
    healthy = [ratio.at(start + second) for second in range(1800)]
    worse = [ratio.at(start + 1800 + second) for second in range(1800)]
    assert healthy == [ratio.at(start + second + 0.5) for second in range(1800)]
    assert 0.0035 < sum(healthy) / len(healthy) < 0.0045
    assert 0.0075 < sum(worse) / len(worse) < 0.0085
    assert max(healthy + worse) < 0.02, "no fixed threshold an alert would use is crossed"
    assert len(set(healthy)) > 20, "the values are noisy, as a real ratio is"
