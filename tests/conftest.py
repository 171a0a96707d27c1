from __future__ import annotations

from collections.abc import Iterator

import pytest

from gate.emulator import Emulator
from tests.support import TOKEN, VirtualClock


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """The package's emulator on loopback, in real time (for the CLI as a subprocess)."""
    with Emulator(token=TOKEN) as running:
        yield running


@pytest.fixture
def virtual_emulator(clock: VirtualClock) -> Iterator[Emulator]:
    """The emulator on loopback, its timelines driven by the test's virtual clock."""
    with Emulator(token=TOKEN, clock=clock) as running:
        yield running


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and no shared config, so nothing reaches a real AWS account."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
