"""What a Prometheus or Alertmanager answers, through the real command, where the real servers
cannot be made to answer it on cue: a 503 or no answer before the wait, a native-histogram
series, a partial answer (tests/parts/monitoring_api.py answers their documented formats)."""

from __future__ import annotations

from typing import Any

import pytest

from gate.emulator import Emulator
from tests.builders import json_outcome
from tests.parts.monitoring_api import HANG, clear_matrix, matrix, monitoring_api, vector
from tests.test_bake_cli import LONG_BAKE, QUICK_BAKE, gate

QUERY = 'sum(rate(http_requests_total{code=~"5.."}[1m])) > 0'
UNAVAILABLE = (503, {"status": "error", "errorType": "unavailable", "error": "overloaded"})
ALERTMANAGER_STATUS = (
    200,
    {
        "cluster": {"status": "disabled", "peers": []},
        "config": {"original": ""},
        "uptime": "2026-01-01T00:00:00.000Z",
        "versionInfo": {"version": "0.25.0"},
    },
)


# --- A transient fault before the wait is retried like one during it --------------------


def test_a_prometheus_unavailable_at_the_first_query_is_retried(
    paced_emulator: Emulator,
) -> None:
    scripts = {
        "/api/v1/query": [UNAVAILABLE, UNAVAILABLE, vector()],
        "/api/v1/query_range": [clear_matrix()],
    }
    with monitoring_api(scripts) as prometheus:
        result = gate(paced_emulator, *QUICK_BAKE, "--prometheus", prometheus.url, "--query", QUERY)
        assert prometheus.asked_for("/api/v1/query") == 3
    assert result.returncode == 0, result.stderr
    assert json_outcome(result)["bake"]["status"] == "passed"
    assert "HTTP 503: overloaded; retrying in" in result.stderr


def test_a_prometheus_that_does_not_answer_the_first_query_in_time_is_retried(
    paced_emulator: Emulator,
) -> None:
    scripts = {"/api/v1/query": [HANG, vector()], "/api/v1/query_range": [clear_matrix()]}
    with monitoring_api(scripts) as prometheus:
        result = gate(
            paced_emulator,
            *QUICK_BAKE,
            "--request-timeout",
            "1s",
            "--prometheus",
            prometheus.url,
            "--query",
            QUERY,
        )
    assert result.returncode == 0, result.stderr
    assert "no answer within the request timeout; retrying in" in result.stderr


def test_an_alertmanager_unavailable_before_the_wait_is_retried(
    paced_emulator: Emulator,
) -> None:
    scripts = {"/api/v2/status": [UNAVAILABLE, ALERTMANAGER_STATUS], "/api/v2/alerts": [(200, [])]}
    with monitoring_api(scripts) as alertmanager:
        result = gate(
            paced_emulator,
            *QUICK_BAKE,
            "--alertmanager",
            alertmanager.url,
            "--alert-filter",
            'service="checkout"',
        )
    assert result.returncode == 0, result.stderr
    assert json_outcome(result)["bake"]["status"] == "passed"


def test_a_prometheus_unavailable_until_the_deadline_is_exit_4_naming_the_fault(
    paced_emulator: Emulator,
) -> None:
    with monitoring_api({"/api/v1/query": [UNAVAILABLE]}) as prometheus:
        result = gate(
            paced_emulator,
            *LONG_BAKE,
            "--timeout",
            "5m3s",
            "--prometheus",
            prometheus.url,
            "--query",
            QUERY,
        )
        assert prometheus.asked_for("/api/v1/query") > 1
        assert prometheus.asked_for("/api/v1/query_range") == 0
    assert result.returncode == 4, result.stderr
    reason = json_outcome(result)["reason"]
    assert reason.startswith("the bake's checks could not be read: ")
    assert "HTTP 503: overloaded" in reason


# --- Native histograms are values -----------------------------------------------------------

NATIVE_HISTOGRAM = {
    "count": "12",
    "sum": "3.75",
    "buckets": [[0, "0.25", "0.5", "4"], [0, "0.5", "1", "8"]],
}


@pytest.mark.parametrize(
    "series",
    [
        {"histograms": [[1767268801, NATIVE_HISTOGRAM]]},
        {"values": [], "histograms": [[1767268801, NATIVE_HISTOGRAM]]},
    ],
    ids=["histograms-only", "beside-empty-values"],
)
def test_a_native_histogram_series_is_a_breach(
    paced_emulator: Emulator, series: dict[str, Any]
) -> None:
    found = {"metric": {"__name__": "request_seconds", "service": "checkout"}, **series}
    scripts = {"/api/v1/query": [vector()], "/api/v1/query_range": [matrix(found)]}
    with monitoring_api(scripts) as prometheus:
        result = gate(paced_emulator, *LONG_BAKE, "--prometheus", prometheus.url, "--query", QUERY)
        assert prometheus.asked_for("/api/v1/query_range") == 1, "the first read breached"
    assert result.returncode == 1, result.stderr
    (breach,) = json_outcome(result)["bake"]["breaches"]
    assert breach["detail"] == (
        'request_seconds{service="checkout"} = histogram (count 12, sum 3.75)'
    )


# --- A partial answer proves nothing ---------------------------------------------------------

PARTIAL = "partial response: store gateway 10.0.0.7:10901 unavailable"


def test_an_empty_answer_with_a_partial_response_warning_is_not_clear(
    paced_emulator: Emulator,
) -> None:
    scripts = {
        "/api/v1/query": [vector()],
        "/api/v1/query_range": [matrix(warnings=[PARTIAL])],
    }
    with monitoring_api(scripts) as thanos:
        result = gate(paced_emulator, *QUICK_BAKE, "--prometheus", thanos.url, "--query", QUERY)
    assert result.returncode == 4, result.stderr
    outcome = json_outcome(result)
    assert outcome["bake"]["status"] == "unreadable"
    assert f"the answer may be partial: {PARTIAL}" in outcome["reason"]
    assert f"query unread (reading the query {QUERY}: the answer may be partial" in (
        result.stderr
    ), "said in progress too"


def test_an_informational_note_doubts_no_answer(paced_emulator: Emulator) -> None:
    info = 'PromQL info: metric might not be a counter, name does not end in _total: "errors"'
    scripts = {
        "/api/v1/query": [vector()],
        "/api/v1/query_range": [matrix(warnings=[info])],
    }
    with monitoring_api(scripts) as prometheus:
        result = gate(paced_emulator, *QUICK_BAKE, "--prometheus", prometheus.url, "--query", QUERY)
    assert result.returncode == 0, result.stderr
    assert json_outcome(result)["bake"]["checks"][0]["notes"] == [f"Prometheus warns: {info}"]
