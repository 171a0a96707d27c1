"""A GitHub REST API for the deployments telling's tests, on 127.0.0.1: it keeps deployments
and their statuses as GitHub does, records every request whole (its raw path, headers and
body), and answers the faults a test queues (:meth:`GitHubApiServer.fail_next`).

Only what the telling uses is played: ``GET`` and ``POST /repos/{owner}/{repo}/deployments``
(the list filtered by ``sha``, ``ref``, ``environment`` and ``task``, newest first) and
``POST .../deployments/{id}/statuses``. A wrong bearer token is a 401, as GitHub answers it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["Fault", "GitHubApiServer", "Recorded", "github_api"]


@dataclass(frozen=True)
class Recorded:
    method: str
    raw_path: str
    """The request target's path as sent, still quoted."""
    query: dict[str, str]
    headers: dict[str, str]
    """Lower-cased names."""
    body: Any

    @property
    def segments(self) -> list[str]:
        return [unquote(part) for part in self.raw_path.split("/")[1:]]


@dataclass
class Fault:
    method: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    times: int = 1


class GitHubApiServer:
    def __init__(self, token: str) -> None:
        self.token = token
        self.requests: list[Recorded] = []
        self.deployments: list[dict[str, Any]] = []
        self.statuses: dict[int, list[dict[str, Any]]] = {}
        self._faults: list[Fault] = []
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def fail_next(
        self,
        method: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` requests with ``method`` are answered ``status``, whatever
        they ask."""
        with self.lock:
            self._faults.append(Fault(method, status, headers or {}, body, times))

    def add_deployment(self, **fields: Any) -> dict[str, Any]:
        """A deployment already there (another run's, an earlier attempt's)."""
        with self.lock:
            return self._create(fields)

    def states(self, deployment_id: int) -> list[str]:
        with self.lock:
            return [status["state"] for status in self.statuses.get(deployment_id, [])]

    def _create(self, fields: dict[str, Any]) -> dict[str, Any]:
        deployment = {
            "id": len(self.deployments) + 1001,
            "task": "deploy",
            "environment": "production",
            "payload": {},
            "description": "",
            **fields,
        }
        deployment.setdefault("sha", deployment.get("ref", ""))
        self.deployments.append(deployment)
        self.statuses[deployment["id"]] = []
        return deployment

    def _answer(self, request: Recorded) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            self.requests.append(request)
            for fault in self._faults:
                if fault.method == request.method and fault.times > 0:
                    fault.times -= 1
                    body = fault.body if fault.body is not None else {"message": "fault"}
                    return fault.status, fault.headers, body
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return 401, {}, {"message": "Bad credentials"}
            parts = request.segments
            if len(parts) == 4 and parts[0] == "repos" and parts[3] == "deployments":
                if request.method == "GET":
                    return 200, {}, self._listed(request.query)
                if request.method == "POST":
                    body = dict(request.body)
                    return 201, {}, self._create(body)
            if (
                len(parts) == 6
                and parts[0] == "repos"
                and parts[3] == "deployments"
                and parts[5] == "statuses"
                and request.method == "POST"
            ):
                ident = int(parts[4])
                if ident not in self.statuses:
                    return 404, {}, {"message": "Not Found"}
                status = {"id": sum(map(len, self.statuses.values())) + 1, **request.body}
                self.statuses[ident].append(status)
                return 201, {}, status
            return 404, {}, {"message": "Not Found"}

    def _listed(self, query: dict[str, str]) -> list[dict[str, Any]]:
        keys = ("sha", "ref", "environment", "task")
        return [
            deployment
            for deployment in reversed(self.deployments)
            if all(deployment.get(key) == query[key] for key in keys if key in query)
        ]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                recorded = Recorded(
                    method=self.command,
                    raw_path=split.path,
                    query=dict(parse_qsl(split.query)),
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=json.loads(raw) if raw else None,
                )
                status, headers, body = server._answer(recorded)
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

        return Handler


@contextmanager
def github_api(token: str) -> Iterator[GitHubApiServer]:
    server = GitHubApiServer(token)
    server.start()
    try:
        yield server
    finally:
        server.stop()
