"""GitHub's published REST description served by Stoplight Prism, for the deployments
telling's contract test.

The fixture ``prism`` (session-scoped: one Prism in each pytest-xdist worker, on a free
loopback port) installs ``@stoplight/prism-cli`` and ``@octokit/openapi`` (pinned, by
``install-prism.sh``, once per machine under a file lock, into :data:`CACHE`: never in the
repository), cuts ``api.github.com.json`` to the paths the telling uses
(:func:`cut_description`: Prism starts in a second on them rather than reading 13 MB), and
starts ``prism mock --errors``: a request that does not validate against the description is
answered 422 with an ``sl-violations`` header. A part that cannot be installed or started
fails the test with the reason; nothing is skipped.

Between the telling and Prism sits a :class:`RecordingProxy`, which keeps every request with
Prism's status and violations, so a test can say that each of them validated.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.parts.installed import install_once

__all__ = [
    "PATHS",
    "Exchange",
    "RecordingProxy",
    "cut_description",
    "ensure_installed",
    "prism_fixture",
]

INSTALL_SCRIPT = Path(__file__).with_name("install-prism.sh")
CACHE = Path("/tmp/deploy-gate-tests-prism")
INSTALL_LOCK = Path("/tmp/deploy-gate-tests-prism-install.lock")
PRISM = CACHE / "node_modules" / ".bin" / "prism"
DESCRIPTION = CACHE / "node_modules" / "@octokit" / "openapi" / "generated" / "api.github.com.json"
PATHS = (
    "/repos/{owner}/{repo}/deployments",
    "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
)
"""What the telling requests, as the description names the paths."""
MEDIA_TYPE = "application/vnd.github+json"
START_SECONDS = 120.0
"""How long Prism may take to listen: generous, since the machine is shared."""

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def ensure_installed() -> None:
    """Prism and the description are in :data:`CACHE`, installed if they were not."""
    install_once(
        "Prism and @octokit/openapi", INSTALL_SCRIPT, [str(CACHE)], INSTALL_LOCK, _installed
    )


def _installed() -> bool:
    return os.access(PRISM, os.X_OK) and DESCRIPTION.is_file()


def cut_description(source: Path, target: Path, paths: tuple[str, ...] = PATHS) -> None:
    """``source`` with only ``paths`` and the components they reach, written to ``target``.

    One addition: each response's ``application/json`` content is also offered as
    ``application/vnd.github+json``, the media type GitHub asks clients to accept (its API
    answers it with JSON; Prism, matching media types exactly, would answer 406). Requests
    are checked against the description as published.
    """
    whole = json.loads(source.read_text())
    kept_paths = {path: whole["paths"][path] for path in paths}
    components: dict[str, dict[str, Any]] = {}
    pending = list(_refs(kept_paths))
    while pending:
        ref = pending.pop()
        _, _, section, name = ref.split("/", 3)
        if name in components.setdefault(section, {}):
            continue
        value = whole["components"][section][name]
        components[section][name] = value
        pending.extend(_refs(value))
    for item in kept_paths.values():
        for operation in item.values():
            for response in operation.get("responses", {}).values():
                _offer_github_media_type(response)
    for response in components.get("responses", {}).values():
        _offer_github_media_type(response)
    cut = {key: whole[key] for key in ("openapi", "info", "servers", "security") if key in whole}
    cut.update(paths=kept_paths, components=components)
    target.write_text(json.dumps(cut))


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            yield ref
        for inner in value.values():
            yield from _refs(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _refs(inner)


def _offer_github_media_type(response: dict[str, Any]) -> None:
    content = response.get("content", {})
    if "application/json" in content and MEDIA_TYPE not in content:
        content[MEDIA_TYPE] = content["application/json"]


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    violations: str | None
    """Prism's ``sl-violations`` header, when it found any."""
    body: bytes


class RecordingProxy:
    """Passes each request to ``upstream`` and its answer back, keeping both (:attr:`seen`)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.seen: list[Exchange] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _pass(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                skip = {"host", "content-length", "connection"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                request = urllib.request.Request(
                    proxy.upstream + self.path, data=body, headers=headers, method=self.command
                )
                try:
                    with _NO_PROXY.open(request, timeout=30) as answer:
                        status, answer_headers, data = answer.status, answer.headers, answer.read()
                except urllib.error.HTTPError as refused:
                    with refused:
                        status, answer_headers, data = refused.code, refused.headers, refused.read()
                with proxy._lock:
                    proxy.seen.append(
                        Exchange(
                            self.command,
                            self.path,
                            status,
                            answer_headers.get("sl-violations"),
                            data,
                        )
                    )
                self.send_response(status)
                self.send_header("Content-Type", answer_headers.get("Content-Type", ""))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _pass

        return Handler


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_prism(folder: Path) -> Iterator[str]:
    """``prism mock --errors`` on the cut description, on loopback; its base URL."""
    description = folder / "github-deployments.json"
    cut_description(DESCRIPTION, description)
    port = _free_port()
    log = folder / "prism.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), "--errors", str(description)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1"},
        )
    try:
        ends = time.monotonic() + START_SECONDS
        while "Prism is listening" not in log.read_text():
            if process.poll() is not None or time.monotonic() > ends:
                pytest.fail(
                    f"Prism did not start (exit {process.poll()}):\n{log.read_text()[-3000:]}",
                    pytrace=False,
                )
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session", name="prism")
def prism_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Prism serving GitHub's deployments description (see the module's docstring)."""
    ensure_installed()
    with running_prism(tmp_path_factory.mktemp("prism")) as url:
        yield url
