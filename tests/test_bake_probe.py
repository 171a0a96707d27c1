"""The HTTP probe against loopback servers the test controls: an http.server answering a
script of statuses, a socket that accepts and never answers, a port nobody listens on."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from gate.bake.check import Check, Reading
from gate.bake.probe import EXCERPT_LIMIT, HttpProbe
from gate.core.errors import UsageError

SINCE = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
NOW = SINCE + timedelta(minutes=1)


class Scripted(ThreadingHTTPServer):
    """Answers ``script`` in turn, one (status, body) a request, then the last one for good."""

    daemon_threads = True

    def __init__(self, script: list[tuple[int, bytes]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = script
        self.requests: list[dict[str, str]] = []

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def next_answer(self, headers: dict[str, str]) -> tuple[int, bytes]:
        self.requests.append(headers)
        return self.script[min(len(self.requests), len(self.script)) - 1]


class _Handler(BaseHTTPRequestHandler):
    server: Scripted

    def do_GET(self) -> None:
        status, body = self.server.next_answer(dict(self.headers))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Any]:
    started: list[Scripted] = []

    def start(*script: tuple[int, bytes]) -> Scripted:
        server = Scripted(list(script))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


@pytest.fixture
def probes() -> Iterator[Any]:
    made: list[HttpProbe] = []

    def make(url: str, **options: Any) -> HttpProbe:
        options.setdefault("request_timeout", 10.0)
        probe = HttpProbe(url, **options)
        made.append(probe)
        return probe

    yield make
    for probe in made:
        probe.close()


def reads(probe: HttpProbe, count: int) -> list[Reading]:
    return [probe.read(SINCE, NOW) for _ in range(count)]


def test_the_probe_is_a_check(probes: Any) -> None:
    probe = probes("https://shop.example/healthz")
    assert isinstance(probe, Check)
    assert probe.kind == "probe"
    assert probe.describe() == "HTTP probe https://shop.example/healthz"
    probe.prepare()


def test_a_200_passes(serve: Any, probes: Any) -> None:
    server = serve((200, b"ok"))
    probe = probes(server.url + "/healthz")
    assert reads(probe, 2) == [Reading("probe 200"), Reading("probe 200")]
    assert server.requests[0]["User-Agent"] == "deploy-gate"


def test_failures_in_a_row_breach_with_status_and_body(serve: Any, probes: Any) -> None:
    server = serve((503, b"upstream connect error"))
    probe = probes(server.url + "/healthz", failures_in_a_row=3)
    first, second, third = reads(probe, 3)
    assert (first.summary, first.breaches) == ("probe 503 (1 of 3 in a row)", ())
    assert (second.summary, second.breaches) == ("probe 503 (2 of 3 in a row)", ())
    assert third.summary == "probe 503 (3 of 3 in a row)"
    [breach] = third.breaches
    assert breach.check == f"probe {server.url}/healthz"
    assert breach.detail == (
        "3 failures in a row, the last: HTTP 503, body 'upstream connect error'"
    )
    assert breach.at == NOW


def test_a_success_resets_the_count(serve: Any, probes: Any) -> None:
    server = serve((503, b""), (503, b""), (200, b"ok"), (500, b""))
    probe = probes(server.url, failures_in_a_row=3)
    said = [reading.summary for reading in reads(probe, 5)]
    assert said == [
        "probe 503 (1 of 3 in a row)",
        "probe 503 (2 of 3 in a row)",
        "probe 200",
        "probe 500 (1 of 3 in a row)",
        "probe 500 (2 of 3 in a row)",
    ]


def test_a_redirect_is_a_failure_and_not_followed(serve: Any, probes: Any) -> None:
    server = serve((302, b""))
    probe = probes(server.url, failures_in_a_row=1)
    [breach] = probe.read(SINCE, NOW).breaches
    assert breach.detail == "HTTP 302 (redirects are not followed), empty body"
    assert len(server.requests) == 1


def test_a_server_that_never_answers_fails_within_the_request_timeout(probes: Any) -> None:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        # accepted by the kernel's backlog and held: no byte is ever sent back
        probe = probes(f"http://127.0.0.1:{port}/", failures_in_a_row=1, request_timeout=0.5)
        reading = probe.read(SINCE, NOW)
    assert reading.summary == "probe no answer within the request timeout (1 of 1 in a row)"
    assert [b.detail for b in reading.breaches] == ["no answer within the request timeout"]


def test_a_refused_connection_is_a_failure_not_an_error(probes: Any) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, never listening: connections are refused
        probe = probes(f"http://127.0.0.1:{port}/", failures_in_a_row=2)
        first, second = reads(probe, 2)
    assert first.summary == "probe connection failed (ConnectError) (1 of 2 in a row)"
    assert not first.breaches
    assert [b.detail for b in second.breaches] == [
        "2 failures in a row, the last: connection failed (ConnectError)"
    ]


def test_a_hostile_body_is_kept_escaped_and_bounded(serve: Any, probes: Any) -> None:
    body = b"\x1b[31mdown\x1b[0m\r\n::error file=x::pwned\n::add-mask::x\x07" + b"A" * 5000
    server = serve((500, body))
    probe = probes(server.url, failures_in_a_row=1)
    [breach] = probe.read(SINCE, NOW).breaches
    assert breach.detail.startswith("HTTP 500, body '\\x1b[31mdown\\x1b[0m ::error file=x::pwned")
    assert "::add-mask::x\\x07" in breach.detail
    assert not any(ord(c) < 0x20 for c in breach.detail)
    assert len(breach.detail) <= len("HTTP 500, body ''") + EXCERPT_LIMIT


def test_the_userinfo_is_sent_as_basic_auth_and_shown_nowhere(serve: Any, probes: Any) -> None:
    server = serve((401, b"who are you"))
    probe = probes(server.url.replace("//", "//ops:s3cr3t@") + "/health", failures_in_a_row=1)
    reading = probe.read(SINCE, NOW)
    said = " ".join(
        [
            probe.describe(),
            repr(probe),
            reading.summary,
            *(str(b.as_dict()) for b in reading.breaches),
        ]
    )
    assert "s3cr3t" not in said
    assert "ops" not in said
    assert reading.breaches[0].check == f"probe {server.url}/health"
    expected = "Basic " + base64.b64encode(b"ops:s3cr3t").decode()
    assert server.requests[0]["Authorization"] == expected


@pytest.mark.parametrize(
    "url",
    [
        "ftp://ops:s3cr3t@shop.example/health",
        "file:///etc/passwd",
        "https://",
        "not a url",
        "http://ops:s3cr3t@shop.example:99999/",
        "http://ops:s3cr3t@shop.example/health",
    ],
    ids=["ftp", "file", "no-host", "no-scheme", "bad-port", "plain-http-credentials"],
)
def test_urls_that_cannot_work_are_refused_without_their_userinfo(url: str) -> None:
    with pytest.raises(UsageError) as refused:
        HttpProbe(url, request_timeout=1.0)
    assert "s3cr3t" not in str(refused.value)


@pytest.mark.parametrize("count", [0, -1])
def test_failures_in_a_row_must_be_positive(count: int) -> None:
    with pytest.raises(UsageError, match="failures_in_a_row"):
        HttpProbe("https://shop.example/", failures_in_a_row=count, request_timeout=1.0)


def test_the_query_never_comes_back_through_the_answer_and_only_credentials_go_further(
    serve: Any, probes: Any
) -> None:
    from gate.core.text import from_api

    token = "pr0be-t0ken-0123456789"
    echo = f"Cannot GET /health?service=checkout-eu-west&token={token}: service checkout-eu-west"
    server = serve((404, echo.encode()))
    probe = probes(
        f"{server.url}/health?service=checkout-eu-west&token={token}", failures_in_a_row=1
    )
    [breach] = probe.read(SINCE, NOW).breaches
    assert breach.detail == "HTTP 404, body 'Cannot GET ***: service ***'"
    assert from_api(f"echoed {token}") == "echoed ***", "a credential: cut from every answer"
    assert from_api("thinggroup/checkout-eu-west") == "thinggroup/checkout-eu-west", (
        "no credential: a name the gate decides on elsewhere stays whole"
    )
