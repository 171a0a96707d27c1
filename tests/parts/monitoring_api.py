"""A loopback server answering as Prometheus' and Alertmanager's HTTP APIs answer, from a
script the test writes: for what the real servers cannot be made to do on cue (a 503 on the
first query, a native-histogram series, a partial answer with warnings).

Each path (``/api/v1/query``) answers its script in turn, one answer a request, then the last
one for good; an answer is a status and a JSON body, or ``HANG`` (no answer at all, until
the server stops). Bodies follow the documented formats:
https://prometheus.io/docs/prometheus/latest/querying/api/ (the envelope, ``matrix`` with
``values`` and ``histograms``, ``warnings``) and Alertmanager's OpenAPI (``/api/v2/...``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["HANG", "MonitoringApi", "clear_matrix", "matrix", "monitoring_api", "vector"]

HANG = object()
"""An answer that never comes."""

Answer = Any  # (status, body) or HANG


def envelope(data: dict[str, Any], warnings: Sequence[str] = ()) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "success", "data": data}
    if warnings:
        body["warnings"] = list(warnings)
    return body


def vector() -> tuple[int, dict[str, Any]]:
    """What ``/api/v1/query`` answers for an alert's expression that holds nothing now."""
    return 200, envelope({"resultType": "vector", "result": []})


def matrix(*series: dict[str, Any], warnings: Sequence[str] = ()) -> tuple[int, dict[str, Any]]:
    return 200, envelope({"resultType": "matrix", "result": list(series)}, warnings)


def clear_matrix() -> tuple[int, dict[str, Any]]:
    return matrix()


class MonitoringApi:
    def __init__(self, scripts: dict[str, list[Answer]]) -> None:
        self.scripts = scripts
        self.asked: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                answer = api._next(self.path)
                if answer is HANG:
                    api._stop.wait()
                    return
                status, body = answer
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def asked_for(self, path: str) -> int:
        with self._lock:
            return sum(1 for asked in self.asked if urlsplit(asked).path == path)

    def _next(self, target: str) -> Answer:
        path = urlsplit(target).path
        with self._lock:
            self.asked.append(target)
            script = self.scripts.get(path) or [(404, {"error": f"no script for {path}"})]
            count = sum(1 for asked in self.asked if urlsplit(asked).path == path)
            return script[min(count, len(script)) - 1]


@contextmanager
def monitoring_api(scripts: dict[str, list[Answer]]) -> Iterator[MonitoringApi]:
    api = MonitoringApi(scripts)
    thread = threading.Thread(target=api._server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        api._stop.set()
        api._server.shutdown()
        api._server.server_close()
