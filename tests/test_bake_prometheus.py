"""The bake's Prometheus query and Alertmanager alerts checks.

What they mean is checked against a real Prometheus scraping an exporter the test drives, and
the real Alertmanager its alerting rule sends to (tests/parts/prometheus_stack.py); faults
(5xx, 429, bodies that are not what the API promises, a closed port) against a loopback
server of the test's own.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from gate.bake.alertmanager import AlertmanagerAlerts
from gate.bake.check import Check
from gate.bake.prometheus import SERIES_SHOWN, PrometheusQuery, range_step
from gate.core.errors import RequestRejected, TransientError, UsageError
from tests.parts.prometheus_stack import (
    ALERT_NAME,
    ALERT_SUMMARY,
    PrometheusStack,
    prometheus_stack_fixture,  # noqa: F401 (the fixture prometheus_stack)
)

pytestmark = pytest.mark.timeout(600)  # the first test of a worker may install the packages

TIMEOUT = 10.0


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def query_check(url: str, query: str) -> PrometheusQuery:
    return PrometheusQuery(url, query, request_timeout=TIMEOUT)


def alerts_check(url: str, *filters: str) -> AlertmanagerAlerts:
    return AlertmanagerAlerts(url, filters, request_timeout=TIMEOUT)


def test_both_checks_are_checks_of_their_kind() -> None:
    query = query_check("http://127.0.0.1:9", "up == 0")
    alerts = alerts_check("http://127.0.0.1:9", 'service="checkout"')
    with closing(query), closing(alerts):
        assert isinstance(query, Check)
        assert query.kind == "query"
        assert isinstance(alerts, Check)
        assert alerts.kind == "alert"
        assert alerts.describe() == (
            'Alertmanager alerts matching service="checkout" at http://127.0.0.1:9'
        )


# --- Prometheus: what a query means, against the real server --------------------------------


def test_a_query_that_gives_no_series_reads_clear(prometheus_stack: PrometheusStack) -> None:
    prometheus_stack.exporter.set("clean_errors", 0, {"service": "checkout"})
    prometheus_stack.wait_for_series('clean_errors{service="checkout"} == 0')
    since = utcnow() - timedelta(seconds=30)
    with closing(query_check(prometheus_stack.prometheus_url, "clean_errors > 0")) as check:
        check.prepare()
        reading = check.read(since, utcnow())
    assert reading.summary == "query clear"
    assert reading.breaches == ()


def test_a_raised_series_is_a_breach_naming_its_labels_and_value(
    prometheus_stack: PrometheusStack,
) -> None:
    since = utcnow()
    prometheus_stack.exporter.set("http_errors", 3, {"code": "500", "service": "checkout"})
    prometheus_stack.wait_for_series('http_errors{service="checkout"} == 3')
    query = 'http_errors{service="checkout"} > 0'
    with closing(query_check(prometheus_stack.prometheus_url, query)) as check:
        check.prepare()
        now = utcnow()
        reading = check.read(since, now)
    assert reading.summary == "query breached"
    [breach] = reading.breaches
    assert breach.check == f"query {query}"
    assert breach.detail.startswith('http_errors{code="500", instance="127.0.0.1:')
    assert 'job="exporter", service="checkout"} = 3' in breach.detail
    assert breach.at is not None
    assert since - timedelta(seconds=1) <= breach.at <= now
    assert breach.ongoing, "the series is there at the window's latest step"


def test_a_flap_between_two_reads_still_breaches(prometheus_stack: PrometheusStack) -> None:
    """Raised, scraped, lowered and scraped again before the read: the instant value is clear,
    the window's range is not."""
    stack = prometheus_stack
    since = utcnow()
    stack.exporter.set("flap_errors", 5, {"service": "checkout"})
    stack.wait_for(  # two samples of 5 span a scrape interval: a 1 s step lands on one
        "Prometheus holds two samples of flap_errors at 5",
        lambda: _samples(stack, 'flap_errors{service="checkout"}[1m]').count("5") >= 2,
    )
    stack.exporter.set("flap_errors", 0, {"service": "checkout"})
    stack.wait_for_no_series("flap_errors > 0")
    with closing(query_check(stack.prometheus_url, "flap_errors > 0")) as check:
        reading = check.read(since, utcnow())
    assert reading.summary == "query breached"
    [breach] = reading.breaches
    assert breach.detail.startswith("flap_errors{")
    assert " = 5" in breach.detail
    assert not breach.ongoing, "a breach of the window's past"


