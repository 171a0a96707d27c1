"""A service's health endpoint on loopback, for the demo's bake: it answers the n-th probe
with the n-th status of its script (the last one thereafter), so a release "breaks" after a
number of probes, not after a time. A ``{target}`` in its body is the request's target
(``/healthz?token=...``), as a framework's 404 page echoes it; ``{authorization}`` the request's
``Authorization`` header (``Basic ...``), as a debugging 401 page does."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

__all__ = ["HealthEndpoint"]


class HealthEndpoint:
    def __init__(self, statuses: Sequence[int], body: str = "") -> None:
        self._statuses = list(statuses) or [200]
        self._body = body
        self._lock = threading.Lock()
        self.probes = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/healthz"

    def _next(self) -> int:
        with self._lock:
            self.probes += 1
            return self._statuses[min(self.probes, len(self._statuses)) - 1]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status = endpoint._next()
                said = endpoint._body.replace("{target}", self.path).replace(
                    "{authorization}", self.headers.get("Authorization", "")
                ) or ("ok" if status < 400 else "unhealthy")
                body = f"{said}\n".encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def __enter__(self) -> HealthEndpoint:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
