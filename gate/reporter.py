"""What the wait engine tells whoever watches it. Renderers implement :class:`Reporter`."""

from __future__ import annotations

from typing import Protocol

from gate.errors import TransientError
from gate.model import Outcome, Snapshot

__all__ = ["NullReporter", "Reporter"]


class Reporter(Protocol):
    def started(self, description: str, timeout: float) -> None: ...

    def status_changed(
        self, previous: Snapshot | None, current: Snapshot, elapsed: float
    ) -> None: ...

    def heartbeat(self, current: Snapshot | None, elapsed: float, polls: int) -> None: ...

    def warning(self, message: str, elapsed: float) -> None: ...

    def retrying(self, fault: TransientError, delay: float, elapsed: float) -> None: ...

    def finished(self, outcome: Outcome) -> None: ...


class NullReporter:
    """Says nothing: the library's default."""

    def started(self, description: str, timeout: float) -> None:
        pass

    def status_changed(self, previous: Snapshot | None, current: Snapshot, elapsed: float) -> None:
        pass

    def heartbeat(self, current: Snapshot | None, elapsed: float, polls: int) -> None:
        pass

    def warning(self, message: str, elapsed: float) -> None:
        pass

    def retrying(self, fault: TransientError, delay: float, elapsed: float) -> None:
        pass

    def finished(self, outcome: Outcome) -> None:
        pass