def test_many_series_are_named_up_to_a_few_and_counted(
    prometheus_stack: PrometheusStack,
) -> None:
    since = utcnow()
    for shard in range(12):
        prometheus_stack.exporter.set("shard_errors", 1, {"shard": f"s{shard:02}"})
    prometheus_stack.wait_for(
        "Prometheus sees the twelve shards",
        lambda: len(prometheus_stack.query("shard_errors > 0")["result"]) == 12,
    )
    with closing(query_check(prometheus_stack.prometheus_url, "shard_errors > 0")) as check:
        reading = check.read(since, utcnow())
    assert reading.summary == "query breached (12 series)"
    assert len(reading.breaches) == SERIES_SHOWN
    assert reading.notes == (f"query shard_errors > 0: {12 - SERIES_SHOWN} more series breached",)


def test_a_query_prometheus_cannot_parse_is_a_usage_error_in_its_words(
    prometheus_stack: PrometheusStack,
) -> None:
    query = 'sum(rate(http_errors{service="checkout"}[1m]) >'
    check = query_check(prometheus_stack.prometheus_url, query)
    with closing(check), pytest.raises(UsageError) as refused:
        check.prepare()
    said = str(refused.value)
    assert said.startswith(f"Prometheus cannot run the query {query!r}: ")
    assert "parse error" in said


def test_a_query_that_gives_a_scalar_is_a_usage_error(
    prometheus_stack: PrometheusStack,
) -> None:
    check = query_check(prometheus_stack.prometheus_url, "1 + 1")
    with closing(check), pytest.raises(UsageError, match="gives a scalar, not series"):
        check.prepare()


# --- Alertmanager: what a filter means, against the real server -----------------------------


@pytest.fixture
def firing(prometheus_stack: PrometheusStack) -> PrometheusStack:
    """CheckoutErrors is firing and listed by Alertmanager."""
    prometheus_stack.exporter.set("checkout_errors_total", 2)
    prometheus_stack.wait_for(
        "Alertmanager lists CheckoutErrors",
        lambda: prometheus_stack.alerts(f'alertname="{ALERT_NAME}"'),
    )
    return prometheus_stack


def test_a_firing_alert_that_matches_is_a_breach(firing: PrometheusStack) -> None:
    with closing(alerts_check(firing.alertmanager_url, 'service="checkout"')) as check:
        check.prepare()
        reading = check.read(utcnow(), utcnow())
    assert reading.summary == "1 alert firing"
    [breach] = reading.breaches
    assert breach.check == f"alert {ALERT_NAME}"
    assert breach.detail.startswith('{instance="127.0.0.1:')
    assert breach.detail.endswith(f'service="checkout", severity="page"}}: {ALERT_SUMMARY}')
    assert breach.at is not None
    assert breach.at <= utcnow()


def test_a_filter_no_alert_matches_reads_clear(firing: PrometheusStack) -> None:
    with closing(alerts_check(firing.alertmanager_url, 'service="payments"')) as check:
        check.prepare()
        reading = check.read(utcnow(), utcnow())
    assert reading.summary == "no alert firing"
    assert reading.breaches == ()


@pytest.mark.parametrize(
    ("matcher", "words"),
    [
        ('service="checkout', "unescaped double quote"),
        ('service=~"("', "error parsing regexp"),
        ("not a matcher", "bad matcher format"),
    ],
    ids=["unclosed-quote", "bad-regexp", "no-operator"],
)
def test_a_matcher_alertmanager_refuses_is_a_usage_error_in_its_words(
    prometheus_stack: PrometheusStack, matcher: str, words: str
) -> None:
    check = alerts_check(prometheus_stack.alertmanager_url, matcher)
    with closing(check), pytest.raises(UsageError) as refused:
        check.prepare()
    said = str(refused.value)
    assert said.startswith(f"Alertmanager refuses the filters {matcher}: ")
    assert words in said


# --- Faults, against a loopback server of the test's own --------------------------------------


