"""What the faces accept for telling: a collector's address as collectors are reached, a web
page's address as people open it, never a credential in either; and a progress stream that
breaks never silences what is told."""

from __future__ import annotations

from typing import Any

import pytest

import gate
from gate.core.description import FieldError
from gate.core.errors import UsageError
from gate.core.model import Outcome
from gate.telling.options import TELLING, tellings_of
from gate.waiting.engine import Timing
from gate.waiting.reporter import NullReporter
from tests.support import VirtualClock
from tests.test_engine import ScriptedProvider, finishing_at


def test_a_collector_in_the_same_network_may_be_plain_http() -> None:
    values = TELLING.read({"otel_endpoint": "http://otel-collector:4318"}, env={})
    (telling,) = tellings_of(values, {}, request_timeout=5.0)
    assert telling.close() == []


def test_a_collector_address_with_a_query_is_refused_without_showing_it() -> None:
    values = TELLING.read({"otel_endpoint": "https://otel.example.com/?api_key=s3cr3t-k3y"}, env={})
    with pytest.raises(UsageError, match="must not hold a query") as refused:
        tellings_of(values, {}, request_timeout=5.0)
    assert "s3cr3t-k3y" not in str(refused.value)


@pytest.mark.parametrize(
    ("url", "fine"),
    [
        ("https://shop.example.com/#/production", True),
        ("http://shop.internal:8080/", True),
        ("https://user:s3cr3t@shop.example.com/", False),
        ("ftp://shop.example.com/", False),
    ],
)
def test_an_environment_url_is_any_web_address_without_credentials(url: str, fine: bool) -> None:
    given = {"github_deployment": True, "environment_url": url}
    if fine:
        TELLING.read(given, env={})
        return
    with pytest.raises(FieldError) as refused:
        TELLING.read(given, env={})
    assert "s3cr3t" not in str(refused.value)


class _Hearing(NullReporter):
    def __init__(self) -> None:
        self.heard: list[str] = []

    def started(self, description: str, timeout: float) -> None:
        self.heard.append("started")

    def finished(self, outcome: Outcome) -> None:
        self.heard.append("finished")


class _Telling:
    def __init__(self) -> None:
        self.reporter = _Hearing()

    def for_gate(self, gate: Any) -> _Hearing:
        return self.reporter

    def release_started(self, gates: Any) -> None:
        pass

    def release_finished(self, outcome: Any) -> None:
        pass

    def close(self) -> list[str]:
        return []


class _ClosedStream(NullReporter):
    def status_changed(self, *args: object) -> None:
        raise OSError("stderr is closed")


def test_a_closed_progress_stream_never_silences_a_telling(clock: VirtualClock) -> None:
    telling = _Telling()
    outcome = gate.wait(
        ScriptedProvider(clock, finishing_at(30)),
        reporter=_ClosedStream(),
        telemetry=[telling],
        timing=Timing(clock=clock, sleep=clock.sleep),
    )
    assert outcome.succeeded
    assert telling.reporter.heard == ["started", "finished"]
