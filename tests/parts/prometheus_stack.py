"""A real Prometheus and Alertmanager for the bake's tests, and an exporter the test drives.

The fixture ``prometheus_stack`` (session-scoped: one stack in each pytest-xdist worker, on
free loopback ports in its own tmp dir) starts an :class:`Exporter`, a Prometheus that scrapes
it every second and evaluates one alerting rule (``CheckoutErrors``: ``checkout_errors_total
> 0``) every second, and an Alertmanager that Prometheus sends its alerts to. Debian's
``prometheus`` and ``prometheus-alertmanager`` are installed first when missing
(``install-prometheus.sh``, once per machine under a file lock). A part that cannot be
installed or started fails the test with the reason; nothing is skipped.

Tests wait on conditions by polling the servers' APIs (:meth:`PrometheusStack.wait_for`),
never on sleeps tuned to the machine's speed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.parts.installed import install_once

__all__ = ["Exporter", "PrometheusStack", "ensure_installed", "prometheus_stack_fixture"]

INSTALL_SCRIPT = Path(__file__).with_name("install-prometheus.sh")
INSTALL_LOCK = Path("/tmp/deploy-gate-tests-prometheus-install.lock")
PROMETHEUS = Path("/usr/bin/prometheus")
ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")
WAIT_SECONDS = 60.0
"""How long a condition may take to show: generous, since the machine is shared."""
POLL_SECONDS = 0.2
ALERT_NAME = "CheckoutErrors"
ALERT_SUMMARY = "Checkout is failing requests"

_T = TypeVar("_T")
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def ensure_installed() -> None:
    """Both binaries are there, installed by ``install-prometheus.sh`` if they were not."""
    install_once("Prometheus and Alertmanager", INSTALL_SCRIPT, [], INSTALL_LOCK, _installed)


def _installed() -> bool:
    return all(os.access(binary, os.X_OK) for binary in (PROMETHEUS, ALERTMANAGER))


class Exporter:
    """Metrics in Prometheus' text format on 127.0.0.1, set by the test."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self._lock = threading.Lock()
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = exporter.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.target = f"127.0.0.1:{self._server.server_address[1]}"

    def set(self, metric: str, value: float, labels: dict[str, str] | None = None) -> None:
        key = (metric, tuple(sorted((labels or {}).items())))
        with self._lock:
            self._values[key] = value

    def render(self) -> str:
        with self._lock:
            values = dict(self._values)
        lines = []
        for (metric, labels), value in sorted(values.items()):
            pairs = ",".join(f"{name}={json.dumps(text)}" for name, text in labels)
            lines.append(f"{metric}{{{pairs}}} {value!r}")
        return "\n".join(lines) + "\n"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@dataclass
class PrometheusStack:
    exporter: Exporter
    prometheus_url: str
    alertmanager_url: str

    def query(self, promql: str) -> dict[str, Any]:
        """The ``data`` of an instant query, read without the code under test."""
        answer = _get_json(self.prometheus_url, "/api/v1/query", [("query", promql)])
        assert answer["status"] == "success", answer
        return dict(answer["data"])

    def alerts(self, *filters: str) -> list[dict[str, Any]]:
        params = [("active", "true"), *(("filter", matcher) for matcher in filters)]
        return list(_get_json(self.alertmanager_url, "/api/v2/alerts", params))

    @contextmanager
    def silence(self, *matchers: tuple[str, str]) -> Iterator[str]:
        """A silence of the alerts whose labels equal ``matchers`` (name, value), made through
        Alertmanager's API for an hour and expired at the end; its id."""
        now = time.time()
        body = {
            "matchers": [
                {"name": name, "value": value, "isRegex": False, "isEqual": True}
                for name, value in matchers
            ],
            "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
            "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600)),
            "createdBy": "tests",
            "comment": "maintenance",
        }
        made = _send_json(self.alertmanager_url, "POST", "/api/v2/silences", body)
        silence_id = str(made["silenceID"])
        try:
            yield silence_id
        finally:
            _send_json(self.alertmanager_url, "DELETE", f"/api/v2/silence/{silence_id}", None)

    def wait_for(self, what: str, condition: Callable[[], _T | None]) -> _T:
        """``condition()`` once it is neither None nor empty; a failure naming ``what`` if
        it never is within :data:`WAIT_SECONDS`."""
        ends = time.monotonic() + WAIT_SECONDS
        while True:
            found = condition()
            if found:
                return found
            if time.monotonic() > ends:
                pytest.fail(f"after {WAIT_SECONDS:g}s still waiting until {what}", pytrace=False)
            time.sleep(POLL_SECONDS)

    def wait_for_series(self, promql: str) -> list[dict[str, Any]]:
        """The series of an instant query once it gives any."""
        return self.wait_for(f"Prometheus answers {promql!r} with series", self._series(promql))

    def wait_for_no_series(self, promql: str) -> None:
        self.wait_for(
            f"Prometheus answers {promql!r} with no series",
            lambda: not self._series(promql)(),
        )

    def _series(self, promql: str) -> Callable[[], list[dict[str, Any]]]:
        return lambda: list(self.query(promql)["result"])