@dataclass
class Canned:
    """Answers every GET with ``status`` and ``body``; keeps the paths and queries asked."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)


@pytest.fixture
def canned() -> Iterator[tuple[str, Canned]]:
    answer = Canned()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answer.asked.append(self.path)
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", answer
    server.shutdown()
    server.server_close()
    thread.join()


def reads(check: PrometheusQuery | AlertmanagerAlerts) -> None:
    with closing(check):
        check.read(utcnow() - timedelta(minutes=5), utcnow())


def both(url: str) -> list[PrometheusQuery | AlertmanagerAlerts]:
    return [query_check(url, "up == 0"), alerts_check(url, 'service="checkout"')]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_transient(canned: tuple[str, Canned], status: int) -> None:
    url, answer = canned
    answer.status, answer.body = status, b'{"status":"error","error":"overloaded"}'
    for check in both(url):
        with pytest.raises(TransientError, match=f"HTTP {status}: overloaded"):
            reads(check)


def test_a_429_is_transient_with_its_retry_after(canned: tuple[str, Canned]) -> None:
    url, answer = canned
    answer.status, answer.headers = 429, {"Retry-After": "7"}
    for check in both(url):
        with pytest.raises(TransientError, match="HTTP 429") as slowed:
            reads(check)
        assert slowed.value.retry_after == 7


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html>gateway</html>", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"status":"error","errorType":"internal","error":"boom"}', "not 'success' (boom)"),
        (b'{"status":"success"}', "no data object"),
        (b'{"status":"success","data":{"resultType":"vector","result":[]}}', "not a matrix"),
        (b'{"status":"success","data":{"resultType":"matrix","result":[{}]}}', "no metric"),
        (
            b'{"status":"success","data":{"resultType":"matrix",'
            b'"result":[{"metric":{},"values":[["1","2"]]}]}}',
            "not [time",
        ),
    ],
    ids=["html", "list", "status-error", "no-data", "vector", "no-metric", "bad-sample"],
)
def test_a_prometheus_body_that_is_not_what_it_promises_is_transient(
    canned: tuple[str, Canned], body: bytes, words: str
) -> None:
    url, answer = canned
    answer.body = body
    with pytest.raises(TransientError, match=re.escape(words)):
        reads(query_check(url, "up == 0"))


@pytest.mark.parametrize(
    "body", [b"not json", b'{"alerts":[]}', b'[{"labels":"x"}]'], ids=["text", "object", "labels"]
)
def test_an_alertmanager_body_that_is_not_a_list_of_alerts_is_transient(
    canned: tuple[str, Canned], body: bytes
) -> None:
    url, answer = canned
    answer.body = body
    with pytest.raises(TransientError):
        reads(alerts_check(url))


def test_a_closed_port_is_transient_at_prepare_and_read() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"  # bound, never listening
        for check in both(url):
            with closing(check):
                with pytest.raises(TransientError, match="connection failed"):
                    check.prepare()
                with pytest.raises(TransientError, match="connection failed"):
                    check.read(utcnow(), utcnow())


def test_a_400_while_reading_is_a_refusal_not_a_usage_error(canned: tuple[str, Canned]) -> None:
    url, answer = canned
    answer.status, answer.body = 400, b'{"status":"error","error":"exceeded maximum resolution"}'
    with pytest.raises(RequestRejected, match="HTTP 400: exceeded maximum resolution"):
        reads(query_check(url, "up == 0"))


@pytest.mark.parametrize(
    ("window", "start", "end", "step"),
    [
        (timedelta(hours=2), "1767268800.000", "1767276000.000", "8s"),
        # The steps end at now, so the first falls before the bake's start.
        (timedelta(seconds=2.5), "1767268799.500", "1767268802.500", "1s"),
    ],
    ids=["whole-steps", "steps-end-at-now"],
)
def test_the_read_asks_for_the_window_at_a_step_within_prometheus_limit(
    canned: tuple[str, Canned], window: timedelta, start: str, end: str, step: str
) -> None:
    url, answer = canned
    answer.body = b'{"status":"success","data":{"resultType":"matrix","result":[]}}'
    since = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    with closing(query_check(url + "/prom/", 'up{job="x"} == 0')) as check:
        check.read(since, since + window)
    assert answer.asked == [
        "/prom/api/v1/query_range?query=up%7Bjob%3D%22x%22%7D+%3D%3D+0"
        f"&start={start}&end={end}&step={step}"
    ]


def test_a_breach_says_the_series_first_value_and_time_and_what_was_last_seen(
    canned: tuple[str, Canned],
) -> None:
    url, answer = canned
    answer.body = json.dumps(
        {
            "status": "success",
            "data": {
                "resultType": "matrix",
                "result": [
                    {"metric": {"path": "/a"}, "values": [[1767268805, "1"]]},
                    {
                        "metric": {"__name__": "errors", "path": '/"b"\n'},
                        "values": [[1767268801, "2"], [1767268802.5, "7"]],
                    },
                ],
            },
        }
    ).encode()
    since = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    with closing(query_check(url, "errors > 0")) as check:
        reading = check.read(since, since + timedelta(minutes=1))
    assert reading.summary == "query breached (2 series)"
    assert [(breach.detail, breach.at) for breach in reading.breaches] == [
        (
            'errors{path="/\\"b\\"\\n"} = 2; last seen 7 at 2026-01-01T12:00:02.500Z',
            since + timedelta(seconds=1),
        ),
        ('{path="/a"} = 1', since + timedelta(seconds=5)),
    ]


@pytest.mark.parametrize(
    ("seconds", "step"),
    [(0, 1), (1000, 1), (1001, 2), (30 * 60, 2), (15000, 15), (7 * 86400, 605)],
)
def test_the_step_keeps_a_series_far_below_11000_points(seconds: float, step: int) -> None:
    assert range_step(seconds) == step
    assert seconds / step + 1 <= 1001


def test_the_alerts_asked_are_active_and_filtered_and_suppressed_ones_are_said(
    canned: tuple[str, Canned],
) -> None:
    def alert(number: int, **status: Any) -> dict[str, Any]:
        return {
            "labels": {"alertname": f"A{number}", "service": "checkout"},
            "startsAt": f"2026-01-01T12:00:0{number}.123456789Z",
            "status": {"state": "active", "silencedBy": [], "inhibitedBy": [], **status},
        }

    held = {"state": "suppressed"}
    answer = [alert(number) for number in range(7)] + [
        alert(7, **held, silencedBy=["5b1c6f8e-silence"]),
        alert(8, **held, inhibitedBy=["a1b2c3d4e5f60718"]),
    ]
    url, canned_answer = canned
    canned_answer.body = json.dumps(answer).encode()
    check = alerts_check(url, 'service="checkout"', 'severity=~"page|critical"')
    with closing(check):
        reading = check.read(utcnow(), utcnow())
    assert canned_answer.asked == [
        "/api/v2/alerts?active=true&silenced=true&inhibited=true"
        "&filter=service%3D%22checkout%22&filter=severity%3D~%22page%7Ccritical%22"
    ]
    assert reading.summary == (
        "7 alerts firing, 1 matching alert suppressed by silence, "
        "1 matching alert suppressed by inhibition"
    )
    assert [breach.check for breach in reading.breaches] == [f"alert A{n}" for n in range(5)]
    assert reading.breaches[0].at == datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
    assert reading.notes == (
        "2 more alerts active",
        'alert A7 {service="checkout"} suppressed by silence 5b1c6f8e-silence: '
        "not counted as a breach",
        'alert A8 {service="checkout"} suppressed by inhibition a1b2c3d4e5f60718: '
        "not counted as a breach",
    )


@pytest.mark.parametrize(
    "url",
    ["http://user:s3cr3t@127.0.0.1:9090", "ftp://user:s3cr3t@prometheus", "http://u:s3cr3t@h:0"],
)
def test_a_url_with_credentials_is_refused_without_showing_them(url: str) -> None:
    for make in (lambda: query_check(url, "up"), lambda: alerts_check(url)):
        with pytest.raises(UsageError, match="must not hold a user or password") as refused:
            make()
        assert "s3cr3t" not in str(refused.value)


def test_plain_http_to_another_machine_is_refused_unless_allowed() -> None:
    with pytest.raises(UsageError, match="plain http to another machine"):
        query_check("http://prometheus.internal:9090", "up")
    allowed = PrometheusQuery(
        "http://prometheus.internal:9090", "up", request_timeout=TIMEOUT, allow_plain_http=True
    )
    allowed.close()


def _samples(stack: PrometheusStack, selector: str) -> list[str]:
    """The raw sample values of a range selector (``metric[1m]``), every series together."""
    return [value for series in stack.query(selector)["result"] for _, value in series["values"]]
