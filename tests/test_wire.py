"""The bounded wire and the URL rules, against the emulator on loopback."""

from __future__ import annotations

import gzip

import httpx
import pytest

from gate.core.errors import UsageError
from gate.core.urls import require_api_url
from gate.emulator import Emulator, Fault
from gate.wire import deadline
from gate.wire.transport import AnswerNotReadable, BoundedTransport, proxy_for


def test_a_compressed_answer_is_refused_rather_than_unpacked(emulator: Emulator) -> None:
    """A few KiB of gzip can unpack to gigabytes; the gate asks for none and takes none."""
    bomb = gzip.compress(b" " * 50_000_000)
    emulator.inject(Fault("http", status=200, body=bomb, headers={"Content-Encoding": "gzip"}))
    with (
        httpx.Client(transport=BoundedTransport(request_timeout=5)) as client,
        pytest.raises(AnswerNotReadable, match="compressed"),
    ):
        client.get(f"{emulator.url}/anything")


def test_no_time_left_means_no_request_at_all(emulator: Emulator) -> None:
    with (
        httpx.Client(transport=BoundedTransport(request_timeout=5)) as client,
        deadline.within(0),
        pytest.raises(httpx.TimeoutException),
    ):
        client.get(f"{emulator.url}/anything")
    assert emulator.requests == []


def test_proxies_come_from_the_environment_and_no_proxy_is_honoured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://user:pw@proxy.internal:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example.com")
    proxy = proxy_for(httpx.URL("https://api.humanitec.io"))
    assert proxy is not None
    assert proxy.url.host == b"proxy.internal"
    assert proxy.auth == (b"user", b"pw")
    assert proxy_for(httpx.URL("https://api.internal.example.com")) is None
    assert proxy_for(httpx.URL("http://127.0.0.1:8080")) is None


@pytest.mark.parametrize(
    ("url", "allow"),
    [
        ("https://api.humanitec.io", False),
        ("https://gateway.example.com/humanitec", False),
        ("http://127.0.0.1:8080", False),
        ("http://localhost:8080", False),
        ("http://[::1]:8080", False),
        ("http://humanitec.internal", True),
    ],
)
def test_urls_that_can_work_are_accepted(url: str, allow: bool) -> None:
    assert require_api_url("--api-url", url, allow_plain_http=allow).host


def test_plain_http_to_another_machine_needs_the_opt_in() -> None:
    with pytest.raises(UsageError, match="--allow-plain-http"):
        require_api_url("--api-url", "http://humanitec.internal")
