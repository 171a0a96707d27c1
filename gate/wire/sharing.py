"""What the waits of one gate of many share: clients, connection pools, and each API's budget.

While a :class:`Sharing` is :meth:`~Sharing.active` (the gate builds its providers inside it),
providers that connect to the same API with the same credentials get the same client
(:meth:`Sharing.once`), the HTTP wire takes its connection pool from here (one per CA bundle
and proxy, for every host), and every request to an origin first takes a slot from that
origin's :class:`~gate.wire.rate.RateLimiter`. Outside one, each provider has its own, unlimited.

A request waiting in line for a slot leaves it once its wait is stopped (the stop of
:func:`gate.wire.deadline.stopped_by`, else :attr:`Sharing.stopped`), so a stopped wait does
not sit out its queue, and a wait no one stopped keeps its place.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from gate.wire import deadline
from gate.wire.rate import RateLimiter

__all__ = ["DEFAULT_MAX_RATE", "Sharing", "current", "made_once"]

DEFAULT_MAX_RATE = 10.0
"""Requests a second per API: a cautious default. Neither Humanitec nor AWS publishes a
per-second quota for these reads to rely on, and other pipelines share the same account; a
429 slows every wait on that API anyway."""

T = TypeVar("T")

_active: ContextVar[Sharing | None] = ContextVar("gate_sharing", default=None)


def current() -> Sharing | None:
    """The sharing scope providers are being built in, if any."""
    return _active.get()


def made_once(key: Hashable, make: Callable[[], T]) -> T:
    """In a sharing scope, the one thing ``make`` makes for ``key``; outside one, a new one."""
    scope = current()
    return make() if scope is None else scope.once(key, make)


class Sharing:
    def __init__(self, *, max_rate: float = DEFAULT_MAX_RATE) -> None:
        if not max_rate > 0:
            raise ValueError("max_rate must be more than 0")
        self.max_rate = max_rate
        self.stopped = threading.Event()
        self._lock = threading.RLock()  # making a client makes its pool here too
        self._made: dict[Hashable, Any] = {}
        self._limiters: dict[str, RateLimiter] = {}
        self._short: set[str] = set()
        self.on_short: Callable[[str, float], None] = lambda origin, rate: None
        """Told once per API (origin, rate) when its budget first has no slot for a read
        before that read's deadline: the release is larger than the rate serves in time."""

    @contextmanager
    def active(self) -> Iterator[Sharing]:
        token = _active.set(self)
        try:
            yield self
        finally:
            _active.reset(token)

    def once(self, key: Hashable, make: Callable[[], T]) -> T:
        """The one thing ``make`` makes for ``key`` in this scope (a client, a pool)."""
        with self._lock:
            if key not in self._made:
                self._made[key] = make()
            made: T = self._made[key]
            return made

    def limiter(self, origin: str) -> RateLimiter:
        """The request budget of the API at ``origin`` (``https://api.humanitec.io:443``)."""
        with self._lock:
            if origin not in self._limiters:
                self._limiters[origin] = RateLimiter(self.max_rate, pause=self._pause)
            return self._limiters[origin]

    def _pause(self, seconds: float) -> bool:
        """Wait in line; True once the waiting thread's wait was stopped."""
        return (deadline.stop_event() or self.stopped).wait(seconds)

    def ran_short(self, origin: str) -> None:
        """A read on ``origin`` found no slot before its deadline (see :attr:`on_short`)."""
        with self._lock:
            if origin in self._short:
                return
            self._short.add(origin)
        self.on_short(origin, self.max_rate)

    def close(self) -> None:
        """Close everything made here (clients, pools); the scope is not used afterwards."""
        with self._lock:
            made, self._made = list(self._made.values()), {}
        for thing in made:
            close = getattr(thing, "close", None)
            if callable(close):
                close()

    def throttled(self) -> int:
        """How many 429 answers the APIs gave, all origins together."""
        with self._lock:
            return sum(limiter.throttled for limiter in self._limiters.values())