def _send_json(base: str, method: str, path: str, body: object) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{base}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with _NO_PROXY.open(request, timeout=10) as answer:
        raw = answer.read()
    return json.loads(raw) if raw.strip() else None


def _get_json(base: str, path: str, params: list[tuple[str, str]]) -> Any:
    url = f"{base}{path}?{urllib.parse.urlencode(params)}"
    with _NO_PROXY.open(url, timeout=10) as answer:
        return json.load(answer)


@pytest.fixture(scope="session", name="prometheus_stack")
def prometheus_stack_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusStack]:
    ensure_installed()
    with running_stack(tmp_path_factory.mktemp("prometheus-stack")) as stack:
        yield stack


@contextmanager
def running_stack(folder: Path) -> Iterator[PrometheusStack]:
    with ExitStack() as stack:
        exporter = Exporter()
        stack.callback(exporter.close)
        alertmanager = stack.enter_context(_alertmanager(folder / "alertmanager"))
        prometheus = stack.enter_context(
            _prometheus(folder / "prometheus", exporter.target, alertmanager)
        )
        running = PrometheusStack(exporter, f"http://{prometheus}", f"http://{alertmanager}")
        running.wait_for(
            "Prometheus has scraped the exporter",
            lambda: running.query('up{job="exporter"} == 1')["result"],
        )
        yield running


@contextmanager
def _alertmanager(folder: Path) -> Iterator[str]:
    folder.mkdir()
    config = folder / "alertmanager.yml"
    config.write_text('route:\n  receiver: "nowhere"\nreceivers:\n  - name: "nowhere"\n')
    with _server(
        "Alertmanager",
        folder,
        lambda address: [
            str(ALERTMANAGER),
            f"--config.file={config}",
            f"--storage.path={folder / 'data'}",
            f"--web.listen-address={address}",
            "--cluster.listen-address=",
        ],
    ) as address:
        yield address


@contextmanager
def _prometheus(folder: Path, exporter: str, alertmanager: str) -> Iterator[str]:
    folder.mkdir()
    rules = folder / "rules.yml"
    rules.write_text(
        json.dumps(
            {
                "groups": [
                    {
                        "name": "checkout",
                        "rules": [
                            {
                                "alert": ALERT_NAME,
                                "expr": "checkout_errors_total > 0",
                                "labels": {"service": "checkout", "severity": "page"},
                                "annotations": {"summary": ALERT_SUMMARY},
                            }
                        ],
                    }
                ]
            }
        )
    )
    config = folder / "prometheus.yml"
    config.write_text(  # YAML is a superset of JSON
        json.dumps(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(rules)],
                "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
                "scrape_configs": [
                    {"job_name": "exporter", "static_configs": [{"targets": [exporter]}]}
                ],
            }
        )
    )
    with _server(
        "Prometheus",
        folder,
        lambda address: [
            str(PROMETHEUS),
            f"--config.file={config}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address={address}",
        ],
    ) as address:
        yield address


@contextmanager
def _server(name: str, folder: Path, argv: Callable[[str], list[str]]) -> Iterator[str]:
    """A server started on a free loopback port and ready (``/-/ready``), stopped at the end.
    Another worker may take the port between its choice and the start: then a new one."""
    for attempt in range(3):
        address = f"127.0.0.1:{_free_port()}"
        log_path = folder / f"{name.lower()}-{attempt}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                argv(address), stdout=log, stderr=subprocess.STDOUT, cwd=folder
            )
        try:
            if _ready(process, address):
                yield address
                return
        finally:
            _stop(process)
        said = log_path.read_text(errors="replace")
        if "address already in use" not in said:
            break
    pytest.fail(
        f"{name} did not become ready on {address} (exit {process.returncode}):\n{said[-3000:]}",
        pytrace=False,
    )


def _ready(process: subprocess.Popen[bytes], address: str) -> bool:
    ends = time.monotonic() + WAIT_SECONDS
    while process.poll() is None and time.monotonic() < ends:
        try:
            with _NO_PROXY.open(f"http://{address}/-/ready", timeout=5) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(POLL_SECONDS)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
