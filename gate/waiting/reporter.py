"""What the wait engine tells whoever watches it. Renderers implement :class:`Reporter`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol

from gate.core.durations import format_duration
from gate.core.errors import TransientError
from gate.core.model import Outcome, Snapshot

__all__ = ["GuardedReporter", "NullReporter", "PhaseReporter", "Reporter"]


class Reporter(Protocol):
    def started(self, description: str, timeout: float) -> None: ...

    def status_changed(
        self, previous: Snapshot | None, current: Snapshot, elapsed: float
    ) -> None: ...

    def heartbeat(self, current: Snapshot | None, elapsed: float, polls: int) -> None: ...

    def warning(self, message: str, elapsed: float) -> None: ...

    def retrying(self, fault: TransientError, delay: float, elapsed: float) -> None: ...

    def phase(self, line: str, elapsed: float) -> None:
        """What the gate does after the deployment's own status: the bake, a rollback."""
        ...

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

    def phase(self, line: str, elapsed: float) -> None:
        pass

    def finished(self, outcome: Outcome) -> None:
        pass


class GuardedReporter:
    """Passes every call on to ``inner`` until its stream fails, then says nothing more.

    Progress is a courtesy: a closed pipe, a full disk or a closed file (``OSError``,
    ``ValueError``) must never end a wait or change its outcome. With a ``lock`` (shared by
    the reporters of a gate of many), each call's lines are written whole, never interleaved.
    """

    def __init__(self, inner: Reporter, *, lock: threading.Lock | None = None) -> None:
        self._inner: Reporter | None = inner
        self._lock: AbstractContextManager[Any] = lock or nullcontext()

    def _call(self, name: str, *args: object) -> None:
        with self._lock:
            if self._inner is None:
                return
            try:
                getattr(self._inner, name)(*args)
            except (OSError, ValueError):
                self._inner = None

    def started(self, description: str, timeout: float) -> None:
        self._call("started", description, timeout)

    def status_changed(self, previous: Snapshot | None, current: Snapshot, elapsed: float) -> None:
        self._call("status_changed", previous, current, elapsed)

    def heartbeat(self, current: Snapshot | None, elapsed: float, polls: int) -> None:
        self._call("heartbeat", current, elapsed, polls)

    def warning(self, message: str, elapsed: float) -> None:
        self._call("warning", message, elapsed)

    def retrying(self, fault: TransientError, delay: float, elapsed: float) -> None:
        self._call("retrying", fault, delay, elapsed)

    def phase(self, line: str, elapsed: float) -> None:
        self._call("phase", line, elapsed)

    def finished(self, outcome: Outcome) -> None:
        self._call("finished", outcome)


class PhaseReporter:
    """A wait inside another's phase (the rollback's, after the gate failed): its progress
    as the outer reporter's phase lines, named by ``label``, and its ending one more line,
    never an outcome of its own (no second summary, no annotation that it succeeded).
    ``say``: the outer wait's phase line."""

    def __init__(self, say: Callable[[str], None], label: str) -> None:
        self._say_outer = say
        self._label = label

    def _say(self, line: str) -> None:
        self._say_outer(f"{self._label}: {line}")

    def started(self, description: str, timeout: float) -> None:
        self._say(f"waiting for {description} (timeout {format_duration(timeout)})")

    def status_changed(self, previous: Snapshot | None, current: Snapshot, elapsed: float) -> None:
        before = (
            f"{previous.raw_status} -> "
            if previous and previous.raw_status != current.raw_status
            else ""
        )
        progress = f" ({current.progress})" if current.progress else ""
        self._say(f"status: {before}{current.raw_status}{progress}")

    def heartbeat(self, current: Snapshot | None, elapsed: float, polls: int) -> None:
        status = current.raw_status if current else "not read yet"
        self._say(f"still waiting: status {status} ({polls} reads)")

    def warning(self, message: str, elapsed: float) -> None:
        self._say(f"warning: {message}")

    def retrying(self, fault: TransientError, delay: float, elapsed: float) -> None:
        self._say(f"{fault}; retrying in {format_duration(delay)}")

    def phase(self, line: str, elapsed: float) -> None:
        self._say(line)

    def finished(self, outcome: Outcome) -> None:
        took = format_duration(outcome.elapsed_seconds)
        why = f": {outcome.reason}" if outcome.reason and not outcome.succeeded else ""
        self._say(f"{outcome.status.value} after {took}{why}")
