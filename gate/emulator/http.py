"""The emulator's HTTP plumbing, whatever API it plays: a threaded server on loopback, one
handler that records each request, throttles past the rate limit and plays injected faults
(status answers, hangs, resets, answers that trickle), and the answers and pages every API of
a family shares (AWS errors and ``nextToken`` pages, Humanitec's bearer check and ``Link``
pages)."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from gate.emulator.scenario import Fault

__all__ = [
    "AWS_UNSIGNED",
    "Answer",
    "Server",
    "aws_error",
    "aws_page",
    "aws_signed",
    "handler_for",
    "humanitec_unauthorized",
    "link_page",
]

Answer = tuple[int, Any, dict[str, str]]
"""Status, JSON body and extra headers for one request."""
MAX_REQUEST_BODY = 1024 * 1024
SLOW = ("trickle-headers", "trickle-body", "endless-chunks")


class Served(Protocol):
    """What the handler asks of the emulator it serves."""

    requests: list[str]
    request_times: list[float]
    posted: list[tuple[str, object, dict[str, str]]]

    @property
    def stopped(self) -> threading.Event: ...

    def _over_rate(self) -> bool: ...

    def _take_fault(self, method: str, path: str) -> Fault | None: ...

    def _answer(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        body: object = None,
    ) -> Answer: ...


class Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up mid-answer is what the slow faults are for, not an error.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def aws_signed(headers: Mapping[str, str]) -> bool:
    return headers.get("authorization", "").startswith("AWS4-HMAC-SHA256")


def aws_error(status: int, code: str, message: str) -> Answer:
    return status, {"message": message}, {"x-amzn-ErrorType": code}


AWS_UNSIGNED = aws_error(403, "MissingAuthenticationTokenException", "Missing token")


def aws_page(items: list[Any], key: str, query: Mapping[str, str], *, default_size: int) -> Answer:
    """One page of ``items`` as AWS lists them: ``maxResults`` and an opaque ``nextToken``."""
    size = int(query.get("maxResults", default_size))
    start = int(query.get("nextToken", "0") or 0)
    body: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        body["nextToken"] = str(start + size)
    return 200, body, {}


def humanitec_unauthorized(headers: Mapping[str, str], token: str) -> Answer | None:
    """Humanitec's 401, unless the request carries the emulator's bearer token."""
    if headers.get("authorization") != f"Bearer {token}":
        return 401, {"error": "API-000", "message": "Could not validate token."}, {}
    return None


def link_page(items: Sequence[Any], path: str, query: Mapping[str, str], *, size: int) -> Answer:
    """One page of a Humanitec list: the contract's ``page`` token and ``Link`` header."""
    start = int(query.get("page", "0") or 0)
    headers = {}
    if start + size < len(items):
        headers["Link"] = f'<{path}?page={start + size}>; rel="next"'
    return 200, items[start : start + size], headers


def _throttled(path: str) -> tuple[int, bytes, dict[str, str]]:
    if path.startswith("/greengrass"):
        status, body, _ = aws_error(429, "TooManyRequestsException", "Rate exceeded")
    else:
        status, body = 429, {"error": "API-429", "message": "Too many requests"}
    return status, json.dumps(body).encode(), {"Retry-After": "1"}


def handler_for(emulator: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._handle("GET", None)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 <= length <= MAX_REQUEST_BODY:
                self.close_connection = True
                self._send(413, b'{"error":"API-413","message":"request too large"}', {})
                return
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")  # refused as not an object
            headers = {
                k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"
            }
            emulator.posted.append((urlsplit(self.path).path, body, headers))
            self._handle("POST", body)

        def _handle(self, method: str, body: object) -> None:
            parts = urlsplit(self.path)
            path = parts.path
            query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            emulator.requests.append(path)
            emulator.request_times.append(time.monotonic())
            if emulator._over_rate():
                self._send(*_throttled(path))
                return
            fault = emulator._take_fault(method, path)
            if fault is not None and not fault.after_acting:
                self._misbehave(fault)
                return
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, answer, extra = emulator._answer(method, path, headers, query, body)
            if fault is not None:
                self._misbehave(fault)
                return
            self._send(status, json.dumps(answer).encode(), extra)

        def _send(self, status: int, payload: bytes, headers: Mapping[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def _misbehave(self, fault: Fault) -> None:
            if fault.kind == "hang":
                emulator.stopped.wait(fault.seconds)
                self.close_connection = True
                return
            if fault.kind == "reset":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.write(b'{"status": "succ')
                self.wfile.flush()
                self.close_connection = True
                return
            if fault.kind in SLOW:
                self._dribble(fault)
                return
            self._send(fault.status, fault.body, fault.headers)

        def _dribble(self, fault: Fault) -> None:
            """Send a piece every ``fault.seconds`` until the client hangs up or the
            emulator stops: an answer that is always nearly there."""
            self.close_connection = True
            if fault.kind == "trickle-headers":
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            elif fault.kind == "trickle-body":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n{")
            else:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            piece = {
                "trickle-headers": b"X-Still-Coming: yes\r\n",
                "trickle-body": b" ",
                "endless-chunks": b"1\r\n \r\n",
            }[fault.kind]
            try:
                while not emulator.stopped.wait(fault.seconds):
                    self.wfile.write(piece)
                    self.wfile.flush()
            except OSError:
                pass

    return Handler
